/* test-range.c — rg_range_parse against RFC 9110 14.1.2 and the choices in
 * http-range.h (one covering range, invalid → FULL, saturation). */
#include "config.h"

#include "http-range.h"
#include "tap.h"

#include <stdint.h>

#define GiB ((int64_t)1 << 30)

/* Expects PARTIAL with START..END. */
static void partial(const char *h, int64_t size, int64_t start, int64_t end) {
  rg_range r = {-7, -7};
  int rc = rg_range_parse(h, size, &r);
  ok(rc == RG_RANGE_PARTIAL && r.start == start && r.end == end,
     "'%s' size %" PRId64 " → %" PRId64 "-%" PRId64, h, size, start, end);
  if (rc != RG_RANGE_PARTIAL || r.start != start || r.end != end)
    printf("#   got rc %d, %" PRId64 "-%" PRId64 "\n", rc, r.start, r.end);
}

/* Expects RC (FULL or UNSATISFIABLE) and OUT left alone. */
static void other(const char *h, int64_t size, int want) {
  rg_range r = {-7, -7};
  int rc = rg_range_parse(h, size, &r);
  ok(rc == want && r.start == -7 && r.end == -7, "'%s' size %" PRId64 " → %s",
     h ? h : "(null)", size, want == RG_RANGE_FULL ? "FULL" : "UNSATISFIABLE");
  if (rc != want)
    printf("#   got rc %d\n", rc);
}

#define full(h, size) other(h, size, RG_RANGE_FULL)
#define unsat(h, size) other(h, size, RG_RANGE_UNSATISFIABLE)

int main(void) {
  /* No header. */
  full(NULL, 1000);
  full(NULL, 0);

  /* int-range: first-last. */
  partial("bytes=0-499", 10000, 0, 499);
  partial("bytes=500-999", 10000, 500, 999);
  partial("bytes=0-0", 10000, 0, 0);
  partial("bytes=9999-9999", 10000, 9999, 9999);
  partial("bytes=0-1", 10000, 0, 1); /* AVFoundation's probe */
  partial("bytes=0-1", 1, 0, 0);
  partial("bytes=5-5", 10, 5, 5);
  partial("bytes=0-9", 10, 0, 9); /* the whole body is still 206 */

  /* Clamping the last position. */
  partial("bytes=0-10000", 10000, 0, 9999);
  partial("bytes=9000-20000", 10000, 9000, 9999);
  partial("bytes=9999-99999999999", 10000, 9999, 9999);

  /* Open-ended. */
  partial("bytes=0-", 10000, 0, 9999);
  partial("bytes=9500-", 10000, 9500, 9999);
  partial("bytes=9999-", 10000, 9999, 9999);
  partial("bytes=0-", 1, 0, 0);

  /* Suffix. */
  partial("bytes=-500", 10000, 9500, 9999);
  partial("bytes=-1", 10000, 9999, 9999);
  partial("bytes=-10000", 10000, 0, 9999);
  partial("bytes=-10001", 10000, 0, 9999); /* longer than the body */
  partial("bytes=-99999999999999", 10, 0, 9);
  partial("bytes=-1", 1, 0, 0);

  /* Unsatisfiable: start at/after the end, -0, empty body. */
  unsat("bytes=10000-", 10000);
  unsat("bytes=10000-10005", 10000);
  unsat("bytes=20000-30000", 10000);
  unsat("bytes=-0", 10000);
  unsat("bytes=-00", 10000);
  unsat("bytes=0-", 0);
  unsat("bytes=0-0", 0);
  unsat("bytes=-1", 0);
  unsat("bytes=-0", 0);
  unsat("bytes=10-20,30-40", 5);
  unsat("bytes=10-,-0", 10);

  /* Several ranges → one covering range over the satisfiable ones. */
  partial("bytes=0-99,200-299", 10000, 0, 299);
  partial("bytes=200-299,0-99", 10000, 0, 299);
  partial("bytes=0-99,50-149", 10000, 0, 149);
  partial("bytes=500-600,-100", 10000, 500, 9999);
  partial("bytes=0-0,-1", 10000, 0, 9999);
  partial("bytes=0-10,20000-30000", 10000, 0, 10); /* unsat one dropped */
  partial("bytes=20000-,5-6", 10000, 5, 6);
  partial("bytes=-0,3-4", 10000, 3, 4);
  partial("bytes=1-2,3-4,5-6,7-8,9-", 10, 1, 9);

  /* Whitespace around '=' and ',' (and edges); empty list elements. */
  partial(" bytes=0-1", 100, 0, 1);
  partial("bytes =0-1", 100, 0, 1);
  partial("bytes= 0-1", 100, 0, 1);
  partial("bytes \t=\t 0-1", 100, 0, 1);
  partial("bytes=0-1 ", 100, 0, 1);
  partial("bytes=0-1 , 5-6", 100, 0, 6);
  partial("bytes=0-1,\t5-6", 100, 0, 6);
  partial("bytes=0-1,,5-6", 100, 0, 6);
  partial("bytes=,0-1", 100, 0, 1);
  partial("bytes=0-1,", 100, 0, 1);
  partial("bytes=0-1, ,", 100, 0, 1);

  /* The unit is case-insensitive; leading zeros are digits. */
  partial("Bytes=0-1", 100, 0, 1);
  partial("BYTES=0-1", 100, 0, 1);
  partial("bytes=007-0009", 100, 7, 9);

  /* Garbage and other units → FULL. */
  full("", 100);
  full("bytes", 100);
  full("bytes=", 100);
  full("bytes= ", 100);
  full("bytes=,", 100);
  full("bytes=-", 100);
  full("bytes=--1", 100);
  full("bytes=1", 100);
  full("bytes=a-b", 100);
  full("bytes=1-a", 100);
  full("bytes=1-2a", 100);
  full("bytes=0x10-20", 100);
  full("bytes=+1-2", 100);
  full("bytes=-+1", 100);
  full("bytes=1 -2", 100);
  full("bytes=1- 2", 100);
  full("bytes=- 1", 100);
  full("bytes=1-2 3-4", 100);
  full("bytes=1-2;3-4", 100);
  full("bytes=1-2-3", 100);
  full("bytes=0-1,garbage", 100);
  full("bytes0-1", 100);
  full("byte=0-1", 100);
  full("bytesx=0-1", 100);
  full("items=0-1", 100);
  full("none", 100);
  full("=0-1", 100);
  full("bytes=0-1\r\n", 100);
  full("bytes=0-1\n", 100);
  full("bytes=\xff-1", 100);
  full("bytes=5-4", 100); /* last < first: invalid, not unsatisfiable */
  full("bytes=0-1,5-4", 100);
  full("bytes=5-4", 0);
  full("bytes=0-1", -1); /* a negative size is a caller bug: ignore */

  /* Huge numbers saturate instead of overflowing. */
  partial("bytes=0-9223372036854775807", 100, 0, 99);
  partial("bytes=0-9223372036854775808", 100, 0, 99);
  partial("bytes=0-99999999999999999999999999999999999999", 100, 0, 99);
  partial("bytes=-9223372036854775807", 100, 0, 99);
  partial("bytes=-99999999999999999999999999999999999999", 100, 0, 99);
  unsat("bytes=9223372036854775807-", 100);
  unsat("bytes=99999999999999999999999999999999-", 100);
  unsat(
      "bytes=99999999999999999999999999999999-99999999999999999999999999999999",
      100);
  partial("bytes=9223372036854775806-", INT64_MAX, INT64_MAX - 1,
          INT64_MAX - 1);
  partial("bytes=-1", INT64_MAX, INT64_MAX - 1, INT64_MAX - 1);
  partial("bytes=0-", INT64_MAX, 0, INT64_MAX - 1);
  /* 99999999999999999999 saturates; compared to 100 it is still last<first. */
  full("bytes=99999999999999999999-100", 1000);

  /* Sizes past 4 GiB (no 32-bit truncation anywhere). */
  int64_t big = 5 * GiB + 123;
  partial("bytes=4294967296-", big, 4 * GiB, big - 1);
  partial("bytes=4294967295-4294967296", big, 4 * GiB - 1, 4 * GiB);
  partial("bytes=-1", big, big - 1, big - 1);
  partial("bytes=-4294967296", big, big - 4 * GiB, big - 1);
  partial("bytes=0-", big, 0, big - 1);
  partial("bytes=5368709120-99999999999", big, 5 * GiB, big - 1);
  unsat("bytes=5368709243-", big); /* == size */
  partial("bytes=5368709242-", big, big - 1, big - 1);
  partial("bytes=0-1,4294967296-4294967300", big, 0, 4 * GiB + 4);
  partial("bytes=4294967296-4294967296", 4 * GiB + 1, 4 * GiB, 4 * GiB);
  unsat("bytes=4294967296-", 4 * GiB);

  /* A NULL out is allowed. */
  is_int(rg_range_parse("bytes=0-1", 10, NULL), RG_RANGE_PARTIAL,
         "NULL out is fine");

  return tap_done();
}
