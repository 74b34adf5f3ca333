/* fuzz-release.c — rg_release_parse on arbitrary bytes: it must stay inside
 * the name, and what it returns must be well formed. */
#include "config.h"

#include "release.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void bounded(const char *s, size_t cap) {
  if (memchr(s, 0, cap) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = 0;

  rg_release r;
  bool ok = rg_release_parse(s, &r);
  bounded(r.title, sizeof r.title);
  bounded(r.source, sizeof r.source);
  bounded(r.codec, sizeof r.codec);
  if (ok != (r.title[0] != 0))
    abort();
  if (r.year != 0 && (r.year < 1900 || r.year > 2099))
    abort();
  if (r.season < -1 || r.episode < -1)
    abort();
  if (r.episode >= 0 && r.season < 0)
    abort();
  if (r.resolution != 0 && r.resolution != 480 && r.resolution != 720 &&
      r.resolution != 1080 && r.resolution != 2160)
    abort();
  /* the title never starts or ends with a space */
  size_t tl = strlen(r.title);
  if (tl && (r.title[0] == ' ' || r.title[tl - 1] == ' '))
    abort();
  /* deterministic */
  rg_release r2;
  if (rg_release_parse(s, &r2) != ok || memcmp(&r, &r2, sizeof r) != 0)
    abort();
  free(s);
  return 0;
}
