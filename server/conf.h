/* conf.h — the daemon's settings: embedded defaults, then a JSON file
 * (--config FILE), then REELGATE_<KEY> environment variables, then flags.
 * One table in conf.c describes every key (name, type, default, help). */
#ifndef RG_CONF_H
#define RG_CONF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct rg_conf {
  char *data_dir;          /* "./reelgate-data" */
  char *bind;              /* "0.0.0.0" — HTTP listen address */
  int http_port;           /* 8090 */
  char *api_key;           /* "" → generated on first start, kept in the DB */
  char *cache_dir;         /* "" → <data_dir>/cache */
  int64_t cache_budget_mb; /* 0 = unlimited */
  int read_timeout_s;      /* 30: a read waits at most this long for data */
  int idle_timeout_s;      /* 300: an unread torrent leaves the session */
  int metadata_timeout_s;  /* 60: a magnet's metadata fetch gives up */
  int readahead_mb;        /* 32: max read-ahead window per reader */
  int bt_port;             /* 0 = any free port */
  char *bt_bind;           /* "0.0.0.0" — BitTorrent listen address */
  bool bt_outgoing_utp;    /* false */
  bool dht;                /* true */
  int download_limit_kbps; /* 0 = unlimited (KiB/s) */
  int upload_limit_kbps;   /* 0 = unlimited (KiB/s) */
  int connections_limit;   /* 200 */
  int max_active_torrents; /* 16: torrents in the session at once */
  char *log_level;         /* "info" */
  char *log_file;          /* "" → <data_dir>/reelgate.log; "-" = stderr only */
  char *mount;             /* "" = no FUSE mount */
  /* webhooks and priority mode (playback.c) */
  char *webhook_token;     /* "" → generated on first start, kept in the DB */
  int playback_grace_s;    /* 15: a stopped title leaves the session after */
  int playback_safety_timeout_s; /* 14400: priority ends without a stop */
  int priority_background_kbps;  /* 256: others' download while playing */
  char *path_mappings;     /* "" or "from=to;from2=to2" (media server paths) */
  /* the warmup store (warmup.c) */
  int64_t warm_quota_mb;   /* 32768: disk kept for warm heads/tails; 0 = off */
  int64_t warm_head_mb;    /* 64: head of each file kept warm */
  int64_t warm_tail_mb;    /* 2: tail kept while its exact regions are unknown */
  /* sync jobs (sync/): services; keys and tokens are never logged or
   * returned by the API */
  char *tmdb_api_key;      /* "" = no TMDB (a v3 key, or a v4 bearer token) */
  char *tmdb_url;          /* "https://api.themoviedb.org/3" */
  char *tmdb_language;     /* "en-US" */
  char *tmdb_region;       /* "" */
  char *prowlarr_url;      /* "" = no Prowlarr */
  char *prowlarr_api_key;
  char *torznab_url;       /* "" = no Torznab indexer (Jackett …/api) */
  char *torznab_api_key;
  char *torrentio_url;     /* "https://torrentio.strem.fun"; "" = none */
  char *plex_url;          /* "" = no Plex library refresh */
  char *plex_token;
  char *plex_sections;     /* "" = all sections, or "1,2" */
  char *plex_watchlist_url; /* "https://discover.provider.plex.tv" */
  char *jellyfin_url;      /* "" = no Jellyfin library refresh */
  char *jellyfin_api_key;
  /* sync jobs: choosing releases (sync/rank.c) */
  char *sync_ladder;       /* best first */
  int sync_min_seeders;    /* 20 */
  int sync_watchlist_min_seeders; /* 10 */
  char *sync_movie_sizes;  /* "2160p=8000-120000,1080p=1500-60000" MiB */
  char *sync_episode_sizes; /* per episode */
  char *sync_reject;       /* "cam,ts,tc,screener,workprint,3d" */
  char *sync_languages;    /* "en" */
  int sync_upgrade_margin; /* 100 = one ladder tier */
  int sync_upgrade_recheck_h; /* 24: upgrade searches per item at most */
  /* sync jobs: what to look for (sync/jobs.c) */
  char *sync_movie_lists;  /* "popular,trending" */
  int sync_movie_pages;    /* 1 */
  int sync_movie_limit;    /* 20 per run */
  char *sync_tv_lists;     /* "" */
  char *sync_tv_follow;    /* "" or "1399,tt0944947" */
  int sync_tv_seasons;     /* 1: the last N seasons */
  int sync_tv_limit;       /* 10 shows per run */
  int sync_negative_ttl_h; /* 24 */
  int sync_http_timeout_s; /* 20 */
  int sync_http_retries;   /* 2 */
  int sync_rate_limit_ms;  /* 250 between requests to one service */
  int sync_metadata_wait_s; /* 60 */
  /* ecosystem (blocklist.c, portmap.c, api-ecosystem.c, torrserver.c) */
  char *blocklist;         /* "" = none; files and URLs, comma-separated */
  int blocklist_refresh_h; /* 24: reload every N hours (0 = never) */
  bool natpmp;             /* false: libtorrent's NAT-PMP client */
  bool upnp;               /* false: libtorrent's UPnP client */
  char *portmap_gateway;   /* "" = off; VPN-gateway NAT-PMP "IP[:PORT]" */
  int portmap_lifetime_s;  /* 60: lifetime asked of the gateway */
  int portmap_refresh_s;   /* 0 = lifetime / 2 */
  bool metrics_open;       /* false: GET /metrics needs the API key */
  bool torrserver;         /* true: the TorrServer-compatible routes */
  char *config_path;       /* set by --config, not a key */
} rg_conf;

enum { RG_CONF_OK = 0, RG_CONF_EXIT = 1 /* --help/--version printed */ };

/* Fills C from defaults, the file, the environment and ARGV (ARGV[0] is the
 * program name; options only, no subcommand). 0, RG_CONF_EXIT, or -EINVAL
 * with *cause (malloc'd) naming the key/line/flag and what is expected:
 * unknown key, wrong type, out of range, unparsable JSON (with line:col). */
int rg_conf_load(rg_conf *c, int argc, char **argv, char **cause);
/* Parses a JSON config text into C (on top of what C holds). Same errors. */
int rg_conf_parse_json(rg_conf *c, const char *text, size_t len, const char *origin,
                       char **cause);
void rg_conf_defaults(rg_conf *c);
void rg_conf_free(rg_conf *c);
/* Prints usage: every flag and every key with its env name and default. */
void rg_conf_usage(FILE *f);

/* ---- settings by name (the web UI's /api/settings, api-ui.c) ---- */
typedef struct rg_conf_keyinfo {
  const char *name;
  const char *type; /* "string", "int" or "bool" */
  const char *def;  /* default, as text */
  const char *help;
  const char *choices; /* "a|b|c" or NULL */
  const char *flag;    /* dedicated option ("--port N") or NULL */
  int64_t min, max;    /* ints: range; strings: length range (no choices) */
} rg_conf_keyinfo;
struct json_t;
/* How many keys the table has; key I's description (0 or -ENOENT). */
size_t rg_conf_nkeys(void);
int rg_conf_key_at(size_t i, rg_conf_keyinfo *out);
/* The description of key NAME, or -ENOENT. */
int rg_conf_key_info(const char *name, rg_conf_keyinfo *out);
/* NAME's value in C as a new JSON value (string, integer or boolean), or
 * NULL for an unknown key. */
struct json_t *rg_conf_get_json(const rg_conf *c, const char *name);
/* Sets NAME from V with the config file's rules (type, range, choices).
 * 0, or -ENOENT/-EINVAL with *cause (malloc'd) saying what is expected. */
int rg_conf_set_json(rg_conf *c, const char *name, struct json_t *v,
                     char **cause);
/* Where NAME's value beyond the default comes from, the later winning:
 * "flag" (in ARGV), "env" (REELGATE_<KEY>), "file" (C's config file), or
 * NULL (the default). */
const char *rg_conf_origin(const rg_conf *c, const char *name, int argc,
                           char **argv);

#endif
