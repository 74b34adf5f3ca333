/* warmup.h — the warmup store: per library file, a persistent copy of the
 * head (first head_bytes) and of the tail regions players read at open
 * (Matroska Cues/Tags/…, an MP4 moov at the end), so a library scan and a
 * player's start never wait on the swarm.
 *
 * Each warm file is a sparse "mirror" of the original: byte N of the mirror
 * is byte N of the file, and only warm blocks take disk space. Which blocks
 * are valid is recorded in SQLite only after their bytes are durable
 * (written and fdatasync'ed), so a crash never leaves a torn entry that is
 * served. A total quota is kept by evicting whole files, least recently
 * used first.
 *
 * Threads: every function is for the loop thread; copies run on the store's
 * own worker thread and publish through rg_loop_call. */
#ifndef RG_WARMUP_H
#define RG_WARMUP_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "store.h"

/* Validity is kept per block of the original file; copies are whole blocks
 * (the last block of a file may be short). */
#define RG_WARMUP_BLOCK 65536

typedef struct rg_warmup rg_warmup;
struct rg_tm;

typedef struct rg_warmup_opts {
  rg_store *store;
  const char *dir;    /* e.g. <data_dir>/warm */
  int64_t quota;      /* bytes, default 32 GiB */
  int64_t head_bytes; /* default 64 MiB */
  int64_t fixed_tail; /* tail kept when no index is known, default 2 MiB */
} rg_warmup_opts;

/* Opens the store (creating its tables and DIR), drops mirror files that
 * hold no valid block, and starts the copy worker. A QUOTA ≤ 0 means the
 * default; a negative HEAD_BYTES or FIXED_TAIL too. NULL + *cause
 * (malloc'd) on failure. Free with rg_warmup_free. */
rg_warmup *rg_warmup_new(const rg_warmup_opts *o, char **cause);
/* Stops the copy worker (it finishes at most one 4 MiB copy), gives a fill
 * blocked on the swarm up to 2 s and then leaves it to end on its own (it
 * publishes nothing more), persists the LRU clock and frees. */
void rg_warmup_free(rg_warmup **w);

/* If byte OFF of file (HASH, INDEX) is warm: returns how many contiguous
 * warm bytes start there (≤ MAXLEN) and sets *PATH to the mirror file
 * (valid until the next call into the store; open it right away). 0 if
 * not warm. Counts as a use for the LRU. */
int64_t rg_warmup_lookup(rg_warmup *w, const char *hash, int index, int64_t off,
                         int64_t maxlen, const char **path);

/* [OFF, OFF+LEN) of (HASH, INDEX), a file of FILE_SIZE bytes, is readable
 * now in CACHE_PATH (the torrent's cache file, verified data): copy what of
 * it lies in the head or a tail region and isn't warm yet. */
void rg_warmup_offer(rg_warmup *w, const char *hash, int index,
                     int64_t file_size, const char *cache_path, int64_t off,
                     int64_t len);

/* The tail regions of a file (from the media layer's locator); until they
 * are known, the last fixed_tail bytes count as the tail. SPANS[i] =
 * {offset, length}. */
void rg_warmup_set_tail(rg_warmup *w, const char *hash, int index,
                        int64_t file_size, const int64_t (*spans)[2], int n);

/* The head and tail regions of a file, as spans (malloc'd, *n set). */
int64_t (*rg_warmup_regions(rg_warmup *w, const char *hash, int index,
                            int64_t file_size, int *n))[2];

/* On-demand fill: the head and tail regions of files INDEXES[0..N) (of
 * SIZES bytes) of torrent HASH that are not warm yet are read through the
 * reader core (rg_bread on TM, the torrent manager; each read waiting up to
 * TIMEOUT_S; missing pieces come from the swarm) on a fill thread and kept.
 * Returns the bytes queued (0: already warm, or the quota is full of newer
 * titles), -EINVAL, or -EBUSY when too many fills are queued. */
int64_t rg_warmup_fill(rg_warmup *w, struct rg_tm *tm, const char *hash,
                       const int *indexes, const int64_t *sizes, int n,
                       int timeout_s);

/* Copies queued or running, not yet published (0 when idle). */
int rg_warmup_pending(rg_warmup *w);

/* Tests only: copies are still written and fdatasync'ed but never
 * published, as when the daemon dies between the write and the publish. */
void rg_warmup_test_crash(rg_warmup *w, bool on);

/* Drops everything kept for torrent HASH. */
void rg_warmup_forget(rg_warmup *w, const char *hash);
/* Forgets a torrent's files when TM removes it (a torrent hook, removed
 * again by rg_warmup_free; TM must outlive the store). */
void rg_warmup_watch(rg_warmup *w, struct rg_tm *tm);

/* {"used":…, "quota":…, "files":…, "pending":bytes being copied,
 * "jobs":copies queued or running, "copied":bytes published since start,
 * "dropped":offers dropped (queue or quota full), "head_bytes":…,
 * "fixed_tail":…, "block":…} and per file {"head":bytes,"tail":bytes,
 * "regions":bytes, "complete":bool, "used":bytes, "tail_known":bool} (warm
 * bytes inside the head, inside the tail regions, the size of the regions).
 * New references. */
json_t *rg_warmup_usage_json(rg_warmup *w);
json_t *rg_warmup_file_json(rg_warmup *w, const char *hash, int index,
                            int64_t file_size);

#endif
