/* http-range.c — the Range request header (RFC 9110 14.1–14.2) for one
 * representation of a known size.
 *
 * Grammar accepted (OWS = spaces and tabs):
 *   OWS "bytes" OWS "=" OWS range-spec *( OWS "," OWS [range-spec] ) OWS
 *   range-spec = 1*DIGIT "-" [1*DIGIT]    (int-range)
 *              / "-" 1*DIGIT              (suffix-range)
 * The unit is case-insensitive; empty list elements are skipped (RFC 9110
 * 5.6.1) but at least one range-spec must be present. No whitespace inside a
 * range-spec. Anything else — another unit, other-range, an int-range whose
 * last-pos is below its first-pos — makes the whole header invalid, and an
 * invalid header is ignored (FULL), as nginx and Apache do.
 *
 * Numbers saturate at INT64_MAX instead of failing: a first-pos that large is
 * simply unsatisfiable and a last-pos or suffix that large is clamped to the
 * body, which is what the RFC's arithmetic says anyway.
 *
 * Several satisfiable ranges become one range from the lowest start to the
 * highest end (players such as VLC reject multipart/byteranges); unsatisfiable
 * ones among them are dropped. Pure function, no allocation. */
#include "config.h"

#include "http-range.h"

#include <stdbool.h>
#include <stddef.h>

static bool is_ows(char c) { return c == ' ' || c == '\t'; }

static const char *skip_ows(const char *p) {
  while (is_ows(*p))
    p++;
  return p;
}

/* Reads 1*DIGIT at *P, saturating at INT64_MAX. false if no digit. */
static bool read_num(const char **p, int64_t *out) {
  const char *s = *p;
  int64_t v = 0;
  if (*s < '0' || *s > '9')
    return false;
  for (; *s >= '0' && *s <= '9'; s++) {
    int d = *s - '0';
    if (v > (INT64_MAX - d) / 10)
      v = INT64_MAX;
    else
      v = v * 10 + d;
  }
  *p = s;
  *out = v;
  return true;
}

/* Matches "bytes" case-insensitively. */
static bool read_unit(const char **p) {
  static const char unit[] = "bytes";
  const char *s = *p;
  for (size_t i = 0; i < sizeof unit - 1; i++, s++) {
    char c = *s;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (c != unit[i])
      return false;
  }
  *p = s;
  return true;
}

int rg_range_parse(const char *header, int64_t size, rg_range *out) {
  if (!header || size < 0)
    return RG_RANGE_FULL;
  const char *p = skip_ows(header);
  if (!read_unit(&p))
    return RG_RANGE_FULL;
  p = skip_ows(p);
  if (*p != '=')
    return RG_RANGE_FULL;
  p = skip_ows(p + 1);

  bool any_spec = false, any_sat = false;
  int64_t lo = 0, hi = 0;
  for (;;) {
    if (*p == ',') { /* empty list element */
      p = skip_ows(p + 1);
      continue;
    }
    if (*p == 0)
      break;

    int64_t first, last, start, end;
    bool sat;
    if (*p == '-') { /* suffix-range */
      p++;
      if (!read_num(&p, &last))
        return RG_RANGE_FULL;
      sat = last > 0 && size > 0;
      start = last >= size ? 0 : size - last;
      end = size - 1;
    } else {
      if (!read_num(&p, &first) || *p != '-')
        return RG_RANGE_FULL;
      p++;
      if (*p >= '0' && *p <= '9') {
        read_num(&p, &last);
        if (last < first)
          return RG_RANGE_FULL; /* invalid int-range */
      } else {
        last = INT64_MAX;
      }
      sat = first < size;
      start = first;
      end = last >= size ? size - 1 : last;
    }
    any_spec = true;
    if (sat) {
      if (!any_sat || start < lo)
        lo = start;
      if (!any_sat || end > hi)
        hi = end;
      any_sat = true;
    }

    p = skip_ows(p);
    if (*p == 0)
      break;
    if (*p != ',')
      return RG_RANGE_FULL;
  }

  if (!any_spec)
    return RG_RANGE_FULL;
  if (!any_sat)
    return RG_RANGE_UNSATISFIABLE;
  if (out) {
    out->start = lo;
    out->end = hi;
  }
  return RG_RANGE_PARTIAL;
}
