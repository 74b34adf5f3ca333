/* jobs.c — what a sync run does, on its worker thread.
 *
 * movies:    TMDB lists → external ids → indexers → rank → add or upgrade.
 * tv:        TMDB lists + the follow list → the last N seasons → a season
 *            pack first, single episodes for what is still missing; then
 *            upgrades of present episodes (a better pack, a better episode)
 *            by the same ladder and margin as movies.
 * watchlist: the Plex watchlist → IMDb/TMDB ids → the movie or show path
 *            above, with the watchlist's seeder minimum.
 *
 * Indexers are tried in order Prowlarr, Torznab, Torrentio; the next is
 * asked when one fails or has no acceptable release. A title with no
 * acceptable release anywhere goes into the negative cache (sync_negative)
 * until it expires. A title already in the library (matched by TMDB id,
 * IMDb id, then title + year; the watchlist's ids may come from a TMDB
 * search) is never negatively cached: it is searched only for an upgrade,
 * and kept unless a release beats the current one by sync_upgrade_margin;
 * the new entry takes the old one's identity (title, year), so
 * rg_library_add keeps its path and inode, and the old torrent goes once no
 * entry uses it. An item (movie, episode) searched for an upgrade is not
 * searched again for sync_upgrade_recheck_h hours (sync_upgrade_checked)
 * unless the run is forced.
 *
 * An episode in the library that the registry does not know (a person's,
 * an automatic one) counts as present; a new episode of a show the library
 * has takes that show's title and year, so it lands in the same folder.
 *
 * Torrents are added on the loop thread. A magnet's files are known only
 * after its metadata: the wanted entries are stored in sync_wanted and made
 * by the on_metadata hook (or at once when the metadata is already known);
 * a run waits for them up to sync_metadata_wait_s, never holding a lock.
 * Season packs map each video file to SxxEyy by its name; every episode made
 * is recorded in the episode registry (sync_episodes). A dry run asks the
 * services and ranks, but adds, removes and caches nothing.
 *
 * Loop calls: rg_sync_on_loop queues a closure and waits on a condition
 * variable; when the daemon stops, waiters are woken and the closure is
 * marked abandoned, so it never runs against freed state. */
#include "config.h"

#include "sync-int.h"

#include "library.h"
#include "log.h"
#include "loop.h"
#include "magnet.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_EPISODES_PER_SEASON 30

/* ------------------------------------------------------------ loop calls */

static pthread_mutex_t lc_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lc_cond = PTHREAD_COND_INITIALIZER;

typedef struct lcall {
  void (*fn)(void *);
  void *arg;
  int state; /* 0 pending, 1 done, 2 abandoned by its waiter */
} lcall;

static void lc_tramp(void *p) {
  lcall *c = p;
  pthread_mutex_lock(&lc_lock);
  if (c->state == 2) {
    pthread_mutex_unlock(&lc_lock);
    free(c);
    return;
  }
  pthread_mutex_unlock(&lc_lock);
  c->fn(c->arg);
  pthread_mutex_lock(&lc_lock);
  if (c->state == 2) {
    pthread_mutex_unlock(&lc_lock);
    free(c);
    return;
  }
  c->state = 1;
  pthread_cond_broadcast(&lc_cond);
  pthread_mutex_unlock(&lc_lock);
}

int rg_sync_on_loop(rg_sync *s, void (*fn)(void *), void *arg) {
  if (atomic_load(&s->closing))
    return -ECANCELED;
  if (rg_loop_is_loop_thread()) {
    fn(arg);
    return 0;
  }
  lcall *c = rg_calloc(1, sizeof *c);
  c->fn = fn;
  c->arg = arg;
  if (rg_loop_call(lc_tramp, c)) {
    free(c);
    return -ECANCELED;
  }
  pthread_mutex_lock(&lc_lock);
  while (c->state == 0 && !atomic_load(&s->closing)) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 1;
    pthread_cond_timedwait(&lc_cond, &lc_lock, &ts);
  }
  if (c->state == 1) {
    pthread_mutex_unlock(&lc_lock);
    free(c);
    return 0;
  }
  c->state = 2; /* lc_tramp frees it */
  pthread_mutex_unlock(&lc_lock);
  return -ECANCELED;
}

void rg_sync_wake_all(void) {
  pthread_mutex_lock(&lc_lock);
  pthread_cond_broadcast(&lc_cond);
  pthread_mutex_unlock(&lc_lock);
}

/* ------------------------------------------------------------------ log */

void rg_sync_log(rg_sync_job *j, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    msg = NULL;
  va_end(ap);
  if (!msg)
    return;
  rg_info("sync %s: %s", j->name, msg);
  time_t now = time(NULL);
  struct tm tmv;
  localtime_r(&now, &tmv);
  char *line = rg_printf("%02d:%02d:%02d %s\n", tmv.tm_hour, tmv.tm_min,
                         tmv.tm_sec, msg);
  size_t n = strlen(line);
  pthread_mutex_lock(&j->s->lock);
  if (j->log_len + n < RG_SYNC_LOG_MAX) {
    j->log = rg_realloc(j->log, j->log_len + n + 1);
    memcpy(j->log + j->log_len, line, n + 1);
    j->log_len += n;
  }
  pthread_mutex_unlock(&j->s->lock);
  free(line);
  free(msg);
}

/* ----------------------------------------------------------- the tables */

static sqlite3 *db(rg_sync *s) { return rg_store_db(s->app->store); }

static sqlite3_stmt *prep(rg_sync *s, const char *sql) {
  return rg_db_prep(db(s), "sync", sql);
}

static const char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *t = sqlite3_column_text(st, i);
  return t ? (const char *)t : NULL;
}

/* ---------------------------------------------------- making entries */

static bool is_video(const char *path) {
  static const char *const exts[] = {".mkv",  ".mp4", ".m4v",  ".avi", ".ts",
                                     ".m2ts", ".mov", ".webm", ".wmv"};
  size_t n = strlen(path);
  for (size_t i = 0; i < RG_ARRAY_LEN(exts); i++) {
    size_t e = strlen(exts[i]);
    if (n > e && strcasecmp(path + n - e, exts[i]) == 0)
      return true;
  }
  return false;
}

static bool is_sample(const char *path) {
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  return strncasecmp(b, "sample", 6) == 0 || strcasestr(path, "/sample/") ||
         strcasestr(b, ".sample.") || strcasestr(b, "-sample.");
}

/* A video file of a release that is not padding or a sample. */
static bool feature_video(const rg_tfile *f) {
  return !f->pad && is_video(f->path) && !is_sample(f->path);
}

static int largest_video(const rg_tinfo *ti) {
  int best = -1;
  for (int i = 0; i < ti->nfiles; i++) {
    const rg_tfile *f = &ti->files[i];
    if (!feature_video(f))
      continue;
    if (best < 0 || f->size > ti->files[best].size)
      best = i;
  }
  return best;
}

/* Season and episode of file I from its name (S01E02, 1x02, "E02" inside a
 * pack of season PACK_SEASON). */
static bool file_episode(const rg_tinfo *ti, int i, int pack_season, int *se,
                         int *ep) {
  const char *p = ti->files[i].path;
  const char *b = strrchr(p, '/');
  rg_release r;
  rg_release_parse(b ? b + 1 : p, &r);
  if (r.episode < 0 && b) /* "Show.S01E02/file.mkv" */
    rg_release_parse(p, &r);
  if (r.episode < 0)
    return false;
  *se = r.season >= 0 ? r.season : pack_season;
  *ep = r.episode;
  return true;
}

typedef struct want {
  char kind[8];
  char *title;
  int year, season, episode, file_index;
  char *imdb;
  int64_t tmdb, show_tmdb;
  char replaces[41];
} want;

/* file_index of an episode wanted from a season pack: its file is found by
 * its name, never guessed (the largest video would be another episode). */
#define WANT_BY_NAME (-2)

static rg_sync_job *job_of_run(rg_sync *s, int64_t run_id) {
  for (int k = 0; k < RG_NJOBS; k++) {
    rg_sync_job *j = &s->jobs[k];
    pthread_mutex_lock(&s->lock);
    bool mine = j->running && j->run_id == run_id;
    pthread_mutex_unlock(&s->lock);
    if (mine)
      return j;
  }
  return NULL;
}

static void registry_put(rg_sync *s, int64_t show, int season, int episode,
                         const char *hash, int idx, const char *release) {
  sqlite3_stmt *st = prep(s, "INSERT OR REPLACE INTO sync_episodes(show_tmdb,"
                             " season, episode, hash, file_index, release,"
                             " added) VALUES(?,?,?,?,?,?,?)");
  if (!st)
    return;
  sqlite3_bind_int64(st, 1, show);
  sqlite3_bind_int(st, 2, season);
  sqlite3_bind_int(st, 3, episode);
  sqlite3_bind_text(st, 4, hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, idx);
  sqlite3_bind_text(st, 6, release, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, rg_wall_s());
  sqlite3_step(st);
  sqlite3_finalize(st);
}

/* The release name T stands for: the title it was added as (an indexer's
 * release name), else its name (the info dict's once known). NULL if none. */
static const char *release_of(rg_torrent *t) {
  const char *title = rg_torrent_title(t);
  return title && *title ? title : rg_torrent_name(t);
}

/* One library entry for file IDX of T. */
static int make_entry(rg_sync *s, rg_torrent *t, int idx, const want *w,
                      int season, int episode, rg_sync_job *j) {
  rg_lib_entry in = {0};
  snprintf(in.hash, sizeof in.hash, "%s", rg_torrent_hex(t));
  in.file_index = idx;
  snprintf(in.kind, sizeof in.kind, "%s", w->kind);
  in.title = w->title;
  in.year = w->year;
  in.season = season;
  in.episode = episode;
  in.imdb_id = w->imdb;
  in.tmdb_id = w->tmdb;
  rg_lib_entry *e = NULL;
  char *cause = NULL;
  int rc = rg_library_add(s->app->library, &in, &e, &cause);
  if (rc) {
    rg_warn("sync: no entry for file %d of %s: %s", idx, in.hash,
            cause ? cause : "error");
    if (j)
      rg_sync_log(j, "no library entry for %s file %d: %s", in.hash, idx,
                  cause ? cause : "error");
  } else {
    if (j)
      rg_sync_log(j, "library entry %s (inode %llu)", e->path,
                  (unsigned long long)e->ino);
    if (!strcmp(w->kind, "episode"))
      registry_put(s, w->show_tmdb, season, episode, in.hash, idx,
                   release_of(t) ? release_of(t) : "");
  }
  rg_lib_entry_free(&e);
  free(cause);
  return rc;
}

typedef struct count_arg {
  const char *hash;
  int n;
} count_arg;

static void count_one(const rg_lib_entry *e, void *arg) {
  count_arg *c = arg;
  if (!strcmp(e->hash, c->hash))
    c->n++;
}

/* Removes the replaced torrent once no entry plays from it. */
static void drop_replaced(rg_sync *s, const char *old, const char *now,
                          rg_sync_job *j) {
  if (!old[0] || !strcmp(old, now))
    return;
  count_arg c = {old, 0};
  rg_library_each(s->app->library, count_one, &c);
  rg_torrent *t = rg_tm_find(s->app->tm, old);
  if (c.n || !t)
    return;
  rg_tm_remove(s->app->tm, t, true);
  rg_info("sync: replaced torrent %s removed", old);
  if (j)
    rg_sync_log(j, "replaced torrent %s removed", old);
}

/* The only non-sample video file of TI, or -1 when there are none or
 * several. */
static int only_video(const rg_tinfo *ti) {
  int only = -1;
  for (int i = 0; i < ti->nfiles; i++) {
    const rg_tfile *f = &ti->files[i];
    if (!feature_video(f))
      continue;
    if (only >= 0)
      return -1;
    only = i;
  }
  return only;
}

/* An episode upgrade refused once HASH's files were known (run J still
 * going): its summary.changes record says so instead of "upgrade". A pack's
 * record moves the episode from "episodes" to "refused"; the record is
 * refused once no episode of it is left. summary.upgraded drops with it. */
static void upgrade_refused(rg_sync *s, rg_sync_job *j, const char *hash,
                            int episode) {
  pthread_mutex_lock(&s->lock);
  size_t i;
  json_t *o;
  json_array_foreach(j->changes, i, o) {
    const char *h = json_string_value(json_object_get(o, "info_hash"));
    const char *act = json_string_value(json_object_get(o, "action"));
    if (!h || !act || strcmp(h, hash) || strcmp(act, "upgrade"))
      continue;
    json_t *eps = json_object_get(o, "episodes");
    bool gone = false;
    if (json_is_array(eps)) {
      size_t k;
      json_t *e;
      json_array_foreach(eps, k, e) {
        if (json_integer_value(e) != episode)
          continue;
        json_t *ref = json_object_get(o, "refused");
        if (!json_is_array(ref)) {
          ref = json_array();
          json_object_set_new(o, "refused", ref);
        }
        json_array_append_new(ref, json_integer(episode));
        json_array_remove(eps, k);
        break;
      }
      gone = json_array_size(eps) == 0;
    } else {
      gone = json_integer_value(json_object_get(o, "episode")) == episode;
    }
    if (gone) {
      json_object_set_new(o, "action", json_string("upgrade_refused"));
      if (j->upgraded > 0)
        j->upgraded--;
    }
    break;
  }
  pthread_mutex_unlock(&s->lock);
}

/* Whether sync itself added torrent HASH (sync_added): only those are ever
 * dropped as unused. A torrent someone added, even one still fetching its
 * metadata when a run picked it as a candidate, is theirs. */
static bool added_by_sync(rg_sync *s, const char *hash) {
  return rg_db_has_row(db(s), "sync", "SELECT 1 FROM sync_added WHERE hash=?",
                       hash);
}

/* Removes torrent HASH, a candidate none of whose files could be used,
 * unless sync did not add it, an entry plays from it or more is still
 * wanted from it. */
static void drop_unused(rg_sync *s, const char *hash, rg_sync_job *j) {
  if (!added_by_sync(s, hash))
    return;
  count_arg c = {hash, 0};
  rg_library_each(s->app->library, count_one, &c);
  rg_torrent *t = rg_tm_find(s->app->tm, hash);
  if (c.n || !t)
    return;
  sqlite3_stmt *st = prep(s, "SELECT count(*) FROM sync_wanted WHERE hash=?");
  if (!st)
    return;
  sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
  int left = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
  sqlite3_finalize(st);
  if (left)
    return;
  char hex[41]; /* HASH may be the torrent's own, gone with it */
  snprintf(hex, sizeof hex, "%s", hash);
  rg_tm_remove(s->app->tm, t, true);
  if (j)
    rg_sync_log(j, "candidate torrent %s removed: no file of it was used",
                hex);
  else
    rg_info("sync: candidate torrent %s removed: no file of it was used",
            hex);
}

/* Makes the entries wanted from HASH, now that its files are known. Every
 * row of HASH is handled (a season pack's upgrade writes one per episode,
 * up to MAX_EPISODE_NUMBER), then deleted. An episode upgrade whose file
 * cannot be told (no file named for it, several videos) keeps the old
 * entry and torrent; the candidate torrent is dropped once nothing of the
 * library plays from it, if sync added it. */
static void process_wanted(rg_sync *s, const char *hash) {
  rg_torrent *t = rg_tm_find(s->app->tm, hash);
  const rg_tinfo *ti = t ? rg_torrent_info(t) : NULL;
  if (!ti || !s->app->library)
    return;
  sqlite3_stmt *st =
      prep(s, "SELECT id, kind, title, year, season, episode, imdb_id, tmdb_id,"
              " show_tmdb, file_index, replaces, run_id FROM sync_wanted"
              " WHERE hash=? ORDER BY id");
  if (!st)
    return;
  sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
  int64_t *done = NULL;
  size_t ndone = 0, cap = 0;
  bool refused = false; /* an upgrade whose file could not be told */
  rg_sync_job *refused_j = NULL;
  while (sqlite3_step(st) == SQLITE_ROW) {
    want w = {0};
    if (ndone == cap) {
      cap = cap ? cap * 2 : 64;
      done = rg_realloc(done, cap * sizeof *done);
    }
    done[ndone++] = sqlite3_column_int64(st, 0);
    snprintf(w.kind, sizeof w.kind, "%s",
             col_text(st, 1) ? col_text(st, 1) : "movie");
    w.title = (char *)col_text(st, 2);
    w.year = sqlite3_column_int(st, 3);
    w.season = sqlite3_column_int(st, 4);
    w.episode = sqlite3_column_int(st, 5);
    w.imdb = (char *)col_text(st, 6);
    w.tmdb = sqlite3_column_int64(st, 7);
    w.show_tmdb = sqlite3_column_int64(st, 8);
    w.file_index = sqlite3_column_int(st, 9);
    snprintf(w.replaces, sizeof w.replaces, "%s",
             col_text(st, 10) ? col_text(st, 10) : "");
    rg_sync_job *j = job_of_run(s, sqlite3_column_int64(st, 11));
    if (!w.title)
      continue;
    bool valid_idx = w.file_index >= 0 && w.file_index < ti->nfiles &&
                     !ti->files[w.file_index].pad;
    if (!strcmp(w.kind, "movie")) {
      int idx = valid_idx ? w.file_index : largest_video(ti);
      if (idx < 0) {
        if (j)
          rg_sync_log(j, "%s: no video file in %s", w.title, hash);
        continue;
      }
      make_entry(s, t, idx, &w, -1, -1, j);
    } else if (w.episode >= 0) {
      int idx = -1, se, ep;
      for (int i = 0; i < ti->nfiles && idx < 0; i++)
        if (!ti->files[i].pad && is_video(ti->files[i].path) &&
            file_episode(ti, i, w.season, &se, &ep) && se == w.season &&
            ep == w.episode)
          idx = i;
      /* an indexer's file index is its word for the file; else a new
       * episode may take the largest video, but an upgrade never guesses:
       * the wrong file would replace the right one, deleting its data */
      if (idx < 0 && valid_idx)
        idx = w.file_index;
      if (idx < 0 && w.file_index != WANT_BY_NAME)
        idx = w.replaces[0] ? only_video(ti) : largest_video(ti);
      if (idx >= 0) {
        make_entry(s, t, idx, &w, w.season, w.episode, j);
      } else if (w.replaces[0]) {
        refused = true;
        refused_j = j ? j : refused_j;
        if (j) {
          upgrade_refused(s, j, hash, w.episode);
          rg_sync_log(j,
                      "%s S%02dE%02d: no file of %s is named for it; kept %s, "
                      "not upgraded",
                      w.title, w.season, w.episode, hash, w.replaces);
        } else
          rg_info("sync: %s S%02dE%02d: no file of %s is named for it; kept "
                  "%s, not upgraded",
                  w.title, w.season, w.episode, hash, w.replaces);
        continue; /* the old torrent stays */
      } else if (j) {
        rg_sync_log(j, "%s S%02dE%02d: no file of %s is named for it", w.title,
                    w.season, w.episode, hash);
      }
    } else {
      /* a season pack: every video file named for an episode of it */
      int made = 0;
      for (int i = 0; i < ti->nfiles; i++) {
        int se, ep;
        if (!feature_video(&ti->files[i]) ||
            !file_episode(ti, i, w.season, &se, &ep) || se != w.season)
          continue;
        if (!make_entry(s, t, i, &w, se, ep, j))
          made++;
      }
      if (j)
        rg_sync_log(j, "%s season %d: %d episode files mapped from the pack",
                    w.title, w.season, made);
    }
    drop_replaced(s, w.replaces, hash, j);
  }
  sqlite3_finalize(st);
  for (size_t i = 0; i < ndone; i++) {
    sqlite3_stmt *d = prep(s, "DELETE FROM sync_wanted WHERE id=?");
    if (!d)
      break;
    sqlite3_bind_int64(d, 1, done[i]);
    sqlite3_step(d);
    sqlite3_finalize(d);
  }
  free(done);
  if (refused)
    drop_unused(s, hash, refused_j);
}

static void hook_metadata(rg_torrent *t, void *arg) {
  process_wanted(arg, rg_torrent_hex(t));
}

static void hook_removed(rg_torrent *t, void *arg) {
  rg_sync *s = arg;
  static const char *const sql[] = {
      "DELETE FROM sync_wanted WHERE hash=?",
      "DELETE FROM sync_episodes WHERE hash=?",
      "DELETE FROM sync_added WHERE hash=?",
  };
  for (size_t i = 0; i < RG_ARRAY_LEN(sql); i++) {
    sqlite3_stmt *st = prep(s, sql[i]);
    if (!st)
      continue;
    sqlite3_bind_text(st, 1, rg_torrent_hex(t), -1, SQLITE_STATIC);
    rg_db_step_done(db(s), "sync", st);
  }
}

int rg_sync_jobs_init(rg_sync *s, char **cause) {
  const char *sql =
      "CREATE TABLE IF NOT EXISTS sync_wanted(id INTEGER PRIMARY KEY,"
      " hash TEXT NOT NULL, kind TEXT NOT NULL, title TEXT NOT NULL,"
      " year INTEGER, season INTEGER, episode INTEGER, imdb_id TEXT,"
      " tmdb_id INTEGER, show_tmdb INTEGER, file_index INTEGER,"
      " replaces TEXT, run_id INTEGER, created INTEGER);"
      "CREATE INDEX IF NOT EXISTS sync_wanted_hash ON sync_wanted(hash);"
      "CREATE TABLE IF NOT EXISTS sync_negative(key TEXT PRIMARY KEY,"
      " until INTEGER NOT NULL, reason TEXT);"
      "CREATE TABLE IF NOT EXISTS sync_episodes(show_tmdb INTEGER NOT NULL,"
      " season INTEGER NOT NULL, episode INTEGER NOT NULL, hash TEXT,"
      " file_index INTEGER, release TEXT, added INTEGER,"
      " PRIMARY KEY(show_tmdb, season, episode));"
      "CREATE TABLE IF NOT EXISTS sync_upgrade_checked(key TEXT PRIMARY KEY,"
      " at INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS sync_added(hash TEXT PRIMARY KEY,"
      " added INTEGER NOT NULL);";
  char *err = NULL;
  if (sqlite3_exec(db(s), sql, NULL, NULL, &err) != SQLITE_OK) {
    *cause = rg_printf("sync tables: %s", err ? err : "error");
    sqlite3_free(err);
    return -EIO;
  }
  if (s->app->tm && s->app->library) {
    rg_tm_hooks h = {
        .on_metadata = hook_metadata, .on_removed = hook_removed, .arg = s};
    rg_tm_add_hooks(s->app->tm, &h);
    s->hooked = true;
    /* metadata that arrived while we were not listening */
    sqlite3_stmt *st = prep(s, "SELECT DISTINCT hash FROM sync_wanted");
    char(*hashes)[41] = NULL;
    size_t n = 0, cap = 0;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      if (n == cap) {
        cap = cap ? cap * 2 : 32;
        hashes = rg_realloc(hashes, cap * sizeof *hashes);
      }
      snprintf(hashes[n++], 41, "%s", col_text(st, 0) ? col_text(st, 0) : "");
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++)
      process_wanted(s, hashes[i]);
    free(hashes);
  }
  return 0;
}

void rg_sync_jobs_fini(rg_sync *s) {
  if (s->hooked)
    rg_tm_remove_hooks(s->app->tm, s);
  s->hooked = false;
}

/* ------------------------------------------------- loop-side operations */

typedef struct lib_item {
  char kind[8];
  char *title, *imdb;
  char *release; /* its torrent's title (the release it was added as), or
                  * its name */
  char *rname;   /* its torrent's name (the info dict's once known) */
  int year, season, episode;
  int64_t tmdb;
  char hash[41];
} lib_item;

typedef struct snap {
  rg_sync *s;
  lib_item *v;
  size_t n, cap;
} snap;

static void snap_one(const rg_lib_entry *e, void *arg) {
  snap *sn = arg;
  if (sn->n == sn->cap) {
    sn->cap = sn->cap ? sn->cap * 2 : 64;
    sn->v = rg_realloc(sn->v, sn->cap * sizeof *sn->v);
  }
  lib_item *x = &sn->v[sn->n++];
  memset(x, 0, sizeof *x);
  snprintf(x->kind, sizeof x->kind, "%s", e->kind);
  x->title = rg_strdup(e->title);
  x->imdb = e->imdb_id ? rg_strdup(e->imdb_id) : NULL;
  x->year = e->year;
  x->season = e->season;
  x->episode = e->episode;
  x->tmdb = e->tmdb_id;
  memcpy(x->hash, e->hash, sizeof x->hash);
  rg_torrent *t = rg_tm_find(sn->s->app->tm, e->hash);
  const char *rel = t ? release_of(t) : NULL;
  x->release = rel ? rg_strdup(rel) : NULL;
  x->rname = t && rg_torrent_name(t) ? rg_strdup(rg_torrent_name(t)) : NULL;
}

static void snap_fn(void *arg) {
  snap *sn = arg;
  if (sn->s->app->library)
    rg_library_each(sn->s->app->library, snap_one, sn);
}

static void snap_free(snap *sn) {
  for (size_t i = 0; i < sn->n; i++) {
    free(sn->v[i].title);
    free(sn->v[i].imdb);
    free(sn->v[i].release);
    free(sn->v[i].rname);
  }
  free(sn->v);
  memset(sn, 0, sizeof *sn);
}

typedef struct neg_op {
  rg_sync *s;
  const char *key, *reason;
  int ttl_h;
  bool put, hit;
  char *why;
} neg_op;

static void neg_fn(void *arg) {
  neg_op *o = arg;
  sqlite3_stmt *st;
  if (o->put) {
    st = prep(o->s, "INSERT OR REPLACE INTO sync_negative(key, until, reason)"
                    " VALUES(?,?,?)");
    if (!st)
      return;
    sqlite3_bind_text(st, 1, o->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rg_wall_s() + (int64_t)o->ttl_h * 3600);
    sqlite3_bind_text(st, 3, o->reason, -1, SQLITE_STATIC);
    sqlite3_step(st);
  } else {
    st = prep(o->s, "SELECT reason FROM sync_negative WHERE key=? AND until>?");
    if (!st)
      return;
    sqlite3_bind_text(st, 1, o->key, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rg_wall_s());
    if (sqlite3_step(st) == SQLITE_ROW) {
      o->hit = true;
      o->why = rg_strdup(col_text(st, 0) ? col_text(st, 0) : "");
    }
  }
  sqlite3_finalize(st);
}

typedef struct add_op {
  rg_sync *s;
  int64_t run_id;
  const char *magnet;
  const uint8_t *tor;
  size_t len;
  const char *title;
  want *wants;
  int nwants;
  /* out */
  int rc;
  char *cause;
  char hash[41];
  bool existed, has_meta;
} add_op;

static void add_fn(void *arg) {
  add_op *o = arg;
  rg_tm *tm = o->s->app->tm;
  rg_torrent *t = NULL;
  if (o->tor) {
    o->rc = rg_tm_add_torrent_file(tm, o->tor, o->len, o->title, &t,
                                   &o->existed, &o->cause);
  } else {
    rg_magnet m;
    o->rc = rg_magnet_parse(o->magnet, &m, &o->cause);
    if (!o->rc) {
      o->rc = rg_tm_add_magnet(tm, &m, o->magnet, o->title, &t, &o->existed,
                               &o->cause);
      rg_magnet_clear(&m);
    }
  }
  if (o->rc)
    return;
  snprintf(o->hash, sizeof o->hash, "%s", rg_torrent_hex(t));
  if (!o->existed) {
    sqlite3_stmt *st =
        prep(o->s, "INSERT OR IGNORE INTO sync_added(hash, added) VALUES(?,?)");
    if (st) {
      sqlite3_bind_text(st, 1, o->hash, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, rg_wall_s());
      sqlite3_step(st);
      sqlite3_finalize(st);
    }
  }
  for (int i = 0; i < o->nwants; i++) {
    want *w = &o->wants[i];
    sqlite3_stmt *st = prep(
        o->s, "INSERT INTO sync_wanted(hash, kind, title, year, season,"
              " episode, imdb_id, tmdb_id, show_tmdb, file_index, replaces,"
              " run_id, created) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st)
      continue;
    sqlite3_bind_text(st, 1, o->hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->title, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, w->year);
    sqlite3_bind_int(st, 5, w->season);
    sqlite3_bind_int(st, 6, w->episode);
    if (w->imdb)
      sqlite3_bind_text(st, 7, w->imdb, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 8, w->tmdb);
    sqlite3_bind_int64(st, 9, w->show_tmdb);
    sqlite3_bind_int(st, 10, w->file_index);
    sqlite3_bind_text(st, 11, w->replaces, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 12, o->run_id);
    sqlite3_bind_int64(st, 13, rg_wall_s());
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  o->has_meta = rg_torrent_info(t) != NULL;
  if (o->has_meta)
    process_wanted(o->s, o->hash);
}

typedef struct pending_op {
  rg_sync *s;
  int64_t run_id;
  int n;
} pending_op;

static void pending_fn(void *arg) {
  pending_op *o = arg;
  o->n = 0;
  sqlite3_stmt *st =
      prep(o->s, "SELECT count(*) FROM sync_wanted WHERE run_id=?");
  if (!st)
    return;
  sqlite3_bind_int64(st, 1, o->run_id);
  if (sqlite3_step(st) == SQLITE_ROW)
    o->n = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
}

#define MAX_EPISODE_NUMBER (MAX_EPISODES_PER_SEASON * 10)

enum { HAVE_NONE = 0, HAVE_REGISTRY, HAVE_WANTED };

/* What a season has: the episode registry's rows (the torrent and release
 * each episode plays from) and the episodes still waiting for metadata. */
typedef struct have_op {
  rg_sync *s;
  int64_t show;
  int season;
  uint8_t have[MAX_EPISODE_NUMBER + 1]; /* HAVE_* by episode number */
  char hash[MAX_EPISODE_NUMBER + 1][41];
  char *release[MAX_EPISODE_NUMBER + 1]; /* malloc'd; free with have_clear */
  int64_t checked[MAX_EPISODE_NUMBER + 1]; /* last upgrade search, 0 never */
} have_op;

static void have_fn(void *arg) {
  have_op *o = arg;
  sqlite3_stmt *st =
      prep(o->s, "SELECT episode, hash, release FROM sync_episodes WHERE"
                 " show_tmdb=? AND season=?");
  if (!st)
    return;
  sqlite3_bind_int64(st, 1, o->show);
  sqlite3_bind_int(st, 2, o->season);
  while (sqlite3_step(st) == SQLITE_ROW) {
    int e = sqlite3_column_int(st, 0);
    if (e < 0 || e > MAX_EPISODE_NUMBER || o->have[e])
      continue;
    o->have[e] = HAVE_REGISTRY;
    snprintf(o->hash[e], sizeof o->hash[e], "%s",
             col_text(st, 1) ? col_text(st, 1) : "");
    o->release[e] = col_text(st, 2) ? rg_strdup(col_text(st, 2)) : NULL;
  }
  sqlite3_finalize(st);
  /* when each episode was last searched for an upgrade */
  char prefix[64];
  int pl = snprintf(prefix, sizeof prefix, "tv:%lld:s%de", (long long)o->show,
                    o->season);
  st = prep(o->s, "SELECT key, at FROM sync_upgrade_checked WHERE"
                  " substr(key, 1, ?) = ?");
  if (!st)
    return;
  sqlite3_bind_int(st, 1, pl);
  sqlite3_bind_text(st, 2, prefix, -1, SQLITE_STATIC);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *k = col_text(st, 0);
    int e = k && strlen(k) > (size_t)pl ? atoi(k + pl) : -1;
    if (e >= 0 && e <= MAX_EPISODE_NUMBER)
      o->checked[e] = sqlite3_column_int64(st, 1);
  }
  sqlite3_finalize(st);
  /* wanted but not yet made also counts: don't add (or upgrade) it twice */
  st = prep(o->s, "SELECT episode FROM sync_wanted WHERE show_tmdb=? AND"
                  " season=? AND kind='episode'");
  if (!st)
    return;
  sqlite3_bind_int64(st, 1, o->show);
  sqlite3_bind_int(st, 2, o->season);
  while (sqlite3_step(st) == SQLITE_ROW) {
    int e = sqlite3_column_int(st, 0);
    if (e < 0)
      memset(o->have, HAVE_WANTED, sizeof o->have);
    else if (e <= MAX_EPISODE_NUMBER)
      o->have[e] = HAVE_WANTED;
  }
  sqlite3_finalize(st);
}

static void have_clear(have_op *o) {
  for (int e = 0; e <= MAX_EPISODE_NUMBER; e++)
    free(o->release[e]);
}

/* Upgrade searches are throttled per item (a movie, an episode): the
 * table sync_upgrade_checked holds when each was last searched for an
 * upgrade; it is not searched again for sync_upgrade_recheck_h hours unless
 * the run is forced. Keys: "movie:tmdb:603" (as the negative cache),
 * "tv:1399:s1e2". */
typedef struct checked_op {
  rg_sync *s;
  const char *const *keys;
  int n;
  bool put;
  int64_t at; /* get: when KEYS[0] was last searched, 0 never */
} checked_op;

static void checked_fn(void *arg) {
  checked_op *o = arg;
  if (!o->put) {
    sqlite3_stmt *st =
        prep(o->s, "SELECT at FROM sync_upgrade_checked WHERE key=?");
    if (!st)
      return;
    sqlite3_bind_text(st, 1, o->keys[0], -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW)
      o->at = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return;
  }
  sqlite3_exec(db(o->s), "BEGIN", NULL, NULL, NULL);
  for (int i = 0; i < o->n; i++) {
    sqlite3_stmt *st = prep(o->s, "INSERT OR REPLACE INTO"
                                  " sync_upgrade_checked(key, at) VALUES(?,?)");
    if (!st)
      break;
    sqlite3_bind_text(st, 1, o->keys[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, rg_wall_s());
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  if (sqlite3_exec(db(o->s), "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    sqlite3_exec(db(o->s), "ROLLBACK", NULL, NULL, NULL);
}

/* ------------------------------------------------------------- a run */

typedef struct run {
  rg_sync_job *j;
  rg_sync *s;
  rg_conf *c;
  rg_tmdb tmdb;
  bool dry;
  snap lib;
  int changes; /* torrents added or upgraded (not dry) */
  int titles, fails;
  char *first_fail;
} run;

/* One summary.changes[] record (a new reference). */
static json_t *change_new(const char *action, const char *title, int year,
                          int season, int episode, const rg_cand *c,
                          const rg_rank_verdict *v, const char *replaces,
                          const char *hash) {
  json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i}", "action", action, "title",
                        title, "release", c->name ? c->name : "", "source",
                        c->source, "score", v->score);
  json_object_set_new(o, "year", year ? json_integer(year) : json_null());
  if (season >= 0)
    json_object_set_new(o, "season", json_integer(season));
  if (episode >= 0)
    json_object_set_new(o, "episode", json_integer(episode));
  json_object_set_new(o, "seeders", json_integer(c->seeders));
  json_object_set_new(o, "size", json_integer(c->size));
  json_object_set_new(o, "info_hash",
                      hash && *hash ? json_string(hash)
                      : c->hash[0]  ? json_string(c->hash)
                                    : json_null());
  if (replaces && *replaces)
    json_object_set_new(o, "replaces", json_string(replaces));
  return o;
}

/* Appends change O (stolen) to the run's summary. */
static void change_push(run *r, json_t *o) {
  pthread_mutex_lock(&r->s->lock);
  json_array_append_new(r->j->changes, o);
  pthread_mutex_unlock(&r->s->lock);
}

static void change(run *r, const char *action, const char *title, int year,
                   int season, int episode, const rg_cand *c,
                   const rg_rank_verdict *v, const char *replaces,
                   const char *hash) {
  change_push(r, change_new(action, title, year, season, episode, c, v,
                            replaces, hash));
}

static void count(run *r, int *field) {
  pthread_mutex_lock(&r->s->lock);
  (*field)++;
  pthread_mutex_unlock(&r->s->lock);
}

static void title_failed(run *r, const char *cause) {
  count(r, &r->j->failed);
  r->fails++;
  if (!r->first_fail)
    r->first_fail = rg_strdup(cause);
}

static bool cancelled(run *r) { return atomic_load(&r->j->cancel) != 0; }

static bool neg_hit(run *r, const char *key, char **why) {
  neg_op o = {.s = r->s, .key = key};
  if (rg_sync_on_loop(r->s, neg_fn, &o))
    return false;
  *why = o.why;
  return o.hit;
}

static void neg_put(run *r, const char *key, const char *reason) {
  if (r->dry || r->c->sync_negative_ttl_h <= 0)
    return;
  neg_op o = {.s = r->s,
              .key = key,
              .reason = reason,
              .put = true,
              .ttl_h = r->c->sync_negative_ttl_h};
  rg_sync_on_loop(r->s, neg_fn, &o);
}

/* Hours since an item last searched AT was searched for an upgrade, or -1
 * when it is due (never searched, long enough ago, a forced run, or the
 * throttle off). */
static int upgrade_recent_h(run *r, int64_t at) {
  int h = r->c->sync_upgrade_recheck_h;
  if (r->j->force || h <= 0 || at <= 0)
    return -1;
  int64_t ago = rg_wall_s() - at;
  if (ago < 0)
    ago = 0;
  return ago >= (int64_t)h * 3600 ? -1 : (int)(ago / 3600);
}

/* Records that the N items of KEYS were searched for an upgrade now (not
 * in a dry run: it changes nothing). */
static void upgrade_searched(run *r, const char *const *keys, int n) {
  if (r->dry || n <= 0)
    return;
  checked_op o = {.s = r->s, .keys = keys, .n = n, .put = true};
  rg_sync_on_loop(r->s, checked_fn, &o);
}

/* What we look for: a movie, a season pack or one episode. */
typedef struct target {
  const char *imdb;
  const char *title;
  int year;
  int season, episode; /* -1 for movies; episode -1 = a pack */
  int units;           /* episodes a pack should hold */
  bool watchlist;
} target;

/* Does candidate C fit T (not a film's episode, the right season…)? */
static bool fits(const target *t, const rg_cand *c, const rg_rank_attrs *a) {
  if (t->season < 0) {
    if (a->rel.season >= 0 || a->rel.episode >= 0)
      return false;
    if (t->year && a->rel.year && abs(a->rel.year - t->year) > 1)
      return false;
    return true;
  }
  if (t->episode < 0)
    return a->rel.season == t->season && a->rel.episode < 0;
  if (a->rel.season == t->season && a->rel.episode == t->episode)
    return true;
  /* a Torrentio pack pointing at the episode's file */
  if (c->file_name && a->rel.season == t->season && a->rel.episode < 0) {
    rg_release f;
    rg_release_parse(c->file_name, &f);
    return f.episode == t->episode;
  }
  return false;
}

/* Best acceptable candidate of CS for T, or -1 (*why: the best reason). */
static int pick(run *r, const target *t, rg_cands *cs, rg_rank_verdict *best,
                char *why, size_t whycap) {
  int bi = -1;
  int considered = 0;
  for (size_t i = 0; i < cs->n; i++) {
    rg_cand *c = &cs->v[i];
    rg_rank_attrs a;
    rg_rank_parse(c->name, &a);
    if (!fits(t, c, &a))
      continue;
    considered++;
    rg_rank_verdict v;
    rg_rank_eval(r->s->rank, &a, c->seeders, c->size,
                 t->season < 0 ? RG_RANK_MOVIE : RG_RANK_EPISODE,
                 t->episode < 0 && t->season >= 0 ? t->units : 1, t->watchlist,
                 &v);
    if (!v.ok) {
      if (!why[0])
        snprintf(why, whycap, "%.60s: %.100s", c->name, v.why);
      continue;
    }
    if (bi < 0 || v.score > best->score ||
        (v.score == best->score && c->seeders > cs->v[bi].seeders)) {
      bi = (int)i;
      *best = v;
    }
  }
  if (bi < 0 && !considered)
    snprintf(why, whycap, "%zu results, none for this title", cs->n);
  return bi;
}

/* Searches the indexers in order until one has an acceptable release.
 * 0 with *idx >= 0 (a pick), 0 with *idx < 0 (none acceptable: *why), or
 * -errno when no indexer could be asked (*cause). */
static int search(run *r, const target *t, rg_cands *cs, int *idx,
                  rg_rank_verdict *v, char *why, size_t whycap, char **cause) {
  rg_conf *c = r->c;
  int answered = 0;
  *idx = -1;
  char *errs = NULL;
  for (int src = 0; src < 3 && *idx < 0; src++) {
    if (cancelled(r))
      break;
    char *err = NULL;
    int rc = -ENOENT;
    rg_cands_clear(cs);
    const char *name = src == 0   ? "prowlarr"
                       : src == 1 ? "torznab"
                                  : "torrentio";
    if (src == 0 && c->prowlarr_url && *c->prowlarr_url) {
      char q[96];
      if (t->season < 0)
        snprintf(q, sizeof q, "{ImdbId:%s}", t->imdb);
      else if (t->episode < 0)
        snprintf(q, sizeof q, "{ImdbId:%s}{Season:%d}", t->imdb, t->season);
      else
        snprintf(q, sizeof q, "{ImdbId:%s}{Season:%d}{Episode:%d}", t->imdb,
                 t->season, t->episode);
      rc = rg_prowlarr_search(
          r->s->prowlarr, c->prowlarr_url, c->prowlarr_api_key, q,
          t->season < 0 ? "movie" : "tvsearch", &r->j->cancel, cs, &err);
    } else if (src == 1 && c->torznab_url && *c->torznab_url) {
      char p[96];
      if (t->season < 0)
        snprintf(p, sizeof p, "imdbid=%s", t->imdb);
      else if (t->episode < 0)
        snprintf(p, sizeof p, "imdbid=%s&season=%d", t->imdb, t->season);
      else
        snprintf(p, sizeof p, "imdbid=%s&season=%d&ep=%d", t->imdb, t->season,
                 t->episode);
      rc = rg_torznab_search(r->s->torznab, c->torznab_url, c->torznab_api_key,
                             t->season < 0 ? "movie" : "tvsearch", p,
                             &r->j->cancel, cs, &err);
    } else if (src == 2 && c->torrentio_url && *c->torrentio_url) {
      char id[64];
      if (t->season < 0)
        snprintf(id, sizeof id, "%s", t->imdb);
      else
        snprintf(id, sizeof id, "%s:%d:%d", t->imdb, t->season,
                 t->episode < 0 ? 1 : t->episode);
      rc = rg_torrentio_streams(r->s->torrentio, c->torrentio_url,
                                t->season < 0 ? "movie" : "series", id,
                                &r->j->cancel, cs, &err);
    }
    if (rc == -ENOENT && !err)
      continue; /* not configured */
    if (rc == -ECANCELED) {
      free(err);
      break;
    }
    if (rc) {
      rg_sync_log(r->j, "%s: %s failed: %s", t->title, name, err);
      char *e2 = rg_printf("%s%s%s", errs ? errs : "", errs ? "; " : "", err);
      free(errs);
      errs = e2;
      free(err);
      continue;
    }
    answered++;
    char w[200] = "";
    *idx = pick(r, t, cs, v, w, sizeof w);
    if (*idx < 0) {
      rg_sync_log(r->j, "%s: %s has no acceptable release (%s)", t->title, name,
                  w);
      if (!why[0])
        snprintf(why, whycap, "%s: %s", name, w);
    } else {
      rg_sync_log(r->j, "%s: %s offers %s (%s, %d seeders)", t->title, name,
                  cs->v[*idx].name, v->why, cs->v[*idx].seeders);
    }
  }
  if (cancelled(r)) {
    free(errs);
    *cause = rg_strdup("stopped");
    return -ECANCELED;
  }
  if (!answered) {
    *cause = errs ? errs
                  : rg_strdup("no indexer is configured (set prowlarr_url, "
                              "torznab_url or torrentio_url)");
    return -EIO;
  }
  free(errs);
  return 0;
}

/* Adds candidate C (resolving its link) with the wanted entries. 0 or
 * -errno with *cause. */
static int add_cand(run *r, const rg_cand *c, want *wants, int nwants,
                    char *hash_out, char **cause) {
  char *magnet = NULL;
  uint8_t *tor = NULL;
  size_t len = 0;
  int rc = 0;
  if (c->link && strncasecmp(c->link, "magnet:", 7) == 0) {
    magnet = rg_strdup(c->link);
  } else if (c->link) {
    char *why = NULL;
    char *h = rg_printf("X-Api-Key: %s",
                        !strcmp(c->source, "prowlarr") && r->c->prowlarr_api_key
                            ? r->c->prowlarr_api_key
                            : "");
    const char *hdrs[] = {h, NULL};
    rc = rg_link_resolve(r->s->dl, c->link,
                         strcmp(c->source, "prowlarr") ? NULL : hdrs,
                         &r->j->cancel, &magnet, &tor, &len, &why);
    free(h);
    if (rc == -ECANCELED) {
      *cause = why;
      return rc;
    }
    if (rc && c->hash[0]) {
      rg_sync_log(r->j, "%s (using the info hash alone)", why);
      rc = 0;
    }
    if (rc) {
      *cause = why;
      return rc;
    }
    free(why);
  }
  if (!magnet && !tor) {
    if (!c->hash[0]) {
      *cause = rg_printf("%s: no link and no info hash", c->name);
      return -EINVAL;
    }
    char line[512];
    snprintf(line, sizeof line, "%.*s", (int)strcspn(c->name, "\n"), c->name);
    char *dn = rg_percent_encode(line);
    magnet = rg_printf("magnet:?xt=urn:btih:%s&dn=%s", c->hash, dn);
    free(dn);
  }
  char first[512];
  snprintf(first, sizeof first, "%.*s", (int)strcspn(c->name, "\n"), c->name);
  add_op o = {.s = r->s,
              .run_id = r->j->run_id,
              .magnet = magnet,
              .tor = tor,
              .len = len,
              .title = first,
              .wants = wants,
              .nwants = nwants};
  rc = rg_sync_on_loop(r->s, add_fn, &o);
  if (!rc)
    rc = o.rc;
  if (rc) {
    *cause = o.cause ? o.cause : rg_strdup("the daemon is stopping");
    o.cause = NULL;
  } else {
    snprintf(hash_out, 41, "%s", o.hash);
  }
  free(o.cause);
  free(magnet);
  free(tor);
  return rc;
}

static int score_of(run *r, const char *release, int kind) {
  if (!release)
    return 0;
  rg_rank_attrs a;
  rg_rank_verdict v;
  rg_rank_parse(release, &a);
  rg_rank_eval(r->s->rank, &a, -1, 0, kind, 1, true, &v);
  return v.ok ? v.score : 0;
}

/* What the release an entry plays scores. Its torrent's name (the info
 * dict's) and the title it was added as (the indexer's release name) may
 * differ: the better one counts. */
static int lib_score(run *r, const lib_item *x, int kind) {
  int a = score_of(r, x->release, kind), b = score_of(r, x->rname, kind);
  return a > b ? a : b;
}

/* The library's movie entry for this title, if any. */
static const lib_item *find_movie(run *r, int64_t tmdb, const char *imdb,
                                  const char *title, int year) {
  for (size_t i = 0; i < r->lib.n; i++) {
    const lib_item *x = &r->lib.v[i];
    if (strcmp(x->kind, "movie"))
      continue;
    if ((tmdb && x->tmdb == tmdb) ||
        (imdb && x->imdb && !strcmp(imdb, x->imdb)))
      return x;
  }
  for (size_t i = 0; i < r->lib.n; i++) {
    const lib_item *x = &r->lib.v[i];
    if (!strcmp(x->kind, "movie") && !strcasecmp(x->title, title) &&
        (!year || !x->year || x->year == year))
      return x;
  }
  return NULL;
}

static void do_movie(run *r, const char *title, int year, int64_t tmdb,
                     const char *imdb_in, bool watchlist) {
  char key[64], *why = NULL;
  char *imdb = imdb_in ? rg_strdup(imdb_in) : NULL;
  r->titles++;
  if (tmdb)
    snprintf(key, sizeof key, "movie:tmdb:%lld", (long long)tmdb);
  else
    snprintf(key, sizeof key, "movie:imdb:%s", imdb ? imdb : title);
  /* In the library or not is decided before anything else: a title that is
   * there is only searched for an upgrade, and finding nothing better keeps
   * it (it is not "missing", nor negatively cached). */
  const lib_item *cur = find_movie(r, tmdb, imdb, title, year);
  if (neg_hit(r, key, &why)) {
    if (cur)
      rg_sync_log(r->j,
                  "%s (%d): in the library (%s); no acceptable release "
                  "earlier (%s): kept",
                  title, year, cur->release ? cur->release : cur->hash, why);
    else
      rg_sync_log(r->j, "%s (%d): skipped, no acceptable release earlier (%s)",
                  title, year, why);
    count(r, &r->j->skipped);
    goto out;
  }
  if (!imdb && cur && cur->imdb)
    imdb = rg_strdup(cur->imdb);
  if (!imdb && tmdb) {
    char *cause = NULL;
    int rc = rg_tmdb_imdb_id(&r->tmdb, "movie", tmdb, &imdb, &cause);
    if (rc) {
      rg_sync_log(r->j, "%s (%d): %s", title, year, cause);
      title_failed(r, cause);
      free(cause);
      goto out;
    }
  }
  if (!imdb) {
    if (cur)
      rg_sync_log(r->j,
                  "%s (%d): in the library (%s); no IMDb id to search for a "
                  "better release: kept",
                  title, year, cur->release ? cur->release : cur->hash);
    else
      rg_sync_log(r->j, "%s (%d): skipped, no IMDb id", title, year);
    count(r, &r->j->skipped);
    goto out;
  }
  if (!cur)
    cur = find_movie(r, tmdb, imdb, title, year);
  int cur_score = cur ? lib_score(r, cur, RG_RANK_MOVIE) : 0;
  if (cur) {
    const char *keys[] = {key};
    checked_op o = {.s = r->s, .keys = keys};
    int ago = rg_sync_on_loop(r->s, checked_fn, &o) ? -1
                                                    : upgrade_recent_h(r, o.at);
    if (ago >= 0) {
      rg_sync_log(r->j,
                  "%s (%d): in the library (%s); searched for an upgrade %d h "
                  "ago, again after %d h (sync_upgrade_recheck_h): kept",
                  title, year, cur->release ? cur->release : cur->hash, ago,
                  r->c->sync_upgrade_recheck_h);
      count(r, &r->j->skipped);
      goto out;
    }
  }
  target t = {.imdb = imdb,
              .title = title,
              .year = year,
              .season = -1,
              .episode = -1,
              .units = 1,
              .watchlist = watchlist};
  rg_cands cs = {0};
  rg_rank_verdict v;
  char w[200] = "", hash[41] = "";
  char *cause = NULL;
  int idx, rc = search(r, &t, &cs, &idx, &v, w, sizeof w, &cause);
  if (!rc && cur) {
    const char *keys[] = {key};
    upgrade_searched(r, keys, 1);
  }
  if (rc) {
    if (rc != -ECANCELED) {
      rg_sync_log(r->j, "%s (%d): search failed: %s", title, year, cause);
      title_failed(r, cause);
    }
    free(cause);
    rg_cands_clear(&cs);
    goto out;
  }
  if (idx < 0) {
    if (cur) {
      rg_sync_log(r->j,
                  "%s (%d): in the library (%s, score %d); no better "
                  "release found: kept",
                  title, year, cur->release ? cur->release : cur->hash,
                  cur_score);
    } else {
      rg_sync_log(r->j, "%s (%d): no acceptable release", title, year);
      neg_put(r, key, w);
    }
    count(r, &r->j->skipped);
    rg_cands_clear(&cs);
    goto out;
  }
  const rg_cand *c = &cs.v[idx];
  if (cur && ((c->hash[0] && !strcmp(c->hash, cur->hash)) ||
              v.score < cur_score + r->c->sync_upgrade_margin)) {
    rg_sync_log(r->j,
                "%s (%d): in the library (%s, score %d); best found "
                "scores %d: kept",
                title, year, cur->release ? cur->release : cur->hash, cur_score,
                v.score);
    count(r, &r->j->skipped);
    rg_cands_clear(&cs);
    goto out;
  }
  want wt = {.title = cur ? cur->title : (char *)title,
             .year = cur ? cur->year : year,
             .season = -1,
             .episode = -1,
             .file_index = c->file_idx,
             .imdb = imdb,
             .tmdb = tmdb};
  snprintf(wt.kind, sizeof wt.kind, "movie");
  if (cur)
    snprintf(wt.replaces, sizeof wt.replaces, "%s", cur->hash);
  const char *action = cur ? "upgrade" : "add";
  if (r->dry) {
    rg_sync_log(r->j, "%s (%d): would %s %s", title, year, action, c->name);
    change(r, cur ? "would_upgrade" : "would_add", title, year, -1, -1, c, &v,
           cur ? cur->hash : NULL, NULL);
    rg_cands_clear(&cs);
    goto out;
  }
  rc = add_cand(r, c, &wt, 1, hash, &cause);
  if (rc) {
    if (rc != -ECANCELED) {
      rg_sync_log(r->j, "%s (%d): cannot add %s: %s", title, year, c->name,
                  cause);
      title_failed(r, cause);
    }
    free(cause);
  } else {
    rg_sync_log(r->j, "%s (%d): %s %s (%s)", title, year,
                cur ? "upgraded to" : "added", c->name, hash);
    change(r, action, title, year, -1, -1, c, &v, cur ? cur->hash : NULL, hash);
    count(r, cur ? &r->j->upgraded : &r->j->added);
    r->changes++;
  }
  rg_cands_clear(&cs);
out:
  free(why);
  free(imdb);
}

static int today_ymd(char *buf, size_t cap) {
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  return snprintf(buf, cap, "%04d-%02d-%02d", tmv.tm_year + 1900,
                  tmv.tm_mon + 1, tmv.tm_mday);
}

static int year_of(const char *date) {
  return date && strlen(date) >= 4 ? atoi(date) : 0;
}

static const char *jstr(json_t *o, const char *k) {
  json_t *v = json_object_get(o, k);
  return json_is_string(v) ? json_string_value(v) : NULL;
}

/* An aired episode of the season being synced. */
typedef struct ep_state {
  int ep;
  bool missing;        /* not in the registry, not being added */
  bool upgradable;     /* present, and the ladder has room above it */
  bool done;           /* a pack took care of it this run */
  bool searched;       /* present: an indexer answered its upgrade search */
  int score;           /* present: what its release scores */
  const char *release; /* present: its release name, or NULL */
  char hash[41];       /* present: the torrent it plays from */
  const lib_item *cur; /* present: its library entry, NULL if none */
} ep_state;

typedef struct season_ctx {
  const char *show, *imdb;
  int year, season;
  int64_t show_id;
  bool watchlist;
  const lib_item *folder; /* an entry of the show already in the library */
  ep_state eps[MAX_EPISODE_NUMBER];
  int n, nmiss, nup;
} season_ctx;

/* The library entry that plays episode EP of SEASON from torrent HASH. */
static const lib_item *find_episode(run *r, const char *hash, int season,
                                    int ep) {
  for (size_t i = 0; i < r->lib.n; i++) {
    const lib_item *x = &r->lib.v[i];
    if (!strcmp(x->kind, "episode") && x->season == season &&
        x->episode == ep && !strcmp(x->hash, hash))
      return x;
  }
  return NULL;
}

/* Is X an episode entry of SC's show? Its TMDB id says so; without one
 * (an automatic entry, made from a release name), its title key and a
 * year that does not contradict. */
static bool of_show(const season_ctx *sc, const lib_item *x) {
  if (strcmp(x->kind, "episode"))
    return false;
  if (x->tmdb)
    return x->tmdb == sc->show_id;
  char a[256], b[256];
  rg_release_title_key(x->title, a, sizeof a);
  rg_release_title_key(sc->show, b, sizeof b);
  return a[0] && !strcmp(a, b) && (!x->year || !sc->year || x->year == sc->year);
}

/* The library's entry for episode EP of SC's season, however it was made
 * (the registry knows only the sync job's), or NULL. */
static const lib_item *find_show_episode(run *r, const season_ctx *sc,
                                         int ep) {
  for (size_t i = 0; i < r->lib.n; i++) {
    const lib_item *x = &r->lib.v[i];
    if (x->season == sc->season && x->episode == ep && of_show(sc, x))
      return x;
  }
  return NULL;
}

/* An entry of SC's show whose title and year new episodes take, so that
 * they land in the show's folder the library already has; NULL if none
 * (then the TMDB name and year). */
static const lib_item *find_show(run *r, const season_ctx *sc) {
  const lib_item *best = NULL;
  for (size_t i = 0; i < r->lib.n; i++) {
    const lib_item *x = &r->lib.v[i];
    if (of_show(sc, x) && (!best || (x->season == sc->season &&
                                     best->season != sc->season)))
      best = x;
  }
  return best;
}

/* The entry wanted for E: an upgrade takes the current entry's identity
 * (title, year, season, episode), so rg_library_add keeps its path and
 * inode. */
static void episode_want(const season_ctx *sc, const ep_state *e,
                         int file_index, want *w) {
  memset(w, 0, sizeof *w);
  snprintf(w->kind, sizeof w->kind, "episode");
  const lib_item *like = e->cur ? e->cur : sc->folder;
  w->title = like ? like->title : (char *)sc->show;
  w->year = like ? like->year : sc->year;
  w->season = sc->season;
  w->episode = e->ep;
  w->file_index = file_index;
  w->imdb = (char *)sc->imdb;
  w->tmdb = sc->show_id;
  w->show_tmdb = sc->show_id;
  if (!e->missing)
    snprintf(w->replaces, sizeof w->replaces, "%s", e->hash);
}

/* Appends ITEM to *LIST (malloc'd), SEP between items; with UNIQUE, an
 * item already listed is not repeated. */
static void list_add(char **list, const char *sep, const char *item,
                     bool unique) {
  if (unique && *list && strstr(*list, item))
    return;
  char *n = rg_printf("%s%s%s", *list ? *list : "", *list ? sep : "", item);
  free(*list);
  *list = n;
}

/* The whole season as a pack when every aired episode is missing. Else a
 * pack that beats some present episodes by the upgrade margin replaces
 * those (and brings the missing ones along): one want per episode, each
 * found in the pack by its name. Episodes it takes care of are marked
 * done. */
static void season_pack(run *r, season_ctx *sc) {
  bool all_missing = sc->nmiss == sc->n;
  char key[96], *why = NULL, *cause = NULL, *eplist = NULL, *olds = NULL;
  snprintf(key, sizeof key, "tv:%lld:s%d", (long long)sc->show_id, sc->season);
  if (neg_hit(r, key, &why)) {
    rg_sync_log(r->j, "%s season %d: no pack earlier (%s)", sc->show,
                sc->season, why);
    free(why);
    return;
  }
  target t = {.imdb = sc->imdb,
              .title = sc->show,
              .year = sc->year,
              .season = sc->season,
              .episode = -1,
              .units = sc->n,
              .watchlist = sc->watchlist};
  rg_cands cs = {0};
  rg_rank_verdict v;
  char w[200] = "", hash[41] = "";
  want *wants = NULL;
  int idx, rc = search(r, &t, &cs, &idx, &v, w, sizeof w, &cause);
  if (rc) {
    if (rc != -ECANCELED) {
      rg_sync_log(r->j, "%s season %d: pack search failed: %s", sc->show,
                  sc->season, cause);
      title_failed(r, cause);
    }
    goto out;
  }
  if (idx < 0) {
    neg_put(r, key, w);
    goto out;
  }
  const rg_cand *c = &cs.v[idx];
  int margin = r->c->sync_upgrade_margin, nw = 0, nup = 0;
  wants = rg_calloc((size_t)sc->n, sizeof *wants);
  if (all_missing) {
    want *wt = &wants[nw++];
    episode_want(sc, &sc->eps[0], -1, wt);
    wt->episode = -1; /* every file of the pack named for an episode */
  } else {
    /* first the present episodes the pack beats; if there are any, the
     * missing ones come along */
    for (int pass = 0; pass < 2; pass++)
      for (int k = 0; k < sc->n; k++) {
        ep_state *e = &sc->eps[k];
        bool take;
        if (pass == 0)
          take = e->upgradable && strcmp(e->hash, c->hash) &&
                 v.score >= e->score + margin;
        else
          take = e->missing && nup > 0;
        if (!take)
          continue;
        episode_want(sc, e, WANT_BY_NAME, &wants[nw++]);
        char ep[16];
        snprintf(ep, sizeof ep, "E%02d", e->ep);
        list_add(&eplist, " ", ep, false);
        if (pass == 0) {
          nup++;
          list_add(&olds, ",", e->hash, true);
        }
      }
    if (!nup) {
      rg_sync_log(r->j,
                  "%s season %d: the best pack %s scores %d: no episode is "
                  "beaten by %d, kept",
                  sc->show, sc->season, c->name, v.score, margin);
      goto out;
    }
  }
  const char *what = all_missing ? "add" : "upgrade";
  if (r->dry) {
    rg_sync_log(r->j, "%s season %d: would %s%s%s the pack %s", sc->show,
                sc->season, all_missing ? "add" : "upgrade ",
                all_missing ? "" : eplist, all_missing ? "" : " to", c->name);
  } else if ((rc = add_cand(r, c, wants, nw, hash, &cause))) {
    if (rc != -ECANCELED) {
      rg_sync_log(r->j, "%s season %d: cannot add the pack: %s", sc->show,
                  sc->season, cause);
      title_failed(r, cause);
    }
    goto out;
  } else {
    rg_sync_log(r->j, "%s season %d: %s%s%s the pack %s (%s)", sc->show,
                sc->season, all_missing ? "added" : "upgraded ",
                all_missing ? "" : eplist, all_missing ? "" : " to", c->name,
                hash);
    count(r, all_missing ? &r->j->added : &r->j->upgraded);
    r->changes++;
  }
  char act[24];
  snprintf(act, sizeof act, "%s%s", r->dry ? "would_" : "", what);
  json_t *o = change_new(act, sc->show, sc->year, sc->season, -1, c, &v, olds,
                         r->dry ? NULL : hash);
  if (!all_missing) {
    json_t *a = json_array();
    for (int k = 0; k < nw; k++)
      json_array_append_new(a, json_integer(wants[k].episode));
    json_object_set_new(o, "episodes", a);
  }
  change_push(r, o);
  for (int k = 0; k < sc->n; k++)
    for (int i = 0; i < nw; i++)
      if (wants[i].episode < 0 || wants[i].episode == sc->eps[k].ep)
        sc->eps[k].done = true;
out:
  free(cause);
  free(wants);
  free(eplist);
  free(olds);
  rg_cands_clear(&cs);
}

/* One episode: the missing one added, a present one upgraded when a release
 * beats it by the upgrade margin. */
static void season_episode(run *r, season_ctx *sc, ep_state *e) {
  char key[96], *why = NULL, *cause = NULL;
  const char *cur = e->release ? e->release : e->hash;
  snprintf(key, sizeof key, "tv:%lld:s%de%d", (long long)sc->show_id,
           sc->season, e->ep);
  if (e->missing && neg_hit(r, key, &why)) {
    free(why);
    count(r, &r->j->skipped);
    return;
  }
  target t = {.imdb = sc->imdb,
              .title = sc->show,
              .year = sc->year,
              .season = sc->season,
              .episode = e->ep,
              .units = 1,
              .watchlist = sc->watchlist};
  rg_cands cs = {0};
  rg_rank_verdict v;
  char w[200] = "", hash[41] = "";
  int idx, rc = search(r, &t, &cs, &idx, &v, w, sizeof w, &cause);
  if (rc) {
    if (rc != -ECANCELED)
      title_failed(r, cause);
    goto out;
  }
  e->searched = !e->missing;
  if (idx < 0) {
    if (e->missing) {
      rg_sync_log(r->j, "%s S%02dE%02d: no acceptable release", sc->show,
                  sc->season, e->ep);
      neg_put(r, key, w);
    } else {
      rg_sync_log(r->j,
                  "%s S%02dE%02d: in the library (%s, score %d); no better "
                  "release found: kept",
                  sc->show, sc->season, e->ep, cur, e->score);
    }
    count(r, &r->j->skipped);
    goto out;
  }
  const rg_cand *c = &cs.v[idx];
  if (!e->missing && ((c->hash[0] && !strcmp(c->hash, e->hash)) ||
                      v.score < e->score + r->c->sync_upgrade_margin)) {
    rg_sync_log(r->j,
                "%s S%02dE%02d: in the library (%s, score %d); best found "
                "scores %d: kept",
                sc->show, sc->season, e->ep, cur, e->score, v.score);
    count(r, &r->j->skipped);
    goto out;
  }
  want wt;
  episode_want(sc, e, c->file_idx, &wt);
  const char *old = e->missing ? NULL : e->hash;
  if (r->dry) {
    rg_sync_log(r->j, "%s S%02dE%02d: would %s %s", sc->show, sc->season, e->ep,
                e->missing ? "add" : "upgrade to", c->name);
    change(r, e->missing ? "would_add" : "would_upgrade", sc->show, sc->year,
           sc->season, e->ep, c, &v, old, NULL);
    goto out;
  }
  if ((rc = add_cand(r, c, &wt, 1, hash, &cause))) {
    if (rc != -ECANCELED) {
      rg_sync_log(r->j, "%s S%02dE%02d: cannot add %s: %s", sc->show,
                  sc->season, e->ep, c->name, cause);
      title_failed(r, cause);
    }
    goto out;
  }
  rg_sync_log(r->j, "%s S%02dE%02d: %s %s (%s)", sc->show, sc->season, e->ep,
              e->missing ? "added" : "upgraded to", c->name, hash);
  change(r, e->missing ? "add" : "upgrade", sc->show, sc->year, sc->season,
         e->ep, c, &v, old, hash);
  count(r, e->missing ? &r->j->added : &r->j->upgraded);
  r->changes++;
out:
  free(cause);
  rg_cands_clear(&cs);
}

/* The aired episode numbers of SJ (a TMDB season) into EPS. */
static int season_aired(json_t *sj, ep_state *eps, int cap) {
  char today[32];
  today_ymd(today, sizeof today);
  int n = 0;
  size_t i;
  json_t *e;
  json_array_foreach(json_object_get(sj, "episodes"), i, e) {
    json_t *num = json_object_get(e, "episode_number");
    const char *ad = jstr(e, "air_date");
    if (!json_is_integer(num) || !ad || strcmp(ad, today) > 0)
      continue;
    json_int_t en = json_integer_value(num);
    if (en > 0 && en <= MAX_EPISODE_NUMBER && n < cap)
      eps[n++].ep = (int)en;
  }
  return n;
}

/* One season of a show. Missing episodes: a pack when every aired episode
 * is missing, else (or when no pack is acceptable) one by one. Present
 * episodes (the registry says which torrent plays each) whose release the
 * ladder can still beat: a pack, then single episodes, replace those a
 * release beats by sync_upgrade_margin, keeping their paths and inodes. */
static void do_season(run *r, const char *show, int year, int64_t show_id,
                      const char *imdb, int season, bool watchlist) {
  char *cause = NULL;
  json_t *sj = NULL;
  int rc = rg_tmdb_season(&r->tmdb, show_id, season, &sj, &cause);
  if (rc) {
    rg_sync_log(r->j, "%s season %d: %s", show, season, cause);
    if (rc != -ECANCELED)
      title_failed(r, cause);
    free(cause);
    return;
  }
  season_ctx *sc = rg_calloc(1, sizeof *sc);
  have_op *h = rg_calloc(1, sizeof *h);
  sc->show = show;
  sc->imdb = imdb;
  sc->year = year;
  sc->season = season;
  sc->show_id = show_id;
  sc->watchlist = watchlist;
  sc->n = season_aired(sj, sc->eps, (int)RG_ARRAY_LEN(sc->eps));
  json_decref(sj);
  h->s = r->s;
  h->show = show_id;
  h->season = season;
  if (rg_sync_on_loop(r->s, have_fn, h))
    goto out;
  int top = rg_rank_tiers(r->s->rank) * 100 + 99, nrecent = 0;
  sc->folder = find_show(r, sc);
  for (int k = 0; k < sc->n; k++) {
    ep_state *e = &sc->eps[k];
    int en = e->ep;
    const lib_item *other = NULL;
    if (h->have[en] == HAVE_NONE &&
        !(other = find_show_episode(r, sc, en))) {
      e->missing = true;
      sc->nmiss++;
      continue;
    }
    if (other) {
      /* in the library, not by this job (a person, an automatic entry) */
      snprintf(e->hash, sizeof e->hash, "%s", other->hash);
      e->cur = other;
    } else if (h->have[en] != HAVE_REGISTRY || !h->hash[en][0]) {
      continue; /* being added or upgraded already */
    } else {
      snprintf(e->hash, sizeof e->hash, "%s", h->hash[en]);
      e->release = h->release[en];
      e->cur = find_episode(r, e->hash, season, en);
    }
    e->score = score_of(r, e->release, RG_RANK_EPISODE);
    if (e->cur && lib_score(r, e->cur, RG_RANK_EPISODE) > e->score)
      e->score = lib_score(r, e->cur, RG_RANK_EPISODE);
    if (!e->release && e->cur)
      e->release = e->cur->release;
    e->upgradable = e->score + r->c->sync_upgrade_margin <= top;
    if (e->upgradable && upgrade_recent_h(r, h->checked[en]) >= 0) {
      e->upgradable = false; /* searched for an upgrade not long ago */
      nrecent++;
    }
    if (e->upgradable)
      sc->nup++;
  }
  if (nrecent)
    rg_sync_log(r->j,
                "%s season %d: %d episodes searched for an upgrade in the "
                "last %d h (sync_upgrade_recheck_h): not searched again yet",
                show, season, nrecent, r->c->sync_upgrade_recheck_h);
  if (!sc->nmiss) {
    rg_sync_log(r->j, "%s season %d: all %d aired episodes present%s", show,
                season, sc->n,
                sc->nup ? "; looking for upgrades" : ", none to upgrade");
    if (!sc->nup) {
      count(r, &r->j->skipped);
      goto out;
    }
  }
  r->titles++;
  if (sc->nmiss == sc->n || sc->nup)
    season_pack(r, sc);
  /* missing episodes first, then upgrades, each with its own budget: a
   * season of upgradable episodes must not starve a newly aired one */
  for (int pass = 0; pass < 2; pass++) {
    int searched = 0;
    for (int k = 0; k < sc->n && !cancelled(r); k++) {
      ep_state *e = &sc->eps[k];
      if (e->done || !(pass == 0 ? e->missing : e->upgradable))
        continue;
      if (searched++ == MAX_EPISODES_PER_SEASON) {
        rg_sync_log(r->j,
                    "%s season %d: %d %s searches this run; the rest waits "
                    "for the next",
                    show, season, MAX_EPISODES_PER_SEASON,
                    pass == 0 ? "missing-episode" : "upgrade");
        break;
      }
      season_episode(r, sc, e);
    }
  }
  /* present episodes searched for an upgrade (alone, or beaten by a pack) */
  char(*keys)[64] = rg_calloc((size_t)sc->n + 1, sizeof *keys);
  const char **kp = rg_calloc((size_t)sc->n + 1, sizeof *kp);
  int nk = 0;
  for (int k = 0; k < sc->n; k++) {
    const ep_state *e = &sc->eps[k];
    if (e->missing || !e->upgradable || !(e->searched || e->done))
      continue;
    snprintf(keys[nk], sizeof keys[nk], "tv:%lld:s%de%d", (long long)show_id,
             season, e->ep);
    kp[nk] = keys[nk];
    nk++;
  }
  upgrade_searched(r, kp, nk);
  free(kp);
  free(keys);
out:
  have_clear(h);
  free(h);
  free(sc);
}

static void do_show(run *r, int64_t id, bool watchlist) {
  char *cause = NULL;
  json_t *tv = NULL;
  int rc = rg_tmdb_tv(&r->tmdb, id, &tv, &cause);
  if (rc) {
    rg_sync_log(r->j, "show %lld: %s", (long long)id, cause);
    if (rc != -ECANCELED)
      title_failed(r, cause);
    free(cause);
    return;
  }
  const char *name = jstr(tv, "name");
  int year = year_of(jstr(tv, "first_air_date"));
  const char *imdb = jstr(json_object_get(tv, "external_ids"), "imdb_id");
  if (!name || !imdb || strncmp(imdb, "tt", 2)) {
    rg_sync_log(r->j, "show %lld: skipped (%s)", (long long)id,
                name ? "no IMDb id" : "no name");
    count(r, &r->j->skipped);
    json_decref(tv);
    return;
  }
  /* the last N aired seasons (season 0 holds specials) */
  char today[32];
  today_ymd(today, sizeof today);
  int seasons[64], ns = 0;
  json_t *ss = json_object_get(tv, "seasons");
  size_t i;
  json_t *x;
  json_array_foreach(ss, i, x) {
    json_t *n = json_object_get(x, "season_number");
    const char *ad = jstr(x, "air_date");
    if (!json_is_integer(n) || json_integer_value(n) <= 0 || !ad ||
        strcmp(ad, today) > 0 || ns == 64)
      continue;
    seasons[ns++] = (int)json_integer_value(n);
  }
  int from = ns - r->c->sync_tv_seasons;
  for (int k = from < 0 ? 0 : from; k < ns && !cancelled(r); k++)
    do_season(r, name, year, id, imdb, seasons[k], watchlist);
  json_decref(tv);
}

/* IDs of the TMDB lists in CONF_LISTS (comma-separated) for KIND. */
static int collect(run *r, const char *kind, const char *lists, int pages,
                   int limit, json_t *out, char **cause) {
  char *copy = rg_strdup(lists ? lists : "");
  char *save = NULL;
  int ok = 0, tried = 0, rc = 0;
  for (char *l = strtok_r(copy, ", ", &save); l && !cancelled(r);
       l = strtok_r(NULL, ", ", &save)) {
    for (int p = 1; p <= pages && (int)json_array_size(out) < limit; p++) {
      json_t *res = NULL;
      char *why = NULL;
      tried++;
      rc = rg_tmdb_list(&r->tmdb, kind, l, p, &res, &why);
      if (rc) {
        rg_sync_log(r->j, "TMDB list %s page %d: %s", l, p, why);
        if (!*cause)
          *cause = why;
        else
          free(why);
        if (rc == -EACCES || rc == -ECANCELED)
          goto out;
        break;
      }
      ok++;
      size_t i;
      json_t *it;
      json_array_foreach(res, i, it) {
        json_t *id = json_object_get(it, "id");
        if (!json_is_integer(id) || (int)json_array_size(out) >= limit)
          continue;
        bool dup = false;
        size_t k;
        json_t *o;
        json_array_foreach(out, k, o) {
          if (json_integer_value(json_object_get(o, "id")) ==
              json_integer_value(id))
            dup = true;
        }
        if (!dup)
          json_array_append(out, it);
      }
      json_decref(res);
    }
  }
out:
  free(copy);
  if (tried && !ok)
    return rc ? rc : -EIO;
  free(*cause);
  *cause = NULL;
  return 0;
}

/* Posters: TMDB list results carry poster_path; they are kept as settings
 * rows "poster.<kind>.<tmdb id>" for the dashboard (torrent objects get a
 * "poster" URL when a TMDB key is configured). */
typedef struct poster_arg {
  rg_sync *s;
  const char *kind;
  json_t *items;
} poster_arg;

static void poster_fn(void *arg) {
  poster_arg *a = arg;
  size_t i;
  json_t *it;
  json_array_foreach(a->items, i, it) {
    json_t *id = json_object_get(it, "id");
    json_t *pp = json_object_get(it, "poster_path");
    if (!json_is_integer(id) || !json_is_string(pp))
      continue;
    const char *p = json_string_value(pp);
    if (p[0] != '/' || strlen(p) > 200 || strstr(p, ".."))
      continue;
    char key[64];
    snprintf(key, sizeof key, "poster.%s.%" JSON_INTEGER_FORMAT, a->kind,
             json_integer_value(id));
    rg_store_set_setting(a->s->app->store, key, p);
  }
}

static void keep_posters(run *r, const char *kind, json_t *items) {
  poster_arg a = {r->s, kind, items};
  rg_sync_on_loop(r->s, poster_fn, &a);
}

static int run_movies(run *r, char **cause) {
  json_t *ms = json_array();
  int rc = collect(r, "movie", r->c->sync_movie_lists, r->c->sync_movie_pages,
                   r->c->sync_movie_limit, ms, cause);
  if (rc) {
    json_decref(ms);
    return rc;
  }
  rg_sync_log(r->j, "%zu movies from TMDB lists (%s)", json_array_size(ms),
              r->c->sync_movie_lists);
  keep_posters(r, "movie", ms);
  size_t i;
  json_t *m;
  json_array_foreach(ms, i, m) {
    if (cancelled(r))
      break;
    const char *title = jstr(m, "title");
    if (!title)
      continue;
    do_movie(r, title, year_of(jstr(m, "release_date")),
             json_integer_value(json_object_get(m, "id")), NULL, false);
  }
  json_decref(ms);
  return 0;
}

static int run_tv(run *r, char **cause) {
  json_t *shows = json_array();
  /* the follow list first: TMDB ids or IMDb ids */
  char *copy = rg_strdup(r->c->sync_tv_follow ? r->c->sync_tv_follow : "");
  char *save = NULL;
  for (char *f = strtok_r(copy, ", ", &save); f && !cancelled(r);
       f = strtok_r(NULL, ", ", &save)) {
    int64_t id = 0;
    if (!strncmp(f, "tt", 2)) {
      char *why = NULL;
      int rc = rg_tmdb_find(&r->tmdb, f, "tv", &id, &why);
      if (rc) {
        rg_sync_log(r->j, "follow %s: %s", f, why);
        if (rc == -EACCES) {
          *cause = why;
          free(copy);
          json_decref(shows);
          return rc;
        }
        free(why);
        continue;
      }
    } else {
      id = strtoll(f, NULL, 10);
    }
    if (id > 0)
      json_array_append_new(shows, json_pack("{s:I}", "id", (json_int_t)id));
  }
  free(copy);
  if (r->c->sync_tv_lists && *r->c->sync_tv_lists) {
    int rc = collect(r, "tv", r->c->sync_tv_lists, 1, r->c->sync_tv_limit,
                     shows, cause);
    if (rc && !json_array_size(shows)) {
      json_decref(shows);
      return rc;
    }
    free(*cause);
    *cause = NULL;
    keep_posters(r, "tv", shows);
  }
  rg_sync_log(r->j, "%zu shows (follow list and TMDB lists)",
              json_array_size(shows));
  size_t i;
  json_t *s;
  json_array_foreach(shows, i, s) {
    if (cancelled(r) || (int)i >= r->c->sync_tv_limit)
      break;
    do_show(r, json_integer_value(json_object_get(s, "id")), false);
  }
  json_decref(shows);
  return 0;
}

static int run_watchlist(run *r, char **cause) {
  rg_plex_item *items = NULL;
  size_t n = 0;
  int rc =
      rg_plex_watchlist(r->s->plex, r->c->plex_watchlist_url, r->c->plex_token,
                        &r->j->cancel, &items, &n, cause);
  if (rc)
    return rc;
  rg_sync_log(r->j, "%zu titles on the Plex watchlist", n);
  for (size_t i = 0; i < n && !cancelled(r); i++) {
    rg_plex_item *it = &items[i];
    bool movie = !strcmp(it->type, "movie");
    int64_t tmdb = it->tmdb;
    if (!tmdb && it->imdb && r->tmdb.key && *r->tmdb.key) {
      char *why = NULL;
      if (rg_tmdb_find(&r->tmdb, it->imdb, movie ? "movie" : "tv", &tmdb, &why))
        rg_sync_log(r->j, "%s: %s", it->title, why);
      free(why);
    }
    /* no id at all in Guid[]: look the title up on TMDB by name and year */
    char *found_imdb = NULL;
    if (!tmdb && !it->imdb && it->title && r->tmdb.key && *r->tmdb.key) {
      json_t *res = NULL;
      char *why = NULL;
      if (rg_tmdb_search(&r->tmdb, movie ? "movie" : "tv", it->title, it->year,
                         &res, &why) == 0 &&
          json_array_size(res) > 0) {
        tmdb =
            json_integer_value(json_object_get(json_array_get(res, 0), "id"));
        if (movie && tmdb &&
            rg_tmdb_imdb_id(&r->tmdb, "movie", tmdb, &found_imdb, &why) == 0 &&
            found_imdb) {
          free(it->imdb);
          it->imdb = found_imdb;
        }
        rg_sync_log(r->j,
                    "%s (%d): no ids in Guid[], found by TMDB search: %lld",
                    it->title, it->year, (long long)tmdb);
      } else if (why) {
        rg_sync_log(r->j, "%s: TMDB search: %s", it->title, why);
      }
      json_decref(res);
      free(why);
    }
    if (movie) {
      if (!it->imdb) {
        rg_sync_log(r->j, "%s (%d): skipped, no IMDb id in its Guid[]",
                    it->title, it->year);
        count(r, &r->j->skipped);
        continue;
      }
      do_movie(r, it->title, it->year, tmdb, it->imdb, true);
    } else if (tmdb) {
      do_show(r, tmdb, true);
    } else {
      rg_sync_log(r->j, "%s: skipped, a show needs its TMDB id", it->title);
      count(r, &r->j->skipped);
    }
  }
  rg_plex_items_free(items, n);
  return 0;
}

/* Waits (bounded) for the metadata of what this run added. */
static void wait_entries(run *r) {
  int64_t until = rg_now_ms() + (int64_t)r->c->sync_metadata_wait_s * 1000;
  pending_op o = {.s = r->s, .run_id = r->j->run_id};
  for (;;) {
    if (rg_sync_on_loop(r->s, pending_fn, &o) || !o.n)
      break;
    if (rg_now_ms() >= until || cancelled(r)) {
      rg_sync_log(r->j,
                  "%d torrents still wait for metadata; their library "
                  "entries are made when it arrives",
                  o.n);
      return;
    }
    rg_hc_sleep(250, &r->j->cancel);
  }
  if (r->changes)
    rg_sync_log(r->j, "every added torrent has its library entries");
}

static void refresh_servers(run *r) {
  rg_conf *c = r->c;
  char *why = NULL;
  if (c->plex_url && *c->plex_url) {
    if (rg_plex_refresh(r->s->media, c->plex_url, c->plex_token,
                        c->plex_sections, &r->j->cancel, &why))
      rg_sync_log(r->j, "Plex refresh failed: %s", why);
    else
      rg_sync_log(r->j, "Plex library refresh requested");
    free(why);
    why = NULL;
  }
  if (c->jellyfin_url && *c->jellyfin_url) {
    if (rg_jellyfin_refresh(r->s->media, c->jellyfin_url, c->jellyfin_api_key,
                            &r->j->cancel, &why))
      rg_sync_log(r->j, "Jellyfin refresh failed: %s", why);
    else
      rg_sync_log(r->j, "Jellyfin library refresh requested");
    free(why);
  }
}

int rg_sync_run_job(rg_sync_job *j, char **cause) {
  rg_sync *s = j->s;
  rg_conf *c = s->app->conf;
  run r = {.j = j, .s = s, .c = c, .dry = j->dry_run};
  r.tmdb = (rg_tmdb){.svc = s->tmdb,
                     .url = c->tmdb_url,
                     .key = c->tmdb_api_key,
                     .language = c->tmdb_language,
                     .region = c->tmdb_region,
                     .cancel = &j->cancel};
  r.lib.s = s;
  if (!s->rank) {
    *cause = rg_strdup("the release ladder in the config is invalid");
    return -EINVAL;
  }
  if (!s->app->library) {
    *cause = rg_strdup("the library is off");
    return -EINVAL;
  }
  if (rg_sync_on_loop(s, snap_fn, &r.lib)) {
    *cause = rg_strdup("the daemon is stopping");
    return -ECANCELED;
  }
  rg_sync_log(j, "%s run%s started; %zu library entries", j->name,
              r.dry ? " (dry run: nothing is changed)" : "", r.lib.n);
  int rc;
  switch (j->kind) {
  case RG_JOB_MOVIES:
    rc = run_movies(&r, cause);
    break;
  case RG_JOB_TV:
    rc = run_tv(&r, cause);
    break;
  default:
    rc = run_watchlist(&r, cause);
    break;
  }
  if (!rc && r.changes)
    wait_entries(&r);
  if (!rc && r.changes)
    refresh_servers(&r);
  if (!rc && cancelled(&r)) {
    *cause = rg_strdup("stopped");
    rc = -ECANCELED;
  }
  if (!rc && r.fails && r.fails == r.titles && !r.changes) {
    *cause = rg_printf("every title failed; the first: %s", r.first_fail);
    rc = -EIO;
  }
  free(r.first_fail);
  snap_free(&r.lib);
  return rc;
}
