/* fuzz-codecs.c — the CODECS string readers on arbitrary extradata: they
 * stay inside the bytes and the buffer, and always end the string; the
 * hvcC length reader and the parameter set stripper on the same bytes. */
#include "config.h"

#include "codecs.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 1 << 16)
    return 0;
  /* a copy of the exact size, so reading past the end is caught */
  uint8_t *e = malloc(size ? size : 1);
  memcpy(e, data, size);
  void (*fns[])(char *, size_t, const uint8_t *, int) = {
      rg_codecs_avc, rg_codecs_hevc, rg_codecs_av1};
  size_t caps[] = {1, 9, 48};
  for (size_t f = 0; f < 3; f++)
    for (size_t c = 0; c < 3; c++) {
      char *out = malloc(caps[c]);
      fns[f](out, caps[c], e, (int)size);
      if (!memchr(out, 0, caps[c]))
        abort();
      free(out);
    }
  /* the same bytes as an hvcC and as a packet to strip */
  int ls = rg_hvcc_length_size(e, (int)size);
  if (ls != -1 && ls != 1 && ls != 2 && ls != 4)
    abort();
  for (int l = 1; l <= 4; l++) {
    uint8_t *p = malloc(size ? size : 1);
    memcpy(p, data, size);
    long m = rg_hevc_strip_param_sets(p, size, l);
    if (m > (long)size || m < -1 || (m == -1 && memcmp(p, data, size)))
      abort();
    free(p);
  }
  free(e);
  return 0;
}
