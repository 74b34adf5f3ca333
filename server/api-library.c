/* api-library.c — the library under /api/library (the key is checked by
 * http.c):
 *
 *   GET    /api/library           {"entries": [entry…]} ordered by path
 *   POST   /api/library           {info_hash, file_index, kind, title, year,
 *                                  season, episode, imdb_id, tmdb_id} → 201
 *   GET    /api/library/{id}      entry
 *   PUT    /api/library/{id}      fields given replace the entry's (PUT and
 *   PATCH  /api/library/{id}      PATCH both merge; null clears imdb_id,
 *                                  tmdb_id and year) → entry
 *   DELETE /api/library/{id}      {"deleted": id}
 *
 * entry = {id, info_hash, file_index, kind, title, year, season, episode,
 * imdb_id, tmdb_id, automatic, path, inode, size, mtime}; unknown values are
 * null. Errors: 400 {"error"} naming the field, 404 unknown entry or torrent,
 * 409 a file or title another entry holds, 503 when no library is set up. */
#include "config.h"

#include "http.h"
#include "library.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (64 << 10)

static json_t *entry_json(const rg_lib_entry *e) {
  bool ep = strcmp(e->kind, "episode") == 0;
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(e->id));
  json_object_set_new(o, "info_hash", json_string(e->hash));
  json_object_set_new(o, "file_index", json_integer(e->file_index));
  json_object_set_new(o, "kind", json_string(e->kind));
  json_object_set_new(o, "title", json_string(e->title));
  json_object_set_new(o, "year", e->year ? json_integer(e->year) : json_null());
  json_object_set_new(o, "season", ep ? json_integer(e->season) : json_null());
  json_object_set_new(o, "episode",
                      ep ? json_integer(e->episode) : json_null());
  json_object_set_new(o, "imdb_id",
                      e->imdb_id ? json_string(e->imdb_id) : json_null());
  json_object_set_new(o, "tmdb_id",
                      e->tmdb_id ? json_integer(e->tmdb_id) : json_null());
  json_object_set_new(o, "automatic", json_boolean(e->automatic));
  json_object_set_new(o, "path", json_string(e->path));
  json_object_set_new(o, "inode", json_integer((json_int_t)e->ino));
  json_object_set_new(o, "size", json_integer(e->size));
  json_object_set_new(o, "mtime", json_integer(e->mtime));
  return o;
}

static void list_one(const rg_lib_entry *e, void *arg) {
  json_array_append_new(arg, entry_json(e));
}

static int err_status(int rc) {
  switch (rc) {
  case -EINVAL:
    return 400;
  case -ENOENT:
    return 404;
  case -EEXIST:
    return 409;
  default:
    return 500;
  }
}

/* Reads the JSON object of the request body; replies 400 and returns NULL
 * when there is none. */
static json_t *body_object(struct evhttp_request *req) {
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  if (!body || len == 0) {
    free(body);
    rg_http_error(req, 400, "send a JSON object as the request body");
    return NULL;
  }
  if (len > MAX_BODY) {
    free(body);
    rg_http_error(req, 413, "body larger than %d bytes", MAX_BODY);
    return NULL;
  }
  json_error_t jerr;
  json_t *j = json_loadb((const char *)body, len, 0, &jerr);
  free(body);
  if (!j || !json_is_object(j)) {
    rg_http_error(req, 400, "body is not a JSON object: %s",
                  j ? "wrong type" : jerr.text);
    json_decref(j);
    return NULL;
  }
  return j;
}

/* Applies the fields present in J over E (strings borrowed from J: use E
 * before J is released). 0, or replies 400 naming the field. */
static int apply_fields(struct evhttp_request *req, json_t *j, rg_lib_entry *e,
                        bool require) {
  static const char *const required[] = {"info_hash", "file_index", "kind",
                                         "title"};
  if (require)
    for (size_t i = 0; i < RG_ARRAY_LEN(required); i++)
      if (!json_object_get(j, required[i])) {
        rg_http_error(req, 400, "%s: missing", required[i]);
        return -EINVAL;
      }
  json_t *v;
  if ((v = json_object_get(j, "info_hash"))) {
    if (!json_is_string(v) || json_string_length(v) != 40) {
      rg_http_error(req, 400, "info_hash: must be a string of 40 hex digits");
      return -EINVAL;
    }
    snprintf(e->hash, sizeof e->hash, "%s", json_string_value(v));
  }
  if ((v = json_object_get(j, "file_index"))) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 1000000) {
      rg_http_error(req, 400, "file_index: must be an integer, 0 or more");
      return -EINVAL;
    }
    e->file_index = (int)json_integer_value(v);
  }
  if ((v = json_object_get(j, "kind"))) {
    const char *k = json_string_value(v);
    if (!k || (strcmp(k, "movie") != 0 && strcmp(k, "episode") != 0)) {
      rg_http_error(req, 400, "kind: must be \"movie\" or \"episode\"");
      return -EINVAL;
    }
    snprintf(e->kind, sizeof e->kind, "%s", k);
  }
  if ((v = json_object_get(j, "title"))) {
    if (!json_is_string(v) || json_string_length(v) == 0) {
      rg_http_error(req, 400, "title: must be a non-empty string");
      return -EINVAL;
    }
    if (strlen(json_string_value(v)) != json_string_length(v)) {
      rg_http_error(req, 400, "title: must not contain NUL");
      return -EINVAL;
    }
    e->title = (char *)json_string_value(v);
  }
  static const char *const ints[] = {"year", "season", "episode"};
  int *dst[] = {&e->year, &e->season, &e->episode};
  for (size_t i = 0; i < RG_ARRAY_LEN(ints); i++) {
    if (!(v = json_object_get(j, ints[i])))
      continue;
    if (json_is_null(v)) {
      *dst[i] = i == 0 ? 0 : -1;
      continue;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > 100000) {
      rg_http_error(req, 400, "%s: must be a non-negative integer", ints[i]);
      return -EINVAL;
    }
    *dst[i] = (int)json_integer_value(v);
  }
  if ((v = json_object_get(j, "imdb_id"))) {
    if (json_is_null(v)) {
      e->imdb_id = NULL;
    } else if (json_is_string(v)) {
      e->imdb_id = (char *)json_string_value(v);
    } else {
      rg_http_error(req, 400, "imdb_id: must be a string like tt0133093");
      return -EINVAL;
    }
  }
  if ((v = json_object_get(j, "tmdb_id"))) {
    if (json_is_null(v)) {
      e->tmdb_id = 0;
    } else if (json_is_integer(v) && json_integer_value(v) >= 0) {
      e->tmdb_id = json_integer_value(v);
    } else {
      rg_http_error(req, 400, "tmdb_id: must be a non-negative integer");
      return -EINVAL;
    }
  }
  if (strcmp(e->kind, "episode") == 0 && (e->season < 0 || e->episode < 0)) {
    rg_http_error(req, 400, "%s: an episode needs season and episode",
                  e->season < 0 ? "season" : "episode");
    return -EINVAL;
  }
  return 0;
}

static void post_entry(rg_library *lib, struct evhttp_request *req) {
  json_t *j = body_object(req);
  if (!j)
    return;
  rg_lib_entry in = {.file_index = -1, .season = -1, .episode = -1};
  if (apply_fields(req, j, &in, true) == 0) {
    rg_lib_entry *out = NULL;
    char *cause = NULL;
    int rc = rg_library_add(lib, &in, &out, &cause);
    if (rc) {
      rg_http_error(req, err_status(rc), "%s", cause ? cause : "failed");
    } else {
      rg_http_json(req, 201, entry_json(out));
    }
    free(cause);
    rg_lib_entry_free(&out);
  }
  json_decref(j);
}

static void edit_entry(rg_library *lib, struct evhttp_request *req,
                       int64_t id) {
  rg_lib_entry *cur = rg_library_get(lib, id);
  if (!cur) {
    rg_http_error(req, 404, "no library entry %lld", (long long)id);
    return;
  }
  json_t *j = body_object(req);
  if (!j) {
    rg_lib_entry_free(&cur);
    return;
  }
  rg_lib_entry in = *cur;
  if (apply_fields(req, j, &in, false) == 0) {
    rg_lib_entry *out = NULL;
    char *cause = NULL;
    int rc = rg_library_update(lib, id, &in, &out, &cause);
    if (rc)
      rg_http_error(req, err_status(rc), "%s", cause ? cause : "failed");
    else
      rg_http_json(req, 200, entry_json(out));
    free(cause);
    rg_lib_entry_free(&out);
  }
  json_decref(j);
  rg_lib_entry_free(&cur);
}

void rg_api_library_route(rg_app *app, struct evhttp_request *req,
                          const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  rg_library *lib = app->library;
  if (!lib) {
    rg_http_error(req, 503, "the library is not set up");
    return;
  }
  if (strcmp(path, "/library") == 0 || strcmp(path, "/library/") == 0) {
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) {
      json_t *arr = json_array();
      rg_library_each(lib, list_one, arr);
      rg_http_json(req, 200, json_pack("{s:o}", "entries", arr));
    } else if (m == EVHTTP_REQ_POST) {
      post_entry(lib, req);
    } else {
      rg_http_error(req, 405, "use GET or POST");
    }
    return;
  }
  if (strncmp(path, "/library/", 9) != 0) {
    rg_http_error(req, 404, "no such API route: /api%s", path);
    return;
  }
  const char *s = path + 9;
  char *end = NULL;
  long long id = strtoll(s, &end, 10);
  if (!*s || *s == '-' || *s == '+' || !end || *end || id <= 0) {
    rg_http_error(req, 404, "no library entry %.40s (want a numeric id)", s);
    return;
  }
  if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD) {
    rg_lib_entry *e = rg_library_get(lib, id);
    if (!e) {
      rg_http_error(req, 404, "no library entry %lld", id);
      return;
    }
    rg_http_json(req, 200, entry_json(e));
    rg_lib_entry_free(&e);
  } else if (m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH) {
    edit_entry(lib, req, id);
  } else if (m == EVHTTP_REQ_DELETE) {
    int rc = rg_library_remove(lib, id);
    if (rc == -ENOENT)
      rg_http_error(req, 404, "no library entry %lld", id);
    else if (rc)
      rg_http_error(req, 500, "could not remove library entry %lld", id);
    else
      rg_http_json(req, 200, json_pack("{s:I}", "deleted", (json_int_t)id));
  } else {
    rg_http_error(req, 405, "use GET, PUT, PATCH or DELETE");
  }
}
