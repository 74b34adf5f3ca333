/* torrserver.h — the pure parts of the TorrServer-compatible API
 * (torrserver.c), separate from the HTTP plumbing so they can be tested and
 * fuzzed: the JSON body of POST /torrents, /settings, /viewed, /cache and the
 * {hash}/{id} tail of /play/. */
#ifndef RG_TORRSERVER_H
#define RG_TORRSERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A parsed request body. Every pointer is borrowed from ROOT; free with
 * rg_ts_request_clear. */
typedef struct rg_ts_request {
  json_t *root;        /* the JSON object sent */
  const char *action;  /* "action" if a string, else NULL */
  const char *link;    /* "link" if a string, else NULL */
  const char *title;   /* "title" if a string, else NULL */
  const char *hash_in; /* "hash" as sent if a string, else NULL */
  char hash[41];       /* "hash" lowercased if 40 hex digits, else "" */
  bool has_file_index; /* "file_index" is an integer */
  int64_t file_index;
  json_t *sets;        /* "sets" if an object, else NULL */
} rg_ts_request;

/* Parses BODY (LEN bytes, need not be NUL-terminated). 0, or -EINVAL with
 * *CAUSE (free it) when it is not a JSON object. */
int rg_torrserver_parse_request(const char *body, size_t len,
                                rg_ts_request *out, char **cause);
void rg_ts_request_clear(rg_ts_request *r);

/* "HASH/ID[/…]" after /play/: 0 with HASH lowercased and *ID >= 1, or
 * -EINVAL. */
int rg_torrserver_parse_play(const char *rest, char hash[41], long *id);

#endif
