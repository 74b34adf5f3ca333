/* http-client.c — libcurl easy handles for the sync clients.
 *
 * Each call runs on the calling (worker) thread and blocks. A service keeps
 * the time its next request may start (the rate limit): callers take a slot
 * under the mutex and sleep outside it. Attempts: 1 + retries; a transport
 * error, 429 or 5xx is retried after 250 ms, 500 ms, 1 s… (Retry-After is
 * honoured up to 5 s); anything else is the caller's to judge. A cancel flag
 * aborts sleeps and transfers (through the progress callback). Bodies are
 * capped; a larger answer is an error, never a truncated success. */
#include "config.h"

#include "http-client.h"

#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define DEFAULT_MAX (8u << 20)

struct rg_hc_svc {
  char *name;
  int min_interval_ms, timeout_s, retries;
  pthread_mutex_t lock;
  int64_t next_ms;
};

rg_hc_svc *rg_hc_svc_new(const char *name, int min_interval_ms, int timeout_s,
                         int retries) {
  rg_hc_svc *s = rg_calloc(1, sizeof *s);
  s->name = rg_strdup(name);
  s->min_interval_ms = min_interval_ms < 0 ? 0 : min_interval_ms;
  s->timeout_s = timeout_s > 0 ? timeout_s : 20;
  s->retries = retries < 0 ? 0 : retries > 10 ? 10 : retries;
  pthread_mutex_init(&s->lock, NULL);
  return s;
}

void rg_hc_svc_free(rg_hc_svc **sp) {
  rg_hc_svc *s = *sp;
  if (!s)
    return;
  pthread_mutex_destroy(&s->lock);
  free(s->name);
  free(s);
  *sp = NULL;
}

const char *rg_hc_svc_name(const rg_hc_svc *s) { return s->name; }

bool rg_hc_sleep(int ms, const atomic_int *cancel) {
  while (ms > 0) {
    if (cancel && atomic_load(cancel))
      return false;
    int step = ms > 50 ? 50 : ms;
    struct timespec ts = {0, (long)step * 1000000L};
    nanosleep(&ts, NULL);
    ms -= step;
  }
  return !(cancel && atomic_load(cancel));
}

char *rg_hc_redact(const char *url) {
  if (!url)
    return rg_strdup("(no url)");
  size_t n = strcspn(url, "?#");
  /* user:password@ never reaches a message either */
  const char *scheme = strstr(url, "://");
  if (scheme && (size_t)(scheme - url) < n) {
    const char *host = scheme + 3;
    const char *at = memchr(host, '@', n - (size_t)(host - url));
    const char *slash = memchr(host, '/', n - (size_t)(host - url));
    if (at && (!slash || at < slash))
      return rg_printf("%.*s%.*s", (int)(host - url), url,
                       (int)(n - (size_t)(at + 1 - url)), at + 1);
  }
  return rg_strndup(url, n);
}

/* Takes the next rate-limit slot; false when cancelled while waiting. */
static bool take_slot(rg_hc_svc *s, const atomic_int *cancel) {
  pthread_mutex_lock(&s->lock);
  int64_t now = rg_now_ms();
  int64_t start = s->next_ms > now ? s->next_ms : now;
  s->next_ms = start + s->min_interval_ms;
  pthread_mutex_unlock(&s->lock);
  return rg_hc_sleep((int)(start - now), cancel);
}

typedef struct sink {
  rg_body body;
  rg_hc_resp *resp;
  long retry_after;
} sink;

static char *header_value(const char *p, size_t n, size_t skip) {
  const char *v = p + skip;
  const char *e = p + n;
  while (v < e && (*v == ' ' || *v == '\t'))
    v++;
  while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
    e--;
  return rg_strndup(v, (size_t)(e - v));
}

static size_t on_header(char *p, size_t sz, size_t n, void *arg) {
  sink *k = arg;
  size_t len = sz * n;
  if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
    /* a new response (after a redirect or 100): forget the last's headers */
    free(k->resp->location);
    free(k->resp->ctype);
    k->resp->location = k->resp->ctype = NULL;
    k->retry_after = 0;
  } else if (len > 9 && strncasecmp(p, "location:", 9) == 0) {
    free(k->resp->location);
    k->resp->location = header_value(p, len, 9);
  } else if (len > 13 && strncasecmp(p, "content-type:", 13) == 0) {
    free(k->resp->ctype);
    k->resp->ctype = header_value(p, len, 13);
  } else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
    char *v = header_value(p, len, 12);
    k->retry_after = strtol(v, NULL, 10);
    free(v);
  }
  return len;
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
                       curl_off_t d) {
  (void)a, (void)b, (void)c, (void)d;
  const atomic_int *cancel = arg;
  return cancel && atomic_load(cancel) ? 1 : 0;
}

void rg_hc_resp_clear(rg_hc_resp *r) {
  free(r->body);
  free(r->location);
  free(r->ctype);
  memset(r, 0, sizeof *r);
}

/* One attempt. 0 (answered), or a CURLcode-based failure with *why. */
static int attempt(rg_hc_svc *s, const rg_hc_req *r, rg_hc_resp *out,
                   long *retry_after, char **why) {
  CURL *c = curl_easy_init();
  if (!c) {
    *why = rg_strdup("cannot create a curl handle");
    return -ENOMEM;
  }
  sink k = {.body.max = r->max_bytes ? r->max_bytes : DEFAULT_MAX,
            .resp = out};
  struct curl_slist *hl = NULL;
  for (const char *const *h = r->headers; h && *h; h++)
    hl = curl_slist_append(hl, *h);
  curl_easy_setopt(c, CURLOPT_URL, r->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)s->timeout_s);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
                   (long)(s->timeout_s < 10 ? s->timeout_s : 10));
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_USERAGENT, "reelgate/" PACKAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, r->follow ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rg_body_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &k.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &k);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)r->cancel);
  if (hl)
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  if (r->method && strcmp(r->method, "GET") != 0)
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);
  if (r->body || (r->method && strcmp(r->method, "POST") == 0)) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r->body ? r->body : "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
  }
  CURLcode rc = curl_easy_perform(c);
  int ret = 0;
  if (rc == CURLE_ABORTED_BY_CALLBACK) {
    ret = -ECANCELED;
  } else if (k.body.over) {
    *why = rg_printf("the answer is larger than %zu bytes", k.body.max);
    ret = -EFBIG;
  } else if (rc != CURLE_OK) {
    *why = rg_strdup(curl_easy_strerror(rc));
    ret = -EIO;
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = k.body.p ? k.body.p : rg_strdup("");
    out->len = k.body.len;
    k.body.p = NULL;
    *retry_after = k.retry_after;
  }
  free(k.body.p);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return ret;
}

int rg_hc_do(rg_hc_svc *s, const rg_hc_req *r, rg_hc_resp *out, char **cause) {
  memset(out, 0, sizeof *out);
  int tries = 1 + s->retries, delay = 250, rc = -EIO;
  char *why = NULL;
  for (int i = 0; i < tries; i++) {
    if (!take_slot(s, r->cancel))
      return -ECANCELED;
    free(why);
    why = NULL;
    long retry_after = 0;
    rg_hc_resp_clear(out);
    rc = attempt(s, r, out, &retry_after, &why);
    if (rc == -ECANCELED || rc == -EFBIG || rc == -ENOMEM)
      break;
    if (rc == 0 && out->status != 429 && out->status < 500)
      break;
    if (i + 1 == tries)
      break;
    int wait = delay;
    if (rc == 0 && retry_after > 0)
      wait = (int)(retry_after > 5 ? 5000 : retry_after * 1000);
    if (!rg_hc_sleep(wait, r->cancel)) {
      rc = -ECANCELED;
      break;
    }
    delay *= 2;
  }
  if (rc == -ECANCELED) {
    rg_hc_resp_clear(out);
    free(why);
    *cause = rg_printf("%s: stopped", s->name);
    return -ECANCELED;
  }
  if (rc) {
    char *u = rg_hc_redact(r->url);
    *cause =
        rg_printf("%s: cannot reach %s: %s%s", s->name, u, why ? why : "error",
                  rc == -EIO && tries > 1 ? " (retried)" : "");
    free(u);
    free(why);
    rg_hc_resp_clear(out);
    return rc == -EFBIG ? -EFBIG : -EIO;
  }
  free(why);
  return 0;
}

/* The service's own explanation in an error body, if it is JSON with one of
 * the usual fields, else a printable prefix of the body. malloc'd or NULL. */
static char *service_message(const rg_hc_resp *rs) {
  json_t *j = json_loadb(rs->body, rs->len, 0, NULL);
  char *m = NULL;
  if (j && json_is_object(j)) {
    static const char *const keys[] = {"status_message", "message", "Message",
                                       "error",          "detail",  "title"};
    for (size_t i = 0; i < RG_ARRAY_LEN(keys) && !m; i++) {
      json_t *v = json_object_get(j, keys[i]);
      if (json_is_string(v) && *json_string_value(v))
        m = rg_strndup(json_string_value(v), 300);
    }
  }
  json_decref(j);
  if (!m && rs->len) {
    size_t n = rs->len < 160 ? rs->len : 160;
    m = rg_strndup(rs->body, n);
    for (char *p = m; *p; p++)
      if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
        *p = ' ';
  }
  return m;
}

int rg_hc_json(rg_hc_svc *s, const rg_hc_req *r, json_t **out, char **cause) {
  rg_hc_resp rs;
  *out = NULL;
  int rc = rg_hc_do(s, r, &rs, cause);
  if (rc)
    return rc;
  char *u = rg_hc_redact(r->url);
  if (rs.status < 200 || rs.status > 299) {
    char *m = service_message(&rs);
    const char *hint = rs.status == 401 || rs.status == 403
                           ? " (check the API key or token)"
                           : "";
    *cause = rg_printf("%s: HTTP %ld for %s%s%s%s", s->name, rs.status, u,
                       m ? ": " : "", m ? m : "", hint);
    free(m);
    rc = rs.status == 401 || rs.status == 403 ? -EACCES
         : rs.status == 404                   ? -ENOENT
                                              : -EIO;
    goto out;
  }
  json_error_t err;
  json_t *j = json_loadb(rs.body, rs.len, 0, &err);
  if (!j) {
    *cause = rg_printf("%s: malformed JSON from %s (%zu bytes; line %d "
                       "column %d: %s)",
                       s->name, u, rs.len, err.line, err.column, err.text);
    rc = -EBADMSG;
    goto out;
  }
  *out = j;
out:
  free(u);
  rg_hc_resp_clear(&rs);
  return rc;
}
