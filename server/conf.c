/* conf.c — settings from defaults, a JSON file, REELGATE_* environment
 * variables and command-line options, in that order, later ones winning.
 *
 * One table (keys[]) drives everything: the defaults (as text, fed through
 * the same parser as the environment), the JSON keys, the environment names
 * (REELGATE_ + the key uppercased), the --set KEY=VALUE option, the dedicated
 * options (--port, --bind, …) and the usage text. Adding a setting is one row
 * here and one field in rg_conf. Every error names where the bad value came
 * from (FILE:LINE:COL, the variable, the option) and what is expected.
 *
 * Called once at start-up from the main thread; not thread-safe. */
#include "config.h"

#include "conf.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RG_CONF_FILE_MAX (1 << 20)
/* Seconds are turned into milliseconds in an int elsewhere. */
#define TIMEOUT_MAX (INT_MAX / 1000)
/* KiB/s are turned into bytes/s in an int for libtorrent. */
#define KBPS_MAX (INT_MAX / 1024)

enum key_type { T_STRING, T_INT, T_INT64, T_BOOL };

typedef struct conf_key {
  const char *name;
  enum key_type type;
  size_t off;
  const char *def;     /* default, as text an environment variable would hold */
  int64_t min, max;    /* integers: range; strings: min..max length */
  const char *choices; /* strings: "a|b|c", or NULL for any */
  const char *flag;    /* dedicated option and its metavar, or NULL */
  const char *help;
} conf_key;

#define OFF(f) offsetof(rg_conf, f)

static const conf_key keys[] = {
    {"data_dir", T_STRING, OFF(data_dir), "./reelgate-data", 1, PATH_MAX, NULL,
     "--data-dir DIR", "directory for the state database, cache and logs"},
    {"bind", T_STRING, OFF(bind), "0.0.0.0", 1, 255, NULL, "--bind ADDR",
     "address the HTTP server listens on"},
    {"http_port", T_INT, OFF(http_port), "8090", 0, 65535, NULL, "--port N",
     "HTTP port (0 = any free port)"},
    {"api_key", T_STRING, OFF(api_key), "", 0, 255, NULL, NULL,
     "API key clients must send (empty = generate one on first start and "
     "keep it in the database)"},
    {"cache_dir", T_STRING, OFF(cache_dir), "", 0, PATH_MAX, NULL, NULL,
     "where torrent data is stored (empty = DATA_DIR/cache)"},
    {"cache_budget_mb", T_INT64, OFF(cache_budget_mb), "0", 0, INT64_MAX >> 20,
     NULL, NULL, "MiB of torrent data to keep on disk (0 = unlimited)"},
    {"read_timeout_s", T_INT, OFF(read_timeout_s), "30", 1, TIMEOUT_MAX, NULL,
     NULL, "seconds a read waits for missing data before failing"},
    {"idle_timeout_s", T_INT, OFF(idle_timeout_s), "300", 1, TIMEOUT_MAX, NULL,
     NULL, "seconds an unread torrent stays in the session"},
    {"metadata_timeout_s", T_INT, OFF(metadata_timeout_s), "60", 1, TIMEOUT_MAX,
     NULL, NULL, "seconds to wait for a magnet's metadata"},
    {"readahead_mb", T_INT, OFF(readahead_mb), "32", 1, 4096, NULL, NULL,
     "largest read-ahead window per reader, in MiB"},
    {"bt_port", T_INT, OFF(bt_port), "0", 0, 65535, NULL, NULL,
     "BitTorrent listen port (0 = any free port)"},
    {"bt_bind", T_STRING, OFF(bt_bind), "0.0.0.0", 1, 255, NULL, NULL,
     "address BitTorrent listens on and connects from"},
    {"bt_outgoing_utp", T_BOOL, OFF(bt_outgoing_utp), "false", 0, 1, NULL, NULL,
     "make outgoing peer connections over uTP too"},
    {"dht", T_BOOL, OFF(dht), "true", 0, 1, NULL, NULL,
     "use the BitTorrent DHT to find peers"},
    {"download_limit_kbps", T_INT, OFF(download_limit_kbps), "0", 0, KBPS_MAX,
     NULL, NULL, "download rate limit in KiB/s (0 = unlimited)"},
    {"upload_limit_kbps", T_INT, OFF(upload_limit_kbps), "0", 0, KBPS_MAX, NULL,
     NULL, "upload rate limit in KiB/s (0 = unlimited)"},
    {"connections_limit", T_INT, OFF(connections_limit), "200", 1, 65535, NULL,
     NULL, "most peer connections at once"},
    {"max_active_torrents", T_INT, OFF(max_active_torrents), "16", 1, 10000,
     NULL, NULL, "most torrents in the BitTorrent session at once"},
    {"log_level", T_STRING, OFF(log_level), "info", 0, 0,
     "error|warn|info|debug", "--log-level L",
     "least important messages logged"},
    {"log_file", T_STRING, OFF(log_file), "", 0, PATH_MAX, NULL, NULL,
     "log file (empty = DATA_DIR/reelgate.log, \"-\" = stderr only)"},
    {"mount", T_STRING, OFF(mount), "", 0, PATH_MAX, NULL, "--mount DIR",
     "mount the library here with FUSE (empty = no mount)"},
    /* webhooks and priority mode (playback.c) */
    {"webhook_token", T_STRING, OFF(webhook_token), "", 0, 255, NULL, NULL,
     "token media servers put in the webhook URL (empty = generate one on "
     "first start and keep it in the database; GET /api/webhooks shows it)"},
    {"playback_grace_s", T_INT, OFF(playback_grace_s), "15", 0, TIMEOUT_MAX,
     NULL, NULL, "seconds a title stays in the session after its player stops"},
    {"playback_safety_timeout_s", T_INT, OFF(playback_safety_timeout_s),
     "14400", 1, TIMEOUT_MAX, NULL, NULL,
     "seconds without a webhook event after which priority mode ends"},
    {"priority_background_kbps", T_INT, OFF(priority_background_kbps), "256", 0,
     KBPS_MAX, NULL, NULL,
     "KiB/s other torrents may download while a title plays (0 = pause)"},
    {"path_mappings", T_STRING, OFF(path_mappings), "", 0, 8192, NULL, NULL,
     "media server path prefixes to rewrite before matching a webhook's "
     "file, as from=to;from2=to2"},
    /* the warmup store (warmup.c) */
    {"warm_quota_mb", T_INT64, OFF(warm_quota_mb), "32768", 0, INT64_MAX >> 20,
     NULL, NULL,
     "MiB of disk for warm heads and tails of titles, least recently used "
     "evicted first (0 = no warmup store)"},
    {"warm_head_mb", T_INT64, OFF(warm_head_mb), "64", 0, 1 << 20, NULL, NULL,
     "MiB at the start of each title kept warm"},
    {"warm_tail_mb", T_INT64, OFF(warm_tail_mb), "2", 0, 1 << 20, NULL, NULL,
     "MiB at the end of a title kept warm until the exact regions players "
     "read there are known"},
    /* sync jobs (sync/) */
    {"tmdb_api_key", T_STRING, OFF(tmdb_api_key), "", 0, 1024, NULL, NULL,
     "TMDB API key (v3) or read access token (v4); empty = no TMDB lists"},
    {"tmdb_url", T_STRING, OFF(tmdb_url), "https://api.themoviedb.org/3", 1,
     1024, NULL, NULL, "TMDB API base URL"},
    {"tmdb_language", T_STRING, OFF(tmdb_language), "en-US", 0, 32, NULL, NULL,
     "language of TMDB lists (e.g. en-US, fr-FR)"},
    {"tmdb_region", T_STRING, OFF(tmdb_region), "", 0, 8, NULL, NULL,
     "region of TMDB lists (ISO 3166-1, e.g. US; empty = any)"},
    {"prowlarr_url", T_STRING, OFF(prowlarr_url), "", 0, 1024, NULL, NULL,
     "Prowlarr base URL, e.g. http://127.0.0.1:9696 (empty = not used)"},
    {"prowlarr_api_key", T_STRING, OFF(prowlarr_api_key), "", 0, 255, NULL,
     NULL, "Prowlarr API key"},
    {"torznab_url", T_STRING, OFF(torznab_url), "", 0, 1024, NULL, NULL,
     "a Torznab endpoint (Jackett: http://host:9117/api/v2.0/indexers/all/"
     "results/torznab/api; empty = not used)"},
    {"torznab_api_key", T_STRING, OFF(torznab_api_key), "", 0, 255, NULL, NULL,
     "the Torznab endpoint's API key"},
    {"torrentio_url", T_STRING, OFF(torrentio_url),
     "https://torrentio.strem.fun", 0, 1024, NULL, NULL,
     "Torrentio base URL, the fallback indexer (empty = not used)"},
    {"plex_url", T_STRING, OFF(plex_url), "", 0, 1024, NULL, NULL,
     "Plex server URL, refreshed after sync changes (empty = none)"},
    {"plex_token", T_STRING, OFF(plex_token), "", 0, 255, NULL, NULL,
     "Plex token (X-Plex-Token), also used for the watchlist"},
    {"plex_sections", T_STRING, OFF(plex_sections), "", 0, 255, NULL, NULL,
     "Plex library section ids to refresh, as 1,2 (empty = all)"},
    {"plex_watchlist_url", T_STRING, OFF(plex_watchlist_url),
     "https://discover.provider.plex.tv", 0, 1024, NULL, NULL,
     "Plex discover service holding the watchlist"},
    {"jellyfin_url", T_STRING, OFF(jellyfin_url), "", 0, 1024, NULL, NULL,
     "Jellyfin server URL, refreshed after sync changes (empty = none)"},
    {"jellyfin_api_key", T_STRING, OFF(jellyfin_api_key), "", 0, 255, NULL,
     NULL, "Jellyfin API key"},
    {"sync_ladder", T_STRING, OFF(sync_ladder),
     "2160p dv,2160p hdr10+,2160p hdr,2160p,1080p remux,1080p", 1, 1024, NULL,
     NULL,
     "release tiers, best first; words: a resolution, dv, hdr10+, hdr, "
     "remux, bluray, web, x265, x264, av1 (a release matching none is "
     "skipped)"},
    {"sync_min_seeders", T_INT, OFF(sync_min_seeders), "20", 0, 1000000, NULL,
     NULL, "fewest seeders a release needs"},
    {"sync_watchlist_min_seeders", T_INT, OFF(sync_watchlist_min_seeders),
     "10", 0, 1000000, NULL, NULL,
     "fewest seeders a release needs for a watchlist title"},
    {"sync_movie_sizes", T_STRING, OFF(sync_movie_sizes),
     "2160p=4000-150000,1080p=700-60000,720p=300-15000", 0, 1024, NULL, NULL,
     "movie size bounds per resolution in MiB, as RES=MIN-MAX,…"},
    {"sync_episode_sizes", T_STRING, OFF(sync_episode_sizes),
     "2160p=1000-40000,1080p=150-15000,720p=80-6000", 0, 1024, NULL, NULL,
     "episode size bounds per resolution in MiB (packs: per episode)"},
    {"sync_reject", T_STRING, OFF(sync_reject),
     "cam,ts,tc,screener,workprint,3d", 0, 255, NULL, NULL,
     "release kinds never taken (cam, ts, tc, screener, workprint, 3d)"},
    {"sync_languages", T_STRING, OFF(sync_languages), "en", 0, 255, NULL, NULL,
     "languages a release may be tagged with, as en,fr (untagged and MULTI "
     "always pass; empty = any)"},
    {"sync_upgrade_margin", T_INT, OFF(sync_upgrade_margin), "100", 1, 100000,
     NULL, NULL,
     "score a release must beat the current one by to replace it (100 = one "
     "ladder tier; audio and REMUX add up to 99)"},
    {"sync_upgrade_recheck_h", T_INT, OFF(sync_upgrade_recheck_h), "24", 0,
     100000, NULL, NULL,
     "hours before a title or episode in the library is searched for an "
     "upgrade again (0 = every run; a run started with force=1 ignores it)"},
    {"sync_movie_lists", T_STRING, OFF(sync_movie_lists), "popular,trending",
     0, 255, NULL, NULL,
     "TMDB movie lists: popular, trending, trending_day, now_playing, "
     "top_rated, upcoming, discover"},
    {"sync_movie_pages", T_INT, OFF(sync_movie_pages), "1", 1, 50, NULL, NULL,
     "pages of each TMDB list (20 titles a page)"},
    {"sync_movie_limit", T_INT, OFF(sync_movie_limit), "20", 1, 1000, NULL,
     NULL, "most movies a run looks up"},
    {"sync_tv_lists", T_STRING, OFF(sync_tv_lists), "", 0, 255, NULL, NULL,
     "TMDB TV lists: popular, trending, top_rated, on_the_air"},
    {"sync_tv_follow", T_STRING, OFF(sync_tv_follow), "", 0, 8192, NULL, NULL,
     "shows always followed, as TMDB ids or IMDb ids: 1399,tt0903747"},
    {"sync_tv_seasons", T_INT, OFF(sync_tv_seasons), "1", 1, 100, NULL, NULL,
     "the last N seasons of each show"},
    {"sync_tv_limit", T_INT, OFF(sync_tv_limit), "10", 1, 1000, NULL, NULL,
     "most shows a run looks up"},
    {"sync_negative_ttl_h", T_INT, OFF(sync_negative_ttl_h), "24", 0, 100000,
     NULL, NULL,
     "hours a title with no acceptable release is not searched again"},
    {"sync_http_timeout_s", T_INT, OFF(sync_http_timeout_s), "20", 1, 600,
     NULL, NULL, "seconds one request to a service may take"},
    {"sync_http_retries", T_INT, OFF(sync_http_retries), "2", 0, 10, NULL,
     NULL, "retries after a network error, 429 or 5xx (with backoff)"},
    {"sync_rate_limit_ms", T_INT, OFF(sync_rate_limit_ms), "250", 0, 60000,
     NULL, NULL, "least milliseconds between two requests to one service"},
    {"sync_metadata_wait_s", T_INT, OFF(sync_metadata_wait_s), "60", 0, 3600,
     NULL, NULL,
     "seconds a run waits for added torrents' metadata before it ends (their "
     "library entries are made whenever it arrives)"},
    /* ecosystem (blocklist.c, portmap.c, api-ecosystem.c, torrserver.c) */
    {"blocklist", T_STRING, OFF(blocklist), "", 0, 65536, NULL, NULL,
     "IP blocklists to load before any peer connection: files or http(s) "
     "URLs, comma-separated; P2P, DAT or CIDR lines, plain or gzip"},
    {"blocklist_refresh_h", T_INT, OFF(blocklist_refresh_h), "24", 0, 8760,
     NULL, NULL, "hours between blocklist reloads (0 = only at start)"},
    {"natpmp", T_BOOL, OFF(natpmp), "false", 0, 1, NULL, NULL,
     "map the BitTorrent port on the router with NAT-PMP (libtorrent)"},
    {"upnp", T_BOOL, OFF(upnp), "false", 0, 1, NULL, NULL,
     "map the BitTorrent port on the router with UPnP (libtorrent)"},
    {"portmap_gateway", T_STRING, OFF(portmap_gateway), "", 0, 80, NULL, NULL,
     "VPN-gateway mode: ask this NAT-PMP gateway (IP or IP:PORT) for a port "
     "and listen on the port it maps (empty = off)"},
    {"portmap_lifetime_s", T_INT, OFF(portmap_lifetime_s), "60", 1, 86400,
     NULL, NULL, "lifetime asked for the gateway's port mapping"},
    {"portmap_refresh_s", T_INT, OFF(portmap_refresh_s), "0", 0, 86400, NULL,
     NULL, "seconds between renewals of the gateway mapping (0 = half the "
     "lifetime)"},
    {"metrics_open", T_BOOL, OFF(metrics_open), "false", 0, 1, NULL, NULL,
     "serve GET /metrics without the API key"},
    {"torrserver", T_BOOL, OFF(torrserver), "true", 0, 1, NULL, NULL,
     "answer the TorrServer API (/echo, /torrents, /stream?link=, …)"},
};

#define FIELD(c, k, T) ((T *)(void *)((char *)(c) + (k)->off))

static const conf_key *key_find(const char *name, size_t len) {
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++)
    if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
      return &keys[i];
  return NULL;
}

/* "REELGATE_HTTP_PORT" for "http_port", into BUF. */
static void env_name(const conf_key *k, char *buf, size_t len) {
  size_t o = (size_t)snprintf(buf, len, "REELGATE_");
  for (const char *s = k->name; *s && o + 1 < len; s++)
    buf[o++] = (char)toupper((unsigned char)*s);
  buf[o] = 0;
}

/* What K accepts, for messages: "an integer between 0 and 65535". */
static char *key_expect(const conf_key *k) {
  switch (k->type) {
  case T_INT:
  case T_INT64:
    return rg_printf("an integer between %" PRId64 " and %" PRId64, k->min,
                     k->max);
  case T_BOOL:
    return rg_strdup("a boolean (true or false)");
  case T_STRING:
    break;
  }
  if (k->choices) {
    char *alts = rg_malloc(2 * strlen(k->choices) + 1), *o = alts;
    for (const char *s = k->choices; *s; s++) {
      if (*s == '|') {
        *o++ = ',';
        *o++ = ' ';
      } else {
        *o++ = *s;
      }
    }
    *o = 0;
    char *r = rg_printf("one of %s", alts);
    free(alts);
    return r;
  }
  return rg_strdup(k->min > 0 ? "a non-empty string" : "a string");
}

/* "must be EXPECT, got GOT" into *why; returns -EINVAL. */
static int bad_value(const conf_key *k, const char *got, char **why) {
  char *expect = key_expect(k);
  *why = rg_printf("must be %s, got %s", expect, got);
  free(expect);
  return -EINVAL;
}

static int set_int(rg_conf *c, const conf_key *k, int64_t v, char **why) {
  if (v < k->min || v > k->max) {
    char got[32];
    snprintf(got, sizeof got, "%" PRId64, v);
    return bad_value(k, got, why);
  }
  if (k->type == T_INT64)
    *FIELD(c, k, int64_t) = v;
  else
    *FIELD(c, k, int) = (int)v;
  return 0;
}

static int set_string(rg_conf *c, const conf_key *k, const char *v,
                      char **why) {
  size_t n = strlen(v);
  bool ok;
  if (k->choices) {
    ok = false;
    for (const char *s = k->choices; *s;) {
      size_t alen = strcspn(s, "|");
      if (alen == n && memcmp(s, v, n) == 0)
        ok = true;
      s += alen + (s[alen] == '|');
    }
  } else {
    ok = (int64_t)n >= k->min && (int64_t)n <= k->max;
  }
  if (!ok) {
    char *got = rg_printf("'%s'", v);
    int rc = bad_value(k, got, why);
    free(got);
    return rc;
  }
  char **f = FIELD(c, k, char *);
  free(*f);
  *f = rg_strdup(v);
  return 0;
}

/* Sets K from the text V (environment, options, defaults). */
static int set_text(rg_conf *c, const conf_key *k, const char *v, char **why) {
  switch (k->type) {
  case T_STRING:
    return set_string(c, k, v, why);
  case T_INT:
  case T_INT64: {
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (!*v || isspace((unsigned char)*v) || *end || errno) {
      char *got = rg_printf("'%s'", v);
      int rc = bad_value(k, got, why);
      free(got);
      return rc;
    }
    return set_int(c, k, n, why);
  }
  case T_BOOL: {
    static const char *const yes[] = {"true", "1", "yes", "on"};
    static const char *const no[] = {"false", "0", "no", "off"};
    for (size_t i = 0; i < RG_ARRAY_LEN(yes); i++) {
      if (strcasecmp(v, yes[i]) == 0 || strcasecmp(v, no[i]) == 0) {
        *FIELD(c, k, bool) = strcasecmp(v, yes[i]) == 0;
        return 0;
      }
    }
    char *got = rg_printf("'%s' (use true/false, yes/no or 1/0)", v);
    *why = rg_printf("must be a boolean, got %s", got);
    free(got);
    return -EINVAL;
  }
  }
  return -EINVAL;
}

static const char *json_type_name(const json_t *v) {
  switch (json_typeof(v)) {
  case JSON_OBJECT:
    return "object";
  case JSON_ARRAY:
    return "array";
  case JSON_STRING:
    return "string";
  case JSON_INTEGER:
    return "integer";
  case JSON_REAL:
    return "non-integer number";
  case JSON_TRUE:
  case JSON_FALSE:
    return "boolean";
  case JSON_NULL:
    return "null";
  }
  return "something else";
}

/* Sets K from the JSON value V. */
static int set_json(rg_conf *c, const conf_key *k, json_t *v, char **why) {
  switch (k->type) {
  case T_STRING:
    if (json_is_string(v))
      return set_string(c, k, json_string_value(v), why);
    break;
  case T_INT:
  case T_INT64:
    if (json_is_integer(v))
      return set_int(c, k, (int64_t)json_integer_value(v), why);
    break;
  case T_BOOL:
    if (json_is_boolean(v)) {
      *FIELD(c, k, bool) = json_is_true(v);
      return 0;
    }
    break;
  }
  return bad_value(k, json_type_name(v), why);
}

/* "unknown key 'x' (did you mean 'y'? | known keys: …)". */
static char *unknown_key(const char *name) {
  char norm[64];
  size_t n = 0;
  for (const char *s = name; *s && n + 1 < sizeof norm; s++)
    norm[n++] = *s == '-' ? '_' : (char)tolower((unsigned char)*s);
  norm[n] = 0;
  const conf_key *near = key_find(norm, n);
  if (near)
    return rg_printf("unknown key '%s' (did you mean '%s'?)", name, near->name);
  size_t len = 1;
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++)
    len += strlen(keys[i].name) + 2;
  char *list = rg_malloc(len), *p = list;
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++)
    p += sprintf(p, "%s%s", i ? ", " : "", keys[i].name);
  char *r = rg_printf("unknown key '%s' (known keys: %s)", name, list);
  free(list);
  return r;
}

void rg_conf_defaults(rg_conf *c) {
  memset(c, 0, sizeof *c);
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++) {
    char *why = NULL;
    if (set_text(c, &keys[i], keys[i].def, &why) < 0)
      abort(); /* the table itself is wrong */
  }
}

void rg_conf_free(rg_conf *c) {
  if (!c)
    return;
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++) {
    if (keys[i].type == T_STRING) {
      char **f = FIELD(c, &keys[i], char *);
      free(*f);
      *f = NULL;
    }
  }
  free(c->config_path);
  c->config_path = NULL;
}

int rg_conf_parse_json(rg_conf *c, const char *text, size_t len,
                       const char *origin, char **cause) {
  json_error_t err;
  char *why = NULL;
  int rc = 0;
  if (!origin)
    origin = "config";
  json_t *root =
      json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &err);
  if (!root) {
    if (err.line > 0)
      *cause =
          rg_printf("%s:%d:%d: %s", origin, err.line, err.column, err.text);
    else
      *cause = rg_printf("%s: %s", origin, err.text);
    return -EINVAL;
  }
  if (!json_is_object(root)) {
    *cause = rg_printf("%s: the top level must be a JSON object "
                       "({\"key\": value, ...}), got %s",
                       origin, json_type_name(root));
    rc = -EINVAL;
    goto out;
  }
  const char *name;
  json_t *v;
  json_object_foreach(root, name, v) {
    const conf_key *k = key_find(name, strlen(name));
    if (!k) {
      char *msg = unknown_key(name);
      *cause = rg_printf("%s: %s", origin, msg);
      free(msg);
      rc = -EINVAL;
      goto out;
    }
    if ((rc = set_json(c, k, v, &why)) < 0) {
      *cause = rg_printf("%s: key '%s' %s", origin, k->name, why);
      goto out;
    }
  }
out:
  free(why);
  json_decref(root);
  return rc;
}

static int load_file(rg_conf *c, const char *path, char **cause) {
  uint8_t *buf = NULL;
  size_t len = 0;
  int rc = rg_read_file(path, RG_CONF_FILE_MAX, &buf, &len);
  if (rc < 0) {
    *cause = rg_printf("cannot read config file %s: %s%s", path, strerror(-rc),
                       rc == -EFBIG ? " (over 1 MiB)" : "");
    return -EINVAL;
  }
  rc = rg_conf_parse_json(c, (const char *)buf, len, path, cause);
  free(buf);
  return rc;
}

static int load_env(rg_conf *c, char **cause) {
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++) {
    char name[64], *why = NULL;
    env_name(&keys[i], name, sizeof name);
    const char *v = getenv(name);
    if (!v)
      continue;
    if (set_text(c, &keys[i], v, &why) < 0) {
      *cause = rg_printf("environment variable %s %s", name, why);
      free(why);
      return -EINVAL;
    }
  }
  return 0;
}

/* An option given on the command line, applied after the file and env. */
typedef struct pending {
  const char *opt; /* as typed, without "=VALUE" */
  size_t optlen;
  const conf_key *k; /* NULL for --set */
  const char *value;
} pending;

/* The key behind the dedicated option NAME ("port"), or NULL. */
static const conf_key *flag_find(const char *name, size_t len) {
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++) {
    const char *f = keys[i].flag;
    if (!f)
      continue;
    size_t flen = strcspn(f + 2, " ");
    if (flen == len && memcmp(f + 2, name, len) == 0)
      return &keys[i];
  }
  return NULL;
}

static int apply_pending(rg_conf *c, const pending *p, char **cause) {
  char *why = NULL;
  const conf_key *k = p->k;
  const char *v = p->value;
  int rc;
  if (!k) { /* --set KEY=VALUE */
    const char *eq = strchr(v, '=');
    if (!eq || eq == v) {
      *cause = rg_printf("%.*s expects KEY=VALUE, got '%s'", (int)p->optlen,
                         p->opt, v);
      return -EINVAL;
    }
    if (!(k = key_find(v, (size_t)(eq - v)))) {
      char *key = rg_strndup(v, (size_t)(eq - v)), *msg = unknown_key(key);
      *cause = rg_printf("%.*s: %s", (int)p->optlen, p->opt, msg);
      free(msg);
      free(key);
      return -EINVAL;
    }
    v = eq + 1;
  }
  if ((rc = set_text(c, k, v, &why)) < 0) {
    if (p->k)
      *cause = rg_printf("%.*s %s", (int)p->optlen, p->opt, why);
    else
      *cause = rg_printf("%.*s %s: %s", (int)p->optlen, p->opt, k->name, why);
  }
  free(why);
  return rc;
}

int rg_conf_load(rg_conf *c, int argc, char **argv, char **cause) {
  char *dummy = NULL;
  if (!cause)
    cause = &dummy;
  *cause = NULL;
  rg_conf_defaults(c);

  /* --help and --version win wherever they are. */
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--") == 0)
      break;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      rg_conf_usage(stdout);
      return RG_CONF_EXIT;
    }
    if (strcmp(argv[i], "--version") == 0) {
      printf("reelgate %s\n", PACKAGE_VERSION);
      return RG_CONF_EXIT;
    }
  }

  int rc = 0;
  size_t np = 0;
  pending *pend = rg_calloc(argc > 0 ? (size_t)argc : 1, sizeof *pend);
  const char *config = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    bool positional = false;
    if (strcmp(a, "--") == 0) { /* end of options: nothing may follow */
      if (i + 1 == argc)
        break;
      a = argv[++i];
      positional = true;
    }
    if (positional || strncmp(a, "--", 2) != 0 || !a[2]) {
      *cause = rg_printf("unexpected argument '%s' (reelgate takes only "
                         "options; see --help)",
                         a);
      rc = -EINVAL;
      goto out;
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
    const conf_key *k = flag_find(name, nlen);
    bool is_set = nlen == 3 && memcmp(name, "set", 3) == 0;
    bool is_config = nlen == 6 && memcmp(name, "config", 6) == 0;
    if (!k && !is_set && !is_config) {
      *cause =
          rg_printf("unknown option '%.*s' (see --help)", (int)nlen + 2, a);
      rc = -EINVAL;
      goto out;
    }
    const char *v = eq ? eq + 1 : NULL;
    if (!v) {
      if (i + 1 >= argc) {
        *cause = rg_printf("option %s needs a value (see --help)", a);
        rc = -EINVAL;
        goto out;
      }
      v = argv[++i];
    }
    if (is_config)
      config = v;
    else
      pend[np++] = (pending){a, nlen + 2, k, v};
  }

  if (!config)
    config = getenv("REELGATE_CONFIG");
  if (config && *config) {
    c->config_path = rg_strdup(config);
    if ((rc = load_file(c, config, cause)) < 0)
      goto out;
  }
  if ((rc = load_env(c, cause)) < 0)
    goto out;
  for (size_t i = 0; i < np; i++)
    if ((rc = apply_pending(c, &pend[i], cause)) < 0)
      goto out;
out:
  free(pend);
  free(dummy);
  return rc;
}

void rg_conf_usage(FILE *f) {
  fprintf(
      f,
      "Usage: reelgate [OPTIONS]\n"
      "\n"
      "Streams torrents as HTTP byte ranges.\n"
      "\n"
      "Settings come from, later ones winning: built-in defaults, the JSON\n"
      "file given by --config (or REELGATE_CONFIG), REELGATE_<KEY>\n"
      "environment variables, then the options below.\n"
      "\n"
      "Options:\n"
      "  %-22s %s\n",
      "--config FILE", "read settings from this JSON file");
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++)
    if (keys[i].flag)
      fprintf(f, "  %-22s same as --set %s=%s\n", keys[i].flag, keys[i].name,
              strchr(keys[i].flag, ' ') + 1);
  fprintf(f,
          "  %-22s set any key below (repeatable)\n"
          "  %-22s print this help and exit\n"
          "  %-22s print the version and exit\n"
          "\n"
          "Keys (JSON file key, environment variable, default):\n",
          "--set KEY=VALUE", "-h, --help", "--version");
  for (size_t i = 0; i < RG_ARRAY_LEN(keys); i++) {
    const conf_key *k = &keys[i];
    char env[64], *expect = key_expect(k);
    env_name(k, env, sizeof env);
    if (k->type == T_STRING)
      fprintf(f, "  %-20s %-30s default \"%s\"\n", k->name, env, k->def);
    else
      fprintf(f, "  %-20s %-30s default %s\n", k->name, env, k->def);
    fprintf(f, "      %s; %s\n", k->help, expect);
    free(expect);
  }
  fprintf(f, "\nBooleans accept true/false, yes/no, on/off and 1/0 in the "
             "environment and options.\n");
}

/* ---- settings by name (the web UI's /api/settings, api-ui.c) ---- */

size_t rg_conf_nkeys(void) { return RG_ARRAY_LEN(keys); }

static void key_describe(const conf_key *k, rg_conf_keyinfo *out) {
  static const char *const tnames[] = {"string", "int", "int", "bool"};
  *out = (rg_conf_keyinfo){k->name,    tnames[k->type], k->def, k->help,
                           k->choices, k->flag,         k->min, k->max};
}

int rg_conf_key_at(size_t i, rg_conf_keyinfo *out) {
  if (i >= RG_ARRAY_LEN(keys))
    return -ENOENT;
  key_describe(&keys[i], out);
  return 0;
}

int rg_conf_key_info(const char *name, rg_conf_keyinfo *out) {
  const conf_key *k = key_find(name, strlen(name));
  if (!k)
    return -ENOENT;
  key_describe(k, out);
  return 0;
}

json_t *rg_conf_get_json(const rg_conf *c, const char *name) {
  const conf_key *k = key_find(name, strlen(name));
  if (!k)
    return NULL;
  switch (k->type) {
  case T_STRING: {
    char *const *f = FIELD(c, k, char *const);
    return json_string(*f ? *f : "");
  }
  case T_INT:
    return json_integer(*FIELD(c, k, const int));
  case T_INT64:
    return json_integer((json_int_t)*FIELD(c, k, const int64_t));
  case T_BOOL:
    return json_boolean(*FIELD(c, k, const bool));
  }
  return NULL;
}

int rg_conf_set_json(rg_conf *c, const char *name, json_t *v, char **cause) {
  const conf_key *k = key_find(name, strlen(name));
  if (!k) {
    *cause = unknown_key(name);
    return -ENOENT;
  }
  char *why = NULL;
  int rc = set_json(c, k, v, &why);
  if (rc < 0)
    *cause = rg_printf("key '%s' %s", k->name, why);
  free(why);
  return rc;
}

const char *rg_conf_origin(const rg_conf *c, const char *name, int argc,
                           char **argv) {
  const conf_key *k = key_find(name, strlen(name));
  if (!k)
    return NULL;
  size_t n = strlen(k->name);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0)
      break;
    if (strncmp(a, "--", 2) != 0)
      continue;
    const char *opt = a + 2, *eq = strchr(opt, '=');
    size_t olen = eq ? (size_t)(eq - opt) : strlen(opt);
    const char *v = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : "");
    if (flag_find(opt, olen) == k)
      return "flag";
    if (olen == 3 && memcmp(opt, "set", 3) == 0 && strncmp(v, k->name, n) == 0 &&
        v[n] == '=')
      return "flag";
  }
  char env[64];
  env_name(k, env, sizeof env);
  if (getenv(env))
    return "env";
  if (c->config_path && *c->config_path) {
    json_t *root = json_load_file(c->config_path, 0, NULL);
    bool in = root && json_is_object(root) && json_object_get(root, k->name);
    json_decref(root);
    if (in)
      return "file";
  }
  return NULL;
}
