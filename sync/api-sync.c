/* api-sync.c — the sync jobs under /api/sync (the key is checked by
 * http.c):
 *
 *   POST /api/sync/{movies|tv|watchlist}/run[?dry_run=1][&force=1]
 *                                  202 {job, run_id, dry_run, force}; 409
 *                                  running. force: titles in the library
 *                                  are searched for upgrades even when
 *                                  searched less than
 *                                  sync_upgrade_recheck_h hours ago.
 *   POST /api/sync/{job}/stop      202 {job, run_id, stopping}; 409 idle
 *   GET  /api/sync/status          {jobs: {movies: {running, current,
 *                                  last, schedule}, …}, services, ladder_ok}
 *   GET  /api/sync/history[?job=movies&limit=20]   {runs: [run…]}
 *   GET  /api/sync/history/{id}    run (with its log)
 *   GET  /api/sync/schedule        {movies: {mode, interval_min, weekdays,
 *   PUT  /api/sync/schedule         time, dry_run, last_run, next_run}, …}
 *
 * run = {id, job, trigger, dry_run, started, finished, status (running, ok,
 * failed, stopped), error, summary {added, upgraded, skipped, failed,
 * changes[]}, log}. No answer carries a service key or token. */
#include "config.h"

#include "sync-int.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (64 << 10)

static bool truthy(const char *v) {
  return v && (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes"));
}

static void job_action(rg_sync *s, struct evhttp_request *req, int k,
                       const char *action) {
  if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
    rg_http_error(req, 405, "use POST /api/sync/%s/%s", s->jobs[k].name,
                  action);
    return;
  }
  if (!strcmp(action, "run")) {
    char *d = rg_http_query(req, "dry_run");
    bool dry = truthy(d);
    free(d);
    char *f = rg_http_query(req, "force");
    bool force = truthy(f);
    free(f);
    int64_t id = 0;
    char *cause = NULL;
    int rc = rg_sync_start(s, k, dry, force, "api", &id, &cause);
    if (rc) {
      rg_http_error(req, rc == -EBUSY ? 409 : 500, "%s", cause);
      free(cause);
      return;
    }
    rg_http_json(req, 202,
                 json_pack("{s:s, s:I, s:b, s:b}", "job", s->jobs[k].name,
                           "run_id", (json_int_t)id, "dry_run", dry, "force",
                           force));
    return;
  }
  if (rg_sync_stop(s, k)) {
    rg_http_error(req, 409, "the %s job is not running", s->jobs[k].name);
    return;
  }
  rg_http_json(req, 202,
               json_pack("{s:s, s:I, s:b}", "job", s->jobs[k].name, "run_id",
                         (json_int_t)s->jobs[k].run_id, "stopping", 1));
}

static void schedule(rg_sync *s, struct evhttp_request *req) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (m == EVHTTP_REQ_GET) {
    rg_http_json(req, 200, rg_sync_schedule_json(s));
    return;
  }
  if (m != EVHTTP_REQ_PUT && m != EVHTTP_REQ_POST) {
    rg_http_error(req, 405, "use GET or PUT /api/sync/schedule");
    return;
  }
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  if (!body || len > MAX_BODY) {
    free(body);
    rg_http_error(req, 400, "the body must be a JSON object under 64 KiB");
    return;
  }
  json_error_t err;
  json_t *j = json_loadb((const char *)body, len, 0, &err);
  free(body);
  if (!j) {
    rg_http_error(req, 400, "invalid JSON at line %d column %d: %s", err.line,
                  err.column, err.text);
    return;
  }
  char *cause = NULL;
  if (rg_sync_schedule_put(s, j, &cause)) {
    rg_http_error(req, 400, "%s", cause);
    free(cause);
  } else {
    rg_http_json(req, 200, rg_sync_schedule_json(s));
  }
  json_decref(j);
}

static void history(rg_sync *s, struct evhttp_request *req, const char *rest) {
  if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
    rg_http_error(req, 405, "use GET");
    return;
  }
  if (*rest == '/') {
    char *end;
    long long id = strtoll(rest + 1, &end, 10);
    if (id <= 0 || *end) {
      rg_http_error(req, 400, "a run id is a positive integer");
      return;
    }
    json_t *runs = rg_sync_history_json(s, -1, 1, id);
    if (!json_array_size(runs)) {
      json_decref(runs);
      rg_http_error(req, 404, "no sync run %lld", id);
      return;
    }
    json_t *r = json_incref(json_array_get(runs, 0));
    json_decref(runs);
    rg_http_json(req, 200, r);
    return;
  }
  char *job = rg_http_query(req, "job");
  char *lim = rg_http_query(req, "limit");
  int k = job ? rg_sync_job_index(job) : -1;
  int limit = lim ? atoi(lim) : 20;
  if (job && k < 0) {
    rg_http_error(req, 400, "unknown job '%s' (movies, tv, watchlist)", job);
  } else if (limit < 1 || limit > 100) {
    rg_http_error(req, 400, "limit must be between 1 and 100");
  } else {
    rg_http_json(
        req, 200,
        json_pack("{s:o}", "runs", rg_sync_history_json(s, k, limit, 0)));
  }
  free(job);
  free(lim);
}

void rg_api_sync_route(rg_app *app, struct evhttp_request *req,
                       const char *path) {
  rg_sync *s = app->sync;
  if (!s) {
    rg_http_error(req, 503, "sync is off (see the log for why)");
    return;
  }
  const char *rest = path + strlen("/sync");
  if (!strcmp(rest, "/status") || !strcmp(rest, "") || !strcmp(rest, "/")) {
    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
      rg_http_error(req, 405, "use GET /api/sync/status");
      return;
    }
    rg_http_json(req, 200, rg_sync_status_json(s));
    return;
  }
  if (!strcmp(rest, "/schedule")) {
    schedule(s, req);
    return;
  }
  if (!strncmp(rest, "/history", 8) && (rest[8] == 0 || rest[8] == '/')) {
    history(s, req, rest + 8);
    return;
  }
  for (int k = 0; k < RG_NJOBS; k++) {
    size_t n = strlen(s->jobs[k].name);
    if (rest[0] == '/' && !strncmp(rest + 1, s->jobs[k].name, n) &&
        (!strcmp(rest + 1 + n, "/run") || !strcmp(rest + 1 + n, "/stop"))) {
      job_action(s, req, k, rest + 2 + n);
      return;
    }
  }
  rg_http_error(req, 404, "no such sync route: /api%s", path);
}
