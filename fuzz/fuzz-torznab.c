/* fuzz-torznab.c — libFuzzer target for the Torznab RSS parser. */
#include "config.h"

#include "clients.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* an exact-size copy so ASan sees any read past the end */
  char *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  memcpy(buf, data, size);
  rg_cands c = {0};
  char *cause = NULL;
  rg_torznab_parse(buf, size, &c, &cause);
  for (size_t i = 0; i < c.n; i++)
    if (c.v[i].name)
      (void)strlen(c.v[i].name);
  free(cause);
  rg_cands_clear(&c);
  free(buf);
  return 0;
}
