/* test-codecs.c — CODECS strings from avcC, hvcC, av1C and Annex B SPS
 * bytes, and what comes out of too little, garbage or a short buffer. */
#include "config.h"

#include "codecs.h"
#include "tap.h"

#include <string.h>

typedef void (*fn)(char *, size_t, const uint8_t *, int);

static const char *run(fn f, const uint8_t *e, int len, size_t cap) {
  static char out[64];
  memset(out, 'x', sizeof out);
  f(out, cap, e, len);
  return out;
}

int main(void) {
  static const uint8_t avcc[] = {0x01, 0x64, 0x00, 0x28, 0xff, 0xe1};
  is_str(run(rg_codecs_avc, avcc, sizeof avcc, 64), "avc1.640028", "avcC High 4.0");
  static const uint8_t avc_annexb[] = {0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1e, 0x95};
  is_str(run(rg_codecs_avc, avc_annexb, sizeof avc_annexb, 64), "avc1.42c01e",
         "Annex B SPS, Constrained Baseline 3.0");
  static const uint8_t avc_none[] = {0, 0, 1, 0x68, 0xce, 0x38, 0x80};
  is_str(run(rg_codecs_avc, avc_none, sizeof avc_none, 64), "", "a PPS only: nothing");
  is_str(run(rg_codecs_avc, avcc, 3, 64), "", "avcC cut to 3 bytes: nothing");

  /* hvcC: version 1, then the 12-byte general profile_tier_level */
  static const uint8_t hvcc_main[] = {0x01, 0x01, 0x60, 0x00, 0x00, 0x00, 0x90,
                                      0x00, 0x00, 0x00, 0x00, 0x00, 0x5d, 0xf0};
  is_str(run(rg_codecs_hevc, hvcc_main, sizeof hvcc_main, 64), "hvc1.1.6.L93.90",
         "hvcC Main, level 3.1");
  static const uint8_t hvcc_10[] = {0x01, 0x22, 0x20, 0x00, 0x00, 0x00, 0xb0,
                                    0x00, 0x00, 0x00, 0x00, 0x00, 0x99};
  is_str(run(rg_codecs_hevc, hvcc_10, sizeof hvcc_10, 64), "hvc1.2.4.H153.B0",
         "hvcC Main 10, high tier, level 5.1");
  static const uint8_t hvcc_space[] = {0x01, 0x41, 0x60, 0x00, 0x00, 0x00, 0x90,
                                       0x12, 0x00, 0x00, 0x00, 0x00, 0x5d};
  is_str(run(rg_codecs_hevc, hvcc_space, sizeof hvcc_space, 64),
         "hvc1.A1.6.L93.90.12", "profile space 1 and two constraint bytes");
  /* Annex B SPS with emulation prevention bytes (00 00 03) inside the PTL */
  static const uint8_t hevc_sps[] = {0x00, 0x00, 0x01, 0x42, 0x01, 0x01, 0x01,
                                     0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00,
                                     0x00, 0x03, 0x00, 0x00, 0x03, 0x00, 0x5d};
  is_str(run(rg_codecs_hevc, hevc_sps, sizeof hevc_sps, 64), "hvc1.1.6.L93.90",
         "Annex B SPS, escapes removed");
  is_str(run(rg_codecs_hevc, hevc_sps, 12, 64), "", "an SPS cut short: nothing");
  is_str(run(rg_codecs_hevc, hvcc_main, 12, 64), "", "hvcC cut to 12 bytes: nothing");

  static const uint8_t av1c8[] = {0x81, 0x08, 0x0c, 0x00};
  is_str(run(rg_codecs_av1, av1c8, sizeof av1c8, 64), "av01.0.08M.08", "av1C 8-bit");
  static const uint8_t av1c10[] = {0x81, 0x2d, 0xcc, 0x00};
  is_str(run(rg_codecs_av1, av1c10, sizeof av1c10, 64), "av01.1.13H.10",
         "av1C profile 1, level 13, high tier, 10-bit");
  static const uint8_t av1bad[] = {0x80, 0x08, 0x0c, 0x00};
  is_str(run(rg_codecs_av1, av1bad, sizeof av1bad, 64), "", "not av1C: nothing");

  is_str(run(rg_codecs_hevc, NULL, 0, 64), "", "no extradata");
  is_str(run(rg_codecs_av1, NULL, 0, 64), "", "no extradata (av1)");
  const char *s = run(rg_codecs_hevc, hvcc_space, sizeof hvcc_space, 8);
  is_str(s, "hvc1.A1", "an 8-byte buffer: cut, NUL-terminated");
  s = run(rg_codecs_avc, avcc, sizeof avcc, 1);
  is_str(s, "", "a 1-byte buffer: empty");

  /* hvcC length size: byte 21 low bits + 1, and only with arrays */
  uint8_t hv[23] = {1};
  hv[21] = 0xff; /* lengthSizeMinusOne 3 */
  hv[22] = 3;
  is_int(rg_hvcc_length_size(hv, 23), 4, "hvcC: NAL lengths of 4 bytes");
  hv[21] = 0xfd;
  is_int(rg_hvcc_length_size(hv, 23), 2, "hvcC: NAL lengths of 2 bytes");
  hv[21] = 0xfe;
  is_int(rg_hvcc_length_size(hv, 23), -1, "hvcC: 3-byte lengths are not allowed");
  hv[21] = 0xff;
  hv[22] = 0;
  is_int(rg_hvcc_length_size(hv, 23), -1, "hvcC without parameter set arrays");
  is_int(rg_hvcc_length_size(hv, 22), -1, "hvcC cut short");
  static const uint8_t annexb[23] = {0, 0, 0, 1, 0x40, 0x01};
  is_int(rg_hvcc_length_size(annexb, 23), -1, "Annex B extradata is not hvcC");

  /* a keyframe with VPS, SPS, PPS, an SEI and the IDR slice */
  uint8_t pkt[] = {0, 0, 0, 3, 0x40, 0x01, 0xaa,        /* VPS (32) */
                   0, 0, 0, 3, 0x42, 0x01, 0xbb,        /* SPS (33) */
                   0, 0, 0, 2, 0x44, 0x01,              /* PPS (34) */
                   0, 0, 0, 3, 0x4e, 0x01, 0xcc,        /* prefix SEI (39) */
                   0, 0, 0, 4, 0x26, 0x01, 0xdd, 0xee}; /* IDR_W_RADL (19) */
  static const uint8_t want[] = {0, 0, 0, 3, 0x4e, 0x01, 0xcc,
                                 0, 0, 0, 4, 0x26, 0x01, 0xdd, 0xee};
  long m = rg_hevc_strip_param_sets(pkt, sizeof pkt, 4);
  ok(m == (long)sizeof want && !memcmp(pkt, want, sizeof want),
     "VPS, SPS and PPS removed, the SEI and the slice kept in order");
  uint8_t ps_only[] = {0, 3, 0x40, 0x01, 0xaa, 0, 2, 0x44, 0x01};
  is_int(rg_hevc_strip_param_sets(ps_only, sizeof ps_only, 2), 0,
         "a packet of parameter sets only: nothing left");
  uint8_t bad[] = {0, 0, 0, 9, 0x40, 0x01, 0xaa};
  uint8_t keep[sizeof bad];
  memcpy(keep, bad, sizeof bad);
  ok(rg_hevc_strip_param_sets(bad, sizeof bad, 4) == -1 &&
         !memcmp(bad, keep, sizeof bad),
     "a length past the end: -1, the packet untouched");
  uint8_t slice[] = {0, 0, 0, 2, 0x02, 0x01};
  is_int(rg_hevc_strip_param_sets(slice, sizeof slice, 4), 6,
         "a packet without parameter sets: unchanged");
  is_int(rg_hevc_strip_param_sets(slice, 3, 4), -1, "a length cut short: -1");
  return tap_done();
}
