/* tail.h — where a media file keeps, past its media data, the bytes players
 * read at open (and at the first seek): for Matroska the elements the
 * SeekHead points to after the first Cluster (Cues, Tags, Chapters,
 * Attachments, a second SeekHead), for MP4/MOV a `moov` box after `mdat`.
 *
 * Pure parsing over a caller's read function: a bounded number of small
 * reads (each ≤ 64 KiB), never the whole file, safe on any bytes. */
#ifndef RG_TAIL_H
#define RG_TAIL_H

#include <stdint.h>
#include <sys/types.h>

/* Largest single read rg_tail_locate asks for, and how many it makes at most.
 */
#define RG_TAIL_MAX_READ 65536
#define RG_TAIL_MAX_READS 48

typedef ssize_t (*rg_tail_read_fn)(void *arg, void *buf, size_t len,
                                   int64_t off);

/* Finds the tail regions of a file of SIZE bytes read through READ(ARG, …)
 * (which returns the count read, 0 at EOF, or -errno; short counts are
 * retried). Fills up to MAX SPANS[i] = {offset, length}, sorted by offset,
 * inside [0, SIZE), and returns how many:
 *  - n > 0: these spans are the tail;
 *  - 0 with *CAUSE left NULL: the container was understood and nothing past
 *    the media data is read at open (cues at the front, MP4 faststart);
 *  - 0 with *CAUSE set (malloc'd): unknown container or a doubt while
 *    parsing — the caller falls back to a fixed tail;
 *  - -errno (and *CAUSE) when READ failed.
 * CAUSE may be NULL. */
int rg_tail_locate(int64_t size, rg_tail_read_fn read, void *arg,
                   int64_t (*spans)[2], int max, char **cause);

#endif
