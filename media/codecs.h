/* codecs.h — RFC 6381 CODECS strings for HLS playlists, read from a video
 * stream's codec extradata (bytes that come from the media file: outside
 * input, fuzzed by fuzz/fuzz-codecs). Each writes a NUL-terminated string
 * of at most N-1 bytes into OUT, "" when the extradata says nothing usable;
 * E may be NULL. */
#ifndef RG_CODECS_H
#define RG_CODECS_H

#include <stddef.h>
#include <stdint.h>

/* "avc1.PPCCLL" from avcC or an Annex B SPS. */
void rg_codecs_avc(char *out, size_t n, const uint8_t *e, int len);
/* "hvc1.P.C.TL.B…" from hvcC or an Annex B SPS. */
void rg_codecs_hevc(char *out, size_t n, const uint8_t *e, int len);
/* "av01.P.LLT.DD" from av1C. */
void rg_codecs_av1(char *out, size_t n, const uint8_t *e, int len);

#endif
