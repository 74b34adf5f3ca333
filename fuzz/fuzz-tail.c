/* fuzz-tail.c — rg_tail_locate over arbitrary bytes held in memory: it must
 * stay within its read budget, never ask past the file, and return sorted,
 * disjoint spans inside the file (or none). */
#include "config.h"

#include "tail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem {
  const uint8_t *p;
  size_t n;
  int reads;
} mem;

static ssize_t mem_read(void *arg, void *buf, size_t len, int64_t off) {
  mem *m = arg;
  m->reads++;
  if (len == 0 || len > RG_TAIL_MAX_READ || off < 0 || (uint64_t)off >= m->n)
    abort(); /* rg_tail_locate clamps its reads to the file */
  if (len > m->n - (size_t)off)
    len = m->n - (size_t)off;
  /* hand out short reads now and then: callers must loop */
  if (len > 1 && (m->p[off] & 0x0F) == 0x0F)
    len /= 2;
  memcpy(buf, m->p + off, len);
  return (ssize_t)len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  mem m = {data, size, 0};
  int64_t spans[8][2];
  char *cause = NULL;
  int n = rg_tail_locate((int64_t)size, mem_read, &m, spans, 8, &cause);
  if (n < 0 || n > 8 || m.reads > RG_TAIL_MAX_READS)
    abort();
  if (n > 0 && cause)
    abort();
  for (int i = 0; i < n; i++) {
    if (spans[i][0] < 0 || spans[i][1] <= 0 ||
        spans[i][0] + spans[i][1] > (int64_t)size)
      abort();
    if (i > 0 && spans[i][0] < spans[i - 1][0] + spans[i - 1][1])
      abort();
  }
  free(cause);
  /* deterministic */
  mem m2 = {data, size, 0};
  int64_t again[8][2];
  int n2 = rg_tail_locate((int64_t)size, mem_read, &m2, again, 8, NULL);
  if (n2 != n || (n > 0 && memcmp(spans, again, sizeof spans[0] * n) != 0))
    abort();
  return 0;
}
