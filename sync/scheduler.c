/* scheduler.c — the sync module's life cycle, runs and schedules.
 *
 * Per job: a schedule (off, every N minutes, or on some weekdays at a local
 * time), persisted in sync_schedule with the last and next run; a 500 ms
 * tick on the loop thread starts due runs and reaps finished ones. One run
 * per job at a time, each on its own worker thread; a run's row in
 * sync_runs is written when it starts and completed (status, error,
 * summary, log) when it is reaped; the last 100 runs of a job are kept.
 * Stopping sets the job's cancel flag: HTTP transfers and sleeps notice it
 * within ~50 ms and the run ends as "stopped".
 *
 * rg_sync_free (loop thread, the event loop no longer dispatching) cancels
 * every run, wakes workers waiting for the loop, joins them with a bound,
 * and records their runs. A worker that does not end in time is left alone
 * and the state it uses is leaked rather than freed under it. */
#include "config.h"

#include "sync-int.h"

#include "log.h"
#include "util.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define RUNS_KEPT 100

static const char *const job_names[RG_NJOBS] = {"movies", "tv", "watchlist"};
static const char *const day_names[7] = {"mon", "tue", "wed", "thu",
                                         "fri", "sat", "sun"};

int rg_sync_job_index(const char *name) {
  for (int i = 0; i < RG_NJOBS; i++)
    if (!strcmp(name, job_names[i]))
      return i;
  return -1;
}

static sqlite3 *db(rg_sync *s) { return rg_store_db(s->app->store); }

static sqlite3_stmt *prep(rg_sync *s, const char *sql) {
  return rg_db_prep(db(s), "sync", sql);
}

/* ------------------------------------------------------------ schedule */

int64_t rg_sync_next_run(const rg_sync_sched *sc, int64_t last, int64_t now) {
  if (!strcmp(sc->mode, "interval") && sc->interval_min > 0) {
    int64_t next = (last ? last : now) + (int64_t)sc->interval_min * 60;
    return next > now ? next : now + (int64_t)sc->interval_min * 60;
  }
  if (!strcmp(sc->mode, "weekly") && (sc->weekdays & 0x7f)) {
    time_t t = (time_t)now;
    struct tm base;
    localtime_r(&t, &base);
    for (int d = 0; d <= 7; d++) {
      struct tm c = base;
      c.tm_mday += d;
      c.tm_hour = sc->at_min / 60;
      c.tm_min = sc->at_min % 60;
      c.tm_sec = 0;
      c.tm_isdst = -1;
      time_t cand = mktime(&c);
      if (cand <= (time_t)now)
        continue;
      struct tm chk;
      localtime_r(&cand, &chk);
      int wd = (chk.tm_wday + 6) % 7; /* Monday = 0 */
      if (sc->weekdays & (1 << wd))
        return (int64_t)cand;
    }
  }
  return 0;
}

static void sched_save(rg_sync *s, rg_sync_job *j) {
  sqlite3_stmt *st =
      prep(s, "INSERT OR REPLACE INTO sync_schedule(job, mode, interval_min,"
              " weekdays, at_min, dry_run, last_run, next_run)"
              " VALUES(?,?,?,?,?,?,?,?)");
  if (!st)
    return;
  sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, j->sched.mode, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 3, j->sched.interval_min);
  sqlite3_bind_int(st, 4, j->sched.weekdays);
  sqlite3_bind_int(st, 5, j->sched.at_min);
  sqlite3_bind_int(st, 6, j->sched.dry_run);
  sqlite3_bind_int64(st, 7, j->last_run);
  sqlite3_bind_int64(st, 8, j->next_run);
  if (sqlite3_step(st) != SQLITE_DONE)
    rg_error("sync: cannot save the %s schedule: %s", j->name,
             sqlite3_errmsg(db(s)));
  sqlite3_finalize(st);
}

static json_t *sched_json(rg_sync_job *j) {
  json_t *days = json_array();
  for (int d = 0; d < 7; d++)
    if (j->sched.weekdays & (1 << d))
      json_array_append_new(days, json_string(day_names[d]));
  char at[16];
  snprintf(at, sizeof at, "%02d:%02d", j->sched.at_min / 60,
           j->sched.at_min % 60);
  json_t *o =
      json_pack("{s:s, s:o, s:s, s:b}", "mode", j->sched.mode, "weekdays", days,
                "time", at, "dry_run", j->sched.dry_run);
  json_object_set_new(o, "interval_min",
                      j->sched.interval_min
                          ? json_integer(j->sched.interval_min)
                          : json_null());
  json_object_set_new(o, "last_run",
                      j->last_run ? json_integer(j->last_run) : json_null());
  json_object_set_new(o, "next_run",
                      j->next_run ? json_integer(j->next_run) : json_null());
  return o;
}

json_t *rg_sync_schedule_json(rg_sync *s) {
  json_t *o = json_object();
  for (int i = 0; i < RG_NJOBS; i++)
    json_object_set_new(o, job_names[i], sched_json(&s->jobs[i]));
  return o;
}

/* Validates V (one job's object) on top of CUR into OUT. */
static int sched_parse(const char *job, json_t *v, const rg_sync_sched *cur,
                       rg_sync_sched *out, char **cause) {
  *out = *cur;
  if (!json_is_object(v)) {
    *cause = rg_printf("%s: must be an object like {\"mode\": \"interval\", "
                       "\"interval_min\": 360}",
                       job);
    return -EINVAL;
  }
  const char *k;
  json_t *x;
  json_object_foreach(v, k, x) {
    if (!strcmp(k, "mode")) {
      const char *m = json_string_value(x);
      if (!m ||
          (strcmp(m, "off") && strcmp(m, "interval") && strcmp(m, "weekly"))) {
        *cause = rg_printf("%s.mode: must be \"off\", \"interval\" or "
                           "\"weekly\"",
                           job);
        return -EINVAL;
      }
      snprintf(out->mode, sizeof out->mode, "%s", m);
    } else if (!strcmp(k, "interval_min")) {
      if (json_is_null(x)) {
        out->interval_min = 0;
        continue;
      }
      if (!json_is_integer(x) || json_integer_value(x) < 1 ||
          json_integer_value(x) > 525600) {
        *cause = rg_printf("%s.interval_min: must be minutes between 1 and "
                           "525600",
                           job);
        return -EINVAL;
      }
      out->interval_min = (int)json_integer_value(x);
    } else if (!strcmp(k, "weekdays")) {
      int mask = 0;
      size_t i;
      json_t *d;
      if (json_is_string(x) && !strcmp(json_string_value(x), "daily"))
        mask = 0x7f;
      else if (!json_is_array(x))
        goto bad_days;
      json_array_foreach(x, i, d) {
        const char *n = json_string_value(d);
        int bit = -1;
        for (int k2 = 0; n && k2 < 7; k2++)
          if (!strncasecmp(n, day_names[k2], 3) && strlen(n) >= 3)
            bit = k2;
        if (bit < 0)
          goto bad_days;
        mask |= 1 << bit;
      }
      out->weekdays = mask;
      continue;
    bad_days:
      *cause = rg_printf("%s.weekdays: must be a list of day names like "
                         "[\"mon\", \"thu\"], or \"daily\"",
                         job);
      return -EINVAL;
    } else if (!strcmp(k, "time")) {
      const char *t = json_string_value(x);
      int h, m, n = 0;
      if (!t || sscanf(t, "%d:%d%n", &h, &m, &n) != 2 || t[n] || h < 0 ||
          h > 23 || m < 0 || m > 59) {
        *cause = rg_printf("%s.time: must be local time as \"HH:MM\"", job);
        return -EINVAL;
      }
      out->at_min = h * 60 + m;
    } else if (!strcmp(k, "dry_run")) {
      if (!json_is_boolean(x)) {
        *cause = rg_printf("%s.dry_run: must be true or false", job);
        return -EINVAL;
      }
      out->dry_run = json_is_true(x);
    } else if (strcmp(k, "last_run") && strcmp(k, "next_run")) {
      *cause = rg_printf("%s: unknown field '%s' (mode, interval_min, "
                         "weekdays, time, dry_run)",
                         job, k);
      return -EINVAL;
    }
  }
  if (!strcmp(out->mode, "interval") && !out->interval_min) {
    *cause = rg_printf("%s: mode \"interval\" needs interval_min", job);
    return -EINVAL;
  }
  if (!strcmp(out->mode, "weekly") && !out->weekdays) {
    *cause = rg_printf("%s: mode \"weekly\" needs weekdays", job);
    return -EINVAL;
  }
  return 0;
}

int rg_sync_schedule_put(rg_sync *s, json_t *body, char **cause) {
  if (!json_is_object(body)) {
    *cause = rg_strdup("the body must be a JSON object {\"movies\": {…}, "
                       "\"tv\": {…}, \"watchlist\": {…}}");
    return -EINVAL;
  }
  rg_sync_sched next[RG_NJOBS];
  bool set[RG_NJOBS] = {0};
  const char *k;
  json_t *v;
  json_object_foreach(body, k, v) {
    int i = rg_sync_job_index(k);
    if (i < 0) {
      *cause = rg_printf("unknown job '%s' (movies, tv, watchlist)", k);
      return -EINVAL;
    }
    if (sched_parse(k, v, &s->jobs[i].sched, &next[i], cause))
      return -EINVAL;
    set[i] = true;
  }
  int64_t now = rg_wall_s();
  for (int i = 0; i < RG_NJOBS; i++) {
    if (!set[i])
      continue;
    rg_sync_job *j = &s->jobs[i];
    j->sched = next[i];
    /* an interval counts from now: a new schedule is not a catch-up */
    j->next_run = rg_sync_next_run(&j->sched, 0, now);
    sched_save(s, j);
    rg_info("sync %s: schedule %s, next run %lld", j->name, j->sched.mode,
            (long long)j->next_run);
  }
  return 0;
}

static void sched_load(rg_sync *s) {
  sqlite3_stmt *st = prep(s, "SELECT job, mode, interval_min, weekdays,"
                             " at_min, dry_run, last_run, next_run"
                             " FROM sync_schedule");
  while (st && sqlite3_step(st) == SQLITE_ROW) {
    const char *name = (const char *)sqlite3_column_text(st, 0);
    const char *mode = (const char *)sqlite3_column_text(st, 1);
    int i = name ? rg_sync_job_index(name) : -1;
    if (i < 0 || !mode)
      continue;
    rg_sync_job *j = &s->jobs[i];
    snprintf(j->sched.mode, sizeof j->sched.mode, "%s", mode);
    j->sched.interval_min = sqlite3_column_int(st, 2);
    j->sched.weekdays = sqlite3_column_int(st, 3);
    j->sched.at_min = sqlite3_column_int(st, 4);
    j->sched.dry_run = sqlite3_column_int(st, 5) != 0;
    j->last_run = sqlite3_column_int64(st, 6);
    j->next_run = sqlite3_column_int64(st, 7);
    if (strcmp(j->sched.mode, "off") && !j->next_run)
      j->next_run = rg_sync_next_run(&j->sched, j->last_run, rg_wall_s());
  }
  sqlite3_finalize(st);
}

/* ----------------------------------------------------------------- runs */

static void *worker(void *arg) {
  rg_sync_job *j = arg;
  char *cause = NULL;
  int rc = rg_sync_run_job(j, &cause);
  if (rc)
    rg_sync_log(j, "run failed: %s", cause ? cause : "error");
  else
    rg_sync_log(j,
                "run finished: %d added, %d upgraded, %d skipped, %d "
                "failed",
                j->added, j->upgraded, j->skipped, j->failed);
  pthread_mutex_lock(&j->s->lock);
  free(j->error);
  j->error = rc ? (cause ? cause : rg_strdup("error")) : NULL;
  if (!rc)
    free(cause);
  snprintf(j->last_status, sizeof j->last_status, "%s",
           rc == -ECANCELED ? "stopped"
           : rc             ? "failed"
                            : "ok");
  j->running = false; /* the thread is joined by reap() */
  pthread_mutex_unlock(&j->s->lock);
  return NULL;
}

/* Joins a finished worker and completes its run's row (loop thread). */
static void reap(rg_sync *s, rg_sync_job *j) {
  pthread_mutex_lock(&s->lock);
  bool done = j->thread_live && !j->running;
  pthread_mutex_unlock(&s->lock);
  if (!done)
    return;
  pthread_join(j->thread, NULL);
  pthread_mutex_lock(&s->lock);
  j->thread_live = false;
  json_t *sum = json_pack("{s:i, s:i, s:i, s:i, s:O}", "added", j->added,
                          "upgraded", j->upgraded, "skipped", j->skipped,
                          "failed", j->failed, "changes", j->changes);
  char *summary = json_dumps(sum, JSON_COMPACT);
  json_decref(sum);
  char *log = rg_strdup(j->log ? j->log : "");
  char *err = j->error ? rg_strdup(j->error) : NULL;
  char status[12];
  snprintf(status, sizeof status, "%s", j->last_status);
  free(j->last_error);
  j->last_error = err ? rg_strdup(err) : NULL;
  int64_t id = j->run_id;
  pthread_mutex_unlock(&s->lock);
  sqlite3_stmt *st = prep(s, "UPDATE sync_runs SET finished=?, status=?,"
                             " error=?, summary=?, log=? WHERE id=?");
  if (st) {
    sqlite3_bind_int64(st, 1, rg_wall_s());
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    if (err)
      sqlite3_bind_text(st, 3, err, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, summary, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, log, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 6, id);
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  st = prep(s, "DELETE FROM sync_runs WHERE job=? AND id NOT IN (SELECT id"
               " FROM sync_runs WHERE job=? ORDER BY id DESC LIMIT ?)");
  if (st) {
    sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, j->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 3, RUNS_KEPT);
    sqlite3_step(st);
    sqlite3_finalize(st);
  }
  rg_info("sync %s: run %lld %s%s%s", j->name, (long long)id, status,
          err ? ": " : "", err ? err : "");
  free(summary);
  free(log);
  free(err);
}

int rg_sync_start(rg_sync *s, int k, bool dry_run, bool force,
                  const char *trigger, int64_t *run_id, char **cause) {
  rg_sync_job *j = &s->jobs[k];
  reap(s, j);
  pthread_mutex_lock(&s->lock);
  bool busy = j->running || j->thread_live;
  int64_t cur = j->run_id;
  pthread_mutex_unlock(&s->lock);
  if (busy) {
    *cause = rg_printf("the %s job is already running (run %lld)", j->name,
                       (long long)cur);
    return -EBUSY;
  }
  int64_t now = rg_wall_s();
  sqlite3_stmt *st = prep(s, "INSERT INTO sync_runs(job, trigger, dry_run,"
                             " started, status) VALUES(?,?,?,?,'running')");
  if (!st || (sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC),
              sqlite3_bind_text(st, 2, trigger, -1, SQLITE_STATIC),
              sqlite3_bind_int(st, 3, dry_run), sqlite3_bind_int64(st, 4, now),
              sqlite3_step(st) != SQLITE_DONE)) {
    sqlite3_finalize(st);
    *cause = rg_strdup("cannot record the run in the database");
    return -EIO;
  }
  sqlite3_finalize(st);
  pthread_mutex_lock(&s->lock);
  j->run_id = sqlite3_last_insert_rowid(db(s));
  j->started = now;
  j->dry_run = dry_run;
  j->force = force;
  snprintf(j->trigger, sizeof j->trigger, "%s", trigger);
  free(j->log);
  j->log = NULL;
  j->log_len = 0;
  free(j->error);
  j->error = NULL;
  j->added = j->upgraded = j->skipped = j->failed = 0;
  json_decref(j->changes);
  j->changes = json_array();
  atomic_store(&j->cancel, 0);
  j->running = true;
  j->thread_live = true;
  pthread_mutex_unlock(&s->lock);
  *run_id = j->run_id;
  j->last_run = now;
  if (strcmp(j->sched.mode, "off"))
    j->next_run = rg_sync_next_run(&j->sched, now, now);
  sched_save(s, j);
  int e = pthread_create(&j->thread, NULL, worker, j);
  if (e) {
    pthread_mutex_lock(&s->lock);
    j->running = false;
    j->thread_live = false;
    snprintf(j->last_status, sizeof j->last_status, "failed");
    pthread_mutex_unlock(&s->lock);
    *cause = rg_printf("cannot start a thread: %s", strerror(e));
    return -e;
  }
  rg_info("sync %s: run %lld started (%s%s%s)", j->name, (long long)j->run_id,
          trigger, dry_run ? ", dry run" : "", force ? ", forced" : "");
  return 0;
}

int rg_sync_stop(rg_sync *s, int k) {
  rg_sync_job *j = &s->jobs[k];
  pthread_mutex_lock(&s->lock);
  bool running = j->running;
  if (running)
    atomic_store(&j->cancel, 1);
  pthread_mutex_unlock(&s->lock);
  return running ? 0 : -ENOENT;
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd, (void)what;
  rg_sync *s = arg;
  int64_t now = rg_wall_s();
  for (int i = 0; i < RG_NJOBS; i++) {
    rg_sync_job *j = &s->jobs[i];
    reap(s, j);
    if (!strcmp(j->sched.mode, "off") || !j->next_run || j->next_run > now)
      continue;
    int64_t id;
    char *cause = NULL;
    if (rg_sync_start(s, i, j->sched.dry_run, false, "schedule", &id,
                      &cause)) {
      rg_warn("sync %s: scheduled run not started: %s", j->name, cause);
      j->next_run = rg_sync_next_run(&j->sched, now, now);
      sched_save(s, j);
    }
    free(cause);
  }
}

/* --------------------------------------------------------------- views */

static json_t *run_row_json(sqlite3_stmt *st, bool with_log) {
  /* id, job, trigger, dry_run, started, finished, status, error, summary,
   * log */
  json_t *o = json_object();
  json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
  json_object_set_new(o, "job",
                      json_string((const char *)sqlite3_column_text(st, 1)));
  json_object_set_new(o, "trigger",
                      json_string((const char *)sqlite3_column_text(st, 2)));
  json_object_set_new(o, "dry_run", json_boolean(sqlite3_column_int(st, 3)));
  json_object_set_new(o, "started", json_integer(sqlite3_column_int64(st, 4)));
  json_object_set_new(o, "finished",
                      sqlite3_column_type(st, 5) == SQLITE_NULL
                          ? json_null()
                          : json_integer(sqlite3_column_int64(st, 5)));
  json_object_set_new(o, "status",
                      json_string((const char *)sqlite3_column_text(st, 6)));
  const char *err = (const char *)sqlite3_column_text(st, 7);
  json_object_set_new(o, "error", err ? json_string(err) : json_null());
  const char *sum = (const char *)sqlite3_column_text(st, 8);
  json_t *sj = sum ? json_loads(sum, 0, NULL) : NULL;
  json_object_set_new(o, "summary", sj ? sj : json_null());
  if (with_log) {
    const char *log = (const char *)sqlite3_column_text(st, 9);
    json_object_set_new(o, "log", json_string(log ? log : ""));
  }
  return o;
}

json_t *rg_sync_history_json(rg_sync *s, int job, int limit, int64_t id) {
  sqlite3_stmt *st = prep(
      s, "SELECT id, job, trigger, dry_run, started, finished, status, error,"
         " summary, log FROM sync_runs WHERE (?1 = '' OR job = ?1)"
         " AND (?2 = 0 OR id = ?2) ORDER BY id DESC LIMIT ?3");
  json_t *runs = json_array();
  if (!st)
    return runs;
  sqlite3_bind_text(st, 1, job >= 0 ? job_names[job] : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, id);
  sqlite3_bind_int(st, 3, limit);
  while (sqlite3_step(st) == SQLITE_ROW)
    json_array_append_new(runs, run_row_json(st, true));
  sqlite3_finalize(st);
  /* a running run's log lives in memory until it ends */
  size_t i;
  json_t *r;
  json_array_foreach(runs, i, r) {
    if (strcmp(json_string_value(json_object_get(r, "status")), "running"))
      continue;
    int k = rg_sync_job_index(json_string_value(json_object_get(r, "job")));
    if (k < 0)
      continue;
    pthread_mutex_lock(&s->lock);
    if (s->jobs[k].run_id == json_integer_value(json_object_get(r, "id")))
      json_object_set_new(r, "log",
                          json_string(s->jobs[k].log ? s->jobs[k].log : ""));
    pthread_mutex_unlock(&s->lock);
  }
  return runs;
}

static json_t *last_run_json(rg_sync *s, rg_sync_job *j) {
  sqlite3_stmt *st = prep(
      s, "SELECT id, job, trigger, dry_run, started, finished, status, error,"
         " summary, log FROM sync_runs WHERE job=? AND status != 'running'"
         " ORDER BY id DESC LIMIT 1");
  json_t *o = json_null();
  if (!st)
    return o;
  sqlite3_bind_text(st, 1, j->name, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    o = run_row_json(st, false);
  sqlite3_finalize(st);
  return o;
}

static bool set(const char *v) { return v && *v; }

json_t *rg_sync_status_json(rg_sync *s) {
  json_t *jobs = json_object();
  for (int i = 0; i < RG_NJOBS; i++) {
    rg_sync_job *j = &s->jobs[i];
    reap(s, j);
    pthread_mutex_lock(&s->lock);
    json_t *o = json_pack("{s:b}", "running", j->running || j->thread_live);
    if (j->running || j->thread_live) {
      json_t *cur = json_pack(
          "{s:I, s:s, s:b, s:I, s:i, s:i, s:i, s:i, s:b, s:s}", "id",
          (json_int_t)j->run_id, "trigger", j->trigger, "dry_run", j->dry_run,
          "started", (json_int_t)j->started, "added", j->added, "upgraded",
          j->upgraded, "skipped", j->skipped, "failed", j->failed, "stopping",
          atomic_load(&j->cancel) != 0, "log", j->log ? j->log : "");
      json_object_set_new(o, "current", cur);
    } else {
      json_object_set_new(o, "current", json_null());
    }
    pthread_mutex_unlock(&s->lock);
    json_object_set_new(o, "last", last_run_json(s, j));
    json_object_set_new(o, "schedule", sched_json(j));
    json_object_set_new(jobs, j->name, o);
  }
  rg_conf *c = s->app->conf;
  json_t *svc = json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "tmdb",
                          set(c->tmdb_api_key), "prowlarr",
                          set(c->prowlarr_url), "torznab", set(c->torznab_url),
                          "torrentio", set(c->torrentio_url), "plex_watchlist",
                          set(c->plex_token), "plex_refresh", set(c->plex_url),
                          "jellyfin_refresh", set(c->jellyfin_url));
  return json_pack("{s:o, s:o, s:b}", "jobs", jobs, "services", svc,
                   "ladder_ok", s->rank != NULL);
}

/* ------------------------------------------------------------ lifecycle */

int rg_sync_sched_init(rg_sync *s, char **cause) {
  const char *sql =
      "CREATE TABLE IF NOT EXISTS sync_runs(id INTEGER PRIMARY KEY,"
      " job TEXT NOT NULL, trigger TEXT, dry_run INTEGER, started INTEGER,"
      " finished INTEGER, status TEXT, error TEXT, summary TEXT, log TEXT);"
      "CREATE INDEX IF NOT EXISTS sync_runs_job ON sync_runs(job, id);"
      "CREATE TABLE IF NOT EXISTS sync_schedule(job TEXT PRIMARY KEY,"
      " mode TEXT NOT NULL, interval_min INTEGER, weekdays INTEGER,"
      " at_min INTEGER, dry_run INTEGER, last_run INTEGER,"
      " next_run INTEGER);"
      "UPDATE sync_runs SET status='failed', finished=started,"
      " error='the daemon stopped during the run' WHERE status='running';";
  char *err = NULL;
  if (sqlite3_exec(db(s), sql, NULL, NULL, &err) != SQLITE_OK) {
    *cause = rg_printf("sync tables: %s", err ? err : "error");
    sqlite3_free(err);
    return -EIO;
  }
  for (int i = 0; i < RG_NJOBS; i++) {
    rg_sync_job *j = &s->jobs[i];
    j->s = s;
    j->kind = i;
    j->name = job_names[i];
    snprintf(j->sched.mode, sizeof j->sched.mode, "off");
    j->sched.at_min = 3 * 60;
    j->changes = json_array();
  }
  sched_load(s);
  s->tick = event_new(s->app->base, -1, EV_PERSIST, on_tick, s);
  struct timeval tv = {0, 500000};
  event_add(s->tick, &tv);
  return 0;
}

void rg_sync_sched_fini(rg_sync *s) {
  if (s->tick)
    event_free(s->tick);
  s->tick = NULL;
}

static rg_hc_svc *svc(rg_conf *c, const char *name, int min_ms) {
  int rl = c->sync_rate_limit_ms > min_ms ? c->sync_rate_limit_ms : min_ms;
  return rg_hc_svc_new(name, rl, c->sync_http_timeout_s, c->sync_http_retries);
}

rg_sync *rg_sync_new(struct rg_app *app, char **cause) {
  rg_sync *s = rg_calloc(1, sizeof *s);
  s->app = app;
  pthread_mutex_init(&s->lock, NULL);
  rg_conf *c = app->conf;
  s->tmdb = svc(c, "tmdb", 0);
  s->prowlarr = svc(c, "prowlarr", 0);
  s->torznab = svc(c, "torznab", 0);
  s->torrentio = svc(c, "torrentio", 0);
  s->plex = svc(c, "plex", 0);
  s->media = rg_hc_svc_new("media server", 0, c->sync_http_timeout_s, 1);
  s->dl = svc(c, "download link", 0);
  char *why = NULL;
  rg_rank_opts ro = {.ladder = c->sync_ladder,
                     .movie_sizes = c->sync_movie_sizes,
                     .episode_sizes = c->sync_episode_sizes,
                     .reject = c->sync_reject,
                     .languages = c->sync_languages,
                     .min_seeders = c->sync_min_seeders,
                     .min_seeders_watchlist = c->sync_watchlist_min_seeders};
  s->rank = rg_rank_conf_new(&ro, &why);
  if (!s->rank) {
    rg_error("sync: %s; sync runs will fail until the config is fixed", why);
    free(why);
  }
  if (!app->store || rg_sync_jobs_init(s, cause) ||
      rg_sync_sched_init(s, cause)) {
    if (!app->store && !*cause)
      *cause = rg_strdup("no state database");
    rg_sync_free(&s);
    return NULL;
  }
  return s;
}

void rg_sync_free(rg_sync **sp) {
  rg_sync *s = *sp;
  if (!s)
    return;
  *sp = NULL;
  rg_sync_sched_fini(s);
  for (int i = 0; i < RG_NJOBS; i++)
    atomic_store(&s->jobs[i].cancel, 1);
  atomic_store(&s->closing, 1);
  rg_sync_wake_all();
  bool stuck = false;
  int64_t until = rg_now_ms() + 5000;
  for (int i = 0; i < RG_NJOBS; i++) {
    rg_sync_job *j = &s->jobs[i];
    for (;;) {
      pthread_mutex_lock(&s->lock);
      bool live = j->thread_live, running = j->running;
      pthread_mutex_unlock(&s->lock);
      if (!live)
        break;
      if (!running) {
        reap(s, j);
        break;
      }
      if (rg_now_ms() > until) {
        rg_error("sync %s: the run did not stop in 5 s; left running", j->name);
        stuck = true;
        break;
      }
      rg_hc_sleep(20, NULL);
    }
  }
  rg_sync_jobs_fini(s);
  if (stuck)
    return; /* a worker still uses S: leak it rather than free it */
  for (int i = 0; i < RG_NJOBS; i++) {
    rg_sync_job *j = &s->jobs[i];
    free(j->log);
    free(j->error);
    free(j->last_error);
    json_decref(j->changes);
  }
  rg_rank_conf_free(&s->rank);
  rg_hc_svc_free(&s->tmdb);
  rg_hc_svc_free(&s->prowlarr);
  rg_hc_svc_free(&s->torznab);
  rg_hc_svc_free(&s->torrentio);
  rg_hc_svc_free(&s->plex);
  rg_hc_svc_free(&s->media);
  rg_hc_svc_free(&s->dl);
  pthread_mutex_destroy(&s->lock);
  free(s);
}
