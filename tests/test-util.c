/* test-util.c — server/util.c: hex, percent coding, secrets, files. */
#include "config.h"

#include "tap.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/test-util-XXXXXX";

static void test_hex(void) {
  is_int(rg_hex_digit('0'), 0, "hex digit 0");
  is_int(rg_hex_digit('9'), 9, "hex digit 9");
  is_int(rg_hex_digit('a'), 10, "hex digit a");
  is_int(rg_hex_digit('F'), 15, "hex digit F");
  is_int(rg_hex_digit('g'), -1, "not a hex digit: g");
  is_int(rg_hex_digit(0), -1, "not a hex digit: NUL");
  is_int(rg_hex_digit(0xff), -1, "not a hex digit: 0xff");

  uint8_t b[4];
  ok(rg_hex_decode("00fFa5", b, 3) == 0 && b[0] == 0 && b[1] == 0xff &&
         b[2] == 0xa5,
     "decode mixed case");
  is_int(rg_hex_decode("0g", b, 1), -EINVAL, "decode rejects g");
  is_int(rg_hex_decode("abc", b, 2), -EINVAL, "decode stops at a short string");
  is_int(rg_hex_decode("", b, 0), 0, "decode nothing");

  char out[9];
  uint8_t in[4] = {0xde, 0xad, 0x00, 0x0f};
  rg_hex_encode(in, 4, out);
  is_str(out, "dead000f", "encode lowercase");
  rg_hex_encode(in, 0, out);
  is_str(out, "", "encode nothing");

  char r1[41], r2[41];
  rg_random_hex(r1, 20);
  rg_random_hex(r2, 20);
  ok(strlen(r1) == 40 && strcmp(r1, r2) != 0, "random hex: 40 digits, varies");
}

static void test_percent(void) {
  char *s;
  is_str(s = rg_percent_decode("a%20b%2Fc", 9, false), "a b/c", "decode %%XX");
  free(s);
  is_str(s = rg_percent_decode("%e2%82%AC", 9, false), "\xe2\x82\xac",
         "decode UTF-8 bytes, either case");
  free(s);
  is_str(s = rg_percent_decode("a+b", 3, true), "a b", "'+' is a space");
  free(s);
  is_str(s = rg_percent_decode("a+b", 3, false), "a+b", "'+' kept");
  free(s);
  is_str(s = rg_percent_decode("%2B", 3, true), "+", "%%2B is '+' either way");
  free(s);
  is_str(s = rg_percent_decode("", 0, false), "", "empty");
  free(s);
  is_str(s = rg_percent_decode("abcdef", 3, false), "abc", "LEN bounds");
  free(s);
  ok(rg_percent_decode("%", 1, false) == NULL, "lone %%");
  ok(rg_percent_decode("%4", 2, false) == NULL, "short escape");
  ok(rg_percent_decode("a%4", 3, false) == NULL, "short escape at the end");
  ok(rg_percent_decode("%41%4", 5, false) == NULL, "good then short");
  ok(rg_percent_decode("%zz", 3, false) == NULL, "non-hex escape");
  ok(rg_percent_decode("%4g", 3, false) == NULL, "half-hex escape");
  ok(rg_percent_decode("%00", 3, false) == NULL, "%%00");
  ok(rg_percent_decode("a%00b", 5, true) == NULL, "%%00 inside");
  ok(rg_percent_decode("a\0b", 3, false) == NULL, "raw NUL inside LEN");
  /* "%41" cut to 2 bytes must not read the '1'. */
  is_str(s = rg_percent_decode("x%41", 4, false), "xA", "escape at the end");
  free(s);
  ok(rg_percent_decode("x%41", 3, false) == NULL, "escape cut by LEN");

  is_str(s = rg_percent_encode("AZaz09-._~"), "AZaz09-._~", "unreserved kept");
  free(s);
  is_str(s = rg_percent_encode("a b/c?d&e=f+g%"),
         "a%20b%2Fc%3Fd%26e%3Df%2Bg%25", "reserved encoded");
  free(s);
  is_str(s = rg_percent_encode("\xe2\x82\xac"), "%E2%82%AC", "UTF-8 encoded");
  free(s);
  is_str(s = rg_percent_encode(""), "", "empty");
  free(s);

  /* Round trip over every byte but NUL. */
  char all[256];
  for (int i = 1; i < 256; i++)
    all[i - 1] = (char)i;
  all[255] = 0;
  char *e = rg_percent_encode(all);
  char *d = rg_percent_decode(e, strlen(e), false);
  ok(d && strcmp(d, all) == 0, "encode/decode round trip, bytes 1..255");
  free(e);
  free(d);
}

static void test_secret(void) {
  ok(rg_secret_eq("abc", "abc"), "equal");
  ok(!rg_secret_eq("abc", "abd"), "last byte differs");
  ok(!rg_secret_eq("abc", "xbc"), "first byte differs");
  ok(!rg_secret_eq("abc", "ab"), "prefix");
  ok(!rg_secret_eq("ab", "abc"), "longer");
  ok(!rg_secret_eq("abcabc", "abc"), "repeat of the other");
  ok(!rg_secret_eq("abc", ""), "empty candidate");
  ok(!rg_secret_eq("", ""), "empty secrets never match");
  ok(!rg_secret_eq(NULL, "abc"), "NULL a");
  ok(!rg_secret_eq("abc", NULL), "NULL b");
  ok(!rg_secret_eq(NULL, NULL), "both NULL");
}

static void test_files(void) {
  char *p = rg_printf("%s/a/b/c", dir);
  is_int(rg_mkdir_p(p, 0755), 0, "mkdir -p creates the chain");
  struct stat st;
  ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "  it is a directory");
  is_int(rg_mkdir_p(p, 0755), 0, "mkdir -p on an existing dir");
  char *p2 = rg_printf("%s/a/x/", dir);
  is_int(rg_mkdir_p(p2, 0755), 0, "trailing slash");
  ok(stat(p2, &st) == 0 && S_ISDIR(st.st_mode), "  made");
  free(p2);

  char *f = rg_printf("%s/a/file", dir);
  static const char data[] = "hello\0world\n";
  is_int(rg_write_file(f, data, sizeof data - 1, 0600), 0, "write a file");
  ok(stat(f, &st) == 0 && (st.st_mode & 0777) == 0600 &&
         st.st_size == (off_t)sizeof data - 1,
     "  mode and size");
  uint8_t *buf = NULL;
  size_t len = 0;
  is_int(rg_read_file(f, 1024, &buf, &len), 0, "read it back");
  ok(len == sizeof data - 1 && memcmp(buf, data, len) == 0 && buf[len] == 0,
     "  same bytes, NUL-terminated");
  free(buf);
  is_int(rg_write_file(f, "x", 1, 0600), 0, "overwrite");
  buf = NULL;
  is_int(rg_read_file(f, 1, &buf, &len), 0, "size == max is allowed");
  ok(len == 1 && buf[0] == 'x', "  new content");
  free(buf);
  is_int(rg_write_file(f, "xy", 2, 0600), 0, "grow");
  is_int(rg_read_file(f, 1, &buf, &len), -EFBIG, "size > max is -EFBIG");
  is_int(rg_write_file(f, "", 0, 0600), 0, "empty file");
  buf = NULL;
  is_int(rg_read_file(f, 10, &buf, &len), 0, "read an empty file");
  ok(len == 0 && buf && buf[0] == 0, "  empty, NUL-terminated");
  free(buf);

  char *tmp = rg_printf("%s/a/file.tmp.%d", dir, (int)getpid());
  ok(access(tmp, F_OK) != 0, "no temp file left behind");
  free(tmp);

  char *missing = rg_printf("%s/nope/file", dir);
  is_int(rg_read_file(missing, 10, &buf, &len), -ENOENT, "read: -ENOENT");
  is_int(rg_write_file(missing, "x", 1, 0600), -ENOENT,
         "write into a missing dir: -ENOENT");
  is_int(rg_read_file(dir, 10, &buf, &len), -EISDIR, "read a dir: -EISDIR");
  char *under_file = rg_printf("%s/sub", f);
  ok(rg_mkdir_p(under_file, 0755) == -ENOTDIR, "mkdir -p under a file");
  free(under_file);
  free(missing);
  free(f);
  free(p);
}

static void test_alloc(void) {
  char *s = rg_strdup(NULL);
  is_str(s, "", "rg_strdup(NULL) is \"\"");
  free(s);
  s = rg_strndup("abcdef", 3);
  is_str(s, "abc", "rg_strndup");
  free(s);
  s = rg_printf("%d-%s", 42, "x");
  is_str(s, "42-x", "rg_printf");
  free(s);
  void *z = rg_malloc(0);
  ok(z != NULL, "rg_malloc(0) is a real pointer");
  free(z);
  int64_t a = rg_now_ms(), b = rg_now_ms();
  ok(b >= a && a > 0, "monotonic clock");
  ok(rg_wall_s() > 1600000000, "wall clock");
}

/* rg_body: what the four capped HTTP bodies and HLS's text buffers share */
static void test_body(void) {
  rg_body b = {.max = 10};
  is_int(rg_body_write("hello", 1, 5, &b), 5, "body: 5 bytes taken");
  is_int(rg_body_write("world", 5, 1, &b), 5, "body: 5 more, exactly at max");
  ok(b.len == 10 && !strcmp(b.p, "helloworld") && !b.over,
     "body: NUL-terminated, not over");
  is_int(rg_body_write("!", 1, 1, &b), 0, "body: one byte past max refused");
  ok(b.over && b.len == 10 && !strcmp(b.p, "helloworld"),
     "body: over set, nothing added");
  rg_body huge = {.max = 10};
  ok(!rg_body_add(&huge, "x", SIZE_MAX) && huge.over && !huge.p,
     "body: a length that would wrap is refused");
  free(b.p);
  rg_body s = {0}; /* no max */
  bool all = true;
  for (int i = 0; i < 3000; i++)
    all &= rg_body_add(&s, "ab", 2);
  ok(all && s.len == 6000 && s.cap >= 6001 && s.p[5998] == 'a' && s.p[6000] == 0 &&
         !s.over,
     "body without max: grows past its first 1 KiB");
  free(s.p);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_hex();
  test_percent();
  test_secret();
  test_files();
  test_alloc();
  test_body();
  char *cmd = rg_printf("rm -rf '%s'", dir);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", dir);
  free(cmd);
  return tap_done();
}
