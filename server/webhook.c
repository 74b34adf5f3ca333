/* webhook.c — the three media servers' webhook formats, normalised.
 *
 * How a request is read:
 *   1. The envelope, from Content-Type: multipart/form-data → the "payload"
 *      part (Plex) or "data" part (Emby); x-www-form-urlencoded → the same
 *      fields, else a JSON body sent with curl's default type, else the
 *      form's fields as a flat object; application/json, text/plain (the
 *      Jellyfin plugin's default) or no type → the body itself. Anything
 *      else is refused (415).
 *   2. The document: strict JSON first; if that fails, the same text after
 *      the repairs a Handlebars template needs (True/False, empty values,
 *      raw newlines in strings, trailing commas); text that is not JSON at
 *      all may be "Key: Value" lines.
 *   3. The fields, looked up case-insensitively in the item objects in
 *      order — Plex's "Metadata", Emby's "Item", then the top level (the
 *      Jellyfin plugin's flat SendAllProperties object) — and the ids from
 *      wherever they appear (Guid[] entries, guid strings, Provider_imdb,
 *      ProviderIds.Imdb, legacy com.plexapp.agents.*://… agent guids).
 *
 * Pure functions on the caller's buffers; nothing here keeps state. */
#include "config.h"

#include "webhook.h"

#include "multipart.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARTS 16
#define MAX_DEPTH 24

/* ------------------------------------------------------------ envelope -- */

/* "multipart/form-data; boundary=x" → "multipart/form-data" in OUT. */
static void media_type(const char *ct, char *out, size_t len) {
  size_t o = 0;
  if (ct)
    while (*ct == ' ' || *ct == '\t')
      ct++;
  for (; ct && *ct && *ct != ';' && o + 1 < len; ct++)
    out[o++] = (char)tolower((unsigned char)*ct);
  while (o && (out[o - 1] == ' ' || out[o - 1] == '\t'))
    o--;
  out[o] = 0;
}

static const uint8_t *skip_ws(const uint8_t *p, const uint8_t *end) {
  if (end - p >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
    p += 3; /* a UTF-8 BOM */
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    p++;
  return p;
}

static bool looks_json(const uint8_t *p, size_t len) {
  const uint8_t *s = skip_ws(p, p + len);
  return s < p + len && (*s == '{' || *s == '[');
}

/* ------------------------------------------------------------ document -- */

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    b->cap = (b->n + n + 1) * 2;
    b->p = rg_realloc(b->p, b->cap);
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

static bool word_char(int c) { return isalnum(c) || c == '_'; }

/* The repairs a hand-written Jellyfin template needs to become JSON. */
static char *json_repair(const char *s, size_t len, size_t *outlen) {
  sbuf b = {0};
  bool in_str = false;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (in_str) {
      if (c == '\\' && i + 1 < len) {
        sb_add(&b, s + i, 2);
        i++;
      } else if (c == '"') {
        in_str = false;
        sb_add(&b, "\"", 1);
      } else if (c < 0x20) {
        char esc[8];
        snprintf(esc, sizeof esc, "\\u%04x", c);
        sb_add(&b, esc, strlen(esc));
      } else {
        sb_add(&b, s + i, 1);
      }
      continue;
    }
    if (c == '"') {
      in_str = true;
      sb_add(&b, "\"", 1);
    } else if (isalpha(c)) {
      size_t j = i;
      while (j < len && word_char((unsigned char)s[j]))
        j++;
      const char *w = s + i;
      size_t wl = j - i;
      const char *rep = NULL;
      if (wl == 4 && strncasecmp(w, "true", 4) == 0)
        rep = "true";
      else if (wl == 5 && strncasecmp(w, "false", 5) == 0)
        rep = "false";
      else if ((wl == 4 && strncasecmp(w, "null", 4) == 0) ||
               (wl == 4 && strncasecmp(w, "none", 4) == 0))
        rep = "null";
      if (rep)
        sb_add(&b, rep, strlen(rep));
      else
        sb_add(&b, w, wl);
      i = j - 1;
    } else if (c == ':') {
      sb_add(&b, ":", 1);
      size_t j = i + 1;
      while (j < len && isspace((unsigned char)s[j]))
        j++;
      if (j < len && (s[j] == ',' || s[j] == '}'))
        sb_add(&b, "null", 4); /* "Year": , — a missing value */
    } else if (c == ',') {
      size_t j = i + 1;
      while (j < len && isspace((unsigned char)s[j]))
        j++;
      if (!(j < len && (s[j] == '}' || s[j] == ']')))
        sb_add(&b, ",", 1); /* else a trailing comma: dropped */
    } else {
      sb_add(&b, s + i, 1);
    }
  }
  if (!b.p)
    sb_add(&b, "", 0);
  *outlen = b.n;
  return b.p;
}

static json_t *load_json(const uint8_t *p, size_t len, char **cause) {
  json_error_t err;
  json_t *j = json_loadb((const char *)p, len, 0, &err);
  if (!j) {
    json_error_t err2;
    size_t fl;
    char *fixed = json_repair((const char *)p, len, &fl);
    j = json_loadb(fixed, fl, 0, &err2);
    free(fixed);
  }
  if (!j) {
    *cause = rg_printf("the body is not valid JSON: %s at line %d, column %d",
                       err.text, err.line, err.column);
    return NULL;
  }
  if (!json_is_object(j)) {
    json_decref(j);
    *cause = rg_strdup("the body is JSON but not an object");
    return NULL;
  }
  return j;
}

static char *trim_dup(const char *s, size_t n) {
  while (n && isspace((unsigned char)*s))
    s++, n--;
  while (n && isspace((unsigned char)s[n - 1]))
    n--;
  if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
    s++, n -= 2;
  return rg_strndup(s, n);
}

/* "Key: Value" or "Key=Value" lines into a flat object; NULL if none. */
static json_t *load_lines(const uint8_t *p, size_t len) {
  json_t *o = json_object();
  const char *s = (const char *)p, *end = s + len;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    const char *le = nl ? nl : end;
    const char *sep = NULL;
    for (const char *q = s; q < le; q++)
      if (*q == ':' || *q == '=') {
        sep = q;
        break;
      }
    if (sep && sep > s) {
      char *k = trim_dup(s, (size_t)(sep - s));
      char *v = trim_dup(sep + 1, (size_t)(le - sep - 1));
      bool key_ok = *k && strlen(k) < 64;
      for (const char *c = k; key_ok && *c; c++)
        if (!(word_char((unsigned char)*c) || *c == '.' || *c == '-' ||
              *c == ' '))
          key_ok = false;
      json_t *jv = key_ok ? json_string(v) : NULL; /* NULL: bad UTF-8 */
      if (jv)
        json_object_set_new(o, k, jv);
      free(k);
      free(v);
    }
    s = nl ? nl + 1 : end;
  }
  if (json_object_size(o) == 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* Every field of an urlencoded form into a flat object. */
static json_t *load_form(const uint8_t *p, size_t len) {
  json_t *o = json_object();
  const char *s = (const char *)p, *end = s + len;
  while (s < end) {
    const char *amp = memchr(s, '&', (size_t)(end - s));
    const char *pe = amp ? amp : end;
    const char *eq = memchr(s, '=', (size_t)(pe - s));
    if (eq && eq > s) {
      char *k = rg_percent_decode(s, (size_t)(eq - s), true);
      char *v = rg_percent_decode(eq + 1, (size_t)(pe - eq - 1), true);
      json_t *jv = v ? json_string(v) : NULL;
      if (k && jv)
        json_object_set_new(o, k, jv);
      else
        json_decref(jv);
      free(k);
      free(v);
    }
    s = amp ? amp + 1 : end;
  }
  if (json_object_size(o) == 0) {
    json_decref(o);
    return NULL;
  }
  return o;
}

/* The envelope: which bytes hold the document, and how to read them. */
static json_t *load_document(const char *content_type, const uint8_t *body,
                             size_t len, int *err, char **cause) {
  char mt[96];
  media_type(content_type, mt, sizeof mt);
  *err = -EINVAL;
  if (strcmp(mt, "multipart/form-data") == 0) {
    char boundary[128];
    rg_part parts[MAX_PARTS];
    size_t n = 0;
    if (rg_multipart_boundary(content_type, boundary, sizeof boundary) != 0) {
      *cause = rg_strdup("multipart body without a usable boundary parameter");
      return NULL;
    }
    if (rg_multipart_parse(body, len, boundary, parts, MAX_PARTS, &n) != 0) {
      *cause = rg_strdup("the multipart body is malformed or truncated");
      return NULL;
    }
    for (size_t i = 0; i < n; i++)
      if (strcmp(parts[i].name, "payload") == 0 ||
          strcmp(parts[i].name, "data") == 0)
        return load_json(parts[i].data, parts[i].len, cause);
    *cause = rg_strdup("multipart body without a \"payload\" (Plex) or "
                       "\"data\" (Emby) field");
    return NULL;
  }
  if (strcmp(mt, "application/x-www-form-urlencoded") == 0) {
    if (looks_json(body, len))
      return load_json(body, len, cause);
    char *v = rg_form_get((const char *)body, len, "payload");
    if (!v)
      v = rg_form_get((const char *)body, len, "data");
    if (v) {
      json_t *j = load_json((const uint8_t *)v, strlen(v), cause);
      free(v);
      return j;
    }
    json_t *j = load_form(body, len);
    if (!j)
      *cause = rg_strdup("form body without a \"payload\" or \"data\" field");
    return j;
  }
  bool text = strcmp(mt, "text/plain") == 0 || mt[0] == 0;
  bool json = strcmp(mt, "application/json") == 0 ||
              strcmp(mt, "text/json") == 0 ||
              (strncmp(mt, "application/", 12) == 0 && strlen(mt) > 5 &&
               strcmp(mt + strlen(mt) - 5, "+json") == 0);
  if (!text && !json) {
    *err = -ENOTSUP;
    *cause = rg_printf("Content-Type %.80s is not a webhook format: send "
                       "JSON, text/plain, a form or multipart/form-data",
                       mt);
    return NULL;
  }
  if (looks_json(body, len) || json)
    return load_json(body, len, cause);
  json_t *j = load_lines(body, len);
  if (!j)
    *cause = rg_strdup("the body is neither JSON nor \"Key: Value\" lines");
  return j;
}

/* -------------------------------------------------------------- fields -- */

/* Case-insensitive member lookup. */
static json_t *get(json_t *o, const char *key) {
  if (!json_is_object(o))
    return NULL;
  json_t *v = json_object_get(o, key);
  if (v)
    return v;
  const char *k;
  json_object_foreach(o, k, v) {
    if (strcasecmp(k, key) == 0)
      return v;
  }
  return NULL;
}

static json_t *get_obj(json_t *o, const char *key) {
  json_t *v = get(o, key);
  return json_is_object(v) ? v : NULL;
}

/* First non-empty string among KEYS (NULL-terminated) in OBJS. */
static const char *str_in(json_t *const *objs, int nobjs,
                          const char *const *keys) {
  for (int i = 0; i < nobjs; i++)
    for (const char *const *k = keys; *k; k++) {
      json_t *v = get(objs[i], *k);
      if (json_is_string(v) && json_string_length(v) > 0)
        return json_string_value(v);
    }
  return NULL;
}

/* An integer (JSON number or digits in a string), or false. */
static bool as_int(json_t *v, int64_t *out) {
  if (json_is_integer(v)) {
    *out = json_integer_value(v);
    return true;
  }
  if (json_is_real(v)) {
    double d = json_real_value(v);
    if (d > -9e18 && d < 9e18) {
      *out = (int64_t)d;
      return true;
    }
    return false;
  }
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    if (!*s || strlen(s) > 18)
      return false;
    int64_t n = 0;
    for (; *s; s++) {
      if (!isdigit((unsigned char)*s))
        return false;
      n = n * 10 + (*s - '0');
    }
    *out = n;
    return true;
  }
  return false;
}

static bool int_in(json_t *const *objs, int nobjs, const char *const *keys,
                   int64_t *out) {
  for (int i = 0; i < nobjs; i++)
    for (const char *const *k = keys; *k; k++)
      if (as_int(get(objs[i], *k), out))
        return true;
  return false;
}

static bool truthy(json_t *v) {
  if (json_is_boolean(v))
    return json_is_true(v);
  if (json_is_string(v))
    return strcasecmp(json_string_value(v), "true") == 0 ||
           strcmp(json_string_value(v), "1") == 0;
  return json_is_integer(v) && json_integer_value(v) != 0;
}

static char *dup_or_null(const char *s) { return s ? rg_strdup(s) : NULL; }

/* ----------------------------------------------------------------- ids -- */

static void add_imdb(rg_wh_event *e, const char *s) {
  /* "tt" and 5..10 digits; stops at the first non-digit (?lang=en) */
  if ((s[0] != 't' && s[0] != 'T') || (s[1] != 't' && s[1] != 'T'))
    return;
  size_t d = 0;
  while (isdigit((unsigned char)s[2 + d]))
    d++;
  if (d < 5 || d > 10 || isalpha((unsigned char)s[2 + d]))
    return;
  char id[16];
  snprintf(id, sizeof id, "tt%.*s", (int)d, s + 2);
  for (int i = 0; i < e->nimdb; i++)
    if (strcmp(e->imdb[i], id) == 0)
      return;
  if (e->nimdb < RG_WH_MAX_IDS)
    memcpy(e->imdb[e->nimdb++], id, sizeof id);
}

static void add_num(int64_t *v, int *n, int64_t x) {
  if (x <= 0)
    return;
  for (int i = 0; i < *n; i++)
    if (v[i] == x)
      return;
  if (*n < RG_WH_MAX_IDS)
    v[(*n)++] = x;
}

static bool leading_num(const char *s, int64_t *out) {
  int64_t n = 0;
  size_t d = 0;
  for (; isdigit((unsigned char)s[d]) && d < 12; d++)
    n = n * 10 + (s[d] - '0');
  if (!d || isdigit((unsigned char)s[d]))
    return false;
  *out = n;
  return true;
}

/* An id inside a string value: "imdb://tt…", "tmdb://6978", legacy agent
 * guids "com.plexapp.agents.imdb://tt…?lang=en",
 * "com.plexapp.agents.themoviedb://6978?lang=en",
 * "com.plexapp.agents.thetvdb://SHOW/S/E?lang=en" (the show's id, so only
 * the season and episode are taken from it). */
static void ids_from_string(rg_wh_event *e, const char *s) {
  const char *p;
  int64_t n;
  if ((p = strstr(s, "imdb://")))
    add_imdb(e, p + 7);
  if ((p = strstr(s, "agents.thetvdb://"))) {
    p += 17;
    const char *sl = strchr(p, '/');
    int64_t se, ep;
    if (sl && leading_num(sl + 1, &se)) {
      const char *sl2 = strchr(sl + 1, '/');
      if (sl2 && leading_num(sl2 + 1, &ep) && e->season < 0 && e->episode < 0 &&
          se < 1000 && ep < 100000) {
        e->season = (int)se;
        e->episode = (int)ep;
      }
    } else if (leading_num(p, &n)) {
      add_num(e->tvdb, &e->ntvdb, n);
    }
  } else if ((p = strstr(s, "tvdb://")) && leading_num(p + 7, &n)) {
    add_num(e->tvdb, &e->ntvdb, n);
  }
  if ((p = strstr(s, "themoviedb://")) && leading_num(p + 13, &n))
    add_num(e->tmdb, &e->ntmdb, n);
  else if ((p = strstr(s, "tmdb://")) && leading_num(p + 7, &n))
    add_num(e->tmdb, &e->ntmdb, n);
}

/* "Provider_imdb", "Imdb", "imdb_id", "ImdbId" → 'i'; tmdb 'm'; tvdb 'v'. */
static char id_key(const char *k) {
  if (strncasecmp(k, "provider_", 9) == 0)
    k += 9;
  static const struct {
    const char *name;
    char kind;
  } names[] = {{"imdb", 'i'}, {"imdb_id", 'i'}, {"imdbid", 'i'},
               {"tmdb", 'm'}, {"tmdb_id", 'm'}, {"tmdbid", 'm'},
               {"tvdb", 'v'}, {"tvdb_id", 'v'}, {"tvdbid", 'v'}};
  for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
    if (strcasecmp(k, names[i].name) == 0)
      return names[i].kind;
  return 0;
}

static void ids_walk(rg_wh_event *e, json_t *v, int depth) {
  if (depth > MAX_DEPTH)
    return;
  if (json_is_string(v)) {
    ids_from_string(e, json_string_value(v));
  } else if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) ids_walk(e, x, depth + 1);
  } else if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
      char kind = id_key(k);
      int64_t n;
      if (kind == 'i' && json_is_string(x))
        add_imdb(e, json_string_value(x));
      else if (kind == 'm' && as_int(x, &n))
        add_num(e->tmdb, &e->ntmdb, n);
      else if (kind == 'v' && as_int(x, &n))
        add_num(e->tvdb, &e->ntvdb, n);
      else
        ids_walk(e, x, depth + 1);
    }
  }
}

/* The first string under a key named "file" anywhere (Plex's
 * Metadata.Media[].Part[].file). */
static const char *find_file(json_t *v, int depth) {
  if (depth > MAX_DEPTH)
    return NULL;
  const char *r = NULL;
  if (json_is_array(v)) {
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) if ((r = find_file(x, depth + 1))) return r;
  } else if (json_is_object(v)) {
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
      if (strcasecmp(k, "file") == 0 && json_is_string(x) &&
          json_string_length(x) > 0)
        return json_string_value(x);
      if ((r = find_file(x, depth + 1)))
        return r;
    }
  }
  return NULL;
}

/* --------------------------------------------------------------- kinds -- */

static rg_wh_kind kind_of(const char *ev) {
  static const struct {
    const char *name;
    rg_wh_kind kind;
  } map[] = {
      {"media.play", RG_WH_PLAY},
      {"playback.start", RG_WH_PLAY},
      {"playback.started", RG_WH_PLAY},
      {"playbackstart", RG_WH_PLAY},
      {"play", RG_WH_PLAY},
      {"start", RG_WH_PLAY},
      {"media.pause", RG_WH_PAUSE},
      {"playback.pause", RG_WH_PAUSE},
      {"playbackpause", RG_WH_PAUSE},
      {"pause", RG_WH_PAUSE},
      {"media.resume", RG_WH_RESUME},
      {"playback.unpause", RG_WH_RESUME},
      {"playback.resume", RG_WH_RESUME},
      {"playbackunpause", RG_WH_RESUME},
      {"playbackresume", RG_WH_RESUME},
      {"resume", RG_WH_RESUME},
      {"unpause", RG_WH_RESUME},
      {"media.stop", RG_WH_STOP},
      {"playback.stop", RG_WH_STOP},
      {"playbackstop", RG_WH_STOP},
      {"stop", RG_WH_STOP},
      {"playback.progress", RG_WH_PROGRESS},
      {"playbackprogress", RG_WH_PROGRESS},
      {"progress", RG_WH_PROGRESS},
      {"media.scrobble", RG_WH_SCROBBLE},
      {"scrobble", RG_WH_SCROBBLE},
      {"item.markplayed", RG_WH_SCROBBLE},
  };
  for (size_t i = 0; i < RG_ARRAY_LEN(map); i++)
    if (strcasecmp(ev, map[i].name) == 0)
      return map[i].kind;
  return RG_WH_OTHER;
}

static rg_wh_server server_of(json_t *root, const char *ev) {
  if (get(root, "NotificationType") || get(root, "ServerVersion"))
    return RG_WH_JELLYFIN;
  bool plexish =
      get_obj(root, "Metadata") &&
      (get(root, "Account") || get(root, "Player") || get(root, "owner"));
  if (plexish || strncasecmp(ev, "media.", 6) == 0)
    return RG_WH_PLEX;
  if (strchr(ev, '.'))
    return RG_WH_EMBY;
  return RG_WH_JELLYFIN;
}

/* --------------------------------------------------------------- paths -- */

/* "Title (2022)" → title and year; the year only when it is there. */
static char *split_year(const char *name, size_t n, int *year) {
  *year = 0;
  if (n >= 7 && name[n - 1] == ')' && name[n - 6] == '(' &&
      isdigit((unsigned char)name[n - 5]) &&
      isdigit((unsigned char)name[n - 2])) {
    int y = atoi(name + n - 5);
    if (y >= 1880 && y <= 2100) {
      *year = y;
      n -= 6;
      while (n && name[n - 1] == ' ')
        n--;
    }
  }
  return rg_strndup(name, n);
}

/* S02E01 / s2e1 in NAME. */
static bool find_sxe(const char *name, int *season, int *episode) {
  for (const char *p = name; *p; p++) {
    if ((*p != 'S' && *p != 's') || (p > name && isalnum((unsigned char)p[-1])))
      continue;
    const char *q = p + 1;
    int s = 0, e = 0, ds = 0, de = 0;
    while (isdigit((unsigned char)*q) && ds < 3)
      s = s * 10 + (*q++ - '0'), ds++;
    if (!ds || (*q != 'E' && *q != 'e'))
      continue;
    q++;
    while (isdigit((unsigned char)*q) && de < 4)
      e = e * 10 + (*q++ - '0'), de++;
    if (!de)
      continue;
    *season = s;
    *episode = e;
    return true;
  }
  return false;
}

/* Fills what the event lacks from the file path's layout. */
static void fill_from_path(rg_wh_event *e) {
  if (!e->path)
    return;
  char *p = rg_strdup(e->path);
  for (char *c = p; *c; c++)
    if (*c == '\\')
      *c = '/';
  /* components: .../DIR2/DIR1/FILE */
  char *file = strrchr(p, '/');
  char *dir1 = NULL, *dir2 = NULL;
  if (file) {
    *file++ = 0;
    dir1 = strrchr(p, '/');
    if (dir1) {
      *dir1++ = 0;
      dir2 = strrchr(p, '/');
      dir2 = dir2 ? dir2 + 1 : p;
    } else {
      dir1 = p;
    }
  } else {
    file = p;
  }
  int s = -1, ep = -1;
  bool sxe = find_sxe(file, &s, &ep);
  if (sxe && e->season < 0 && e->episode < 0) {
    e->season = s;
    e->episode = ep;
  }
  bool episodic = (sxe || (e->season >= 0 && e->episode >= 0)) &&
                  strcmp(e->media_type, "movie") != 0;
  if (episodic) {
    if (!e->media_type[0])
      snprintf(e->media_type, sizeof e->media_type, "episode");
    const char *showdir = dir1;
    if (dir1 && (strncasecmp(dir1, "season", 6) == 0 ||
                 strncasecmp(dir1, "specials", 8) == 0))
      showdir = dir2;
    if (showdir && *showdir) {
      int y;
      char *show = split_year(showdir, strlen(showdir), &y);
      if (!e->show)
        e->show = show;
      else
        free(show);
      if (!e->show_year)
        e->show_year = y;
    }
  } else if (dir1 && *dir1) {
    int y;
    char *title = split_year(dir1, strlen(dir1), &y);
    if (y && !e->title) {
      e->title = title;
      title = NULL;
    }
    if (y && !e->year)
      e->year = y;
    if (y && !e->media_type[0])
      snprintf(e->media_type, sizeof e->media_type, "movie");
    free(title);
  }
  free(p);
}

/* ----------------------------------------------------------- normalise -- */

static int normalise(json_t *root, rg_wh_event *e, char **cause) {
  static const char *const k_event[] = {"event", "NotificationType", NULL};
  json_t *rootv[] = {root};
  const char *ev = str_in(rootv, 1, k_event);
  if (!ev) {
    *cause = rg_strdup("no event name: expected \"event\" (Plex), \"Event\" "
                       "(Emby) or \"NotificationType\" (Jellyfin)");
    return -EINVAL;
  }
  snprintf(e->event, sizeof e->event, "%s", ev);
  e->kind = kind_of(ev);
  e->server = server_of(root, ev);

  /* the item: Plex Metadata, Emby/Jellyfin Item, or the flat top level */
  json_t *items[3];
  int ni = 0;
  json_t *meta = get_obj(root, "Metadata");
  json_t *item = get_obj(root, "Item");
  if (meta)
    items[ni++] = meta;
  if (item)
    items[ni++] = item;
  bool flat = ni == 0;
  if (flat)
    items[ni++] = root;

  static const char *const k_type[] = {"ItemType", "type", "librarySectionType",
                                       NULL};
  const char *type = str_in(items, ni, k_type);
  if (type && strcmp(type, e->event) != 0) {
    char t[16];
    size_t i = 0;
    for (; type[i] && i + 1 < sizeof t; i++)
      t[i] = (char)tolower((unsigned char)type[i]);
    t[i] = 0;
    if (strcmp(t, "series") == 0)
      snprintf(t, sizeof t, "show");
    else if (strcmp(t, "video") == 0)
      t[0] = 0;
    snprintf(e->media_type, sizeof e->media_type, "%s", t);
  }

  static const char *const k_title[] = {"title", "Name", "ItemName", NULL};
  static const char *const k_show[] = {"grandparentTitle", "SeriesName",
                                       "series_name", "show", NULL};
  static const char *const k_year[] = {"year", "ProductionYear", NULL};
  static const char *const k_season[] = {"parentIndex",  "ParentIndexNumber",
                                         "SeasonNumber", "SeasonNumber00",
                                         "season",       NULL};
  static const char *const k_episode[] = {"index",         "IndexNumber",
                                          "EpisodeNumber", "EpisodeNumber00",
                                          "episode",       NULL};
  static const char *const k_path[] = {"Path", "ItemPath", "FilePath", "file",
                                       NULL};
  e->title = dup_or_null(str_in(items, ni, k_title));
  e->show = dup_or_null(str_in(items, ni, k_show));
  int64_t n;
  if (int_in(items, ni, k_year, &n) && n >= 1880 && n <= 2100)
    e->year = (int)n;
  bool ep = strcmp(e->media_type, "episode") == 0 || e->show != NULL;
  if (ep && int_in(items, ni, k_season, &n) && n >= 0 && n < 1000)
    e->season = (int)n;
  if (ep && int_in(items, ni, k_episode, &n) && n >= 0 && n < 100000)
    e->episode = (int)n;
  const char *path = str_in(items, ni, k_path);
  if (!path)
    path = find_file(meta ? meta : root, 0);
  e->path = dup_or_null(path);

  /* who plays it */
  json_t *player = get_obj(root, "Player");   /* Plex */
  json_t *account = get_obj(root, "Account"); /* Plex */
  json_t *session = get_obj(root, "Session"); /* Emby */
  json_t *user = get_obj(root, "User");       /* Emby */
  static const char *const k_client[] = {"ClientName", "Client", "title", NULL};
  static const char *const k_device[] = {"DeviceName", "Device", "title", NULL};
  static const char *const k_user[] = {
      "NotificationUsername", "Username", "UserName", "Name", "title", NULL};
  static const char *const k_session[] = {"PlaySessionId", "DeviceId", "uuid",
                                          "Id", NULL};
  json_t *who[3];
  int nw = 0;
  if (player)
    who[nw++] = player;
  if (session)
    who[nw++] = session;
  who[nw++] = root;
  /* "title"/"Id" only inside the player/session objects, never the root */
  static const char *const k_client_root[] = {"ClientName", "Client", NULL};
  static const char *const k_device_root[] = {"DeviceName", NULL};
  static const char *const k_session_root[] = {"PlaySessionId", "DeviceId",
                                               NULL};
  const char *s;
  s = str_in(who, nw - 1, k_client);
  e->client = dup_or_null(s ? s : str_in(rootv, 1, k_client_root));
  s = str_in(who, nw - 1, k_device);
  e->device = dup_or_null(s ? s : str_in(rootv, 1, k_device_root));
  s = str_in(who, nw - 1, k_session);
  e->session = dup_or_null(s ? s : str_in(rootv, 1, k_session_root));
  json_t *uobj[2];
  int nu = 0;
  if (account)
    uobj[nu++] = account;
  if (user)
    uobj[nu++] = user;
  static const char *const k_user_root[] = {"NotificationUsername", "Username",
                                            "UserName", NULL};
  s = nu ? str_in(uobj, nu, k_user) : NULL;
  e->user = dup_or_null(s ? s : str_in(rootv, 1, k_user_root));

  /* position: Plex viewOffset (ms), Jellyfin/Emby ticks (100 ns) */
  json_t *pinfo = get_obj(root, "PlaybackInfo");
  json_t *pos_objs[4];
  int np = 0;
  for (int i = 0; i < ni; i++)
    pos_objs[np++] = items[i];
  if (pinfo)
    pos_objs[np++] = pinfo;
  if (!flat)
    pos_objs[np++] = root;
  static const char *const k_ms[] = {"viewOffset", NULL};
  static const char *const k_ticks[] = {"PlaybackPositionTicks",
                                        "PositionTicks", NULL};
  if (int_in(pos_objs, np, k_ms, &n) && n >= 0)
    e->position_ms = n;
  else if (int_in(pos_objs, np, k_ticks, &n) && n >= 0)
    e->position_ms = n / 10000;
  json_t *paused = get(root, "IsPaused");
  if (!paused && pinfo)
    paused = get(pinfo, "IsPaused");
  e->paused = truthy(paused);
  if (e->kind == RG_WH_PROGRESS && e->paused)
    e->kind = RG_WH_PAUSE;

  /* ids: the item's own first, then anywhere */
  for (int i = 0; i < ni; i++)
    ids_walk(e, items[i], 0);
  ids_walk(e, root, 0);

  fill_from_path(e);
  return 0;
}

/* ---------------------------------------------------------------- API --- */

int rg_webhook_parse(const char *content_type, const uint8_t *body, size_t len,
                     rg_wh_event **out, char **cause) {
  *out = NULL;
  if (len > RG_WH_MAX_BODY) {
    *cause = rg_printf("the body is larger than %d bytes", RG_WH_MAX_BODY);
    return -EMSGSIZE;
  }
  if (!body || skip_ws(body, body + len) == body + len) {
    *cause = rg_strdup("the body is empty");
    return -EINVAL;
  }
  int err;
  json_t *root = load_document(content_type, body, len, &err, cause);
  if (!root)
    return err;
  rg_wh_event *e = rg_calloc(1, sizeof *e);
  e->season = e->episode = -1;
  e->position_ms = -1;
  int rc = normalise(root, e, cause);
  json_decref(root);
  if (rc) {
    rg_wh_event_free(&e);
    return rc;
  }
  *out = e;
  return 0;
}

void rg_wh_event_free(rg_wh_event **ep) {
  rg_wh_event *e = *ep;
  if (!e)
    return;
  free(e->title);
  free(e->show);
  free(e->path);
  free(e->client);
  free(e->user);
  free(e->device);
  free(e->session);
  free(e);
  *ep = NULL;
}

const char *rg_wh_kind_name(rg_wh_kind k) {
  switch (k) {
  case RG_WH_PLAY:
    return "play";
  case RG_WH_PAUSE:
    return "pause";
  case RG_WH_RESUME:
    return "resume";
  case RG_WH_STOP:
    return "stop";
  case RG_WH_PROGRESS:
    return "progress";
  case RG_WH_SCROBBLE:
    return "scrobble";
  default:
    return "other";
  }
}

const char *rg_wh_server_name(rg_wh_server s) {
  switch (s) {
  case RG_WH_PLEX:
    return "plex";
  case RG_WH_JELLYFIN:
    return "jellyfin";
  case RG_WH_EMBY:
    return "emby";
  default:
    return "unknown";
  }
}

static json_t *str_or_null(const char *s) {
  json_t *v = s ? json_string(s) : NULL;
  return v ? v : json_null();
}

json_t *rg_wh_event_json(const rg_wh_event *e) {
  json_t *imdb = json_array(), *tmdb = json_array(), *tvdb = json_array();
  for (int i = 0; i < e->nimdb; i++)
    json_array_append_new(imdb, json_string(e->imdb[i]));
  for (int i = 0; i < e->ntmdb; i++)
    json_array_append_new(tmdb, json_integer(e->tmdb[i]));
  for (int i = 0; i < e->ntvdb; i++)
    json_array_append_new(tvdb, json_integer(e->tvdb[i]));
  json_t *o = json_object();
  json_object_set_new(o, "server", json_string(rg_wh_server_name(e->server)));
  json_object_set_new(o, "event", str_or_null(e->event));
  json_object_set_new(o, "kind", json_string(rg_wh_kind_name(e->kind)));
  json_object_set_new(o, "media_type",
                      e->media_type[0] ? json_string(e->media_type)
                                       : json_null());
  json_object_set_new(o, "imdb", imdb);
  json_object_set_new(o, "tmdb", tmdb);
  json_object_set_new(o, "tvdb", tvdb);
  json_object_set_new(o, "title", str_or_null(e->title));
  json_object_set_new(o, "year", e->year ? json_integer(e->year) : json_null());
  json_object_set_new(o, "show", str_or_null(e->show));
  json_object_set_new(o, "season",
                      e->season >= 0 ? json_integer(e->season) : json_null());
  json_object_set_new(o, "episode",
                      e->episode >= 0 ? json_integer(e->episode) : json_null());
  json_object_set_new(o, "path", str_or_null(e->path));
  json_object_set_new(o, "client", str_or_null(e->client));
  json_object_set_new(o, "user", str_or_null(e->user));
  json_object_set_new(o, "device", str_or_null(e->device));
  json_object_set_new(o, "position_ms",
                      e->position_ms >= 0 ? json_integer(e->position_ms)
                                          : json_null());
  return o;
}
