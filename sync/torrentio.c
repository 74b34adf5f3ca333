/* torrentio.c — Torrentio (a Stremio add-on) stream lists: GET
 * /stream/movie/tt….json and /stream/series/tt…:S:E.json. Each stream has an
 * infoHash, maybe a fileIdx and behaviorHints.filename, and a title whose
 * first line is the release name (for a pack, the second is the file) and
 * whose last lines carry "👤 seeders 💾 size ⚙️ site" and language
 * flags. sources[] "tracker:URL" entries become the magnet's trackers. */
#include "config.h"

#include "clients.h"

#include "magnet.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SEEDERS_MARK "\xF0\x9F\x91\xA4" /* 👤 */
#define SIZE_MARK "\xF0\x9F\x92\xBE"    /* 💾 */

static int64_t parse_size(const char *p) {
  while (*p == ' ')
    p++;
  char *end;
  double v = strtod(p, &end);
  if (end == p || v < 0)
    return 0;
  while (*end == ' ')
    end++;
  double mul = 1;
  if (!strncmp(end, "TB", 2))
    mul = 1099511627776.0;
  else if (!strncmp(end, "GB", 2))
    mul = 1073741824.0;
  else if (!strncmp(end, "MB", 2))
    mul = 1048576.0;
  else if (!strncmp(end, "KB", 2) || !strncmp(end, "kB", 2))
    mul = 1024.0;
  double b = v * mul;
  return b > 9e18 ? 0 : (int64_t)b;
}

int rg_torrentio_parse(json_t *root, rg_cands *out, char **cause) {
  json_t *streams = json_object_get(root, "streams");
  if (!json_is_array(streams)) {
    *cause = rg_strdup("torrentio: the answer has no streams[]");
    return -EBADMSG;
  }
  size_t i;
  json_t *s;
  json_array_foreach(streams, i, s) {
    json_t *ih = json_object_get(s, "infoHash");
    json_t *title = json_object_get(s, "title");
    if (!json_is_string(ih) || !rg_is_hex40(json_string_value(ih)) ||
        !json_is_string(title))
      continue;
    const char *t = json_string_value(title);
    rg_cand *c = rg_cands_push(out, "torrentio");
    const char *h = json_string_value(ih);
    for (int k = 0; k < 41; k++)
      c->hash[k] = (char)tolower((unsigned char)h[k]);
    /* the whole title: rank.c reads the flags on its last line */
    c->name = rg_strndup(t, 1024);
    const char *m = strstr(t, SEEDERS_MARK);
    if (m)
      c->seeders = (int)strtol(m + strlen(SEEDERS_MARK), NULL, 10);
    m = strstr(t, SIZE_MARK);
    if (m)
      c->size = parse_size(m + strlen(SIZE_MARK));
    json_t *fi = json_object_get(s, "fileIdx");
    if (json_is_integer(fi) && json_integer_value(fi) >= 0 &&
        json_integer_value(fi) < 100000)
      c->file_idx = (int)json_integer_value(fi);
    json_t *fn =
        json_object_get(json_object_get(s, "behaviorHints"), "filename");
    if (json_is_string(fn))
      c->file_name = rg_strndup(json_string_value(fn), 1024);
    /* magnet: hash, name, trackers from sources[] */
    const char *trs[32];
    size_t ntr = 0;
    json_t *srcs = json_object_get(s, "sources");
    size_t k;
    json_t *src;
    json_array_foreach(srcs, k, src) {
      const char *v = json_string_value(src);
      if (v && !strncmp(v, "tracker:", 8) && ntr < RG_ARRAY_LEN(trs))
        trs[ntr++] = v + 8;
    }
    uint8_t raw[20];
    rg_hex_decode(c->hash, raw, 20);
    char first[512];
    snprintf(first, sizeof first, "%.*s", (int)strcspn(t, "\n"), t);
    c->link = rg_magnet_format(raw, first, trs, ntr, NULL, 0);
  }
  return 0;
}

int rg_torrentio_streams(rg_hc_svc *svc, const char *url, const char *type,
                         const char *id, const atomic_int *cancel,
                         rg_cands *out, char **cause) {
  /* ':' is kept as it is: Torrentio routes on it */
  char *u = rg_printf("%s/stream/%s/%s.json", url, type, id);
  const char *hdrs[] = {"Accept: application/json", NULL};
  rg_hc_req rq = {.url = u, .headers = hdrs, .cancel = cancel};
  json_t *j = NULL;
  int rc = rg_hc_json(svc, &rq, &j, cause);
  free(u);
  if (rc)
    return rc;
  rc = rg_torrentio_parse(j, out, cause);
  json_decref(j);
  return rc;
}
