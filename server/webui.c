/* webui.c — serves the web UI's files from the binary: "/" is index.html,
 * every embedded file is at its own path and under /ui/ (e.g. /app.js and
 * /ui/app.js). No API key: the pages ask for it and send it themselves.
 * Strong ETags (cksum of the bytes) with If-None-Match → 304; index.html is
 * revalidated on each load (no-cache), the rest may be cached for an hour
 * and is still revalidated by ETag after a rebuild. */
#include "config.h"

#include "webui.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <string.h>

const rg_webui_asset *rg_webui_find(const char *path) {
  for (size_t i = 0; i < rg_webui_nassets; i++)
    if (strcmp(rg_webui_assets[i].path, path) == 0)
      return &rg_webui_assets[i];
  return NULL;
}

/* "W/" prefixes and lists: "a", "b" or * */
static bool etag_matches(const char *inm, const char *etag) {
  if (strcmp(inm, "*") == 0)
    return true;
  size_t n = strlen(etag);
  for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
    char after = p[n];
    if (after == 0 || after == ',' || after == ' ')
      return true;
  }
  return false;
}

bool rg_webui_route(rg_app *app, struct evhttp_request *req, const char *path) {
  (void)app;
  if (strcmp(path, "/") == 0 || strcmp(path, "/ui") == 0 ||
      strcmp(path, "/ui/") == 0)
    path = "/index.html";
  else if (strncmp(path, "/ui/", 4) == 0)
    path += 3;
  const rg_webui_asset *a = rg_webui_find(path);
  if (!a)
    return false;
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  struct evkeyvalq *out = evhttp_request_get_output_headers(req);
  if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
    evhttp_add_header(out, "Allow", "GET, HEAD");
    rg_http_error(req, 405, "use GET");
    return true;
  }
  evhttp_add_header(out, "ETag", a->etag);
  evhttp_add_header(out, "Cache-Control",
                    strcmp(path, "/index.html") == 0 ? "no-cache"
                                                     : "public, max-age=3600");
  evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
  if (strcmp(path, "/index.html") == 0) {
    evhttp_add_header(out, "X-Frame-Options", "DENY");
    evhttp_add_header(out, "Referrer-Policy", "no-referrer");
    /* hls.js feeds MediaSource from blob: URLs and may run a blob: worker;
     * posters may come from an https image host. */
    evhttp_add_header(out, "Content-Security-Policy",
                      "default-src 'self'; img-src 'self' data: https:; "
                      "media-src 'self' blob:; worker-src 'self' blob:; "
                      "object-src 'none'; base-uri 'none'; "
                      "frame-ancestors 'none'");
  }
  const char *inm = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "If-None-Match");
  if (inm && etag_matches(inm, a->etag)) {
    evhttp_send_reply(req, 304, "Not Modified", NULL);
    return true;
  }
  evhttp_add_header(out, "Content-Type", a->mime);
  struct evbuffer *b = evbuffer_new();
  /* The bytes live in the binary for its whole life: no copy. */
  evbuffer_add_reference(b, a->data, a->len, NULL, NULL);
  evhttp_send_reply(req, 200, "OK", b);
  evbuffer_free(b);
  return true;
}
