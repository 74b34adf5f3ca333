/* http-range.h — RFC 9110 Range header parsing for one representation. */
#ifndef RG_HTTP_RANGE_H
#define RG_HTTP_RANGE_H

#include <stdint.h>

typedef struct rg_range {
  int64_t start; /* first byte */
  int64_t end;   /* last byte, inclusive */
} rg_range;

enum rg_range_result {
  RG_RANGE_FULL = 0,      /* no usable Range: answer 200 with the whole body */
  RG_RANGE_PARTIAL,       /* answer 206 with *out */
  RG_RANGE_UNSATISFIABLE, /* answer 416 with Content-Range: bytes * /SIZE */
};

/* Parses HEADER (may be NULL) against a body of SIZE bytes.
 * - "bytes=N-M", "bytes=N-", "bytes=-N" (suffix) per RFC 9110 14.1.2;
 *   M past the end is clamped; a suffix longer than the body is the body.
 * - Several ranges: answered as ONE range covering all satisfiable ones
 *   (VLC rejects multipart/byteranges).
 * - A header that does not parse, or another unit, is ignored (FULL).
 * - Syntactically valid but no range satisfiable (N >= SIZE, or
 *   "bytes=-0", or any range on an empty body): UNSATISFIABLE.
 * Never reads past the NUL; whitespace around commas and '=' tolerated. */
int rg_range_parse(const char *header, int64_t size, rg_range *out);

#endif
