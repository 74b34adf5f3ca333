/* magnet.c — magnet links (BEP 9) and bare info hashes.
 *
 * Only the info hash is essential; everything else is a hint. So a bad info
 * hash or a missing xt=urn:btih fails the parse with a cause, while a dn=, tr=
 * or x.pe= that cannot be decoded (bad percent escape, %00, a peer without a
 * port) is dropped. Keys are matched exactly ("xt", "xt.1", "dn", "tr",
 * "tr.1", "x.pe"); the first btih xt wins, later dn= are ignored, duplicate
 * trackers and peers are kept once, and at most RG_MAGNET_MAX of each.
 * Pure functions; the result owns its strings (rg_magnet_clear). */
#include "config.h"

#include "magnet.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RG_MAGNET_MAX 64

void rg_magnet_clear(rg_magnet *m) {
  if (!m)
    return;
  free(m->name);
  for (size_t i = 0; i < m->ntrackers; i++)
    free(m->trackers[i]);
  free(m->trackers);
  for (size_t i = 0; i < m->npeers; i++)
    free(m->peers[i]);
  free(m->peers);
  memset(m, 0, sizeof *m);
}

/* RFC 4648 base32 digit value (either case), or -1. */
static int b32_digit(int c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

/* 32 base32 characters → 20 bytes (160 bits, no padding). */
static int b32_decode(const char *s, uint8_t out[20]) {
  uint32_t acc = 0;
  int bits = 0;
  size_t o = 0;
  for (size_t i = 0; i < 32; i++) {
    int v = b32_digit((unsigned char)s[i]);
    if (v < 0)
      return -EINVAL;
    acc = acc << 5 | (uint32_t)v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (uint8_t)(acc >> bits);
    }
  }
  return 0;
}

/* Decodes an info hash of LEN characters at S into M. */
static int parse_hash(const char *s, size_t len, rg_magnet *m, char **cause) {
  if (len == 40) {
    for (size_t i = 0; i < len; i++)
      if (rg_hex_digit((unsigned char)s[i]) < 0) {
        *cause = rg_printf("info hash has a non-hex character '%c' at "
                           "position %zu (40 hex or 32 base32 characters)",
                           isprint((unsigned char)s[i]) ? s[i] : '?', i + 1);
        return -EINVAL;
      }
    rg_hex_decode(s, m->ih, 20);
  } else if (len == 32) {
    for (size_t i = 0; i < len; i++)
      if (b32_digit((unsigned char)s[i]) < 0) {
        *cause = rg_printf("info hash has a non-base32 character '%c' at "
                           "position %zu (base32 is A-Z and 2-7)",
                           isprint((unsigned char)s[i]) ? s[i] : '?', i + 1);
        return -EINVAL;
      }
    b32_decode(s, m->ih);
  } else {
    *cause = rg_printf("info hash must be 40 hex or 32 base32 characters, "
                       "got %zu",
                       len);
    return -EINVAL;
  }
  rg_hex_encode(m->ih, 20, m->hex);
  return 0;
}

static bool key_is(const char *k, size_t klen, const char *want) {
  size_t n = strlen(want);
  if (klen == n)
    return memcmp(k, want, n) == 0;
  /* "xt.1", "tr.2": numbered variants (BEP 9 / the magnet draft). */
  if (klen > n + 1 && memcmp(k, want, n) == 0 && k[n] == '.') {
    for (size_t i = n + 1; i < klen; i++)
      if (k[i] < '0' || k[i] > '9')
        return false;
    return true;
  }
  return false;
}

static bool ieq_prefix(const char *s, size_t len, const char *prefix) {
  size_t n = strlen(prefix);
  return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* "host:port" or "[v6]:port" with a port in 1..65535. */
static bool peer_ok(const char *p) {
  const char *colon = strrchr(p, ':');
  if (!colon || colon == p || !colon[1] || strlen(colon + 1) > 5)
    return false;
  long port = 0;
  for (const char *c = colon + 1; *c; c++) {
    if (*c < '0' || *c > '9')
      return false;
    port = port * 10 + (*c - '0');
  }
  return port >= 1 && port <= 65535;
}

/* Appends S to LIST unless present or full; takes ownership of S. */
static void list_add(char ***list, size_t *n, char *s) {
  if (*n >= RG_MAGNET_MAX || !*s)
    goto drop;
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*list)[i], s) == 0)
      goto drop;
  *list = rg_realloc(*list, (*n + 1) * sizeof **list);
  (*list)[(*n)++] = s;
  return;
drop:
  free(s);
}

static int parse_magnet(const char *q, size_t len, rg_magnet *m, char **cause) {
  bool have_ih = false, have_btmh = false;
  const char *end = q + len;
  while (q < end) {
    const char *amp = memchr(q, '&', (size_t)(end - q));
    const char *pend = amp ? amp : end;
    const char *eq = memchr(q, '=', (size_t)(pend - q));
    if (eq) {
      const char *k = q, *v = eq + 1;
      size_t klen = (size_t)(eq - q), vlen = (size_t)(pend - v);
      if (key_is(k, klen, "xt")) {
        char *xt = rg_percent_decode(v, vlen, false);
        if (!xt) {
          *cause = rg_strdup("magnet xt= has a bad percent escape");
          return -EINVAL;
        }
        size_t xlen = strlen(xt);
        int rc = 0;
        if (!have_ih && ieq_prefix(xt, xlen, "urn:btih:")) {
          rc = parse_hash(xt + 9, xlen - 9, m, cause);
          have_ih = rc == 0;
        } else if (ieq_prefix(xt, xlen, "urn:btmh:")) {
          have_btmh = true;
        }
        free(xt);
        if (rc)
          return rc;
      } else if (klen == 2 && memcmp(k, "dn", 2) == 0 && !m->name) {
        m->name = rg_percent_decode(v, vlen, true);
      } else if (key_is(k, klen, "tr")) {
        char *tr = rg_percent_decode(v, vlen, false);
        if (tr)
          list_add(&m->trackers, &m->ntrackers, tr);
      } else if (klen == 4 && memcmp(k, "x.pe", 4) == 0) {
        char *pe = rg_percent_decode(v, vlen, false);
        if (pe && !peer_ok(pe)) {
          free(pe);
          pe = NULL;
        }
        if (pe)
          list_add(&m->peers, &m->npeers, pe);
      }
    }
    q = amp ? amp + 1 : end;
  }
  if (!have_ih) {
    *cause = rg_strdup(have_btmh ? "magnet has only a v2 hash (xt=urn:btmh); "
                                   "reelgate needs xt=urn:btih"
                                 : "magnet has no xt=urn:btih");
    return -EINVAL;
  }
  return 0;
}

int rg_magnet_parse(const char *link, rg_magnet *out, char **cause) {
  char *dummy = NULL;
  if (!cause)
    cause = &dummy;
  *cause = NULL;
  memset(out, 0, sizeof *out);
  if (!link) {
    *cause = rg_strdup("not a magnet link or info hash (nothing given)");
    return -EINVAL;
  }
  const char *s = link, *e = link + strlen(link);
  while (s < e && isspace((unsigned char)*s))
    s++;
  while (e > s && isspace((unsigned char)e[-1]))
    e--;
  size_t len = (size_t)(e - s);

  int rc;
  if (ieq_prefix(s, len, "magnet:")) {
    s += 7;
    len -= 7;
    if (len == 0 || *s != '?') {
      *cause = rg_strdup("magnet link must continue with '?' after "
                         "\"magnet:\"");
      rc = -EINVAL;
    } else {
      rc = parse_magnet(s + 1, len - 1, out, cause);
    }
  } else {
    bool alnum = len > 0;
    for (size_t i = 0; i < len && alnum; i++)
      alnum = isalnum((unsigned char)s[i]) != 0;
    if (alnum) {
      rc = parse_hash(s, len, out, cause);
    } else {
      *cause = rg_strdup("not a magnet link or info hash");
      rc = -EINVAL;
    }
  }
  if (rc)
    rg_magnet_clear(out);
  free(dummy);
  return rc;
}

char *rg_magnet_format(const uint8_t ih[20], const char *name,
                       const char *const *trackers, size_t ntrackers,
                       const char *const *peers, size_t npeers) {
  char hex[41];
  rg_hex_encode(ih, 20, hex);
  char *out = rg_printf("magnet:?xt=urn:btih:%s", hex);
  struct {
    const char *key;
    const char *const *v;
    size_t n;
  } lists[] = {
      {"dn", &name, name && *name ? 1 : 0},
      {"tr", trackers, trackers ? ntrackers : 0},
      {"x.pe", peers, peers ? npeers : 0},
  };
  for (size_t l = 0; l < RG_ARRAY_LEN(lists); l++) {
    for (size_t i = 0; i < lists[l].n; i++) {
      if (!lists[l].v[i])
        continue;
      char *enc = rg_percent_encode(lists[l].v[i]);
      char *next = rg_printf("%s&%s=%s", out, lists[l].key, enc);
      free(enc);
      free(out);
      out = next;
    }
  }
  return out;
}
