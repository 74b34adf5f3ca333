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
#include <stdint.h>

#include "store.h"

typedef struct rg_warmup rg_warmup;

typedef struct rg_warmup_opts {
  rg_store *store;
  const char *dir;    /* e.g. <data_dir>/warm */
  int64_t quota;      /* bytes, default 32 GiB */
  int64_t head_bytes; /* default 64 MiB */
  int64_t fixed_tail; /* tail kept when no index is known, default 2 MiB */
} rg_warmup_opts;

rg_warmup *rg_warmup_new(const rg_warmup_opts *o, char **cause);
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

/* Drops everything kept for torrent HASH. */
void rg_warmup_forget(rg_warmup *w, const char *hash);

/* {"used":…, "quota":…, "files":…} and per file {"head":bytes,"tail":bytes,
 * "regions":bytes, "complete":bool}. New references. */
json_t *rg_warmup_usage_json(rg_warmup *w);
json_t *rg_warmup_file_json(rg_warmup *w, const char *hash, int index,
                            int64_t file_size);

#endif
