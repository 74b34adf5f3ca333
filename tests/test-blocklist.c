/* test-blocklist.c — the blocklist parser (P2P, DAT, CIDR, gzip, malformed
 * lines) on the shared fixtures and hand-made text, and the metrics
 * registry's text output. */
#include "config.h"

#include "blocklist.h"
#include "metrics.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

static const char *srcdir(void) {
  const char *s = getenv("RG_SRCDIR");
  return s && *s ? s : ".";
}

static int load(const char *name, rg_bl_parsed *p) {
  char *path = rg_printf("%s/tests/fixtures/blocklist/%s", srcdir(), name);
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = rg_read_file(path, 1 << 20, &buf, &len);
  free(path);
  if (rc)
    return rc;
  char *cause = NULL;
  memset(p, 0, sizeof *p);
  rc = rg_blocklist_parse(buf, len, p, &cause);
  free(cause);
  free(buf);
  return rc;
}

static int parse_str(const char *text, rg_bl_parsed *p) {
  char *cause = NULL;
  memset(p, 0, sizeof *p);
  int rc = rg_blocklist_parse((const uint8_t *)text, strlen(text), p, &cause);
  free(cause);
  return rc;
}

int main(void) {
  rg_bl_parsed p, g;

  /* P2P */
  is_int(load("sample.p2p", &p), 0, "sample.p2p loads");
  is_int(p.n, 3, "P2P: three ranges");
  is_int(p.rejected, 0, "P2P: no malformed line");
  ok(rg_bl_parsed_contains(&p, "1.2.3.4"), "P2P: 1.2.3.4 is in 1.0.0.0/8");
  ok(rg_bl_parsed_contains(&p, "203.0.113.255"), "P2P: range end included");
  ok(!rg_bl_parsed_contains(&p, "2.0.0.0"), "P2P: 2.0.0.0 is not blocked");
  ok(!p.gzip, "P2P: plain text");

  /* gzip gives the same ranges */
  is_int(load("sample.p2p.gz", &g), 0, "sample.p2p.gz loads");
  ok(g.gzip, "gzip detected");
  is_int(g.n, p.n, "gzip: same count as plain");
  ok(g.n == p.n && memcmp(g.ranges, p.ranges, p.n * sizeof *p.ranges) == 0,
     "gzip: same ranges as plain");
  rg_bl_parsed_clear(&g);
  rg_bl_parsed_clear(&p);

  /* DAT: leading zeros, level >= 128 allowed */
  is_int(load("sample.dat", &p), 0, "sample.dat loads");
  is_int(p.n, 2, "DAT: two blocking ranges");
  is_int(p.allowed, 1, "DAT: one line with level 200 is an allow");
  is_int(p.rejected, 0, "DAT: no malformed line");
  ok(rg_bl_parsed_contains(&p, "1.9.96.105"), "DAT: 001.009.096.105 read as "
                                              "decimal");
  ok(rg_bl_parsed_contains(&p, "198.51.100.77"), "DAT: range blocked");
  ok(!rg_bl_parsed_contains(&p, "10.1.2.3"), "DAT: level 200 not blocked");
  rg_bl_parsed_clear(&p);

  /* CIDR */
  is_int(load("sample.cidr", &p), 0, "sample.cidr loads");
  is_int(p.n, 2, "CIDR: two ranges");
  ok(rg_bl_parsed_contains(&p, "192.0.2.200"), "CIDR: /24 covers .200");
  ok(rg_bl_parsed_contains(&p, "203.0.113.7"), "CIDR: /32");
  ok(!rg_bl_parsed_contains(&p, "203.0.113.8"), "CIDR: /32 is one address");
  rg_bl_parsed_clear(&p);

  /* malformed lines are counted, never fatal; formats mix */
  is_int(parse_str("# comment\n\n; also\n// and this\n"
                   "good:10.0.0.1-10.0.0.9\r\n"
                   "garbage line\n"
                   "300.1.1.1/8\n"
                   "10.0.0.9-10.0.0.1\n"
                   "1.2.3.4/33\n"
                   "name:with:colons-and-dashes:5.5.5.0-5.5.5.255\n"
                   "2001:db8::/32\n"
                   "127.0.0.3\n"
                   "1.1.1.1 - 1.1.1.2 , abc , bad level\n",
                   &p),
         0, "mixed text parses");
  is_int(p.n, 4, "mixed: four good ranges");
  is_int(p.rejected, 5, "mixed: five malformed lines counted");
  is_int(p.lines, 9, "mixed: comments and blank lines not counted");
  ok(strncmp(p.first_bad, "line 6: garbage line", 20) == 0,
     "first malformed line reported with its number (%s)", p.first_bad);
  ok(rg_bl_parsed_contains(&p, "5.5.5.5"), "P2P name with ':' and '-'");
  ok(rg_bl_parsed_contains(&p, "2001:db8:1::1"), "IPv6 CIDR");
  ok(!rg_bl_parsed_contains(&p, "2001:db9::1"), "IPv6 outside");
  ok(rg_bl_parsed_contains(&p, "127.0.0.3"), "single address");
  ok(!rg_bl_parsed_contains(&p, "127.0.0.2"), "neighbour allowed");
  rg_bl_parsed_clear(&p);

  /* corrupt gzip: an error, not a crash */
  static const uint8_t bad[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3};
  char *cause = NULL;
  memset(&p, 0, sizeof p);
  ok(rg_blocklist_parse(bad, sizeof bad, &p, &cause) != 0 && cause,
     "corrupt gzip is reported (%s)", cause ? cause : "-");
  free(cause);
  rg_bl_parsed_clear(&p);

  /* the blocklist object loads files and reports */
  char *src = rg_printf("%s/tests/fixtures/blocklist/sample.p2p.gz, "
                        "%s/tests/fixtures/blocklist/sample.dat;/nonexistent",
                        srcdir(), srcdir());
  rg_blocklist *bl = rg_blocklist_new(NULL, NULL, src, "/tmp", 24);
  is_int(rg_blocklist_load_now(bl), 5, "two files: five ranges");
  json_t *j = rg_blocklist_json(bl);
  is_int(json_integer_value(json_object_get(j, "entries")), 5, "json entries");
  is_int(json_array_size(json_object_get(j, "sources")), 3, "three sources");
  ok(json_is_string(json_object_get(
         json_array_get(json_object_get(j, "sources"), 2), "error")),
     "a missing file is reported, not fatal");
  json_decref(j);
  rg_blocklist_free(&bl);
  ok(bl == NULL, "free clears the pointer");
  free(src);

  /* metrics: text format basics */
  rg_metrics_reset();
  rg_metrics_inc("reelgate_sync_runs_total", "job=\"tmdb\",result=\"ok\"");
  rg_metrics_inc("reelgate_sync_runs_total", "job=\"tmdb\",result=\"ok\"");
  rg_metrics_set("reelgate_test_gauge", NULL, 7);
  rg_metrics_observe("reelgate_read_latency_seconds", "source=\"cache\"", 0.02);
  char *txt = rg_metrics_render(NULL);
  ok(strstr(txt, "# TYPE reelgate_sync_runs_total counter\n"), "counter TYPE");
  ok(strstr(txt, "reelgate_sync_runs_total{job=\"tmdb\",result=\"ok\"} 2\n"),
     "counter value");
  ok(strstr(txt, "reelgate_test_gauge 7\n"), "gauge value");
  ok(strstr(txt, "reelgate_read_latency_seconds_bucket{source=\"cache\","
                 "le=\"0.025\"} 1\n"),
     "histogram bucket");
  ok(strstr(txt, "reelgate_read_latency_seconds_bucket{source=\"cache\","
                 "le=\"0.01\"} 0\n"),
     "histogram bucket below");
  ok(strstr(txt, "reelgate_read_latency_seconds_count{source=\"cache\"} 1\n"),
     "histogram count");
  free(txt);
  char esc[32];
  rg_metrics_escape("a\"b\\c\nd", esc, sizeof esc);
  is_str(esc, "a\\\"b\\\\c\\nd", "label escaping");
  return tap_done();
}
