/* cands.c — search results shared by the indexer clients, and resolving an
 * indexer's proxy link to a magnet or a .torrent. Worker threads. */
#include "config.h"

#include "clients.h"

#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TORRENT (10u << 20)

rg_cand *rg_cands_push(rg_cands *c, const char *source) {
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 16;
    c->v = rg_realloc(c->v, c->cap * sizeof *c->v);
  }
  rg_cand *x = &c->v[c->n++];
  memset(x, 0, sizeof *x);
  x->seeders = -1;
  x->file_idx = -1;
  snprintf(x->source, sizeof x->source, "%s", source);
  return x;
}

void rg_cands_clear(rg_cands *c) {
  for (size_t i = 0; i < c->n; i++) {
    free(c->v[i].name);
    free(c->v[i].link);
    free(c->v[i].file_name);
  }
  free(c->v);
  memset(c, 0, sizeof *c);
}

int rg_link_resolve(rg_hc_svc *svc, const char *link, const char *const *hdrs,
                    const atomic_int *cancel, char **magnet, uint8_t **torrent,
                    size_t *len, char **cause) {
  *magnet = NULL;
  *torrent = NULL;
  *len = 0;
  char *url = rg_strdup(link);
  int rc = -EIO;
  for (int hop = 0; hop < 6; hop++) {
    if (strncasecmp(url, "magnet:", 7) == 0) {
      *magnet = url;
      return 0;
    }
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
      *cause = rg_printf("%s: a download link is neither magnet: nor http(s)",
                         rg_hc_svc_name(svc));
      rc = -EINVAL;
      goto out;
    }
    rg_hc_req rq = {.url = url,
                    .headers = hdrs,
                    .max_bytes = MAX_TORRENT,
                    .cancel = cancel};
    rg_hc_resp rs;
    if ((rc = rg_hc_do(svc, &rq, &rs, cause)))
      goto out;
    if (rs.status >= 300 && rs.status < 400 && rs.location) {
      free(url);
      url = rs.location;
      rs.location = NULL;
      rg_hc_resp_clear(&rs);
      continue;
    }
    char *u = rg_hc_redact(url);
    if (rs.status != 200) {
      *cause = rg_printf("%s: HTTP %ld fetching %s", rg_hc_svc_name(svc),
                         rs.status, u);
      rc = -EIO;
    } else if (rs.len < 2 || rs.body[0] != 'd') {
      *cause = rg_printf("%s: %s is not a .torrent (%zu bytes%s%s)",
                         rg_hc_svc_name(svc), u, rs.len, rs.ctype ? ", " : "",
                         rs.ctype ? rs.ctype : "");
      rc = -EBADMSG;
    } else {
      *torrent = (uint8_t *)rs.body;
      *len = rs.len;
      rs.body = NULL;
      rc = 0;
    }
    free(u);
    rg_hc_resp_clear(&rs);
    goto out;
  }
  *cause = rg_printf("%s: too many redirects", rg_hc_svc_name(svc));
  rc = -ELOOP;
out:
  free(url);
  return rc;
}
