/* plex.c — the Plex watchlist (discover service: the list, then each item's
 * metadata for its Guid[] "imdb://tt…" / "tmdb://…"), Plex library refreshes
 * and Jellyfin's POST /Library/Refresh. The token goes in the X-Plex-Token
 * header, never in a message. */
#include "config.h"

#include "clients.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WATCHLIST 500

static const char *str(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

static int plex_get(rg_hc_svc *svc, const char *url, const char *token,
                    const atomic_int *cancel, json_t **out, char **cause) {
  char *h = rg_printf("X-Plex-Token: %s", token ? token : "");
  const char *hdrs[] = {h, "Accept: application/json",
                        "X-Plex-Client-Identifier: reelgate",
                        "X-Plex-Product: reelgate", NULL};
  rg_hc_req rq = {.url = url, .headers = hdrs, .cancel = cancel};
  int rc = rg_hc_json(svc, &rq, out, cause);
  free(h);
  if (!rc && !json_is_object(json_object_get(*out, "MediaContainer"))) {
    *cause = rg_strdup("plex: the answer has no MediaContainer");
    json_decref(*out);
    *out = NULL;
    rc = -EBADMSG;
  }
  return rc;
}

void rg_plex_items_free(rg_plex_item *items, size_t n) {
  for (size_t i = 0; i < n; i++) {
    free(items[i].title);
    free(items[i].rating_key);
    free(items[i].imdb);
  }
  free(items);
}

static void guids(rg_plex_item *it, json_t *md) {
  json_t *g = json_object_get(md, "Guid");
  size_t i;
  json_t *x;
  json_array_foreach(g, i, x) {
    const char *id = str(x, "id");
    if (!id)
      continue;
    if (!strncmp(id, "imdb://tt", 9) && !it->imdb)
      it->imdb = rg_strndup(id + 7, 16);
    else if (!strncmp(id, "tmdb://", 7) && !it->tmdb)
      it->tmdb = strtoll(id + 7, NULL, 10);
  }
}

int rg_plex_watchlist(rg_hc_svc *svc, const char *url, const char *token,
                      const atomic_int *cancel, rg_plex_item **items, size_t *n,
                      char **cause) {
  *items = NULL;
  *n = 0;
  if (!token || !*token) {
    *cause = rg_strdup("plex: plex_token is not set (the watchlist needs "
                       "your Plex account's token)");
    return -EACCES;
  }
  char *u = rg_printf("%s/library/sections/watchlist/all?includeGuids=1"
                      "&X-Plex-Container-Start=0&X-Plex-Container-Size=%d",
                      url, MAX_WATCHLIST);
  json_t *j = NULL;
  int rc = plex_get(svc, u, token, cancel, &j, cause);
  free(u);
  if (rc)
    return rc;
  json_t *md =
      json_object_get(json_object_get(j, "MediaContainer"), "Metadata");
  size_t cnt = json_is_array(md) ? json_array_size(md) : 0;
  if (cnt > MAX_WATCHLIST)
    cnt = MAX_WATCHLIST;
  rg_plex_item *v = rg_calloc(cnt + 1, sizeof *v);
  size_t k = 0;
  for (size_t i = 0; i < cnt && !rc; i++) {
    json_t *m = json_array_get(md, i);
    const char *type = str(m, "type"), *title = str(m, "title");
    const char *rk = str(m, "ratingKey");
    if (!type || !title || !rk ||
        (strcmp(type, "movie") && strcmp(type, "show")))
      continue;
    rg_plex_item *it = &v[k++];
    it->title = rg_strdup(title);
    snprintf(it->type, sizeof it->type, "%s", type);
    it->rating_key = rg_strdup(rk);
    json_t *y = json_object_get(m, "year");
    it->year = json_is_integer(y) ? (int)json_integer_value(y) : 0;
    guids(it, m);
    if (it->imdb)
      continue;
    /* the list has no Guid[]: ask the item's metadata */
    char *e = rg_percent_encode(rk);
    char *mu = rg_printf("%s/library/metadata/%s", url, e);
    free(e);
    json_t *mj = NULL;
    char *why = NULL;
    int mrc = plex_get(svc, mu, token, cancel, &mj, &why);
    free(mu);
    if (mrc == -ECANCELED || mrc == -EACCES) {
      *cause = why;
      rc = mrc;
      break;
    }
    if (!mrc) {
      json_t *first = json_array_get(
          json_object_get(json_object_get(mj, "MediaContainer"), "Metadata"),
          0);
      guids(it, first);
    }
    free(why);
    json_decref(mj);
  }
  json_decref(j);
  if (rc) {
    rg_plex_items_free(v, k);
    return rc;
  }
  *items = v;
  *n = k;
  return 0;
}

int rg_plex_refresh(rg_hc_svc *svc, const char *url, const char *token,
                    const char *sections, const atomic_int *cancel,
                    char **cause) {
  char *list = rg_strdup(sections && *sections ? sections : "all");
  char *save = NULL;
  int rc = 0;
  char *h = rg_printf("X-Plex-Token: %s", token ? token : "");
  const char *hdrs[] = {h, NULL};
  for (char *id = strtok_r(list, ", ", &save); id && !rc;
       id = strtok_r(NULL, ", ", &save)) {
    char *e = rg_percent_encode(id);
    char *u = rg_printf("%s/library/sections/%s/refresh", url, e);
    free(e);
    rg_hc_req rq = {.url = u, .headers = hdrs, .cancel = cancel};
    rg_hc_resp rs;
    rc = rg_hc_do(svc, &rq, &rs, cause);
    if (!rc && (rs.status < 200 || rs.status > 299)) {
      char *r = rg_hc_redact(u);
      *cause = rg_printf("plex: HTTP %ld for %s%s", rs.status, r,
                         rs.status == 401 ? " (check plex_token)" : "");
      free(r);
      rc = -EIO;
    }
    if (!rc || rc == -EIO)
      rg_hc_resp_clear(&rs);
    free(u);
  }
  free(h);
  free(list);
  return rc;
}

int rg_jellyfin_refresh(rg_hc_svc *svc, const char *url, const char *key,
                        const atomic_int *cancel, char **cause) {
  char *u = rg_printf("%s/Library/Refresh", url);
  char *h1 = rg_printf("X-Emby-Token: %s", key ? key : "");
  char *h2 =
      rg_printf("Authorization: MediaBrowser Token=\"%s\"", key ? key : "");
  const char *hdrs[] = {h1, h2, NULL};
  rg_hc_req rq = {
      .method = "POST", .url = u, .headers = hdrs, .cancel = cancel};
  rg_hc_resp rs;
  int rc = rg_hc_do(svc, &rq, &rs, cause);
  if (!rc) {
    if (rs.status < 200 || rs.status > 299) {
      char *r = rg_hc_redact(u);
      *cause = rg_printf("jellyfin: HTTP %ld for %s%s", rs.status, r,
                         rs.status == 401 ? " (check jellyfin_api_key)" : "");
      free(r);
      rc = -EIO;
    }
    rg_hc_resp_clear(&rs);
  }
  free(h1);
  free(h2);
  free(u);
  return rc;
}
