/* sync.h — the sync jobs (movies, tv, watchlist): scheduled runs that find
 * titles on TMDB and the Plex watchlist, search indexers (Prowlarr, Torznab,
 * Torrentio), rank releases, add the best as torrents with library entries
 * and upgrade them later, keeping each entry's path and inode. */
#ifndef RG_SYNC_H
#define RG_SYNC_H

struct rg_app;
typedef struct rg_sync rg_sync;

/* Creates the sync state (tables, schedule, torrent hooks, the scheduler
 * timer) on the loop thread, after the library. NULL + *cause on failure.
 * Free with rg_sync_free after the HTTP server stops: running jobs are told
 * to stop and waited for (bounded). */
rg_sync *rg_sync_new(struct rg_app *app, char **cause);
void rg_sync_free(rg_sync **s);

#endif
