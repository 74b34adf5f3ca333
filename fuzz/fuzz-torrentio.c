/* fuzz-torrentio.c — libFuzzer target for Torrentio stream lists: the JSON
 * and the release titles and "👤 seeders 💾 size" lines inside them. */
#include "config.h"

#include "clients.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_error_t err;
  json_t *root = json_loadb((const char *)data, size, 0, &err);
  if (!root)
    return 0;
  rg_cands c = {0};
  char *cause = NULL;
  rg_torrentio_parse(root, &c, &cause);
  for (size_t i = 0; i < c.n; i++)
    if (c.v[i].name)
      (void)strlen(c.v[i].name);
  free(cause);
  rg_cands_clear(&c);
  json_decref(root);
  return 0;
}
