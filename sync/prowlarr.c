/* prowlarr.c — Prowlarr's search API: GET /api/v1/search with X-Api-Key and
 * id tokens in the query ({ImdbId:tt…}{Season:N}{Episode:N}). imdbId comes
 * back as an integer; magnetUrl/downloadUrl are proxy links back to
 * Prowlarr (resolved later, for the chosen release only). */
#include "config.h"

#include "clients.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

int rg_prowlarr_search(rg_hc_svc *svc, const char *url, const char *key,
                       const char *query, const char *type,
                       const atomic_int *cancel, rg_cands *out, char **cause) {
  char *q = rg_percent_encode(query);
  char *u =
      rg_printf("%s/api/v1/search?query=%s&type=%s&limit=100", url, q, type);
  char *h = rg_printf("X-Api-Key: %s", key ? key : "");
  const char *hdrs[] = {h, "Accept: application/json", NULL};
  rg_hc_req rq = {.url = u, .headers = hdrs, .cancel = cancel};
  json_t *j = NULL;
  int rc = rg_hc_json(svc, &rq, &j, cause);
  free(h);
  free(u);
  free(q);
  if (rc)
    return rc;
  if (!json_is_array(j)) {
    *cause = rg_strdup("prowlarr: the search answer is not a JSON array");
    json_decref(j);
    return -EBADMSG;
  }
  size_t i;
  json_t *it;
  json_array_foreach(j, i, it) {
    const char *title = str(it, "title");
    const char *proto = str(it, "protocol");
    if (!json_is_object(it) || !title || (proto && strcmp(proto, "torrent")))
      continue;
    rg_cand *c = rg_cands_push(out, "prowlarr");
    c->name = rg_strdup(title);
    const char *ih = str(it, "infoHash");
    if (rg_is_hex40(ih))
      for (int k = 0; k < 41; k++)
        c->hash[k] = (char)tolower((unsigned char)ih[k]);
    const char *link = str(it, "magnetUrl");
    if (!link || !*link)
      link = str(it, "downloadUrl");
    c->link = link && *link ? rg_strdup(link) : NULL;
    json_t *s = json_object_get(it, "seeders");
    c->seeders = json_is_integer(s) ? (int)json_integer_value(s) : -1;
    json_t *z = json_object_get(it, "size");
    c->size = json_is_integer(z) ? json_integer_value(z) : 0;
  }
  json_decref(j);
  return 0;
}
