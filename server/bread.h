/* bread.h — a blocking reader over the reader core, for worker threads
 * (libavformat probing, HLS remuxing, warmup fills). Each call hands the
 * work to the loop thread (rg_loop_call) and waits, bounded by the read
 * timeout plus a margin. Never call from the loop thread. */
#ifndef RG_BREAD_H
#define RG_BREAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "torrents.h"

typedef struct rg_bread rg_bread;

/* Opens file INDEX of torrent HASH. 0 or -errno (-ENOENT, -EAGAIN when the
 * metadata is unknown, -ETIMEDOUT, -ESHUTDOWN). Free with rg_bread_close. */
int rg_bread_open(rg_tm *tm, const char *hash, int index, int timeout_s,
                  rg_bread **out);
/* The same; BACKGROUND readers (probes, warmup copies) yield to players
 * reading the same torrent (rg_reader_set_background). */
int rg_bread_open_ex(rg_tm *tm, const char *hash, int index, int timeout_s,
                     bool background, rg_bread **out);
/* Reads up to LEN bytes at OFF (fewer only at EOF or when fewer are
 * available at once; loop for more). Returns the count, 0 at EOF, -errno. */
ssize_t rg_bread_pread(rg_bread *b, void *buf, size_t len, int64_t off);
/* Reads exactly LEN bytes unless EOF comes first. */
ssize_t rg_bread_pread_full(rg_bread *b, void *buf, size_t len, int64_t off);
int64_t rg_bread_size(const rg_bread *b);
void rg_bread_close(rg_bread **b);

#endif
