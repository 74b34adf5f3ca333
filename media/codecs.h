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

/* HEVC under the fMP4 tag hvc1 keeps its parameter sets in hvcC only;
 * releases muxed from encoders with repeated headers carry VPS/SPS/PPS in
 * every keyframe too. */
/* The NAL length size (1, 2 or 4) of hvcC extradata E that holds at least
 * one parameter set array; -1 when E is not such an hvcC (Annex B, empty,
 * short). */
int rg_hvcc_length_size(const uint8_t *e, int len);
/* Removes the VPS, SPS and PPS NAL units (types 32-34) from packet P of N
 * bytes in hvcC layout (each unit behind its LEN_SIZE-byte big-endian
 * length), in place. The new size (0: nothing else was in it), or -1 when
 * the packet does not parse, left as it was. */
long rg_hevc_strip_param_sets(uint8_t *p, size_t n, int len_size);

#endif
