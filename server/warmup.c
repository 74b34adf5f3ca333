/* warmup.c — the warmup store (see warmup.h).
 *
 * Owns: the tables warm_files (one row per file with a warm block or a known
 * tail: size, LRU clock, tail spans) and warm_blocks (the block-validity
 * bitmap, one row per 256 MiB of file that holds a valid block), the mirror
 * files under <dir>/<hash>/<index>, and an in-memory index (hash table of
 * files → sparse bitmaps) loaded at start, so a lookup never touches SQLite.
 *
 * Threads. Everything in struct rg_warmup belongs to the loop thread. Copies
 * run elsewhere and see only their own job and the shared "hub":
 *  - the copy worker (one thread, joined at free) takes jobs from a bounded
 *    queue: pread from the cache file, pwrite into the mirror, fdatasync;
 *  - the fill thread (at most one at a time, detached) reads on-demand fills
 *    through rg_bread, which waits on the swarm, and writes them the same way.
 * A finished job goes back to the loop with rg_loop_call and is published
 * there: its bits are set in memory and committed to SQLite. The hub is
 * reference-counted and outlives the store: a job that comes back after
 * rg_warmup_free finds hub->w NULL and is dropped.
 *
 * Invariants.
 *  - A bit is set (in memory or SQLite) only after its block's bytes were
 *    fdatasync'ed into the mirror, so what is served after a crash is never
 *    torn. Blocks written but not published are just unused space.
 *  - Eviction commits the bit deletion before unlinking the mirror; mirror
 *    files without valid blocks are removed at the next start.
 *  - Each file entry has a generation, renewed when it is evicted: a job
 *    started before an eviction may have written into the unlinked inode, so
 *    it must not publish into the new one.
 *  - used + pending ≤ quota: a copy is queued only once room is reserved,
 *    evicting other files least recently used first. */
#include "config.h"

#include "warmup.h"

#include "bread.h"
#include "log.h"
#include "loop.h"
#include "torrents.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BSHIFT 16
#define BSIZE ((int64_t)1 << BSHIFT)
#define CHUNK_BLOCKS 4096 /* blocks per bitmap row: 256 MiB of file */
#define CHUNK_BYTES (CHUNK_BLOCKS / 8)
#define JOB_BLOCKS 64 /* 4 MiB: the longest copy free() waits for */
#define QUEUE_MAX 64  /* offers beyond this are dropped */
#define FILLS_MAX 64  /* queued on-demand fills (files) */
#define FLUSH_S 30    /* how often the LRU clock is persisted */
#define FILL_WAIT_MS 2000
#define RUNS 4       /* recent offers remembered per file */
#define RUN_MS 10000 /* … for this long */

#define DEFAULT_QUOTA ((int64_t)32 << 30)
#define DEFAULT_HEAD ((int64_t)64 << 20)
#define DEFAULT_TAIL ((int64_t)2 << 20)

_Static_assert(RG_WARMUP_BLOCK == (1 << BSHIFT), "block size");
_Static_assert(JOB_BLOCKS <= 64, "a job's stale mask is 64 bits");

/* ------------------------------------------------------------ bitmaps -- */

/* A sparse bitmap: one lazily allocated chunk per CHUNK_BLOCKS blocks. */
typedef struct bitmap {
  uint8_t **chunks;
  int64_t nchunks;
} bitmap;

static void bm_init(bitmap *m, int64_t nblocks) {
  m->nchunks = (nblocks + CHUNK_BLOCKS - 1) / CHUNK_BLOCKS;
  m->chunks =
      rg_calloc((size_t)(m->nchunks ? m->nchunks : 1), sizeof *m->chunks);
}

static inline bool bm_get(const bitmap *m, int64_t b) {
  const uint8_t *c = m->chunks[b / CHUNK_BLOCKS];
  int64_t i = b % CHUNK_BLOCKS;
  return c && (c[i >> 3] >> (i & 7)) & 1;
}

static void bm_set(bitmap *m, int64_t b, bool v) {
  uint8_t **c = &m->chunks[b / CHUNK_BLOCKS];
  int64_t i = b % CHUNK_BLOCKS;
  if (!*c) {
    if (!v)
      return;
    *c = rg_calloc(1, CHUNK_BYTES);
  }
  if (v)
    (*c)[i >> 3] |= (uint8_t)(1u << (i & 7));
  else
    (*c)[i >> 3] &= (uint8_t) ~(1u << (i & 7));
}

static void bm_clear(bitmap *m) {
  for (int64_t i = 0; i < m->nchunks; i++) {
    free(m->chunks[i]);
    m->chunks[i] = NULL;
  }
}

static void bm_free(bitmap *m) {
  if (m->chunks)
    bm_clear(m);
  free(m->chunks);
  m->chunks = NULL;
}

/* ---------------------------------------------------------- structures -- */

/* A recent offer: [a, b) of the file, offered at t_ms. */
typedef struct run {
  int64_t a, b, t_ms;
} run;

typedef struct wfile {
  struct wfile *next; /* hash chain */
  char hash[41];
  int index;
  int64_t size, nblocks;
  uint64_t gen;
  uint64_t last_used; /* wall ms, made strictly increasing */
  bool used_dirty, in_db, tail_known;
  int64_t (*tail)[2];
  int ntail;
  bitmap have, pend;
  int64_t warm_bytes, pend_bytes;
  char *path;     /* <dir>/<hash>/<index> */
  run runs[RUNS]; /* recent offers, joined with the next ones */
  int next_run;
} wfile;

struct hub;

typedef struct job {
  struct job *next;
  struct hub *hub;
  char hash[41];
  int index;
  uint64_t gen;
  int64_t size, b0, b1; /* blocks [b0, b1) of a file of SIZE bytes */
  char *src;            /* the cache file; NULL for a fill */
  char *dst, *dir;      /* the mirror and its directory */
  bool ok;
  uint64_t stale; /* bit i: block b0+i was released by the cache: skip */
} job;

typedef struct fill {
  struct fill *next;
  struct rg_tm *tm;
  char hash[41];
  int index, timeout_s;
  job *jobs;
} fill;

/* What the threads share; freed by its last reference. */
typedef struct hub {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  atomic_bool stop;
  job *qhead, *qtail;
  int nq;
  fill *fhead, *ftail;
  int nfills;
  bool fill_running;
  rg_warmup *w; /* loop thread only; NULL once the store is freed */
} hub;

struct rg_warmup {
  rg_store *store;
  sqlite3 *db;
  char *dir;
  int64_t quota, head_bytes, fixed_tail;
  wfile **buckets;
  size_t nbuckets, nfiles;
  int64_t used, pending, copied, dropped;
  int jobs; /* handed to a thread, not yet back */
  uint64_t clock, next_gen;
  hub *hub;
  pthread_t worker;
  bool worker_started, crash;
  struct event *flush_ev;
  struct rg_tm *tm; /* watched for removals, or NULL */
};

/* ------------------------------------------------------------- helpers -- */

static uint64_t key_hash(const char *h, int index) {
  uint64_t x = 1469598103934665603ull;
  for (int i = 0; i < 40; i++) {
    x ^= (uint64_t)tolower((unsigned char)h[i]);
    x *= 1099511628211ull;
  }
  x ^= (uint64_t)(uint32_t)index;
  x *= 1099511628211ull;
  return x;
}

static wfile *find(rg_warmup *w, const char *hash, int index) {
  if (!rg_is_hex40(hash))
    return NULL;
  wfile *e = w->buckets[key_hash(hash, index) & (w->nbuckets - 1)];
  for (; e; e = e->next)
    if (e->index == index && strcasecmp(e->hash, hash) == 0)
      return e;
  return NULL;
}

static void rehash(rg_warmup *w) {
  size_t n = w->nbuckets * 2;
  wfile **b = rg_calloc(n, sizeof *b);
  for (size_t i = 0; i < w->nbuckets; i++) {
    wfile *e = w->buckets[i], *next;
    for (; e; e = next) {
      next = e->next;
      size_t k = key_hash(e->hash, e->index) & (n - 1);
      e->next = b[k];
      b[k] = e;
    }
  }
  free(w->buckets);
  w->buckets = b;
  w->nbuckets = n;
}

static uint64_t tick(rg_warmup *w) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  uint64_t now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
  w->clock = now > w->clock ? now : w->clock + 1;
  return w->clock;
}

static wfile *add_file(rg_warmup *w, const char *hash, int index,
                       int64_t size) {
  if (w->nfiles + 1 > w->nbuckets)
    rehash(w);
  wfile *e = rg_calloc(1, sizeof *e);
  for (int i = 0; i < 40; i++)
    e->hash[i] = (char)tolower((unsigned char)hash[i]);
  e->index = index;
  e->size = size;
  e->nblocks = (size + BSIZE - 1) >> BSHIFT;
  e->gen = ++w->next_gen;
  bm_init(&e->have, e->nblocks);
  bm_init(&e->pend, e->nblocks);
  e->path = rg_printf("%s/%s/%d", w->dir, e->hash, index);
  size_t k = key_hash(e->hash, index) & (w->nbuckets - 1);
  e->next = w->buckets[k];
  w->buckets[k] = e;
  w->nfiles++;
  return e;
}

static void unlink_file(rg_warmup *w, wfile *e) {
  wfile **p = &w->buckets[key_hash(e->hash, e->index) & (w->nbuckets - 1)];
  while (*p != e)
    p = &(*p)->next;
  *p = e->next;
  w->nfiles--;
  bm_free(&e->have);
  bm_free(&e->pend);
  free(e->tail);
  free(e->path);
  free(e);
}

/* Bytes of blocks [b0, b1) of E (the last block may be short). */
static int64_t block_bytes(const wfile *e, int64_t b0, int64_t b1) {
  int64_t end = b1 << BSHIFT;
  if (end > e->size)
    end = e->size;
  return end - (b0 << BSHIFT);
}

/* ----------------------------------------------------------- database -- */

static int exec(rg_warmup *w, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(w->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    rg_error("warmup database: %s", err ? err : sqlite3_errmsg(w->db));
    sqlite3_free(err);
    return -EIO;
  }
  return 0;
}

static sqlite3_stmt *prep(rg_warmup *w, const char *sql) {
  return rg_db_prep(w->db, "warmup database", sql);
}

static int step_done(rg_warmup *w, sqlite3_stmt *st) {
  if (!st)
    return -EIO;
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    rg_error("warmup database write failed: %s", sqlite3_errmsg(w->db));
    return -EIO;
  }
  return 0;
}

static char *tail_text(const wfile *e) {
  if (!e->tail_known)
    return NULL;
  json_t *a = json_array();
  for (int i = 0; i < e->ntail; i++)
    json_array_append_new(a, json_pack("[II]", (json_int_t)e->tail[i][0],
                                       (json_int_t)e->tail[i][1]));
  char *s = json_dumps(a, JSON_COMPACT);
  json_decref(a);
  return s;
}

static int put_row(rg_warmup *w, wfile *e) {
  sqlite3_stmt *st = prep(
      w,
      "INSERT INTO warm_files(hash, idx, size, last_used, tail) "
      "VALUES(?,?,?,?,?) ON CONFLICT(hash, idx) DO UPDATE SET "
      "size=excluded.size, last_used=excluded.last_used, tail=excluded.tail");
  if (!st)
    return -EIO;
  char *t = tail_text(e);
  sqlite3_bind_text(st, 1, e->hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, e->index);
  sqlite3_bind_int64(st, 3, e->size);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)e->last_used);
  if (t)
    sqlite3_bind_text(st, 5, t, -1, free);
  else
    sqlite3_bind_null(st, 5);
  int rc = step_done(w, st);
  if (!rc) {
    e->in_db = true;
    e->used_dirty = false;
  }
  return rc;
}

static int put_chunk(rg_warmup *w, wfile *e, int64_t c) {
  sqlite3_stmt *st =
      prep(w, "INSERT OR REPLACE INTO warm_blocks(hash, idx, chunk, bits) "
              "VALUES(?,?,?,?)");
  if (!st)
    return -EIO;
  sqlite3_bind_text(st, 1, e->hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, e->index);
  sqlite3_bind_int64(st, 3, c);
  sqlite3_bind_blob(st, 4, e->have.chunks[c], CHUNK_BYTES, SQLITE_STATIC);
  return step_done(w, st);
}

static int del_rows(rg_warmup *w, wfile *e, bool row_too) {
  sqlite3_stmt *st =
      prep(w, "DELETE FROM warm_blocks WHERE hash = ? AND idx = ?");
  if (!st)
    return -EIO;
  sqlite3_bind_text(st, 1, e->hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, e->index);
  int rc = step_done(w, st);
  if (rc || !row_too)
    return rc;
  st = prep(w, "DELETE FROM warm_files WHERE hash = ? AND idx = ?");
  if (!st)
    return -EIO;
  sqlite3_bind_text(st, 1, e->hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, e->index);
  rc = step_done(w, st);
  if (!rc)
    e->in_db = false;
  return rc;
}

/* Persists the LRU clock of every file used since the last flush. */
static void flush_used(rg_warmup *w) {
  bool any = false;
  for (size_t i = 0; i < w->nbuckets && !any; i++)
    for (wfile *e = w->buckets[i]; e; e = e->next)
      if (e->used_dirty && e->in_db)
        any = true;
  if (!any || exec(w, "BEGIN"))
    return;
  for (size_t i = 0; i < w->nbuckets; i++)
    for (wfile *e = w->buckets[i]; e; e = e->next) {
      if (!e->used_dirty || !e->in_db)
        continue;
      sqlite3_stmt *st = prep(
          w, "UPDATE warm_files SET last_used = ? WHERE hash = ? AND idx = ?");
      if (!st)
        continue;
      sqlite3_bind_int64(st, 1, (sqlite3_int64)e->last_used);
      sqlite3_bind_text(st, 2, e->hash, -1, SQLITE_STATIC);
      sqlite3_bind_int(st, 3, e->index);
      if (step_done(w, st) == 0)
        e->used_dirty = false;
    }
  exec(w, "COMMIT");
}

static void on_flush(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what;
  flush_used(arg);
}

/* ------------------------------------------------------------ regions -- */

static int span_cmp(const void *a, const void *b) {
  const int64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sorts, clips to [0, SIZE) and merges N spans in place; returns the count
 * left. */
static int spans_normalize(int64_t (*s)[2], int n, int64_t size) {
  int k = 0;
  for (int i = 0; i < n; i++) {
    int64_t a = s[i][0], len = s[i][1];
    if (a < 0 || len <= 0 || a >= size)
      continue;
    if (len > size - a)
      len = size - a;
    s[k][0] = a;
    s[k][1] = len;
    k++;
  }
  qsort(s, (size_t)k, sizeof *s, span_cmp);
  int m = 0;
  for (int i = 0; i < k; i++) {
    if (m && s[i][0] <= s[m - 1][0] + s[m - 1][1]) {
      int64_t end = s[i][0] + s[i][1];
      if (end > s[m - 1][0] + s[m - 1][1])
        s[m - 1][1] = end - s[m - 1][0];
    } else {
      s[m][0] = s[i][0];
      s[m][1] = s[i][1];
      m++;
    }
  }
  return m;
}

/* The tail spans of a file (E may be NULL), not merged with the head. */
static int64_t (*tail_spans(rg_warmup *w, const wfile *e, int64_t size,
                            int *n))[2] {
  int64_t(*s)[2];
  if (e && e->tail_known) {
    s = rg_malloc(sizeof *s * (size_t)(e->ntail + 1));
    memcpy(s, e->tail, sizeof *s * (size_t)e->ntail);
    *n = spans_normalize(s, e->ntail, size);
    return s;
  }
  s = rg_malloc(sizeof *s);
  int64_t t = w->fixed_tail < size ? w->fixed_tail : size;
  s[0][0] = size - t;
  s[0][1] = t;
  *n = spans_normalize(s, 1, size);
  return s;
}

static int64_t (*regions(rg_warmup *w, const wfile *e, int64_t size,
                         int *n))[2] {
  int nt;
  int64_t(*t)[2] = tail_spans(w, e, size, &nt);
  int64_t(*s)[2] = rg_malloc(sizeof *s * (size_t)(nt + 1));
  s[0][0] = 0;
  s[0][1] = w->head_bytes < size ? w->head_bytes : size;
  memcpy(s + 1, t, sizeof *s * (size_t)nt);
  free(t);
  *n = spans_normalize(s, nt + 1, size);
  return s;
}

/* Warm bytes of E inside [A, A+LEN). */
static int64_t warm_in(const wfile *e, int64_t a, int64_t len) {
  int64_t got = 0, end = a + len;
  for (int64_t b = a >> BSHIFT; b < e->nblocks && (b << BSHIFT) < end; b++) {
    if (!bm_get(&e->have, b))
      continue;
    int64_t s = b << BSHIFT, t = s + BSIZE;
    if (s < a)
      s = a;
    if (t > end)
      t = end;
    got += t - s;
  }
  return got;
}

/* ----------------------------------------------------------- eviction -- */

/* Drops E's warm blocks: bits first (committed), then the mirror. */
static void evict(rg_warmup *w, wfile *e) {
  if (e->in_db)
    del_rows(w, e, false);
  if (unlink(e->path) != 0 && errno != ENOENT)
    rg_warn("cannot remove %s: %s", e->path, strerror(errno));
  rg_debug("evicted %s/%d (%" PRId64 " bytes)", e->hash, e->index,
           e->warm_bytes);
  w->used -= e->warm_bytes;
  w->pending -= e->pend_bytes;
  e->warm_bytes = e->pend_bytes = 0;
  bm_clear(&e->have);
  bm_clear(&e->pend);
  e->gen = ++w->next_gen;
}

static wfile *lru_victim(rg_warmup *w, const wfile *keep) {
  wfile *v = NULL;
  for (size_t i = 0; i < w->nbuckets; i++)
    for (wfile *e = w->buckets[i]; e; e = e->next)
      if (e != keep && e->warm_bytes > 0 && (!v || e->last_used < v->last_used))
        v = e;
  return v;
}

/* Makes room for blocks [B0, *B1) of E, evicting other files LRU first;
 * when even that is not enough, shortens the run to what fits. False if not
 * one block fits. */
static bool reserve(rg_warmup *w, wfile *e, int64_t b0, int64_t *b1) {
  while (w->used + w->pending + block_bytes(e, b0, *b1) > w->quota) {
    wfile *v = lru_victim(w, e);
    if (v) {
      evict(w, v);
      continue;
    }
    int64_t room = w->quota - w->used - w->pending;
    if (room < BSIZE && block_bytes(e, b0, b0 + 1) > room)
      return false;
    int64_t fit = room / BSIZE;
    *b1 = fit >= 1 && b0 + fit < *b1 ? b0 + fit : b0 + 1;
    return block_bytes(e, b0, *b1) <= room;
  }
  return true;
}

/* -------------------------------------------------------------- copies -- */

static void hub_unref(hub *h) {
  pthread_mutex_lock(&h->mu);
  int left = --h->refs;
  pthread_mutex_unlock(&h->mu);
  if (left)
    return;
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h);
}

static void job_free(job *j) {
  if (!j)
    return;
  free(j->src);
  free(j->dst);
  free(j->dir);
  hub *h = j->hub;
  free(j);
  if (h)
    hub_unref(h);
}

static void jobs_free(job *j) {
  while (j) {
    job *next = j->next;
    job_free(j);
    j = next;
  }
}

static job *job_new(rg_warmup *w, wfile *e, int64_t b0, int64_t b1,
                    const char *src) {
  job *j = rg_calloc(1, sizeof *j);
  j->hub = w->hub;
  pthread_mutex_lock(&w->hub->mu);
  w->hub->refs++;
  pthread_mutex_unlock(&w->hub->mu);
  memcpy(j->hash, e->hash, sizeof j->hash);
  j->index = e->index;
  j->gen = e->gen;
  j->size = e->size;
  j->b0 = b0;
  j->b1 = b1;
  j->src = src ? rg_strdup(src) : NULL;
  j->dst = rg_strdup(e->path);
  j->dir = rg_printf("%s/%s", w->dir, e->hash);
  return j;
}

/* Marks the blocks of J as being copied and reserves their room. */
static void mark_pending(rg_warmup *w, wfile *e, const job *j) {
  int64_t bytes = block_bytes(e, j->b0, j->b1);
  for (int64_t b = j->b0; b < j->b1; b++)
    bm_set(&e->pend, b, true);
  e->pend_bytes += bytes;
  w->pending += bytes;
  w->jobs++;
}

/* The mirror, created if needed (and its directory entry made durable). */
static int open_mirror(const job *j) {
  if (mkdir(j->dir, 0700) != 0 && errno != EEXIST)
    return -errno;
  int fd = open(j->dst, O_RDWR | O_CLOEXEC);
  if (fd >= 0 || errno != ENOENT)
    return fd >= 0 ? fd : -errno;
  fd = open(j->dst, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  int dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return fd;
}

static int write_all(int fd, const uint8_t *p, size_t len, int64_t off) {
  while (len) {
    ssize_t n = pwrite(fd, p, len, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    p += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

static int read_all(int fd, uint8_t *p, size_t len, int64_t off) {
  while (len) {
    ssize_t n = pread(fd, p, len, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO; /* short: the cache file changed */
    p += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

/* Copies J's blocks from its cache file (worker thread). */
static int copy_job(job *j, uint8_t *buf) {
  int rc = 0, in = open(j->src, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -errno;
  int out = open_mirror(j);
  if (out < 0) {
    close(in);
    return out;
  }
  for (int64_t b = j->b0; b < j->b1 && !rc; b++) {
    if (atomic_load(&j->hub->stop)) {
      rc = -ECANCELED;
      break;
    }
    int64_t off = b << BSHIFT, len = BSIZE;
    if (off + len > j->size)
      len = j->size - off;
    rc = read_all(in, buf, (size_t)len, off);
    /* The cache may have released (hole-punched) these pieces since they
     * were offered: then we read zeros. A hole in the block now means the
     * copy cannot be trusted. */
    if (!rc) {
      off_t hole = lseek(in, off, SEEK_HOLE);
      if (hole >= 0 && hole < off + len) {
        j->stale |= (uint64_t)1 << (b - j->b0);
        continue;
      }
    }
    if (!rc)
      rc = write_all(out, buf, (size_t)len, off);
  }
  if (j->stale)
    rg_debug("copy of %s/%d blocks %" PRId64 "-%" PRId64
             ": the cache released some (mask %" PRIx64 ")",
             j->hash, j->index, j->b0, j->b1, j->stale);
  if (!rc && fdatasync(out) != 0)
    rc = -errno;
  close(in);
  close(out);
  return rc;
}

static void on_done(void *arg);

/* Hands a finished job back to the loop (or drops it when the loop is
 * gone: nothing can be published then). */
static void post(job *j) {
  if (rg_loop_call(on_done, j) != 0)
    job_free(j);
}

static void *worker_main(void *arg) {
  hub *h = arg;
  uint8_t *buf = rg_malloc((size_t)BSIZE);
  for (;;) {
    pthread_mutex_lock(&h->mu);
    while (!atomic_load(&h->stop) && !h->qhead)
      pthread_cond_wait(&h->cv, &h->mu);
    if (atomic_load(&h->stop)) {
      pthread_mutex_unlock(&h->mu);
      break;
    }
    job *j = h->qhead;
    h->qhead = j->next;
    if (!h->qhead)
      h->qtail = NULL;
    h->nq--;
    pthread_mutex_unlock(&h->mu);
    j->next = NULL;
    int rc = copy_job(j, buf);
    if (rc && rc != -ECANCELED)
      rg_warn("copy of %s/%d blocks %" PRId64 "-%" PRId64 " failed: %s",
              j->hash, j->index, j->b0, j->b1, strerror(-rc));
    j->ok = rc == 0;
    post(j);
  }
  free(buf);
  return NULL;
}

/* Reads J's blocks through the reader core and writes them (fill thread). */
static int fill_job(job *j, rg_bread *b, uint8_t *buf) {
  int64_t off = j->b0 << BSHIFT, end = j->b1 << BSHIFT;
  if (end > j->size)
    end = j->size;
  ssize_t n = rg_bread_pread_full(b, buf, (size_t)(end - off), off);
  if (n < 0)
    return (int)n;
  if (n != end - off)
    return -EIO;
  if (atomic_load(&j->hub->stop))
    return -ECANCELED;
  int out = open_mirror(j);
  if (out < 0)
    return out;
  int rc = write_all(out, buf, (size_t)(end - off), off);
  if (!rc && fdatasync(out) != 0)
    rc = -errno;
  close(out);
  return rc;
}

static void run_fill(hub *h, fill *f, uint8_t *buf) {
  rg_bread *b = NULL;
  int rc = rg_bread_open_ex(f->tm, f->hash, f->index, f->timeout_s, true, &b);
  if (rc)
    rg_warn("fill of %s/%d: cannot open: %s", f->hash, f->index, strerror(-rc));
  while (f->jobs) {
    job *j = f->jobs;
    f->jobs = j->next;
    j->next = NULL;
    if (atomic_load(&h->stop)) {
      job_free(j);
      continue;
    }
    if (!rc) {
      rc = fill_job(j, b, buf);
      if (rc && rc != -ECANCELED)
        rg_warn("fill of %s/%d at %" PRId64 ": %s", f->hash, f->index,
                j->b0 << BSHIFT, strerror(-rc));
    }
    j->ok = rc == 0;
    post(j); /* a failure too: it frees the blocks for later offers */
  }
  rg_bread_close(&b);
}

static void *fill_main(void *arg) {
  hub *h = arg;
  uint8_t *buf = rg_malloc((size_t)(JOB_BLOCKS * BSIZE));
  fill *left = NULL;
  for (;;) {
    pthread_mutex_lock(&h->mu);
    fill *f = atomic_load(&h->stop) ? NULL : h->fhead;
    if (f) {
      h->fhead = f->next;
      if (!h->fhead)
        h->ftail = NULL;
      h->nfills--;
    } else {
      left = h->fhead; /* stopping: nobody will run these */
      h->fhead = h->ftail = NULL;
      h->nfills = 0;
      h->fill_running = false;
      pthread_cond_broadcast(&h->cv);
    }
    pthread_mutex_unlock(&h->mu);
    if (!f)
      break;
    run_fill(h, f, buf);
    free(f);
  }
  while (left) {
    fill *next = left->next;
    jobs_free(left->jobs);
    free(left);
    left = next;
  }
  free(buf);
  hub_unref(h);
  return NULL;
}

/* Publishes a finished job (loop thread). */
static void publish(rg_warmup *w, wfile *e, const job *j) {
  int64_t bytes = 0;
  for (int64_t b = j->b0; b < j->b1; b++)
    if (!(j->stale >> (b - j->b0) & 1)) {
      bm_set(&e->have, b, true);
      bytes += block_bytes(e, b, b + 1);
    }
  if (!bytes)
    return;
  e->warm_bytes += bytes;
  w->used += bytes;
  w->copied += bytes;
  e->last_used = tick(w);
  if (exec(w, "BEGIN"))
    return;
  int rc = put_row(w, e);
  for (int64_t c = j->b0 / CHUNK_BLOCKS; !rc && c <= (j->b1 - 1) / CHUNK_BLOCKS;
       c++)
    rc = put_chunk(w, e, c);
  exec(w, rc ? "ROLLBACK" : "COMMIT");
  /* On a failed commit the bits stay in memory: the bytes are durable, so
   * serving them is safe; they are only forgotten at the next start. */
}

static void on_done(void *arg) {
  job *j = arg;
  rg_warmup *w = j->hub->w;
  if (w) {
    w->jobs--;
    wfile *e = find(w, j->hash, j->index);
    if (e && e->gen == j->gen) {
      int64_t bytes = block_bytes(e, j->b0, j->b1);
      for (int64_t b = j->b0; b < j->b1; b++)
        bm_set(&e->pend, b, false);
      e->pend_bytes -= bytes;
      w->pending -= bytes;
      if (j->ok && !w->crash)
        publish(w, e, j);
    }
  }
  job_free(j);
}

/* ---------------------------------------------------------- planning -- */

/* Calls ADD for each run (≤ JOB_BLOCKS) of blocks in [B0, B1) of E that is
 * neither warm nor being copied; stops when ADD returns false. */
static void each_missing_run(rg_warmup *w, wfile *e, int64_t b0, int64_t b1,
                             bool (*add)(rg_warmup *, wfile *, int64_t, int64_t,
                                         void *),
                             void *arg) {
  int64_t b = b0;
  while (b < b1) {
    while (b < b1 && (bm_get(&e->have, b) || bm_get(&e->pend, b)))
      b++;
    int64_t s = b;
    while (b < b1 && b - s < JOB_BLOCKS && !bm_get(&e->have, b) &&
           !bm_get(&e->pend, b))
      b++;
    if (b > s && !add(w, e, s, b, arg))
      return;
  }
}

static bool add_offer(rg_warmup *w, wfile *e, int64_t b0, int64_t b1,
                      void *arg) {
  hub *h = w->hub;
  pthread_mutex_lock(&h->mu);
  bool full = h->nq >= QUEUE_MAX;
  pthread_mutex_unlock(&h->mu);
  int64_t end = b1;
  if (full || !reserve(w, e, b0, &end)) {
    w->dropped++;
    return false;
  }
  job *j = job_new(w, e, b0, end, arg);
  mark_pending(w, e, j);
  pthread_mutex_lock(&h->mu);
  if (h->qtail)
    h->qtail->next = j;
  else
    h->qhead = j;
  h->qtail = j;
  h->nq++;
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  if (end < b1)
    w->dropped++; /* the quota is full of this very file */
  return end == b1;
}

typedef struct plan {
  job *head, *tail;
  int64_t bytes;
} plan;

static bool add_fill(rg_warmup *w, wfile *e, int64_t b0, int64_t b1,
                     void *arg) {
  plan *p = arg;
  int64_t end = b1;
  if (!reserve(w, e, b0, &end)) {
    w->dropped++;
    return false;
  }
  int64_t bytes = block_bytes(e, b0, end);
  job *j = job_new(w, e, b0, end, NULL);
  mark_pending(w, e, j);
  if (p->tail)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  p->bytes += bytes;
  if (end < b1)
    w->dropped++;
  return end == b1;
}

/* E for (HASH, INDEX) of SIZE bytes, created if needed; an entry whose size
 * disagrees is dropped first. NULL for a bad hash or size. */
static wfile *get_file(rg_warmup *w, const char *hash, int index,
                       int64_t size) {
  if (!rg_is_hex40(hash) || index < 0 || size <= 0)
    return NULL;
  wfile *e = find(w, hash, index);
  if (e && e->size != size) {
    rg_warn("%s/%d changed size (%" PRId64 " → %" PRId64 "), dropping it",
            e->hash, index, e->size, size);
    evict(w, e);
    if (e->in_db)
      del_rows(w, e, true);
    unlink_file(w, e);
    e = NULL;
  }
  return e ? e : add_file(w, hash, index, size);
}

/* ------------------------------------------------------------- the API -- */

int64_t rg_warmup_lookup(rg_warmup *w, const char *hash, int index, int64_t off,
                         int64_t maxlen, const char **path) {
  if (!w || off < 0 || maxlen <= 0)
    return 0;
  wfile *e = find(w, hash, index);
  if (!e || e->warm_bytes == 0 || off >= e->size)
    return 0;
  int64_t b = off >> BSHIFT;
  if (!bm_get(&e->have, b))
    return 0;
  int64_t end = maxlen > e->size - off ? e->size : off + maxlen;
  int64_t nb = b + 1;
  while ((nb << BSHIFT) < end) {
    const uint8_t *c = e->have.chunks[nb / CHUNK_BLOCKS];
    if (!c)
      break;
    int64_t i = nb % CHUNK_BLOCKS;
    if ((i & 7) == 0 && c[i >> 3] == 0xff) {
      nb += 8; /* a whole byte of warm blocks */
      continue;
    }
    if (!((c[i >> 3] >> (i & 7)) & 1))
      break;
    nb++;
  }
  int64_t stop = nb << BSHIFT;
  if (stop > end)
    stop = end;
  e->last_used = tick(w);
  e->used_dirty = true;
  if (path)
    *path = e->path;
  return stop - off;
}

/* Joins [*A, *B) with E's recent offers it overlaps or touches, so blocks
 * that straddle two reads (small pieces, unaligned reads) are copied once
 * both halves were offered. */
static void join_runs(wfile *e, int64_t *a, int64_t *b) {
  int64_t now = rg_now_ms();
  int slot = -1;
  for (int i = 0; i < RUNS; i++) {
    run *r = &e->runs[i];
    if (r->b <= r->a || now - r->t_ms > RUN_MS) {
      r->a = r->b = 0;
      slot = i;
      continue;
    }
    if (*a <= r->b && *b >= r->a) {
      if (r->a < *a)
        *a = r->a;
      if (r->b > *b)
        *b = r->b;
      r->a = r->b = 0;
      slot = i;
    }
  }
  if (slot < 0)
    slot = e->next_run++ % RUNS;
  e->runs[slot] = (run){*a, *b, now};
}

void rg_warmup_offer(rg_warmup *w, const char *hash, int index,
                     int64_t file_size, const char *cache_path, int64_t off,
                     int64_t len) {
  if (!w || !cache_path || off < 0 || len <= 0 || file_size <= 0 ||
      off >= file_size || !rg_is_hex40(hash) || index < 0)
    return;
  if (len > file_size - off)
    len = file_size - off;
  wfile *e = find(w, hash, index);
  if (e && e->size != file_size)
    e = NULL; /* get_file below resets it */
  int n;
  int64_t(*s)[2] = regions(w, e, file_size, &n);
  bool touches = false;
  for (int i = 0; i < n && !touches; i++)
    touches = s[i][0] < off + len && off < s[i][0] + s[i][1];
  if (!touches || (!e && !(e = get_file(w, hash, index, file_size)))) {
    free(s);
    return;
  }
  int64_t a = off, b = off + len;
  join_runs(e, &a, &b);
  /* only blocks wholly inside what was offered can be copied */
  int64_t fb = (a + BSIZE - 1) >> BSHIFT;
  int64_t lb = b == file_size ? e->nblocks : b >> BSHIFT;
  int64_t done = fb; /* merged spans may share a block */
  for (int i = 0; i < n && fb < lb; i++) {
    int64_t b0 = s[i][0] >> BSHIFT;
    int64_t b1 = ((s[i][0] + s[i][1] - 1) >> BSHIFT) + 1;
    if (b0 < done)
      b0 = done;
    if (b1 > lb)
      b1 = lb;
    if (b0 >= b1)
      continue;
    done = b1;
    each_missing_run(w, e, b0, b1, add_offer, (void *)cache_path);
  }
  free(s);
}

int64_t rg_warmup_fill(rg_warmup *w, struct rg_tm *tm, const char *hash,
                       const int *indexes, const int64_t *sizes, int n,
                       int timeout_s) {
  if (!w || !tm || !rg_is_hex40(hash) || n < 0)
    return -EINVAL;
  hub *h = w->hub;
  int64_t total = 0;
  for (int k = 0; k < n; k++) {
    wfile *e = get_file(w, hash, indexes[k], sizes[k]);
    if (!e)
      return -EINVAL;
    pthread_mutex_lock(&h->mu);
    bool full = h->nfills >= FILLS_MAX;
    pthread_mutex_unlock(&h->mu);
    if (full)
      return total ? total : -EBUSY;
    plan p = {0};
    int ns;
    int64_t(*s)[2] = regions(w, e, e->size, &ns);
    int64_t done = 0;
    for (int i = 0; i < ns; i++) {
      int64_t b0 = s[i][0] >> BSHIFT;
      int64_t b1 = ((s[i][0] + s[i][1] - 1) >> BSHIFT) + 1;
      if (b0 < done)
        b0 = done;
      if (b0 < b1)
        each_missing_run(w, e, b0, b1, add_fill, &p);
      if (b1 > done)
        done = b1;
    }
    free(s);
    if (!p.head)
      continue;
    fill *f = rg_calloc(1, sizeof *f);
    f->tm = tm;
    memcpy(f->hash, e->hash, sizeof f->hash);
    f->index = e->index;
    f->timeout_s = timeout_s;
    f->jobs = p.head;
    total += p.bytes;
    pthread_mutex_lock(&h->mu);
    if (h->ftail)
      h->ftail->next = f;
    else
      h->fhead = f;
    h->ftail = f;
    h->nfills++;
    bool start = !h->fill_running;
    if (start) {
      h->fill_running = true;
      h->refs++;
    }
    pthread_mutex_unlock(&h->mu);
    if (start) {
      pthread_t t;
      pthread_attr_t a;
      pthread_attr_init(&a);
      pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
      int rc = pthread_create(&t, &a, fill_main, h);
      pthread_attr_destroy(&a);
      if (rc) {
        rg_error("cannot start the fill thread: %s", strerror(rc));
        pthread_mutex_lock(&h->mu);
        h->fill_running = false;
        h->refs--; /* the store still holds one */
        pthread_mutex_unlock(&h->mu);
        return -rc;
      }
    }
    rg_info("filling %s/%d (%" PRId64 " bytes)", e->hash, e->index, p.bytes);
  }
  return total;
}

void rg_warmup_set_tail(rg_warmup *w, const char *hash, int index,
                        int64_t file_size, const int64_t (*spans)[2], int n) {
  if (!w || n < 0 || (n && !spans))
    return;
  wfile *e = get_file(w, hash, index, file_size);
  if (!e)
    return;
  free(e->tail);
  e->tail = rg_malloc(sizeof *e->tail * (size_t)(n + 1));
  if (n)
    memcpy(e->tail, spans, sizeof *e->tail * (size_t)n);
  e->ntail = spans_normalize(e->tail, n, file_size);
  e->tail_known = true;
  if (!e->last_used)
    e->last_used = tick(w);
  put_row(w, e);
}

int64_t (*rg_warmup_regions(rg_warmup *w, const char *hash, int index,
                            int64_t file_size, int *n))[2] {
  *n = 0;
  if (!w || file_size <= 0)
    return rg_malloc(sizeof(int64_t[2]));
  wfile *e = find(w, hash, index);
  return regions(w, e && e->size == file_size ? e : NULL, file_size, n);
}

void rg_warmup_forget(rg_warmup *w, const char *hash) {
  if (!w || !rg_is_hex40(hash))
    return;
  bool any = false;
  for (size_t i = 0; i < w->nbuckets; i++) {
    wfile *e = w->buckets[i], *next;
    for (; e; e = next) {
      next = e->next;
      if (strcasecmp(e->hash, hash) != 0)
        continue;
      evict(w, e);
      if (e->in_db)
        del_rows(w, e, true);
      unlink_file(w, e);
      any = true;
    }
  }
  char *d = rg_printf("%s/%.40s", w->dir, hash);
  for (char *p = d + strlen(w->dir); *p; p++)
    *p = (char)tolower((unsigned char)*p);
  rmdir(d); /* a copy still running may recreate it: gone at next start */
  free(d);
  if (any)
    rg_info("forgot %s", hash);
}

static void on_removed(rg_torrent *t, void *arg) {
  rg_warmup_forget(arg, rg_torrent_hex(t));
}

void rg_warmup_watch(rg_warmup *w, struct rg_tm *tm) {
  if (!w || !tm || w->tm)
    return;
  w->tm = tm;
  rg_tm_hooks hk = {.on_removed = on_removed, .arg = w};
  rg_tm_add_hooks(tm, &hk);
}

int rg_warmup_pending(rg_warmup *w) { return w ? w->jobs : 0; }

void rg_warmup_test_crash(rg_warmup *w, bool on) {
  if (w)
    w->crash = on;
}

json_t *rg_warmup_usage_json(rg_warmup *w) {
  if (!w)
    return json_null();
  int files = 0;
  for (size_t i = 0; i < w->nbuckets; i++)
    for (wfile *e = w->buckets[i]; e; e = e->next)
      files += e->warm_bytes > 0;
  return json_pack("{sIsIsisIsisIsIsIsIsi}", "used", (json_int_t)w->used,
                   "quota", (json_int_t)w->quota, "files", files, "pending",
                   (json_int_t)w->pending, "jobs", w->jobs, "copied",
                   (json_int_t)w->copied, "dropped", (json_int_t)w->dropped,
                   "head_bytes", (json_int_t)w->head_bytes, "fixed_tail",
                   (json_int_t)w->fixed_tail, "block", (int)BSIZE);
}

json_t *rg_warmup_file_json(rg_warmup *w, const char *hash, int index,
                            int64_t file_size) {
  if (!w || file_size <= 0)
    return json_null();
  wfile *e = find(w, hash, index);
  if (e && e->size != file_size)
    e = NULL;
  int64_t head = w->head_bytes < file_size ? w->head_bytes : file_size;
  int n;
  int64_t(*r)[2] = regions(w, e, file_size, &n);
  int64_t total = 0, warm = 0;
  for (int i = 0; i < n; i++) {
    total += r[i][1];
    if (e)
      warm += warm_in(e, r[i][0], r[i][1]);
  }
  free(r);
  int64_t warm_head = e && head ? warm_in(e, 0, head) : 0;
  return json_pack("{sIsIsIsbsIsb}", "head", (json_int_t)warm_head, "tail",
                   (json_int_t)(warm - warm_head), "regions", (json_int_t)total,
                   "complete", warm == total, "used",
                   (json_int_t)(e ? e->warm_bytes : 0), "tail_known",
                   e && e->tail_known);
}

/* ------------------------------------------------------- start and stop -- */

static int create_tables(rg_warmup *w) {
  return exec(w, "CREATE TABLE IF NOT EXISTS warm_files("
                 " hash TEXT NOT NULL, idx INTEGER NOT NULL,"
                 " size INTEGER NOT NULL, last_used INTEGER NOT NULL,"
                 " tail TEXT, PRIMARY KEY(hash, idx));"
                 "CREATE TABLE IF NOT EXISTS warm_blocks("
                 " hash TEXT NOT NULL, idx INTEGER NOT NULL,"
                 " chunk INTEGER NOT NULL, bits BLOB NOT NULL,"
                 " PRIMARY KEY(hash, idx, chunk));");
}

static void parse_tail(wfile *e, const char *text) {
  json_t *a = text ? json_loads(text, 0, NULL) : NULL;
  if (!json_is_array(a)) {
    json_decref(a);
    return;
  }
  size_t n = json_array_size(a);
  e->tail = rg_malloc(sizeof *e->tail * (n + 1));
  int k = 0;
  for (size_t i = 0; i < n; i++) {
    json_t *s = json_array_get(a, i);
    if (json_array_size(s) != 2)
      continue;
    e->tail[k][0] = json_integer_value(json_array_get(s, 0));
    e->tail[k][1] = json_integer_value(json_array_get(s, 1));
    k++;
  }
  e->ntail = spans_normalize(e->tail, k, e->size);
  e->tail_known = true;
  json_decref(a);
}

/* Loads the index; a file whose mirror lost bytes it claims is dropped. */
static int load(rg_warmup *w) {
  sqlite3_stmt *st =
      prep(w, "SELECT hash, idx, size, last_used, tail FROM warm_files");
  if (!st)
    return -EIO;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *h = (const char *)sqlite3_column_text(st, 0);
    int idx = sqlite3_column_int(st, 1);
    int64_t size = sqlite3_column_int64(st, 2);
    if (!rg_is_hex40(h) || idx < 0 || size <= 0 || find(w, h, idx))
      continue;
    wfile *e = add_file(w, h, idx, size);
    e->last_used = (uint64_t)sqlite3_column_int64(st, 3);
    e->in_db = true;
    if (e->last_used > w->clock)
      w->clock = e->last_used;
    parse_tail(e, (const char *)sqlite3_column_text(st, 4));
  }
  sqlite3_finalize(st);

  st = prep(w, "SELECT hash, idx, chunk, bits FROM warm_blocks");
  if (!st)
    return -EIO;
  while (sqlite3_step(st) == SQLITE_ROW) {
    wfile *e = find(w, (const char *)sqlite3_column_text(st, 0),
                    sqlite3_column_int(st, 1));
    int64_t c = sqlite3_column_int64(st, 2);
    const uint8_t *bits = sqlite3_column_blob(st, 3);
    if (!e || c < 0 || c >= e->have.nchunks || !bits ||
        sqlite3_column_bytes(st, 3) != CHUNK_BYTES)
      continue;
    for (int64_t i = 0; i < CHUNK_BLOCKS; i++) {
      int64_t b = c * CHUNK_BLOCKS + i;
      if (b < e->nblocks && (bits[i >> 3] >> (i & 7)) & 1 &&
          !bm_get(&e->have, b)) {
        bm_set(&e->have, b, true);
        e->warm_bytes += block_bytes(e, b, b + 1);
      }
    }
  }
  sqlite3_finalize(st);

  for (size_t i = 0; i < w->nbuckets; i++)
    for (wfile *e = w->buckets[i]; e; e = e->next) {
      if (!e->warm_bytes)
        continue;
      int64_t last = e->nblocks - 1;
      while (last >= 0 && !bm_get(&e->have, last))
        last--;
      struct stat sb;
      int64_t need = block_bytes(e, 0, last + 1);
      if (stat(e->path, &sb) != 0 || sb.st_size < need) {
        rg_warn("%s lost bytes it held, dropping it", e->path);
        del_rows(w, e, false);
        bm_clear(&e->have);
        e->warm_bytes = 0;
        continue;
      }
      w->used += e->warm_bytes;
    }
  return 0;
}

/* Removes mirror files that hold no valid block (written but never
 * published, evicted before a crash, of forgotten torrents). */
static void collect_garbage(rg_warmup *w) {
  DIR *top = opendir(w->dir);
  if (!top)
    return;
  struct dirent *d;
  while ((d = readdir(top))) {
    if (!rg_is_hex40(d->d_name))
      continue;
    char *sub = rg_printf("%s/%s", w->dir, d->d_name);
    DIR *in = opendir(sub);
    struct dirent *f;
    while (in && (f = readdir(in))) {
      if (f->d_name[0] == '.')
        continue;
      char *end;
      long idx = strtol(f->d_name, &end, 10);
      wfile *e = *end || idx < 0 || idx > INT32_MAX
                     ? NULL
                     : find(w, d->d_name, (int)idx);
      if (e && e->warm_bytes)
        continue;
      char *p = rg_printf("%s/%s", sub, f->d_name);
      if (unlink(p) == 0)
        rg_debug("removed %s (no valid block)", p);
      free(p);
    }
    if (in)
      closedir(in);
    rmdir(sub); /* only if empty */
    free(sub);
  }
  closedir(top);
}

rg_warmup *rg_warmup_new(const rg_warmup_opts *o, char **cause) {
  if (!o || !o->store || !o->dir || !*o->dir) {
    *cause = rg_strdup("the warmup store needs a database and a directory");
    return NULL;
  }
  int e = rg_mkdir_p(o->dir, 0700);
  if (e) {
    *cause =
        rg_printf("cannot create the warmup dir %s: %s", o->dir, strerror(-e));
    return NULL;
  }
  rg_warmup *w = rg_calloc(1, sizeof *w);
  w->store = o->store;
  w->db = rg_store_db(o->store);
  w->dir = rg_strdup(o->dir);
  w->quota = o->quota > 0 ? o->quota : DEFAULT_QUOTA;
  w->head_bytes = o->head_bytes >= 0 ? o->head_bytes : DEFAULT_HEAD;
  w->fixed_tail = o->fixed_tail >= 0 ? o->fixed_tail : DEFAULT_TAIL;
  w->nbuckets = 64;
  w->buckets = rg_calloc(w->nbuckets, sizeof *w->buckets);
  w->hub = rg_calloc(1, sizeof *w->hub);
  pthread_mutex_init(&w->hub->mu, NULL);
  pthread_cond_init(&w->hub->cv, NULL);
  w->hub->refs = 1;
  atomic_init(&w->hub->stop, false);
  w->hub->w = w;

  if (create_tables(w) || load(w)) {
    *cause = rg_printf("the warmup tables in the database cannot be used: %s",
                       sqlite3_errmsg(w->db));
    goto fail;
  }
  collect_garbage(w);
  while (w->used > w->quota) {
    wfile *v = lru_victim(w, NULL);
    if (!v)
      break;
    evict(w, v);
  }
  e = pthread_create(&w->worker, NULL, worker_main, w->hub);
  if (e) {
    *cause = rg_printf("cannot start the warmup worker: %s", strerror(e));
    goto fail;
  }
  w->worker_started = true;
  pthread_mutex_lock(&w->hub->mu);
  w->hub->refs++;
  pthread_mutex_unlock(&w->hub->mu);
  if (rg_loop_base()) {
    w->flush_ev = event_new(rg_loop_base(), -1, EV_PERSIST, on_flush, w);
    struct timeval tv = {FLUSH_S, 0};
    event_add(w->flush_ev, &tv);
  }
  int files = 0;
  for (size_t i = 0; i < w->nbuckets; i++)
    for (wfile *f = w->buckets[i]; f; f = f->next)
      files += f->warm_bytes > 0;
  rg_info("warmup store %s: %d files, %" PRId64 " of %" PRId64
          " MiB used; head %" PRId64 " MiB, fixed tail %" PRId64 " KiB",
          w->dir, files, w->used >> 20, w->quota >> 20, w->head_bytes >> 20,
          w->fixed_tail >> 10);
  return w;
fail:
  rg_warmup_free(&w);
  return NULL;
}

void rg_warmup_free(rg_warmup **wp) {
  rg_warmup *w = *wp;
  if (!w)
    return;
  *wp = NULL;
  hub *h = w->hub;
  pthread_mutex_lock(&h->mu);
  atomic_store(&h->stop, true);
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  if (w->worker_started) {
    pthread_join(w->worker, NULL);
    hub_unref(h);
  }
  /* A fill may wait on the swarm through rg_bread, which needs this very
   * loop: give it a moment, then leave it to end on its own. */
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += FILL_WAIT_MS / 1000;
  pthread_mutex_lock(&h->mu);
  int rc = 0;
  while (h->fill_running && rc == 0)
    rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
  if (h->fill_running)
    rg_warn("a fill is still waiting on a read; left to finish");
  job *q = h->qhead;
  h->qhead = h->qtail = NULL;
  h->nq = 0;
  fill *f = h->fill_running ? NULL : h->fhead;
  if (f)
    h->fhead = h->ftail = NULL;
  pthread_mutex_unlock(&h->mu);
  jobs_free(q);
  while (f) {
    fill *next = f->next;
    jobs_free(f->jobs);
    free(f);
    f = next;
  }
  if (w->tm)
    rg_tm_remove_hooks(w->tm, w);
  if (w->flush_ev)
    event_free(w->flush_ev);
  if (w->db)
    flush_used(w);
  h->w = NULL; /* jobs still on their way back are dropped */
  for (size_t i = 0; i < w->nbuckets; i++) {
    wfile *e = w->buckets[i], *next;
    for (; e; e = next) {
      next = e->next;
      bm_free(&e->have);
      bm_free(&e->pend);
      free(e->tail);
      free(e->path);
      free(e);
    }
  }
  free(w->buckets);
  free(w->dir);
  free(w);
  hub_unref(h);
}
