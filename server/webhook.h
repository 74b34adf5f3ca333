/* webhook.h — a media server's webhook request (Plex, Jellyfin, Emby) turned
 * into one normalised playback event. Pure parsing: no daemon state, any
 * thread. Matching the event to the library and acting on it is playback.c. */
#ifndef RG_WEBHOOK_H
#define RG_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bodies larger than this are refused (413) before any parsing. */
#define RG_WH_MAX_BODY (1 << 20)
/* Ids of each kind kept per event (the item's own first). */
#define RG_WH_MAX_IDS 4

typedef enum rg_wh_kind {
  RG_WH_OTHER = 0, /* accepted and ignored (library.new, rate, …) */
  RG_WH_PLAY,
  RG_WH_PAUSE,
  RG_WH_RESUME,
  RG_WH_STOP,
  RG_WH_PROGRESS,
  RG_WH_SCROBBLE,
} rg_wh_kind;

typedef enum rg_wh_server {
  RG_WH_UNKNOWN = 0,
  RG_WH_PLEX,
  RG_WH_JELLYFIN,
  RG_WH_EMBY,
} rg_wh_server;

typedef struct rg_wh_event {
  rg_wh_kind kind;
  rg_wh_server server;
  char event[64];      /* the server's own event name, as sent */
  char media_type[16]; /* "movie", "episode", "show", "season", … or "" */
  /* ids, deduplicated, the played item's own first */
  char imdb[RG_WH_MAX_IDS][16]; /* "tt0090728" */
  int nimdb;
  int64_t tmdb[RG_WH_MAX_IDS];
  int ntmdb;
  int64_t tvdb[RG_WH_MAX_IDS];
  int ntvdb;
  /* what the server says it plays; NULL / 0 / -1 when not given. Missing
   * show, season, episode, title and year are filled from PATH (the
   * "Show (Year)/Season 02/… S02E01 …" and "Title (Year)/…" layouts). */
  char *title; /* the item's name (an episode's own title for episodes) */
  int year;
  char *show;          /* episodes: the series' name */
  int show_year;       /* from the path, "Show (2022)"; 0 = unknown */
  int season, episode; /* -1 = unknown */
  char *path;          /* the file as the media server sees it */
  char *client, *user, *device;
  char *session;       /* the server's player/session id, or NULL */
  int64_t position_ms; /* -1 = unknown */
  bool paused;         /* Jellyfin progress with IsPaused */
} rg_wh_event;

/* Parses a webhook request body whose Content-Type header is CONTENT_TYPE
 * (NULL when absent). On success returns 0 and *OUT (free with
 * rg_wh_event_free). Errors, with *CAUSE (malloc'd) for the person reading
 * the reply:
 *   -EINVAL      empty body, broken JSON, multipart without a payload/data
 *                field, no event name;
 *   -EMSGSIZE    larger than RG_WH_MAX_BODY;
 *   -ENOTSUP     a Content-Type no media server sends (image/png, …).
 * Leniency for Jellyfin templates: bare True/False/None, empty values, raw
 * control characters inside strings and trailing commas are accepted;
 * text/plain that is not JSON may be "Key: Value" or "Key=Value" lines. */
int rg_webhook_parse(const char *content_type, const uint8_t *body, size_t len,
                     rg_wh_event **out, char **cause);
void rg_wh_event_free(rg_wh_event **e);

const char *rg_wh_kind_name(rg_wh_kind k);
const char *rg_wh_server_name(rg_wh_server s);
/* The event as a JSON object (new reference). */
json_t *rg_wh_event_json(const rg_wh_event *e);

#endif
