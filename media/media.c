/* media.c — see media.h.
 *
 * Threads. The rg_media struct, the SQLite table and the hooks belong to
 * the loop thread. One worker thread probes, one file at a time, through
 * rg_bread (a reader like any player's: it never blocks the loop). The
 * queue, the stop flag and the worker's lifetime live in a reference-
 * counted `core` shared by both; a result is handed back with rg_loop_call
 * and is dropped there if the media layer has gone meanwhile.
 *
 * Which files get probed, and when:
 *  - on_metadata (a torrent's metadata just arrived, or a .torrent was
 *    added): every video file (by extension) not probed yet, at the front
 *    of the queue;
 *  - rg_media_request: that file, at the front, even if probed before;
 *  - a sweep, 5 s after start and then every minute, walks the stored
 *    torrents and queues (at the back) unprobed video files only of
 *    torrents that are active anyway, or whose head is warm in the warmup
 *    store: a start with hundreds of stored torrents wakes none of them.
 * A failed probe (no data in time, not a media file) is stored with its
 * error and retried by the sweep or a new on_metadata only after
 * RETRY_S; a successful one is never repeated (the row survives restarts).
 *
 * Shutdown. rg_media_free runs on the loop thread after the loop stopped:
 * it raises the stop flag (the AVIO interrupt callback and the tail reads
 * check it), then runs the loop briefly itself so the worker's pending
 * rg_bread call gets its answer, and joins; a worker still waiting on the
 * swarm after STOP_WAIT_MS is detached and ends on its own (its reads time
 * out; it publishes nothing more). */
#include "config.h"

#include "bread.h"
#include "log.h"
#include "loop.h"
#include "media.h"
#include "probe.h"
#include "tail.h"
#include "util.h"

#include <errno.h>
#include <event2/event.h>
#include <libavutil/log.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RETRY_S 600
#define SWEEP_S 60
#define FIRST_SWEEP_S 5 /* after start: the stored torrents are loaded */
#define STOP_WAIT_MS 1500
#define MAX_TAIL_SPANS 16
#define MAX_QUEUE 4096

typedef struct job {
  char hash[41];
  int index;
  bool high;
  struct job *next;
} job;

typedef struct core {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *queue; /* high-priority jobs first, each class in FIFO order */
  int queued;
  char cur_hash[41]; /* being probed ("" when idle) */
  int cur_index;
  bool stop, exited;
  int refs;
  /* read-only after start */
  rg_tm *tm;
  int read_timeout_s;
  /* loop thread only */
  rg_media *m;
} core;

struct rg_media {
  rg_store *store;
  sqlite3 *db;
  rg_tm *tm;
  rg_warmup *warmup;
  core *c;
  pthread_t thread;
  struct event *sweep;
  sqlite3_stmt *get; /* probe, tail, error, probed_at of (hash, idx) */
  int64_t probes;    /* results stored since start */
};

/* a finished probe, handed to the loop */
typedef struct result {
  core *c;
  char hash[41];
  int index;
  int64_t size;
  char *probe; /* JSON text, NULL on failure */
  char *error;
  int64_t spans[MAX_TAIL_SPANS][2];
  int nspans;
  bool tail_known; /* spans (possibly none) are the file's tail */
  int64_t ms;
} result;

static void core_unref(core *c) {
  pthread_mutex_lock(&c->mu);
  int left = --c->refs;
  pthread_mutex_unlock(&c->mu);
  if (left)
    return;
  while (c->queue) {
    job *j = c->queue;
    c->queue = j->next;
    free(j);
  }
  pthread_mutex_destroy(&c->mu);
  pthread_cond_destroy(&c->cv);
  free(c);
}

/* ---- which files ---- */

static bool is_video(const char *path) {
  static const char *const exts[] = {"mkv",  "mp4",  "m4v",  "avi", "mov",
                                     "webm", "ts",   "m2ts", "mts", "wmv",
                                     "mpg",  "mpeg"};
  return rg_path_has_ext(path, exts, RG_ARRAY_LEN(exts));
}

/* Whether (HASH, INDEX) still needs a probe: no row, or a failure older
 * than RETRY_S. */
static bool needs_probe(rg_media *m, const char *hash, int index) {
  sqlite3_stmt *s = m->get;
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, index);
  bool need = true;
  if (sqlite3_step(s) == SQLITE_ROW) {
    bool ok = sqlite3_column_type(s, 0) != SQLITE_NULL;
    int64_t at = sqlite3_column_int64(s, 3);
    need = !ok && rg_wall_s() - at >= RETRY_S;
  }
  sqlite3_reset(s);
  return need;
}

/* Queues a probe (loop thread). False when already queued or running. */
static bool enqueue(rg_media *m, const char *hash, int index, bool high) {
  core *c = m->c;
  bool added = false;
  pthread_mutex_lock(&c->mu);
  if (c->stop || c->queued >= MAX_QUEUE)
    goto out;
  if (c->cur_hash[0] && strcasecmp(c->cur_hash, hash) == 0 &&
      c->cur_index == index)
    goto out;
  job **at = &c->queue, *j;
  for (j = c->queue; j; j = j->next)
    if (strcasecmp(j->hash, hash) == 0 && j->index == index)
      goto out;
  /* after every job of our class or above */
  while (*at && ((*at)->high || !high))
    at = &(*at)->next;
  j = rg_calloc(1, sizeof *j);
  snprintf(j->hash, sizeof j->hash, "%s", hash);
  j->index = index;
  j->high = high;
  j->next = *at;
  *at = j;
  c->queued++;
  added = true;
  pthread_cond_signal(&c->cv);
out:
  pthread_mutex_unlock(&c->mu);
  return added;
}

static void drop_queued(core *c, const char *hash) {
  pthread_mutex_lock(&c->mu);
  for (job **at = &c->queue; *at;) {
    job *j = *at;
    if (strcasecmp(j->hash, hash) == 0) {
      *at = j->next;
      c->queued--;
      free(j);
    } else {
      at = &j->next;
    }
  }
  pthread_mutex_unlock(&c->mu);
}

/* Queues T's unprobed video files. LAZY: only if T is active or the
 * file's head is warm. */
static void queue_torrent(rg_media *m, rg_torrent *t, bool lazy, bool high) {
  const rg_tinfo *ti = rg_torrent_info(t);
  if (!ti)
    return;
  const char *hash = rg_torrent_hex(t);
  bool active = rg_torrent_active(t);
  int n = 0;
  for (int i = 0; i < ti->nfiles; i++) {
    const rg_tfile *f = &ti->files[i];
    if (f->pad || f->size <= 0 || !is_video(f->path))
      continue;
    if (!needs_probe(m, hash, i))
      continue;
    if (lazy && !active) {
      const char *path = NULL;
      if (!m->warmup ||
          rg_warmup_lookup(m->warmup, hash, i, 0, 1 << 20, &path) <= 0)
        continue;
    }
    n += enqueue(m, hash, i, high);
  }
  if (n)
    rg_debug("%s: %d file%s queued for probing", hash, n, n == 1 ? "" : "s");
}

static void sweep_one(rg_torrent *t, void *arg) {
  queue_torrent(arg, t, true, false);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what;
  rg_media *m = arg;
  rg_tm_each(m->tm, sweep_one, m);
  struct timeval tv = {SWEEP_S, 0};
  evtimer_add(m->sweep, &tv);
}

static void hook_metadata(rg_torrent *t, void *arg) {
  queue_torrent(arg, t, false, true);
}

static void hook_removed(rg_torrent *t, void *arg) {
  rg_media *m = arg;
  const char *hash = rg_torrent_hex(t);
  drop_queued(m->c, hash);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(m->db, "DELETE FROM media_probe WHERE hash = ?", -1,
                         &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE)
      rg_warn("%s: cannot drop media rows: %s", hash, sqlite3_errmsg(m->db));
  }
  sqlite3_finalize(s);
}

/* ---- the worker ---- */

typedef struct probe_io {
  core *c;
  rg_bread *b;
  int64_t deadline_ms;
  int64_t bytes;
} probe_io;

static int io_stop(void *arg) {
  probe_io *p = arg;
  pthread_mutex_lock(&p->c->mu);
  bool stop = p->c->stop;
  pthread_mutex_unlock(&p->c->mu);
  return stop || rg_now_ms() > p->deadline_ms;
}

static ssize_t io_read(void *arg, void *buf, size_t len, int64_t off) {
  probe_io *p = arg;
  if (io_stop(p))
    return -ECANCELED;
  ssize_t r = rg_bread_pread(p->b, buf, len, off);
  if (r > 0)
    p->bytes += r;
  return r;
}

static void publish(void *arg);

static void probe_file(core *c, const char *hash, int index) {
  result *r = rg_calloc(1, sizeof *r);
  r->c = c;
  snprintf(r->hash, sizeof r->hash, "%s", hash);
  r->index = index;
  int64_t t0 = rg_now_ms();
  probe_io p = {.c = c};
  /* each read waits up to the read timeout; the whole probe a few times
   * that */
  int per = c->read_timeout_s > 0 ? c->read_timeout_s : 30;
  p.deadline_ms = t0 + (int64_t)(per * 4 > 60 ? per * 4 : 60) * 1000;
  int rc = rg_bread_open_ex(c->tm, hash, index, per, true, &p.b);
  if (rc) {
    r->error = rg_printf("cannot open the file: %s", strerror(-rc));
    goto out;
  }
  r->size = rg_bread_size(p.b);

  char *cause = NULL;
  int n =
      rg_tail_locate(r->size, io_read, &p, r->spans, MAX_TAIL_SPANS, &cause);
  if (n >= 0) {
    r->nspans = n;
    r->tail_known = cause == NULL;
    if (cause)
      rg_debug("%s file %d: no tail index (%s): a fixed tail is kept", hash,
               index, cause);
  }
  free(cause);
  cause = NULL;
  if (n < 0) {
    /* the head itself is not readable: libavformat would only wait again */
    r->error = n == -ECANCELED || io_stop(&p)
                   ? rg_printf("probe abandoned")
                   : rg_printf("cannot read the file: %s", strerror(-n));
    goto out;
  }

  json_t *j = rg_probe_json(r->size, io_read, io_stop, &p, &cause);
  if (j) {
    r->probe = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(j);
  } else {
    if (rg_now_ms() > p.deadline_ms)
      r->error = rg_printf("probe timed out");
    else {
      r->error = cause;
      cause = NULL;
    }
  }
  free(cause);
out:
  rg_bread_close(&p.b);
  r->ms = rg_now_ms() - t0;
  rg_debug("%s file %d: probe read %lld bytes", hash, index,
           (long long)p.bytes);
  pthread_mutex_lock(&c->mu);
  bool stopping = c->stop;
  if (!stopping)
    c->refs++;
  pthread_mutex_unlock(&c->mu);
  if (stopping) {
    /* abandoned at shutdown: not a failure of the file, nothing to keep */
    free(r->probe);
    free(r->error);
    free(r);
    return;
  }
  if (rg_loop_call(publish, r) != 0) {
    core_unref(c);
    free(r->probe);
    free(r->error);
    free(r);
  }
}

static void *worker(void *arg) {
  core *c = arg;
  for (;;) {
    pthread_mutex_lock(&c->mu);
    while (!c->stop && !c->queue)
      pthread_cond_wait(&c->cv, &c->mu);
    if (c->stop) {
      pthread_mutex_unlock(&c->mu);
      break;
    }
    job *j = c->queue;
    c->queue = j->next;
    c->queued--;
    snprintf(c->cur_hash, sizeof c->cur_hash, "%s", j->hash);
    c->cur_index = j->index;
    pthread_mutex_unlock(&c->mu);

    probe_file(c, j->hash, j->index);
    free(j);

    pthread_mutex_lock(&c->mu);
    c->cur_hash[0] = 0;
    pthread_mutex_unlock(&c->mu);
  }
  pthread_mutex_lock(&c->mu);
  c->exited = true;
  pthread_mutex_unlock(&c->mu);
  core_unref(c);
  return NULL;
}

/* ---- results, on the loop ---- */

static json_t *spans_json(const int64_t (*spans)[2], int n) {
  json_t *a = json_array();
  for (int i = 0; i < n; i++)
    json_array_append_new(a, json_pack("[I,I]", (json_int_t)spans[i][0],
                                       (json_int_t)spans[i][1]));
  return a;
}

static void publish(void *arg) {
  result *r = arg;
  rg_media *m = r->c->m;
  if (!m || !rg_tm_find(m->tm, r->hash))
    goto out; /* shut down, or the torrent went meanwhile */
  char *tail = NULL;
  if (r->tail_known || r->nspans) {
    json_t *t = spans_json((const int64_t(*)[2])r->spans, r->nspans);
    tail = json_dumps(t, JSON_COMPACT);
    json_decref(t);
  }
  sqlite3_stmt *s = NULL;
  int rc = sqlite3_prepare_v2(
      m->db,
      "INSERT OR REPLACE INTO media_probe(hash, idx, probe, tail, error, "
      "probed_at) VALUES (?, ?, ?, ?, ?, ?)",
      -1, &s, NULL);
  if (rc == SQLITE_OK) {
    sqlite3_bind_text(s, 1, r->hash, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, r->index);
    sqlite3_bind_text(s, 3, r->probe, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, tail, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, r->error, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, rg_wall_s());
    rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
  }
  if (rc != SQLITE_OK)
    rg_warn("%s file %d: cannot store the probe: %s", r->hash, r->index,
            sqlite3_errmsg(m->db));
  sqlite3_finalize(s);
  free(tail);
  m->probes++;

  if (m->warmup && r->size > 0 && (r->tail_known || r->nspans))
    rg_warmup_set_tail(m->warmup, r->hash, r->index, r->size,
                       (const int64_t(*)[2])r->spans, r->nspans);
  if (r->probe)
    rg_info("%s file %d: media probed in %lld ms, %d tail span%s", r->hash,
            r->index, (long long)r->ms, r->nspans, r->nspans == 1 ? "" : "s");
  else
    rg_warn("%s file %d: media probe failed after %lld ms: %s (retried in "
            "%d min at the earliest)",
            r->hash, r->index, (long long)r->ms, r->error, RETRY_S / 60);
out:
  core_unref(r->c);
  free(r->probe);
  free(r->error);
  free(r);
}

/* ---- API ---- */

/* libav's messages into our log: errors as warnings, the rest at debug */
static void av_log_sink(void *avcl, int level, const char *fmt, va_list vl) {
  (void)avcl;
  int ours = level <= AV_LOG_ERROR     ? RG_LOG_WARN
             : level <= AV_LOG_WARNING ? RG_LOG_DEBUG
                                       : RG_LOG_DEBUG + 1;
  if (ours > rg_log_level_current)
    return;
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, vl);
  size_t n = strlen(buf);
  while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
    buf[--n] = 0;
  if (n)
    rg_log_write(ours, "libav", "%s", buf);
}

rg_media *rg_media_new(rg_store *store, rg_tm *tm, rg_warmup *warmup,
                       int read_timeout_s, char **cause) {
  sqlite3 *db = rg_store_db(store);
  char *err = NULL;
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS media_probe("
                   "hash TEXT NOT NULL, idx INTEGER NOT NULL, probe TEXT, "
                   "tail TEXT, error TEXT, probed_at INTEGER NOT NULL, "
                   "PRIMARY KEY(hash, idx))",
                   NULL, NULL, &err) != SQLITE_OK) {
    *cause = rg_printf("cannot create the media_probe table: %s",
                       err ? err : sqlite3_errmsg(db));
    sqlite3_free(err);
    return NULL;
  }
  rg_media *m = rg_calloc(1, sizeof *m);
  m->store = store;
  m->db = db;
  m->tm = tm;
  m->warmup = warmup;
  if (sqlite3_prepare_v2(db,
                         "SELECT probe, tail, error, probed_at FROM "
                         "media_probe WHERE hash = ? AND idx = ?",
                         -1, &m->get, NULL) != SQLITE_OK) {
    *cause = rg_printf("cannot read media_probe: %s", sqlite3_errmsg(db));
    free(m);
    return NULL;
  }
  core *c = rg_calloc(1, sizeof *c);
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->tm = tm;
  c->read_timeout_s = read_timeout_s;
  c->m = m;
  c->refs = 2; /* ours and the worker's */
  m->c = c;
  int e = pthread_create(&m->thread, NULL, worker, c);
  if (e) {
    *cause = rg_printf("cannot start the media worker: %s", strerror(e));
    sqlite3_finalize(m->get);
    c->refs = 1;
    core_unref(c);
    free(m);
    return NULL;
  }
  av_log_set_callback(av_log_sink);

  rg_tm_hooks h = {
      .on_metadata = hook_metadata, .on_removed = hook_removed, .arg = m};
  rg_tm_add_hooks(tm, &h);
  struct event_base *base = rg_loop_base();
  if (base) {
    m->sweep = evtimer_new(base, on_sweep, m);
    struct timeval first = {FIRST_SWEEP_S, 0};
    evtimer_add(m->sweep, &first);
  }
  return m;
}

void rg_media_free(rg_media **mp) {
  rg_media *m = *mp;
  if (!m)
    return;
  *mp = NULL;
  rg_tm_remove_hooks(m->tm, m);
  if (m->sweep)
    event_free(m->sweep);
  core *c = m->c;
  pthread_mutex_lock(&c->mu);
  c->stop = true;
  while (c->queue) {
    job *j = c->queue;
    c->queue = j->next;
    free(j);
  }
  c->queued = 0;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);

  /* let the worker's pending rg_bread call (and a last result) through */
  struct event_base *base = rg_loop_base();
  int64_t until = rg_now_ms() + STOP_WAIT_MS;
  bool exited = false;
  for (;;) {
    pthread_mutex_lock(&c->mu);
    exited = c->exited;
    pthread_mutex_unlock(&c->mu);
    if (exited || rg_now_ms() > until)
      break;
    if (base)
      event_base_loop(base, EVLOOP_NONBLOCK);
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (exited) {
    pthread_join(m->thread, NULL);
    if (base)
      event_base_loop(base, EVLOOP_NONBLOCK); /* its last result */
  } else {
    rg_warn("a probe is still waiting on the swarm at shutdown; leaving it to "
            "time out on its own");
    pthread_detach(m->thread);
  }
  c->m = NULL;
  core_unref(c);
  sqlite3_finalize(m->get);
  free(m);
}

void rg_media_request(rg_media *m, const char *hash, int index) {
  if (!m || !hash || index < 0)
    return;
  enqueue(m, hash, index, true);
}

json_t *rg_media_file_json(rg_media *m, const char *hash, int index) {
  if (!m || !hash)
    return NULL;
  sqlite3_stmt *s = m->get;
  sqlite3_reset(s);
  sqlite3_bind_text(s, 1, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 2, index);
  json_t *o = NULL;
  if (sqlite3_step(s) == SQLITE_ROW) {
    const char *probe = (const char *)sqlite3_column_text(s, 0);
    const char *tail = (const char *)sqlite3_column_text(s, 1);
    const char *error = (const char *)sqlite3_column_text(s, 2);
    if (probe)
      o = json_loads(probe, 0, NULL);
    if (!o || !json_is_object(o)) {
      json_decref(o);
      o = json_object();
    }
    json_t *t = tail ? json_loads(tail, 0, NULL) : NULL;
    json_object_set_new(o, "tail", t ? t : json_null());
    if (error)
      json_object_set_new(o, "error", json_string(error));
    json_object_set_new(o, "probed_at",
                        json_integer(sqlite3_column_int64(s, 3)));
  }
  sqlite3_reset(s);
  return o;
}
