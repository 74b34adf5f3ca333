/* fuzz-range.c — rg_range_parse on arbitrary headers and sizes.
 * Input: 8 bytes of body size (little-endian; the top bit cleared, and small
 * sizes favoured by the low byte), then the header text. */
#include "config.h"

#include "http-range.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 8)
    return 0;
  uint64_t raw = 0;
  for (int i = 0; i < 8; i++)
    raw |= (uint64_t)data[i] << (8 * i);
  int64_t body;
  switch (raw & 3) { /* mix tiny, 32-bit-edge and arbitrary sizes */
  case 0:
    body = (int64_t)((raw >> 2) & 0xff);
    break;
  case 1:
    body = (int64_t)0xffffffff + (int64_t)((raw >> 2) & 0xff) - 128;
    break;
  default:
    body = (int64_t)(raw >> 2);
    break;
  }
  char *h = malloc(size - 8 + 1);
  memcpy(h, data + 8, size - 8);
  h[size - 8] = 0;

  rg_range r = {-1, -1};
  int rc = rg_range_parse(h, body, &r);
  switch (rc) {
  case RG_RANGE_PARTIAL:
    if (!(0 <= r.start && r.start <= r.end && r.end < body))
      abort();
    break;
  case RG_RANGE_FULL:
  case RG_RANGE_UNSATISFIABLE:
    if (r.start != -1 || r.end != -1) /* OUT untouched */
      abort();
    break;
  default:
    abort();
  }
  if (body == 0 && rc == RG_RANGE_PARTIAL)
    abort();
  /* A bigger body never makes a satisfiable range unsatisfiable. */
  if (rc == RG_RANGE_PARTIAL && body < INT64_MAX &&
      rg_range_parse(h, body + 1, NULL) != RG_RANGE_PARTIAL)
    abort();
  /* Deterministic. */
  rg_range r2 = {-1, -1};
  if (rg_range_parse(h, body, &r2) != rc || r2.start != r.start ||
      r2.end != r.end)
    abort();
  free(h);
  return 0;
}
