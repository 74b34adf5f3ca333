/* fuzz-magnet.c — rg_magnet_parse on arbitrary text, and the format/parse
 * round trip of whatever it accepts. */
#include "config.h"

#include "magnet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_list(char **a, size_t na, char **b, size_t nb) {
  if (na != nb)
    abort();
  for (size_t i = 0; i < na; i++)
    if (!a[i] || !b[i] || strcmp(a[i], b[i]) != 0)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = 0;

  rg_magnet m;
  char *cause = NULL;
  int rc = rg_magnet_parse(s, &m, &cause);
  if (rc != 0) {
    if (!cause || !*cause || m.name || m.trackers || m.peers)
      abort();
    free(cause);
    free(s);
    return 0;
  }
  if (cause || strlen(m.hex) != 40 || m.ntrackers > 64 || m.npeers > 64)
    abort();
  for (int i = 0; i < 40; i++) {
    static const char digits[] = "0123456789abcdef";
    int v = (m.ih[i / 2] >> (i % 2 ? 0 : 4)) & 15;
    if (m.hex[i] != digits[v])
      abort();
  }

  /* Round trip through rg_magnet_format. */
  char *link =
      rg_magnet_format(m.ih, m.name, (const char *const *)m.trackers,
                       m.ntrackers, (const char *const *)m.peers, m.npeers);
  rg_magnet m2;
  if (rg_magnet_parse(link, &m2, &cause) != 0)
    abort();
  if (memcmp(m.ih, m2.ih, 20) != 0 || strcmp(m.hex, m2.hex) != 0)
    abort();
  if (m.name && *m.name ? !m2.name || strcmp(m.name, m2.name) != 0
                        : m2.name != NULL)
    abort();
  same_list(m.trackers, m.ntrackers, m2.trackers, m2.ntrackers);
  same_list(m.peers, m.npeers, m2.peers, m2.npeers);
  rg_magnet_clear(&m2);
  free(link);
  rg_magnet_clear(&m);
  free(s);
  return 0;
}
