/* blocklist.c — IP blocklists into libtorrent's IP filter (blocklist.h).
 *
 * Formats, recognised per line (a file may mix them):
 *   P2P (PeerGuardian)  "Some name:1.2.3.0-1.2.3.255" (the last ':' ends
 *                       the name, which may itself hold ':' or '-')
 *   DAT (eMule)         "001.002.003.000 - 001.002.003.255 , 000 , name";
 *                       an access level >= 128 means "allowed": not a block
 *   CIDR / address      "192.0.2.0/24", "203.0.113.7", "2001:db8::/32",
 *                       and bare ranges "a-b" (IPv4 or IPv6)
 * Comments ('#', ';', "//") and blank lines are skipped. IPv4 octets may
 * carry leading zeros (DAT does) and are decimal. Anything else is counted
 * as rejected and the first such line is kept for the report.
 *
 * State (the applied ranges, per-source reports) belongs to the loop
 * thread. A refresh builds a complete new load on a worker thread (fetch,
 * gunzip, parse) and hands it to the loop, which applies it in one
 * set_ip_filter call and swaps the report. */
#include "config.h"

#include "blocklist.h"
#include "log.h"
#include "loop.h"
#include "metrics.h"
#include "util.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#define LINE_MAX_LEN 1024
#define FETCH_TIMEOUT_S 30

/* ---------------------------------------------------------------- parser -- */

static bool parse_v4(const char *s, size_t n, uint8_t out[16]) {
  size_t i = 0;
  memset(out, 0, 16);
  for (int k = 0; k < 4; k++) {
    if (k) {
      if (i >= n || s[i] != '.')
        return false;
      i++;
    }
    unsigned v = 0, digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9' && digits < 4) {
      v = v * 10 + (unsigned)(s[i] - '0');
      i++;
      digits++;
    }
    if (digits == 0 || digits > 3 || v > 255)
      return false;
    out[k] = (uint8_t)v;
  }
  return i == n;
}

static bool parse_v6(const char *s, size_t n, uint8_t out[16]) {
  char tmp[64];
  if (n == 0 || n >= sizeof tmp || !memchr(s, ':', n))
    return false;
  memcpy(tmp, s, n);
  tmp[n] = 0;
  return inet_pton(AF_INET6, tmp, out) == 1;
}

/* An address of either family; *family set. */
static bool parse_ip(const char *s, size_t n, uint8_t out[16], int *family) {
  if (parse_v4(s, n, out)) {
    *family = 4;
    return true;
  }
  if (parse_v6(s, n, out)) {
    *family = 6;
    return true;
  }
  return false;
}

static void trim(const char **s, size_t *n) {
  while (*n && isspace((unsigned char)**s)) {
    (*s)++;
    (*n)--;
  }
  while (*n && isspace((unsigned char)(*s)[*n - 1]))
    (*n)--;
}

static void add_range(rg_bl_parsed *p, const rg_ip_range *r) {
  if (p->n == p->cap) {
    p->cap = p->cap ? p->cap * 2 : 256;
    p->ranges = rg_realloc(p->ranges, p->cap * sizeof *p->ranges);
  }
  p->ranges[p->n++] = *r;
}

/* "a-b" (spaces allowed around '-'). */
static bool parse_range(const char *s, size_t n, rg_ip_range *r) {
  const char *dash = memchr(s, '-', n);
  if (!dash)
    return false;
  const char *a = s, *b = dash + 1;
  size_t an = (size_t)(dash - s), bn = n - an - 1;
  trim(&a, &an);
  trim(&b, &bn);
  int fa, fb;
  if (!parse_ip(a, an, r->first, &fa) || !parse_ip(b, bn, r->last, &fb) ||
      fa != fb)
    return false;
  r->family = fa;
  return memcmp(r->first, r->last, fa == 4 ? 4 : 16) <= 0;
}

/* "addr/len" or "addr". */
static bool parse_cidr(const char *s, size_t n, rg_ip_range *r) {
  const char *slash = memchr(s, '/', n);
  size_t an = slash ? (size_t)(slash - s) : n;
  const char *a = s;
  trim(&a, &an);
  if (!parse_ip(a, an, r->first, &r->family))
    return false;
  int bits = r->family == 4 ? 32 : 128;
  int len = bits;
  if (slash) {
    const char *l = slash + 1;
    size_t ln = (size_t)(s + n - l);
    trim(&l, &ln);
    if (ln == 0 || ln > 3)
      return false;
    len = 0;
    for (size_t i = 0; i < ln; i++) {
      if (l[i] < '0' || l[i] > '9')
        return false;
      len = len * 10 + (l[i] - '0');
    }
    if (len > bits)
      return false;
  }
  memcpy(r->last, r->first, 16);
  for (int i = len; i < bits; i++) {
    r->first[i / 8] &= (uint8_t)~(0x80 >> (i % 8));
    r->last[i / 8] |= (uint8_t)(0x80 >> (i % 8));
  }
  return true;
}

/* A DAT line: "range , level , name". */
static int parse_dat(rg_bl_parsed *p, const char *s, size_t n) {
  const char *c1 = memchr(s, ',', n);
  const char *lv = c1 + 1;
  size_t rest = n - (size_t)(lv - s);
  const char *c2 = memchr(lv, ',', rest);
  size_t lvn = c2 ? (size_t)(c2 - lv) : rest;
  trim(&lv, &lvn);
  if (lvn == 0 || lvn > 5)
    return -1;
  int level = 0;
  for (size_t i = 0; i < lvn; i++) {
    if (lv[i] < '0' || lv[i] > '9')
      return -1;
    level = level * 10 + (lv[i] - '0');
  }
  rg_ip_range r;
  if (!parse_range(s, (size_t)(c1 - s), &r))
    return -1;
  if (level >= 128) {
    p->allowed++;
    return 0;
  }
  add_range(p, &r);
  return 0;
}

static void parse_line(rg_bl_parsed *p, const char *s, size_t n, int64_t no) {
  trim(&s, &n);
  if (n == 0 || s[0] == '#' || s[0] == ';' || (n > 1 && s[0] == '/' &&
                                                s[1] == '/'))
    return;
  p->lines++;
  rg_ip_range r;
  bool ok = false;
  if (n <= LINE_MAX_LEN) {
    const char *colon = NULL;
    for (size_t i = n; i > 0; i--)
      if (s[i - 1] == ':') {
        colon = s + i - 1;
        break;
      }
    if (memchr(s, ',', n)) {
      ok = parse_dat(p, s, n) == 0;
      if (ok)
        return;
    } else if (colon && parse_range(colon + 1, (size_t)(s + n - colon - 1),
                                    &r) && r.family == 4) {
      ok = true; /* P2P */
    } else if (parse_range(s, n, &r) || parse_cidr(s, n, &r)) {
      ok = true;
    }
  }
  if (ok) {
    add_range(p, &r);
    return;
  }
  if (p->rejected++ == 0) {
    char shown[100];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof shown; i++)
      shown[k++] = isprint((unsigned char)s[i]) ? s[i] : '?';
    shown[k] = 0;
    snprintf(p->first_bad, sizeof p->first_bad, "line %lld: %s",
             (long long)no, shown);
  }
}

static void parse_text(rg_bl_parsed *p, const uint8_t *buf, size_t len) {
  const char *s = (const char *)buf, *end = s + len;
  int64_t no = 0;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
    parse_line(p, s, n, ++no);
    s += n + 1;
  }
}

/* Inflates a gzip stream (possibly several members) into *out. */
static int gunzip(const uint8_t *buf, size_t len, uint8_t **out,
                  size_t *outlen, char **cause) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
    *cause = rg_strdup("cannot start zlib");
    return -ENOMEM;
  }
  size_t cap = len * 4 + 4096, n = 0;
  if (cap > RG_BLOCKLIST_MAX_BYTES)
    cap = RG_BLOCKLIST_MAX_BYTES;
  uint8_t *o = rg_malloc(cap);
  z.next_in = (Bytef *)buf;
  z.avail_in = (uInt)(len > UINT32_MAX ? UINT32_MAX : len);
  int rc = Z_OK;
  for (;;) {
    if (n == cap) {
      if (cap >= RG_BLOCKLIST_MAX_BYTES) {
        rc = Z_BUF_ERROR;
        *cause = rg_printf("larger than %u MiB once decompressed",
                           RG_BLOCKLIST_MAX_BYTES >> 20);
        break;
      }
      cap = cap * 2 > RG_BLOCKLIST_MAX_BYTES ? RG_BLOCKLIST_MAX_BYTES : cap * 2;
      o = rg_realloc(o, cap);
    }
    z.next_out = o + n;
    z.avail_out = (uInt)(cap - n);
    rc = inflate(&z, Z_NO_FLUSH);
    n = cap - z.avail_out;
    if (rc == Z_STREAM_END) {
      if (z.avail_in > 0 && z.next_in[0] == 0x1f) { /* another member */
        inflateReset(&z);
        continue;
      }
      break;
    }
    if (rc != Z_OK) {
      *cause = rg_printf("corrupt gzip data: %s", z.msg ? z.msg : "error");
      break;
    }
    if (z.avail_in == 0 && z.avail_out > 0) {
      rc = Z_DATA_ERROR;
      *cause = rg_strdup("truncated gzip data");
      break;
    }
  }
  inflateEnd(&z);
  *out = o;
  *outlen = n;
  return rc == Z_STREAM_END ? 0 : -EINVAL;
}

int rg_blocklist_parse(const uint8_t *buf, size_t len, rg_bl_parsed *out,
                       char **cause) {
  if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
    uint8_t *text = NULL;
    size_t n = 0;
    out->gzip = true;
    int rc = gunzip(buf, len, &text, &n, cause);
    parse_text(out, text, n); /* what inflated before an error still counts */
    free(text);
    return rc;
  }
  if (len > RG_BLOCKLIST_MAX_BYTES) {
    *cause = rg_printf("larger than %u MiB", RG_BLOCKLIST_MAX_BYTES >> 20);
    return -EINVAL;
  }
  parse_text(out, buf, len);
  return 0;
}

void rg_bl_parsed_clear(rg_bl_parsed *p) {
  free(p->ranges);
  memset(p, 0, sizeof *p);
}

bool rg_bl_parsed_contains(const rg_bl_parsed *p, const char *ip) {
  uint8_t a[16];
  int fam;
  if (!parse_ip(ip, strlen(ip), a, &fam))
    return false;
  size_t w = fam == 4 ? 4 : 16;
  for (size_t i = 0; i < p->n; i++)
    if (p->ranges[i].family == fam && memcmp(p->ranges[i].first, a, w) <= 0 &&
        memcmp(a, p->ranges[i].last, w) <= 0)
      return true;
  return false;
}

/* ---------------------------------------------------------------- loading -- */

struct src_report {
  char *source;
  bool url, ok, from_copy, gzip;
  char *error;
  int64_t entries, rejected, allowed, lines, bytes;
  char first_bad[160];
};

struct load {
  rg_blocklist *bl;
  char **sources;
  size_t nsources;
  char *state_dir;
  rg_bl_parsed all;
  struct src_report *rep;
  int64_t finished_s;
};

struct rg_blocklist {
  struct event_base *base;
  rg_engine *engine;
  char **sources;
  size_t nsources;
  char *state_dir;
  int refresh_h;
  struct event *timer;
  bool loading, dead;
  /* the last load applied */
  struct src_report *rep;
  int64_t entries, rejected, allowed, last_load_s, loads;
  int64_t next_refresh_s;
};

static int fetch_url(const char *url, uint8_t **buf, size_t *len, char **err) {
  rg_body b = {.max = RG_BLOCKLIST_MAX_BYTES};
  CURL *c = curl_easy_init();
  if (!c) {
    *err = rg_strdup("cannot start libcurl");
    return -ENOMEM;
  }
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "reelgate/" PACKAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rg_body_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  CURLcode rc = curl_easy_perform(c);
  long code = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || code != 200) {
    *err = b.over ? rg_printf("larger than %u MiB",
                                 RG_BLOCKLIST_MAX_BYTES >> 20)
           : rc != CURLE_OK ? rg_strdup(curl_easy_strerror(rc))
                            : rg_printf("HTTP %ld", code);
    free(b.p);
    return -EIO;
  }
  *buf = b.p ? (uint8_t *)b.p : rg_calloc(1, 1);
  *len = b.len;
  return 0;
}

static char *copy_path(const char *dir, const char *url) {
  uint64_t h = 1469598103934665603ull;
  for (const char *s = url; *s; s++)
    h = (h ^ (uint8_t)*s) * 1099511628211ull;
  return rg_printf("%s/blocklist-%016llx.copy", dir, (unsigned long long)h);
}

static bool is_url(const char *s) {
  return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

/* Loads every source into L (any thread). */
static void load_run(struct load *l) {
  l->rep = rg_calloc(l->nsources ? l->nsources : 1, sizeof *l->rep);
  for (size_t i = 0; i < l->nsources; i++) {
    struct src_report *r = &l->rep[i];
    const char *src = l->sources[i];
    r->source = rg_strdup(src);
    r->url = is_url(src);
    uint8_t *buf = NULL;
    size_t len = 0;
    char *err = NULL;
    int rc;
    if (r->url) {
      char *copy = copy_path(l->state_dir, src);
      rc = fetch_url(src, &buf, &len, &err);
      if (rc == 0) {
        rg_write_file(copy, buf, len, 0600);
      } else if (rg_read_file(copy, RG_BLOCKLIST_MAX_BYTES, &buf, &len) == 0) {
        r->from_copy = true;
        rc = 0;
      }
      free(copy);
    } else {
      rc = rg_read_file(src, RG_BLOCKLIST_MAX_BYTES, &buf, &len);
      if (rc)
        err = rg_strdup(strerror(-rc));
    }
    if (rc == 0) {
      rg_bl_parsed p = {0};
      char *cause = NULL;
      int prc = rg_blocklist_parse(buf, len, &p, &cause);
      r->ok = prc == 0;
      r->entries = (int64_t)p.n;
      r->rejected = p.rejected;
      r->allowed = p.allowed;
      r->lines = p.lines;
      r->gzip = p.gzip;
      r->bytes = (int64_t)len;
      memcpy(r->first_bad, p.first_bad, sizeof r->first_bad);
      for (size_t k = 0; k < p.n; k++)
        add_range(&l->all, &p.ranges[k]);
      l->all.rejected += p.rejected;
      l->all.allowed += p.allowed;
      free(err);
      err = cause;
      rg_bl_parsed_clear(&p);
    }
    if (err) {
      r->error = r->from_copy ? rg_printf("%s (using the saved copy)", err)
                              : err;
      if (r->from_copy)
        free(err);
    }
    free(buf);
  }
  l->finished_s = rg_wall_s();
}

static void load_free(struct load *l) {
  if (!l)
    return;
  for (size_t i = 0; i < l->nsources; i++)
    free(l->sources[i]);
  free(l->sources);
  free(l->state_dir);
  rg_bl_parsed_clear(&l->all);
  free(l->rep); /* reports are moved out or freed by reports_free */
  free(l);
}

static void reports_free(struct src_report *rep, size_t n) {
  for (size_t i = 0; rep && i < n; i++) {
    free(rep[i].source);
    free(rep[i].error);
  }
  free(rep);
}

static struct load *load_new(rg_blocklist *bl) {
  struct load *l = rg_calloc(1, sizeof *l);
  l->bl = bl;
  l->nsources = bl->nsources;
  l->sources = rg_calloc(bl->nsources + 1, sizeof *l->sources);
  for (size_t i = 0; i < bl->nsources; i++)
    l->sources[i] = rg_strdup(bl->sources[i]);
  l->state_dir = rg_strdup(bl->state_dir);
  return l;
}

static void arm_timer(rg_blocklist *bl);

/* Loop thread: applies a finished load and keeps its report. */
static void load_apply(rg_blocklist *bl, struct load *l) {
  int rc = 0;
  if (bl->engine)
    rc = rg_engine_set_ip_filter(bl->engine, l->all.ranges, l->all.n);
  reports_free(bl->rep, bl->nsources);
  bl->rep = l->rep;
  l->rep = NULL;
  bl->entries = (int64_t)l->all.n;
  bl->rejected = l->all.rejected;
  bl->allowed = l->all.allowed;
  bl->last_load_s = l->finished_s;
  bl->loads++;
  int failed = 0;
  for (size_t i = 0; i < bl->nsources; i++)
    failed += bl->rep[i].error && !bl->rep[i].ok;
  rg_metrics_inc("reelgate_blocklist_loads_total",
                 rc || failed ? "result=\"error\"" : "result=\"ok\"");
  rg_metrics_set("reelgate_blocklist_entries", NULL, bl->entries);
  rg_metrics_set("reelgate_blocklist_rejected_lines", NULL, bl->rejected);
  if (rc)
    rg_error("libtorrent refused the IP filter: %s",
             strerror(-rc));
  else
    rg_info("%lld ranges blocked from %zu source(s), %lld "
            "malformed line(s) skipped%s",
            (long long)bl->entries, bl->nsources, (long long)bl->rejected,
            failed ? ", some sources failed (GET /api/blocklist)" : "");
  for (size_t i = 0; i < bl->nsources; i++) {
    struct src_report *r = &bl->rep[i];
    if (r->error)
      rg_warn("blocklist %s: %s", r->source, r->error);
    if (r->rejected)
      rg_warn("blocklist %s: %lld malformed line(s), first %s", r->source,
              (long long)r->rejected, r->first_bad);
  }
}

static void on_load_done(void *arg) {
  struct load *l = arg;
  rg_blocklist *bl = l->bl;
  bl->loading = false;
  if (bl->dead) {
    reports_free(l->rep, l->nsources);
    l->rep = NULL;
    load_free(l);
    rg_blocklist_free(&bl);
    return;
  }
  load_apply(bl, l);
  load_free(l);
  arm_timer(bl);
}

static void *load_thread(void *arg) {
  struct load *l = arg;
  load_run(l);
  if (rg_loop_call(on_load_done, l) != 0) {
    /* the daemon is stopping: nobody waits for this load */
    reports_free(l->rep, l->nsources);
    l->rep = NULL;
    load_free(l);
  }
  return NULL;
}

bool rg_blocklist_refresh(rg_blocklist *bl) {
  if (!bl || bl->loading || bl->nsources == 0)
    return false;
  struct load *l = load_new(bl);
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  bool ok = pthread_create(&th, &at, load_thread, l) == 0;
  pthread_attr_destroy(&at);
  if (!ok) {
    load_free(l);
    return false;
  }
  bl->loading = true;
  return true;
}

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  rg_blocklist *bl = arg;
  if (!rg_blocklist_refresh(bl))
    arm_timer(bl);
}

static void arm_timer(rg_blocklist *bl) {
  if (!bl->timer || bl->refresh_h <= 0)
    return;
  struct timeval tv = {(time_t)bl->refresh_h * 3600, 0};
  evtimer_add(bl->timer, &tv);
  bl->next_refresh_s = rg_wall_s() + (int64_t)bl->refresh_h * 3600;
}

rg_blocklist *rg_blocklist_new(struct event_base *base, rg_engine *engine,
                               const char *sources, const char *state_dir,
                               int refresh_h) {
  rg_blocklist *bl = rg_calloc(1, sizeof *bl);
  bl->base = base;
  bl->engine = engine;
  bl->state_dir = rg_strdup(state_dir ? state_dir : ".");
  bl->refresh_h = refresh_h;
  const char *s = sources ? sources : "";
  while (*s) {
    s += strspn(s, ",; \t\r\n");
    size_t n = strcspn(s, ",; \t\r\n");
    if (!n)
      break;
    bl->sources = rg_realloc(bl->sources, (bl->nsources + 1) * sizeof(char *));
    bl->sources[bl->nsources++] = rg_strndup(s, n);
    s += n;
  }
  if (base)
    bl->timer = evtimer_new(base, on_timer, bl);
  return bl;
}

int64_t rg_blocklist_load_now(rg_blocklist *bl) {
  if (!bl || bl->nsources == 0)
    return 0;
  struct load *l = load_new(bl);
  load_run(l);
  load_apply(bl, l);
  load_free(l);
  arm_timer(bl);
  return bl->entries;
}

json_t *rg_blocklist_json(rg_blocklist *bl) {
  json_t *srcs = json_array();
  for (size_t i = 0; bl && bl->rep && i < bl->nsources; i++) {
    struct src_report *r = &bl->rep[i];
    json_t *o = json_pack(
        "{s:s, s:s, s:b, s:b, s:b, s:I, s:I, s:I, s:I, s:I}", "source",
        r->source, "kind", r->url ? "url" : "file", "ok", r->ok,
        "from_saved_copy", r->from_copy, "gzip", r->gzip, "entries",
        (json_int_t)r->entries, "rejected_lines", (json_int_t)r->rejected,
        "allowed_lines", (json_int_t)r->allowed, "lines",
        (json_int_t)r->lines, "bytes", (json_int_t)r->bytes);
    json_object_set_new(o, "error", r->error ? json_string(r->error)
                                             : json_null());
    json_object_set_new(o, "first_rejected",
                        r->first_bad[0] ? json_string(r->first_bad)
                                        : json_null());
    json_array_append_new(srcs, o);
  }
  json_t *o = json_pack(
      "{s:b, s:o, s:I, s:I, s:I, s:I, s:b, s:i}", "enabled",
      bl && bl->nsources > 0, "sources", srcs, "entries",
      (json_int_t)(bl ? bl->entries : 0), "rejected_lines",
      (json_int_t)(bl ? bl->rejected : 0), "allowed_lines",
      (json_int_t)(bl ? bl->allowed : 0), "loads",
      (json_int_t)(bl ? bl->loads : 0), "loading", bl && bl->loading,
      "refresh_hours", bl ? bl->refresh_h : 0);
  json_object_set_new(o, "last_load",
                      bl && bl->last_load_s ? json_integer(bl->last_load_s)
                                            : json_null());
  json_object_set_new(o, "next_refresh",
                      bl && bl->next_refresh_s
                          ? json_integer(bl->next_refresh_s)
                          : json_null());
  json_object_set_new(
      o, "blocked_connections",
      json_integer(bl && bl->engine ? rg_engine_blocked_peers(bl->engine)
                                    : 0));
  return o;
}

void rg_blocklist_free(rg_blocklist **blp) {
  rg_blocklist *bl = *blp;
  if (!bl)
    return;
  *blp = NULL;
  if (bl->timer) {
    event_free(bl->timer);
    bl->timer = NULL;
  }
  if (bl->loading) { /* the worker's result frees us (on_load_done) */
    bl->dead = true;
    return;
  }
  reports_free(bl->rep, bl->nsources);
  for (size_t i = 0; i < bl->nsources; i++)
    free(bl->sources[i]);
  free(bl->sources);
  free(bl->state_dir);
  free(bl);
}
