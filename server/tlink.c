/* tlink.c — adding torrents by link for the native and the TorrServer API.
 *
 * A .torrent URL is fetched by libcurl on a detached thread of its own (one
 * per request; the fetch is bounded: 10 MiB, 20 s in all, 5 redirects), so
 * the loop never waits on another server. The thread only touches the job's
 * fetch fields; when it ends it hands the job back to the loop with
 * rg_loop_call, where the torrent is added and the request answered. A
 * client that leaves meanwhile is noticed by the connection's close
 * callback: the job is then marked gone and only freed when the thread is
 * done. Redirects are followed by hand so that one to a magnet link can be
 * caught. URLs in messages lose their query string: indexers put their API
 * keys there.
 *
 * The URLs added in the last 10 minutes are remembered with their info hash
 * (loop thread only): a player asking for /stream?link=URL&play sends the
 * same URL for every seek, and fetching it each time would stall playback. */
#include "config.h"

#include "tlink.h"

#include "http-client.h"
#include "log.h"
#include "loop.h"
#include "magnet.h"
#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_TORRENT_FILE (10 << 20)
#define FETCH_TIMEOUT_MS 20000
#define MAX_REDIRECTS 5
#define SEEN_N 32
#define SEEN_TTL_MS (10 * 60 * 1000)
#define MAX_FETCHES 16   /* fetch threads at once */
#define STOP_WAIT_MS 3000 /* how long shutdown waits for them */

/* Live fetch threads, and the shutdown flag their transfers watch: libcurl
 * must be idle before curl_global_cleanup. */
static pthread_mutex_t fetch_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fetch_cv = PTHREAD_COND_INITIALIZER;
static int fetches;
static atomic_bool fetch_stop;

bool rg_tlink_is_url(const char *link) {
  return link && (strncasecmp(link, "http://", 7) == 0 ||
                  strncasecmp(link, "https://", 8) == 0);
}

int rg_tlink_add(rg_app *app, const char *link, const char *title,
                 rg_torrent **out, bool *existed, int *status, char **cause) {
  rg_magnet m = {0};
  *cause = NULL;
  if (!link || rg_magnet_parse(link, &m, cause) != 0) {
    *status = 400;
    if (!*cause)
      *cause = rg_strdup("missing link: send a magnet link, an info hash or "
                         "a .torrent URL");
    return -EINVAL;
  }
  bool is_magnet = strncmp(link, "magnet:", 7) == 0;
  char *made =
      is_magnet ? NULL : rg_magnet_format(m.ih, NULL, NULL, 0, NULL, 0);
  int rc = rg_tm_add_magnet(app->tm, &m, is_magnet ? link : made, title, out,
                            existed, cause);
  free(made);
  rg_magnet_clear(&m);
  if (rc) {
    *status = 500;
    if (!*cause)
      *cause = rg_strdup("cannot add the torrent");
    return rc;
  }
  /* players repeat the same link on every seek: only a new one is news */
  if (*existed)
    rg_debug("%s: added by %s (already known)", rg_torrent_hex(*out),
             is_magnet ? "magnet" : "info hash");
  else
    rg_info("%s: added by %s", rg_torrent_hex(*out),
            is_magnet ? "magnet" : "info hash");
  return 0;
}

/* ---------------------------------------------------- remembered URLs -- */

static struct {
  char *url;
  char hash[41];
  int64_t at_ms;
} seen[SEEN_N];
static unsigned seen_next;

static rg_torrent *seen_find(rg_app *app, const char *url) {
  int64_t now = rg_now_ms();
  for (int i = 0; i < SEEN_N; i++)
    if (seen[i].url && now - seen[i].at_ms < SEEN_TTL_MS &&
        strcmp(seen[i].url, url) == 0)
      return rg_tm_find(app->tm, seen[i].hash);
  return NULL;
}

static void seen_put(const char *url, rg_torrent *t) {
  int slot = -1;
  for (int i = 0; i < SEEN_N && slot < 0; i++)
    if (seen[i].url && strcmp(seen[i].url, url) == 0)
      slot = i;
  if (slot < 0) {
    slot = (int)(seen_next++ % SEEN_N);
    free(seen[slot].url);
    seen[slot].url = rg_strdup(url);
  }
  memcpy(seen[slot].hash, rg_torrent_hex(t), 41);
  seen[slot].at_ms = rg_now_ms();
}

void rg_tlink_cleanup(void) {
  atomic_store(&fetch_stop, true);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += STOP_WAIT_MS / 1000;
  pthread_mutex_lock(&fetch_mu);
  while (fetches > 0 &&
         pthread_cond_timedwait(&fetch_cv, &fetch_mu, &until) == 0)
    ;
  if (fetches > 0)
    rg_warn("%d .torrent fetch%s still running at shutdown", fetches,
            fetches == 1 ? "" : "es");
  pthread_mutex_unlock(&fetch_mu);
  for (int i = 0; i < SEEN_N; i++) {
    free(seen[i].url);
    seen[i].url = NULL;
  }
}

/* -------------------------------------------------------------- fetch -- */

struct job {
  /* loop thread */
  rg_app *app;
  struct evhttp_request *req;
  struct evhttp_connection *evcon; /* NULL once the client left */
  bool gone;
  char *title;
  rg_tlink_done done;
  void *arg;
  void (*free_arg)(void *);
  /* set before the thread starts, read by both */
  char *url;
  char *shown; /* URL without its query, for messages */
  /* the fetch thread, until it hands the job back */
  rg_body body; /* max MAX_TORRENT_FILE */
  char *magnet; /* a redirect to a magnet link */
  int status;   /* an HTTP status for ERROR */
  char *error;
};

static void job_free(struct job *j) {
  if (j->free_arg)
    j->free_arg(j->arg);
  free(j->title);
  free(j->url);
  free(j->shown);
  free(j->body.p);
  free(j->magnet);
  free(j->error);
  free(j);
}

static void on_client_close(struct evhttp_connection *evcon, void *arg) {
  struct job *j = arg;
  struct evhttp_request *req = j->req;
  bool detached = evhttp_request_get_connection(req) == NULL;
  rg_debug("the client left while %s was being fetched", j->shown);
  j->evcon = NULL;
  j->gone = true;
  if (detached) /* libevent left the request to us: finishing it frees it */
    evhttp_send_reply(req, 500, "Gone", NULL);
}

static void fail(struct job *j, int status, char *msg) {
  j->status = status;
  j->error = msg;
}

/* One GET of URL with what is left of the time budget: 0 when an answer
 * came (*CODE), or -1 with the job's error set. */
/* Aborts the transfer once the daemon is stopping. */
static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  (void)arg, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
  return atomic_load(&fetch_stop) ? 1 : 0;
}

static int get_once(struct job *j, CURL *c, const char *url, int64_t left_ms,
                    long *code) {
  free(j->body.p);
  j->body = (rg_body){.max = MAX_TORRENT_FILE};
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(left_ms < 10000 ? left_ms : 10000));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)MAX_TORRENT_FILE);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "reelgate/" PACKAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rg_body_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &j->body);
  CURLcode rc = curl_easy_perform(c);
  switch (rc) {
  case CURLE_OK:
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
    return 0;
  case CURLE_OPERATION_TIMEDOUT:
    fail(j, 504,
         rg_printf("%s: no .torrent within %d s", j->shown,
                   FETCH_TIMEOUT_MS / 1000));
    return -1;
  case CURLE_FILESIZE_EXCEEDED:
    j->body.over = true;
    break;
  case CURLE_URL_MALFORMAT:
  case CURLE_UNSUPPORTED_PROTOCOL:
    fail(j, 400,
         rg_printf("cannot fetch %s: %s", j->shown, curl_easy_strerror(rc)));
    return -1;
  default:
    break;
  }
  if (j->body.over)
    fail(j, 413,
         rg_printf("%s: larger than %d MiB, not a .torrent file", j->shown,
                   MAX_TORRENT_FILE >> 20));
  else
    fail(j, 502,
         rg_printf("cannot fetch %s: %s", j->shown, curl_easy_strerror(rc)));
  return -1;
}

static void job_finish(void *arg);

static void *fetch_thread(void *arg) {
  struct job *j = arg;
  int64_t deadline = rg_now_ms() + FETCH_TIMEOUT_MS;
  char *url = rg_strdup(j->url);
  CURL *c = curl_easy_init();
  if (!c)
    fail(j, 503, rg_strdup("cannot start libcurl"));
  for (int hop = 0; c; hop++) {
    int64_t left = deadline - rg_now_ms();
    long code = 0;
    if (left <= 0) {
      fail(j, 504,
           rg_printf("%s: no .torrent within %d s", j->shown,
                     FETCH_TIMEOUT_MS / 1000));
      break;
    }
    if (get_once(j, c, url, left, &code) != 0)
      break;
    if (code >= 300 && code < 400) {
      char *loc = NULL;
      curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
      if (!loc) {
        fail(j, 502,
             rg_printf("%s answered %ld without a Location", j->shown, code));
      } else if (strncasecmp(loc, "magnet:", 7) == 0) {
        j->magnet = rg_strdup(loc);
      } else if (hop == MAX_REDIRECTS) {
        fail(j, 502,
             rg_printf("%s: more than %d redirects", j->shown, MAX_REDIRECTS));
      } else {
        free(url);
        url = rg_strdup(loc);
        continue;
      }
      break;
    }
    if (code < 200 || code >= 300)
      fail(j, 502, rg_printf("%s answered HTTP %ld", j->shown, code));
    break;
  }
  curl_easy_cleanup(c);
  free(url);
  if (rg_loop_call(job_finish, j) != 0)
    job_free(j); /* the daemon is stopping; the request goes with it */
  pthread_mutex_lock(&fetch_mu);
  fetches--;
  pthread_cond_broadcast(&fetch_cv);
  pthread_mutex_unlock(&fetch_mu);
  return NULL;
}

/* Loop thread: adds what the fetch brought and answers. */
static void job_finish(void *arg) {
  struct job *j = arg;
  if (j->gone) {
    job_free(j);
    return;
  }
  if (j->evcon)
    evhttp_connection_set_closecb(j->evcon, NULL, NULL);
  rg_torrent *t = NULL;
  bool existed = false;
  char *cause = NULL;
  int status = j->status;
  if (j->error) {
    rg_http_error(j->req, status, "%s", j->error);
  } else if (j->magnet) {
    if (rg_tlink_add(j->app, j->magnet, j->title, &t, &existed, &status,
                     &cause) != 0)
      rg_http_error(j->req, status,
                    "%s redirected to a magnet link that "
                    "cannot be added: %s",
                    j->shown, cause);
  } else if (rg_tm_add_torrent_file(j->app->tm, (const uint8_t *)j->body.p,
                                    j->body.len, j->title, &t,
                                    &existed, &cause) != 0) {
    rg_http_error(j->req, 400, "%s did not serve a .torrent file: %s", j->shown,
                  cause ? cause : "unparsable");
  } else {
    rg_info("%s: added from %s%s", rg_torrent_hex(t), j->shown,
            existed ? " (already known)" : "");
  }
  free(cause);
  if (t) {
    seen_put(j->url, t);
    j->done(j->app, j->req, t, existed, j->arg);
  }
  job_free(j);
}

void rg_tlink_fetch(rg_app *app, struct evhttp_request *req, const char *url,
                    const char *title, rg_tlink_done done, void *arg,
                    void (*free_arg)(void *)) {
  rg_torrent *t = seen_find(app, url);
  if (t) {
    done(app, req, t, true, arg);
    if (free_arg)
      free_arg(arg);
    return;
  }
  pthread_mutex_lock(&fetch_mu);
  bool busy = fetches >= MAX_FETCHES || atomic_load(&fetch_stop);
  if (!busy)
    fetches++;
  pthread_mutex_unlock(&fetch_mu);
  if (busy) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "5");
    rg_http_error(req, 503, "%d .torrent fetches are running; try again",
                  MAX_FETCHES);
    if (free_arg)
      free_arg(arg);
    return;
  }
  struct job *j = rg_calloc(1, sizeof *j);
  j->app = app;
  j->req = req;
  j->title = title ? rg_strdup(title) : NULL;
  j->done = done;
  j->arg = arg;
  j->free_arg = free_arg;
  j->url = rg_strdup(url);
  j->shown = rg_hc_redact(url);
  /* before the thread exists: it may hand the job back at any time */
  j->evcon = evhttp_request_get_connection(req);
  if (j->evcon)
    evhttp_connection_set_closecb(j->evcon, on_client_close, j);
  pthread_t th;
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  if (pthread_create(&th, &at, fetch_thread, j) != 0) {
    if (j->evcon)
      evhttp_connection_set_closecb(j->evcon, NULL, NULL);
    rg_http_error(req, 503, "cannot start a fetch of %s", j->shown);
    job_free(j);
    pthread_mutex_lock(&fetch_mu);
    fetches--;
    pthread_mutex_unlock(&fetch_mu);
  }
  pthread_attr_destroy(&at);
}
