/* reader.c — one reader = one file position that wants data.
 *
 * A read either finds its first piece on disk (answered at once, from the
 * loop, with as many contiguous bytes as are there) or moves the reader's
 * window there and waits: for the piece's alert, or, once a second, for a
 * check with libtorrent (in case an alert was missed), until read_timeout_s
 * runs out. The window spans the next readahead bytes (or 20 s of the
 * stream once its bitrate is known); it moves when a read leaves its first
 * quarter, so sequential reads don't push priorities on every call. */
#include "config.h"

#include "torrent-int.h"
#include "log.h"
#include "metrics.h"
#include "util.h"
#include "warmup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void on_event(evutil_socket_t fd, short what, void *arg);

int rg_reader_open(rg_tm *tm, rg_torrent *t, int index, rg_reader **out) {
  if (t->removed)
    return -ENOENT;
  if (!t->ti)
    return -EAGAIN;
  if (index < 0 || index >= t->ti->nfiles || t->ti->files[index].pad)
    return -ENOENT;
  rg_reader *r = rg_calloc(1, sizeof *r);
  r->tm = tm;
  r->t = t;
  r->file = index;
  r->size = t->ti->files[index].size;
  r->file_off = t->ti->files[index].offset;
  r->fd = -1;
  r->warm_fd = -1;
  r->cache_path = rg_torrent_file_path(t, index);
  r->win_first = r->win_last = -1;
  r->ev = event_new(rg_tm_base(tm), -1, 0, on_event, r);
  r->next = t->readers;
  t->readers = r;
  *out = r;
  return 0;
}

void rg_reader_close(rg_reader **rp) {
  rg_reader *r = *rp;
  if (!r)
    return;
  *rp = NULL;
  rg_torrent *t = r->t;
  for (rg_reader **pp = &t->readers; *pp; pp = &(*pp)->next)
    if (*pp == r) {
      *pp = r->next;
      break;
    }
  event_free(r->ev);
  if (r->fd >= 0)
    close(r->fd);
  if (r->warm_fd >= 0)
    close(r->warm_fd);
  free(r->cache_path);
  rg_tm *tm = r->tm;
  free(r);
  rg_tm_reader_gone(tm, t);
}

int64_t rg_reader_size(const rg_reader *r) { return r->size; }

void rg_reader_set_readahead(rg_reader *r, int64_t bytes) {
  r->readahead = bytes;
}

void rg_reader_set_background(rg_reader *r, bool background) {
  r->background = background;
}

void rg_reader_set_bitrate(rg_reader *r, int64_t bytes_per_s) {
  r->bitrate = bytes_per_s;
}

static int piece_of(const rg_reader *r, int64_t off) {
  return (int)((r->file_off + off) / r->t->ti->piece_length);
}

static int64_t window_bytes(const rg_reader *r) {
  int64_t max = rg_tm_readahead_bytes(r->tm) * (r->t->playing ? 4 : 1);
  if (r->readahead > 0 && r->readahead < max)
    max = r->readahead;
  int64_t rate = r->bitrate > 0 ? r->bitrate : r->observed_rate;
  if (rate <= 0)
    return max;
  int64_t w = rate * (r->t->playing ? 60 : 20);
  if (w < (4 << 20))
    w = 4 << 20;
  return w < max ? w : max;
}

/* Moves the window to start at OFF when the read left its first quarter. */
static void place_window(rg_reader *r, int64_t off) {
  rg_torrent *t = r->t;
  int first = piece_of(r, off);
  int64_t end = off + window_bytes(r);
  if (end > r->size)
    end = r->size;
  int last = piece_of(r, end > 0 ? end - 1 : 0);
  if (last < first)
    last = first;
  if (r->win_first >= 0 && first >= r->win_first &&
      first <= r->win_first + (r->win_last - r->win_first) / 4 &&
      rg_have(t, first) == false && t->prio_sent && t->prio_sent[first] != 0 &&
      t->prio_sent[first] != 0xff)
    return; /* still inside, and the piece is asked for */
  if (r->win_first >= 0 && first >= r->win_first &&
      first <= r->win_first + (r->win_last - r->win_first) / 4 &&
      rg_have(t, first))
    return;
  r->win_first = first;
  r->win_last = last;
  rg_tm_update_priorities(r->tm, t);
}

static void deliver(rg_reader *r) {
  rg_torrent *t = r->t;
  int64_t end = r->off + (int64_t)r->len;
  if (end > r->size)
    end = r->size;
  int64_t plen = t->ti->piece_length;
  int64_t pos = r->off;
  while (pos < end && rg_have(t, piece_of(r, pos)))
    pos = ((r->file_off + pos) / plen + 1) * plen - r->file_off;
  if (pos > end)
    pos = end;
  int err = 0;
  if (r->fd < 0) {
    char *path = rg_torrent_file_path(t, r->file);
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->fd < 0) {
      err = -errno;
      rg_error("%s: cannot open the cache file %s: %s", t->hex, path,
               strerror(errno));
      if (err == -ENOENT)
        err = -EIO;
    }
    free(path);
  }
  r->rate_bytes += pos - r->off;
  r->last_end = pos;
  if (r->waited)
    r->bytes_swarm += pos - r->off;
  else
    r->bytes_cache += pos - r->off;
  struct rg_warmup *w = rg_tm_warmup(r->tm);
  if (w && !err && pos > r->off)
    rg_warmup_offer(w, t->hex, r->file, r->size, r->cache_path, r->off,
                    pos - r->off);
  r->pending = false;
  event_del(r->ev);
  rg_read_cb cb = r->cb;
  void *arg = r->arg;
  rg_metrics_read(err, 0, pos - r->off, rg_now_ms() - r->started_ms);
  if (err)
    cb(arg, err, -1, r->off, 0);
  else
    cb(arg, 0, r->fd, r->off, (size_t)(pos - r->off));
}

void rg_reader_fail(rg_reader *r, int err) {
  if (!r->pending)
    return;
  r->pending = false;
  event_del(r->ev);
  rg_metrics_read(err, 0, 0, 0);
  r->cb(r->arg, err, -1, r->off, 0);
}

static void arm(rg_reader *r, int64_t ms) {
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  event_add(r->ev, &tv);
}

static void on_event(evutil_socket_t fd, short what, void *arg) {
  rg_reader *r = arg;
  if (!r->pending)
    return;
  if (r->t->removed) {
    rg_reader_fail(r, -ENOENT);
    return;
  }
  if (r->off >= r->size || r->len == 0) {
    r->pending = false;
    r->cb(r->arg, 0, r->fd, r->off, 0);
    return;
  }
  if (r->warm_len > 0) {
    size_t n = (size_t)r->warm_len < r->len ? (size_t)r->warm_len : r->len;
    r->warm_len = 0;
    r->pending = false;
    r->rate_bytes += (int64_t)n;
    r->last_end = r->off + (int64_t)n;
    rg_metrics_read(0, 1, (int64_t)n, rg_now_ms() - r->started_ms);
    r->cb(r->arg, 0, r->warm_fd, r->off, n);
    return;
  }
  if (rg_have(r->t, r->need)) {
    deliver(r);
    return;
  }
  if (r->t->failed) {
    /* libtorrent paused the torrent on an error (a full disk, say):
     * nothing more will come; the torrent's error says why */
    rg_reader_fail(r, -EIO);
    return;
  }
  int64_t left = r->deadline_ms - rg_now_ms();
  if (left <= 0) {
    rg_warn("%s: read of file %d at %lld timed out waiting for piece %d",
            r->t->hex, r->file, (long long)r->off, r->need);
    rg_tm_mark_stall(r->tm, r->t);
    rg_reader_fail(r, -ETIMEDOUT);
    return;
  }
  arm(r, left);
}

/* Bytes the warmup store holds are served from its mirror without waking
 * the torrent. Only when the reader gets near the end of the warm run does
 * the torrent join the session, so what follows is on its way in time; a
 * scanner reading a head or a tail never wakes it. */
static bool try_warm(rg_reader *r, int64_t off, size_t len) {
  struct rg_warmup *w = rg_tm_warmup(r->tm);
  rg_torrent *t = r->t;
  if (!w || rg_have(t, piece_of(r, off)))
    return false;
  const char *path = NULL;
  int64_t want = (int64_t)len;
  int64_t n = rg_warmup_lookup(w, t->hex, r->file, off, want, &path);
  if (n <= 0 || !path)
    return false;
  if (r->warm_fd < 0) {
    r->warm_fd = open(path, O_RDONLY | O_CLOEXEC);
    if (r->warm_fd < 0)
      return false;
  }
  r->warm_len = n;
  /* how far does the warm run go? */
  int64_t run = rg_warmup_lookup(w, t->hex, r->file, off, window_bytes(r),
                                 &path);
  int64_t end = off + run;
  if (end < r->size && run < window_bytes(r)) {
    if (!t->active) {
      rg_info("%s: file %d read at %lld, %lld bytes before the warm data "
              "ends: the torrent joins the session to fetch what follows",
              t->hex, r->file, (long long)off, (long long)run);
      int rc = rg_tm_activate(r->tm, t);
      if (rc && rc != -EAGAIN)
        rg_warn("%s: cannot activate: %s", t->hex, strerror(-rc));
    }
    place_window(r, end);
  }
  arm(r, 0);
  return true;
}

/* A retry on a stalled torrent (rg_tm_stalled) waits only a short while: when
 * a readahead read fails, the kernel retries the page the caller asked for;
 * smbd and players retry too. Each retry waiting out read_timeout_s in full
 * would double the hang the timeout exists to bound. */
static int64_t stall_timeout_ms(rg_tm *tm) {
  int64_t full = (int64_t)rg_tm_read_timeout_s(tm) * 1000;
  int64_t ms = full / 10 < 2000 ? 2000 : full / 10;
  return ms < full ? ms : full;
}

int rg_reader_read(rg_reader *r, int64_t off, size_t len, rg_read_cb cb,
                   void *arg) {
  if (r->pending)
    return -EBUSY;
  if (rg_tm_stopping(r->tm))
    return -ESHUTDOWN;
  r->pending = true;
  r->off = off;
  r->len = len;
  r->cb = cb;
  r->arg = arg;
  r->started_ms = rg_now_ms();
  r->deadline_ms = r->started_ms + (int64_t)rg_tm_read_timeout_s(r->tm) * 1000;
  rg_torrent *t = r->t;
  if (t->removed || off >= r->size || len == 0) {
    arm(r, 0);
    return 0;
  }
  rg_tm_touch(r->tm, t);
  r->warm_len = 0;
  if (try_warm(r, off, len))
    return 0;
  /* a player that has filled its buffer reads at the stream's bitrate:
   * measure it over sequential reads to size the window */
  int64_t now = rg_now_ms();
  if (off != r->last_end || r->rate_t0_ms == 0) {
    r->rate_t0_ms = now;
    r->rate_bytes = 0;
  } else if (now - r->rate_t0_ms >= 4000) {
    r->observed_rate = r->rate_bytes * 1000 / (now - r->rate_t0_ms);
    r->rate_t0_ms = now;
    r->rate_bytes = 0;
  }
  r->need = piece_of(r, off);
  if (!t->active) {
    rg_info("%s: file %d read at %lld (%s): the torrent joins the session",
            t->hex, r->file, (long long)off,
            rg_have(t, r->need) ? "cached" : "neither cached nor warm");
    int rc = rg_tm_activate(r->tm, t);
    if (rc && rc != -EAGAIN)
      rg_warn("%s: cannot activate: %s", t->hex, strerror(-rc));
  }
  place_window(r, off);
  r->waited = !rg_have(t, r->need);
  if (r->waited && rg_tm_stalled(r->tm, t, now))
    r->deadline_ms = now + stall_timeout_ms(r->tm);
  if (rg_have(t, r->need) || t->failed)
    arm(r, 0);
  else
    arm(r, r->deadline_ms - rg_now_ms());
  return 0;
}

void rg_reader_cancel(rg_reader *r) {
  r->pending = false;
  event_del(r->ev);
}

void rg_reader_piece_ready(rg_reader *r, int piece) {
  if (r->pending && piece == r->need)
    deliver(r);
}

void rg_reader_nudge(rg_reader *r) {
  rg_torrent *t = r->t;
  if (!r->pending || rg_have(t, r->need) || r->off >= r->size)
    return;
  if (!t->active) {
    if (rg_tm_activate(r->tm, t) == 0) {
      r->win_first = -1;
      place_window(r, r->off);
    }
    return;
  }
  int h = rg_engine_have_piece(rg_tm_engine(r->tm), t->ih, r->need);
  if (h == 1) {
    rg_warn("%s: piece %d is verified but no alert said so", t->hex, r->need);
    rg_tm_piece_verified(r->tm, t, r->need);
    return;
  }
  /* make sure the piece is still asked for */
  if (t->prio_sent[r->need] == 0 || t->prio_sent[r->need] == 0xff) {
    r->win_first = -1;
    place_window(r, r->off);
  }
}

int rg_torrent_readers(rg_torrent *t, rg_reader_info *out, int max) {
  int n = 0;
  for (rg_reader *r = t->readers; r; r = r->next, n++) {
    if (n >= max)
      continue;
    rg_reader_info *i = &out[n];
    i->file = r->file;
    i->position = r->last_end;
    i->window_start = -1;
    i->window_bytes = 0;
    if (r->win_first >= 0 && t->ti) {
      int64_t plen = t->ti->piece_length;
      int64_t a = (int64_t)r->win_first * plen - r->file_off;
      int64_t b = ((int64_t)r->win_last + 1) * plen - r->file_off;
      if (a < 0)
        a = 0;
      if (b > r->size)
        b = r->size;
      i->window_start = a;
      i->window_bytes = b > a ? b - a : 0;
    }
    i->bytes_warm = r->bytes_warm;
    i->bytes_cache = r->bytes_cache;
    i->bytes_swarm = r->bytes_swarm;
  }
  return n;
}
