/* api-ecosystem.c — GET /metrics (Prometheus text format), GET|POST
 * /api/blocklist and GET /api/portmap.
 *
 * /metrics renders the registry of metrics.c after the gauges that are read
 * at scrape time (torrents, rates, peers, readers, streams, cache), so a
 * torrent that goes away leaves no stale series behind. Loop thread. */
#include "config.h"

#include "blocklist.h"
#include "http.h"
#include "metrics.h"
#include "portmap.h"
#include "torrent-int.h"
#include "util.h"

#include <event2/buffer.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct text {
  char *p;
  size_t n, cap;
};

static void tprintf(struct text *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    if (m < 0)
      return;
    if ((size_t)m < t->cap - t->n) {
      t->n += (size_t)m;
      return;
    }
    t->cap = t->cap * 2 + (size_t)m + 1;
    t->p = rg_realloc(t->p, t->cap);
  }
}

static void family(struct text *t, const char *name, const char *type,
                   const char *help) {
  tprintf(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* per-torrent families, one pass over the torrents each */
enum { F_INFO, F_DOWN, F_UP, F_PEERS, F_SEEDS, F_DONE, F_SIZE, F_READERS, NF };

struct scrape {
  struct text *t;
  int field;
  int readers;
};

static void one_torrent(rg_torrent *t, void *arg) {
  struct scrape *s = arg;
  const char *h = rg_torrent_hex(t);
  if (s->field == F_INFO) {
    char name[256];
    const char *title = rg_torrent_title(t);
    rg_metrics_escape(title ? title : rg_torrent_name(t) ? rg_torrent_name(t)
                                                         : "",
                      name, sizeof name);
    tprintf(s->t, "reelgate_torrent_info{hash=\"%s\",name=\"%s\"} 1\n", h,
            name);
    return;
  }
  if (s->field == F_READERS) {
    int n = 0;
    for (rg_reader *r = t->readers; r; r = r->next)
      n++;
    s->readers += n;
    tprintf(s->t, "reelgate_torrent_readers{hash=\"%s\"} %d\n", h, n);
    return;
  }
  if (s->field == F_SIZE) {
    const rg_tinfo *ti = rg_torrent_info(t);
    tprintf(s->t, "reelgate_torrent_size_bytes{hash=\"%s\"} %" PRId64 "\n", h,
            ti ? ti->total_size : 0);
    return;
  }
  rg_tstatus st;
  rg_torrent_status(t, &st);
  int64_t v = s->field == F_DOWN    ? st.download_rate
              : s->field == F_UP    ? st.upload_rate
              : s->field == F_PEERS ? st.peers
              : s->field == F_SEEDS ? st.seeds
                                    : st.total_done;
  static const char *const names[] = {
      [F_DOWN] = "reelgate_torrent_download_rate_bytes",
      [F_UP] = "reelgate_torrent_upload_rate_bytes",
      [F_PEERS] = "reelgate_torrent_peers",
      [F_SEEDS] = "reelgate_torrent_seeds",
      [F_DONE] = "reelgate_torrent_verified_bytes"};
  tprintf(s->t, "%s{hash=\"%s\"} %" PRId64 "\n", names[s->field], h, v);
}

static void get_metrics(rg_app *app, struct evhttp_request *req) {
  struct text t = {rg_malloc(8192), 0, 8192};
  t.p[0] = 0;
  rg_tm_stats ts;
  rg_tm_stats_get(app->tm, &ts);
  family(&t, "reelgate_build_info", "gauge", "the running version");
  tprintf(&t, "reelgate_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
  family(&t, "reelgate_uptime_seconds", "gauge", "seconds since start");
  tprintf(&t, "reelgate_uptime_seconds %" PRId64 "\n",
          (rg_now_ms() - app->started_ms) / 1000);
  family(&t, "reelgate_torrents", "gauge",
         "torrents known, in the session (active) and waiting for a slot");
  tprintf(&t,
          "reelgate_torrents{state=\"known\"} %d\n"
          "reelgate_torrents{state=\"active\"} %d\n"
          "reelgate_torrents{state=\"queued\"} %d\n",
          ts.torrents, ts.active, ts.queued);
  family(&t, "reelgate_cache_bytes", "gauge", "torrent data in the cache dir");
  tprintf(&t, "reelgate_cache_bytes %" PRId64 "\n", ts.cache_bytes);
  family(&t, "reelgate_cache_budget_bytes", "gauge",
         "the cache budget (0 = unlimited)");
  tprintf(&t, "reelgate_cache_budget_bytes %" PRId64 "\n", ts.budget_bytes);
  family(&t, "reelgate_metadata_fetches_total", "counter",
         "magnet metadata fetches started");
  tprintf(&t, "reelgate_metadata_fetches_total %" PRId64 "\n",
          ts.metadata_fetches);
  family(&t, "reelgate_http_streams", "gauge", "open HTTP stream responses");
  tprintf(&t, "reelgate_http_streams %d\n", app->streams);
  static const struct {
    int field;
    const char *name, *help;
  } fams[] = {
      {F_INFO, "reelgate_torrent_info", "a torrent's title (value 1)"},
      {F_SIZE, "reelgate_torrent_size_bytes", "a torrent's size"},
      {F_DOWN, "reelgate_torrent_download_rate_bytes",
       "payload download rate, bytes/s"},
      {F_UP, "reelgate_torrent_upload_rate_bytes",
       "payload upload rate, bytes/s"},
      {F_PEERS, "reelgate_torrent_peers", "connected peers"},
      {F_SEEDS, "reelgate_torrent_seeds", "connected seeds"},
      {F_DONE, "reelgate_torrent_verified_bytes", "verified bytes on disk"},
      {F_READERS, "reelgate_torrent_readers",
       "open readers (HTTP streams, FUSE files, HLS)"},
  };
  struct scrape s = {&t, 0, 0};
  for (size_t i = 0; i < RG_ARRAY_LEN(fams); i++) {
    family(&t, fams[i].name, "gauge", fams[i].help);
    s.field = fams[i].field;
    rg_tm_each(app->tm, one_torrent, &s);
  }
  family(&t, "reelgate_readers", "gauge", "open readers, all torrents");
  tprintf(&t, "reelgate_readers %d\n", s.readers);
  family(&t, "reelgate_peers_banned_total", "counter",
         "peer addresses banned for sending data that failed hash checks");
  tprintf(&t, "reelgate_peers_banned_total %" PRId64 "\n",
          rg_engine_banned_peers(app->engine));
  if (app->blocklist) {
    family(&t, "reelgate_blocklist_blocked_connections_total", "counter",
           "peer connections refused or dropped by the IP filter");
    tprintf(&t, "reelgate_blocklist_blocked_connections_total %" PRId64 "\n",
            rg_engine_blocked_peers(app->engine));
  }
  char *body = rg_metrics_render(t.p);
  free(t.p);
  struct evbuffer *b = evbuffer_new();
  evbuffer_add(b, body, strlen(body));
  free(body);
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  evhttp_add_header(h, "Cache-Control", "no-store");
  evhttp_send_reply(req, 200, "OK", b);
  evbuffer_free(b);
}

void rg_metrics_route(rg_app *app, struct evhttp_request *req) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
    rg_http_error(req, 405, "use GET");
    return;
  }
  if (!app->conf->metrics_open && !rg_http_authorized(app, req) &&
      !rg_http_basic_authorized(app, req)) {
    evhttp_add_header(evhttp_request_get_output_headers(req),
                      "WWW-Authenticate", "Basic realm=\"reelgate\"");
    rg_http_error(req, 401, "missing or wrong API key: send it as the "
                            "X-Api-Key header, ?api_key= or the Basic "
                            "password (or set metrics_open)");
    return;
  }
  get_metrics(app, req);
}

void rg_api_ecosystem_route(rg_app *app, struct evhttp_request *req,
                            const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (strcmp(path, "/blocklist") == 0) {
    if (m == EVHTTP_REQ_POST) {
      if (!app->blocklist || !rg_blocklist_refresh(app->blocklist)) {
        rg_http_error(req, 409, app->blocklist
                                    ? "a load is running or no source is "
                                      "configured"
                                    : "no blocklist is configured");
        return;
      }
      rg_http_json(req, 202, rg_blocklist_json(app->blocklist));
    } else if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) {
      rg_http_json(req, 200, rg_blocklist_json(app->blocklist));
    } else {
      rg_http_error(req, 405, "use GET or POST");
    }
    return;
  }
  if (strcmp(path, "/portmap") == 0) {
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD)
      rg_http_error(req, 405, "use GET");
    else
      rg_http_json(req, 200, rg_portmap_json(app->portmap));
    return;
  }
  rg_http_error(req, 404, "no such API route: /api%s", path);
}
