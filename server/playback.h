/* playback.h — what the media servers say is playing, matched to library
 * entries, driving the torrent manager's priority mode; the webhook token;
 * the last webhook events. Loop thread only.
 *
 * Routes (declared in http.h, implemented in playback.c):
 *   POST   /webhook?token=T     Plex, Jellyfin, Emby (auto-detected); 200
 *                               applied, 202 ignored/unmatched, 400 garbage,
 *                               401 token, 405 method, 413 > 1 MiB, 415 type
 *   GET    /api/playback        what is playing and the priority state
 *   DELETE /api/playback        ends every playing session now
 *   GET    /api/webhooks        {"url": ".../webhook?token=…"}
 *   GET    /api/webhooks/events the last 100 events, newest first */
#ifndef RG_PLAYBACK_H
#define RG_PLAYBACK_H

#include <stdbool.h>

#include "library.h"
#include "webhook.h"

typedef struct rg_playback rg_playback;
struct rg_app;

/* Sets up playback for APP (its conf, store, tm and library are used as they
 * are at each event; the library may be NULL). The webhook token is the
 * configured webhook_token, else the one stored in the settings table, else
 * a new one that is stored (and never logged). Applies
 * priority_background_kbps to the torrent manager. Free with
 * rg_playback_free (before the library and the torrent manager). */
rg_playback *rg_playback_new(struct rg_app *app, char **cause);
void rg_playback_free(rg_playback **pb);
/* Something is playing: background work (warmups, sync downloads) should
 * wait. */
bool rg_playback_priority(const rg_playback *pb);
const char *rg_playback_token(const rg_playback *pb);
/* Replaces the webhook token at once (the old one stops working). */
void rg_playback_set_token(rg_playback *pb, const char *token);

/* ---- matching, exposed for tests ---- */
/* PATH after the first matching mapping of MAPPINGS ("from=to;from2=to2",
 * prefixes, '\' read as '/'), malloc'd. */
char *rg_playback_map_path(const char *mappings, const char *path);
/* How well library entry E matches EV (MAPPED: EV's path after the mappings,
 * or NULL): 0 = no match; otherwise higher is better — an IMDb id beats a
 * TMDB id beats the path beats title+year / show+season+episode. *RULE
 * names the rule that matched ("imdb", "tmdb", "path", "title", "episode"). */
int rg_playback_score(const rg_lib_entry *e, const rg_wh_event *ev,
                      const char *mapped, const char **rule);

#endif
