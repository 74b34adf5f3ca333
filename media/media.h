/* media.h — the media layer: probing every library/video file with
 * libavformat over the reader core (no temp files), locating the tail
 * regions players read at open, and keeping the results in SQLite.
 *
 * Probes run on the media layer's own worker thread, one file at a time, in
 * the background after a torrent's metadata arrives (and for stored files
 * not probed yet at start). They never block a reader: they are readers. */
#ifndef RG_MEDIA_H
#define RG_MEDIA_H

#include <jansson.h>

#include "store.h"
#include "torrents.h"
#include "warmup.h"

typedef struct rg_media rg_media;

/* WARMUP may be NULL. Registers torrent hooks. NULL + *cause on failure. */
rg_media *rg_media_new(rg_store *store, rg_tm *tm, rg_warmup *warmup,
                       int read_timeout_s, char **cause);
/* Stops the worker (bounded) and frees. Loop thread. */
void rg_media_free(rg_media **m);
/* Queues a probe of (HASH, INDEX) now (e.g. the warmup API). */
void rg_media_request(rg_media *m, const char *hash, int index);
/* The stored probe of a file as JSON (new reference), or NULL if none yet:
 * {"container","duration","bitrate","streams":[{index,type,codec,profile,
 * width,height,hdr,channels,language,…}],"tail":[[off,len],…]}. */
json_t *rg_media_file_json(rg_media *m, const char *hash, int index);

#endif
