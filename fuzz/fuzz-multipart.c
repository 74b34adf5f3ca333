/* fuzz-multipart.c — rg_multipart_boundary, rg_multipart_parse and
 * rg_form_get. Input: a Content-Type line, '\n', then the body. The body is
 * copied into an exact-size buffer (not NUL-terminated) so ASan catches any
 * read past it. */
#include "config.h"

#include "multipart.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(const char *s, size_t cap) {
  if (!memchr(s, 0, cap))
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nl = memchr(data, '\n', size);
  size_t ctlen = nl ? (size_t)(nl - data) : 0;
  size_t off = nl ? ctlen + 1 : 0;
  char *ct = malloc(ctlen + 1);
  memcpy(ct, data, ctlen);
  ct[ctlen] = 0;
  size_t blen = size - off;
  uint8_t *body = malloc(blen ? blen : 1);
  memcpy(body, data + off, blen);

  char boundary[71];
  if (rg_multipart_boundary(ct, boundary, sizeof boundary) == 0) {
    size_t n = strlen(boundary);
    if (n == 0 || n > 70)
      abort();
  } else {
    strcpy(boundary, "B");
  }

  rg_part parts[8];
  size_t n = 12345;
  int rc = rg_multipart_parse(body, blen, boundary, parts, 8, &n);
  if (rc != 0 && rc != -22)
    abort();
  if (rc == 0) {
    if (n > 8)
      abort();
    for (size_t i = 0; i < n; i++) {
      check_str(parts[i].name, sizeof parts[i].name);
      check_str(parts[i].filename, sizeof parts[i].filename);
      check_str(parts[i].content_type, sizeof parts[i].content_type);
      if (parts[i].data < body || parts[i].len > blen ||
          (size_t)(parts[i].data - body) > blen - parts[i].len)
        abort();
      if (i && parts[i].data < parts[i - 1].data + parts[i - 1].len)
        abort(); /* parts are in order and don't overlap */
    }
  } else if (n != 0) {
    abort();
  }

  /* The same bytes as a urlencoded form. */
  static const char *const names[] = {"payload", "data", "a", ""};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char *v = rg_form_get((const char *)body, blen, names[i]);
    if (v && strlen(v) > blen)
      abort();
    free(v);
  }
  free(body);
  free(ct);
  return 0;
}
