/* torrents.h — the torrent manager: every torrent the daemon knows, whether
 * or not it is in the libtorrent session right now. Owns activation (from the
 * stored info dict, never a second metadata fetch), idle eviction, the
 * activation cap, the storage budget and our own record of which pieces are
 * on disk. Loop thread only. */
#ifndef RG_TORRENTS_H
#define RG_TORRENTS_H

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "magnet.h"
#include "store.h"

typedef struct rg_tm rg_tm;
typedef struct rg_torrent rg_torrent;

typedef struct rg_tm_opts {
  struct event_base *base;
  rg_engine *engine;
  rg_store *store;
  const char *cache_dir;
  int64_t budget_bytes; /* 0 = unlimited */
  int read_timeout_s, idle_timeout_s, metadata_timeout_s;
  int readahead_mb;
  int max_active;
} rg_tm_opts;

rg_tm *rg_tm_new(const rg_tm_opts *o);
/* Persists state and frees everything (readers must be closed first). */
void rg_tm_free(rg_tm **tm);
/* At shutdown, on the loop thread: every read waiting on the swarm fails
 * now with -ESHUTDOWN, and later reads fail at once, so workers and FUSE
 * callers blocked on a stalled torrent return instead of waiting out the
 * read timeout. */
void rg_tm_stop_reads(rg_tm *tm);
bool rg_tm_stopping(const rg_tm *tm);
/* Loads the stored torrents (none is activated until read). */
int rg_tm_load(rg_tm *tm);

/* Adds by magnet/hash. *existed is set when already known (then TITLE, if
 * given, replaces the title; a failed metadata fetch is retried). */
int rg_tm_add_magnet(rg_tm *tm, const rg_magnet *m, const char *link,
                     const char *title, rg_torrent **out, bool *existed,
                     char **cause);
/* Adds a .torrent file's bytes. */
int rg_tm_add_torrent_file(rg_tm *tm, const uint8_t *buf, size_t len,
                           const char *title, rg_torrent **out, bool *existed,
                           char **cause);
rg_torrent *rg_tm_find(rg_tm *tm, const char *hex);
/* Removes the torrent (its data too when DELETE_DATA). Open readers get
 * -ENOENT on their next read. */
int rg_tm_remove(rg_tm *tm, rg_torrent *t, bool delete_data);
/* Hooks for other subsystems (the library): called on the loop thread when
 * a torrent's metadata becomes known (also for a .torrent add) and just
 * before a torrent is removed. */
typedef struct rg_tm_hooks {
  void (*on_metadata)(rg_torrent *t, void *arg);
  void (*on_removed)(rg_torrent *t, void *arg);
  void *arg;
} rg_tm_hooks;
/* Up to 8 subscribers; each is called in the order added. */
void rg_tm_add_hooks(rg_tm *tm, const rg_tm_hooks *h);
/* Removes the subscribers whose arg is ARG. */
void rg_tm_remove_hooks(rg_tm *tm, void *arg);

/* Priority mode (webhooks: someone pressed Play). While at least one torrent
 * is playing, playing torrents get a 4x read-ahead window and up to 4x the
 * connections, and every other active torrent's download is limited to
 * BACKGROUND_BPS bytes/s (0 = paused). Turning it off lets the torrent leave
 * the session GRACE_S seconds after its last read (a fast drop), unless
 * another reader keeps it. */
void rg_tm_set_playing(rg_tm *tm, rg_torrent *t, bool playing, int grace_s);
bool rg_torrent_playing(const rg_torrent *t);
void rg_tm_set_background_limit(rg_tm *tm, int background_bps);

/* The warmup store readers consult first (NULL = none). Not owned. */
struct rg_warmup;
void rg_tm_set_warmup(rg_tm *tm, struct rg_warmup *w);
struct rg_warmup *rg_tm_warmup(rg_tm *tm);

/* Calls CB for every torrent, in the order they were added. */
void rg_tm_each(rg_tm *tm, void (*cb)(rg_torrent *t, void *arg), void *arg);

typedef struct rg_tm_stats {
  int torrents, active, queued;
  int64_t metadata_fetches; /* metadata fetches started since start */
  int64_t cache_bytes, budget_bytes;
} rg_tm_stats;
void rg_tm_stats_get(rg_tm *tm, rg_tm_stats *s);

const char *rg_torrent_hex(const rg_torrent *t);
/* The name: the info dict's once the metadata is known, a magnet's dn=
 * before (may be NULL). */
const char *rg_torrent_name(const rg_torrent *t);
/* The title a person or a sync job gave it (may be NULL). */
const char *rg_torrent_title(const rg_torrent *t);
/* NULL until metadata is known. */
const rg_tinfo *rg_torrent_info(const rg_torrent *t);
bool rg_torrent_active(const rg_torrent *t);
/* The last error (metadata timeout, file error), or NULL. */
const char *rg_torrent_error(const rg_torrent *t);
int64_t rg_torrent_added(const rg_torrent *t);
/* Live status when active; otherwise built from what is on disk. */
void rg_torrent_status(rg_torrent *t, rg_tstatus *st);
/* Verified bytes of file INDEX that are on disk. */
int64_t rg_torrent_file_done(rg_torrent *t, int index);
/* Absolute path of file INDEX in the cache dir (malloc'd). */
char *rg_torrent_file_path(rg_torrent *t, int index);

#endif
