/* bread.c — see bread.h. The struct is shared between the worker and the
 * loop thread and reference-counted: a worker that gives up waiting leaves,
 * and the loop side frees it when its callback finally runs. */
#include "config.h"

#include "bread.h"
#include "loop.h"
#include "reader.h"
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct rg_bread {
  rg_tm *tm;
  char hash[41];
  int index;
  int timeout_s;
  bool background;
  int64_t size;
  rg_reader *r; /* loop thread only */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int refs;
  bool busy, done, broken;
  /* request / answer */
  int64_t off;
  size_t len;
  int err, fd;
  size_t got;
};

static void unref(rg_bread *b) {
  pthread_mutex_lock(&b->mu);
  int left = --b->refs;
  pthread_mutex_unlock(&b->mu);
  if (left == 0) {
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->cv);
    free(b);
  }
}

static void finish(rg_bread *b, int err) {
  pthread_mutex_lock(&b->mu);
  b->err = err;
  b->done = true;
  pthread_cond_signal(&b->cv);
  pthread_mutex_unlock(&b->mu);
  unref(b);
}

/* Runs FN on the loop and waits for finish(). */
static int call(rg_bread *b, void (*fn)(void *)) {
  pthread_mutex_lock(&b->mu);
  if (b->broken) {
    pthread_mutex_unlock(&b->mu);
    return -EIO;
  }
  b->done = false;
  b->refs++;
  pthread_mutex_unlock(&b->mu);
  if (rg_loop_call(fn, b) != 0) {
    unref(b);
    return -ESHUTDOWN;
  }
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += b->timeout_s + 5;
  pthread_mutex_lock(&b->mu);
  int rc = 0;
  while (!b->done && rc == 0)
    rc = pthread_cond_timedwait(&b->cv, &b->mu, &until);
  int err = b->done ? b->err : -ETIMEDOUT;
  if (!b->done)
    b->broken = true; /* the loop still owes an answer: no more calls */
  pthread_mutex_unlock(&b->mu);
  return err;
}

static void do_open(void *arg) {
  rg_bread *b = arg;
  rg_torrent *t = rg_tm_find(b->tm, b->hash);
  if (!t) {
    finish(b, -ENOENT);
    return;
  }
  int rc = rg_reader_open(b->tm, t, b->index, &b->r);
  if (rc == 0) {
    b->size = rg_reader_size(b->r);
    /* workers read what they need (a probe, an index, a segment) */
    rg_reader_set_readahead(b->r, 4 << 20);
    rg_reader_set_background(b->r, b->background);
  }
  finish(b, rc);
}

static void on_read(void *arg, int err, int fd, int64_t off, size_t len) {
  rg_bread *b = arg;
  b->fd = fd;
  b->got = len;
  finish(b, err);
}

static void do_read(void *arg) {
  rg_bread *b = arg;
  if (!b->r) {
    finish(b, -EBADF);
    return;
  }
  int rc = rg_reader_read(b->r, b->off, b->len, on_read, b);
  if (rc)
    finish(b, rc);
}

static void do_close(void *arg) {
  rg_bread *b = arg;
  rg_reader_close(&b->r);
  finish(b, 0);
}

int rg_bread_open(rg_tm *tm, const char *hash, int index, int timeout_s,
                  rg_bread **out) {
  return rg_bread_open_ex(tm, hash, index, timeout_s, false, out);
}

int rg_bread_open_ex(rg_tm *tm, const char *hash, int index, int timeout_s,
                     bool background, rg_bread **out) {
  rg_bread *b = rg_calloc(1, sizeof *b);
  b->background = background;
  b->tm = tm;
  snprintf(b->hash, sizeof b->hash, "%s", hash);
  b->index = index;
  b->timeout_s = timeout_s > 0 ? timeout_s : 30;
  b->refs = 1;
  b->fd = -1;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  int rc = call(b, do_open);
  if (rc) {
    if (b->r && !b->broken)
      call(b, do_close);
    unref(b);
    return rc;
  }
  *out = b;
  return 0;
}

ssize_t rg_bread_pread(rg_bread *b, void *buf, size_t len, int64_t off) {
  if (off >= b->size || len == 0)
    return 0;
  b->off = off;
  b->len = len;
  int rc = call(b, do_read);
  if (rc)
    return rc;
  size_t n = b->got < len ? b->got : len;
  if (n == 0)
    return 0;
  ssize_t r;
  do
    r = pread(b->fd, buf, n, off);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -errno : r;
}

ssize_t rg_bread_pread_full(rg_bread *b, void *buf, size_t len, int64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = rg_bread_pread(b, (char *)buf + done, len - done,
                               off + (int64_t)done);
    if (r < 0)
      return r;
    if (r == 0)
      break;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

int64_t rg_bread_size(const rg_bread *b) { return b->size; }

void rg_bread_close(rg_bread **bp) {
  rg_bread *b = *bp;
  if (!b)
    return;
  *bp = NULL;
  if (!b->broken)
    call(b, do_close);
  /* a broken reader is left to the loop: it closes with the torrent */
  unref(b);
}
