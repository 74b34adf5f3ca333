/* multipart.c — multipart/form-data (RFC 7578 over RFC 2046) and
 * application/x-www-form-urlencoded bodies, for webhooks and uploads.
 *
 * Parts are not copied: rg_part.data points into the caller's body. A
 * delimiter is "--BOUNDARY" at the very start of the body or right after a
 * CRLF, followed by "--" (the close delimiter) or by optional spaces/tabs and
 * a CRLF. Bytes that look like a delimiter but are followed by anything else
 * are part data, so binary parts survive. Line ends must be CRLF. Header
 * parameters are token or quoted-string values; inside quotes only \" and \\
 * are escapes (browsers send Windows paths with bare backslashes). Every read
 * is bounded by LEN; the body need not be NUL-terminated. */
#include "config.h"

#include "multipart.h"

#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#define RG_BOUNDARY_MAX 70 /* RFC 2046 5.1.1 */

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static bool ieq(const char *a, size_t alen, const char *b) {
  return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

/* Finds parameter WANT in the "; a=b; c="d"" list of a header value
 * S[0..LEN) (the first ';' starts the list) and copies its value into OUT.
 * 1 found, 0 absent, -EINVAL if malformed, overlong or holding controls. */
static int get_param(const char *s, size_t len, const char *want, char *out,
                     size_t outlen) {
  const char *p = memchr(s, ';', len), *end = s + len;
  while (p && p < end) {
    p++; /* past ';' */
    while (p < end && is_ows(*p))
      p++;
    const char *name = p;
    while (p < end && *p != '=' && *p != ';' && !is_ows(*p))
      p++;
    size_t nlen = (size_t)(p - name);
    while (p < end && is_ows(*p))
      p++;
    if (p >= end || *p != '=') { /* a parameter without a value: skip it */
      p = memchr(p, ';', (size_t)(end - p));
      continue;
    }
    p++;
    while (p < end && is_ows(*p))
      p++;
    bool match = nlen > 0 && ieq(name, nlen, want);
    size_t o = 0;
    if (p < end && *p == '"') {
      for (p++;; p++) {
        if (p >= end)
          return -EINVAL; /* unterminated quoted-string */
        char c = *p;
        if (c == '"')
          break;
        if (c == '\\' && p + 1 < end && (p[1] == '"' || p[1] == '\\'))
          c = *++p;
        if ((unsigned char)c < 0x20 && c != '\t')
          return -EINVAL;
        if (match) {
          if (o + 1 >= outlen)
            return -EINVAL;
          out[o++] = c;
        }
      }
      p++; /* past the closing quote */
    } else {
      for (; p < end && *p != ';' && !is_ows(*p); p++) {
        if ((unsigned char)*p < 0x20 || *p == '"')
          return -EINVAL;
        if (match) {
          if (o + 1 >= outlen)
            return -EINVAL;
          out[o++] = *p;
        }
      }
    }
    if (match) {
      out[o] = 0;
      return 1;
    }
    while (p < end && is_ows(*p))
      p++;
    if (p < end && *p != ';')
      return -EINVAL; /* junk after a value */
  }
  return 0;
}

int rg_multipart_boundary(const char *content_type, char *out, size_t outlen) {
  if (!content_type || !out || outlen == 0)
    return -EINVAL;
  const char *p = content_type;
  while (is_ows(*p))
    p++;
  if (strncasecmp(p, "multipart/", 10) != 0)
    return -EINVAL;
  char b[RG_BOUNDARY_MAX + 1];
  if (get_param(p, strlen(p), "boundary", b, sizeof b) != 1 || !b[0])
    return -EINVAL;
  size_t n = strlen(b);
  if (n >= outlen)
    return -EINVAL;
  memcpy(out, b, n + 1);
  return 0;
}

typedef struct delim_scan {
  const uint8_t *body;
  size_t len;
  const char *dash_boundary; /* "--" BOUNDARY */
  size_t dlen;
} delim_scan;

/* Finds the first delimiter whose CRLF (or, when AT_START_OK, the body start)
 * begins at or after FROM. Returns its position (where part data before it
 * ends), sets *NEXT to where the following part's headers start and *CLOSE
 * for the close delimiter. -1 if none. */
static ssize_t find_delim(const delim_scan *d, size_t from, bool at_start_ok,
                          size_t *next, bool *close) {
  const uint8_t *b = d->body;
  size_t pos = from;
  while (pos < d->len) {
    const uint8_t *hit =
        memmem(b + pos, d->len - pos, d->dash_boundary, d->dlen);
    if (!hit)
      return -1;
    size_t q = (size_t)(hit - b);
    pos = q + 1;
    size_t data_end;
    if (at_start_ok && q == 0)
      data_end = 0;
    else if (q >= from + 2 && b[q - 2] == '\r' && b[q - 1] == '\n')
      data_end = q - 2;
    else
      continue;
    size_t t = q + d->dlen;
    if (t + 2 <= d->len && b[t] == '-' && b[t + 1] == '-') {
      *close = true;
      *next = d->len;
      return (ssize_t)data_end;
    }
    while (t < d->len && is_ows((char)b[t]))
      t++;
    if (t + 2 <= d->len && b[t] == '\r' && b[t + 1] == '\n') {
      *close = false;
      *next = t + 2;
      return (ssize_t)data_end;
    }
  }
  return -1;
}

/* Copies header value S[0..LEN) trimmed into OUT; -EINVAL if it won't fit. */
static int copy_value(const char *s, size_t len, char *out, size_t outlen) {
  while (len && is_ows(*s))
    s++, len--;
  while (len && is_ows(s[len - 1]))
    len--;
  if (len >= outlen || memchr(s, 0, len))
    return -EINVAL;
  memcpy(out, s, len);
  out[len] = 0;
  return 0;
}

/* Parses the header block H[0..LEN) (lines ending in CRLF) into PART. */
static int parse_headers(const delim_scan *d, const char *h, size_t len,
                         rg_part *part) {
  const char *end = h + len;
  while (h < end) {
    const char *eol = memmem(h, (size_t)(end - h), "\r\n", 2);
    if (!eol)
      eol = end;
    size_t llen = (size_t)(eol - h);
    /* A delimiter among the headers: a part whose blank line is missing. */
    if (llen >= d->dlen && memcmp(h, d->dash_boundary, d->dlen) == 0)
      return -EINVAL;
    const char *colon = memchr(h, ':', llen);
    if (colon) {
      size_t nlen = (size_t)(colon - h);
      const char *v = colon + 1;
      size_t vlen = (size_t)(eol - v);
      if (ieq(h, nlen, "content-disposition")) {
        if (get_param(v, vlen, "name", part->name, sizeof part->name) < 0 ||
            get_param(v, vlen, "filename", part->filename,
                      sizeof part->filename) < 0)
          return -EINVAL;
      } else if (ieq(h, nlen, "content-type")) {
        if (copy_value(v, vlen, part->content_type, sizeof part->content_type))
          return -EINVAL;
      }
    }
    h = eol == end ? end : eol + 2;
  }
  return 0;
}

int rg_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                       rg_part *parts, size_t max, size_t *n) {
  if (n)
    *n = 0;
  if (!body || !boundary || !n || (max && !parts))
    return -EINVAL;
  size_t blen = strlen(boundary);
  if (blen == 0 || blen > RG_BOUNDARY_MAX)
    return -EINVAL;
  char dash[RG_BOUNDARY_MAX + 3];
  dash[0] = dash[1] = '-';
  memcpy(dash + 2, boundary, blen);
  delim_scan d = {body, len, dash, blen + 2};

  size_t hs;
  bool close;
  if (find_delim(&d, 0, true, &hs, &close) < 0)
    return -EINVAL;
  size_t count = 0;
  while (!close) {
    rg_part part;
    memset(&part, 0, sizeof part);
    size_t ds;
    if (hs + 2 <= len && body[hs] == '\r' && body[hs + 1] == '\n') {
      ds = hs + 2; /* no headers at all */
    } else {
      const uint8_t *he = memmem(body + hs, len - hs, "\r\n\r\n", 4);
      if (!he)
        return -EINVAL;
      size_t hlen = (size_t)(he - (body + hs)) + 2;
      if (parse_headers(&d, (const char *)body + hs, hlen, &part) < 0)
        return -EINVAL;
      ds = (size_t)(he - body) + 4;
    }
    size_t next;
    ssize_t de = find_delim(&d, ds, false, &next, &close);
    if (de < 0)
      return -EINVAL;
    part.data = body + ds;
    part.len = (size_t)de - ds;
    if (count < max)
      parts[count++] = part;
    hs = next;
  }
  *n = count;
  return 0;
}

char *rg_form_get(const char *body, size_t len, const char *name) {
  if (!body || !name)
    return NULL;
  if (len && body[0] == '?')
    body++, len--;
  const char *p = body, *end = body + len;
  while (p < end) {
    const char *amp = memchr(p, '&', (size_t)(end - p));
    const char *pend = amp ? amp : end;
    const char *eq = memchr(p, '=', (size_t)(pend - p));
    const char *kend = eq ? eq : pend;
    char *key = rg_percent_decode(p, (size_t)(kend - p), true);
    bool match = key && strcmp(key, name) == 0;
    free(key);
    if (match) {
      if (!eq)
        return rg_strdup("");
      return rg_percent_decode(eq + 1, (size_t)(pend - eq - 1), true);
    }
    p = amp ? amp + 1 : end;
  }
  return NULL;
}
