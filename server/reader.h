/* reader.h — the reader core shared by HTTP, FUSE and HLS.
 *
 * A reader reads one file of one torrent. Each reader owns a sliding window
 * over the torrent's pieces: deadlines on the next few pieces, a read-ahead
 * window sized by the stream's bitrate, and nothing outside the windows of
 * all readers gets priority. A read is answered with a span of the cache file
 * (an fd and an offset) as soon as its first piece is verified on disk, so
 * callers can sendfile/splice it without copying. Loop thread only. */
#ifndef RG_READER_H
#define RG_READER_H

#include <stddef.h>
#include <stdint.h>

#include "torrents.h"

typedef struct rg_reader rg_reader;

/* ERR is 0 or -errno (-ETIMEDOUT: the data did not come within
 * read_timeout_s; -ENOENT: torrent removed; -ECANCELED never reaches CB).
 * On success FD holds LEN (≥1, ≤ asked) readable bytes at OFF (the file
 * offset asked for). FD belongs to the reader: dup() it to keep it. LEN is 0
 * only at or past the end of the file. */
typedef void (*rg_read_cb)(void *arg, int err, int fd, int64_t off,
                           size_t len);

/* Opens a reader on file INDEX. 0, -ENOENT (no such file), -EAGAIN (no
 * metadata yet). Free with rg_reader_close. */
int rg_reader_open(rg_tm *tm, rg_torrent *t, int index, rg_reader **out);
/* Cancels any pending read (its callback is not called) and frees. */
void rg_reader_close(rg_reader **r);
/* Asks for [OFF, OFF+LEN). CB is always called later from the loop, never
 * before this returns; one read at a time per reader (-EBUSY otherwise). */
int rg_reader_read(rg_reader *r, int64_t off, size_t len, rg_read_cb cb,
                   void *arg);
/* Cancels the pending read, if any; its callback is not called. */
void rg_reader_cancel(rg_reader *r);
int64_t rg_reader_size(const rg_reader *r);
/* Caps this reader's read-ahead window (bytes; 0 = the configured one).
 * Probes and index reads want what they ask for, not a window behind it. */
void rg_reader_set_readahead(rg_reader *r, int64_t bytes);
/* A background reader (a probe, a warmup copy) yields to players on the
 * same torrent: lower priorities and later deadlines for its window. */
void rg_reader_set_background(rg_reader *r, bool background);
/* Tells the reader the stream's bitrate (bytes/s) to size its window. */
void rg_reader_set_bitrate(rg_reader *r, int64_t bytes_per_s);

/* What a reader is doing, for the API and the dashboard. */
typedef struct rg_reader_info {
  int file;
  int64_t position;     /* the end of the last delivered span */
  int64_t window_start; /* byte of the file the window starts at, -1 none */
  int64_t window_bytes;
  int64_t bytes_warm, bytes_cache, bytes_swarm; /* delivered, by source */
} rg_reader_info;

/* Fills up to MAX entries for T's open readers; returns how many there are. */
int rg_torrent_readers(rg_torrent *t, rg_reader_info *out, int max);

#endif
