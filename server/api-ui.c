/* api-ui.c — the API routes the web UI needs beyond the core API (the key
 * is checked by http.c):
 *
 *   GET  /api/settings           every key: value (secrets as "********"),
 *                                type, default, help, range/choices, group,
 *                                live, origin, locked, saved, pending
 *   PUT  /api/settings           {key: value, …}: validated all-or-nothing
 *                                with the config loader's rules, saved in
 *                                the settings table, applied at once when
 *                                live, else at the next start
 *                                (value null: forget the saved value)
 *   GET  /api/system             CPU, memory, disk, FUSE mount state
 *   GET  /api/speed              total download/upload rate every 2 s over
 *                                the last 15 minutes: {interval_s,
 *                                samples: [[unix_ms, down, up], …]}
 *   POST /api/key/regenerate     a new API key; the old one stops working
 *   POST /api/webhooks/regenerate  a new webhook token, in use at once
 *   POST /api/restart            clean shutdown, then the binary re-execs
 *                                itself with the same arguments
 *
 * Where a setting comes from, later ones winning: the built-in default, the
 * config file, the value saved here, the REELGATE_<KEY> environment
 * variable, a command-line flag. A key set by the environment or a flag is
 * "locked": PUT refuses it and says where to change it. data_dir is never
 * saved here (the database lives in it).
 *
 * Saved values are rows "conf.<key>" of the settings table holding the JSON
 * value. Loop thread only. */
#include "config.h"

#include "log.h"
#include "playback.h"
#include "util.h"
#include "webui.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#define SAVED_PREFIX "conf."
#define MASK "********"
#define MAX_BODY (256 << 10)

static int g_argc;
static char **g_argv;
static bool g_restart;

void rg_ui_set_args(int argc, char **argv) {
  g_argc = argc;
  g_argv = argv;
}

bool rg_ui_restart_requested(void) { return g_restart; }

int rg_ui_reexec(void) {
  if (!g_argv)
    return -EINVAL;
  execv("/proc/self/exe", g_argv);
  int e = errno;
  execvp(g_argv[0], g_argv);
  return -(errno ? errno : e);
}

/* ---- the settings table ---- */

static bool is_secret(const char *name) {
  size_t n = strlen(name);
  return (n > 4 && strcmp(name + n - 4, "_key") == 0) ||
         (n > 6 && strcmp(name + n - 6, "_token") == 0);
}

static bool editable(const char *name) { return strcmp(name, "data_dir") != 0; }

/* Keys whose new value takes effect at once (apply_live knows how). */
static bool is_live(const char *name) {
  static const char *const live[] = {
      "download_limit_kbps",      "upload_limit_kbps", "log_level",
      "priority_background_kbps", "metrics_open",      "torrserver"};
  for (size_t i = 0; i < RG_ARRAY_LEN(live); i++)
    if (strcmp(name, live[i]) == 0)
      return true;
  return false;
}

static void apply_live(rg_app *app, const char *name) {
  rg_conf *c = app->conf;
  if (strcmp(name, "download_limit_kbps") == 0 ||
      strcmp(name, "upload_limit_kbps") == 0)
    rg_engine_set_rate_limits(app->engine, c->download_limit_kbps * 1024,
                              c->upload_limit_kbps * 1024);
  else if (strcmp(name, "log_level") == 0)
    rg_log_level_current = rg_log_level_parse(c->log_level);
  else if (strcmp(name, "priority_background_kbps") == 0)
    rg_tm_set_background_limit(app->tm, c->priority_background_kbps * 1024);
  /* metrics_open and torrserver are read on each request */
}

/* A group for the control panel, from the key's name. */
static const char *group_of(const char *name) {
  static const struct {
    const char *group, *words;
  } groups[] = {
      {"Server", " data_dir bind http_port api_key log_level log_file "
                 "metrics_open torrserver mount "},
      {"Streaming", " cache_dir cache_budget_mb read_timeout_s "
                    "idle_timeout_s metadata_timeout_s readahead_mb "
                    "max_active_torrents "},
      {"BitTorrent", " bt_port bt_bind bt_outgoing_utp dht "
                     "download_limit_kbps upload_limit_kbps "
                     "connections_limit blocklist blocklist_refresh_h natpmp "
                     "upnp "},
      {"Playback", " webhook_token path_mappings "},
  };
  static const struct {
    const char *group, *prefix;
  } prefixes[] = {
      {"BitTorrent", "portmap_"}, {"Warmup store", "warm_"},
      {"Playback", "playback_"},  {"Playback", "priority_"},
      {"Services", "tmdb_"},      {"Services", "prowlarr_"},
      {"Services", "torznab_"},   {"Services", "torrentio_"},
      {"Services", "plex_"},      {"Services", "jellyfin_"},
      {"Sync", "sync_"},
  };
  char word[80];
  snprintf(word, sizeof word, " %s ", name);
  for (size_t i = 0; i < RG_ARRAY_LEN(groups); i++)
    if (strstr(groups[i].words, word))
      return groups[i].group;
  for (size_t i = 0; i < RG_ARRAY_LEN(prefixes); i++)
    if (strncmp(name, prefixes[i].prefix, strlen(prefixes[i].prefix)) == 0)
      return prefixes[i].group;
  return "Other";
}

/* The value saved through the UI for NAME (new JSON) or NULL. */
static json_t *saved_get(rg_store *s, const char *name) {
  char key[96];
  snprintf(key, sizeof key, SAVED_PREFIX "%s", name);
  char *text = rg_store_get_setting(s, key);
  if (!text)
    return NULL;
  json_t *v = json_loads(text, JSON_DECODE_ANY, NULL);
  free(text);
  if (v && json_is_null(v)) {
    json_decref(v);
    v = NULL;
  }
  return v;
}

static int saved_put(rg_store *s, const char *name, json_t *v) {
  char key[96];
  snprintf(key, sizeof key, SAVED_PREFIX "%s", name);
  char *text = json_dumps(v ? v : json_null(), JSON_ENCODE_ANY);
  int rc = text ? rg_store_set_setting(s, key, text) : -ENOMEM;
  free(text);
  return rc;
}

static json_t *masked(const char *name, json_t *v) {
  if (v && is_secret(name) && json_is_string(v) && *json_string_value(v)) {
    json_decref(v);
    return json_string(MASK);
  }
  return v;
}

void rg_ui_apply_saved(rg_conf *c, rg_store *s) {
  int applied = 0;
  for (size_t i = 0; i < rg_conf_nkeys(); i++) {
    rg_conf_keyinfo k;
    rg_conf_key_at(i, &k);
    if (!editable(k.name))
      continue;
    json_t *v = saved_get(s, k.name);
    if (!v)
      continue;
    const char *origin = rg_conf_origin(c, k.name, g_argc, g_argv);
    char *cause = NULL;
    if (origin && strcmp(origin, "file") != 0) {
      rg_info("setting %s: the value saved in the web UI is overridden by "
              "the %s",
              k.name,
              strcmp(origin, "env") == 0 ? "environment" : "command line");
    } else if (rg_conf_set_json(c, k.name, v, &cause) != 0) {
      rg_warn("setting %s: the value saved in the web UI is ignored: %s",
              k.name, cause);
      free(cause);
    } else {
      applied++;
    }
    json_decref(v);
  }
  if (applied) {
    rg_info("%d setting(s) saved in the web UI applied", applied);
    int lvl = rg_log_level_parse(c->log_level);
    if (lvl >= 0)
      rg_log_level_current = lvl;
  }
}

static json_t *setting_json(rg_app *app, const rg_conf_keyinfo *k,
                            bool *pending_out) {
  json_t *o = json_object();
  const char *origin = rg_conf_origin(app->conf, k->name, g_argc, g_argv);
  bool locked = origin && strcmp(origin, "file") != 0;
  bool secret = is_secret(k->name);
  json_t *cur = rg_conf_get_json(app->conf, k->name);
  json_t *saved = saved_get(app->store, k->name);
  /* The key and the token in use may differ from the conf (generated,
   * regenerated): compare with what is in use. */
  json_t *in_use = json_incref(cur);
  if (strcmp(k->name, "api_key") == 0 && app->api_key) {
    json_decref(in_use);
    in_use = json_string(app->api_key);
  } else if (strcmp(k->name, "webhook_token") == 0 && app->playback) {
    json_decref(in_use);
    in_use = json_string(rg_playback_token(app->playback));
  }
  bool pending =
      saved && !locked && editable(k->name) && !json_equal(saved, in_use);
  json_decref(in_use);
  *pending_out = pending;
  json_object_set_new(o, "key", json_string(k->name));
  json_object_set_new(o, "group", json_string(group_of(k->name)));
  json_object_set_new(o, "type", json_string(k->type));
  json_object_set_new(o, "value", masked(k->name, cur));
  json_t *def = NULL;
  if (strcmp(k->type, "int") == 0)
    def = json_integer(strtoll(k->def, NULL, 10));
  else if (strcmp(k->type, "bool") == 0)
    def = json_boolean(strcmp(k->def, "true") == 0);
  else
    def = json_string(k->def);
  json_object_set_new(o, "default", def);
  json_object_set_new(o, "help", json_string(k->help));
  if (strcmp(k->type, "int") == 0) {
    json_object_set_new(o, "min", json_integer((json_int_t)k->min));
    json_object_set_new(o, "max", json_integer((json_int_t)k->max));
  } else if (strcmp(k->type, "string") == 0 && !k->choices) {
    json_object_set_new(o, "min_length", json_integer((json_int_t)k->min));
    json_object_set_new(o, "max_length", json_integer((json_int_t)k->max));
  }
  if (k->choices) {
    json_t *ch = json_array();
    for (const char *p = k->choices; *p;) {
      size_t n = strcspn(p, "|");
      json_array_append_new(ch, json_stringn(p, n));
      p += n + (p[n] == '|');
    }
    json_object_set_new(o, "choices", ch);
  }
  json_object_set_new(o, "secret", json_boolean(secret));
  json_object_set_new(o, "live", json_boolean(is_live(k->name)));
  json_object_set_new(o, "editable",
                      json_boolean(editable(k->name) && !locked));
  json_object_set_new(o, "origin",
                      json_string(saved && !locked ? "saved"
                                  : origin         ? origin
                                                   : "default"));
  json_object_set_new(o, "locked", json_boolean(locked));
  if (saved && !locked)
    json_object_set_new(o, "saved", masked(k->name, json_incref(saved)));
  json_object_set_new(o, "pending", json_boolean(pending));
  json_decref(saved);
  return o;
}

static void get_settings(rg_app *app, struct evhttp_request *req) {
  json_t *arr = json_array();
  bool any = false;
  for (size_t i = 0; i < rg_conf_nkeys(); i++) {
    rg_conf_keyinfo k;
    bool pending = false;
    rg_conf_key_at(i, &k);
    json_array_append_new(arr, setting_json(app, &k, &pending));
    any = any || pending;
  }
  rg_http_json(
      req, 200,
      json_pack("{s:o, s:b, s:s}", "settings", arr, "restart_needed", any,
                "precedence",
                "default < config file < saved here < environment < flag"));
}

static void put_settings(rg_app *app, struct evhttp_request *req) {
  size_t len = 0;
  uint8_t *body = rg_http_body(req, &len);
  json_error_t jerr;
  json_t *j =
      len > MAX_BODY ? NULL : json_loadb((const char *)body, len, 0, &jerr);
  free(body);
  if (!j || !json_is_object(j)) {
    rg_http_error(
        req, 400, "body must be a JSON object {\"key\": value, …}%s%s",
        j ? "" : ": ", j ? "" : (len > MAX_BODY ? "too large" : jerr.text));
    json_decref(j);
    return;
  }
  /* Validate everything first: a scratch copy takes every value. */
  rg_conf scratch;
  rg_conf_defaults(&scratch);
  json_t *errors = json_object();
  const char *name;
  json_t *v;
  json_object_foreach(j, name, v) {
    rg_conf_keyinfo k;
    char *cause = NULL;
    if (rg_conf_key_info(name, &k) != 0) {
      json_object_set_new(errors, name, json_string("unknown key"));
      continue;
    }
    const char *origin = rg_conf_origin(app->conf, name, g_argc, g_argv);
    if (!editable(name)) {
      json_object_set_new(errors, name,
                          json_string("cannot be changed here (the database "
                                      "lives in it): use the config file"));
    } else if (origin && strcmp(origin, "file") != 0) {
      char env[96];
      size_t o = 0;
      for (const char *q = name; *q && o + 1 < sizeof env; q++)
        env[o++] = (char)(*q >= 'a' && *q <= 'z' ? *q - 32 : *q);
      env[o] = 0;
      char *m = strcmp(origin, "env") == 0
                    ? rg_printf("set by the environment variable REELGATE_%s;"
                                " change it there",
                                env)
                    : rg_strdup("set on the command line; change it there");
      json_object_set_new(errors, name, json_string(m));
      free(m);
    } else if (json_is_null(v) || (is_secret(name) && json_is_string(v) &&
                                   strcmp(json_string_value(v), MASK) == 0)) {
      /* forget / unchanged secret */
    } else if (rg_conf_set_json(&scratch, name, v, &cause) != 0) {
      json_object_set_new(errors, name, json_string(cause));
      free(cause);
    }
  }
  if (json_object_size(errors)) {
    json_t *first = json_object_iter_value(json_object_iter(errors));
    rg_http_json(req, 400,
                 json_pack("{s:s, s:o}", "error", json_string_value(first),
                           "errors", errors));
    rg_conf_free(&scratch);
    json_decref(j);
    return;
  }
  json_decref(errors);
  json_t *applied = json_array(), *later = json_array();
  json_object_foreach(j, name, v) {
    if (is_secret(name) && json_is_string(v) &&
        strcmp(json_string_value(v), MASK) == 0)
      continue;
    json_t *canon = json_is_null(v) ? NULL : rg_conf_get_json(&scratch, name);
    if (saved_put(app->store, name, canon) != 0) {
      json_decref(canon);
      rg_http_error(req, 500, "cannot save %s in the database", name);
      goto out;
    }
    json_t *cur = rg_conf_get_json(app->conf, name);
    if (canon && json_equal(canon, cur)) {
      json_array_append_new(applied, json_string(name));
    } else if (canon && is_live(name)) {
      char *cause = NULL;
      if (rg_conf_set_json(app->conf, name, canon, &cause) == 0) {
        apply_live(app, name);
        json_array_append_new(applied, json_string(name));
      } else {
        free(cause);
        json_array_append_new(later, json_string(name));
      }
    } else {
      json_array_append_new(later, json_string(name));
    }
    rg_info("setting %s %s through the API", name, canon ? "changed" : "reset");
    json_decref(cur);
    json_decref(canon);
  }
  rg_http_json(req, 200,
               json_pack("{s:O, s:O, s:b}", "applied", applied,
                         "restart_required_for", later, "restart_needed",
                         json_array_size(later) > 0));
out:
  json_decref(applied);
  json_decref(later);
  rg_conf_free(&scratch);
  json_decref(j);
}

/* ---- system ---- */

static int64_t g_cpu_ticks, g_cpu_at_ms;

/* utime+stime (clock ticks), threads and RSS pages from /proc/self/stat. */
static int proc_stat(int64_t *ticks, int64_t *threads, int64_t *rss) {
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f)
    return -errno;
  char buf[1024];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')'); /* the command name may hold spaces */
  if (!p)
    return -EINVAL;
  unsigned long long fld[64] = {0};
  int i = 3; /* field 3 is the state */
  for (char *tok = strtok(p + 2, " "); tok && i < 64; tok = strtok(NULL, " "))
    fld[i++] = strtoull(tok, NULL, 10);
  *ticks = (int64_t)(fld[14] + fld[15]);
  *threads = (int64_t)fld[20];
  *rss = (int64_t)fld[24];
  return 0;
}

static json_t *meminfo(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  json_t *o = json_object();
  char line[256];
  while (f && fgets(line, sizeof line, f)) {
    unsigned long long kb;
    if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
      json_object_set_new(o, "total", json_integer((json_int_t)kb * 1024));
    else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
      json_object_set_new(o, "available", json_integer((json_int_t)kb * 1024));
  }
  if (f)
    fclose(f);
  return o;
}

static json_t *disk_json(const char *path) {
  struct statvfs sv;
  if (statvfs(path, &sv) != 0)
    return json_pack("{s:s, s:s}", "path", path, "error", strerror(errno));
  return json_pack("{s:s, s:I, s:I, s:I}", "path", path, "total",
                   (json_int_t)sv.f_blocks * (json_int_t)sv.f_frsize, "free",
                   (json_int_t)sv.f_bfree * (json_int_t)sv.f_frsize,
                   "available",
                   (json_int_t)sv.f_bavail * (json_int_t)sv.f_frsize);
}

static json_t *mount_json(const char *mount) {
  if (!mount || !*mount)
    return json_pack("{s:n, s:b}", "path", "mounted", false);
  char real[PATH_MAX];
  const char *want = realpath(mount, real) ? real : mount;
  char fstype[128] = "";
  unsigned major, minor;
  bool found =
      rg_find_mount(want, fstype, sizeof fstype, &major, &minor) == 0;
  bool fuse = found && strncmp(fstype, "fuse", 4) == 0;
  return json_pack("{s:s, s:b, s:s?}", "path", mount, "mounted", fuse, "fstype",
                   found ? fstype : NULL);
}

static void get_system(rg_app *app, struct evhttp_request *req) {
  int64_t ticks = 0, threads = 0, rss = 0, now = rg_now_ms();
  long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  json_t *proc = json_object();
  if (proc_stat(&ticks, &threads, &rss) == 0) {
    double cpu = -1;
    if (g_cpu_at_ms && now > g_cpu_at_ms && hz > 0)
      cpu = 100.0 * (double)(ticks - g_cpu_ticks) / (double)hz /
            ((double)(now - g_cpu_at_ms) / 1000.0);
    g_cpu_ticks = ticks;
    g_cpu_at_ms = now;
    json_object_set_new(proc, "cpu_percent",
                        cpu >= 0 ? json_real(cpu) : json_null());
    json_object_set_new(proc, "cpu_seconds",
                        json_real(hz > 0 ? (double)ticks / (double)hz : 0));
    json_object_set_new(proc, "rss", json_integer((json_int_t)(rss * page)));
    json_object_set_new(proc, "threads", json_integer((json_int_t)threads));
  }
  json_object_set_new(proc, "pid", json_integer(getpid()));
  json_object_set_new(
      proc, "uptime_s",
      json_integer((json_int_t)((now - app->started_ms) / 1000)));
  double load[3] = {0, 0, 0};
  json_t *host = json_object();
  if (getloadavg(load, 3) == 3)
    json_object_set_new(host, "loadavg",
                        json_pack("[f, f, f]", load[0], load[1], load[2]));
  json_object_set_new(host, "cpus", json_integer(ncpu));
  json_object_set_new(host, "memory", meminfo());
  json_t *disks = json_object();
  json_object_set_new(disks, "data", disk_json(app->conf->data_dir));
  char *cache = app->conf->cache_dir && *app->conf->cache_dir
                    ? rg_strdup(app->conf->cache_dir)
                    : rg_printf("%s/cache", app->conf->data_dir);
  json_object_set_new(disks, "cache", disk_json(cache));
  free(cache);
  rg_http_json(req, 200,
               json_pack("{s:s, s:o, s:o, s:o, s:o, s:b, s:b}", "version",
                         PACKAGE_VERSION, "process", proc, "host", host, "disk",
                         disks, "mount", mount_json(app->conf->mount), "hls",
                         app->hls != NULL, "hls_js",
                         rg_webui_find("/hls.min.js") != NULL));
}

/* ---- speed history ---- */

#define SPEED_EVERY_S 2
#define SPEED_SLOTS (15 * 60 / SPEED_EVERY_S)

static struct { int64_t at_ms, down, up; } g_speed[SPEED_SLOTS];
static int g_speed_n, g_speed_next;
static struct event *g_speed_ev;

static void speed_add(rg_torrent *t, void *arg) {
  int64_t *sum = arg;
  if (!rg_torrent_active(t))
    return;
  rg_tstatus st;
  rg_torrent_status(t, &st);
  sum[0] += st.download_rate;
  sum[1] += st.upload_rate;
}

static void speed_tick(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  rg_app *app = arg;
  int64_t sum[2] = {0, 0};
  rg_tm_each(app->tm, speed_add, sum);
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  g_speed[g_speed_next].at_ms =
      (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  g_speed[g_speed_next].down = sum[0];
  g_speed[g_speed_next].up = sum[1];
  g_speed_next = (g_speed_next + 1) % SPEED_SLOTS;
  if (g_speed_n < SPEED_SLOTS)
    g_speed_n++;
}

void rg_ui_start(rg_app *app) {
  if (g_speed_ev || !app->tm)
    return;
  g_speed_n = g_speed_next = 0;
  g_speed_ev = event_new(app->base, -1, EV_PERSIST, speed_tick, app);
  struct timeval tv = {SPEED_EVERY_S, 0};
  if (g_speed_ev)
    event_add(g_speed_ev, &tv);
}

void rg_ui_stop(void) {
  if (g_speed_ev)
    event_free(g_speed_ev);
  g_speed_ev = NULL;
}

static void get_speed(struct evhttp_request *req) {
  json_t *arr = json_array();
  for (int i = 0; i < g_speed_n; i++) {
    int k = (g_speed_next - g_speed_n + i + SPEED_SLOTS) % SPEED_SLOTS;
    json_array_append_new(
        arr, json_pack("[I, I, I]", (json_int_t)g_speed[k].at_ms,
                       (json_int_t)g_speed[k].down, (json_int_t)g_speed[k].up));
  }
  rg_http_json(
      req, 200,
      json_pack("{s:i, s:o}", "interval_s", SPEED_EVERY_S, "samples", arr));
}

/* ---- key, webhook token, restart ---- */

/* Saves a new secret for conf key NAME so that it survives a restart:
 * returns whether it will (false when the environment or a flag sets it). */
static bool persist_secret(rg_app *app, const char *name, const char *value) {
  rg_store_set_setting(app->store, name, value); /* the generated-key row */
  const char *origin = rg_conf_origin(app->conf, name, g_argc, g_argv);
  if (origin && strcmp(origin, "file") != 0)
    return false;
  json_t *v = json_string(value); /* beats the config file at start */
  saved_put(app->store, name, v);
  json_decref(v);
  return true;
}

static void regenerate_key(rg_app *app, struct evhttp_request *req) {
  char buf[33];
  rg_random_hex(buf, 16);
  bool persistent = persist_secret(app, "api_key", buf);
  if (persistent)
    rg_save_key_file(app->conf->data_dir, buf);
  free(app->api_key);
  app->api_key = rg_strdup(buf);
  rg_info("API key regenerated through the API%s",
          persistent ? ""
                     : " (until restart: the environment or a flag "
                       "sets api_key)");
  rg_http_json(
      req, 200,
      json_pack("{s:s, s:b}", "api_key", buf, "persistent", persistent));
}

static void regenerate_webhook(rg_app *app, struct evhttp_request *req) {
  char buf[33];
  rg_random_hex(buf, 16);
  bool persistent = persist_secret(app, "webhook_token", buf);
  if (app->playback)
    rg_playback_set_token(app->playback, buf);
  char *root = rg_http_base_url(app, req);
  char *url = rg_printf("%s/webhook?token=%s", root, buf);
  rg_info("webhook token regenerated through the API; the old one no "
          "longer works");
  rg_http_json(req, 200,
               json_pack("{s:s, s:b, s:b}", "url", url, "restart_needed",
                         app->playback == NULL, "persistent", persistent));
  free(url);
  free(root);
}

static void restart_now(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  event_base_loopexit(arg, NULL);
}

static void restart(rg_app *app, struct evhttp_request *req) {
  if (!g_argv) {
    rg_http_error(req, 501, "restart is not available in this process");
    return;
  }
  rg_info("restart requested through the API");
  g_restart = true;
  rg_http_json(req, 202, json_pack("{s:b}", "restarting", true));
  /* Let the reply leave before the loop stops. */
  struct timeval tv = {0, 300 * 1000};
  event_base_once(app->base, -1, EV_TIMEOUT, restart_now, app->base, &tv);
}

bool rg_api_ui_route(rg_app *app, struct evhttp_request *req,
                     const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  bool get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD;
  if (strcmp(path, "/settings") == 0) {
    if (get)
      get_settings(app, req);
    else if (m == EVHTTP_REQ_PUT || m == EVHTTP_REQ_PATCH)
      put_settings(app, req);
    else
      rg_http_error(req, 405, "use GET or PUT");
  } else if (strcmp(path, "/system") == 0) {
    if (get)
      get_system(app, req);
    else
      rg_http_error(req, 405, "use GET");
  } else if (strcmp(path, "/speed") == 0) {
    if (get)
      get_speed(req);
    else
      rg_http_error(req, 405, "use GET");
  } else if (strcmp(path, "/key/regenerate") == 0) {
    if (m == EVHTTP_REQ_POST)
      regenerate_key(app, req);
    else
      rg_http_error(req, 405, "use POST");
  } else if (strcmp(path, "/webhooks/regenerate") == 0) {
    if (m == EVHTTP_REQ_POST)
      regenerate_webhook(app, req);
    else
      rg_http_error(req, 405, "use POST");
  } else if (strcmp(path, "/restart") == 0) {
    if (m == EVHTTP_REQ_POST)
      restart(app, req);
    else
      rg_http_error(req, 405, "use POST");
  } else {
    return false;
  }
  return true;
}
