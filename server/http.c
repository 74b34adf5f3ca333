/* http.c — the HTTP server: listening socket, limits, dispatch to the
 * routes, auth and JSON helpers. Every handler ends in exactly one reply. */
#include "config.h"

#include "hls.h"
#include "engine.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "webui.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

void rg_http_json(struct evhttp_request *req, int code, json_t *body) {
  char *s = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  struct evbuffer *b = evbuffer_new();
  if (s) {
    evbuffer_add(b, s, strlen(s));
    evbuffer_add(b, "\n", 1);
  }
  free(s);
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_remove_header(h, "Content-Type");
  evhttp_add_header(h, "Content-Type", "application/json");
  evhttp_add_header(h, "Cache-Control", "no-store");
  evhttp_send_reply(req, code, NULL, b);
  evbuffer_free(b);
}

void rg_http_error(struct evhttp_request *req, int code, const char *fmt,
                   ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  rg_http_json(req, code, json_pack("{s:s}", "error", msg));
}

char *rg_http_query(struct evhttp_request *req, const char *name) {
  const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
  const char *q = u ? evhttp_uri_get_query(u) : NULL;
  if (!q)
    return NULL;
  size_t n = strlen(name);
  for (const char *p = q; *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    if (len > n && strncmp(p, name, n) == 0 && p[n] == '=')
      return rg_percent_decode(p + n + 1, len - n - 1, true);
    if (len == n && strncmp(p, name, n) == 0)
      return rg_strdup("");
    if (!amp)
      break;
    p = amp + 1;
  }
  return NULL;
}

bool rg_http_authorized(rg_app *app, struct evhttp_request *req) {
  const char *h =
      evhttp_find_header(evhttp_request_get_input_headers(req), "X-Api-Key");
  if (h)
    return rg_secret_eq(h, app->api_key);
  char *q = rg_http_query(req, "api_key");
  bool ok = q && rg_secret_eq(q, app->api_key);
  free(q);
  return ok;
}

int rg_save_key_file(const char *data_dir, const char *key) {
  char *path = rg_printf("%s/api_key", data_dir);
  char *line = rg_printf("%s\n", key);
  int rc = rg_write_file(path, line, strlen(line), 0600);
  if (rc)
    rg_error("cannot write the API key to %s: %s", path, strerror(-rc));
  free(line);
  free(path);
  return rc;
}

void rg_http_stream_key(const rg_app *app, char out[33]) {
  static const char tag[] = "reelgate stream key v1\n";
  const char *k = app->api_key ? app->api_key : "";
  size_t kl = strlen(k);
  char *buf = rg_malloc(sizeof tag + kl);
  memcpy(buf, tag, sizeof tag - 1);
  memcpy(buf + sizeof tag - 1, k, kl);
  uint8_t d[32];
  rg_sha256(buf, sizeof tag - 1 + kl, d);
  free(buf);
  rg_hex_encode(d, 16, out);
}

bool rg_http_stream_authorized(rg_app *app, struct evhttp_request *req) {
  if (rg_http_authorized(app, req))
    return true;
  char *q = rg_http_query(req, "key");
  char sk[33];
  rg_http_stream_key(app, sk);
  bool ok = q && rg_secret_eq(q, sk);
  free(q);
  return ok;
}

/* "Authorization: Basic base64(user:KEY)", any user (TorrServer clients). */
bool rg_http_basic_authorized(rg_app *app, struct evhttp_request *req) {
  const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                     "Authorization");
  if (!h || strncasecmp(h, "Basic ", 6) != 0)
    return false;
  static const char b64[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char out[512];
  size_t o = 0;
  uint32_t acc = 0;
  int bits = 0;
  for (const char *p = h + 6; *p && *p != '='; p++) {
    if (*p == ' ')
      continue;
    const char *c = strchr(b64, *p);
    if (!c || o + 1 >= sizeof out)
      return false;
    acc = acc << 6 | (uint32_t)(c - b64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (char)(acc >> bits & 0xff);
    }
  }
  out[o] = 0;
  char *colon = memchr(out, ':', o);
  return colon && strlen(colon + 1) == o - (size_t)(colon + 1 - out) &&
         rg_secret_eq(colon + 1, app->api_key);
}

char *rg_http_base_url(rg_app *app, struct evhttp_request *req) {
  const char *host =
      evhttp_find_header(evhttp_request_get_input_headers(req), "Host");
  bool sane = host && *host && strlen(host) < 256;
  for (const char *c = host; sane && *c; c++)
    if (!(strchr("-.:[]_", *c) || (*c >= '0' && *c <= '9') ||
          (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z')))
      sane = false;
  if (sane)
    return rg_printf("http://%s", host);
  return rg_printf("http://127.0.0.1:%d", app->http_port);
}

uint8_t *rg_http_body(struct evhttp_request *req, size_t *len) {
  struct evbuffer *in = evhttp_request_get_input_buffer(req);
  size_t n = evbuffer_get_length(in);
  uint8_t *b = rg_malloc(n + 1);
  evbuffer_copyout(in, b, n);
  b[n] = 0;
  *len = n;
  return b;
}

char *rg_http_stream_url(rg_app *app, struct evhttp_request *req,
                         rg_torrent *t, int index) {
  const rg_tinfo *ti = rg_torrent_info(t);
  const char *path = ti->files[index].path;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  char *name = rg_percent_encode(base);
  char key[33];
  rg_http_stream_key(app, key);
  char *root = rg_http_base_url(app, req);
  char *url = rg_printf("%s/stream/%s/%d/%s?key=%s", root, rg_torrent_hex(t),
                        index, name, key);
  free(root);
  free(name);
  return url;
}

char *rg_http_hls_url(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                      int index) {
  char key[33];
  rg_http_stream_key(app, key);
  char *root = rg_http_base_url(app, req);
  char *url = rg_printf("%s/hls/%s/%d/index.m3u8?key=%s", root,
                        rg_torrent_hex(t), index, key);
  free(root);
  return url;
}

static void on_request(struct evhttp_request *req, void *arg) {
  rg_app *app = arg;
  rg_metrics_http_begin(req); /* requests by status (metrics.c) */
  const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
  const char *path = u ? evhttp_uri_get_path(u) : NULL;
  if (!path || !*path) {
    rg_http_error(req, 400, "bad request target");
    return;
  }
  /* ---- ecosystem (issue 8): /metrics, /api/blocklist, /api/portmap and
   * the TorrServer-compatible routes (torrserver.c). TorrServer's /stream
   * is "/stream?link=…" or "/stream/{name}?link=…"; without ?link=,
   * /stream/{hash}/{index}/{name} stays the native route below. ---- */
  if (strcmp(path, "/metrics") == 0) {
    rg_metrics_route(app, req);
    return;
  }
  if (strcmp(path, "/api/blocklist") == 0 || strcmp(path, "/api/portmap") == 0) {
    if (!rg_http_authorized(app, req))
      rg_http_error(req, 401, "missing or wrong API key: send it as the "
                              "X-Api-Key header or the api_key parameter");
    else
      rg_api_ecosystem_route(app, req, path + 4);
    return;
  }
  if (app->conf->torrserver && rg_torrserver_route(app, req, path))
    return;
  /* ---- end of ecosystem routes ---- */
  if (strncmp(path, "/stream/", 8) == 0) {
    rg_stream_route(app, req, path + 8);
    return;
  }
  if (strncmp(path, "/hls/", 5) == 0) {
    rg_hls_route(app, req, path + 5);
    return;
  }
  if (strcmp(path, "/api") == 0 || strncmp(path, "/api/", 5) == 0) {
    if (!rg_http_authorized(app, req)) {
      rg_http_error(req, 401, "missing or wrong API key: send it as the "
                              "X-Api-Key header or the api_key parameter");
      return;
    }
    rg_api_route(app, req, path + 4);
    return;
  }
  /* the web UI's files (webui.c): "/", /ui/…, /app.js, … — no key */
  if (rg_webui_route(app, req, path))
    return;
  if (strcmp(path, "/webhook") == 0) { /* webhooks (playback.c) */
    rg_webhook_route(app, req);
    return;
  }
  rg_http_error(req, 404, "no such route: %s", path);
}

int rg_http_start(rg_app *app, char **cause) {
  app->http = evhttp_new(app->base);
  if (!app->http) {
    *cause = rg_strdup("cannot create the HTTP server");
    return -ENOMEM;
  }
  evhttp_set_allowed_methods(app->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD |
                                            EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH |
                                            EVHTTP_REQ_OPTIONS);
  evhttp_set_max_headers_size(app->http, 64 * 1024);
  evhttp_set_max_body_size(app->http, 32 * 1024 * 1024);
  evhttp_set_timeout(app->http, 120);
  evhttp_set_default_content_type(app->http, "application/octet-stream");
  evhttp_set_gencb(app->http, on_request, app);
  struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(
      app->http, app->conf->bind, (ev_uint16_t)app->conf->http_port);
  if (!s) {
    int e = errno;
    *cause = rg_printf("cannot listen on %s:%d: %s", app->conf->bind,
                       app->conf->http_port, strerror(e ? e : EADDRINUSE));
    evhttp_free(app->http);
    app->http = NULL;
    return -(e ? e : EADDRINUSE);
  }
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  evutil_socket_t fd = evhttp_bound_socket_get_fd(s);
  /* Responses are written whole: Nagle would hold the tail of each one for
   * the peer's delayed ACK (~40 ms per request on a kept-alive
   * connection). Accepted sockets inherit the option. */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  app->http_port = app->conf->http_port;
  if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
    if (ss.ss_family == AF_INET)
      app->http_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    else if (ss.ss_family == AF_INET6)
      app->http_port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  }
  return 0;
}

void rg_http_stop(rg_app *app) {
  if (app->http)
    evhttp_free(app->http);
  app->http = NULL;
}
