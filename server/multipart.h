/* multipart.h — multipart/form-data (RFC 7578) and urlencoded forms. */
#ifndef RG_MULTIPART_H
#define RG_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

typedef struct rg_part {
  char name[128];         /* form field name ("" if none) */
  char filename[256];     /* "" if none */
  char content_type[128]; /* "" if none */
  const uint8_t *data;    /* points into the body */
  size_t len;
} rg_part;

/* Extracts the boundary parameter of a multipart Content-Type header into
 * OUT (quoted or not). 0 or -EINVAL (not multipart, no/overlong boundary). */
int rg_multipart_boundary(const char *content_type, char *out, size_t outlen);
/* Splits BODY into at most MAX parts. 0 (with *n set) or -EINVAL on a body
 * that is not well-formed multipart for BOUNDARY (no closing delimiter,
 * part without header end, …). Never reads outside BODY[0..LEN). */
int rg_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                       rg_part *parts, size_t max, size_t *n);
/* Value of field NAME in an application/x-www-form-urlencoded body (or a
 * query string), percent-decoded, malloc'd; NULL if absent or malformed. */
char *rg_form_get(const char *body, size_t len, const char *name);

#endif
