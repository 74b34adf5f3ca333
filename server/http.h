/* http.h — the HTTP server (libevent evhttp) and what its routes share. */
#ifndef RG_HTTP_H
#define RG_HTTP_H

#include <event2/http.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "conf.h"
#include "engine.h"
#include "store.h"
#include "torrents.h"

typedef struct rg_app {
  rg_conf *conf;
  struct event_base *base;
  rg_store *store;
  rg_engine *engine;
  rg_tm *tm;
  char *api_key;
  int64_t started_ms;
  int http_port; /* the port actually bound */
  struct evhttp *http;
  struct rg_library *library; /* NULL until set up */
  struct rg_playback *playback; /* webhooks + priority mode (playback.c) */
  struct rg_warmup *warmup;   /* NULL when off */
  struct rg_media *media;     /* NULL when off */
  struct rg_hls *hls;         /* NULL when off */
  struct rg_sync *sync;       /* sync jobs (sync/), NULL when off */
  int streams;   /* open stream responses */
  /* ecosystem (issue 8) */
  struct rg_blocklist *blocklist;  /* IP blocklists (blocklist.c) */
  struct rg_portmap_ctl *portmap;  /* port mapping (portmap.c) */
} rg_app;

/* Binds and starts serving. 0 or -errno + *cause. */
int rg_http_start(rg_app *app, char **cause);
void rg_http_stop(rg_app *app);

/* ---- helpers for routes ---- */
/* Replies with JSON BODY (stolen) and CODE. */
void rg_http_json(struct evhttp_request *req, int code, json_t *body);
/* Replies {"error": msg}. */
void rg_http_error(struct evhttp_request *req, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Writes KEY to DATA_DIR/api_key (mode 0600), where a user finds a
 * generated key: it is never written to the log. 0 or -errno (logged). */
int rg_save_key_file(const char *data_dir, const char *key);

/* The stream key: a credential for playback URLs only (/stream/, /hls/),
 * derived from the API key (32 hex + NUL into OUT), so it changes with it.
 * URLs handed to players carry it as ?key= instead of the API key: a URL
 * that leaks from a player's or a media server's log can play, not change
 * anything or read a secret. */
void rg_http_stream_key(const rg_app *app, char out[33]);
/* rg_http_authorized, or the stream key as the key query parameter. */
bool rg_http_stream_authorized(rg_app *app, struct evhttp_request *req);
/* X-Api-Key header or api_key query parameter matches. */
bool rg_http_authorized(rg_app *app, struct evhttp_request *req);
/* A query parameter's decoded value (malloc'd) or NULL. */
char *rg_http_query(struct evhttp_request *req, const char *name);
/* "http://host:port" the client used (malloc'd). */
char *rg_http_base_url(rg_app *app, struct evhttp_request *req);
/* The request body as a malloc'd NUL-terminated buffer. */
uint8_t *rg_http_body(struct evhttp_request *req, size_t *len);
/* An absolute stream URL for file INDEX of T, carrying the stream key. */
char *rg_http_stream_url(rg_app *app, struct evhttp_request *req,
                         rg_torrent *t, int index);
/* The file's HLS master playlist URL, with the stream key. */
char *rg_http_hls_url(rg_app *app, struct evhttp_request *req, rg_torrent *t,
                      int index);

/* routes */
void rg_api_route(rg_app *app, struct evhttp_request *req, const char *path);
/* /api/library… (api-library.c); PATH starts at "/library". */
void rg_api_library_route(rg_app *app, struct evhttp_request *req,
                          const char *path);
void rg_stream_route(rg_app *app, struct evhttp_request *req,
                     const char *path);
/* /api/warmup and /api/torrents/{hash}/warmup (api-warmup.c). */
void rg_api_warmup_route(rg_app *app, struct evhttp_request *req,
                         const char *path);
/* POST /webhook?token=… (playback.c; the webhook token, not the API key). */
void rg_webhook_route(rg_app *app, struct evhttp_request *req);
/* /api/playback, /api/webhooks, /api/webhooks/events (playback.c). */
void rg_api_playback_route(rg_app *app, struct evhttp_request *req,
                           const char *path);
/* /api/sync… (sync/api-sync.c); PATH starts at "/sync". */
void rg_api_sync_route(rg_app *app, struct evhttp_request *req,
                       const char *path);

/* ---- ecosystem (issue 8) ---- */
/* The API key as an HTTP Basic password (any user name). */
bool rg_http_basic_authorized(rg_app *app, struct evhttp_request *req);
/* GET /metrics (api-ecosystem.c). */
void rg_metrics_route(rg_app *app, struct evhttp_request *req);
/* /api/blocklist and /api/portmap (api-ecosystem.c); PATH after "/api". */
void rg_api_ecosystem_route(rg_app *app, struct evhttp_request *req,
                            const char *path);
/* The TorrServer-compatible routes (torrserver.c): /echo, /torrents,
 * /torrent/upload, /stream?link=…, /stream/{name}?link=…, /play/…,
 * /playlist, /playlistall/all.m3u, /settings, /viewed, /cache. Returns
 * false (no reply sent) when PATH is none of them. */
bool rg_torrserver_route(rg_app *app, struct evhttp_request *req,
                         const char *path);

#endif
