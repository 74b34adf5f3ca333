/* metrics.c — the Prometheus registry of metrics.h.
 *
 * Series live in one fixed open-addressing table keyed by "name\0labels".
 * A slot goes empty → claimed (one thread writes its key) → ready; readers
 * of a claimed slot wait for it to become ready (a few instructions). Values
 * are atomics, so updates from FUSE workers never take a lock and the
 * render may see a histogram mid-update (Prometheus tolerates that: the
 * count is read last and clamped to the buckets). The table never shrinks:
 * label sets must be bounded (see metrics.h). */
#include "config.h"

#include "metrics.h"
#include "util.h"

#include <event2/http.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLOTS (RG_METRICS_MAX_SERIES * 2)
#define KEY_MAX 200

enum kind { K_COUNTER, K_GAUGE, K_HISTOGRAM };

static const double buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,  0.1,    0.25,  0.5,  1,
                                 2.5,   5,      10,    30,   60};
#define NB (sizeof buckets / sizeof buckets[0])

struct series {
  _Atomic int state; /* 0 empty, 1 claimed, 2 ready */
  char key[KEY_MAX]; /* name, NUL, labels, NUL */
  uint8_t kind;
  _Atomic int64_t v; /* counter/gauge value; histogram: count */
  _Atomic int64_t sum_us;
  _Atomic int64_t b[NB]; /* per-bucket (not cumulative) counts */
};

static struct series table[SLOTS];
static _Atomic int nseries;

static const struct family {
  const char *name;
  enum kind kind;
  const char *help;
} families[] = {
    {"reelgate_http_requests_total", K_COUNTER,
     "HTTP requests answered, by method and status code"},
    {"reelgate_http_request_seconds", K_HISTOGRAM,
     "time from an HTTP request to the end of its reply"},
    {"reelgate_http_bytes_total", K_COUNTER,
     "payload bytes sent by the streaming routes, by route"},
    {"reelgate_read_bytes_total", K_COUNTER,
     "bytes handed to readers (HTTP, FUSE, HLS) by source: warm = the "
     "warmup store, cache = already on disk when asked, swarm = had to wait "
     "for the swarm"},
    {"reelgate_read_latency_seconds", K_HISTOGRAM,
     "time a reader waited for its data, by source"},
    {"reelgate_read_errors_total", K_COUNTER,
     "reads that failed, by cause"},
    {"reelgate_fuse_ops_total", K_COUNTER, "FUSE operations, by operation"},
    {"reelgate_fuse_op_seconds", K_HISTOGRAM,
     "time a FUSE operation took until its reply, by operation"},
    {"reelgate_sync_runs_total", K_COUNTER, "sync job runs, by job and result"},
    {"reelgate_webhook_events_total", K_COUNTER,
     "webhook events received, by source and event"},
    {"reelgate_blocklist_loads_total", K_COUNTER,
     "blocklist loads, by result"},
    {"reelgate_metrics_dropped_series_total", K_COUNTER,
     "series not recorded because the registry was full"},
};

static const struct family *family_of(const char *name) {
  for (size_t i = 0; i < RG_ARRAY_LEN(families); i++)
    if (strcmp(families[i].name, name) == 0)
      return &families[i];
  return NULL;
}

static enum kind kind_of(const char *name) {
  const struct family *f = family_of(name);
  if (f)
    return f->kind;
  size_t n = strlen(name);
  return n > 6 && strcmp(name + n - 6, "_total") == 0 ? K_COUNTER : K_GAUGE;
}

static uint64_t hash_key(const char *k, size_t n) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < n; i++)
    h = (h ^ (uint8_t)k[i]) * 1099511628211ull;
  return h;
}

#define DROPPED "reelgate_metrics_dropped_series_total"

/* The series for NAME{LABELS}, created if new; NULL when full. */
static struct series *lookup(const char *name, const char *labels) {
  char key[KEY_MAX];
  size_t nl = strlen(name), ll = labels ? strlen(labels) : 0;
  if (nl + ll + 2 > KEY_MAX)
    return NULL;
  memcpy(key, name, nl + 1);
  if (ll)
    memcpy(key + nl + 1, labels, ll);
  key[nl + 1 + ll] = 0;
  size_t klen = nl + ll + 2;
  uint64_t h = hash_key(key, klen);
  for (size_t i = 0; i < SLOTS; i++) {
    struct series *s = &table[(h + i) % SLOTS];
    int st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (st == 0) {
      /* the dropped-series counter always finds room (SLOTS > MAX) */
      if (atomic_load(&nseries) >= RG_METRICS_MAX_SERIES &&
          strcmp(name, DROPPED) != 0)
        return NULL;
      int expect = 0;
      if (atomic_compare_exchange_strong(&s->state, &expect, 1)) {
        atomic_fetch_add(&nseries, 1);
        memcpy(s->key, key, klen);
        s->kind = (uint8_t)kind_of(name);
        atomic_store_explicit(&s->state, 2, memory_order_release);
        return s;
      }
      st = expect;
    }
    while (st == 1) /* another thread is writing this slot's key */
      st = atomic_load_explicit(&s->state, memory_order_acquire);
    if (memcmp(s->key, key, klen) == 0)
      return s;
  }
  return NULL;
}

static void dropped(void) {
  struct series *s = lookup(DROPPED, NULL);
  if (s)
    atomic_fetch_add(&s->v, 1);
}

void rg_metrics_add(const char *name, const char *labels, int64_t v) {
  struct series *s = lookup(name, labels);
  if (!s) {
    dropped();
    return;
  }
  atomic_fetch_add_explicit(&s->v, v, memory_order_relaxed);
}

void rg_metrics_inc(const char *name, const char *labels) {
  rg_metrics_add(name, labels, 1);
}

void rg_metrics_set(const char *name, const char *labels, int64_t v) {
  struct series *s = lookup(name, labels);
  if (!s) {
    dropped();
    return;
  }
  atomic_store_explicit(&s->v, v, memory_order_relaxed);
}

void rg_metrics_observe(const char *name, const char *labels, double seconds) {
  struct series *s = lookup(name, labels);
  if (!s) {
    dropped();
    return;
  }
  if (seconds < 0)
    seconds = 0;
  size_t i = 0;
  while (i < NB && seconds > buckets[i])
    i++;
  if (i < NB)
    atomic_fetch_add_explicit(&s->b[i], 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&s->sum_us, (int64_t)(seconds * 1e6),
                            memory_order_relaxed);
  atomic_fetch_add_explicit(&s->v, 1, memory_order_release);
}

int64_t rg_metrics_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void rg_metrics_escape(const char *in, char *buf, size_t len) {
  size_t o = 0;
  for (; in && *in && o + 3 < len; in++) {
    char c = *in;
    if (c == '\\' || c == '"') {
      buf[o++] = '\\';
      buf[o++] = c;
    } else if (c == '\n') {
      buf[o++] = '\\';
      buf[o++] = 'n';
    } else {
      buf[o++] = c;
    }
  }
  if (len)
    buf[o < len ? o : len - 1] = 0;
}

void rg_metrics_read(int err, int warm, int64_t bytes, int64_t waited_ms) {
  if (err) {
    rg_metrics_inc("reelgate_read_errors_total",
                   err == -110 /* ETIMEDOUT */ ? "cause=\"timeout\""
                   : err == -2 /* ENOENT */    ? "cause=\"removed\""
                                               : "cause=\"io\"");
    return;
  }
  const char *l = warm              ? "source=\"warm\""
                  : waited_ms > 5   ? "source=\"swarm\""
                                    : "source=\"cache\"";
  rg_metrics_add("reelgate_read_bytes_total", l, bytes);
  rg_metrics_observe("reelgate_read_latency_seconds", l,
                     (double)(waited_ms < 0 ? 0 : waited_ms) / 1e3);
}

void rg_metrics_fuse_done(rg_metrics_timer *t) {
  char labels[64];
  snprintf(labels, sizeof labels, "op=\"%s\"", t->op);
  rg_metrics_inc("reelgate_fuse_ops_total", labels);
  rg_metrics_observe("reelgate_fuse_op_seconds", labels,
                     (double)(rg_metrics_now_us() - t->t0_us) / 1e6);
}

static const char *method_name(enum evhttp_cmd_type m) {
  switch (m) {
  case EVHTTP_REQ_GET:
    return "GET";
  case EVHTTP_REQ_HEAD:
    return "HEAD";
  case EVHTTP_REQ_POST:
    return "POST";
  case EVHTTP_REQ_PUT:
    return "PUT";
  case EVHTTP_REQ_DELETE:
    return "DELETE";
  case EVHTTP_REQ_OPTIONS:
    return "OPTIONS";
  case EVHTTP_REQ_PATCH:
    return "PATCH";
  default:
    return "OTHER";
  }
}

static void on_http_complete(struct evhttp_request *req, void *arg) {
  int64_t t0 = (int64_t)(intptr_t)arg;
  char labels[64];
  snprintf(labels, sizeof labels, "method=\"%s\",code=\"%d\"",
           method_name(evhttp_request_get_command(req)),
           evhttp_request_get_response_code(req));
  rg_metrics_inc("reelgate_http_requests_total", labels);
  rg_metrics_observe("reelgate_http_request_seconds", NULL,
                     (double)(rg_metrics_now_us() - t0) / 1e6);
}

void rg_metrics_http_begin(struct evhttp_request *req) {
  evhttp_request_set_on_complete_cb(req, on_http_complete,
                                    (void *)(intptr_t)rg_metrics_now_us());
}

/* ---- rendering ---- */

struct buf {
  char *p;
  size_t n, cap;
};

static void bprintf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bprintf(struct buf *b, const char *fmt, ...) {
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    if (m < 0)
      return;
    if ((size_t)m < b->cap - b->n) {
      b->n += (size_t)m;
      return;
    }
    b->cap = b->cap * 2 + (size_t)m + 1;
    b->p = rg_realloc(b->p, b->cap);
  }
}

static int by_key(const void *a, const void *b) {
  const struct series *x = *(const struct series *const *)a;
  const struct series *y = *(const struct series *const *)b;
  int c = strcmp(x->key, y->key);
  if (c)
    return c;
  return strcmp(x->key + strlen(x->key) + 1, y->key + strlen(y->key) + 1);
}

/* "{labels,extra}" or "{extra}" or "" */
static void labelset(struct buf *b, const char *labels, const char *extra) {
  bool l = labels && *labels, e = extra && *extra;
  if (!l && !e)
    return;
  bprintf(b, "{%s%s%s}", l ? labels : "", l && e ? "," : "", e ? extra : "");
}

char *rg_metrics_render(const char *extra) {
  struct buf b = {rg_malloc(16384), 0, 16384};
  b.p[0] = 0;
  if (extra)
    bprintf(&b, "%s", extra);
  struct series **v = rg_malloc(sizeof *v * SLOTS);
  size_t n = 0;
  for (size_t i = 0; i < SLOTS; i++)
    if (atomic_load_explicit(&table[i].state, memory_order_acquire) == 2)
      v[n++] = &table[i];
  qsort(v, n, sizeof *v, by_key);
  const char *last = "";
  for (size_t i = 0; i < n; i++) {
    struct series *s = v[i];
    const char *name = s->key;
    const char *labels = s->key + strlen(name) + 1;
    if (strcmp(name, last) != 0) {
      const struct family *f = family_of(name);
      const char *type = s->kind == K_COUNTER   ? "counter"
                         : s->kind == K_GAUGE   ? "gauge"
                                                : "histogram";
      bprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", name,
              f ? f->help : "reelgate metric", name, type);
      last = name;
    }
    if (s->kind != K_HISTOGRAM) {
      bprintf(&b, "%s", name);
      labelset(&b, labels, NULL);
      bprintf(&b, " %" PRId64 "\n",
              atomic_load_explicit(&s->v, memory_order_relaxed));
      continue;
    }
    int64_t cum = 0;
    char le[48];
    for (size_t k = 0; k < NB; k++) {
      cum += atomic_load_explicit(&s->b[k], memory_order_relaxed);
      snprintf(le, sizeof le, "le=\"%g\"", buckets[k]);
      bprintf(&b, "%s_bucket", name);
      labelset(&b, labels, le);
      bprintf(&b, " %" PRId64 "\n", cum);
    }
    int64_t count = atomic_load_explicit(&s->v, memory_order_acquire);
    if (count < cum)
      count = cum;
    bprintf(&b, "%s_bucket", name);
    labelset(&b, labels, "le=\"+Inf\"");
    bprintf(&b, " %" PRId64 "\n%s_sum", count, name);
    labelset(&b, labels, NULL);
    bprintf(&b, " %.6f\n%s_count", (double)atomic_load(&s->sum_us) / 1e6,
            name);
    labelset(&b, labels, NULL);
    bprintf(&b, " %" PRId64 "\n", count);
  }
  free(v);
  return b.p;
}

void rg_metrics_reset(void) {
  for (size_t i = 0; i < SLOTS; i++) {
    struct series *s = &table[i];
    atomic_store(&s->state, 0);
    atomic_store(&s->v, 0);
    atomic_store(&s->sum_us, 0);
    for (size_t k = 0; k < NB; k++)
      atomic_store(&s->b[k], 0);
  }
  atomic_store(&nseries, 0);
}
