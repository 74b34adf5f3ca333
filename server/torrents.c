/* torrents.c — the torrent manager.
 *
 * Every known torrent has a row in the store and an rg_torrent here; only
 * torrents someone reads (or whose metadata is being fetched) are in the
 * libtorrent session ("active"). Activation adds the stored info dict with
 * our own record of the pieces on disk (no file check, no metadata fetch).
 *
 * Invariants:
 *  - t->have is the truth about what is readable in the cache dir: a bit is
 *    set only after libtorrent reported the piece verified (its bytes are
 *    written before the alert: posix disk I/O), and cleared before the bytes
 *    are released.
 *  - Pieces outside every reader's window have priority 0; a torrent that is
 *    active with no reader and no read for idle_timeout_s leaves the session.
 *  - The cache stays under budget: idle torrents' data goes first (least
 *    recently read), then pieces far from every reader of the busy ones.
 *
 * Thread: the loop thread; libtorrent's alerts arrive through an eventfd. */
#include "config.h"

#include "torrent-int.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct rg_tm {
  rg_tm_opts o;
  char *cache_dir;
  rg_torrent *head, *tail;
  int ntorrents, nactive;
  int64_t metadata_fetches;
  int64_t cache_bytes;
  struct event *alert_ev, *tick_ev;
  int64_t last_flush_ms;
  bool budget_warned;
  rg_tm_hooks hooks[8];
  int nhooks;
  int nplaying;
  int background_bps;
  struct rg_warmup *warmup;
  bool stopping; /* rg_tm_stop_reads: no read waits any more */
};

void rg_tm_set_warmup(rg_tm *tm, struct rg_warmup *w) { tm->warmup = w; }
struct rg_warmup *rg_tm_warmup(rg_tm *tm) { return tm->warmup; }

void rg_tm_add_hooks(rg_tm *tm, const rg_tm_hooks *h) {
  if (tm->nhooks < (int)RG_ARRAY_LEN(tm->hooks))
    tm->hooks[tm->nhooks++] = *h;
  else
    rg_error("too many torrent hooks");
}

void rg_tm_remove_hooks(rg_tm *tm, void *arg) {
  int j = 0;
  for (int i = 0; i < tm->nhooks; i++)
    if (tm->hooks[i].arg != arg)
      tm->hooks[j++] = tm->hooks[i];
  tm->nhooks = j;
}

/* A hook may remove T (sync drops a candidate nobody uses): the husk stays
 * until the hooks are done, and later hooks don't see it. */
static void hook_metadata(rg_tm *tm, rg_torrent *t) {
  t->in_hooks++;
  for (int i = 0; i < tm->nhooks && !t->removed; i++)
    if (tm->hooks[i].on_metadata)
      tm->hooks[i].on_metadata(t, tm->hooks[i].arg);
  t->in_hooks--;
}

/* ---- helpers ---- */

static int64_t piece_size(const rg_torrent *t, int p) {
  int64_t start = (int64_t)p * t->ti->piece_length;
  int64_t left = t->ti->total_size - start;
  return left < t->ti->piece_length ? left : t->ti->piece_length;
}

static void set_have(rg_tm *tm, rg_torrent *t, int p, bool on) {
  if (!t->have || p < 0 || p >= t->ti->num_pieces)
    return;
  bool was = rg_have(t, p);
  if (was == on)
    return;
  if (on)
    t->have[p >> 3] |= (uint8_t)(0x80 >> (p & 7));
  else
    t->have[p >> 3] &= (uint8_t)~(0x80 >> (p & 7));
  int64_t sz = piece_size(t, p);
  t->have_bytes += on ? sz : -sz;
  tm->cache_bytes += on ? sz : -sz;
  t->have_dirty = true;
}

static char *save_path(rg_tm *tm, const rg_torrent *t) {
  return rg_printf("%s/%s", tm->cache_dir, t->hex);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

static void remove_tree(const char *path) {
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void persist(rg_tm *tm, rg_torrent *t) {
  rg_store_torrent row = {0};
  memcpy(row.hash, t->hex, sizeof row.hash);
  row.name = t->name;
  row.title = t->title;
  row.source = t->source;
  row.info = t->ti ? t->ti->info : NULL;
  row.info_len = t->ti ? t->ti->info_len : 0;
  row.have = t->have;
  row.have_len = t->have_len;
  row.added = t->added;
  row.last_read = t->last_read;
  int n = t->ti ? t->ti->nfiles : 0;
  const char **paths = rg_calloc((size_t)n + 1, sizeof *paths);
  int64_t *sizes = rg_calloc((size_t)n + 1, sizeof *sizes);
  for (int i = 0; i < n; i++) {
    paths[i] = t->ti->files[i].path;
    sizes[i] = t->ti->files[i].size;
  }
  if (rg_store_put_torrent(tm->o.store, &row, paths, sizes, n))
    rg_error("%s: could not save the torrent's state", t->hex);
  else
    t->have_dirty = false;
  free(paths);
  free(sizes);
}

static void flush_have(rg_tm *tm) {
  for (rg_torrent *t = tm->head; t; t = t->next)
    if (t->have_dirty) {
      if (rg_store_set_have(tm->o.store, t->hex, t->have, t->have_len) == 0)
        t->have_dirty = false;
    }
  tm->last_flush_ms = rg_now_ms();
}

/* Installs metadata: allocates piece maps (keeping HAVE when it fits). The
 * info dict's name becomes the torrent's name (a magnet's dn= is only a
 * hint, often an indexer's label); the title a person or a sync job gave
 * stays the user-facing override. */
static void set_info(rg_tm *tm, rg_torrent *t, rg_tinfo *ti,
                     const uint8_t *have, size_t have_len) {
  t->ti = ti;
  if ((ti->name && *ti->name) || !t->name) {
    free(t->name);
    t->name = rg_strdup(ti->name ? ti->name : "");
  }
  size_t n = ((size_t)ti->num_pieces + 7) / 8;
  free(t->have);
  t->have = rg_calloc(n, 1);
  t->have_len = n;
  t->have_bytes = 0;
  free(t->prio_sent);
  t->prio_sent = rg_calloc((size_t)ti->num_pieces, 1);
  memset(t->prio_sent, 0xff, (size_t)ti->num_pieces); /* unknown */
  free(t->deadline);
  t->deadline = rg_calloc((size_t)ti->num_pieces, 1);
  if (have && have_len == n) {
    for (int p = 0; p < ti->num_pieces; p++)
      if (have[p >> 3] & (0x80 >> (p & 7)))
        set_have(tm, t, p, true);
  }
}

static rg_torrent *torrent_new(rg_tm *tm, const uint8_t ih[20]) {
  rg_torrent *t = rg_calloc(1, sizeof *t);
  t->tm = tm;
  memcpy(t->ih, ih, 20);
  rg_hex_encode(ih, 20, t->hex);
  if (tm->tail)
    tm->tail->next = t;
  else
    tm->head = t;
  tm->tail = t;
  tm->ntorrents++;
  return t;
}

static void torrent_unlink(rg_tm *tm, rg_torrent *t) {
  rg_torrent *prev = NULL;
  for (rg_torrent *x = tm->head; x; prev = x, x = x->next)
    if (x == t) {
      if (prev)
        prev->next = t->next;
      else
        tm->head = t->next;
      if (tm->tail == t)
        tm->tail = prev;
      tm->ntorrents--;
      return;
    }
}

static void torrent_free(rg_torrent *t) {
  rg_tinfo_free(&t->ti);
  free(t->name);
  free(t->title);
  free(t->source);
  free(t->have);
  free(t->prio_sent);
  free(t->deadline);
  free(t->error);
  free(t);
}

static void set_error(rg_torrent *t, const char *msg) {
  free(t->error);
  t->error = msg ? rg_strdup(msg) : NULL;
}

/* ---- session membership ---- */

static void deactivate(rg_tm *tm, rg_torrent *t, bool delete_files) {
  if (!t->active)
    return;
  rg_engine_remove(tm->o.engine, t->ih, delete_files);
  t->active = false;
  t->fetching = false;
  t->failed = false; /* the next activation starts afresh */
  t->paused_for_priority = false;
  t->drop_after_ms = 0;
  tm->nactive--;
  if (t->ti) {
    memset(t->prio_sent, 0xff, (size_t)t->ti->num_pieces);
    memset(t->deadline, 0, (size_t)t->ti->num_pieces);
  }
  rg_debug("%s: left the session", t->hex);
}

/* Priority mode: the playing torrents get the bandwidth. */
static void apply_limits(rg_tm *tm, rg_torrent *t) {
  if (!t->active)
    return;
  if (tm->nplaying == 0 || t->playing) {
    if (t->paused_for_priority)
      rg_engine_pause(tm->o.engine, t->ih, false);
    t->paused_for_priority = false;
    rg_engine_set_torrent_limits(tm->o.engine, t->ih, 0,
                                 t->playing ? 800 : 0);
  } else if (tm->background_bps > 0) {
    if (t->paused_for_priority)
      rg_engine_pause(tm->o.engine, t->ih, false);
    t->paused_for_priority = false;
    rg_engine_set_torrent_limits(tm->o.engine, t->ih, tm->background_bps, 0);
  } else if (!t->paused_for_priority && !t->fetching) {
    rg_engine_pause(tm->o.engine, t->ih, true);
    t->paused_for_priority = true;
  }
}

static void apply_all_limits(rg_tm *tm) {
  for (rg_torrent *t = tm->head; t; t = t->next)
    apply_limits(tm, t);
}

/* An active torrent nobody reads, least recently read first; NULL if none. */
static rg_torrent *idle_victim(rg_tm *tm, rg_torrent *except) {
  rg_torrent *best = NULL;
  for (rg_torrent *t = tm->head; t; t = t->next)
    if (t->active && t != except && !t->readers && !t->fetching &&
        (!best || t->last_read_ms < best->last_read_ms))
      best = t;
  return best;
}

static int engine_add(rg_tm *tm, rg_torrent *t) {
  rg_add a = {0};
  rg_magnet m = {0};
  char *cause = NULL;
  char *sp = save_path(tm, t);
  const char **trackers = NULL;
  size_t ntr = 0;
  if (t->source && strncmp(t->source, "magnet:", 7) == 0 &&
      rg_magnet_parse(t->source, &m, &cause) == 0) {
    a.peers = (const char *const *)m.peers;
    a.npeers = m.npeers;
  }
  free(cause);
  cause = NULL;
  trackers = rg_calloc(m.ntrackers + (t->ti ? (size_t)t->ti->ntrackers : 0) + 1,
                       sizeof *trackers);
  for (size_t i = 0; i < m.ntrackers; i++)
    trackers[ntr++] = m.trackers[i];
  if (t->ti)
    for (int i = 0; i < t->ti->ntrackers; i++)
      trackers[ntr++] = t->ti->trackers[i];
  a.trackers = trackers;
  a.ntrackers = ntr;
  a.save_path = sp;
  a.ih = t->ih;
  a.name = t->name;
  a.zero_priorities = true;
  if (t->ti) {
    a.info = t->ti->info;
    a.info_len = t->ti->info_len;
    a.have = t->have;
    a.have_len = t->have_len;
  }
  int rc = rg_engine_add(tm->o.engine, &a, &cause);
  if (rc == -EEXIST)
    rc = 0;
  if (rc) {
    rg_error("%s: could not add to the session: %s", t->hex,
             cause ? cause : strerror(-rc));
    set_error(t, cause ? cause : strerror(-rc));
  }
  free(cause);
  free(trackers);
  free(sp);
  rg_magnet_clear(&m);
  return rc;
}

int rg_tm_activate(rg_tm *tm, rg_torrent *t) {
  if (t->active)
    return 0;
  if (tm->o.max_active > 0 && tm->nactive >= tm->o.max_active) {
    rg_torrent *v = idle_victim(tm, t);
    if (!v) {
      if (!t->queued)
        t->queued_ms = rg_now_ms();
      t->queued = true;
      return -EAGAIN;
    }
    rg_info("%s: leaves the session to make room (max_active_torrents %d)",
            v->hex, tm->o.max_active);
    if (v->have_dirty)
      rg_store_set_have(tm->o.store, v->hex, v->have, v->have_len);
    deactivate(tm, v, false);
  }
  int rc = engine_add(tm, t);
  if (rc)
    return rc;
  t->active = true;
  t->queued = false;
  tm->nactive++;
  t->paused_for_priority = false;
  if (tm->nplaying)
    apply_limits(tm, t);
  if (t->ti) {
    rg_debug("%s: activated from stored metadata", t->hex);
    rg_tm_update_priorities(tm, t);
  }
  return 0;
}

/* Torrents waiting for a slot get one as soon as one is free, first come
 * first served (a title someone starts during a library scan must not wait
 * behind every scanner torrent added before it). */
static void run_queue(rg_tm *tm) {
  for (;;) {
    rg_torrent *first = NULL;
    for (rg_torrent *t = tm->head; t; t = t->next)
      if (t->queued && !t->active &&
          (!first || t->queued_ms < first->queued_ms))
        first = t;
    if (!first)
      return;
    if (tm->o.max_active > 0 && tm->nactive >= tm->o.max_active &&
        !idle_victim(tm, first))
      return;
    if (rg_tm_activate(tm, first) != 0) {
      first->queued = false; /* failed for another reason; logged */
      continue;
    }
    for (rg_reader *r = first->readers; r; r = r->next)
      rg_reader_nudge(r);
  }
}

/* ---- priorities ---- */

void rg_tm_update_priorities(rg_tm *tm, rg_torrent *t) {
  if (!t->active || !t->ti || t->have_bytes >= t->ti->total_size)
    return;
  int n = t->ti->num_pieces;
  uint8_t *prio = rg_calloc((size_t)n, 1);
  int piece_len = t->ti->piece_length;
  /* the first few pieces of a window are urgent */
  int urgent = (int)((4 << 20) / piece_len);
  if (urgent < 2)
    urgent = 2;
  for (rg_reader *r = t->readers; r; r = r->next) {
    if (r->win_first < 0)
      continue;
    for (int p = r->win_first; p <= r->win_last && p < n; p++) {
      int k = p - r->win_first;
      uint8_t want = r->background ? (k < urgent ? 3 : 1)
                                   : k < urgent ? 7 : k < 4 * urgent ? 5 : 2;
      if (!rg_have(t, p) && prio[p] < want)
        prio[p] = want;
    }
  }
  if (memcmp(prio, t->prio_sent, (size_t)n) != 0) {
    rg_engine_set_piece_priorities(tm->o.engine, t->ih, prio, n);
    memcpy(t->prio_sent, prio, (size_t)n);
  }
  /* deadlines: set once per piece (re-setting cancels requests); a
   * background reader's come after any player's, and a player that needs
   * a piece a background reader asked for first takes it over (deadline[p]
   * is 1 for a player's, 2 for a background reader's) */
  for (rg_reader *r = t->readers; r; r = r->next) {
    if (r->win_first < 0)
      continue;
    uint8_t mine = r->background ? 2 : 1;
    for (int p = r->win_first, k = 0; p <= r->win_last && p < n && k < urgent;
         p++, k++)
      if (!rg_have(t, p) && (!t->deadline[p] || t->deadline[p] > mine)) {
        rg_engine_set_piece_deadline(tm->o.engine, t->ih, p,
                                     (r->background ? 2000 : 0) + 50 * k);
        t->deadline[p] = mine;
      }
  }
  /* deadlines outside every window go (their priority drops to 1: reset) */
  for (int p = 0; p < n; p++)
    if (t->deadline[p] && prio[p] == 0 && !rg_have(t, p)) {
      rg_engine_reset_piece_deadline(tm->o.engine, t->ih, p);
      t->deadline[p] = 0;
      t->prio_sent[p] = 0xff;
    }
  free(prio);
}

/* ---- storage budget ---- */

static void punch_piece(rg_tm *tm, rg_torrent *t, int p) {
  int64_t start = (int64_t)p * t->ti->piece_length;
  int64_t end = start + piece_size(t, p);
  for (int i = 0; i < t->ti->nfiles; i++) {
    const rg_tfile *f = &t->ti->files[i];
    int64_t a = start > f->offset ? start : f->offset;
    int64_t b = end < f->offset + f->size ? end : f->offset + f->size;
    if (a >= b || f->pad)
      continue;
    char *path = rg_torrent_file_path(t, i);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    a - f->offset, b - a) < 0)
        rg_debug("%s: punch hole: %s", path, strerror(errno));
      close(fd);
    }
    free(path);
  }
  (void)tm;
}

static bool in_some_window(rg_torrent *t, int p, int keep_behind) {
  for (rg_reader *r = t->readers; r; r = r->next)
    if (r->win_first >= 0 && p >= r->win_first - keep_behind &&
        p <= r->win_last)
      return true;
  return false;
}

static void drop_all_data(rg_tm *tm, rg_torrent *t) {
  bool was = t->active;
  if (was)
    deactivate(tm, t, true);
  char *sp = save_path(tm, t);
  remove_tree(sp);
  free(sp);
  if (t->ti)
    for (int p = 0; p < t->ti->num_pieces; p++)
      set_have(tm, t, p, false);
  rg_store_set_have(tm->o.store, t->hex, t->have, t->have_len);
  t->have_dirty = false;
}

static void enforce_budget(rg_tm *tm) {
  int64_t budget = tm->o.budget_bytes;
  if (budget <= 0 || tm->cache_bytes <= budget)
    return;
  /* 1. idle torrents' data, least recently read first */
  while (tm->cache_bytes > budget) {
    rg_torrent *victim = NULL;
    for (rg_torrent *t = tm->head; t; t = t->next)
      if (!t->readers && !t->fetching && t->have_bytes > 0 &&
          (!victim || t->last_read_ms < victim->last_read_ms))
        victim = t;
    if (!victim)
      break;
    rg_info("%s: evicting %lld bytes of cached data (budget %lld, cached %lld)",
            victim->hex, (long long)victim->have_bytes, (long long)budget,
            (long long)tm->cache_bytes);
    drop_all_data(tm, victim);
  }
  if (tm->cache_bytes <= budget)
    return;
  /* 2. pieces far from every reader, down to 3/4 of the budget */
  int64_t target = budget / 4 * 3;
  for (rg_torrent *t = tm->head; t && tm->cache_bytes > target; t = t->next) {
    if (!t->readers || !t->ti || t->have_bytes == 0)
      continue;
    int keep_behind = (int)((2 << 20) / t->ti->piece_length) + 1;
    int released = 0;
    for (int p = 0; p < t->ti->num_pieces && tm->cache_bytes > target; p++) {
      if (!rg_have(t, p) || in_some_window(t, p, keep_behind))
        continue;
      set_have(tm, t, p, false);
      punch_piece(tm, t, p);
      released++;
    }
    if (released) {
      rg_info("%s: released %d pieces far from every reader (cached %lld of "
              "%lld)",
              t->hex, released, (long long)tm->cache_bytes, (long long)budget);
      rg_store_set_have(tm->o.store, t->hex, t->have, t->have_len);
      t->have_dirty = false;
      /* libtorrent cannot forget a piece: re-add with what we really have */
      if (t->active) {
        deactivate(tm, t, false);
        if (rg_tm_activate(tm, t) == 0)
          for (rg_reader *r = t->readers; r; r = r->next)
            rg_reader_nudge(r);
      }
    }
  }
  if (tm->cache_bytes > budget && !tm->budget_warned) {
    rg_warn("cache holds %lld bytes, over its budget of %lld: the readers' "
            "windows alone need more",
            (long long)tm->cache_bytes, (long long)budget);
    tm->budget_warned = true;
  }
}

/* ---- alerts ---- */

static rg_torrent *find_ih(rg_tm *tm, const uint8_t ih[20]) {
  for (rg_torrent *t = tm->head; t; t = t->next)
    if (memcmp(t->ih, ih, 20) == 0)
      return t;
  return NULL;
}

static void on_metadata(rg_tm *tm, rg_torrent *t) {
  if (t->ti)
    return;
  uint8_t *info = NULL;
  size_t len = 0;
  char *cause = NULL;
  if (rg_engine_get_info(tm->o.engine, t->ih, &info, &len) != 0)
    return;
  rg_tinfo *ti = rg_tinfo_parse(info, len, &cause);
  free(info);
  if (!ti) {
    rg_error("%s: metadata does not parse: %s", t->hex, cause);
    set_error(t, cause);
    free(cause);
    return;
  }
  /* pieces that arrived before we parsed the metadata are on disk too */
  uint8_t *bits = NULL;
  size_t blen = 0;
  rg_engine_have_bitfield(tm->o.engine, t->ih, &bits, &blen);
  set_info(tm, t, ti, bits, blen);
  free(bits);
  t->fetching = false;
  set_error(t, NULL);
  rg_info("%s: metadata received after %lld ms: \"%s\", %d files, %lld bytes",
          t->hex, (long long)(rg_now_ms() - t->fetch_started_ms), ti->name,
          ti->nfiles, (long long)ti->total_size);
  persist(tm, t);
  hook_metadata(tm, t);
  if (t->removed) { /* by a hook */
    if (!t->readers)
      torrent_free(t);
    run_queue(tm);
    return;
  }
  rg_tm_update_priorities(tm, t);
  /* a torrent nobody reads doesn't hold a slot */
  if (!t->readers && tm->o.max_active > 0 && tm->nactive > tm->o.max_active)
    deactivate(tm, t, false);
  run_queue(tm);
}

static void on_piece(rg_tm *tm, rg_torrent *t, int p) {
  if (!t->ti || p < 0 || p >= t->ti->num_pieces)
    return;
  set_have(tm, t, p, true);
  if (t->deadline[p]) {
    t->deadline[p] = 0;
    t->prio_sent[p] = 0xff; /* libtorrent dropped it to 1 */
  }
  for (rg_reader *r = t->readers, *next; r; r = next) {
    next = r->next;
    rg_reader_piece_ready(r, p);
  }
  enforce_budget(tm);
}

static void on_alerts(evutil_socket_t fd, short what, void *arg) {
  rg_tm *tm = arg;
  size_t n = 0;
  rg_alert *a = rg_engine_pop_alerts(tm->o.engine, &n);
  for (size_t i = 0; i < n; i++) {
    rg_torrent *t = find_ih(tm, a[i].ih);
    switch (a[i].type) {
    case RG_ALERT_METADATA:
      if (t)
        on_metadata(tm, t);
      break;
    case RG_ALERT_PIECE_FINISHED:
      if (t && t->active)
        on_piece(tm, t, a[i].piece);
      break;
    case RG_ALERT_HASH_FAILED:
      if (t)
        rg_warn("%s: piece %d failed its hash check", t->hex, a[i].piece);
      break;
    case RG_ALERT_PEER_BANNED:
      rg_warn("%s: %s", t ? t->hex : "-", a[i].msg);
      break;
    case RG_ALERT_TORRENT_ERROR:
    case RG_ALERT_FILE_ERROR:
      if (t) {
        /* a full cache disk shows up as write errors or, later, as short
         * reads: say what it is */
        char msg[400];
        struct statvfs vfs;
        if (statvfs(tm->cache_dir, &vfs) == 0 &&
            (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize < (4 << 20))
          snprintf(msg, sizeof msg, "the cache disk is full (no space left "
                                    "on device under %s): %s",
                   tm->cache_dir, a[i].msg);
        else
          snprintf(msg, sizeof msg, "%s", a[i].msg);
        /* libtorrent repeats a disk error for every block it could not
         * write: log it once per message */
        if (!t->error || strcmp(t->error, msg) != 0)
          rg_error("%s: %s", t->hex, msg);
        set_error(t, msg);
        t->failed = true;
        /* a torrent paused by an error delivers nothing more: fail the
         * reads that wait for the swarm now, with the reason */
        for (rg_reader *r = t->readers, *rn; r; r = rn) {
          rn = r->next;
          if (r->pending && !rg_have(t, r->need) && r->warm_len == 0)
            rg_reader_fail(r, -EIO);
        }
      }
      break;
    case RG_ALERT_LISTEN_FAILED:
      rg_error("BitTorrent listen failed: %s", a[i].msg);
      break;
    case RG_ALERT_LISTEN_OK:
      rg_info("BitTorrent listening on port %d", a[i].piece);
      break;
    default:
      break;
    }
  }
  free(a);
}

/* ---- the 1 s tick: timeouts, idle torrents, persistence, nudges ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  rg_tm *tm = arg;
  int64_t now = rg_now_ms();
  for (rg_torrent *t = tm->head, *next; t; t = next) {
    next = t->next;
    if (t->fetching && !t->ti &&
        now - t->fetch_started_ms > (int64_t)tm->o.metadata_timeout_s * 1000) {
      char *msg = rg_printf("metadata timeout: no peer sent the metadata "
                            "within %d s; add the link again to retry",
                            tm->o.metadata_timeout_s);
      rg_warn("%s: %s", t->hex, msg);
      set_error(t, msg);
      free(msg);
      deactivate(tm, t, false);
      continue;
    }
    if (t->active && !t->readers && !t->fetching && !t->playing &&
        (now - t->last_read_ms > (int64_t)tm->o.idle_timeout_s * 1000 ||
         (t->drop_after_ms && now >= t->drop_after_ms))) {
      rg_info("%s: idle for %d s, leaving the session", t->hex,
              tm->o.idle_timeout_s);
      if (t->have_dirty)
        rg_store_set_have(tm->o.store, t->hex, t->have, t->have_len);
      t->have_dirty = false;
      deactivate(tm, t, false);
    }
    bool waiting = false, stalled = false;
    for (rg_reader *r = t->readers, *rn; r; r = rn) {
      rn = r->next;
      if (r->pending) {
        waiting = true;
        stalled |= now - r->started_ms > 2000;
        rg_reader_nudge(r);
      }
    }
    /* short reads on a stalled torrent never wait 2 s: ask once per tick */
    if (waiting && !stalled)
      stalled = rg_tm_stalled(tm, t, now);
    /* a read that waits with no peer at all: ask the trackers again */
    if (stalled && t->active && now - t->announce_ms > 5000) {
      rg_tstatus st;
      if (rg_engine_status(tm->o.engine, t->ih, &st) == 0 && st.peers == 0) {
        rg_info("%s: a read waits and no peer is connected: re-announcing",
                t->hex);
        rg_engine_reannounce(tm->o.engine, t->ih);
        t->announce_ms = now;
      }
    }
  }
  run_queue(tm);
  if (now - tm->last_flush_ms >= 2000)
    flush_have(tm);
}

/* ---- public ---- */

rg_tm *rg_tm_new(const rg_tm_opts *o) {
  rg_tm *tm = rg_calloc(1, sizeof *tm);
  tm->o = *o;
  tm->cache_dir = rg_strdup(o->cache_dir);
  tm->o.cache_dir = tm->cache_dir;
  rg_mkdir_p(tm->cache_dir, 0700);
  tm->alert_ev = event_new(o->base, rg_engine_alert_fd(o->engine),
                           EV_READ | EV_PERSIST, on_alerts, tm);
  event_add(tm->alert_ev, NULL);
  tm->tick_ev = event_new(o->base, -1, EV_PERSIST, on_tick, tm);
  struct timeval one = {1, 0};
  event_add(tm->tick_ev, &one);
  tm->last_flush_ms = rg_now_ms();
  return tm;
}

void rg_tm_free(rg_tm **tmp) {
  rg_tm *tm = *tmp;
  if (!tm)
    return;
  flush_have(tm);
  event_free(tm->alert_ev);
  event_free(tm->tick_ev);
  for (rg_torrent *t = tm->head, *next; t; t = next) {
    next = t->next;
    torrent_free(t);
  }
  free(tm->cache_dir);
  free(tm);
  *tmp = NULL;
}

static void load_one(const rg_store_torrent *row, void *arg) {
  rg_tm *tm = arg;
  uint8_t ih[20];
  if (rg_hex_decode(row->hash, ih, 20) != 0) {
    rg_warn("stored torrent with a bad hash '%s' skipped", row->hash);
    return;
  }
  rg_torrent *t = torrent_new(tm, ih);
  t->name = row->name ? rg_strdup(row->name) : NULL;
  t->title = row->title ? rg_strdup(row->title) : NULL;
  t->source = row->source ? rg_strdup(row->source) : NULL;
  t->added = row->added;
  t->last_read = row->last_read;
  t->last_read_ms = rg_now_ms() - (rg_wall_s() - row->last_read) * 1000;
  if (row->info) {
    char *cause = NULL;
    rg_tinfo *ti = rg_tinfo_parse(row->info, row->info_len, &cause);
    if (!ti) {
      rg_error("%s: stored metadata does not parse: %s", t->hex, cause);
      free(cause);
      return;
    }
    set_info(tm, t, ti, row->have, row->have_len);
    t->have_dirty = false;
  }
}

int rg_tm_load(rg_tm *tm) {
  int rc = rg_store_each_torrent(tm->o.store, load_one, tm);
  rg_info("%d torrents known, %lld bytes cached", tm->ntorrents,
          (long long)tm->cache_bytes);
  enforce_budget(tm);
  return rc;
}

static void start_fetch(rg_tm *tm, rg_torrent *t) {
  set_error(t, NULL);
  t->fetching = true;
  t->fetch_started_ms = rg_now_ms();
  tm->metadata_fetches++;
  if (rg_tm_activate(tm, t) == -EAGAIN) {
    /* over the cap: metadata fetches still go ahead; the cap is for reads */
    if (engine_add(tm, t) == 0) {
      t->active = true;
      t->queued = false;
      tm->nactive++;
    }
  }
  rg_info("%s: fetching metadata", t->hex);
}

/* Appends the strings of SRC missing from DST (at most CAP in all); the
 * appended ones also go to NEWV unless it is NULL. */
static void union_strs(const char **dst, size_t *n, const char **newv,
                       size_t *nnew, char *const *src, size_t nsrc, size_t cap) {
  for (size_t i = 0; i < nsrc && *n < cap; i++) {
    size_t k = 0;
    while (k < *n && strcmp(dst[k], src[i]))
      k++;
    if (k == *n) {
      dst[(*n)++] = src[i];
      if (newv)
        newv[(*nnew)++] = src[i];
    }
  }
}

/* A magnet added again may name trackers or peers its torrent lacks (a
 * fresh peer for a stalled fetch, say): they join the torrent's magnet
 * source, kept for its next session, and libtorrent at once when the
 * torrent is in the session. */
static void merge_sources(rg_tm *tm, rg_torrent *t, const rg_magnet *m) {
  if (!m->ntrackers && !m->npeers)
    return;
  rg_magnet old = {0};
  char *cause = NULL;
  bool is_magnet = t->source && strncmp(t->source, "magnet:", 7) == 0 &&
                   rg_magnet_parse(t->source, &old, &cause) == 0;
  free(cause);
  enum { CAP = 64 }; /* what rg_magnet_parse keeps */
  const char *tr[CAP], *pe[CAP], *newtr[CAP], *newpe[CAP];
  size_t ntr = 0, npe = 0, nnewtr = 0, nnewpe = 0;
  union_strs(tr, &ntr, NULL, NULL, old.trackers, old.ntrackers, CAP);
  union_strs(pe, &npe, NULL, NULL, old.peers, old.npeers, CAP);
  union_strs(tr, &ntr, newtr, &nnewtr, m->trackers, m->ntrackers, CAP);
  union_strs(pe, &npe, newpe, &nnewpe, m->peers, m->npeers, CAP);
  if ((nnewtr || nnewpe) && (is_magnet || !t->source)) {
    char *src = rg_magnet_format(t->ih, t->name ? t->name : m->name, tr, ntr,
                                 pe, npe);
    free(t->source);
    t->source = src;
    persist(tm, t);
  }
  if ((nnewtr || nnewpe) && t->active) {
    rg_engine_add_sources(tm->o.engine, t->ih, newtr, nnewtr, newpe, nnewpe);
    rg_info("%s: added again: %zu more trackers, %zu more peers", t->hex,
            nnewtr, nnewpe);
  }
  rg_magnet_clear(&old);
}

int rg_tm_add_magnet(rg_tm *tm, const rg_magnet *m, const char *link,
                     const char *title, rg_torrent **out, bool *existed,
                     char **cause) {
  rg_torrent *t = find_ih(tm, m->ih);
  *existed = t != NULL;
  if (t) {
    if (title && *title) {
      free(t->title);
      t->title = rg_strdup(title);
      persist(tm, t);
    }
    if (!t->ti && !t->fetching) {
      if (link && strncmp(link, "magnet:", 7) == 0) {
        free(t->source);
        t->source = rg_strdup(link);
      }
      start_fetch(tm, t);
    } else {
      merge_sources(tm, t, m);
    }
    *out = t;
    return 0;
  }
  t = torrent_new(tm, m->ih);
  t->name = m->name ? rg_strdup(m->name) : NULL;
  t->title = title && *title ? rg_strdup(title) : NULL;
  t->source = rg_strdup(link);
  t->added = rg_wall_s();
  t->last_read = t->added;
  t->last_read_ms = rg_now_ms();
  persist(tm, t);
  start_fetch(tm, t);
  *out = t;
  return 0;
}

int rg_tm_add_torrent_file(rg_tm *tm, const uint8_t *buf, size_t len,
                           const char *title, rg_torrent **out, bool *existed,
                           char **cause) {
  rg_tinfo *ti = rg_tinfo_parse(buf, len, cause);
  if (!ti)
    return -EINVAL;
  rg_torrent *t = find_ih(tm, ti->ih);
  *existed = t != NULL;
  if (t) {
    if (title && *title) {
      free(t->title);
      t->title = rg_strdup(title);
    }
    if (!t->ti) {
      /* a magnet still fetching: the file brings the metadata */
      set_info(tm, t, ti, NULL, 0);
      t->fetching = false;
      set_error(t, NULL);
      rg_tm_update_priorities(tm, t);
      persist(tm, t);
      hook_metadata(tm, t);
    } else {
      rg_tinfo_free(&ti);
      persist(tm, t);
    }
    *out = t;
    return 0;
  }
  t = torrent_new(tm, ti->ih);
  /* trackers of the .torrent are kept in a magnet-style source */
  t->source = rg_magnet_format(ti->ih, ti->name,
                               (const char *const *)ti->trackers,
                               (size_t)ti->ntrackers, NULL, 0);
  t->title = title && *title ? rg_strdup(title) : NULL;
  t->added = rg_wall_s();
  t->last_read = t->added;
  t->last_read_ms = rg_now_ms();
  set_info(tm, t, ti, NULL, 0);
  persist(tm, t);
  hook_metadata(tm, t);
  *out = t;
  return 0;
}

rg_torrent *rg_tm_find(rg_tm *tm, const char *hex) {
  uint8_t ih[20];
  if (!hex || strlen(hex) != 40 || rg_hex_decode(hex, ih, 20) != 0)
    return NULL;
  return find_ih(tm, ih);
}

/* Fails every pending read of T with ERR; returns how many. A read's
 * callback may close its reader (and others of T), so the list is scanned
 * again from its head after each one. */
static int fail_waiting_reads(rg_torrent *t, int err) {
  int n = 0;
  for (bool again = true; again;) {
    again = false;
    for (rg_reader *r = t->readers; r; r = r->next)
      if (r->pending) {
        rg_reader_fail(r, err);
        n++;
        again = true;
        break;
      }
  }
  return n;
}

int rg_tm_remove(rg_tm *tm, rg_torrent *t, bool delete_data) {
  for (int i = 0; i < tm->nhooks; i++)
    if (tm->hooks[i].on_removed)
      tm->hooks[i].on_removed(t, tm->hooks[i].arg);
  if (t->playing)
    rg_tm_set_playing(tm, t, false, 0);
  fail_waiting_reads(t, -ENOENT);
  deactivate(tm, t, delete_data);
  if (delete_data) {
    char *sp = save_path(tm, t);
    remove_tree(sp);
    free(sp);
  }
  tm->cache_bytes -= t->have_bytes;
  rg_store_delete_torrent(tm->o.store, t->hex);
  rg_info("%s: removed%s", t->hex, delete_data ? " with its data" : "");
  torrent_unlink(tm, t);
  if (t->readers || t->in_hooks) {
    /* readers still point at it, or hooks run on it: keep the husk until
     * they close (rg_tm_reader_gone) or end (on_metadata) */
    t->removed = true;
    return 0;
  }
  torrent_free(t);
  run_queue(tm);
  return 0;
}

void rg_tm_each(rg_tm *tm, void (*cb)(rg_torrent *t, void *arg), void *arg) {
  for (rg_torrent *t = tm->head, *next; t; t = next) {
    next = t->next;
    cb(t, arg);
  }
}

void rg_tm_stats_get(rg_tm *tm, rg_tm_stats *s) {
  memset(s, 0, sizeof *s);
  s->torrents = tm->ntorrents;
  s->active = tm->nactive;
  for (rg_torrent *t = tm->head; t; t = t->next)
    s->queued += t->queued;
  s->metadata_fetches = tm->metadata_fetches;
  s->cache_bytes = tm->cache_bytes;
  s->budget_bytes = tm->o.budget_bytes;
}

int rg_tm_read_timeout_s(rg_tm *tm) { return tm->o.read_timeout_s; }

static int64_t payload_received(rg_tm *tm, rg_torrent *t) {
  rg_tstatus st;
  if (!t->active || rg_engine_status(tm->o.engine, t->ih, &st) != 0)
    return -1;
  return st.total_download;
}

void rg_tm_mark_stall(rg_tm *tm, rg_torrent *t) {
  t->stall_ms = rg_now_ms();
  t->stall_have_bytes = t->have_bytes;
  t->stall_download = payload_received(tm, t);
}

bool rg_tm_stalled(rg_tm *tm, rg_torrent *t, int64_t now_ms) {
  if (!t->stall_ms || now_ms - t->stall_ms >= 60000 ||
      t->have_bytes != t->stall_have_bytes)
    return false;
  /* bytes still flowing (a slow swarm, a big piece) is not a stall */
  return payload_received(tm, t) == t->stall_download;
}

bool rg_tm_stopping(const rg_tm *tm) { return tm->stopping; }

void rg_tm_stop_reads(rg_tm *tm) {
  if (!tm)
    return;
  tm->stopping = true;
  int n = 0;
  for (rg_torrent *t = tm->head; t; t = t->next)
    n += fail_waiting_reads(t, -ESHUTDOWN);
  if (n)
    rg_info("shutting down: %d waiting read%s failed", n, n == 1 ? "" : "s");
}
int64_t rg_tm_readahead_bytes(rg_tm *tm) {
  return (int64_t)tm->o.readahead_mb << 20;
}
struct event_base *rg_tm_base(rg_tm *tm) { return tm->o.base; }
rg_engine *rg_tm_engine(rg_tm *tm) { return tm->o.engine; }

void rg_tm_touch(rg_tm *tm, rg_torrent *t) {
  t->last_read_ms = rg_now_ms();
  int64_t now = rg_wall_s();
  if (now - t->last_read >= 60) {
    t->last_read = now;
    rg_store_set_last_read(tm->o.store, t->hex, now);
  }
}

const char *rg_torrent_hex(const rg_torrent *t) { return t->hex; }
const char *rg_torrent_name(const rg_torrent *t) { return t->name; }
const char *rg_torrent_title(const rg_torrent *t) { return t->title; }
const rg_tinfo *rg_torrent_info(const rg_torrent *t) { return t->ti; }
bool rg_torrent_active(const rg_torrent *t) { return t->active; }
const char *rg_torrent_error(const rg_torrent *t) { return t->error; }
int64_t rg_torrent_added(const rg_torrent *t) { return t->added; }

void rg_torrent_status(rg_torrent *t, rg_tstatus *st) {
  memset(st, 0, sizeof *st);
  if (t->active && rg_engine_status(t->tm->o.engine, t->ih, st) == 0) {
    st->total_done = t->have_bytes;
  } else {
    st->state = t->error && !t->ti ? RG_TS_ERROR : RG_TS_PAUSED;
    st->has_metadata = t->ti != NULL;
    st->total_done = t->have_bytes;
  }
  st->has_metadata = t->ti != NULL;
  if (t->error)
    snprintf(st->error, sizeof st->error, "%s", t->error);
}

int64_t rg_torrent_file_done(rg_torrent *t, int index) {
  if (!t->ti || index < 0 || index >= t->ti->nfiles)
    return 0;
  const rg_tfile *f = &t->ti->files[index];
  if (f->size == 0)
    return 0;
  int64_t done = 0;
  int plen = t->ti->piece_length;
  int first = (int)(f->offset / plen);
  int last = (int)((f->offset + f->size - 1) / plen);
  for (int p = first; p <= last; p++) {
    if (!rg_have(t, p))
      continue;
    int64_t a = (int64_t)p * plen, b = a + piece_size(t, p);
    if (a < f->offset)
      a = f->offset;
    if (b > f->offset + f->size)
      b = f->offset + f->size;
    done += b - a;
  }
  return done;
}

char *rg_torrent_file_path(rg_torrent *t, int index) {
  return rg_printf("%s/%s/%s", t->tm->cache_dir, t->hex,
                   t->ti->files[index].path);
}

void rg_tm_piece_verified(rg_tm *tm, rg_torrent *t, int piece) {
  on_piece(tm, t, piece);
}

void rg_tm_reader_gone(rg_tm *tm, rg_torrent *t) {
  if (t->removed && !t->readers) {
    if (!t->in_hooks)
      torrent_free(t);
    return;
  }
  rg_tm_update_priorities(tm, t);
}

void rg_tm_set_playing(rg_tm *tm, rg_torrent *t, bool playing, int grace_s) {
  if (t->playing == playing)
    return;
  t->playing = playing;
  tm->nplaying += playing ? 1 : -1;
  if (playing) {
    t->drop_after_ms = 0;
    rg_info("%s: playing: priority mode on (%d playing)", t->hex,
            tm->nplaying);
  } else {
    t->drop_after_ms = rg_now_ms() + (int64_t)grace_s * 1000;
    rg_info("%s: stopped playing (%d still playing); leaves the session %d s "
            "after its last read",
            t->hex, tm->nplaying, grace_s);
  }
  apply_all_limits(tm);
  /* windows change size with the mode */
  for (rg_reader *r = t->readers; r; r = r->next)
    r->win_first = -1;
  rg_tm_update_priorities(tm, t);
}

bool rg_torrent_playing(const rg_torrent *t) { return t->playing; }

void rg_tm_set_background_limit(rg_tm *tm, int background_bps) {
  tm->background_bps = background_bps;
  apply_all_limits(tm);
}
