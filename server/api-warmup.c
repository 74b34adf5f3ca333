/* api-warmup.c — the warmup store under /api (the key is checked by http.c):
 *
 *   GET  /api/warmup                      usage: {"enabled", "used", "quota",
 *                                         "files", "pending", "jobs",
 *                                         "copied", "dropped", …}
 *   POST /api/torrents/{hash}/warmup      body optional {"file_index": N};
 *                                         default every video file → 202
 *                                         {"info_hash", "queued": bytes,
 *                                         "files": [{"index", "queued"}]}
 *
 * The fill reads the head and tail regions through the reader core on the
 * store's fill thread (missing pieces come from the swarm), so the reply
 * does not wait for it; GET /api/torrents/{hash} shows each file's "warm".
 * Errors: 400 a bad body or index, 404 unknown torrent, 409 metadata not
 * known yet, 503 no warmup store, 429 too many fills queued. */
#include "config.h"

#include "http.h"
#include "util.h"
#include "warmup.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_BODY (4 << 10)

/* Titles worth warming when no file is named. */
static bool is_video(const char *path) {
  static const char *const ext[] = {"mkv",  "mp4", "m4v",  "avi", "mov",
                                    "webm", "ts",  "m2ts", "wmv", "mpg",
                                    "mpeg", "flv", "ogv",  "vob"};
  return rg_path_has_ext(path, ext, RG_ARRAY_LEN(ext));
}

/* The body's file_index, or -1 when absent; -2 after replying 400. */
static int body_index(struct evhttp_request *req) {
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  size_t i = 0;
  while (i < len && strchr(" \t\r\n", body[i]))
    i++;
  if (i == len) {
    free(body);
    return -1;
  }
  if (len > MAX_BODY) {
    free(body);
    rg_http_error(req, 400, "body larger than %d bytes", MAX_BODY);
    return -2;
  }
  json_error_t jerr;
  json_t *j = json_loadb((const char *)body, len, 0, &jerr);
  free(body);
  json_t *v = json_is_object(j) ? json_object_get(j, "file_index") : NULL;
  int idx = -1;
  if (!json_is_object(j)) {
    rg_http_error(req, 400, "body is not a JSON object: %s",
                  j ? "wrong type" : jerr.text);
    idx = -2;
  } else if (v && (!json_is_integer(v) || json_integer_value(v) < 0 ||
                   json_integer_value(v) > 1000000)) {
    rg_http_error(req, 400, "file_index must be a file's index (an integer)");
    idx = -2;
  } else if (v) {
    idx = (int)json_integer_value(v);
  }
  json_decref(j);
  return idx;
}

static void post_warmup(rg_app *app, struct evhttp_request *req,
                        rg_torrent *t) {
  const rg_tinfo *ti = rg_torrent_info(t);
  if (!ti) {
    rg_http_error(req, 409, "the metadata of %s is not known yet",
                  rg_torrent_hex(t));
    return;
  }
  int want = body_index(req);
  if (want == -2)
    return;
  if (want >= 0 && (want >= ti->nfiles || ti->files[want].pad)) {
    rg_http_error(req, 400, "no file %d in %s (it has %d)", want,
                  rg_torrent_hex(t), ti->nfiles);
    return;
  }
  int *idx = rg_calloc((size_t)ti->nfiles, sizeof *idx);
  int64_t *sizes = rg_calloc((size_t)ti->nfiles, sizeof *sizes);
  int n = 0;
  for (int i = 0; i < ti->nfiles; i++) {
    bool pick = want >= 0 ? i == want
                          : !ti->files[i].pad && is_video(ti->files[i].path);
    if (pick && ti->files[i].size > 0) {
      idx[n] = i;
      sizes[n++] = ti->files[i].size;
    }
  }
  json_t *files = json_array();
  int64_t total = 0;
  int rc = 0;
  for (int k = 0; k < n && rc == 0; k++) {
    int64_t q = rg_warmup_fill(app->warmup, app->tm, rg_torrent_hex(t), &idx[k],
                               &sizes[k], 1, app->conf->read_timeout_s);
    if (q < 0) {
      rc = (int)q;
      break;
    }
    total += q;
    json_array_append_new(files, json_pack("{s:i, s:I}", "index", idx[k],
                                           "queued", (json_int_t)q));
  }
  free(idx);
  free(sizes);
  if (rc == -EBUSY && json_array_size(files) == 0) {
    json_decref(files);
    rg_http_error(req, 429, "too many warmup fills queued; try again later");
    return;
  }
  if (rc && rc != -EBUSY) {
    json_decref(files);
    rg_http_error(req, 500, "warmup failed: %s", strerror(-rc));
    return;
  }
  rg_http_json(req, 202,
               json_pack("{s:s, s:I, s:o}", "info_hash", rg_torrent_hex(t),
                         "queued", (json_int_t)total, "files", files));
}

void rg_api_warmup_route(rg_app *app, struct evhttp_request *req,
                         const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (strcmp(path, "/warmup") == 0) {
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
      rg_http_error(req, 405, "use GET");
      return;
    }
    json_t *u = app->warmup ? rg_warmup_usage_json(app->warmup) : json_object();
    json_object_set_new(u, "enabled", json_boolean(app->warmup != NULL));
    rg_http_json(req, 200, u);
    return;
  }
  /* /torrents/{hash}/warmup */
  char hash[41];
  for (int i = 0; i < 40; i++)
    hash[i] = (char)tolower((unsigned char)path[10 + i]);
  hash[40] = 0;
  rg_torrent *t = rg_tm_find(app->tm, hash);
  if (!t) {
    rg_http_error(req, 404, "no torrent %s", hash);
    return;
  }
  if (m != EVHTTP_REQ_POST) {
    rg_http_error(req, 405, "use POST");
    return;
  }
  if (!app->warmup) {
    rg_http_error(req, 503,
                  "the warmup store is off (warm_quota_mb = 0, or "
                  "it failed to start: see the log)");
    return;
  }
  post_warmup(app, req, t);
}
