/* api.c — the native JSON API under /api (the key is checked by http.c).
 *
 *   GET    /api/status
 *   GET    /api/torrents
 *   POST   /api/torrents          JSON {link, title} | multipart "torrent" |
 *                                 raw application/x-bittorrent
 *   GET    /api/torrents/{hash}
 *   DELETE /api/torrents/{hash}[?delete_data=false]
 *
 * A .torrent URL is fetched off the loop (tlink.c); the reply is sent when
 * the fetch ends. */
#include "config.h"

#include "http.h"
#include "library.h"
#include "log.h"
#include "media.h"
#include "multipart.h"
#include "reader.h"
#include "tlink.h"
#include "util.h"
#include "warmup.h"
#include "webui.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TORRENT_FILE (10 << 20)

static const char *state_name(int s) {
  switch (s) {
  case RG_TS_CHECKING:
    return "checking";
  case RG_TS_METADATA:
    return "metadata";
  case RG_TS_DOWNLOADING:
    return "downloading";
  case RG_TS_FINISHED:
    return "finished";
  case RG_TS_SEEDING:
    return "seeding";
  case RG_TS_ERROR:
    return "error";
  default:
    return "idle";
  }
}

/* A poster for T (malloc'd) when a TMDB key is configured and a sync job
 * recorded one for the TMDB id of one of T's library entries. */
struct poster_find {
  const char *hash;
  int64_t tmdb;
  bool episode;
};

static void poster_each(const rg_lib_entry *e, void *arg) {
  struct poster_find *f = arg;
  if (!f->tmdb && e->tmdb_id && strcmp(e->hash, f->hash) == 0) {
    f->tmdb = e->tmdb_id;
    f->episode = strcmp(e->kind, "episode") == 0;
  }
}

static char *poster_url(rg_app *app, rg_torrent *t) {
  if (!app->library || !app->conf->tmdb_api_key || !*app->conf->tmdb_api_key)
    return NULL;
  struct poster_find f = {rg_torrent_hex(t), 0, false};
  rg_library_each(app->library, poster_each, &f);
  if (!f.tmdb)
    return NULL;
  char key[64];
  snprintf(key, sizeof key, "poster.%s.%lld", f.episode ? "tv" : "movie",
           (long long)f.tmdb);
  char *path = rg_store_get_setting(app->store, key);
  if (!path) {
    snprintf(key, sizeof key, "poster.%s.%lld", f.episode ? "movie" : "tv",
             (long long)f.tmdb);
    path = rg_store_get_setting(app->store, key);
  }
  if (!path)
    return NULL;
  char *url = rg_printf("https://image.tmdb.org/t/p/w185%s", path);
  free(path);
  return url;
}

static json_t *torrent_json(rg_app *app, struct evhttp_request *req,
                            rg_torrent *t, bool with_files) {
  rg_tstatus st;
  rg_torrent_status(t, &st);
  const rg_tinfo *ti = rg_torrent_info(t);
  const char *title = rg_torrent_title(t);
  const char *name = rg_torrent_name(t);
  const char *err = rg_torrent_error(t);
  json_t *o = json_pack(
      "{s:s, s:s?, s:s?, s:b, s:I, s:s, s:b, s:i, s:i, s:I, s:I, s:I, s:I}",
      "info_hash", rg_torrent_hex(t), "name", name, "title", title,
      "has_metadata", ti != NULL, "size", (json_int_t)(ti ? ti->total_size : 0),
      "state", st.state == RG_TS_PAUSED ? (ti ? "idle" : "stopped")
                                        : state_name(st.state),
      "active", rg_torrent_active(t), "peers", st.peers, "seeds", st.seeds,
      "download_rate", (json_int_t)st.download_rate, "upload_rate",
      (json_int_t)st.upload_rate, "downloaded", (json_int_t)st.total_done,
      "added", (json_int_t)rg_torrent_added(t));
  json_object_set_new(o, "error", err ? json_string(err) : json_null());
  json_object_set_new(o, "playing", json_boolean(rg_torrent_playing(t)));
  char *poster = poster_url(app, t);
  if (poster)
    json_object_set_new(o, "poster", json_string(poster));
  free(poster);
  rg_reader_info ri[32];
  int nr = rg_torrent_readers(t, ri, 32);
  json_t *readers = json_array();
  for (int i = 0; i < nr && i < 32; i++)
    json_array_append_new(
        readers,
        json_pack("{s:i, s:I, s:I, s:I, s:{s:I, s:I, s:I}}", "file", ri[i].file,
                  "position", (json_int_t)ri[i].position, "window_start",
                  (json_int_t)ri[i].window_start, "window_bytes",
                  (json_int_t)ri[i].window_bytes, "bytes", "warm",
                  (json_int_t)ri[i].bytes_warm, "cache",
                  (json_int_t)ri[i].bytes_cache, "swarm",
                  (json_int_t)ri[i].bytes_swarm));
  json_object_set_new(o, "readers", readers);
  if (with_files) {
    json_t *files = json_array();
    for (int i = 0; ti && i < ti->nfiles; i++) {
      if (ti->files[i].pad)
        continue;
      char *url = rg_http_stream_url(app, req, t, i);
      char *hls = rg_http_hls_url(app, req, t, i);
      json_t *f = json_pack(
          "{s:i, s:s, s:I, s:I, s:s, s:s}", "index", i, "path",
          ti->files[i].path, "size", (json_int_t)ti->files[i].size,
          "downloaded", (json_int_t)rg_torrent_file_done(t, i), "stream_url",
          url, "hls_url", hls);
      free(hls);
      json_t *media = app->media
                          ? rg_media_file_json(app->media, rg_torrent_hex(t), i)
                          : NULL;
      json_object_set_new(f, "media", media ? media : json_null());
      if (app->warmup) /* warmup.c */
        json_object_set_new(f, "warm",
                            rg_warmup_file_json(app->warmup, rg_torrent_hex(t),
                                                i, ti->files[i].size));
      json_array_append_new(files, f);
      free(url);
    }
    json_object_set_new(o, "files", files);
  }
  return o;
}

static void reply_added(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                        bool existed) {
  rg_http_json(req, existed ? 200 : 201, torrent_json(app, req, t, true));
}

static void add_link(rg_app *app, struct evhttp_request *req, const char *link,
                     const char *title) {
  rg_torrent *t = NULL;
  bool existed = false;
  int status = 0;
  char *cause = NULL;
  if (rg_tlink_add(app, link, title, &t, &existed, &status, &cause) != 0)
    rg_http_error(req, status, "%s", cause);
  else
    reply_added(app, req, t, existed);
  free(cause);
}

static void add_file(rg_app *app, struct evhttp_request *req,
                     const uint8_t *buf, size_t len, const char *title) {
  rg_torrent *t = NULL;
  bool existed = false;
  char *cause = NULL;
  if (len > MAX_TORRENT_FILE) {
    rg_http_error(req, 413, "the .torrent file is larger than %d bytes",
                  MAX_TORRENT_FILE);
    return;
  }
  if (rg_tm_add_torrent_file(app->tm, buf, len, title, &t, &existed, &cause)) {
    rg_http_error(req, 400, "not a valid .torrent file: %s",
                  cause ? cause : "unparsable");
    free(cause);
    return;
  }
  rg_info("%s: added from a .torrent file%s", rg_torrent_hex(t),
          existed ? " (already known)" : "");
  reply_added(app, req, t, existed);
}

static void on_url_added(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                         bool existed, void *unused) {
  reply_added(app, req, t, existed);
}

static void post_torrents(rg_app *app, struct evhttp_request *req) {
  const char *ct =
      evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
    char boundary[128];
    rg_part parts[16];
    size_t n = 0;
    if (rg_multipart_boundary(ct, boundary, sizeof boundary) != 0 ||
        rg_multipart_parse(body, len, boundary, parts, 16, &n) != 0) {
      rg_http_error(req, 400, "malformed multipart/form-data body");
      goto out;
    }
    const rg_part *file = NULL;
    char *title = NULL;
    for (size_t i = 0; i < n; i++) {
      if (strcmp(parts[i].name, "torrent") == 0 ||
          (!file && parts[i].filename[0]))
        file = &parts[i];
      else if (strcmp(parts[i].name, "title") == 0 && !title)
        title = rg_strndup((const char *)parts[i].data, parts[i].len);
    }
    if (!file)
      rg_http_error(req, 400, "the form has no 'torrent' file field");
    else
      add_file(app, req, file->data, file->len, title);
    free(title);
    goto out;
  }
  if (ct && strncasecmp(ct, "application/x-bittorrent", 24) == 0) {
    char *title = rg_http_query(req, "title");
    add_file(app, req, body, len, title);
    free(title);
    goto out;
  }
  json_error_t jerr;
  json_t *j = json_loadb((const char *)body, len, 0, &jerr);
  if (!j || !json_is_object(j)) {
    rg_http_error(req, 400,
                  "body must be a JSON object {\"link\": \"…\", \"title\": "
                  "\"…\"}: %s",
                  j ? "not an object" : jerr.text);
    json_decref(j);
    goto out;
  }
  json_t *jl = json_object_get(j, "link");
  json_t *jt = json_object_get(j, "title");
  if (!json_is_string(jl) || !*json_string_value(jl)) {
    rg_http_error(req, 400, "\"link\" must be a magnet link, an info hash or "
                            "a .torrent URL");
  } else if (jt && !json_is_string(jt) && !json_is_null(jt)) {
    rg_http_error(req, 400, "\"title\" must be a string");
  } else {
    const char *link = json_string_value(jl);
    const char *title = json_is_string(jt) ? json_string_value(jt) : NULL;
    while (*link == ' ' || *link == '\t' || *link == '\n')
      link++;
    if (rg_tlink_is_url(link))
      rg_tlink_fetch(app, req, link, title, on_url_added, NULL, NULL);
    else
      add_link(app, req, link, title);
  }
  json_decref(j);
out:
  free(body);
}

struct list_ctx {
  rg_app *app;
  struct evhttp_request *req;
  json_t *arr;
};

static void list_one(rg_torrent *t, void *arg) {
  struct list_ctx *c = arg;
  json_array_append_new(c->arr, torrent_json(c->app, c->req, t, true));
}

/* Aggregate rates for /api/status (the web UI's speed graph). */
struct rates {
  int64_t down, up;
  int peers, seeds;
};

static void sum_rates(rg_torrent *t, void *arg) {
  struct rates *r = arg;
  if (!rg_torrent_active(t))
    return;
  rg_tstatus st;
  rg_torrent_status(t, &st);
  r->down += st.download_rate;
  r->up += st.upload_rate;
  r->peers += st.peers;
  r->seeds += st.seeds;
}

static void get_status(rg_app *app, struct evhttp_request *req) {
  rg_tm_stats s;
  rg_tm_stats_get(app->tm, &s);
  struct rates r = {0};
  rg_tm_each(app->tm, sum_rates, &r);
  json_t *o =
      json_pack("{s:s, s:I, s:i, s:i, s:i, s:I, s:I, s:I, s:i, s:i}",
                "version", PACKAGE_VERSION, "uptime_s",
                (json_int_t)((rg_now_ms() - app->started_ms) / 1000),
                "torrents", s.torrents, "active", s.active, "queued", s.queued,
                "metadata_fetches", (json_int_t)s.metadata_fetches,
                "cache_bytes", (json_int_t)s.cache_bytes, "cache_budget",
                (json_int_t)s.budget_bytes, "bt_port",
                rg_engine_listen_port(app->engine), "streams", app->streams);
  json_object_set_new(o, "download_rate", json_integer((json_int_t)r.down));
  json_object_set_new(o, "upload_rate", json_integer((json_int_t)r.up));
  json_object_set_new(o, "peers", json_integer(r.peers));
  json_object_set_new(o, "seeds", json_integer(r.seeds));
  rg_http_json(req, 200, o);
}

void rg_api_route(rg_app *app, struct evhttp_request *req, const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (rg_api_ui_route(app, req, path)) /* settings, system, key (api-ui.c) */
    return;
  if (strcmp(path, "/status") == 0) {
    if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD)
      rg_http_error(req, 405, "use GET");
    else
      get_status(app, req);
    return;
  }
  if (strcmp(path, "/library") == 0 || strncmp(path, "/library/", 9) == 0) {
    rg_api_library_route(app, req, path);
    return;
  }
  if (strcmp(path, "/sync") == 0 || strncmp(path, "/sync/", 6) == 0) {
    rg_api_sync_route(app, req, path); /* sync/api-sync.c */
    return;
  }
  if (strcmp(path, "/playback") == 0 || strcmp(path, "/webhooks") == 0 ||
      strcmp(path, "/webhooks/events") == 0) { /* playback.c */
    rg_api_playback_route(app, req, path);
    return;
  }
  if (strcmp(path, "/warmup") == 0 ||
      (strncmp(path, "/torrents/", 10) == 0 && strlen(path) == 57 &&
       strcmp(path + 50, "/warmup") == 0)) { /* api-warmup.c */
    rg_api_warmup_route(app, req, path);
    return;
  }
  if (strcmp(path, "/torrents") == 0 || strcmp(path, "/torrents/") == 0) {
    if (m == EVHTTP_REQ_POST) {
      post_torrents(app, req);
    } else if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) {
      struct list_ctx c = {app, req, json_array()};
      rg_tm_each(app->tm, list_one, &c);
      rg_http_json(req, 200, json_pack("{s:o}", "torrents", c.arr));
    } else {
      rg_http_error(req, 405, "use GET or POST");
    }
    return;
  }
  if (strncmp(path, "/torrents/", 10) == 0) {
    const char *hash = path + 10;
    char lower[41];
    size_t n = strlen(hash);
    if (n != 40) {
      rg_http_error(req, 404, "no torrent %.60s (want a 40-hex info hash)",
                    hash);
      return;
    }
    for (int i = 0; i < 41; i++)
      lower[i] = (char)(hash[i] >= 'A' && hash[i] <= 'F' ? hash[i] + 32
                                                          : hash[i]);
    rg_torrent *t = rg_tm_find(app->tm, lower);
    if (!t) {
      rg_http_error(req, 404, "no torrent %s", lower);
      return;
    }
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) {
      rg_http_json(req, 200, torrent_json(app, req, t, true));
    } else if (m == EVHTTP_REQ_DELETE) {
      char *dd = rg_http_query(req, "delete_data");
      bool keep = dd && (strcmp(dd, "false") == 0 || strcmp(dd, "0") == 0 ||
                         strcmp(dd, "no") == 0);
      free(dd);
      rg_tm_remove(app->tm, t, !keep);
      rg_http_json(req, 200,
                   json_pack("{s:s, s:b}", "deleted", lower, "data_deleted",
                             !keep));
    } else {
      rg_http_error(req, 405, "use GET or DELETE");
    }
    return;
  }
  rg_http_error(req, 404, "no such API route: /api%s", path);
}
