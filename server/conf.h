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

#endif
