/* fuzz-codecs.c — the CODECS string readers on arbitrary extradata: they
 * stay inside the bytes and the buffer, and always end the string. */
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
  free(e);
  return 0;
}
