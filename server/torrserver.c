/* torrserver.c — the TorrServer (MatriX) HTTP API over reelgate's torrent
 * manager, so TorrServer clients (Lampa, the TorrServer Android app, NUM,
 * Stremio-style add-ons) work unchanged against port 8090.
 *
 *   GET  /echo                                 version text (no key needed)
 *   POST /torrents {"action": add|get|set|rem|list|drop|wipe, …}
 *   POST /torrent/upload                       multipart "file" (.torrent)
 *   GET|HEAD /stream[/{name}]?link=…&index=N&play|stat|m3u[&fromlast]|preload
 *   GET|HEAD /play/{hash}/{id}
 *   GET  /playlist?hash=…[&fromlast|&index=N]   /playlistall/all.m3u
 *   POST /settings {"action": get|set|def, "sets": {…}}
 *   POST /viewed {"action": set|rem|list, "hash", "file_index"}
 *   POST /cache {"action": "get", "hash"}
 *
 * A link is a magnet, an info hash or a .torrent URL (fetched off the loop
 * by tlink.c, after which the request carries on where a magnet's would).
 * File ids are TorrServer's: 1-based, in natural order of the file paths
 * (pad files left out). Playing a file marks it viewed, as TorrServer does;
 * "fromlast" playlists start at the highest viewed id. Playing forwards the
 * request to the native /stream/{hash}/{index} route once the torrent's
 * metadata is known (the request waits for it, bounded by metadata_timeout_s).
 * Per-torrent poster, data and category, and the viewed marks, are kept in the
 * settings table under "ts." keys. Auth: the API key as HTTP Basic password
 * (any user), or the usual X-Api-Key / ?api_key=. Loop thread. */
#include "config.h"

#include "http.h"
#include "log.h"
#include "magnet.h"
#include "media.h"
#include "multipart.h"
#include "reader.h"
#include "tlink.h"
#include "torrserver.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TS_VERSION "MatriX.136"

enum {
  TS_ADDED = 0,
  TS_GETTING_INFO,
  TS_PRELOAD,
  TS_WORKING,
  TS_CLOSED,
  TS_IN_DB,
};
static const char *const stat_strings[] = {
    "Torrent added",   "Torrent getting info", "Torrent preload",
    "Torrent working", "Torrent closed",       "Torrent in db"};

/* ------------------------------------------------------------ file ids -- */

/* Natural order as TorrServer sorts file paths: runs of digits compare as
 * numbers, everything else byte by byte (case-sensitive). */
static int natcmp(const char *a, const char *b) {
  while (*a && *b) {
    if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
      while (*a == '0')
        a++;
      while (*b == '0')
        b++;
      size_t na = 0, nb = 0;
      while (isdigit((unsigned char)a[na]))
        na++;
      while (isdigit((unsigned char)b[nb]))
        nb++;
      if (na != nb)
        return na < nb ? -1 : 1;
      int c = strncmp(a, b, na);
      if (c)
        return c;
      a += na;
      b += nb;
      continue;
    }
    int ca = (unsigned char)*a, cb = (unsigned char)*b;
    if (ca != cb)
      return ca < cb ? -1 : 1;
    a++;
    b++;
  }
  return *a ? 1 : *b ? -1 : 0;
}

static const rg_tinfo *sort_ti; /* qsort has no context argument */
static int by_path(const void *x, const void *y) {
  int i = *(const int *)x, j = *(const int *)y;
  int c = natcmp(sort_ti->files[i].path, sort_ti->files[j].path);
  if (!c)
    c = strcmp(sort_ti->files[i].path, sort_ti->files[j].path);
  return c ? c : i - j;
}

/* Non-pad file indices in id order (malloc'd); *n set. */
static int *file_order(const rg_tinfo *ti, int *n) {
  int *v = rg_malloc(sizeof *v * (size_t)(ti->nfiles + 1));
  int k = 0;
  for (int i = 0; i < ti->nfiles; i++)
    if (!ti->files[i].pad)
      v[k++] = i;
  sort_ti = ti;
  qsort(v, (size_t)k, sizeof *v, by_path);
  *n = k;
  return v;
}

/* File index of TorrServer id ID (1-based), or -1. */
static int index_of_id(const rg_tinfo *ti, long id) {
  int n, *v = file_order(ti, &n);
  int r = id >= 1 && id <= n ? v[id - 1] : -1;
  free(v);
  return r;
}

/* ------------------------------------------------------------- helpers -- */

static bool authorized(rg_app *app, struct evhttp_request *req) {
  if (rg_http_authorized(app, req))
    return true;
  if (!rg_http_basic_authorized(app, req))
    return false;
  /* the native routes we forward to look for the header */
  evhttp_add_header(evhttp_request_get_input_headers(req), "X-Api-Key",
                    app->api_key);
  return true;
}

static void unauthorized(struct evhttp_request *req) {
  evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
                    "Basic realm=\"reelgate\"");
  rg_http_error(req, 401, "missing or wrong API key: send it as the Basic "
                          "password (any user), X-Api-Key or ?api_key=");
}

static void reply_text(struct evhttp_request *req, int code, const char *type,
                       const char *text, size_t len) {
  struct evbuffer *b = evbuffer_new();
  evbuffer_add(b, text, len);
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", type);
  evhttp_add_header(h, "Cache-Control", "no-store");
  evhttp_send_reply(req, code, NULL, b);
  evbuffer_free(b);
}

static char *ts_get(rg_app *app, const char *what, const char *hash) {
  char key[96];
  snprintf(key, sizeof key, "ts.%s.%s", what, hash);
  return rg_store_get_setting(app->store, key);
}

static void ts_set(rg_app *app, const char *what, const char *hash,
                   const char *v) {
  char key[96];
  snprintf(key, sizeof key, "ts.%s.%s", what, hash);
  rg_store_set_setting(app->store, key, v ? v : "");
}

static void lower_hash(const char *in, char out[41]) {
  size_t i = 0;
  for (; in && in[i] && i < 40; i++)
    out[i] = (char)tolower((unsigned char)in[i]);
  out[i] = 0;
}

/* Viewed marks: the file ids of a torrent as a JSON array under
 * "ts.viewed.HASH". TorrServer marks a file when it is streamed, and its
 * "fromlast" playlists start at the highest id marked. */
static json_t *viewed_get(rg_app *app, const char *hash) {
  char *s = ts_get(app, "viewed", hash);
  json_t *ids = s && *s ? json_loads(s, 0, NULL) : NULL;
  free(s);
  if (!json_is_array(ids)) {
    json_decref(ids);
    ids = json_array();
  }
  return ids;
}

static void viewed_put(rg_app *app, const char *hash, json_t *ids) {
  char *out = json_dumps(ids, JSON_COMPACT);
  ts_set(app, "viewed", hash, out);
  free(out);
}

static void viewed_mark(rg_app *app, const char *hash, long id) {
  json_t *ids = viewed_get(app, hash);
  size_t i;
  json_t *v;
  bool have = false;
  json_array_foreach(ids, i, v) have |= json_integer_value(v) == id;
  if (!have) {
    json_array_append_new(ids, json_integer(id));
    viewed_put(app, hash, ids);
  }
  json_decref(ids);
}

/* The highest file id marked viewed, or 0. */
static long viewed_last(rg_app *app, const char *hash) {
  json_t *ids = viewed_get(app, hash);
  size_t i;
  json_t *v;
  long last = 0;
  json_array_foreach(ids, i, v) if (json_integer_value(v) > last) last =
      (long)json_integer_value(v);
  json_decref(ids);
  return last;
}

/* ---------------------------------------------- parsing (torrserver.h) -- */

static const char *jstr(json_t *j, const char *k);

/* HASH lowercased into OUT when it is exactly 40 hex digits, else "". */
static void hex_hash(const char *in, char out[41]) {
  out[0] = 0;
  if (rg_is_hex40(in))
    lower_hash(in, out);
}

int rg_torrserver_parse_request(const char *body, size_t len,
                                rg_ts_request *out, char **cause) {
  memset(out, 0, sizeof *out);
  json_error_t err;
  json_t *j = json_loadb(body, len, 0, &err);
  if (!j || !json_is_object(j)) {
    *cause = j ? rg_strdup("the body must be a JSON object")
               : rg_printf("the body is not JSON: %s (line %d)", err.text,
                           err.line);
    json_decref(j);
    return -EINVAL;
  }
  out->root = j;
  out->action = jstr(j, "action");
  out->link = jstr(j, "link");
  out->title = jstr(j, "title");
  out->hash_in = jstr(j, "hash");
  hex_hash(out->hash_in, out->hash);
  json_t *fi = json_object_get(j, "file_index");
  if (json_is_integer(fi)) {
    out->has_file_index = true;
    out->file_index = json_integer_value(fi);
  }
  json_t *sets = json_object_get(j, "sets");
  out->sets = json_is_object(sets) ? sets : NULL;
  return 0;
}

void rg_ts_request_clear(rg_ts_request *r) {
  json_decref(r->root);
  memset(r, 0, sizeof *r);
}

int rg_torrserver_parse_play(const char *rest, char hash[41], long *id) {
  hash[0] = 0;
  const char *slash = strchr(rest, '/');
  if (!slash || slash - rest != 40)
    return -EINVAL;
  char h[41];
  memcpy(h, rest, 40);
  h[40] = 0;
  hex_hash(h, hash);
  const char *p = slash + 1;
  char *end;
  errno = 0;
  long v = *p >= '0' && *p <= '9' ? strtol(p, &end, 10) : 0;
  if (!*hash || v < 1 || errno || (*end && *end != '/')) {
    hash[0] = 0;
    return -EINVAL;
  }
  *id = v;
  return 0;
}

/* A torrent by hash (any case), or NULL. */
static rg_torrent *find(rg_app *app, const char *hash) {
  char h[41];
  if (!hash || strlen(hash) != 40)
    return NULL;
  lower_hash(hash, h);
  return rg_tm_find(app->tm, h);
}

static json_t *status_json(rg_app *app, rg_torrent *t) {
  rg_tstatus st;
  rg_torrent_status(t, &st);
  const rg_tinfo *ti = rg_torrent_info(t);
  const char *h = rg_torrent_hex(t);
  int stat = !ti ? TS_GETTING_INFO
                 : rg_torrent_active(t) ? TS_WORKING
                                        : TS_IN_DB;
  const char *title = rg_torrent_title(t);
  const char *name = rg_torrent_name(t);
  char *poster = ts_get(app, "poster", h);
  char *data = ts_get(app, "data", h);
  char *category = ts_get(app, "category", h);
  json_t *o = json_pack(
      "{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:i, s:s, s:I, s:I, s:I, s:I, "
      "s:f, s:f, s:i, s:i, s:i, s:i, s:i, s:I, s:I}",
      "title", title ? title : name ? name : h, "category",
      category ? category : "", "poster", poster ? poster : "", "data",
      data ? data : "", "name", name ? name : ti ? ti->name : h, "timestamp",
      (json_int_t)rg_torrent_added(t), "hash", h, "stat", stat, "stat_string",
      stat_strings[stat], "loaded_size", (json_int_t)st.total_done,
      "torrent_size", (json_int_t)(ti ? ti->total_size : 0), "preloaded_bytes",
      (json_int_t)0, "preload_size", (json_int_t)0, "download_speed",
      (double)st.download_rate, "upload_speed", (double)st.upload_rate,
      "total_peers", st.peers, "pending_peers", 0, "active_peers", st.peers,
      "connected_seeders", st.seeds, "half_open_peers", 0, "bytes_read",
      (json_int_t)st.total_download, "bytes_written",
      (json_int_t)st.total_upload);
  free(poster);
  free(data);
  free(category);
  if (ti) {
    json_t *fs = json_array();
    int n, *v = file_order(ti, &n);
    for (int i = 0; i < n; i++)
      json_array_append_new(fs, json_pack("{s:i, s:s, s:I}", "id", i + 1,
                                          "path", ti->files[v[i]].path,
                                          "length",
                                          (json_int_t)ti->files[v[i]].size));
    free(v);
    json_object_set_new(o, "file_stats", fs);
  }
  return o;
}

/* Adds LINK (magnet or info hash). 0 + *out, or an error reply was sent.
 * A .torrent URL goes through rg_tlink_fetch instead. */
static int add_link(rg_app *app, struct evhttp_request *req, const char *link,
                    const char *title, rg_torrent **out) {
  bool existed = false;
  int status = 0;
  char *cause = NULL;
  int rc = rg_tlink_add(app, link, title, out, &existed, &status, &cause);
  if (rc)
    rg_http_error(req, status, "%s", cause);
  free(cause);
  return rc;
}

static void set_extra(rg_app *app, rg_torrent *t, json_t *j) {
  static const char *const fields[] = {"poster", "data", "category"};
  for (size_t i = 0; i < RG_ARRAY_LEN(fields); i++) {
    json_t *v = json_object_get(j, fields[i]);
    if (json_is_string(v))
      ts_set(app, fields[i], rg_torrent_hex(t), json_string_value(v));
  }
}

static const char *jstr(json_t *j, const char *k) {
  json_t *v = json_object_get(j, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *read_json(struct evhttp_request *req) {
  size_t len;
  uint8_t *body = rg_http_body(req, &len);
  rg_ts_request r;
  char *cause = NULL;
  json_t *j = NULL;
  if (rg_torrserver_parse_request((const char *)body, len, &r, &cause) == 0) {
    j = json_incref(r.root);
    rg_ts_request_clear(&r);
  } else {
    rg_http_error(req, 400, "%s; send a JSON object with an \"action\"",
                  cause);
    free(cause);
  }
  free(body);
  return j;
}

/* ------------------------------------------------------------ /torrents -- */

struct list_ctx {
  rg_app *app;
  json_t *arr;
};

static void list_one(rg_torrent *t, void *arg) {
  struct list_ctx *c = arg;
  json_array_append_new(c->arr, status_json(c->app, t));
}

static void collect(rg_torrent *t, void *arg) {
  json_array_append_new(arg, json_string(rg_torrent_hex(t)));
}

/* "add" of a .torrent URL, once fetched; ARG is the request body. */
static void on_add_url(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                       bool existed, void *arg) {
  set_extra(app, t, arg);
  rg_http_json(req, 200, status_json(app, t));
}

static void decref_arg(void *j) { json_decref(j); }

static void post_torrents(rg_app *app, struct evhttp_request *req) {
  json_t *j = read_json(req);
  if (!j)
    return;
  const char *action = jstr(j, "action");
  const char *hash = jstr(j, "hash");
  rg_torrent *t = NULL;
  if (!action) {
    rg_http_error(req, 400, "no \"action\"");
  } else if (strcmp(action, "add") == 0) {
    const char *link = jstr(j, "link");
    if (rg_tlink_is_url(link)) {
      rg_tlink_fetch(app, req, link, jstr(j, "title"), on_add_url,
                     json_incref(j), decref_arg);
    } else if (add_link(app, req, link, jstr(j, "title"), &t) == 0) {
      set_extra(app, t, j);
      rg_http_json(req, 200, status_json(app, t));
    }
  } else if (strcmp(action, "list") == 0) {
    struct list_ctx c = {app, json_array()};
    rg_tm_each(app->tm, list_one, &c);
    rg_http_json(req, 200, c.arr);
  } else if (strcmp(action, "wipe") == 0) {
    json_t *all = json_array();
    rg_tm_each(app->tm, collect, all);
    size_t i;
    json_t *h;
    json_array_foreach(all, i, h) {
      rg_torrent *x = rg_tm_find(app->tm, json_string_value(h));
      if (x)
        rg_tm_remove(app->tm, x, true);
    }
    json_decref(all);
    reply_text(req, 200, "text/plain", "", 0);
  } else if (!(t = find(app, hash))) {
    if (strcmp(action, "get") == 0 || strcmp(action, "set") == 0 ||
        strcmp(action, "rem") == 0 || strcmp(action, "drop") == 0)
      rg_http_error(req, 404, "no torrent %.60s", hash ? hash : "(no hash)");
    else
      rg_http_error(req, 400, "unknown action %.40s", action);
  } else if (strcmp(action, "get") == 0) {
    rg_http_json(req, 200, status_json(app, t));
  } else if (strcmp(action, "set") == 0) {
    const char *title = jstr(j, "title");
    if (title && *title) {
      rg_magnet m = {0};
      char *cause = NULL;
      bool existed;
      rg_torrent *same = NULL;
      if (rg_magnet_parse(rg_torrent_hex(t), &m, &cause) == 0)
        rg_tm_add_magnet(app->tm, &m, NULL, title, &same, &existed, &cause);
      rg_magnet_clear(&m);
      free(cause);
    }
    set_extra(app, t, j);
    rg_http_json(req, 200, status_json(app, t));
  } else if (strcmp(action, "rem") == 0) {
    rg_tm_remove(app->tm, t, true);
    reply_text(req, 200, "text/plain", "", 0);
  } else if (strcmp(action, "drop") == 0) {
    /* TorrServer drops the torrent from the session and keeps it in the
     * DB; idle torrents leave our session on their own, and data stays */
    reply_text(req, 200, "text/plain", "", 0);
  } else {
    rg_http_error(req, 400, "unknown action %.40s", action);
  }
  json_decref(j);
}

static void post_upload(rg_app *app, struct evhttp_request *req) {
  const char *ct =
      evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  char boundary[128];
  rg_part parts[16];
  size_t n = 0;
  if (!ct || rg_multipart_boundary(ct, boundary, sizeof boundary) != 0 ||
      rg_multipart_parse(body, len, boundary, parts, 16, &n) != 0) {
    rg_http_error(req, 400, "send multipart/form-data with a \"file\" field");
    free(body);
    return;
  }
  json_t *extra = json_object();
  char *title = NULL;
  for (size_t i = 0; i < n; i++) {
    const char *f = parts[i].name;
    if (strcmp(f, "title") == 0 && !title)
      title = rg_strndup((const char *)parts[i].data, parts[i].len);
    else if (strcmp(f, "poster") == 0 || strcmp(f, "data") == 0 ||
             strcmp(f, "category") == 0)
      json_object_set_new(extra, f,
                          json_stringn((const char *)parts[i].data,
                                       parts[i].len));
  }
  rg_torrent *first = NULL;
  char *cause = NULL;
  for (size_t i = 0; i < n && !cause; i++) {
    if (strcmp(parts[i].name, "file") != 0 && !parts[i].filename[0])
      continue;
    rg_torrent *t = NULL;
    bool existed;
    if (parts[i].len > 10 << 20) { /* as POST /api/torrents (api.c) */
      cause = rg_strdup("larger than 10 MiB");
      break;
    }
    if (rg_tm_add_torrent_file(app->tm, parts[i].data, parts[i].len, title,
                               &t, &existed, &cause) == 0) {
      set_extra(app, t, extra);
      if (!first)
        first = t;
    }
  }
  if (cause)
    rg_http_error(req, 400, "not a valid .torrent file: %s", cause);
  else if (!first)
    rg_http_error(req, 400, "the form has no \"file\" field");
  else
    rg_http_json(req, 200, status_json(app, first));
  free(cause);
  free(title);
  json_decref(extra);
  free(body);
}

/* ----------------------------------------------------------- playlists -- */

static bool playable(const char *path) {
  static const char *const ext[] = {"mkv", "mp4", "m4v", "avi", "mov", "ts",
                                    "m2ts", "webm", "wmv", "mpg", "mpeg",
                                    "flv", "ogv", "mp3", "flac", "m4a",
                                    "aac", "ogg", "opus", "wav", "mka"};
  return rg_path_has_ext(path, ext, RG_ARRAY_LEN(ext));
}

/* Appends T's playable files (all files if none is) from file id FROM on
 * to B. */
static void m3u_torrent(rg_app *app, struct evhttp_request *req,
                        struct evbuffer *b, rg_torrent *t, long from) {
  const rg_tinfo *ti = rg_torrent_info(t);
  if (!ti)
    return;
  int n, *v = file_order(ti, &n);
  bool any = false;
  for (int i = 0; i < n; i++)
    any |= playable(ti->files[v[i]].path);
  if (from < 1 || from > n)
    from = 1;
  for (int i = (int)from - 1; i < n; i++) {
    const rg_tfile *f = &ti->files[v[i]];
    if (any && !playable(f->path))
      continue;
    long dur = -1;
    json_t *mj = app->media ? rg_media_file_json(app->media,
                                                 rg_torrent_hex(t), v[i])
                            : NULL;
    json_t *d = mj ? json_object_get(mj, "duration") : NULL;
    if (json_is_number(d) && json_number_value(d) > 0)
      dur = (long)(json_number_value(d) + 0.5);
    json_decref(mj);
    const char *base = strrchr(f->path, '/');
    base = base ? base + 1 : f->path;
    char *url = rg_http_stream_url(app, req, t, v[i]);
    /* one line each: strip newlines a name could carry */
    char name[512];
    size_t k = 0;
    for (const char *c = base; *c && k + 1 < sizeof name; c++)
      name[k++] = *c == '\n' || *c == '\r' ? ' ' : *c;
    name[k] = 0;
    evbuffer_add_printf(b, "#EXTINF:%ld,%s\n%s\n", dur, name, url);
    free(url);
  }
  free(v);
}

static void reply_m3u(struct evhttp_request *req, struct evbuffer *b,
                      const char *fname) {
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  char cd[160];
  snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", fname);
  evhttp_add_header(h, "Content-Type", "audio/x-mpegurl; charset=utf-8");
  evhttp_add_header(h, "Content-Disposition", cd);
  evhttp_add_header(h, "Cache-Control", "no-store");
  evhttp_send_reply(req, 200, "OK", b);
  evbuffer_free(b);
}

static void playlist_one(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                         long from) {
  struct evbuffer *b = evbuffer_new();
  evbuffer_add_printf(b, "#EXTM3U\n");
  m3u_torrent(app, req, b, t, from);
  char fname[64];
  snprintf(fname, sizeof fname, "%.40s.m3u", rg_torrent_hex(t));
  reply_m3u(req, b, fname);
}

struct all_ctx {
  rg_app *app;
  struct evhttp_request *req;
  struct evbuffer *b;
};

static void all_one(rg_torrent *t, void *arg) {
  struct all_ctx *c = arg;
  m3u_torrent(c->app, c->req, c->b, t, 1);
}

/* -------------------------------------------------------------- /stream -- */

/* A request waiting for a torrent's metadata before it streams or
 * preloads. */
struct wait {
  rg_app *app;
  struct evhttp_request *req;
  struct evhttp_connection *evcon;
  rg_torrent *t;
  char hash[41];
  long id;
  bool preload;
  int64_t deadline_ms;
  struct event *ev;
  rg_reader *r; /* preload */
  int64_t pos, end;
};

static void wait_free(struct wait *w) {
  if (w->evcon)
    evhttp_connection_set_closecb(w->evcon, NULL, NULL);
  if (w->ev)
    event_free(w->ev);
  rg_reader_close(&w->r);
  free(w);
}

static void on_wait_close(struct evhttp_connection *evcon, void *arg) {
  struct wait *w = arg;
  struct evhttp_request *req = w->req;
  bool detached = evhttp_request_get_connection(req) == NULL;
  w->evcon = NULL;
  wait_free(w);
  if (detached)
    evhttp_send_reply(req, 500, "Gone", NULL);
}

static void play_now(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                     long id) {
  const rg_tinfo *ti = rg_torrent_info(t);
  if (id == 0) {
    /* no index=: fine when there is only one file to play */
    int n, *v = file_order(ti, &n);
    free(v);
    if (n != 1) {
      rg_http_error(req, 400,
                    "play needs index=N: torrent %s has %d files (ids start "
                    "at 1)",
                    rg_torrent_hex(t), n);
      return;
    }
    id = 1;
  }
  int index = index_of_id(ti, id);
  if (index < 0) {
    rg_http_error(req, 404, "torrent %s has no file id %ld (ids start at 1)",
                  rg_torrent_hex(t), id);
    return;
  }
  viewed_mark(app, rg_torrent_hex(t), id); /* as TorrServer's Stream does */
  char path[64];
  snprintf(path, sizeof path, "%s/%d/f", rg_torrent_hex(t), index);
  rg_stream_route(app, req, path);
}

static void preload_next(struct wait *w);

static void on_preload_data(void *arg, int err, int fd, int64_t off,
                            size_t len) {
  struct wait *w = arg;
  if (err || len == 0) {
    w->pos = w->end; /* done, or nothing more to be had in time */
  } else {
    w->pos = off + (int64_t)len;
  }
  if (w->pos >= w->end) {
    struct evhttp_request *req = w->req;
    rg_app *app = w->app;
    rg_torrent *t = w->t;
    wait_free(w);
    rg_http_json(req, 200, status_json(app, t));
    return;
  }
  preload_next(w);
}

static void preload_next(struct wait *w) {
  int rc = rg_reader_read(w->r, w->pos, (size_t)(w->end - w->pos),
                          on_preload_data, w);
  if (rc)
    on_preload_data(w, rc, -1, w->pos, 0);
}

/* Reads the head of the file (readahead-sized) so playback starts warm. */
static void preload_start(struct wait *w) {
  const rg_tinfo *ti = rg_torrent_info(w->t);
  int index = index_of_id(ti, w->id > 0 ? w->id : 1);
  if (index < 0 ||
      rg_reader_open(w->app->tm, w->t, index, &w->r) != 0) {
    struct evhttp_request *req = w->req;
    rg_app *app = w->app;
    rg_torrent *t = w->t;
    wait_free(w);
    rg_http_json(req, 200, status_json(app, t));
    return;
  }
  int64_t want = (int64_t)w->app->conf->readahead_mb << 20;
  w->pos = 0;
  w->end = ti->files[index].size < want ? ti->files[index].size : want;
  if (w->end <= 0) {
    on_preload_data(w, 0, -1, 0, 0);
    return;
  }
  preload_next(w);
}

static void on_wait(evutil_socket_t fd, short what, void *arg) {
  struct wait *w = arg;
  rg_torrent *t = rg_tm_find(w->app->tm, w->hash);
  if (t && rg_torrent_info(t)) {
    w->t = t;
    if (w->preload) {
      preload_start(w);
      return;
    }
    struct evhttp_request *req = w->req;
    rg_app *app = w->app;
    long id = w->id;
    wait_free(w);
    play_now(app, req, t, id);
    return;
  }
  if (!t || rg_now_ms() >= w->deadline_ms) {
    struct evhttp_request *req = w->req;
    wait_free(w);
    if (!t)
      rg_http_error(req, 404, "the torrent was removed");
    else
      rg_http_error(req, 504, "the torrent's metadata did not arrive in time");
    return;
  }
  struct timeval tv = {0, 200000};
  event_add(w->ev, &tv);
}

/* Plays (or preloads) file ID of T once its metadata is known. */
static void play_when_ready(rg_app *app, struct evhttp_request *req,
                            rg_torrent *t, long id, bool preload) {
  if (rg_torrent_info(t) && !preload) {
    play_now(app, req, t, id);
    return;
  }
  struct wait *w = rg_calloc(1, sizeof *w);
  w->app = app;
  w->req = req;
  w->t = t;
  w->id = id;
  w->preload = preload;
  memcpy(w->hash, rg_torrent_hex(t), 41);
  w->deadline_ms = rg_now_ms() + (int64_t)app->conf->metadata_timeout_s * 1000;
  w->ev = event_new(app->base, -1, 0, on_wait, w);
  w->evcon = evhttp_request_get_connection(req);
  if (w->evcon)
    evhttp_connection_set_closecb(w->evcon, on_wait_close, w);
  struct timeval now = {0, 0};
  event_add(w->ev, &now);
}

static bool flag(struct evhttp_request *req, const char *name) {
  char *v = rg_http_query(req, name);
  bool set = v && strcmp(v, "false") != 0 && strcmp(v, "0") != 0;
  free(v);
  return set;
}

/* The file id a playlist of T starts at: ?index=N when BY_INDEX (/playlist
 * takes one; /stream's index is the file to play), else with ?fromlast the
 * highest id marked viewed (TorrServer's "from the last played file"), else
 * the first. An id T does not have means the first. */
static long playlist_from(rg_app *app, struct evhttp_request *req,
                          rg_torrent *t, bool by_index) {
  char *idx = by_index ? rg_http_query(req, "index") : NULL;
  char *end = NULL;
  long from = idx && *idx ? strtol(idx, &end, 10) : 0;
  if (end && *end)
    from = 0;
  free(idx);
  if (from < 1 && flag(req, "fromlast"))
    from = viewed_last(app, rg_torrent_hex(t));
  return from > 0 ? from : 1;
}

/* /stream once T is added: the flags say what to answer. */
static void stream_torrent(rg_app *app, struct evhttp_request *req,
                           rg_torrent *t) {
  char *poster = rg_http_query(req, "poster");
  char *idx = rg_http_query(req, "index");
  if (poster && *poster)
    ts_set(app, "poster", rg_torrent_hex(t), poster);
  long id = idx && *idx ? strtol(idx, NULL, 10) : 0;
  if (flag(req, "m3u")) {
    if (!rg_torrent_info(t)) {
      evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                        "2");
      rg_http_error(req, 503, "the torrent's metadata is not known yet");
    } else {
      playlist_one(app, req, t, playlist_from(app, req, t, false));
    }
  } else if (flag(req, "play")) {
    if (id < 0)
      rg_http_error(req, 400, "play needs index=N (file ids start at 1)");
    else
      play_when_ready(app, req, t, id, false); /* 0: the only file */
  } else if (flag(req, "preload")) {
    play_when_ready(app, req, t, id, true);
  } else {
    rg_http_json(req, 200, status_json(app, t)); /* stat, or no flag */
  }
  free(poster);
  free(idx);
}

static void on_stream_url(rg_app *app, struct evhttp_request *req,
                          rg_torrent *t, bool existed, void *unused) {
  stream_torrent(app, req, t);
}

static void stream(rg_app *app, struct evhttp_request *req) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
    rg_http_error(req, 405, "use GET or HEAD");
    return;
  }
  char *link = rg_http_query(req, "link");
  char *title = rg_http_query(req, "title");
  rg_torrent *t = NULL;
  if (!link || !*link)
    rg_http_error(req, 400, "link should not be empty");
  else if (rg_tlink_is_url(link))
    rg_tlink_fetch(app, req, link, title, on_stream_url, NULL, NULL);
  else if (add_link(app, req, link, title, &t) == 0)
    stream_torrent(app, req, t);
  free(link);
  free(title);
}

/* /play/{hash}/{id} */
static void play_route(rg_app *app, struct evhttp_request *req,
                       const char *rest) {
  char hash[41];
  long id = 0;
  rg_torrent *t = NULL;
  if (rg_torrserver_parse_play(rest, hash, &id) != 0)
    rg_http_error(req, 404, "use /play/{hash}/{id} (file ids start at 1)");
  else if (!(t = find(app, hash)))
    rg_http_error(req, 404, "no torrent %s", hash);
  else
    play_when_ready(app, req, t, id, false);
}

/* ------------------------------------------------------------ settings -- */

static json_t *settings_json(rg_app *app) {
  const rg_conf *c = app->conf;
  return json_pack(
      "{s:I, s:i, s:i, s:b, s:s, s:b, s:b, s:i, s:i, s:b, s:b, s:s, s:b, "
      "s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:i, s:i, s:i, s:i, s:i, s:b}",
      "CacheSize", (json_int_t)(c->cache_budget_mb << 20), "ReaderReadAHead",
      95, "PreloadCache", 50, "UseDisk", true, "TorrentsSavePath",
      c->cache_dir && *c->cache_dir ? c->cache_dir : "", "RemoveCacheOnDrop",
      false, "ForceEncrypt", false, "RetrackersMode", 0,
      "TorrentDisconnectTimeout", c->idle_timeout_s, "EnableDebug",
      strcmp(c->log_level, "debug") == 0, "EnableDLNA", false, "FriendlyName",
      "reelgate", "EnableRutorSearch", false, "EnableIPv6", false,
      "DisableTCP", false, "DisableUTP", !c->bt_outgoing_utp, "DisableUPNP",
      !c->upnp, "DisableDHT", !c->dht, "DisablePEX", false, "DisableUpload",
      false, "DownloadRateLimit", c->download_limit_kbps, "UploadRateLimit",
      c->upload_limit_kbps, "ConnectionsLimit", c->connections_limit,
      "DhtConnectionLimit", 500, "PeersListenPort", c->bt_port,
      "ResponsiveMode", false);
}

/* Applies the keys that map onto ours and can change while running; the
 * rest are accepted and ignored, as TorrServer ignores unknown keys. */
static void settings_set(rg_app *app, json_t *sets) {
  rg_conf *c = app->conf;
  json_t *v;
  bool rates = false;
  if ((v = json_object_get(sets, "DownloadRateLimit")) && json_is_integer(v) &&
      json_integer_value(v) >= 0 && json_integer_value(v) < (1 << 21)) {
    c->download_limit_kbps = (int)json_integer_value(v);
    rates = true;
  }
  if ((v = json_object_get(sets, "UploadRateLimit")) && json_is_integer(v) &&
      json_integer_value(v) >= 0 && json_integer_value(v) < (1 << 21)) {
    c->upload_limit_kbps = (int)json_integer_value(v);
    rates = true;
  }
  if (rates)
    rg_engine_set_rate_limits(app->engine, c->download_limit_kbps * 1024,
                              c->upload_limit_kbps * 1024);
  if ((v = json_object_get(sets, "DisableUPNP")) && json_is_boolean(v)) {
    c->upnp = !json_is_true(v);
    rg_engine_set_portmap(app->engine, c->natpmp, c->upnp);
  }
  if ((v = json_object_get(sets, "CacheSize")) && json_is_integer(v) &&
      json_integer_value(v) >= 0)
    c->cache_budget_mb = json_integer_value(v) >> 20; /* reported; applied at
                                                         the next start */
  rg_info("settings changed through the TorrServer API");
}

static void post_settings(rg_app *app, struct evhttp_request *req) {
  json_t *j = read_json(req);
  if (!j)
    return;
  const char *action = jstr(j, "action");
  if (action && strcmp(action, "get") == 0) {
    rg_http_json(req, 200, settings_json(app));
  } else if (action && strcmp(action, "set") == 0) {
    json_t *sets = json_object_get(j, "sets");
    if (!json_is_object(sets))
      rg_http_error(req, 400, "set needs \"sets\": {…}");
    else {
      settings_set(app, sets);
      reply_text(req, 200, "text/plain", "", 0);
    }
  } else if (action && strcmp(action, "def") == 0) {
    /* defaults come from the config file; nothing is stored to reset */
    reply_text(req, 200, "text/plain", "", 0);
  } else {
    rg_http_error(req, 400, "action must be get, set or def");
  }
  json_decref(j);
}

/* --------------------------------------------------------------- viewed -- */

struct viewed_ctx {
  rg_app *app;
  const char *only;
  json_t *arr;
};

static void viewed_one(rg_torrent *t, void *arg) {
  struct viewed_ctx *c = arg;
  const char *h = rg_torrent_hex(t);
  if (c->only && strcmp(c->only, h) != 0)
    return;
  json_t *ids = viewed_get(c->app, h);
  size_t i;
  json_t *v;
  json_array_foreach(ids, i, v) json_array_append_new(
      c->arr, json_pack("{s:s, s:I}", "hash", h, "file_index",
                        json_integer_value(v)));
  json_decref(ids);
}

static void post_viewed(rg_app *app, struct evhttp_request *req) {
  json_t *j = read_json(req);
  if (!j)
    return;
  const char *action = jstr(j, "action");
  const char *hash = jstr(j, "hash");
  char h[41] = "";
  if (hash)
    lower_hash(hash, h);
  if (action && strcmp(action, "list") == 0) {
    struct viewed_ctx c = {app, *h ? h : NULL, json_array()};
    rg_tm_each(app->tm, viewed_one, &c);
    rg_http_json(req, 200, c.arr);
  } else if (action &&
             (strcmp(action, "set") == 0 || strcmp(action, "rem") == 0)) {
    if (!find(app, h)) {
      rg_http_error(req, 404, "no torrent %.60s", hash ? hash : "(no hash)");
      json_decref(j);
      return;
    }
    json_t *fi = json_object_get(j, "file_index");
    json_t *ids = viewed_get(app, h);
    json_t *keep = json_array();
    size_t i;
    json_t *v;
    bool set = strcmp(action, "set") == 0;
    json_array_foreach(ids, i, v) {
      bool same = json_is_integer(fi) &&
                  json_integer_value(v) == json_integer_value(fi);
      /* rem without file_index forgets the whole torrent */
      if (!(same || (!set && !json_is_integer(fi))))
        json_array_append(keep, v);
    }
    if (set && json_is_integer(fi))
      json_array_append(keep, fi);
    viewed_put(app, h, keep);
    json_decref(keep);
    json_decref(ids);
    reply_text(req, 200, "text/plain", "", 0);
  } else {
    rg_http_error(req, 400, "action must be set, rem or list");
  }
  json_decref(j);
}

/* ---------------------------------------------------------------- cache -- */

static void post_cache(rg_app *app, struct evhttp_request *req) {
  json_t *j = read_json(req);
  if (!j)
    return;
  rg_torrent *t = find(app, jstr(j, "hash"));
  if (!t) {
    rg_http_error(req, 404, "no torrent %.60s",
                  jstr(j, "hash") ? jstr(j, "hash") : "(no hash)");
    json_decref(j);
    return;
  }
  const rg_tinfo *ti = rg_torrent_info(t);
  rg_tstatus st;
  rg_torrent_status(t, &st);
  rg_tm_stats ts;
  rg_tm_stats_get(app->tm, &ts);
  json_t *pieces = json_object();
  uint8_t *bits = NULL;
  size_t blen = 0;
  if (ti && rg_torrent_active(t) &&
      rg_engine_have_bitfield(app->engine, ti->ih, &bits, &blen) == 0) {
    for (int p = 0; p < ti->num_pieces && (size_t)(p >> 3) < blen; p++) {
      if (!(bits[p >> 3] & (0x80 >> (p & 7))))
        continue;
      int64_t len = p == ti->num_pieces - 1
                        ? ti->total_size - (int64_t)p * ti->piece_length
                        : ti->piece_length;
      char key[16];
      snprintf(key, sizeof key, "%d", p);
      json_object_set_new(pieces, key,
                          json_pack("{s:i, s:I, s:I, s:b, s:i}", "Id", p,
                                    "Length", (json_int_t)len, "Size",
                                    (json_int_t)len, "Completed", true,
                                    "Priority", 0));
    }
  }
  free(bits);
  json_t *o = json_pack(
      "{s:s, s:I, s:I, s:I, s:i, s:o, s:o, s:[]}", "Hash", rg_torrent_hex(t),
      "Capacity", (json_int_t)ts.budget_bytes, "Filled",
      (json_int_t)st.total_done, "PiecesLength",
      (json_int_t)(ti ? ti->piece_length : 0), "PiecesCount",
      ti ? ti->num_pieces : 0, "Torrent", status_json(app, t), "Pieces",
      pieces, "Readers");
  rg_http_json(req, 200, o);
  json_decref(j);
}

/* ---------------------------------------------------------------- route -- */

bool rg_torrserver_route(rg_app *app, struct evhttp_request *req,
                         const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  bool is_stream = strcmp(path, "/stream") == 0;
  if (!is_stream && strncmp(path, "/stream/", 8) == 0) {
    char *link = rg_http_query(req, "link");
    is_stream = link != NULL; /* else the native /stream/{hash}/… */
    free(link);
  }
  bool known = is_stream || strcmp(path, "/echo") == 0 ||
               strcmp(path, "/torrents") == 0 ||
               strcmp(path, "/torrent/upload") == 0 ||
               strncmp(path, "/play/", 6) == 0 ||
               strcmp(path, "/playlist") == 0 ||
               strncmp(path, "/playlist/", 10) == 0 ||
               strcmp(path, "/playlistall/all.m3u") == 0 ||
               strcmp(path, "/settings") == 0 || strcmp(path, "/viewed") == 0 ||
               strcmp(path, "/cache") == 0;
  if (!known)
    return false;
  if (strcmp(path, "/echo") == 0) {
    reply_text(req, 200, "text/plain; charset=utf-8", TS_VERSION,
               strlen(TS_VERSION));
    return true;
  }
  if (!authorized(app, req)) {
    unauthorized(req);
    return true;
  }
  if (is_stream) {
    stream(app, req);
  } else if (strncmp(path, "/play/", 6) == 0) {
    play_route(app, req, path + 6);
  } else if (strcmp(path, "/playlistall/all.m3u") == 0) {
    struct all_ctx c = {app, req, evbuffer_new()};
    evbuffer_add_printf(c.b, "#EXTM3U\n");
    rg_tm_each(app->tm, all_one, &c);
    reply_m3u(req, c.b, "all.m3u");
  } else if (strncmp(path, "/playlist", 9) == 0) {
    char *hash = rg_http_query(req, "hash");
    rg_torrent *t = find(app, hash);
    if (!t)
      rg_http_error(req, 404, "no torrent %.60s", hash ? hash : "(no hash)");
    else if (!rg_torrent_info(t))
      rg_http_error(req, 503, "the torrent's metadata is not known yet");
    else
      playlist_one(app, req, t, playlist_from(app, req, t, true));
    free(hash);
  } else if (m != EVHTTP_REQ_POST) {
    rg_http_error(req, 405, "use POST");
  } else if (strcmp(path, "/torrents") == 0) {
    post_torrents(app, req);
  } else if (strcmp(path, "/torrent/upload") == 0) {
    post_upload(app, req);
  } else if (strcmp(path, "/settings") == 0) {
    post_settings(app, req);
  } else if (strcmp(path, "/viewed") == 0) {
    post_viewed(app, req);
  } else {
    post_cache(app, req);
  }
  return true;
}
