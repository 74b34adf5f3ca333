/* http-client.h — the blocking HTTP client the sync clients share (libcurl,
 * on a sync worker thread, never the loop): timeouts, retries with backoff,
 * a rate limit per service, a hard cap on bodies and error messages a person
 * can act on. URLs in messages lose their query string (keys live there). */
#ifndef RG_HTTP_CLIENT_H
#define RG_HTTP_CLIENT_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

/* One outside service ("tmdb", "prowlarr"…): its rate limit and policy.
 * Thread-safe. Free with rg_hc_svc_free. */
typedef struct rg_hc_svc rg_hc_svc;

/* MIN_INTERVAL_MS between the starts of two requests; TIMEOUT_S per attempt;
 * RETRIES extra attempts after a transport error, 429 or 5xx. */
rg_hc_svc *rg_hc_svc_new(const char *name, int min_interval_ms, int timeout_s,
                         int retries);
void rg_hc_svc_free(rg_hc_svc **s);
const char *rg_hc_svc_name(const rg_hc_svc *s);

typedef struct rg_hc_req {
  const char *method; /* NULL = GET */
  const char *url;
  const char *const *headers; /* NULL-terminated "Name: value", or NULL */
  const char *body;           /* request body, or NULL */
  size_t body_len;
  size_t max_bytes;         /* 0 = 8 MiB; a larger answer fails */
  bool follow;              /* follow http(s) redirects */
  const atomic_int *cancel; /* non-zero aborts (a stopped job) */
} rg_hc_req;

typedef struct rg_hc_resp {
  long status;
  char *body; /* NUL-terminated */
  size_t len;
  char *location; /* Location header of a redirect, or NULL */
  char *ctype;    /* Content-Type, or NULL */
} rg_hc_resp;

/* Performs R. 0 when the service answered (any status: see OUT->status),
 * -ECANCELED, or -EIO with *cause ("prowlarr: cannot connect to
 * http://host:9696/api/v1/search: Connection refused (3 attempts)"). */
int rg_hc_do(rg_hc_svc *s, const rg_hc_req *r, rg_hc_resp *out, char **cause);
void rg_hc_resp_clear(rg_hc_resp *r);

/* GET-style call that wants a 2xx JSON answer: 0 with *OUT (json_decref),
 * or -EIO/-EACCES/-ENOENT/-EBADMSG/-ECANCELED with *cause naming the service,
 * the status and the service's own message ("tmdb: HTTP 401 for
 * https://api.themoviedb.org/3/movie/popular: Invalid API key…"). */
int rg_hc_json(rg_hc_svc *s, const rg_hc_req *r, json_t **out, char **cause);

/* SCHEME://HOST/PATH of URL without the query (malloc'd), for messages. */
char *rg_hc_redact(const char *url);
/* Sleeps MS unless *CANCEL becomes non-zero; false when cancelled. */
bool rg_hc_sleep(int ms, const atomic_int *cancel);

#endif
