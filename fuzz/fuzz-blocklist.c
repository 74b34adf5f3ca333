/* fuzz-blocklist.c — rg_blocklist_parse on arbitrary bytes (text or gzip):
 * never crashes, every range it accepts is ordered, and the counts add up. */
#include "config.h"

#include "blocklist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rg_bl_parsed p;
  memset(&p, 0, sizeof p);
  char *cause = NULL;
  int rc = rg_blocklist_parse(data, size, &p, &cause);
  if (rc != 0 && !cause)
    abort();
  for (size_t i = 0; i < p.n; i++) {
    const rg_ip_range *r = &p.ranges[i];
    if (r->family != 4 && r->family != 6)
      abort();
    if (memcmp(r->first, r->last, r->family == 4 ? 4 : 16) > 0)
      abort();
  }
  if ((int64_t)p.n + p.rejected + p.allowed != p.lines)
    abort();
  free(cause);
  rg_bl_parsed_clear(&p);
  return 0;
}
