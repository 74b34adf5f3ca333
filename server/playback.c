/* playback.c — webhooks in, priority mode out.
 *
 * A parsed webhook event (webhook.c) is matched to one library entry, in
 * this order of trust: an IMDb id, a TMDB id, the file path the media
 * server reports (after the configured path mappings; an entry matches when
 * its virtual path "movies/…" or "tv/…" is a suffix of that path, so any
 * mount prefix works), then title + year for movies and show + season +
 * episode for episodes. TVDB ids are kept in the event but library entries
 * carry none, so they decide nothing yet.
 *
 * Sessions: one per player (the server's player/session id; else client,
 * user and device; else the torrent). play/resume/progress/pause/scrobble
 * create or refresh a session, stop ends it (the player's own, or failing
 * that every session of that title on that server). A torrent is "playing"
 * in the torrent manager while any session holds it; several titles share
 * the priority. A pause keeps the priority (the player comes back and wants
 * its buffer). A session that hears nothing for playback_safety_timeout_s
 * ends by itself: Plex sends no progress events, so for Plex that is the
 * time since play/pause/resume.
 *
 * The last 100 events (accepted, ignored, unmatched, rejected — not the
 * unauthenticated ones) are kept in memory and in the webhook_events table,
 * so they survive a restart. Sessions do not: after a restart nothing plays
 * until the next event.
 *
 * The webhook token is a secret: it is never logged; only the API (behind
 * the API key) shows it. Loop thread only. */
#include "config.h"

#include "playback.h"

#include "http.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_EVENTS 100

typedef struct session {
  struct session *next;
  char *key;
  rg_wh_server server;
  int64_t entry_id;
  char hash[41];
  int file_index;
  char kind[8];
  char *entry_path, *title;
  int year, season, episode;
  char *client, *user, *device;
  bool paused;
  int64_t position_ms;
  int64_t since, updated; /* wall seconds */
  int64_t deadline_ms;    /* monotonic: the safety timeout */
} session;

struct rg_playback {
  rg_app *app;
  char *token;
  char *mappings;
  int grace_s, safety_s;
  struct event *timer;
  session *sessions;
  json_t *events[MAX_EVENTS]; /* ring, oldest at head */
  int nevents, head;
  int64_t seq;
};

/* ------------------------------------------------------------ matching -- */

char *rg_playback_map_path(const char *mappings, const char *path) {
  char *p = rg_strdup(path);
  for (char *c = p; *c; c++)
    if (*c == '\\')
      *c = '/';
  if (!mappings || !*mappings)
    return p;
  char *m = rg_strdup(mappings);
  char *save = NULL;
  for (char *tok = strtok_r(m, ";\n", &save); tok;
       tok = strtok_r(NULL, ";\n", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq || eq == tok)
      continue;
    *eq = 0;
    const char *to = eq + 1;
    for (char *c = tok; *c; c++)
      if (*c == '\\')
        *c = '/';
    size_t fl = strlen(tok);
    while (fl > 1 && tok[fl - 1] == '/')
      tok[--fl] = 0;
    /* a prefix at a component boundary */
    if (strncmp(p, tok, fl) == 0 &&
        (p[fl] == 0 || p[fl] == '/' || tok[fl - 1] == '/')) {
      size_t tl = strlen(to);
      while (tl > 1 && to[tl - 1] == '/')
        tl--;
      char *r = rg_printf("%.*s%s", (int)tl, to, p + fl);
      free(p);
      p = r;
      break;
    }
  }
  free(m);
  return p;
}

/* Lowercase ASCII letters and digits (UTF-8 kept as is), "&" as "and":
 * "Big Trouble in Little China" == "big trouble in little china!". */
static void norm(const char *s, char *out, size_t len) {
  size_t o = 0;
  for (; s && *s && o + 4 < len; s++) {
    unsigned char c = (unsigned char)*s;
    if (c >= 0x80 || isalnum(c))
      out[o++] = (char)tolower(c);
    else if (c == '&') {
      memcpy(out + o, "and", 3);
      o += 3;
    }
  }
  out[o] = 0;
}

static bool same_title(const char *a, const char *b) {
  char na[256], nb[256];
  norm(a, na, sizeof na);
  norm(b, nb, sizeof nb);
  return na[0] && strcmp(na, nb) == 0;
}

static bool is_episode(const rg_lib_entry *e) {
  return strcmp(e->kind, "episode") == 0;
}

static bool ev_episodic(const rg_wh_event *ev) {
  return strcmp(ev->media_type, "episode") == 0 ||
         (ev->season >= 0 && ev->episode >= 0 && ev->show);
}

/* An id matched: does the entry's season/episode agree (a show-level id on
 * an episode entry names every episode of the show)? */
static bool se_ok(const rg_lib_entry *e, const rg_wh_event *ev) {
  if (!is_episode(e) || ev->season < 0 || ev->episode < 0)
    return true;
  return e->season == ev->season && e->episode == ev->episode;
}

static bool path_ok(const rg_lib_entry *e, const char *mapped) {
  if (!mapped || !e->path || !*e->path)
    return false;
  size_t pl = strlen(mapped), el = strlen(e->path);
  if (pl < el || strcasecmp(mapped + pl - el, e->path) != 0)
    return false;
  return pl == el || mapped[pl - el - 1] == '/';
}

int rg_playback_score(const rg_lib_entry *e, const rg_wh_event *ev,
                      const char *mapped, const char **rule) {
  *rule = NULL;
  if (e->imdb_id)
    for (int i = 0; i < ev->nimdb; i++)
      if (strcasecmp(e->imdb_id, ev->imdb[i]) == 0 && se_ok(e, ev)) {
        *rule = "imdb";
        return 100 - i;
      }
  /* TMDB movie and TV ids share numbers: the kinds must agree */
  bool kinds_agree =
      is_episode(e) ? !ev->media_type[0] || ev_episodic(ev)
                    : !ev_episodic(ev) && strcmp(ev->media_type, "show") != 0;
  if (e->tmdb_id && kinds_agree)
    for (int i = 0; i < ev->ntmdb; i++)
      if (e->tmdb_id == ev->tmdb[i] && se_ok(e, ev)) {
        *rule = "tmdb";
        return 90 - i;
      }
  if (path_ok(e, mapped)) {
    *rule = "path";
    return 70;
  }
  if (is_episode(e)) {
    if (ev->season != e->season || ev->episode != e->episode || !ev->show ||
        !same_title(e->title, ev->show))
      return 0;
    if (ev->show_year && e->year && ev->show_year != e->year)
      return 0;
    *rule = "episode";
    return ev->show_year && e->year ? 50 : 45;
  }
  if (ev_episodic(ev) || !ev->title || !same_title(e->title, ev->title))
    return 0;
  *rule = "title";
  if (!ev->year || !e->year)
    return 45;
  if (ev->year == e->year)
    return 50;
  if (abs(ev->year - e->year) == 1) /* release vs premiere year */
    return 40;
  *rule = NULL;
  return 0;
}

typedef struct match_ctx {
  const rg_wh_event *ev;
  const char *mapped;
  int best;
  int64_t id;
  const char *rule;
} match_ctx;

static void match_one(const rg_lib_entry *e, void *arg) {
  match_ctx *m = arg;
  const char *rule;
  int s = rg_playback_score(e, m->ev, m->mapped, &rule);
  if (s > m->best) {
    m->best = s;
    m->id = e->id;
    m->rule = rule;
  }
}

/* What an unmatched event offered, for the log and the reply. */
static char *unmatched_reason(const rg_wh_event *ev, const char *mapped) {
  char ids[160] = "";
  size_t o = 0;
  for (int i = 0; i < ev->nimdb && o < sizeof ids - 40; i++)
    o += (size_t)snprintf(ids + o, sizeof ids - o, "%simdb %s", o ? ", " : "",
                          ev->imdb[i]);
  for (int i = 0; i < ev->ntmdb && o < sizeof ids - 40; i++)
    o += (size_t)snprintf(ids + o, sizeof ids - o, "%stmdb %lld", o ? ", " : "",
                          (long long)ev->tmdb[i]);
  for (int i = 0; i < ev->ntvdb && o < sizeof ids - 40; i++)
    o += (size_t)snprintf(ids + o, sizeof ids - o, "%stvdb %lld", o ? ", " : "",
                          (long long)ev->tvdb[i]);
  char what[300];
  if (ev_episodic(ev))
    snprintf(what, sizeof what, "show \"%.100s\" S%02dE%02d",
             ev->show ? ev->show : "?", ev->season, ev->episode);
  else
    snprintf(what, sizeof what, "title \"%.100s\" (%d)",
             ev->title ? ev->title : "?", ev->year);
  return rg_printf("no library entry matches (tried %s%s%s%s%s)",
                   *ids ? ids : "no ids", mapped ? ", path " : "",
                   mapped ? mapped : "", ", ", what);
}

/* ------------------------------------------------------------ sessions -- */

static void session_free(session *s) {
  free(s->key);
  free(s->entry_path);
  free(s->title);
  free(s->client);
  free(s->user);
  free(s->device);
  free(s);
}

static void reschedule(rg_playback *pb);

/* Tells the torrent manager whether HASH is still played by anyone. */
static void sync_torrent(rg_playback *pb, const char *hash) {
  bool playing = false;
  for (session *s = pb->sessions; s; s = s->next)
    if (strcmp(s->hash, hash) == 0)
      playing = true;
  rg_torrent *t = pb->app->tm ? rg_tm_find(pb->app->tm, hash) : NULL;
  if (t && rg_torrent_playing(t) != playing)
    rg_tm_set_playing(pb->app->tm, t, playing, pb->grace_s);
}

/* Unlinks and frees S, then syncs its torrent. */
static void session_end(rg_playback *pb, session *s, const char *why) {
  for (session **pp = &pb->sessions; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  char hash[41];
  memcpy(hash, s->hash, sizeof hash);
  rg_info("%s stops on %s (%s)", s->title ? s->title : hash,
          s->client ? s->client : "a player", why);
  session_free(s);
  sync_torrent(pb, hash);
}

static char *session_key(const rg_wh_event *ev, const char *hash) {
  const char *sv = rg_wh_server_name(ev->server);
  if (ev->session)
    return rg_printf("%s:%s", sv, ev->session);
  if (ev->client || ev->user || ev->device)
    return rg_printf("%s:%s/%s/%s", sv, ev->client ? ev->client : "",
                     ev->user ? ev->user : "", ev->device ? ev->device : "");
  return rg_printf("%s:%s", sv, hash);
}

static session *session_find(rg_playback *pb, const char *key) {
  for (session *s = pb->sessions; s; s = s->next)
    if (strcmp(s->key, key) == 0)
      return s;
  return NULL;
}

static void set_str(char **dst, const char *src) {
  if (!src)
    return;
  free(*dst);
  *dst = rg_strdup(src);
}

/* Applies a matched event. */
static void session_apply(rg_playback *pb, const rg_wh_event *ev,
                          const rg_lib_entry *e) {
  char *key = session_key(ev, e->hash);
  session *s = session_find(pb, key);
  if (ev->kind == RG_WH_STOP) {
    free(key);
    if (s && strcmp(s->hash, e->hash) == 0) {
      session_end(pb, s, "stop");
    } else {
      /* a stop from a template without the player's id: every session of
       * that title on that server */
      session *n;
      for (s = pb->sessions; s; s = n) {
        n = s->next;
        if (strcmp(s->hash, e->hash) == 0 && s->server == ev->server)
          session_end(pb, s, "stop");
      }
    }
    reschedule(pb);
    return;
  }
  if (s && (strcmp(s->hash, e->hash) != 0 || s->file_index != e->file_index ||
            s->entry_id != e->id)) {
    /* the same player moved on to another title without a stop */
    session_end(pb, s, "the player started another title");
    s = NULL;
  }
  int64_t now = rg_wall_s();
  if (!s) {
    s = rg_calloc(1, sizeof *s);
    s->key = key;
    key = NULL;
    s->server = ev->server;
    s->entry_id = e->id;
    memcpy(s->hash, e->hash, sizeof s->hash);
    s->file_index = e->file_index;
    snprintf(s->kind, sizeof s->kind, "%s", e->kind);
    s->entry_path = rg_strdup(e->path ? e->path : "");
    s->title = rg_strdup(e->title ? e->title : "");
    s->year = e->year;
    s->season = e->season;
    s->episode = e->episode;
    s->since = now;
    s->position_ms = -1;
    s->next = pb->sessions;
    pb->sessions = s;
    rg_info("%s plays on %s: priority mode", s->title,
            ev->client ? ev->client : "a player");
  }
  free(key);
  set_str(&s->client, ev->client);
  set_str(&s->user, ev->user);
  set_str(&s->device, ev->device);
  if (ev->kind == RG_WH_PAUSE)
    s->paused = true;
  else if (ev->kind == RG_WH_PLAY || ev->kind == RG_WH_RESUME ||
           ev->kind == RG_WH_PROGRESS)
    s->paused = false;
  if (ev->position_ms >= 0)
    s->position_ms = ev->position_ms;
  s->updated = now;
  s->deadline_ms = rg_now_ms() + (int64_t)pb->safety_s * 1000;
  sync_torrent(pb, s->hash);
  reschedule(pb);
}

/* -------------------------------------------------------------- events -- */

static void events_persist(rg_playback *pb, json_t *rec) {
  sqlite3 *db = pb->app->store ? rg_store_db(pb->app->store) : NULL;
  if (!db)
    return;
  char *text = json_dumps(rec, JSON_COMPACT);
  sqlite3_stmt *st = NULL;
  if (text &&
      sqlite3_prepare_v2(db, "INSERT INTO webhook_events(json) VALUES(?)", -1,
                         &st, NULL) == SQLITE_OK) {
    sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(st) != SQLITE_DONE)
      rg_warn("webhook events: cannot store: %s", sqlite3_errmsg(db));
  }
  sqlite3_finalize(st);
  free(text);
  sqlite3_exec(db,
               "DELETE FROM webhook_events WHERE id <= "
               "(SELECT max(id) FROM webhook_events) - 100",
               NULL, NULL, NULL);
}

/* Adds REC (stolen) to the ring: "id" and "time" are set here. */
static void events_push(rg_playback *pb, json_t *rec, bool persist) {
  if (!json_object_get(rec, "id"))
    json_object_set_new(rec, "id", json_integer(++pb->seq));
  if (!json_object_get(rec, "time"))
    json_object_set_new(rec, "time", json_integer(rg_wall_s()));
  if (persist)
    events_persist(pb, rec);
  if (pb->nevents < MAX_EVENTS) {
    pb->events[(pb->head + pb->nevents++) % MAX_EVENTS] = rec;
  } else {
    json_decref(pb->events[pb->head]);
    pb->events[pb->head] = rec;
    pb->head = (pb->head + 1) % MAX_EVENTS;
  }
}

static void events_load(rg_playback *pb) {
  sqlite3 *db = pb->app->store ? rg_store_db(pb->app->store) : NULL;
  if (!db)
    return;
  char *err = NULL;
  if (sqlite3_exec(db,
                   "CREATE TABLE IF NOT EXISTS webhook_events("
                   "id INTEGER PRIMARY KEY AUTOINCREMENT, json TEXT NOT NULL)",
                   NULL, NULL, &err) != SQLITE_OK) {
    rg_warn("webhook events are not kept across restarts: %s",
            err ? err : "sqlite error");
    sqlite3_free(err);
    return;
  }
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, json FROM (SELECT id, json FROM "
                         "webhook_events ORDER BY id DESC LIMIT 100) "
                         "ORDER BY id",
                         -1, &st, NULL) != SQLITE_OK)
    return;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(st, 1);
    json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(rec)) {
      json_decref(rec);
      continue;
    }
    int64_t id = sqlite3_column_int64(st, 0);
    json_object_set_new(rec, "id", json_integer(id));
    if (id > pb->seq)
      pb->seq = id;
    events_push(pb, rec, false);
  }
  sqlite3_finalize(st);
}

/* ---------------------------------------------------------------- timer -- */

static void on_timer(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rg_playback *pb = arg;
  int64_t now = rg_now_ms();
  session *n;
  for (session *s = pb->sessions; s; s = n) {
    n = s->next;
    if (s->deadline_ms > now)
      continue;
    json_t *rec =
        json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s}", "result", "expired",
                  "kind", "stop", "server", rg_wh_server_name(s->server),
                  "title", s->title, "client", s->client, "reason", "");
    char *why = rg_printf("no event for %d s (playback_safety_timeout_s)",
                          pb->safety_s);
    json_object_set_new(rec, "reason", json_string(why));
    json_object_set_new(rec, "entry",
                        json_pack("{s:I, s:s, s:s}", "id",
                                  (json_int_t)s->entry_id, "path",
                                  s->entry_path, "info_hash", s->hash));
    events_push(pb, rec, true);
    session_end(pb, s, why);
    free(why);
  }
  reschedule(pb);
}

static void reschedule(rg_playback *pb) {
  if (!pb->timer)
    return;
  evtimer_del(pb->timer);
  int64_t first = 0;
  for (session *s = pb->sessions; s; s = s->next)
    if (!first || s->deadline_ms < first)
      first = s->deadline_ms;
  if (!first)
    return;
  int64_t ms = first - rg_now_ms();
  if (ms < 0)
    ms = 0;
  struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
  evtimer_add(pb->timer, &tv);
}

/* ----------------------------------------------------------- lifecycle -- */

static void on_removed(rg_torrent *t, void *arg) {
  rg_playback *pb = arg;
  const char *hash = rg_torrent_hex(t);
  session *n;
  for (session *s = pb->sessions; s; s = n) {
    n = s->next;
    if (strcmp(s->hash, hash) == 0) {
      for (session **pp = &pb->sessions; *pp; pp = &(*pp)->next)
        if (*pp == s) {
          *pp = s->next;
          break;
        }
      session_free(s); /* the manager clears its playing flag itself */
    }
  }
  reschedule(pb);
}

static char *webhook_token(rg_conf *c, rg_store *s) {
  if (c->webhook_token && *c->webhook_token)
    return rg_strdup(c->webhook_token);
  char *k = s ? rg_store_get_setting(s, "webhook_token") : NULL;
  if (k && *k)
    return k;
  free(k);
  char buf[33];
  rg_random_hex(buf, 16);
  if (s)
    rg_store_set_setting(s, "webhook_token", buf);
  /* not logged: the URL is in GET /api/webhooks */
  return rg_strdup(buf);
}

rg_playback *rg_playback_new(rg_app *app, char **cause) {
  if (!app || !app->conf) {
    *cause = rg_strdup("playback needs the daemon's settings");
    return NULL;
  }
  rg_playback *pb = rg_calloc(1, sizeof *pb);
  pb->app = app;
  pb->token = webhook_token(app->conf, app->store);
  pb->mappings =
      rg_strdup(app->conf->path_mappings ? app->conf->path_mappings : "");
  pb->grace_s = app->conf->playback_grace_s;
  pb->safety_s = app->conf->playback_safety_timeout_s;
  if (app->base)
    pb->timer = evtimer_new(app->base, on_timer, pb);
  if (app->tm) {
    rg_tm_set_background_limit(app->tm,
                               app->conf->priority_background_kbps * 1024);
    rg_tm_hooks h = {.on_removed = on_removed, .arg = pb};
    rg_tm_add_hooks(app->tm, &h);
  }
  events_load(pb);
  return pb;
}

void rg_playback_free(rg_playback **pp) {
  rg_playback *pb = *pp;
  if (!pb)
    return;
  if (pb->app->tm)
    rg_tm_remove_hooks(pb->app->tm, pb);
  if (pb->timer)
    event_free(pb->timer);
  session *n;
  for (session *s = pb->sessions; s; s = n) {
    n = s->next;
    session_free(s);
  }
  for (int i = 0; i < pb->nevents; i++)
    json_decref(pb->events[(pb->head + i) % MAX_EVENTS]);
  free(pb->token);
  free(pb->mappings);
  free(pb);
  *pp = NULL;
}

bool rg_playback_priority(const rg_playback *pb) {
  return pb && pb->sessions != NULL;
}

const char *rg_playback_token(const rg_playback *pb) { return pb->token; }

void rg_playback_set_token(rg_playback *pb, const char *token) {
  free(pb->token);
  pb->token = rg_strdup(token);
}

/* ----------------------------------------------------------------- HTTP -- */

static json_t *entry_ref(const rg_lib_entry *e) {
  return json_pack("{s:I, s:s, s:s, s:i, s:s}", "id", (json_int_t)e->id, "path",
                   e->path ? e->path : "", "info_hash", e->hash, "file_index",
                   e->file_index, "title", e->title ? e->title : "");
}

/* Matches and applies EV; fills the reply and the event record. Returns the
 * HTTP status: 200 applied, 202 ignored or unmatched. */
static int playback_apply(rg_playback *pb, const rg_wh_event *ev, json_t *rec) {
  const char *sv = rg_wh_server_name(ev->server);
  const char *what = ev->title ? ev->title : ev->show ? ev->show : "?";
  if (ev->kind == RG_WH_OTHER) {
    char *why = rg_printf("%s is not a playback event", ev->event);
    json_object_set_new(rec, "result", json_string("ignored"));
    json_object_set_new(rec, "reason", json_string(why));
    rg_debug("webhook from %s: %s ignored", sv, ev->event);
    free(why);
    return 202;
  }
  rg_library *lib = pb->app->library;
  char *mapped = ev->path ? rg_playback_map_path(pb->mappings, ev->path) : NULL;
  match_ctx m = {.ev = ev, .mapped = mapped};
  if (lib)
    rg_library_each(lib, match_one, &m);
  rg_lib_entry *e = m.best > 0 ? rg_library_get(lib, m.id) : NULL;
  if (!e) {
    char *why =
        lib ? unmatched_reason(ev, mapped) : rg_strdup("the library is off");
    json_object_set_new(rec, "result", json_string("unmatched"));
    json_object_set_new(rec, "reason", json_string(why));
    rg_info("webhook %s %s for \"%s\": %s", sv, ev->event, what, why);
    free(why);
    free(mapped);
    return 202;
  }
  free(mapped);
  json_object_set_new(rec, "result", json_string("applied"));
  json_object_set_new(rec, "match", json_string(m.rule));
  json_object_set_new(rec, "entry", entry_ref(e));
  rg_info("webhook %s %s for \"%s\" matched %s by %s", sv, ev->event, what,
          e->path, m.rule);
  session_apply(pb, ev, e);
  rg_lib_entry_free(&e);
  return 200;
}

static void record_rejected(rg_playback *pb, int code, const char *why,
                            const char *ct, size_t len) {
  json_t *rec = json_pack("{s:s, s:i, s:s, s:s?, s:I}", "result", "rejected",
                          "status", code, "reason", why, "content_type", ct,
                          "bytes", (json_int_t)len);
  if (rec)
    events_push(pb, rec, true);
}

void rg_webhook_route(rg_app *app, struct evhttp_request *req) {
  rg_playback *pb = app->playback;
  if (!pb) {
    rg_http_error(req, 503, "webhooks are not set up");
    return;
  }
  char *tok = rg_http_query(req, "token");
  if (!tok) {
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       "X-Webhook-Token");
    tok = h ? rg_strdup(h) : NULL;
  }
  bool authorized = tok && rg_secret_eq(tok, pb->token);
  free(tok);
  if (!authorized) {
    rg_http_error(req, 401,
                  "missing or wrong webhook token: use the URL "
                  "GET /api/webhooks gives (it ends in ?token=…)");
    return;
  }
  if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
    rg_http_error(req, 405, "webhooks are POSTed");
    return;
  }
  const char *ct =
      evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
  size_t n = evbuffer_get_length(evhttp_request_get_input_buffer(req));
  if (n > RG_WH_MAX_BODY) {
    char *why = rg_printf("the body is larger than %d bytes", RG_WH_MAX_BODY);
    record_rejected(pb, 413, why, ct, n);
    rg_info("webhook rejected: %s", why);
    rg_http_error(req, 413, "%s", why);
    free(why);
    return;
  }
  size_t len;
  uint8_t *body = rg_http_body(req, &len);
  rg_wh_event *ev = NULL;
  char *cause = NULL;
  int rc = rg_webhook_parse(ct, body, len, &ev, &cause);
  free(body);
  if (rc) {
    int code = rc == -EMSGSIZE ? 413 : rc == -ENOTSUP ? 415 : 400;
    record_rejected(pb, code, cause ? cause : "unreadable", ct, len);
    rg_info("webhook rejected (%d): %s", code, cause ? cause : "unreadable");
    rg_http_error(req, code, "%s", cause ? cause : "unreadable webhook");
    free(cause);
    return;
  }
  json_t *rec = rg_wh_event_json(ev);
  int code = playback_apply(pb, ev, rec);
  json_object_set_new(rec, "status", json_integer(code));
  json_t *reply = json_deep_copy(rec);
  events_push(pb, rec, true);
  rg_wh_event_free(&ev);
  rg_http_json(req, code, reply);
}

static json_t *session_json(rg_playback *pb, const session *s) {
  bool ep = strcmp(s->kind, "episode") == 0;
  json_t *o = json_object();
  json_object_set_new(o, "server", json_string(rg_wh_server_name(s->server)));
  json_object_set_new(o, "state",
                      json_string(s->paused ? "paused" : "playing"));
  json_object_set_new(o, "title", json_string(s->title));
  json_object_set_new(o, "kind", json_string(s->kind));
  json_object_set_new(o, "year", s->year ? json_integer(s->year) : json_null());
  json_object_set_new(o, "season", ep ? json_integer(s->season) : json_null());
  json_object_set_new(o, "episode",
                      ep ? json_integer(s->episode) : json_null());
  json_object_set_new(o, "entry_id", json_integer(s->entry_id));
  json_object_set_new(o, "path", json_string(s->entry_path));
  json_object_set_new(o, "info_hash", json_string(s->hash));
  json_object_set_new(o, "file_index", json_integer(s->file_index));
  json_object_set_new(o, "client",
                      s->client ? json_string(s->client) : json_null());
  json_object_set_new(o, "user", s->user ? json_string(s->user) : json_null());
  json_object_set_new(o, "device",
                      s->device ? json_string(s->device) : json_null());
  json_object_set_new(o, "position_ms",
                      s->position_ms >= 0 ? json_integer(s->position_ms)
                                          : json_null());
  json_object_set_new(o, "since", json_integer(s->since));
  json_object_set_new(o, "updated", json_integer(s->updated));
  int64_t left = (s->deadline_ms - rg_now_ms() + 999) / 1000;
  json_object_set_new(o, "expires_in_s", json_integer(left > 0 ? left : 0));
  (void)pb;
  return o;
}

static void add_playing(rg_torrent *t, void *arg) {
  if (rg_torrent_playing(t))
    json_array_append_new(arg, json_string(rg_torrent_hex(t)));
}

static void get_playback(rg_app *app, struct evhttp_request *req) {
  rg_playback *pb = app->playback;
  json_t *sessions = json_array();
  for (session *s = pb->sessions; s; s = s->next)
    json_array_append_new(sessions, session_json(pb, s));
  json_t *torrents = json_array();
  if (app->tm)
    rg_tm_each(app->tm, add_playing, torrents);
  json_t *o = json_pack("{s:b, s:o, s:o, s:{s:i, s:i, s:i, s:s}}", "priority",
                        json_array_size(torrents) > 0, "sessions", sessions,
                        "playing_torrents", torrents, "settings", "grace_s",
                        pb->grace_s, "safety_timeout_s", pb->safety_s,
                        "background_kbps", app->conf->priority_background_kbps,
                        "path_mappings", pb->mappings);
  rg_http_json(req, 200, o);
}

static void stop_all(rg_app *app, struct evhttp_request *req) {
  rg_playback *pb = app->playback;
  int n = 0;
  while (pb->sessions) {
    session_end(pb, pb->sessions, "stopped through the API");
    n++;
  }
  reschedule(pb);
  rg_http_json(req, 200, json_pack("{s:i}", "stopped", n));
}

static void get_events(rg_app *app, struct evhttp_request *req) {
  rg_playback *pb = app->playback;
  json_t *arr = json_array();
  for (int i = pb->nevents - 1; i >= 0; i--)
    json_array_append(arr, pb->events[(pb->head + i) % MAX_EVENTS]);
  rg_http_json(req, 200, json_pack("{s:o}", "events", arr));
}

static void get_webhooks(rg_app *app, struct evhttp_request *req) {
  char *root = rg_http_base_url(app, req);
  char *tok = rg_percent_encode(app->playback->token);
  char *url = rg_printf("%s/webhook?token=%s", root, tok);
  rg_http_json(req, 200,
               json_pack("{s:s, s:s}", "url", url, "servers",
                         "Plex: Settings > Webhooks; Jellyfin: Webhook "
                         "plugin, Generic destination; Emby: Notifications "
                         "> Webhooks"));
  free(url);
  free(tok);
  free(root);
}

void rg_api_playback_route(rg_app *app, struct evhttp_request *req,
                           const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
  if (!app->playback) {
    rg_http_error(req, 503, "playback is not set up");
    return;
  }
  if (strcmp(path, "/playback") == 0) {
    if (get)
      get_playback(app, req);
    else if (m == EVHTTP_REQ_DELETE)
      stop_all(app, req);
    else
      rg_http_error(req, 405, "use GET or DELETE");
  } else if (strcmp(path, "/webhooks") == 0) {
    if (get)
      get_webhooks(app, req);
    else
      rg_http_error(req, 405, "use GET");
  } else if (strcmp(path, "/webhooks/events") == 0) {
    if (get)
      get_events(app, req);
    else
      rg_http_error(req, 405, "use GET");
  } else {
    rg_http_error(req, 404, "no such API route: /api%s", path);
  }
}
