/* tmdb.c — TMDB v3: lists, external ids, find, search, TV details and
 * seasons. A key that looks like a v4 read access token (a JWT, "eyJ…")
 * goes in an Authorization: Bearer header, a v3 key in api_key=. */
#include "config.h"

#include "clients.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_bearer(const char *key) {
  return strncmp(key, "eyJ", 3) == 0 && strchr(key, '.');
}

int rg_tmdb_get(const rg_tmdb *t, const char *path, const char *query,
                json_t **out, char **cause) {
  if (!t->key || !*t->key) {
    *cause = rg_strdup("tmdb: tmdb_api_key is not set (get a key at "
                       "https://www.themoviedb.org/settings/api)");
    return -EACCES;
  }
  bool bearer = is_bearer(t->key);
  char *k = bearer ? NULL : rg_percent_encode(t->key);
  char *url = rg_printf("%s%s?%s%s%s%s", t->url, path, query ? query : "",
                        query && *query ? "&" : "",
                        bearer ? "" : "api_key=", bearer ? "" : k);
  char *auth = bearer ? rg_printf("Authorization: Bearer %s", t->key) : NULL;
  const char *hdrs[] = {"Accept: application/json", auth, NULL};
  rg_hc_req rq = {.url = url, .headers = hdrs, .cancel = t->cancel};
  int rc = rg_hc_json(t->svc, &rq, out, cause);
  if (!rc && !json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    *cause = rg_printf("tmdb: %s answered JSON that is not an object", path);
    rc = -EBADMSG;
  } else if (!rc && json_is_false(json_object_get(*out, "success"))) {
    json_t *m = json_object_get(*out, "status_message");
    *cause = rg_printf("tmdb: %s", json_is_string(m) ? json_string_value(m)
                                                     : "the request failed");
    json_decref(*out);
    *out = NULL;
    rc = -EIO;
  }
  free(auth);
  free(url);
  free(k);
  return rc;
}

/* Adds "&language=…&region=…" to a query being built. */
static char *with_locale(const rg_tmdb *t, const char *q) {
  char *l = rg_percent_encode(t->language ? t->language : "");
  char *r = rg_percent_encode(t->region ? t->region : "");
  char *s = rg_printf("%s%s%s%s%s", q, *l ? "&language=" : "", l,
                      *r ? "&region=" : "", r);
  free(l);
  free(r);
  return s;
}

static json_t *results_of(json_t *o, const char *what, char **cause) {
  json_t *r = json_object_get(o, "results");
  if (!json_is_array(r)) {
    *cause = rg_printf("tmdb: the %s answer has no results[]", what);
    return NULL;
  }
  return json_incref(r);
}

int rg_tmdb_list(const rg_tmdb *t, const char *kind, const char *list, int page,
                 json_t **results, char **cause) {
  static const struct {
    const char *list, *movie, *tv;
  } paths[] = {
      {"popular", "/movie/popular", "/tv/popular"},
      {"trending", "/trending/movie/week", "/trending/tv/week"},
      {"trending_week", "/trending/movie/week", "/trending/tv/week"},
      {"trending_day", "/trending/movie/day", "/trending/tv/day"},
      {"now_playing", "/movie/now_playing", NULL},
      {"upcoming", "/movie/upcoming", NULL},
      {"top_rated", "/movie/top_rated", "/tv/top_rated"},
      {"on_the_air", NULL, "/tv/on_the_air"},
      {"airing_today", NULL, "/tv/airing_today"},
      {"discover", "/discover/movie", "/discover/tv"},
  };
  bool tv = strcmp(kind, "tv") == 0;
  const char *path = NULL;
  for (size_t i = 0; i < RG_ARRAY_LEN(paths); i++)
    if (strcmp(paths[i].list, list) == 0)
      path = tv ? paths[i].tv : paths[i].movie;
  *results = NULL;
  if (!path) {
    *cause = rg_printf("tmdb: unknown %s list '%s'", tv ? "TV" : "movie", list);
    return -EINVAL;
  }
  char *base = rg_printf("page=%d%s", page,
                         strcmp(list, "discover") == 0
                             ? "&sort_by=popularity.desc&include_adult=false"
                             : "");
  char *q = with_locale(t, base);
  json_t *o = NULL;
  int rc = rg_tmdb_get(t, path, q, &o, cause);
  if (!rc && !(*results = results_of(o, list, cause)))
    rc = -EBADMSG;
  json_decref(o);
  free(q);
  free(base);
  return rc;
}

int rg_tmdb_imdb_id(const rg_tmdb *t, const char *kind, int64_t id, char **imdb,
                    char **cause) {
  char path[64];
  snprintf(path, sizeof path, "/%s/%lld/external_ids",
           strcmp(kind, "tv") == 0 ? "tv" : "movie", (long long)id);
  json_t *o = NULL;
  *imdb = NULL;
  int rc = rg_tmdb_get(t, path, NULL, &o, cause);
  if (rc)
    return rc;
  json_t *v = json_object_get(o, "imdb_id");
  if (json_is_string(v) && strncmp(json_string_value(v), "tt", 2) == 0)
    *imdb = rg_strndup(json_string_value(v), 16);
  json_decref(o);
  return 0;
}

int rg_tmdb_find(const rg_tmdb *t, const char *imdb, const char *kind,
                 int64_t *id, char **cause) {
  char *e = rg_percent_encode(imdb);
  char *path = rg_printf("/find/%s", e);
  json_t *o = NULL;
  *id = 0;
  int rc = rg_tmdb_get(t, path, "external_source=imdb_id", &o, cause);
  free(path);
  free(e);
  if (rc)
    return rc;
  json_t *r = json_object_get(o, strcmp(kind, "tv") == 0 ? "tv_results"
                                                         : "movie_results");
  json_t *first = json_is_array(r) ? json_array_get(r, 0) : NULL;
  json_t *v = first ? json_object_get(first, "id") : NULL;
  if (json_is_integer(v))
    *id = json_integer_value(v);
  else
    rc = -ENOENT,
    *cause = rg_printf("tmdb: no %s with IMDb id %s",
                       strcmp(kind, "tv") == 0 ? "show" : "movie", imdb);
  json_decref(o);
  return rc;
}

int rg_tmdb_search(const rg_tmdb *t, const char *kind, const char *query,
                   int year, json_t **results, char **cause) {
  char *e = rg_percent_encode(query);
  char *base =
      year ? rg_printf("query=%s&%s=%d", e,
                       strcmp(kind, "tv") == 0 ? "first_air_date_year" : "year",
                       year)
           : rg_printf("query=%s", e);
  char *q = with_locale(t, base);
  json_t *o = NULL;
  *results = NULL;
  int rc =
      rg_tmdb_get(t, strcmp(kind, "tv") == 0 ? "/search/tv" : "/search/movie",
                  q, &o, cause);
  if (!rc && !(*results = results_of(o, "search", cause)))
    rc = -EBADMSG;
  json_decref(o);
  free(q);
  free(base);
  free(e);
  return rc;
}

int rg_tmdb_tv(const rg_tmdb *t, int64_t id, json_t **out, char **cause) {
  char path[48];
  snprintf(path, sizeof path, "/tv/%lld", (long long)id);
  char *q = with_locale(t, "append_to_response=external_ids");
  int rc = rg_tmdb_get(t, path, q, out, cause);
  free(q);
  return rc;
}

int rg_tmdb_season(const rg_tmdb *t, int64_t id, int season, json_t **out,
                   char **cause) {
  char path[64];
  snprintf(path, sizeof path, "/tv/%lld/season/%d", (long long)id, season);
  char *q = with_locale(t, "");
  int rc = rg_tmdb_get(t, path, q, out, cause);
  free(q);
  return rc;
}
