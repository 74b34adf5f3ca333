/* clients.h — the outside services the sync jobs talk to, each in its own
 * file (tmdb.c, prowlarr.c, torznab.c, torrentio.c, plex.c with Jellyfin),
 * all blocking calls on a sync worker thread through http-client.h.
 * Every function returns 0 or -errno with *cause naming the service and
 * what went wrong; keys and tokens never appear in a cause. */
#ifndef RG_SYNC_CLIENTS_H
#define RG_SYNC_CLIENTS_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdint.h>

#include "http-client.h"

/* ---- search results, whatever the indexer ---- */
typedef struct rg_cand {
  char *name;      /* release name */
  char hash[41];   /* lowercase hex info hash, "" if unknown */
  char *link;      /* magnet: or an http(s) link (proxy or .torrent), or NULL */
  int seeders;     /* -1 = unknown */
  int64_t size;    /* bytes, 0 = unknown */
  int file_idx;    /* Torrentio's fileIdx, -1 = unknown */
  char *file_name; /* Torrentio's behaviorHints.filename, or NULL */
  char source[12]; /* "prowlarr", "torznab", "torrentio" */
} rg_cand;

typedef struct rg_cands {
  rg_cand *v;
  size_t n, cap;
} rg_cands;

rg_cand *rg_cands_push(rg_cands *c, const char *source);
void rg_cands_clear(rg_cands *c);

/* Fetches LINK (an indexer's proxy link): a redirect to a magnet: link gives
 * *MAGNET, a .torrent body gives *TORRENT and *LEN (both malloc'd). */
int rg_link_resolve(rg_hc_svc *svc, const char *link, const char *const *hdrs,
                    const atomic_int *cancel, char **magnet, uint8_t **torrent,
                    size_t *len, char **cause);

/* ---- TMDB v3 ---- */
typedef struct rg_tmdb {
  rg_hc_svc *svc;
  const char *url, *key, *language, *region;
  const atomic_int *cancel;
} rg_tmdb;

/* GET URL/PATH?QUERY (+ api_key, or a bearer token for a v4 key). */
int rg_tmdb_get(const rg_tmdb *t, const char *path, const char *query,
                json_t **out, char **cause);
/* A list's results[]: KIND "movie" or "tv"; LIST popular, trending,
 * trending_day, now_playing, top_rated, upcoming, on_the_air, discover. */
int rg_tmdb_list(const rg_tmdb *t, const char *kind, const char *list, int page,
                 json_t **results, char **cause);
/* IMDb id (malloc'd, NULL if TMDB has none) of a movie or show. */
int rg_tmdb_imdb_id(const rg_tmdb *t, const char *kind, int64_t id, char **imdb,
                    char **cause);
/* /find/{tt…}: the TMDB id of the movie (KIND "movie") or show ("tv"). */
int rg_tmdb_find(const rg_tmdb *t, const char *imdb, const char *kind,
                 int64_t *id, char **cause);
/* /search/{movie|tv}?query=&year=: results[]. */
int rg_tmdb_search(const rg_tmdb *t, const char *kind, const char *query,
                   int year, json_t **results, char **cause);
/* /tv/{id}?append_to_response=external_ids and /tv/{id}/season/{n}. */
int rg_tmdb_tv(const rg_tmdb *t, int64_t id, json_t **out, char **cause);
int rg_tmdb_season(const rg_tmdb *t, int64_t id, int season, json_t **out,
                   char **cause);

/* ---- Prowlarr ---- */
/* GET URL/api/v1/search?query=Q&type=TYPE ("movie", "tvsearch", "search"),
 * Q with id tokens such as {ImdbId:tt0133093}{Season:1}. */
int rg_prowlarr_search(rg_hc_svc *svc, const char *url, const char *key,
                       const char *query, const char *type,
                       const atomic_int *cancel, rg_cands *out, char **cause);

/* ---- Torznab (Jackett, any Torznab indexer) ---- */
/* Parses a Torznab RSS answer (or its <error>). Bounded, no allocation
 * beyond the results; never reads past LEN. */
int rg_torznab_parse(const char *xml, size_t len, rg_cands *out, char **cause);
/* GET URL?t=T&apikey=K&PARAMS (PARAMS like "imdbid=tt0133093"). */
int rg_torznab_search(rg_hc_svc *svc, const char *url, const char *key,
                      const char *t, const char *params,
                      const atomic_int *cancel, rg_cands *out, char **cause);

/* ---- Torrentio ---- */
/* GET URL/stream/{movie|series}/{ID}.json, ID "tt0250494" or
 * "tt0944947:1:1". Links are magnets with the trackers Torrentio lists. */
int rg_torrentio_streams(rg_hc_svc *svc, const char *url, const char *type,
                         const char *id, const atomic_int *cancel,
                         rg_cands *out, char **cause);
/* Parses one stream list (exported for tests and fuzzing). */
int rg_torrentio_parse(json_t *root, rg_cands *out, char **cause);

/* ---- Plex and Jellyfin ---- */
typedef struct rg_plex_item {
  char *title;
  int year;
  char type[8]; /* "movie" or "show" */
  char *rating_key;
  char *imdb;   /* from Guid[] (item metadata), or NULL */
  int64_t tmdb; /* 0 = unknown */
} rg_plex_item;

/* The watchlist, each item's metadata fetched for its Guid[] ids. *N items
 * (free with rg_plex_items_free). */
int rg_plex_watchlist(rg_hc_svc *svc, const char *url, const char *token,
                      const atomic_int *cancel, rg_plex_item **items, size_t *n,
                      char **cause);
void rg_plex_items_free(rg_plex_item *items, size_t n);
/* GET URL/library/sections/{id}/refresh for each id of SECTIONS ("" =
 * "all"). */
int rg_plex_refresh(rg_hc_svc *svc, const char *url, const char *token,
                    const char *sections, const atomic_int *cancel,
                    char **cause);
/* POST URL/Library/Refresh. */
int rg_jellyfin_refresh(rg_hc_svc *svc, const char *url, const char *key,
                        const atomic_int *cancel, char **cause);

#endif
