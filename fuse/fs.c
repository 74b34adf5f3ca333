/* fs.c — the library mount: a read-only libfuse3 low-level filesystem over
 * the library's tree snapshots, whose file reads go through the reader core.
 *
 * Threads.
 *  * RG_FS_WORKERS worker threads of our own run the FUSE receive loop
 *    (fuse_session_receive_buf + fuse_session_process_buf); the daemon's main
 *    thread runs the libevent loop, so FUSE never runs there.
 *  * lookup/getattr/readdir/statfs/open are answered on the worker from an
 *    immutable tree snapshot (rg_library_tree_get): no lock, no loop, no
 *    torrent engine.
 *  * read and unlink need the loop thread (the reader core and the library
 *    are loop-only): the worker queues a request with rg_loop_call and waits
 *    on fs->cv with a deadline (read_timeout_s + 5 s); if the loop does not
 *    answer in time the worker replies EIO and asks the loop to cancel.
 *  * One notifier thread turns library changes into kernel cache
 *    invalidations. The kernel may block a notification behind a FUSE request
 *    in flight (an inode invalidation waits for pages under read), so it
 *    never runs on a worker or on the loop.
 *
 * Reads. A file handle (struct fh) holds up to FH_READERS reader-core readers,
 * created lazily on the loop thread, one read in flight each; more concurrent
 * reads on the handle queue on the loop. A FUSE read must be answered in
 * full except at EOF (a short reply makes the kernel believe the file ends
 * there), so the worker asks again from where the last span ended until the
 * request is satisfied; the spans are contiguous in one cache file and go
 * back in a single fuse_reply_data with an fd buffer (splice, no copy). The
 * loop hands the worker a dup() of the reader's fd, so the span stays
 * readable whatever the loop does next.
 *
 * Caches. Torrent data is immutable per (info hash, file), so open sets
 * keep_cache. A library path can be upgraded to another release under the
 * same inode: the notifier then invalidates that inode's pages and
 * attributes, and AUTO_INVAL_DATA catches a size/mtime change too. Entry and
 * attribute timeouts are RG_FS_TIMEOUT (60 s); changes are pushed through
 * invalidations, so the timeout only bounds a missed one.
 *
 * Writes. The mount is not mounted "ro" (the VFS would then refuse unlink
 * before we see it): every changing operation answers EROFS, except unlink
 * of a library file, which removes its library entry (on the loop thread,
 * the worker waits for the result).
 *
 * Shutdown (rg_fs_unmount, loop thread): wake every waiting worker (EIO),
 * lazy-unmount, wait up to 2 s for the workers to see the connection end,
 * abort it through /sys/fs/fuse/connections/N/abort if clients still hold
 * files, wait 2 s more, then give up on stragglers rather than hang. Closures
 * already queued on the loop may run after rg_fs_unmount: the struct then
 * stays allocated (dead) until the last of them has run. */
#include "config.h"

#define FUSE_USE_VERSION 35
#include <fuse_lowlevel.h>

#include "fs.h"
#include "metrics.h"
#include "library.h"
#include "log.h"
#include "loop.h"
#include "reader.h"
#include "torrents.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define RG_FS_WORKERS 32           /* FUSE worker threads */
#define RG_FS_TIMEOUT 60.0         /* entry and attribute cache, seconds */
#define RG_FS_IO_SIZE (1 << 20)    /* max_read, max_readahead, bdi readahead */
#define RG_FS_MAX_BACKGROUND 16    /* async (readahead) requests in flight */
#define RG_FS_UNLINK_WAIT_S 15     /* an unlink waits this long for the loop */
#define RG_FS_GRACE_MS 2000        /* unmount: wait before aborting clients */
#define FH_READERS 4               /* readers per open file */
#define RG_FS_FAIL_MEMORY_MS 2000  /* a timed-out range fails fast this long */

struct rq;

struct slot {
  rg_reader *r;
  struct rq *busy;   /* the read in flight, or NULL */
  int64_t next_off;  /* where its last read ended (sequential reuse) */
  int64_t used_ms;
};

/* An open file. Created by a worker (open), freed on the loop (release). */
struct fh {
  rg_fs *fs;
  char hash[41];
  int index;
  int64_t size;
  uint64_t ino;
  struct fh *prev, *next; /* fs->fhs, under fs->mu */
  /* loop thread only */
  struct slot slots[FH_READERS];
  int nslots;
  struct rq *wait_head, *wait_tail;
  bool dead; /* readers closed by rg_fs_unmount */
  /* under fs->mu: the last range that timed out, see op_read */
  int64_t fail_off, fail_end, fail_ms;
};

/* An open directory: the snapshot it lists, so offsets stay meaningful. */
struct dh {
  rg_lib_tree *tree;
  uint64_t ino;
};

enum { RQ_READ, RQ_UNLINK };

/* Work a worker hands to the loop thread. Two references: the worker's and
 * the loop's; a worker that gives up passes its own to the cancel closure. */
struct rq {
  int kind;
  rg_fs *fs;
  struct fh *fh;
  int64_t off; /* read */
  size_t len;
  int64_t entry_id; /* unlink */
  /* under fs->mu */
  int refs;
  bool done, abandoned;
  int err;
  int fd; /* a dup of the span's fd (the worker closes it) */
  size_t got;
  /* loop thread only */
  struct slot *slot;
  bool queued;
  struct rq *next;
};

/* A snapshot waiting for the notifier. */
struct tq {
  rg_lib_tree *tree;
  struct tq *next;
};

struct rg_fs {
  char *dir;
  rg_library *lib;
  rg_tm *tm;
  int read_timeout_s;
  struct fuse_session *se;
  unsigned conn_id; /* /sys/fs/fuse/connections/N */
  bool have_conn;
  uid_t uid;
  gid_t gid;

  pthread_mutex_t mu; /* everything below, and struct rq's shared fields */
  pthread_cond_t cv;  /* monotonic clock */
  bool stopping;
  int nrunning;       /* workers still in their loop */
  struct fh *fhs;
  pthread_t workers[RG_FS_WORKERS];
  int nworkers;

  /* notifier */
  pthread_t notifier;
  bool notifier_started, notifier_running, nstop;
  struct tq *nq_head, *nq_tail;
  pthread_cond_t ncv;

  /* statfs, cached per snapshot */
  pthread_mutex_t stat_mu;
  rg_lib_tree *stat_tree;
  uint64_t stat_bytes, stat_nodes;

  /* loop thread only */
  atomic_int pending; /* closures queued on the loop that name this fs */
  bool dead;          /* unmounted; freed when pending reaches 0 */
};

/* ------------------------------------------------------------- logging -- */

static pthread_mutex_t fuse_log_mu = PTHREAD_MUTEX_INITIALIZER;
static char fuse_last_error[512];

/* libfuse's messages go to our log; the last error explains a failed mount. */
static void on_fuse_log(enum fuse_log_level level, const char *fmt,
                        va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
    msg[--n] = 0;
  if (level <= FUSE_LOG_ERR) {
    pthread_mutex_lock(&fuse_log_mu);
    snprintf(fuse_last_error, sizeof fuse_last_error, "%s", msg);
    pthread_mutex_unlock(&fuse_log_mu);
  }
  int lvl = level <= FUSE_LOG_ERR       ? RG_LOG_ERROR
            : level <= FUSE_LOG_WARNING ? RG_LOG_WARN
            : level <= FUSE_LOG_INFO    ? RG_LOG_INFO
                                        : RG_LOG_DEBUG;
  RG_LOG(lvl, "libfuse: %s", msg);
}

static void fuse_error_take(char *buf, size_t len) {
  pthread_mutex_lock(&fuse_log_mu);
  snprintf(buf, len, "%s", fuse_last_error);
  fuse_last_error[0] = 0;
  pthread_mutex_unlock(&fuse_log_mu);
}

/* ------------------------------------------------------------- helpers -- */

static void deadline_in(struct timespec *ts, int64_t ms) {
  clock_gettime(CLOCK_MONOTONIC, ts);
  ts->tv_sec += ms / 1000;
  ts->tv_nsec += (ms % 1000) * 1000000;
  if (ts->tv_nsec >= 1000000000) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000;
  }
}

static void fill_stat(const rg_fs *fs, const rg_lib_node *n, struct stat *st) {
  memset(st, 0, sizeof *st);
  st->st_ino = n->ino;
  st->st_uid = fs->uid;
  st->st_gid = fs->gid;
  st->st_mtime = st->st_ctime = st->st_atime = (time_t)n->mtime;
  st->st_blksize = RG_FS_IO_SIZE;
  if (n->dir) {
    /* 0755: the owner may unlink entries (the one change allowed) */
    st->st_mode = S_IFDIR | 0755;
    nlink_t links = 2;
    for (uint32_t i = 0; i < n->nchildren; i++)
      links += n->children[i]->dir;
    st->st_nlink = links;
    st->st_size = 4096;
    st->st_blocks = 8;
  } else {
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = n->size;
    st->st_blocks = (n->size + 511) / 512;
  }
}

static void fill_entry(const rg_fs *fs, const rg_lib_node *n,
                       struct fuse_entry_param *e) {
  memset(e, 0, sizeof *e);
  e->ino = n->ino;
  e->generation = 1; /* library inode numbers are never reused */
  e->attr_timeout = RG_FS_TIMEOUT;
  e->entry_timeout = RG_FS_TIMEOUT;
  fill_stat(fs, n, &e->attr);
}

static void rq_unref(rg_fs *fs, struct rq *rq) {
  pthread_mutex_lock(&fs->mu);
  bool last = --rq->refs == 0;
  pthread_mutex_unlock(&fs->mu);
  if (last) {
    if (rq->fd >= 0)
      close(rq->fd);
    free(rq);
  }
}

static void fs_free_final(rg_fs *fs);

/* Every loop closure ends here. */
static void closure_done(rg_fs *fs) {
  if (atomic_fetch_sub(&fs->pending, 1) == 1 && fs->dead)
    fs_free_final(fs);
}

/* ------------------------------------------------- loop side of reads -- */

/* Loop thread: hands the result to the waiting worker and drops the loop's
 * reference. FD is the reader's; the worker gets its own dup. */
static void rq_complete(struct rq *rq, int err, int fd, size_t got) {
  rg_fs *fs = rq->fs;
  int dfd = -1;
  if (!err && got > 0) {
    dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dfd < 0)
      err = -errno;
  }
  pthread_mutex_lock(&fs->mu);
  if (!rq->abandoned) {
    rq->done = true;
    rq->err = err;
    rq->fd = dfd;
    rq->got = err ? 0 : got;
    dfd = -1;
    pthread_cond_broadcast(&fs->cv);
  }
  pthread_mutex_unlock(&fs->mu);
  if (dfd >= 0)
    close(dfd);
  rq_unref(fs, rq);
}

/* A free reader for a read at OFF: the one that ended there, else a new one
 * (up to FH_READERS), else the least recently used. NULL if all are busy or
 * on error (*err). */
static struct slot *pick_slot(struct fh *fh, int64_t off, int *err) {
  *err = 0;
  struct slot *lru = NULL;
  for (int i = 0; i < fh->nslots; i++) {
    struct slot *s = &fh->slots[i];
    if (s->busy)
      continue;
    if (s->next_off == off)
      return s;
    if (!lru || s->used_ms < lru->used_ms)
      lru = s;
  }
  if (fh->nslots < FH_READERS) {
    rg_torrent *t = rg_tm_find(fh->fs->tm, fh->hash);
    if (!t) {
      *err = -ENOENT;
      return NULL;
    }
    rg_reader *r = NULL;
    int rc = rg_reader_open(fh->fs->tm, t, fh->index, &r);
    if (rc) {
      rg_warn("%s: cannot read file %d for the mount: %s", fh->hash,
              fh->index, strerror(-rc));
      *err = rc;
      return NULL;
    }
    struct slot *s = &fh->slots[fh->nslots++];
    s->r = r;
    s->busy = NULL;
    s->next_off = -1;
    s->used_ms = 0;
    return s;
  }
  return lru;
}

static void serve_waiters(struct fh *fh);

static void on_data(void *arg, int err, int fd, int64_t off, size_t len) {
  struct rq *rq = arg;
  struct slot *s = rq->slot;
  struct fh *fh = rq->fh;
  s->busy = NULL;
  s->next_off = err ? -1 : off + (int64_t)len;
  s->used_ms = rg_now_ms();
  rq->slot = NULL;
  rq_complete(rq, err, fd, len);
  serve_waiters(fh);
}

static void start_on_slot(struct slot *s, struct rq *rq) {
  s->busy = rq;
  rq->slot = s;
  int rc = rg_reader_read(s->r, rq->off, rq->len, on_data, rq);
  if (rc) {
    s->busy = NULL;
    rq->slot = NULL;
    rq_complete(rq, rc, -1, 0);
  }
}

static void serve_waiters(struct fh *fh) {
  while (fh->wait_head && !fh->dead) {
    struct rq *rq = fh->wait_head;
    int err;
    struct slot *s = pick_slot(fh, rq->off, &err);
    if (!s && !err)
      return; /* all busy: the next completion serves it */
    fh->wait_head = rq->next;
    if (!fh->wait_head)
      fh->wait_tail = NULL;
    rq->queued = false;
    rq->next = NULL;
    if (s)
      start_on_slot(s, rq);
    else
      rq_complete(rq, err, -1, 0);
  }
}

static void loop_read(void *arg) {
  struct rq *rq = arg;
  rg_fs *fs = rq->fs;
  struct fh *fh = rq->fh;
  if (fs->dead || fh->dead) {
    rq_complete(rq, -ESHUTDOWN, -1, 0);
    goto out;
  }
  int err;
  struct slot *s = fh->wait_head ? NULL : pick_slot(fh, rq->off, &err);
  if (s) {
    start_on_slot(s, rq);
  } else if (!fh->wait_head && err) {
    rq_complete(rq, err, -1, 0);
  } else {
    rq->queued = true;
    rq->next = NULL;
    if (fh->wait_tail)
      fh->wait_tail->next = rq;
    else
      fh->wait_head = rq;
    fh->wait_tail = rq;
  }
out:
  closure_done(fs);
}

/* The worker gave up on RQ (timeout or shutdown): stop the read if it is
 * still in flight or queued; drop the worker's reference it passed us. */
static void loop_cancel(void *arg) {
  struct rq *rq = arg;
  rg_fs *fs = rq->fs;
  if (rq->kind == RQ_READ) {
    struct fh *fh = rq->fh;
    if (rq->slot) {
      struct slot *s = rq->slot;
      rg_reader_cancel(s->r);
      s->busy = NULL;
      s->next_off = -1;
      rq->slot = NULL;
      rq_unref(fs, rq); /* the loop's */
      serve_waiters(fh);
    } else if (rq->queued) {
      for (struct rq **pp = &fh->wait_head; *pp; pp = &(*pp)->next)
        if (*pp == rq) {
          *pp = rq->next;
          break;
        }
      fh->wait_tail = NULL;
      for (struct rq *w = fh->wait_head; w; w = w->next)
        fh->wait_tail = w;
      rq->queued = false;
      rq_unref(fs, rq); /* the loop's */
    }
  }
  rq_unref(fs, rq);
  closure_done(fs);
}

/* Closes FH's readers and fails whatever waits on it (loop thread). */
static void fh_close_readers(struct fh *fh) {
  for (int i = 0; i < fh->nslots; i++) {
    struct slot *s = &fh->slots[i];
    struct rq *busy = s->busy;
    if (busy) {
      rg_reader_cancel(s->r);
      s->busy = NULL;
      busy->slot = NULL;
      rq_complete(busy, -ESHUTDOWN, -1, 0);
    }
    rg_reader_close(&s->r);
  }
  fh->nslots = 0;
  while (fh->wait_head) {
    struct rq *rq = fh->wait_head;
    fh->wait_head = rq->next;
    rq->queued = false;
    rq->next = NULL;
    rq_complete(rq, -ESHUTDOWN, -1, 0);
  }
  fh->wait_tail = NULL;
  fh->dead = true;
}

static void loop_release(void *arg) {
  struct fh *fh = arg;
  rg_fs *fs = fh->fs;
  fh_close_readers(fh);
  pthread_mutex_lock(&fs->mu);
  if (fh->prev)
    fh->prev->next = fh->next;
  else
    fs->fhs = fh->next;
  if (fh->next)
    fh->next->prev = fh->prev;
  pthread_mutex_unlock(&fs->mu);
  free(fh);
  closure_done(fs);
}

static void loop_unlink(void *arg) {
  struct rq *rq = arg;
  rg_fs *fs = rq->fs;
  int rc = fs->dead ? -ESHUTDOWN : rg_library_remove(fs->lib, rq->entry_id);
  if (rc == 0)
    rg_info("mount: removed library entry %lld (unlinked through the mount)",
            (long long)rq->entry_id);
  rq_complete(rq, rc, -1, 0);
  closure_done(fs);
}

/* ---------------------------------------------- worker side of the loop -- */

/* Worker: queues RQ on the loop with FN and waits until DEADLINE. Returns the
 * loop's answer, -ETIMEDOUT, or -ESHUTDOWN. On success *FD (owned by the
 * caller) and *GOT hold the span. Frees RQ in every case. */
static int rq_run(rg_fs *fs, struct rq *rq, void (*fn)(void *),
                  const struct timespec *deadline, int *fd, size_t *got) {
  rq->refs = 2;
  rq->fd = -1;
  pthread_mutex_lock(&fs->mu);
  bool stopping = fs->stopping;
  pthread_mutex_unlock(&fs->mu);
  atomic_fetch_add(&fs->pending, 1);
  if (stopping || rg_loop_call(fn, rq) != 0) {
    atomic_fetch_sub(&fs->pending, 1);
    free(rq);
    return -ESHUTDOWN;
  }
  pthread_mutex_lock(&fs->mu);
  while (!rq->done && !fs->stopping)
    if (pthread_cond_timedwait(&fs->cv, &fs->mu, deadline) == ETIMEDOUT)
      break;
  if (rq->done) {
    int err = rq->err;
    if (fd) {
      *fd = rq->fd;
      rq->fd = -1;
    }
    if (got)
      *got = rq->got;
    bool last = --rq->refs == 0;
    pthread_mutex_unlock(&fs->mu);
    if (last) {
      if (rq->fd >= 0)
        close(rq->fd);
      free(rq);
    }
    return err;
  }
  rq->abandoned = true;
  stopping = fs->stopping;
  pthread_mutex_unlock(&fs->mu);
  /* our reference goes to the cancel closure */
  atomic_fetch_add(&fs->pending, 1);
  if (rg_loop_call(loop_cancel, rq) != 0) {
    atomic_fetch_sub(&fs->pending, 1);
    rq_unref(fs, rq);
  }
  return stopping ? -ESHUTDOWN : -ETIMEDOUT;
}

/* --------------------------------------------------------- operations -- */

static rg_fs *req_fs(fuse_req_t req) { return fuse_req_userdata(req); }

static void op_init(void *userdata, struct fuse_conn_info *conn) {
  (void)userdata;
  if (conn->capable & FUSE_CAP_SPLICE_WRITE)
    conn->want |= FUSE_CAP_SPLICE_WRITE;
  if (conn->capable & FUSE_CAP_ASYNC_READ)
    conn->want |= FUSE_CAP_ASYNC_READ;
  if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
    conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
  if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
    conn->want |= FUSE_CAP_PARALLEL_DIROPS;
  conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
  conn->max_read = RG_FS_IO_SIZE; /* must equal the max_read mount option */
  conn->max_readahead = RG_FS_IO_SIZE;
  conn->max_background = RG_FS_MAX_BACKGROUND;
  conn->congestion_threshold = RG_FS_MAX_BACKGROUND * 3 / 4;
  conn->time_gran = 1000000000;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
  RG_METRICS_FUSE_OP("lookup");
  rg_fs *fs = req_fs(req);
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  const rg_lib_node *n = t ? rg_lib_tree_lookup(t, parent, name) : NULL;
  if (!n) {
    rg_lib_tree_put(t);
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct fuse_entry_param e;
  fill_entry(fs, n, &e);
  rg_lib_tree_put(t);
  fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup) {
  (void)ino, (void)nlookup;
  fuse_reply_none(req); /* inodes are the library's numbers: nothing to free */
}

static void op_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets) {
  (void)count, (void)forgets;
  fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("getattr");
  (void)fi;
  rg_fs *fs = req_fs(req);
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  const rg_lib_node *n = t ? rg_lib_tree_node(t, ino) : NULL;
  if (!n) {
    rg_lib_tree_put(t);
    fuse_reply_err(req, ENOENT);
    return;
  }
  struct stat st;
  fill_stat(fs, n, &st);
  rg_lib_tree_put(t);
  fuse_reply_attr(req, &st, RG_FS_TIMEOUT);
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi) {
  (void)ino, (void)attr, (void)to_set, (void)fi;
  fuse_reply_err(req, EROFS);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev) {
  (void)parent, (void)name, (void)mode, (void)rdev;
  fuse_reply_err(req, EROFS);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode) {
  (void)parent, (void)name, (void)mode;
  fuse_reply_err(req, EROFS);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name) {
  (void)parent, (void)name;
  fuse_reply_err(req, EROFS);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name) {
  (void)link, (void)parent, (void)name;
  fuse_reply_err(req, EROFS);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags) {
  (void)parent, (void)name, (void)newparent, (void)newname, (void)flags;
  fuse_reply_err(req, EROFS);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname) {
  (void)ino, (void)newparent, (void)newname;
  fuse_reply_err(req, EROFS);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi) {
  (void)parent, (void)name, (void)mode, (void)fi;
  fuse_reply_err(req, EROFS);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino,
                         struct fuse_bufvec *bufv, off_t off,
                         struct fuse_file_info *fi) {
  (void)ino, (void)bufv, (void)off, (void)fi;
  fuse_reply_err(req, EROFS);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        const char *value, size_t size, int flags) {
  (void)ino, (void)name, (void)value, (void)size, (void)flags;
  fuse_reply_err(req, EROFS);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name) {
  (void)ino, (void)name;
  fuse_reply_err(req, EROFS);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
                         off_t len, struct fuse_file_info *fi) {
  (void)ino, (void)mode, (void)off, (void)len, (void)fi;
  fuse_reply_err(req, EROFS);
}

/* Unlinking a library file removes its library entry (the only change the
 * mount accepts). The library does it on the loop thread; we wait. */
static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name) {
  RG_METRICS_FUSE_OP("unlink");
  rg_fs *fs = req_fs(req);
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  const rg_lib_node *n = t ? rg_lib_tree_lookup(t, parent, name) : NULL;
  if (!n || n->dir) {
    int e = n ? EISDIR : ENOENT;
    rg_lib_tree_put(t);
    fuse_reply_err(req, e);
    return;
  }
  struct rq *rq = rg_calloc(1, sizeof *rq);
  rq->kind = RQ_UNLINK;
  rq->fs = fs;
  rq->entry_id = n->entry_id;
  rg_lib_tree_put(t);
  struct timespec dl;
  deadline_in(&dl, RG_FS_UNLINK_WAIT_S * 1000);
  int rc = rq_run(fs, rq, loop_unlink, &dl, NULL, NULL);
  if (rc == -ETIMEDOUT || rc == -ESHUTDOWN)
    rc = -EIO;
  fuse_reply_err(req, -rc);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("open");
  rg_fs *fs = req_fs(req);
  if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) {
    fuse_reply_err(req, EROFS);
    return;
  }
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  const rg_lib_node *n = t ? rg_lib_tree_node(t, ino) : NULL;
  if (!n || n->dir) {
    int e = n ? EISDIR : ENOENT;
    rg_lib_tree_put(t);
    fuse_reply_err(req, e);
    return;
  }
  /* Readers are made on the first read (loop thread): open never waits. */
  struct fh *fh = rg_calloc(1, sizeof *fh);
  fh->fs = fs;
  memcpy(fh->hash, n->hash, sizeof fh->hash);
  fh->hash[40] = 0;
  fh->index = n->file_index;
  fh->size = n->size;
  fh->ino = n->ino;
  rg_lib_tree_put(t);
  pthread_mutex_lock(&fs->mu);
  fh->next = fs->fhs;
  if (fs->fhs)
    fs->fhs->prev = fh;
  fs->fhs = fh;
  pthread_mutex_unlock(&fs->mu);
  fi->fh = (uint64_t)(uintptr_t)fh;
  fi->keep_cache = 1; /* the bytes of (info hash, file) never change */
  fi->direct_io = 0;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    /* the opener was interrupted: no release will come */
    atomic_fetch_add(&fs->pending, 1);
    if (rg_loop_call(loop_release, fh) != 0)
      atomic_fetch_sub(&fs->pending, 1);
  }
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("read");
  (void)ino;
  rg_fs *fs = req_fs(req);
  struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
  if (off < 0) {
    fuse_reply_err(req, EINVAL);
    return;
  }
  if (off >= fh->size || size == 0) {
    fuse_reply_buf(req, NULL, 0);
    return;
  }
  if ((int64_t)size > fh->size - off)
    size = (size_t)(fh->size - off);
  /* When a readahead request fails the kernel asks again for the page the
   * reader wanted, at once: answer that from the failure just seen instead
   * of waiting read_timeout_s a second time. */
  int64_t now = rg_now_ms();
  pthread_mutex_lock(&fs->mu);
  bool failed_recently = now - fh->fail_ms < RG_FS_FAIL_MEMORY_MS &&
                         off < fh->fail_end &&
                         off + (int64_t)size > fh->fail_off;
  pthread_mutex_unlock(&fs->mu);
  if (failed_recently) {
    fuse_reply_err(req, EIO);
    return;
  }
  struct timespec dl;
  deadline_in(&dl, ((int64_t)fs->read_timeout_s + 5) * 1000);
  size_t done = 0;
  int fd = -1, err = 0;
  while (done < size) {
    struct rq *rq = rg_calloc(1, sizeof *rq);
    rq->kind = RQ_READ;
    rq->fs = fs;
    rq->fh = fh;
    rq->off = off + (int64_t)done;
    rq->len = size - done;
    int sfd = -1;
    size_t got = 0;
    err = rq_run(fs, rq, loop_read, &dl, &sfd, &got);
    if (err)
      break;
    if (got == 0) /* EOF: the torrent's file is shorter than the entry says */
      break;
    if (fd < 0)
      fd = sfd; /* every span is the same cache file: keep one fd */
    else
      close(sfd);
    done += got;
  }
  if (err) {
    if (err == -ETIMEDOUT) {
      pthread_mutex_lock(&fs->mu);
      fh->fail_off = off + (int64_t)done;
      fh->fail_end = off + (int64_t)size;
      fh->fail_ms = rg_now_ms();
      pthread_mutex_unlock(&fs->mu);
    }
    if (err == -ETIMEDOUT)
      rg_warn("mount: read of %s file %d at %lld (+%zu) not served within "
              "%d s: EIO",
              fh->hash, fh->index, (long long)off, size,
              fs->read_timeout_s);
    fuse_reply_err(req, err == -ENOMEM ? ENOMEM : EIO);
  } else if (done == 0) {
    fuse_reply_buf(req, NULL, 0);
  } else {
    struct fuse_bufvec bv = FUSE_BUFVEC_INIT(done);
    bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
    bv.buf[0].fd = fd;
    bv.buf[0].pos = off;
    fuse_reply_data(req, &bv, 0);
  }
  if (fd >= 0)
    close(fd);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("release");
  (void)ino;
  rg_fs *fs = req_fs(req);
  struct fh *fh = (struct fh *)(uintptr_t)fi->fh;
  atomic_fetch_add(&fs->pending, 1);
  if (rg_loop_call(loop_release, fh) != 0)
    atomic_fetch_sub(&fs->pending, 1); /* the final free takes it */
  fuse_reply_err(req, 0);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("opendir");
  rg_fs *fs = req_fs(req);
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  const rg_lib_node *n = t ? rg_lib_tree_node(t, ino) : NULL;
  if (!n || !n->dir) {
    rg_lib_tree_put(t);
    fuse_reply_err(req, n ? ENOTDIR : ENOENT);
    return;
  }
  struct dh *dh = rg_calloc(1, sizeof *dh);
  dh->tree = t; /* the listing stays on this snapshot */
  dh->ino = ino;
  fi->fh = (uint64_t)(uintptr_t)dh;
  if (fuse_reply_open(req, fi) == -ENOENT) {
    rg_lib_tree_put(dh->tree);
    free(dh);
  }
}

/* Offsets: 1 is ".", 2 is "..", 3 + i is child i; an entry's offset is the
 * one of the next entry. */
static void do_readdir(fuse_req_t req, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus) {
  rg_fs *fs = req_fs(req);
  struct dh *dh = (struct dh *)(uintptr_t)fi->fh;
  const rg_lib_node *n = rg_lib_tree_node(dh->tree, dh->ino);
  if (!n) {
    fuse_reply_err(req, ENOENT);
    return;
  }
  if (size > RG_FS_IO_SIZE)
    size = RG_FS_IO_SIZE;
  char *buf = rg_malloc(size);
  size_t pos = 0;
  for (off_t i = off; i < (off_t)n->nchildren + 2; i++) {
    const rg_lib_node *c;
    const char *name;
    const rg_lib_node *self = n;
    if (i == 0) {
      name = ".";
      c = self;
    } else if (i == 1) {
      name = "..";
      c = rg_lib_tree_node(dh->tree, n->ino == RG_LIB_ROOT_INO ? n->ino
                                                                : n->parent);
      if (!c)
        c = self;
    } else {
      c = n->children[i - 2];
      name = c->name;
    }
    size_t need;
    if (plus) {
      struct fuse_entry_param e;
      fill_entry(fs, c, &e);
      need = fuse_add_direntry_plus(req, buf + pos, size - pos, name, &e,
                                    i + 1);
    } else {
      struct stat st;
      memset(&st, 0, sizeof st);
      st.st_ino = c->ino;
      st.st_mode = c->dir ? S_IFDIR : S_IFREG;
      need = fuse_add_direntry(req, buf + pos, size - pos, name, &st, i + 1);
    }
    if (need > size - pos)
      break;
    pos += need;
  }
  fuse_reply_buf(req, buf, pos);
  free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("readdir");
  (void)ino;
  do_readdir(req, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                           off_t off, struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("readdirplus");
  (void)ino;
  do_readdir(req, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi) {
  RG_METRICS_FUSE_OP("releasedir");
  (void)ino;
  struct dh *dh = (struct dh *)(uintptr_t)fi->fh;
  rg_lib_tree_put(dh->tree);
  free(dh);
  fuse_reply_err(req, 0);
}

static void count_tree(const rg_lib_node *n, uint64_t *bytes, uint64_t *nodes) {
  (*nodes)++;
  if (!n->dir) {
    *bytes += (uint64_t)n->size;
    return;
  }
  for (uint32_t i = 0; i < n->nchildren; i++)
    count_tree(n->children[i], bytes, nodes);
}

/* The library's size as a full disk: df shows what the mount holds. */
static void op_statfs(fuse_req_t req, fuse_ino_t ino) {
  RG_METRICS_FUSE_OP("statfs");
  (void)ino;
  rg_fs *fs = req_fs(req);
  rg_lib_tree *t = rg_library_tree_get(fs->lib);
  pthread_mutex_lock(&fs->stat_mu);
  if (t != fs->stat_tree) {
    uint64_t bytes = 0, nodes = 0;
    const rg_lib_node *root = t ? rg_lib_tree_node(t, RG_LIB_ROOT_INO) : NULL;
    if (root)
      count_tree(root, &bytes, &nodes);
    rg_lib_tree_put(fs->stat_tree);
    fs->stat_tree = t; /* keeps the reference: no pointer reuse */
    t = NULL;
    fs->stat_bytes = bytes;
    fs->stat_nodes = nodes;
  }
  struct statvfs sv;
  memset(&sv, 0, sizeof sv);
  sv.f_bsize = 4096;
  sv.f_frsize = 4096;
  sv.f_blocks = (fs->stat_bytes + 4095) / 4096;
  sv.f_files = fs->stat_nodes;
  sv.f_namemax = 255;
  pthread_mutex_unlock(&fs->stat_mu);
  rg_lib_tree_put(t);
  fuse_reply_statfs(req, &sv);
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write_buf = op_write_buf,
    .release = op_release,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .statfs = op_statfs,
    .setxattr = op_setxattr,
    .removexattr = op_removexattr,
    .create = op_create,
    .fallocate = op_fallocate,
};

/* ------------------------------------------------------------ notifier -- */

static bool notifier_should_stop(rg_fs *fs) {
  pthread_mutex_lock(&fs->mu);
  bool s = fs->nstop;
  pthread_mutex_unlock(&fs->mu);
  return s;
}

static bool same_content(const rg_lib_node *a, const rg_lib_node *b) {
  return a->size == b->size && a->mtime == b->mtime &&
         a->file_index == b->file_index && strcmp(a->hash, b->hash) == 0;
}

/* Tells the kernel what changed from PREV to CUR: dentries that went away
 * or point elsewhere, directories whose listing changed, files whose content
 * changed under the same inode (an upgraded release). */
static void diff_dir(rg_fs *fs, const rg_lib_tree *prev, const rg_lib_tree *cur,
                     const rg_lib_node *p) {
  const rg_lib_node *c = rg_lib_tree_node(cur, p->ino);
  bool changed = !c || !c->dir || c->nchildren != p->nchildren;
  for (uint32_t i = 0; i < p->nchildren && !notifier_should_stop(fs); i++) {
    const rg_lib_node *ch = p->children[i];
    const rg_lib_node *nc = rg_lib_tree_lookup(cur, p->ino, ch->name);
    if (!nc || nc->ino != ch->ino || nc->dir != ch->dir) {
      changed = true;
      fuse_lowlevel_notify_inval_entry(fs->se, p->ino, ch->name,
                                       strlen(ch->name));
    }
    if (ch->dir) {
      diff_dir(fs, prev, cur, ch);
    } else {
      const rg_lib_node *same = rg_lib_tree_node(cur, ch->ino);
      if (same && !same->dir && !same_content(ch, same))
        fuse_lowlevel_notify_inval_inode(fs->se, ch->ino, 0, 0);
    }
  }
  if (changed)
    fuse_lowlevel_notify_inval_inode(fs->se, p->ino, 0, 0);
}

static void *notifier_main(void *arg) {
  rg_fs *fs = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  rg_lib_tree *prev = rg_library_tree_get(fs->lib);
  pthread_mutex_lock(&fs->mu);
  for (;;) {
    while (!fs->nq_head && !fs->nstop)
      pthread_cond_wait(&fs->ncv, &fs->mu);
    if (fs->nstop)
      break;
    struct tq *q = fs->nq_head;
    fs->nq_head = q->next;
    if (!fs->nq_head)
      fs->nq_tail = NULL;
    pthread_mutex_unlock(&fs->mu);
    const rg_lib_node *root = prev ? rg_lib_tree_node(prev, RG_LIB_ROOT_INO)
                                   : NULL;
    if (root && q->tree)
      diff_dir(fs, prev, q->tree, root);
    rg_lib_tree_put(prev);
    prev = q->tree;
    free(q);
    pthread_mutex_lock(&fs->mu);
  }
  struct tq *q = fs->nq_head;
  fs->nq_head = fs->nq_tail = NULL;
  fs->notifier_running = false;
  pthread_cond_broadcast(&fs->cv);
  pthread_mutex_unlock(&fs->mu);
  while (q) {
    struct tq *next = q->next;
    rg_lib_tree_put(q->tree);
    free(q);
    q = next;
  }
  rg_lib_tree_put(prev);
  return NULL;
}

/* Library listener (loop thread): queue the new snapshot for the notifier. */
static void on_library_changed(void *arg, rg_lib_tree *old_tree,
                               rg_lib_tree *new_tree) {
  (void)old_tree, (void)new_tree;
  rg_fs *fs = arg;
  struct tq *q = rg_calloc(1, sizeof *q);
  q->tree = rg_library_tree_get(fs->lib); /* our own reference to new_tree */
  pthread_mutex_lock(&fs->mu);
  if (fs->nstop) {
    pthread_mutex_unlock(&fs->mu);
    rg_lib_tree_put(q->tree);
    free(q);
    return;
  }
  if (fs->nq_tail)
    fs->nq_tail->next = q;
  else
    fs->nq_head = q;
  fs->nq_tail = q;
  pthread_cond_signal(&fs->ncv);
  pthread_mutex_unlock(&fs->mu);
}

/* ------------------------------------------------------------- workers -- */

static void *worker_main(void *arg) {
  rg_fs *fs = arg;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  struct fuse_buf buf;
  memset(&buf, 0, sizeof buf);
  while (!fuse_session_exited(fs->se)) {
    int r = fuse_session_receive_buf(fs->se, &buf);
    if (r == -EINTR || r == -EAGAIN)
      continue;
    if (r <= 0)
      break; /* the connection is gone (unmounted or aborted) */
    fuse_session_process_buf(fs->se, &buf);
  }
  free(buf.mem);
  fuse_session_exit(fs->se);
  pthread_mutex_lock(&fs->mu);
  fs->nrunning--;
  pthread_cond_broadcast(&fs->cv);
  pthread_mutex_unlock(&fs->mu);
  return NULL;
}

/* ------------------------------------------------------ mount plumbing -- */

/* Runs fusermount3 ARGS... and waits at most 5 s. 0 or -errno. */
static int run_fusermount(const char *a1, const char *a2, const char *dir) {
  char *argv[] = {"fusermount3", (char *)a1, (char *)a2, "-q", (char *)dir,
                  NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, "fusermount3", NULL, NULL, argv, environ);
  if (rc)
    return -rc;
  for (int i = 0; i < 100; i++) {
    int st;
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid)
      return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
    if (w < 0)
      return -errno;
    usleep(50000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  return -ETIMEDOUT;
}

/* Lazy unmount: the tree disappears now, open files keep it alive. */
static int detach_mount(const char *dir) {
  if (geteuid() == 0 && umount2(dir, MNT_DETACH) == 0)
    return 0;
  int e = errno;
  if (run_fusermount("-u", "-z", dir) == 0)
    return 0;
  return geteuid() == 0 ? -e : -EPERM;
}

/* A crashed daemon leaves its mount behind: every access fails with ENOTCONN.
 * Clear it (lazily). A live reelgate mount there is refused. */
static int clear_stale(const char *dir, char **cause) {
  for (int round = 0; round < 4; round++) {
    struct stat st;
    struct statfs sf;
    /* statfs always reaches the filesystem; stat may answer from the cached
     * attributes of a dead mount */
    if (statfs(dir, &sf) == 0 && stat(dir, &st) == 0) {
      char fst[128];
      unsigned ma, mi;
      if (round == 0 && rg_find_mount(dir, fst, sizeof fst, &ma, &mi) == 0 &&
          strcmp(fst, "fuse.reelgate") == 0) {
        *cause = rg_printf("%s is already mounted by a running reelgate; stop "
                           "it or unmount it (fusermount3 -u %s)",
                           dir, dir);
        return -EBUSY;
      }
      if (!S_ISDIR(st.st_mode)) {
        *cause = rg_printf("the mount point %s is not a directory", dir);
        return -ENOTDIR;
      }
      return 0;
    }
    int e = errno;
    if (e == ENOENT) {
      int rc = rg_mkdir_p(dir, 0755);
      if (rc) {
        *cause = rg_printf("cannot create the mount point %s: %s", dir,
                           strerror(-rc));
        return rc;
      }
      continue;
    }
    if (e != ENOTCONN && e != ECONNABORTED) {
      *cause = rg_printf("cannot use the mount point %s: %s", dir,
                         strerror(e));
      return -e;
    }
    rg_warn("clearing a stale mount at %s (a previous reelgate did not "
            "unmount: %s)",
            dir, strerror(e));
    int rc = detach_mount(dir);
    if (rc) {
      *cause = rg_printf("a stale mount at %s cannot be cleared (%s): run "
                         "'fusermount3 -u -z %s' or 'umount -l %s'",
                         dir, strerror(-rc), dir, dir);
      return rc;
    }
  }
  *cause = rg_printf("the mount point %s keeps failing", dir);
  return -EIO;
}

static bool allow_other_permitted(void) {
  if (geteuid() == 0)
    return true;
  FILE *f = fopen("/etc/fuse.conf", "re");
  if (!f)
    return false;
  char line[256];
  bool ok = false;
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ' || *p == '\t')
      p++;
    if (strncmp(p, "user_allow_other", 16) == 0 &&
        (p[16] == 0 || p[16] == '\n' || p[16] == ' ' || p[16] == '\t'))
      ok = true;
  }
  fclose(f);
  return ok;
}

/* Media servers read big files sequentially: a 1 MiB kernel read-ahead (the
 * default is 128 KiB) halves the round trips. Best effort. */
static void raise_readahead(unsigned ma, unsigned mi) {
  char path[96];
  snprintf(path, sizeof path, "/sys/class/bdi/%u:%u/read_ahead_kb", ma, mi);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    rg_debug("mount: cannot raise the read-ahead (%s: %s)", path,
             strerror(errno));
    return;
  }
  char v[16];
  int n = snprintf(v, sizeof v, "%d", RG_FS_IO_SIZE / 1024);
  if (write(fd, v, (size_t)n) != n)
    rg_debug("mount: cannot raise the read-ahead (%s: %s)", path,
             strerror(errno));
  close(fd);
}

static void abort_connection(rg_fs *fs) {
  if (!fs->have_conn)
    return;
  char path[96];
  snprintf(path, sizeof path, "/sys/fs/fuse/connections/%u/abort",
           fs->conn_id);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    rg_warn("mount: cannot abort the FUSE connection (%s: %s)", path,
            strerror(errno));
    return;
  }
  if (write(fd, "1", 1) != 1)
    rg_warn("mount: cannot abort the FUSE connection (%s: %s)", path,
            strerror(errno));
  close(fd);
}

static void fs_free_final(rg_fs *fs) {
  struct fh *fh = fs->fhs;
  while (fh) {
    struct fh *next = fh->next;
    free(fh);
    fh = next;
  }
  rg_lib_tree_put(fs->stat_tree);
  pthread_mutex_destroy(&fs->mu);
  pthread_mutex_destroy(&fs->stat_mu);
  pthread_cond_destroy(&fs->cv);
  pthread_cond_destroy(&fs->ncv);
  free(fs->dir);
  free(fs);
}

/* Waits (mu held) until no worker runs or MS pass. True if none runs. */
static bool wait_workers(rg_fs *fs, int64_t ms) {
  struct timespec dl;
  deadline_in(&dl, ms);
  while (fs->nrunning > 0)
    if (pthread_cond_timedwait(&fs->cv, &fs->mu, &dl) == ETIMEDOUT)
      break;
  return fs->nrunning == 0;
}

static bool wait_notifier(rg_fs *fs, int64_t ms) {
  struct timespec dl;
  deadline_in(&dl, ms);
  while (fs->notifier_running)
    if (pthread_cond_timedwait(&fs->cv, &fs->mu, &dl) == ETIMEDOUT)
      break;
  return !fs->notifier_running;
}

int rg_fs_mount(const char *dir, rg_library *lib, rg_tm *tm,
                int read_timeout_s, rg_fs **out, char **cause) {
  *out = NULL;
  fuse_set_log_func(on_fuse_log);
  if (access("/dev/fuse", F_OK) != 0) {
    *cause = rg_printf("no /dev/fuse, so the library mount at %s is off (load "
                       "the fuse module, or give the container --device "
                       "/dev/fuse --cap-add SYS_ADMIN); HTTP streaming works",
                       dir);
    return -ENODEV;
  }
  char *real = NULL;
  int rc = clear_stale(dir, cause);
  if (rc)
    return rc;
  real = realpath(dir, NULL);
  if (!real) {
    rc = -errno;
    *cause = rg_printf("cannot resolve the mount point %s: %s", dir,
                       strerror(errno));
    return rc;
  }

  rg_fs *fs = rg_calloc(1, sizeof *fs);
  fs->dir = real;
  fs->lib = lib;
  fs->tm = tm;
  fs->read_timeout_s = read_timeout_s > 0 ? read_timeout_s : 30;
  fs->uid = getuid();
  fs->gid = getgid();
  pthread_mutex_init(&fs->mu, NULL);
  pthread_mutex_init(&fs->stat_mu, NULL);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&fs->cv, &ca);
  pthread_cond_init(&fs->ncv, &ca);
  pthread_condattr_destroy(&ca);
  atomic_init(&fs->pending, 0);

  bool allow_other = allow_other_permitted();
  if (!allow_other)
    rg_warn("mount: only this user can see %s (allow_other needs root or "
            "user_allow_other in /etc/fuse.conf): a media server running as "
            "another user will see an empty folder",
            real);
  /* not "ro": the VFS would refuse unlink, which removes a library entry */
  char *opts = rg_printf("fsname=reelgate,subtype=reelgate,default_permissions,"
                         "nosuid,nodev,noatime,max_read=%d%s",
                         RG_FS_IO_SIZE, allow_other ? ",allow_other" : "");
  char *argv[] = {"reelgate", "-o", opts, NULL};
  struct fuse_args args = FUSE_ARGS_INIT(3, argv);
  char fuse_msg[512];
  fuse_error_take(fuse_msg, sizeof fuse_msg);
  fs->se = fuse_session_new(&args, &fs_ops, sizeof fs_ops, fs);
  fuse_opt_free_args(&args);
  free(opts);
  if (!fs->se) {
    fuse_error_take(fuse_msg, sizeof fuse_msg);
    *cause = rg_printf("cannot set up the FUSE session: %s",
                       *fuse_msg ? fuse_msg : "libfuse refused the options");
    rc = -EINVAL;
    goto fail;
  }
  if (fuse_session_mount(fs->se, real) != 0) {
    fuse_error_take(fuse_msg, sizeof fuse_msg);
    rc = strstr(fuse_msg, "ermission denied")   ? -EACCES
         : strstr(fuse_msg, "not permitted")    ? -EPERM
         : strstr(fuse_msg, "device not found") ? -ENODEV
                                                : -EIO;
    *cause = rg_printf("cannot mount the library at %s: %s; the mount is off, "
                       "HTTP streaming works",
                       real, *fuse_msg ? fuse_msg : strerror(-rc));
    goto fail_session;
  }
  char fst[128];
  unsigned ma = 0, mi = 0;
  if (rg_find_mount(real, fst, sizeof fst, &ma, &mi) == 0 &&
      strncmp(fst, "fuse", 4) == 0) {
    fs->have_conn = true;
    fs->conn_id = (unsigned)((ma << 20) | mi);
    raise_readahead(ma, mi);
  } else {
    rg_warn("mount: %s is not in /proc/self/mountinfo; a stuck client cannot "
            "be cut off at shutdown",
            real);
  }

  pthread_attr_t ta;
  pthread_attr_init(&ta);
  pthread_attr_setstacksize(&ta, 256 * 1024);
  fs->notifier_running = true;
  if (pthread_create(&fs->notifier, &ta, notifier_main, fs) != 0) {
    fs->notifier_running = false;
    pthread_attr_destroy(&ta);
    *cause = rg_printf("cannot start the FUSE notifier thread");
    rc = -EAGAIN;
    goto fail_mounted;
  }
  fs->notifier_started = true;
  for (int i = 0; i < RG_FS_WORKERS; i++) {
    pthread_mutex_lock(&fs->mu);
    fs->nrunning++;
    pthread_mutex_unlock(&fs->mu);
    if (pthread_create(&fs->workers[i], &ta, worker_main, fs) != 0) {
      pthread_mutex_lock(&fs->mu);
      fs->nrunning--;
      pthread_mutex_unlock(&fs->mu);
      break;
    }
    fs->nworkers++;
  }
  pthread_attr_destroy(&ta);
  if (fs->nworkers == 0) {
    *cause = rg_printf("cannot start the FUSE worker threads");
    rc = -EAGAIN;
    goto fail_mounted;
  }
  rg_library_set_listener(lib, on_library_changed, fs);
  rg_info("mounted the library at %s (FUSE connection %u, %d workers, "
          "%s, read-ahead %d KiB, reads time out after %d s)",
          real, fs->conn_id, fs->nworkers,
          allow_other ? "visible to all users" : "visible to this user only",
          RG_FS_IO_SIZE / 1024, fs->read_timeout_s);
  *out = fs;
  return 0;

fail_mounted:
  fuse_session_exit(fs->se);
  pthread_mutex_lock(&fs->mu);
  fs->nstop = true;
  pthread_cond_broadcast(&fs->ncv);
  pthread_mutex_unlock(&fs->mu);
  detach_mount(real);
  abort_connection(fs);
  pthread_mutex_lock(&fs->mu);
  wait_workers(fs, 5000);
  pthread_mutex_unlock(&fs->mu);
  for (int i = 0; i < fs->nworkers; i++)
    pthread_join(fs->workers[i], NULL);
  if (fs->notifier_started)
    pthread_join(fs->notifier, NULL);
fail_session:
  fuse_session_destroy(fs->se);
fail:
  fs_free_final(fs);
  return rc;
}

void rg_fs_unmount(rg_fs **fsp) {
  rg_fs *fs = *fsp;
  if (!fs)
    return;
  *fsp = NULL;
  int64_t t0 = rg_now_ms();
  rg_library_set_listener(fs->lib, NULL, NULL);

  /* every worker waiting for the loop answers EIO now */
  pthread_mutex_lock(&fs->mu);
  fs->stopping = true;
  fs->nstop = true;
  pthread_cond_broadcast(&fs->cv);
  pthread_cond_broadcast(&fs->ncv);
  pthread_mutex_unlock(&fs->mu);
  fuse_session_exit(fs->se);

  int rc = detach_mount(fs->dir);
  if (rc)
    rg_warn("mount: cannot unmount %s: %s", fs->dir, strerror(-rc));
  pthread_mutex_lock(&fs->mu);
  bool done = wait_workers(fs, RG_FS_GRACE_MS);
  pthread_mutex_unlock(&fs->mu);
  if (!done) {
    /* clients still hold files (or a read): cut the connection */
    rg_warn("mount: clients still hold files on %s after %d ms; aborting the "
            "FUSE connection",
            fs->dir, RG_FS_GRACE_MS);
    abort_connection(fs);
    pthread_mutex_lock(&fs->mu);
    done = wait_workers(fs, RG_FS_GRACE_MS);
    pthread_mutex_unlock(&fs->mu);
  }
  pthread_mutex_lock(&fs->mu);
  bool ndone = !fs->notifier_started || wait_notifier(fs, 1000);
  pthread_mutex_unlock(&fs->mu);
  if (!done || !ndone) {
    /* never hang the daemon: leave the stragglers (and fs) behind */
    rg_error("mount: FUSE threads on %s did not stop; leaving them", fs->dir);
    for (int i = 0; i < fs->nworkers; i++)
      pthread_detach(fs->workers[i]);
    if (fs->notifier_started)
      pthread_detach(fs->notifier);
    return;
  }
  for (int i = 0; i < fs->nworkers; i++)
    pthread_join(fs->workers[i], NULL);
  if (fs->notifier_started)
    pthread_join(fs->notifier, NULL);
  /* The mount is already detached: closing the device (in destroy) ends the
   * connection; fuse_session_unmount would try to unmount a second time. */
  fuse_session_destroy(fs->se);
  fs->se = NULL;

  /* readers must be closed before the torrent manager goes */
  pthread_mutex_lock(&fs->mu);
  struct fh *list = fs->fhs;
  pthread_mutex_unlock(&fs->mu);
  for (struct fh *fh = list; fh; fh = fh->next)
    if (!fh->dead)
      fh_close_readers(fh);
  rg_info("unmounted the library from %s in %lld ms", fs->dir,
          (long long)(rg_now_ms() - t0));
  fs->dead = true;
  if (atomic_load(&fs->pending) == 0)
    fs_free_final(fs);
}
