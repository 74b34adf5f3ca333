/* main.c — the reelgate binary: `reelgate [options]` runs the daemon;
 * `reelgate seed|mktorrent|demo` are helper commands (seed.c). */
#include "config.h"

#include "blocklist.h"
#include "conf.h"
#include "engine.h"
#include "fs.h"
#include "hls.h"
#include "http.h"
#include "library.h"
#include "log.h"
#include "loop.h"
#include "media.h"
#include "playback.h"
#include "portmap.h"
#include "seed.h"
#include "store.h"
#include "sync.h"
#include "tlink.h"
#include "torrents.h"
#include "util.h"
#include "warmup.h"
#include "webui.h"

#include <curl/curl.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* SIGHUP: reopen the log file (logrotate, `systemctl reload`). */
static void on_sighup(evutil_socket_t sig, short what, void *arg) {
  int e = rg_log_reopen();
  if (e)
    rg_error("SIGHUP: cannot reopen the log file: %s", strerror(-e));
  else
    rg_info("SIGHUP: log file reopened");
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
  struct event_base *base = arg;
  rg_info("signal %d: shutting down", (int)sig);
  event_base_loopexit(base, NULL);
}

/* The configured key wins; else the stored one; else a new one. A stored
 * or generated key is also in DATA_DIR/api_key (0600) for the user to read:
 * no key ever goes to the log. A terminal sees a new key once. */
static char *api_key(rg_conf *c, rg_store *s) {
  if (c->api_key && *c->api_key)
    return rg_strdup(c->api_key);
  char *k = rg_store_get_setting(s, "api_key");
  if (k && *k) {
    char *path = rg_printf("%s/api_key", c->data_dir);
    if (access(path, F_OK) != 0) /* stored before the file existed */
      rg_save_key_file(c->data_dir, k);
    free(path);
    return k;
  }
  free(k);
  char buf[33];
  rg_random_hex(buf, 16);
  rg_store_set_setting(s, "api_key", buf);
  rg_save_key_file(c->data_dir, buf);
  rg_info("API key generated: it is in %s/api_key (readable by this user "
          "only); set api_key in the config to choose your own",
          c->data_dir);
  if (isatty(STDERR_FILENO))
    fprintf(stderr, "API key: %s\n", buf);
  return rg_strdup(buf);
}

static int run(rg_conf *c) {
  int rc = 1;
  char *cause = NULL;
  rg_app app = {0};
  rg_fs *fs = NULL;
  app.conf = c;
  app.started_ms = rg_now_ms();

  int e = rg_mkdir_p(c->data_dir, 0700);
  if (e) {
    fprintf(stderr, "reelgate: cannot create the data dir %s: %s\n",
            c->data_dir, strerror(-e));
    return 1;
  }
  char *logf = NULL;
  if (!c->log_file || !*c->log_file)
    logf = rg_printf("%s/reelgate.log", c->data_dir);
  else if (strcmp(c->log_file, "-") != 0)
    logf = rg_strdup(c->log_file);
  e = rg_log_init(logf, rg_log_level_parse(c->log_level));
  if (e)
    fprintf(stderr, "reelgate: cannot open the log file %s: %s\n", logf,
            strerror(-e));
  free(logf);
  rg_info("reelgate %s starting, data dir %s", PACKAGE_VERSION, c->data_dir);

  evthread_use_pthreads();
  curl_global_init(CURL_GLOBAL_DEFAULT);
  signal(SIGPIPE, SIG_IGN);
  app.base = event_base_new();
  rg_loop_init(app.base);

  char *dbpath = rg_printf("%s/reelgate.db", c->data_dir);
  e = rg_store_open(dbpath, &app.store, &cause);
  free(dbpath);
  if (e) {
    rg_error("%s", cause);
    goto out;
  }
  rg_ui_apply_saved(c, app.store); /* settings saved in the web UI */
  app.api_key = api_key(c, app.store);

  char *listen = rg_printf("%s:%d", c->bt_bind, c->bt_port);
  rg_engine_opts eo = {0};
  eo.listen_interfaces = listen;
  eo.outgoing_interfaces =
      strcmp(c->bt_bind, "0.0.0.0") && strcmp(c->bt_bind, "::") ? c->bt_bind
                                                                : NULL;
  eo.outgoing_utp = c->bt_outgoing_utp;
  eo.incoming_utp = true;
  eo.enable_dht = c->dht;
  eo.download_rate_limit = c->download_limit_kbps * 1024;
  eo.upload_rate_limit = c->upload_limit_kbps * 1024;
  eo.connections_limit = c->connections_limit;
  eo.request_timeout_s = 10;
  eo.piece_timeout_s = 10;
  eo.enable_natpmp = c->natpmp; /* port mapping (portmap.c) */
  eo.enable_upnp = c->upnp;
  app.engine = rg_engine_new(&eo, &cause);
  free(listen);
  if (!app.engine) {
    rg_error("cannot start the torrent engine: %s", cause);
    goto out;
  }

  /* ecosystem (issue 8): the blocklist is in libtorrent's IP filter before
   * any torrent exists in the session (the torrent manager below starts
   * empty), so no peer connection precedes it; then port mapping. */
  app.blocklist = rg_blocklist_new(app.base, app.engine, c->blocklist,
                                   c->data_dir, c->blocklist_refresh_h);
  rg_blocklist_load_now(app.blocklist);
  app.portmap = rg_portmap_new(
      app.engine,
      &(rg_portmap_opts){c->natpmp, c->upnp, c->portmap_gateway,
                         c->portmap_lifetime_s, c->portmap_refresh_s,
                         c->bt_bind},
      &cause);
  if (!app.portmap) {
    rg_error("%s", cause);
    goto out;
  }

  char *cache = c->cache_dir && *c->cache_dir
                    ? rg_strdup(c->cache_dir)
                    : rg_printf("%s/cache", c->data_dir);
  rg_tm_opts to = {
      .base = app.base,
      .engine = app.engine,
      .store = app.store,
      .cache_dir = cache,
      .budget_bytes = c->cache_budget_mb << 20,
      .read_timeout_s = c->read_timeout_s,
      .idle_timeout_s = c->idle_timeout_s,
      .metadata_timeout_s = c->metadata_timeout_s,
      .readahead_mb = c->readahead_mb,
      .max_active = c->max_active_torrents,
  };
  app.tm = rg_tm_new(&to);
  rg_info("cache dir %s, budget %s", cache,
          c->cache_budget_mb ? "set" : "unlimited");
  free(cache);
  rg_tm_load(app.tm);

  /* the warmup store (warmup.c): warm heads and tails, read before the swarm */
  if (c->warm_quota_mb > 0) {
    char *warm = rg_printf("%s/warm", c->data_dir);
    app.warmup = rg_warmup_new(
        &(rg_warmup_opts){app.store, warm, c->warm_quota_mb << 20,
                          c->warm_head_mb << 20, c->warm_tail_mb << 20},
        &cause);
    free(warm);
    if (!app.warmup) {
      rg_error("the warmup store is off: %s", cause);
      free(cause);
      cause = NULL;
    }
    rg_tm_set_warmup(app.tm, app.warmup);
    rg_warmup_watch(app.warmup, app.tm);
  }

  app.library = rg_library_new(app.store, app.tm, &cause);
  if (!app.library) {
    rg_error("the library is off: %s", cause);
    free(cause);
    cause = NULL;
  } else {
    rg_library_attach(app.library);
  }
  /* media probing (media.c): in the background, after metadata */
  app.media = rg_media_new(app.store, app.tm, app.warmup, c->read_timeout_s,
                           &cause);
  if (!app.media) {
    rg_error("media probing is off: %s", cause);
    free(cause);
    cause = NULL;
  }
  /* webhooks and priority mode (playback.c) */
  app.playback = rg_playback_new(&app, &cause);
  if (!app.playback) {
    rg_error("webhooks are off: %s", cause);
    free(cause);
    cause = NULL;
  }
  app.sync = rg_sync_new(&app, &cause);
  if (!app.sync) {
    rg_error("sync jobs are off: %s", cause);
    free(cause);
    cause = NULL;
  }

  if (rg_http_start(&app, &cause) != 0) {
    rg_error("%s", cause);
    goto out;
  }
  rg_info("listening on http://%s:%d/", c->bind, app.http_port);
  rg_ui_start(&app); /* the web UI's speed history */
  app.hls = rg_hls_new(&app, &cause);
  if (!app.hls) {
    rg_error("HLS is off: %s", cause);
    free(cause);
    cause = NULL;
  }

  if (c->mount && *c->mount) {
    if (!app.library) {
      rg_error("no FUSE mount: the library is off");
    } else if (rg_fs_mount(c->mount, app.library, app.tm, c->read_timeout_s,
                           &fs, &cause) != 0) {
      rg_error("no FUSE mount at %s: %s; HTTP keeps working", c->mount,
               cause ? cause : "mount failed");
      free(cause);
      cause = NULL;
    } else {
      rg_info("library mounted at %s", c->mount);
    }
  }

  struct event *sigint = evsignal_new(app.base, SIGINT, on_signal, app.base);
  struct event *sigterm = evsignal_new(app.base, SIGTERM, on_signal, app.base);
  event_add(sigint, NULL);
  event_add(sigterm, NULL);
  struct event *sighup = evsignal_new(app.base, SIGHUP, on_sighup, NULL);
  event_add(sighup, NULL);
  event_base_dispatch(app.base);
  /* reads waiting on the swarm fail now: FUSE callers, probe, HLS and
   * warmup workers return instead of waiting out read_timeout_s */
  rg_tm_stop_reads(app.tm);
  event_free(sigint);
  event_free(sigterm);
  event_free(sighup);
  rc = 0;
out:
  free(cause);
  rg_fs_unmount(&fs);
  rg_ui_stop();
  rg_http_stop(&app);
  rg_tlink_cleanup();
  rg_sync_free(&app.sync); /* stops running jobs, waits at most 5 s */
  rg_media_free(&app.media);
  rg_hls_free(&app.hls);
  rg_playback_free(&app.playback);
  rg_library_free(&app.library);
  if (app.tm)
    rg_tm_set_warmup(app.tm, NULL);
  rg_warmup_free(&app.warmup);
  rg_loop_shutdown();
  rg_tm_free(&app.tm);
  rg_portmap_free(&app.portmap);
  rg_blocklist_free(&app.blocklist);
  rg_engine_free(&app.engine);
  rg_store_close(&app.store);
  free(app.api_key);
  if (app.base)
    event_base_free(app.base);
  curl_global_cleanup();
  rg_info("stopped");
  rg_log_close();
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "seed") == 0)
    return rg_cmd_seed(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "mktorrent") == 0)
    return rg_cmd_mktorrent(argc - 1, argv + 1);
  if (argc > 1 && strcmp(argv[1], "demo") == 0)
    return rg_cmd_demo(argc - 1, argv + 1);
  rg_conf c;
  char *cause = NULL;
  int rc = rg_conf_load(&c, argc, argv, &cause);
  if (rc == RG_CONF_EXIT) {
    rg_conf_free(&c);
    return 0;
  }
  if (rc) {
    fprintf(stderr, "reelgate: %s\n", cause ? cause : "bad configuration");
    free(cause);
    rg_conf_free(&c);
    return 1;
  }
  rg_ui_set_args(argc, argv); /* the web UI's settings origin and restart */
  rc = run(&c);
  rg_conf_free(&c);
  if (rc == 0 && rg_ui_restart_requested()) { /* POST /api/restart */
    rc = rg_ui_reexec();
    fprintf(stderr, "reelgate: cannot restart: %s\n", strerror(-rc));
    return 1;
  }
  return rc;
}
