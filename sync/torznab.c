/* torznab.c — Torznab (Jackett and friends) results without an XML library.
 *
 * The answer is RSS: <item>s with <title>, <link>, <size>, <enclosure
 * url=…> and <torznab:attr name=… value=…/>; failures are <error code=…
 * description=…/>. The scanner walks tags left to right inside the buffer's
 * bounds, decodes the five predefined entities and numeric references in the
 * few values it keeps, ignores everything else (CDATA is taken verbatim),
 * and caps items (1000) and value lengths (8 KiB). Malformed input gives an
 * error or fewer results, never a read outside [xml, xml + len). */
#include "config.h"

#include "clients.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_ITEMS 1000
#define MAX_VALUE 8192

/* Decodes entities of S[0..N) into a new string. */
static char *decode(const char *s, size_t n) {
  if (n > MAX_VALUE)
    n = MAX_VALUE;
  char *o = rg_malloc(n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n;) {
    if (s[i] != '&') {
      o[k++] = s[i++];
      continue;
    }
    const char *semi = memchr(s + i, ';', n - i < 12 ? n - i : 12);
    if (!semi) {
      o[k++] = s[i++];
      continue;
    }
    size_t el = (size_t)(semi - (s + i)) + 1;
    static const struct {
      const char *e;
      char c;
    } ents[] = {{"&amp;", '&'},
                {"&lt;", '<'},
                {"&gt;", '>'},
                {"&quot;", '"'},
                {"&apos;", '\''}};
    bool done = false;
    for (size_t e = 0; e < RG_ARRAY_LEN(ents) && !done; e++)
      if (el == strlen(ents[e].e) && memcmp(s + i, ents[e].e, el) == 0) {
        o[k++] = ents[e].c;
        done = true;
      }
    if (!done && el > 3 && s[i + 1] == '#') {
      bool hex = s[i + 2] == 'x' || s[i + 2] == 'X';
      char *end;
      char tmp[12];
      size_t dl = el - 3 - (hex ? 1 : 0);
      if (dl > 0 && dl < sizeof tmp) {
        memcpy(tmp, s + i + 2 + (hex ? 1 : 0), dl);
        tmp[dl] = 0;
        long v = strtol(tmp, &end, hex ? 16 : 10);
        if (!*end && v > 0 && v < 128) { /* ASCII only: enough for names */
          o[k++] = (char)v;
          done = true;
        } else if (!*end && v >= 128 && v < 0x800) {
          o[k++] = (char)(0xC0 | (v >> 6));
          o[k++] = (char)(0x80 | (v & 0x3F));
          done = true;
        }
      }
    }
    if (done)
      i += el;
    else
      o[k++] = s[i++];
  }
  o[k] = 0;
  return o;
}

/* The value of attribute NAME in the tag text [p, e), decoded, or NULL. */
static char *attr(const char *p, const char *e, const char *name) {
  size_t nl = strlen(name);
  for (const char *q = p; q + nl + 2 <= e; q++) {
    if ((q == p || isspace((unsigned char)q[-1])) &&
        strncasecmp(q, name, nl) == 0) {
      const char *v = q + nl;
      while (v < e && isspace((unsigned char)*v))
        v++;
      if (v >= e || *v != '=')
        continue;
      v++;
      while (v < e && isspace((unsigned char)*v))
        v++;
      if (v >= e || (*v != '"' && *v != '\''))
        continue;
      char quote = *v++;
      const char *end = memchr(v, quote, (size_t)(e - v));
      if (!end)
        return NULL;
      return decode(v, (size_t)(end - v));
    }
  }
  return NULL;
}

static bool tag_is(const char *p, const char *e, const char *name) {
  size_t n = strlen(name);
  return (size_t)(e - p) >= n && strncasecmp(p, name, n) == 0 &&
         ((size_t)(e - p) == n || isspace((unsigned char)p[n]) || p[n] == '/' ||
          p[n] == '>');
}

static void set_hash(rg_cand *c, const char *h) {
  if (!rg_is_hex40(h))
    return;
  for (int i = 0; i < 41; i++)
    c->hash[i] = (char)tolower((unsigned char)h[i]);
}

/* btih from a magnet link, if it is hex. */
static void hash_from_magnet(rg_cand *c, const char *m) {
  const char *x = strcasestr(m, "urn:btih:");
  if (!x || c->hash[0])
    return;
  char h[41];
  size_t n = strspn(x + 9, "0123456789abcdefABCDEF");
  if (n != 40)
    return;
  memcpy(h, x + 9, 40);
  h[40] = 0;
  set_hash(c, h);
}

int rg_torznab_parse(const char *xml, size_t len, rg_cands *out, char **cause) {
  const char *p = xml, *end = xml + len;
  rg_cand *cur = NULL;
  /* where the text of an open element we want starts, and which */
  const char *text = NULL;
  enum { F_NONE, F_TITLE, F_LINK, F_SIZE } field = F_NONE;
  bool any_rss = false;
  size_t items = 0;
  while (p < end) {
    const char *lt = memchr(p, '<', (size_t)(end - p));
    if (!lt)
      break;
    const char *q = lt + 1;
    if (q >= end)
      break;
    if ((size_t)(end - q) >= 8 && memcmp(q, "![CDATA[", 8) == 0) {
      /* CDATA: the text is taken verbatim up to "]]>" */
      const char *s = q + 8, *e = s;
      while (e + 2 < end && memcmp(e, "]]>", 3) != 0)
        e++;
      if (e + 2 >= end)
        break;
      if (cur && field != F_NONE) {
        char *v = rg_strndup(s, (size_t)(e - s) < MAX_VALUE ? (size_t)(e - s)
                                                            : MAX_VALUE);
        if (field == F_TITLE && !cur->name)
          cur->name = v;
        else if (field == F_LINK && !cur->link)
          cur->link = v;
        else
          free(v);
        field = F_NONE;
        text = NULL;
      }
      p = e + 3;
      continue;
    }
    if ((size_t)(end - q) >= 3 && memcmp(q, "!--", 3) == 0) {
      const char *e = q + 3;
      while (e + 2 < end && memcmp(e, "-->", 3) != 0)
        e++;
      p = e + 3 > end ? end : e + 3;
      continue;
    }
    const char *gt = memchr(q, '>', (size_t)(end - q));
    if (!gt)
      break;
    bool closing = *q == '/';
    const char *name = closing ? q + 1 : q;
    if (closing) {
      if (cur && text && field != F_NONE) {
        char *v = decode(text, (size_t)(lt - text));
        /* trim */
        char *s = v;
        while (isspace((unsigned char)*s))
          s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
          s[--n] = 0;
        if (field == F_TITLE && !cur->name)
          cur->name = rg_strdup(s);
        else if (field == F_LINK && !cur->link)
          cur->link = rg_strdup(s);
        else if (field == F_SIZE)
          cur->size = strtoll(s, NULL, 10);
        free(v);
      }
      text = NULL;
      field = F_NONE;
      if (tag_is(name, gt, "item"))
        cur = NULL;
    } else if (tag_is(name, gt, "rss") || tag_is(name, gt, "channel")) {
      any_rss = true;
    } else if (tag_is(name, gt, "error")) {
      char *code = attr(name, gt, "code");
      char *desc = attr(name, gt, "description");
      *cause = rg_printf("torznab: error %s: %s", code ? code : "?",
                         desc ? desc : "no description");
      free(code);
      free(desc);
      return -EIO;
    } else if (tag_is(name, gt, "item")) {
      if (items++ >= MAX_ITEMS)
        break;
      cur = rg_cands_push(out, "torznab");
      any_rss = true;
    } else if (cur && (tag_is(name, gt, "title") || tag_is(name, gt, "link") ||
                       tag_is(name, gt, "size"))) {
      field = tag_is(name, gt, "title")  ? F_TITLE
              : tag_is(name, gt, "link") ? F_LINK
                                         : F_SIZE;
      text = gt[-1] == '/' ? NULL : gt + 1;
      if (!text)
        field = F_NONE;
    } else if (cur && tag_is(name, gt, "enclosure")) {
      char *u = attr(name, gt, "url");
      char *l = attr(name, gt, "length");
      if (u && (!cur->link || strncmp(cur->link, "magnet:", 7) != 0)) {
        free(cur->link);
        cur->link = u;
        u = NULL;
      }
      if (l && !cur->size)
        cur->size = strtoll(l, NULL, 10);
      free(u);
      free(l);
    } else if (cur && (tag_is(name, gt, "torznab:attr") ||
                       tag_is(name, gt, "newznab:attr"))) {
      char *n = attr(name, gt, "name");
      char *v = attr(name, gt, "value");
      if (n && v) {
        if (!strcasecmp(n, "seeders"))
          cur->seeders = (int)strtol(v, NULL, 10);
        else if (!strcasecmp(n, "infohash"))
          set_hash(cur, v);
        else if (!strcasecmp(n, "magneturl") && *v) {
          free(cur->link);
          cur->link = v;
          v = NULL;
        } else if (!strcasecmp(n, "size") && !cur->size)
          cur->size = strtoll(v, NULL, 10);
      }
      free(n);
      free(v);
    }
    p = gt + 1;
  }
  /* drop items without a name; take hashes from magnets */
  size_t k = 0;
  for (size_t i = 0; i < out->n; i++) {
    rg_cand *c = &out->v[i];
    if (strcmp(c->source, "torznab") == 0 && !c->name) {
      free(c->link);
      free(c->file_name);
      continue;
    }
    if (c->link)
      hash_from_magnet(c, c->link);
    out->v[k++] = *c;
  }
  out->n = k;
  if (!any_rss) {
    *cause = rg_strdup("torznab: the answer is not a Torznab RSS feed");
    return -EBADMSG;
  }
  return 0;
}

int rg_torznab_search(rg_hc_svc *svc, const char *url, const char *key,
                      const char *t, const char *params,
                      const atomic_int *cancel, rg_cands *out, char **cause) {
  char *k = rg_percent_encode(key ? key : "");
  char *u =
      rg_printf("%s%st=%s&apikey=%s%s%s", url, strchr(url, '?') ? "&" : "?", t,
                k, params && *params ? "&" : "", params ? params : "");
  rg_hc_req rq = {.url = u, .cancel = cancel, .max_bytes = 16u << 20};
  rg_hc_resp rs;
  int rc = rg_hc_do(svc, &rq, &rs, cause);
  free(k);
  if (rc) {
    free(u);
    return rc;
  }
  if (rs.status < 200 || rs.status > 299) {
    /* Jackett explains failures in an <error> body */
    rg_cands tmp = {0};
    char *why = NULL;
    char *r = rg_hc_redact(u);
    if (rg_torznab_parse(rs.body, rs.len, &tmp, &why) == -EIO)
      *cause = rg_printf("%s (HTTP %ld for %s)", why, rs.status, r);
    else
      *cause = rg_printf("torznab: HTTP %ld for %s", rs.status, r);
    free(why);
    free(r);
    rg_cands_clear(&tmp);
    long st = rs.status;
    rg_hc_resp_clear(&rs);
    free(u);
    return st == 401 || st == 403 ? -EACCES : -EIO;
  }
  rc = rg_torznab_parse(rs.body, rs.len, out, cause);
  rg_hc_resp_clear(&rs);
  free(u);
  return rc;
}
