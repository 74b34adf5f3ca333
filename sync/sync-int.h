/* sync-int.h — what jobs.c, scheduler.c and api-sync.c share.
 *
 * Threads: the rg_sync struct and its jobs' schedules belong to the loop
 * thread. A run executes on its own worker thread; what the API reads while
 * it runs (state, counters, the log) sits under S->LOCK. The worker reaches
 * daemon state (SQLite, the torrent manager, the library) only through
 * rg_sync_on_loop, which runs a function on the loop thread and waits. */
#ifndef RG_SYNC_INT_H
#define RG_SYNC_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clients.h"
#include "http-client.h"
#include "http.h"
#include "rank.h"
#include "sync.h"

enum { RG_JOB_MOVIES = 0, RG_JOB_TV, RG_JOB_WATCHLIST, RG_NJOBS };

#define RG_SYNC_LOG_MAX (256 << 10)

typedef struct rg_sync_sched {
  char mode[12];    /* "off", "interval", "weekly" */
  int interval_min; /* interval */
  int weekdays;     /* weekly: bit 0 = Monday … bit 6 = Sunday */
  int at_min;       /* weekly: minutes after local midnight */
  bool dry_run;     /* scheduled runs are dry runs */
} rg_sync_sched;

typedef struct rg_sync_job {
  struct rg_sync *s;
  int kind;
  const char *name;
  /* loop thread */
  rg_sync_sched sched;
  int64_t last_run, next_run; /* wall seconds, 0 = never / not planned */
  /* under s->lock */
  bool running;
  bool thread_live; /* a worker thread exists (joined by the loop) */
  pthread_t thread;
  atomic_int cancel;
  int64_t run_id, started;
  bool dry_run;
  bool force; /* upgrade searches ignore sync_upgrade_recheck_h */
  char trigger[12];
  char *log;
  size_t log_len;
  char *error; /* why the run failed */
  int added, upgraded, skipped, failed;
  json_t *changes; /* [{action, title, …}] */
  char last_status[12];
  char *last_error;
} rg_sync_job;

struct rg_sync {
  rg_app *app;
  pthread_mutex_t lock;
  atomic_int closing;
  rg_sync_job jobs[RG_NJOBS];
  struct event *tick;
  rg_rank_conf *rank;
  rg_hc_svc *tmdb, *prowlarr, *torznab, *torrentio, *plex, *media, *dl;
  bool hooked;
};

/* ---- jobs.c ---- */
/* The run of JOB on its worker thread: fills the job's log, counters and
 * changes; returns 0, or -errno with *cause (the run failed). */
int rg_sync_run_job(rg_sync_job *j, char **cause);
/* Appends a line to the run's log (worker thread or loop). */
void rg_sync_log(rg_sync_job *j, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Runs FN(ARG) on the loop thread and waits. 0, or -ECANCELED when the
 * daemon is stopping (FN then may never run). */
int rg_sync_on_loop(rg_sync *s, void (*fn)(void *), void *arg);
/* Wakes workers waiting in rg_sync_on_loop (the daemon is stopping). */
void rg_sync_wake_all(void);
/* Tables, hooks and pending entries of torrents whose metadata is known. */
int rg_sync_jobs_init(rg_sync *s, char **cause);
void rg_sync_jobs_fini(rg_sync *s);

/* ---- scheduler.c ---- */
int rg_sync_sched_init(rg_sync *s, char **cause);
void rg_sync_sched_fini(rg_sync *s);
/* Starts a run (loop thread); FORCE: search items for upgrades even when
 * searched less than sync_upgrade_recheck_h ago. 0, -EBUSY (already
 * running), -EIO. */
int rg_sync_start(rg_sync *s, int job, bool dry_run, bool force,
                  const char *trigger, int64_t *run_id, char **cause);
int rg_sync_stop(rg_sync *s, int job);
int rg_sync_job_index(const char *name);
/* JSON views (loop thread). */
json_t *rg_sync_status_json(rg_sync *s);
json_t *rg_sync_schedule_json(rg_sync *s);
/* Applies {job: {mode, interval_min, weekdays, time, dry_run}} (merge). */
int rg_sync_schedule_put(rg_sync *s, json_t *body, char **cause);
json_t *rg_sync_history_json(rg_sync *s, int job, int limit, int64_t id);
/* Next run after NOW for SCHED (0 = none). */
int64_t rg_sync_next_run(const rg_sync_sched *sched, int64_t last, int64_t now);

#endif
