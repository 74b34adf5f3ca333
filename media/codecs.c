/* codecs.c — see codecs.h. Pure functions over bytes from media files. */
#include "config.h"

#include "codecs.h"

#include <stdio.h>
#include <string.h>

/* "avc1.PPCCLL" from the H.264 extradata (avcC or Annex B SPS). */
void rg_codecs_avc(char *out, size_t n, const uint8_t *e, int len) {
  if (n == 0)
    return;
  out[0] = 0;
  if (!e)
    return;
  if (len >= 4 && e[0] == 1) {
    snprintf(out, n, "avc1.%02x%02x%02x", e[1], e[2], e[3]);
    return;
  }
  for (int i = 0; i + 6 < len; i++)
    if (e[i] == 0 && e[i + 1] == 0 && e[i + 2] == 1 && (e[i + 3] & 0x1f) == 7) {
      snprintf(out, n, "avc1.%02x%02x%02x", e[i + 4], e[i + 5], e[i + 6]);
      return;
    }
}

/* "hvc1.P.C.TL.B…" (ISO/IEC 14496-15 annex E) from the 12 bytes of a
 * general profile_tier_level: space/tier/profile, 4 compatibility bytes,
 * 6 constraint bytes, level. */
static void hevc_ptl_codecs(char *out, size_t n, const uint8_t *p) {
  static const char *space[] = {"", "A", "B", "C"};
  uint32_t compat =
      (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4];
  uint32_t rev = 0;
  for (int i = 0; i < 32; i++)
    rev |= ((compat >> i) & 1u) << (31 - i);
  int len = snprintf(out, n, "hvc1.%s%d.%X.%c%d", space[p[0] >> 6], p[0] & 0x1f,
                     rev, (p[0] & 0x20) ? 'H' : 'L', p[11]);
  int last = 10; /* trailing zero constraint bytes are left out */
  while (last >= 5 && p[last] == 0)
    last--;
  for (int i = 5; i <= last && len > 0 && (size_t)len < n; i++)
    len += snprintf(out + len, n - (size_t)len, ".%X", p[i]);
}

/* The HEVC CODECS string from hvcC extradata or an Annex B SPS; "" when
 * neither is there. */
void rg_codecs_hevc(char *out, size_t n, const uint8_t *e, int len) {
  if (n == 0)
    return;
  out[0] = 0;
  if (!e)
    return;
  if (len >= 13 && e[0] == 1) {
    hevc_ptl_codecs(out, n, e + 1);
    return;
  }
  for (int i = 0; i + 5 < len; i++) {
    if (!(e[i] == 0 && e[i + 1] == 0 && e[i + 2] == 1 &&
          ((e[i + 3] >> 1) & 0x3f) == 33))
      continue;
    /* SPS: 2-byte NAL header, 1 byte of ids, then the PTL; drop the
     * emulation prevention bytes (00 00 03) on the way */
    uint8_t raw[16];
    int k = 0, zeros = 0;
    for (int q = i + 3; q < len && k < (int)sizeof raw; q++) {
      if (zeros >= 2 && e[q] == 3) {
        zeros = 0;
        continue;
      }
      zeros = e[q] == 0 ? zeros + 1 : 0;
      raw[k++] = e[q];
    }
    if (k >= 15)
      hevc_ptl_codecs(out, n, raw + 3);
    return;
  }
}

/* "av01.P.LLT.DD" from av1C extradata. */
void rg_codecs_av1(char *out, size_t n, const uint8_t *e, int len) {
  if (n == 0)
    return;
  out[0] = 0;
  if (!e || len < 4 || e[0] != 0x81)
    return;
  int depth = (e[2] & 0x20) ? 12 : (e[2] & 0x40) ? 10 : 8;
  snprintf(out, n, "av01.%d.%02d%c.%02d", e[1] >> 5, e[1] & 0x1f,
           (e[2] & 0x80) ? 'H' : 'M', depth);
}

int rg_hvcc_length_size(const uint8_t *e, int len) {
  /* configurationVersion 1; byte 21: lengthSizeMinusOne in its low 2 bits;
   * byte 22: numOfArrays */
  if (!e || len < 23 || e[0] != 1 || e[22] == 0)
    return -1;
  int ls = (e[21] & 3) + 1;
  return ls == 3 ? -1 : ls;
}

long rg_hevc_strip_param_sets(uint8_t *p, size_t n, int len_size) {
  if (!p || len_size < 1 || len_size > 4 || len_size == 3)
    return -1;
  /* first pass: the packet parses to its end */
  for (size_t i = 0; i < n;) {
    if (n - i < (size_t)len_size)
      return -1;
    size_t u = 0;
    for (int k = 0; k < len_size; k++)
      u = u << 8 | p[i + (size_t)k];
    i += (size_t)len_size;
    if (u < 2 || u > n - i)
      return -1;
    i += u;
  }
  size_t w = 0;
  for (size_t i = 0; i < n;) {
    size_t u = 0;
    for (int k = 0; k < len_size; k++)
      u = u << 8 | p[i + (size_t)k];
    size_t whole = (size_t)len_size + u;
    int type = (p[i + (size_t)len_size] >> 1) & 0x3f;
    if (type < 32 || type > 34) {
      memmove(p + w, p + i, whole);
      w += whole;
    }
    i += whole;
  }
  return (long)w;
}
