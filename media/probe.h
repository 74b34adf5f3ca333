/* probe.h — what a media file holds, asked of libavformat through a
 * caller's read function (a custom AVIOContext: no temp files, no paths).
 * Any thread; one call per probe, nothing shared between calls. */
#ifndef RG_PROBE_H
#define RG_PROBE_H

#include <jansson.h>
#include <stdint.h>

#include "tail.h"

/* Sensible limits: a probe reads the head (and what the demuxer seeks to
 * at open, the tail regions), not the file. */
#define RG_PROBE_PROBESIZE 5000000       /* bytes */
#define RG_PROBE_ANALYZEDURATION 5000000 /* microseconds */

/* Probes a file of SIZE bytes read through READ(ARG, …) (count, 0 at EOF,
 * -errno). STOP(ARG), when given, is polled by libavformat's interrupt
 * callback: nonzero abandons the probe. Returns a new JSON object
 * {"container","format","duration","bitrate","title","chapters","streams":
 * [{index,type,codec,profile,…}]} or NULL and *CAUSE (malloc'd). */
json_t *rg_probe_json(int64_t size, rg_tail_read_fn read, int (*stop)(void *),
                      void *arg, char **cause);

#endif
