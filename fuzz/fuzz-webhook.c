/* fuzz-webhook.c — rg_webhook_parse on arbitrary bytes, and the matcher on
 * what it returns. The input's first line is the Content-Type header (empty
 * line: no header), the rest the body. Whatever is parsed must be well
 * formed, and parsing must be deterministic. */
#include "config.h"

#include "playback.h"
#include "webhook.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const rg_wh_event *e) {
  if (e->kind < RG_WH_OTHER || e->kind > RG_WH_SCROBBLE)
    abort();
  if (e->nimdb < 0 || e->nimdb > RG_WH_MAX_IDS || e->ntmdb < 0 ||
      e->ntmdb > RG_WH_MAX_IDS || e->ntvdb < 0 || e->ntvdb > RG_WH_MAX_IDS)
    abort();
  for (int i = 0; i < e->nimdb; i++)
    if (strncmp(e->imdb[i], "tt", 2) != 0 || strlen(e->imdb[i]) < 7)
      abort();
  for (int i = 0; i < e->ntmdb; i++)
    if (e->tmdb[i] <= 0)
      abort();
  if (e->season < -1 || e->episode < -1 || e->position_ms < -1)
    abort();
  if (!memchr(e->event, 0, sizeof e->event) ||
      !memchr(e->media_type, 0, sizeof e->media_type))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size < 256 ? size : 256);
  char *ct = NULL;
  const uint8_t *body = data;
  size_t len = size;
  if (nl) {
    ct = strndup((const char *)data, (size_t)(nl - data));
    body = nl + 1;
    len = size - (size_t)(nl - data) - 1;
  }
  /* a copy of exactly LEN bytes, so reads past the end are caught */
  uint8_t *copy = malloc(len ? len : 1);
  memcpy(copy, body, len);

  rg_wh_event *e = NULL;
  char *cause = NULL;
  int rc = rg_webhook_parse(ct && *ct ? ct : NULL, copy, len, &e, &cause);
  if (rc == 0) {
    if (!e || cause)
      abort();
    check(e);
    json_t *j = rg_wh_event_json(e);
    if (!j)
      abort();
    json_decref(j);
    rg_lib_entry ent = {0};
    memcpy(ent.hash, "0123456789012345678901234567890123456789", 41);
    memcpy(ent.kind, "episode", 8);
    ent.title = "Breaking Bad";
    ent.season = 2;
    ent.episode = 1;
    ent.imdb_id = "tt0903747";
    ent.tmdb_id = 1396;
    ent.path = "tv/Breaking Bad/Season 02/Breaking Bad - S02E01.mkv";
    char *mapped =
        e->path ? rg_playback_map_path("/a=/b;C:/x=/y", e->path) : NULL;
    const char *rule;
    int s = rg_playback_score(&ent, e, mapped, &rule);
    if (s < 0 || (s > 0) != (rule != NULL))
      abort();
    free(mapped);
    /* deterministic */
    rg_wh_event *e2 = NULL;
    if (rg_webhook_parse(ct && *ct ? ct : NULL, copy, len, &e2, &cause) != 0 ||
        e2->kind != e->kind || e2->nimdb != e->nimdb)
      abort();
    rg_wh_event_free(&e2);
    rg_wh_event_free(&e);
  } else {
    if (e || !cause || (rc != -EINVAL && rc != -EMSGSIZE && rc != -ENOTSUP))
      abort();
  }
  free(cause);
  free(copy);
  free(ct);
  return 0;
}
