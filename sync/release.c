/* release.c — release-name parser.
 *
 * A name is split into tokens at '.', '_', ' ', '(', ')', '{', '}', '+' and
 * ','. Square-bracket groups ("[YTS.MX]", "[SubsPlease]", "[ABCD1234]") are
 * dropped unless they hold quality markers ("[1080p]"), a leading
 * "www.site.org -" is skipped, and a known file extension is removed first.
 * Each token is then classified: year candidate, season/episode marker,
 * quality marker (resolution, source, codec, release tags), a lone "-"
 * separator, or a word.
 *
 * The title is the run of tokens before the first marker. Years are the
 * tricky part: a title may itself look like a year ("1917 2019", "2001 A
 * Space Odyssey 1968", "Blade Runner 2049 2017"), so the year is the LAST
 * year candidate before the first non-year marker, and never the first token.
 * A year candidate is 1900..(this year + 1), so "Blade Runner 2049" without a
 * year keeps 2049 in its title; "1080p"/"2160p" are never years.
 *
 * An episode without a season ("[Group] Show - 12 [1080p]", "Show E05")
 * gets season 1. Pure functions; no allocation. */
#include "config.h"

#include "release.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_TOKENS 64
#define NAME_MAX_BYTES 1024

enum tok_kind { T_WORD, T_YEAR, T_SE, T_QUAL, T_SEP, T_NUM };

typedef struct tok {
  const char *s; /* into the work buffer */
  size_t len;
  int kind;
  int year;        /* T_YEAR */
  char sep_before; /* the separator that preceded it (0 at the start) */
  bool bracketed;  /* came from a [...] group: never part of the title */
} tok;

static bool ieq(const char *a, size_t alen, const char *b) {
  size_t blen = strlen(b);
  return alen == blen && strncasecmp(a, b, blen) == 0;
}

static bool all_digits(const char *s, size_t n) {
  if (!n)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[i]))
      return false;
  return true;
}

static int num(const char *s, size_t n) {
  int v = 0;
  for (size_t i = 0; i < n && i < 6; i++)
    v = v * 10 + (s[i] - '0');
  return v;
}

static int max_year(void) {
  static int cached;
  if (!cached) {
    time_t now = time(NULL);
    struct tm tmv;
    gmtime_r(&now, &tmv);
    cached = tmv.tm_year + 1900 + 1;
    if (cached < 2025)
      cached = 2025;
    if (cached > 2099)
      cached = 2099;
  }
  return cached;
}

static const char *const video_exts[] = {
    "mkv", "mp4",  "m4v", "avi",     "ts",   "m2ts", "mov",  "webm", "wmv",
    "mpg", "mpeg", "flv", "srt",     "sub",  "ass",  "ssa",  "idx",  "nfo",
    "txt", "iso",  "vob", "torrent", "rmvb", "ogm",  "divx", "3gp"};

/* Length of NAME without a known extension. */
static size_t strip_extension(const char *name, size_t len) {
  const char *dot = NULL;
  for (size_t i = len; i > 0; i--)
    if (name[i - 1] == '.') {
      dot = name + i - 1;
      break;
    }
  if (!dot)
    return len;
  size_t elen = len - (size_t)(dot + 1 - name);
  for (size_t i = 0; i < sizeof video_exts / sizeof *video_exts; i++)
    if (ieq(dot + 1, elen, video_exts[i]))
      return (size_t)(dot - name);
  return len;
}

/* ---- classification ---- */

typedef struct qual {
  const char *word;
  int resolution;
  const char *source;
  const char *codec;
  bool upper_only; /* a marker only when written in capitals ("WEB", "UHD") */
} qual;

static const qual quals[] = {
    {"2160p", 2160, NULL, NULL, false},
    {"4k", 2160, NULL, NULL, false},
    {"uhd", 2160, NULL, NULL, true},
    {"1080p", 1080, NULL, NULL, false},
    {"1080i", 1080, NULL, NULL, false},
    {"720p", 720, NULL, NULL, false},
    {"576p", 480, NULL, NULL, false},
    {"480p", 480, NULL, NULL, false},
    {"360p", 0, NULL, NULL, false},
    {"fullhd", 1080, NULL, NULL, false},
    {"bluray", 0, "bluray", NULL, false},
    {"blu-ray", 0, "bluray", NULL, false},
    {"bdrip", 0, "bluray", NULL, false},
    {"brrip", 0, "bluray", NULL, false},
    {"bdremux", 0, "bluray", NULL, false},
    {"remux", 0, "bluray", NULL, false},
    {"bd", 0, "bluray", NULL, true},
    {"bdrip-x264", 0, "bluray", "x264", false},
    {"web-dl", 0, "web", NULL, false},
    {"webdl", 0, "web", NULL, false},
    {"webrip", 0, "web", NULL, false},
    {"web-rip", 0, "web", NULL, false},
    {"web", 0, "web", NULL, true},
    {"hdtv", 0, "hdtv", NULL, false},
    {"pdtv", 0, "hdtv", NULL, false},
    {"hdtvrip", 0, "hdtv", NULL, false},
    {"dvdrip", 0, "dvd", NULL, false},
    {"dvd", 0, "dvd", NULL, true},
    {"dvdr", 0, "dvd", NULL, false},
    {"dvd5", 0, "dvd", NULL, false},
    {"dvd9", 0, "dvd", NULL, false},
    {"dvdscr", 0, "dvd", NULL, false},
    {"hdrip", 0, NULL, NULL, false},
    {"x264", 0, NULL, "x264", false},
    {"h264", 0, NULL, "x264", false},
    {"avc", 0, NULL, "x264", true},
    {"x265", 0, NULL, "x265", false},
    {"h265", 0, NULL, "x265", false},
    {"hevc", 0, NULL, "x265", false},
    {"av1", 0, NULL, "av1", false},
    {"xvid", 0, NULL, NULL, false},
    {"divx", 0, NULL, NULL, false},
    {"10bit", 0, NULL, NULL, false},
    {"8bit", 0, NULL, NULL, false},
    {"hdr", 0, NULL, NULL, true},
    {"hdr10", 0, NULL, NULL, false},
    {"dv", 0, NULL, NULL, true},
    {"dovi", 0, NULL, NULL, false},
    {"aac", 0, NULL, NULL, false},
    {"ac3", 0, NULL, NULL, false},
    {"dts", 0, NULL, NULL, true},
    {"dts-hd", 0, NULL, NULL, false},
    {"truehd", 0, NULL, NULL, false},
    {"atmos", 0, NULL, NULL, true},
    {"ddp5", 0, NULL, NULL, false},
    {"dd5", 0, NULL, NULL, false},
    {"ddp", 0, NULL, NULL, true},
    {"eac3", 0, NULL, NULL, false},
    {"aac2", 0, NULL, NULL, false},
    {"flac", 0, NULL, NULL, true},
    {"amzn", 0, "web", NULL, true},
    {"nf", 0, "web", NULL, true},
    {"dsnp", 0, "web", NULL, true},
    {"hmax", 0, "web", NULL, true},
    {"atvp", 0, "web", NULL, true},
    {"repack", 0, NULL, NULL, false},
    {"proper", 0, NULL, NULL, true},
    {"rerip", 0, NULL, NULL, false},
    {"unrated", 0, NULL, NULL, true},
    {"extended", 0, NULL, NULL, true},
    {"remastered", 0, NULL, NULL, true},
    {"limited", 0, NULL, NULL, true},
    {"internal", 0, NULL, NULL, true},
    {"complete", 0, NULL, NULL, true},
    {"multi", 0, NULL, NULL, false},
    {"multisub", 0, NULL, NULL, false},
    {"dual", 0, NULL, NULL, true},
    {"vostfr", 0, NULL, NULL, false},
    {"truefrench", 0, NULL, NULL, false},
    {"subfrench", 0, NULL, NULL, false},
    {"french", 0, NULL, NULL, true},
    {"german", 0, NULL, NULL, true},
    {"italian", 0, NULL, NULL, true},
    {"spanish", 0, NULL, NULL, true},
    {"ita", 0, NULL, NULL, true},
    {"eng", 0, NULL, NULL, true},
    {"subbed", 0, NULL, NULL, false},
    {"dubbed", 0, NULL, NULL, false},
    {"imax", 0, NULL, NULL, true},
    {"hc", 0, NULL, NULL, true},
    {"cam", 0, NULL, NULL, true},
    {"hdcam", 0, NULL, NULL, false},
    {"telesync", 0, NULL, NULL, false},
    {"hdts", 0, NULL, NULL, false},
};

static bool is_upper_word(const char *s, size_t n) {
  bool any = false;
  for (size_t i = 0; i < n; i++) {
    if (islower((unsigned char)s[i]))
      return false;
    any |= isupper((unsigned char)s[i]) != 0;
  }
  return any;
}

static const qual *find_qual(const char *s, size_t n) {
  for (size_t i = 0; i < sizeof quals / sizeof *quals; i++)
    if (ieq(s, n, quals[i].word)) {
      if (quals[i].upper_only && !is_upper_word(s, n))
        return NULL;
      return &quals[i];
    }
  /* 1920x1080, 1280x720, 3840x2160 */
  const char *x = memchr(s, 'x', n);
  if (x && x > s && all_digits(s, (size_t)(x - s)) && x - s >= 3 &&
      all_digits(x + 1, n - (size_t)(x - s) - 1) &&
      n - (size_t)(x - s) - 1 >= 3) {
    static const qual r2160 = {"", 2160, NULL, NULL, false},
                      r1080 = {"", 1080, NULL, NULL, false},
                      r720 = {"", 720, NULL, NULL, false},
                      r480 = {"", 480, NULL, NULL, false},
                      rnone = {"", 0, NULL, NULL, false};
    int h = num(x + 1, n - (size_t)(x - s) - 1);
    return h >= 2000   ? &r2160
           : h >= 1000 ? &r1080
           : h >= 700  ? &r720
           : h >= 400  ? &r480
                       : &rnone;
  }
  return NULL;
}

/* Parses up to MAXD digits at S[*i]; -1 if none. */
static int digits_at(const char *s, size_t n, size_t *i, int maxd) {
  size_t st = *i;
  while (*i < n && *i - st < (size_t)maxd && isdigit((unsigned char)s[*i]))
    (*i)++;
  if (*i == st)
    return -1;
  return num(s + st, *i - st);
}

/* S01E02, S01E02E03, S01E02-E03, S01, S01-S03, S01-03, 1x02, E05, EP05. */
static bool parse_se(const char *s, size_t n, int *season, int *episode) {
  size_t i = 0;
  if (n >= 2 && (s[0] == 'S' || s[0] == 's') && isdigit((unsigned char)s[1])) {
    i = 1;
    int se = digits_at(s, n, &i, 4);
    if (se < 0 || se > 9999)
      return false;
    int ep = -1;
    if (i < n && (s[i] == 'E' || s[i] == 'e')) {
      i++;
      if (i < n && (s[i] == 'P' || s[i] == 'p'))
        i++;
      ep = digits_at(s, n, &i, 4);
      if (ep < 0)
        return false;
    }
    /* the rest may only be more episodes or a season range */
    while (i < n) {
      if (s[i] == '-' || s[i] == 'E' || s[i] == 'e' || s[i] == 'S' ||
          s[i] == 's' || isdigit((unsigned char)s[i]))
        i++;
      else
        return false;
    }
    *season = se;
    *episode = ep;
    return true;
  }
  if (n >= 2 && (s[0] == 'E' || s[0] == 'e')) {
    i = 1;
    if (i < n && (s[i] == 'P' || s[i] == 'p'))
      i++;
    int ep = digits_at(s, n, &i, 4);
    if (ep < 0)
      return false;
    while (i < n && (s[i] == '-' || s[i] == 'E' || s[i] == 'e' ||
                     isdigit((unsigned char)s[i])))
      i++;
    if (i != n)
      return false;
    *season = -1;
    *episode = ep;
    return true;
  }
  /* 1x02 (not 1920x1080) */
  const char *x = NULL;
  for (size_t k = 0; k < n; k++)
    if (s[k] == 'x' || s[k] == 'X') {
      x = s + k;
      break;
    }
  if (x) {
    size_t a = (size_t)(x - s), b = n - a - 1;
    if (a >= 1 && a <= 2 && b >= 1 && b <= 3 && all_digits(s, a)) {
      size_t k = a + 1;
      int ep = digits_at(s, n, &k, 3);
      if (ep >= 0 && k == n) {
        *season = num(s, a);
        *episode = ep;
        return true;
      }
    }
  }
  return false;
}

static bool is_sep(char c) {
  return c == '.' || c == '_' || c == ' ' || c == '(' || c == ')' || c == '{' ||
         c == '}' || c == '+' || c == ',' || c == '\t' || c == '\n' ||
         c == '\r' || c == '/' || c == '\\' || c == '|';
}

/* Classifies T; a token "x264-GROUP" is classified by its part before '-'. */
static void classify(tok *t, rg_release *out, bool record) {
  int se = -1, ep = -1;
  const qual *q;
  if (t->len == 1 && (t->s[0] == '-' || t->s[0] == '~' || t->s[0] == ':')) {
    t->kind = T_SEP;
    return;
  }
  if (t->len == 4 && all_digits(t->s, 4)) {
    int y = num(t->s, 4);
    if (y >= 1900 && y <= max_year()) {
      t->kind = T_YEAR;
      t->year = y;
      return;
    }
  }
  if (all_digits(t->s, t->len)) {
    t->kind = T_NUM;
    return;
  }
  if ((q = find_qual(t->s, t->len))) {
    t->kind = T_QUAL;
    goto qual;
  }
  if (parse_se(t->s, t->len, &se, &ep)) {
    t->kind = T_SE;
    if (record && out->season < 0 && out->episode < 0) {
      out->season = se;
      out->episode = ep;
    }
    return;
  }
  const char *dash = memchr(t->s, '-', t->len);
  if (dash && dash > t->s) {
    size_t l = (size_t)(dash - t->s);
    if ((q = find_qual(t->s, l))) {
      t->kind = T_QUAL;
      goto qual;
    }
    if (parse_se(t->s, l, &se, &ep)) {
      t->kind = T_SE;
      if (record && out->season < 0 && out->episode < 0) {
        out->season = se;
        out->episode = ep;
      }
      return;
    }
  }
  t->kind = T_WORD;
  return;
qual:
  if (!record)
    return;
  if (q->resolution && !out->resolution)
    out->resolution = q->resolution;
  if (q->source && !out->source[0])
    snprintf(out->source, sizeof out->source, "%s", q->source);
  if (q->codec && !out->codec[0])
    snprintf(out->codec, sizeof out->codec, "%s", q->codec);
}

/* Appends S[0..n) to the title, cutting at a UTF-8 boundary if full. */
static void title_add(rg_release *out, size_t *tl, const char *s, size_t n) {
  size_t room = sizeof out->title - 1 - *tl;
  if (n > room) {
    n = room;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(out->title + *tl, s, n);
  *tl += n;
  out->title[*tl] = 0;
}

bool rg_release_parse(const char *name, rg_release *out) {
  char buf[NAME_MAX_BYTES];
  tok toks[MAX_TOKENS];
  int nt = 0;

  memset(out, 0, sizeof *out);
  out->season = out->episode = -1;
  if (!name)
    return false;

  /* the last path component */
  const char *slash = strrchr(name, '/');
  if (slash && slash[1])
    name = slash + 1;
  size_t len = strnlen(name, sizeof buf - 1);
  memcpy(buf, name, len);
  buf[len] = 0;
  len = strip_extension(buf, len);
  buf[len] = 0;

  size_t i = 0;
  /* "www.site.org - Title", "[ www.site.org ] - Title" */
  while (i < len && (buf[i] == ' ' || buf[i] == '['))
    i++;
  if (len - i > 4 && strncasecmp(buf + i, "www.", 4) == 0) {
    const char *d = strstr(buf + i, " - ");
    size_t skip = 3;
    if (!d) {
      d = strstr(buf + i, "- ");
      skip = 2;
    }
    if (!d) {
      d = strstr(buf + i, "] ");
      skip = 2;
    }
    if (d && d - buf < 100)
      i = (size_t)(d - buf) + skip;
    else
      i = 0;
  } else {
    i = 0;
  }

  char sep = 0;
  while (i < len && nt < MAX_TOKENS) {
    char c = buf[i];
    if (c == '[') {
      /* a bracket group: keep its tokens only if one is a marker */
      size_t j = i + 1;
      while (j < len && buf[j] != ']')
        j++;
      size_t k = i + 1;
      int first = nt;
      bool marker = false;
      while (k < j && nt < MAX_TOKENS) {
        while (k < j && (is_sep(buf[k]) || buf[k] == '-'))
          k++;
        size_t st = k;
        while (k < j && !is_sep(buf[k]))
          k++;
        if (k == st)
          break;
        tok t = {
            .s = buf + st, .len = k - st, .sep_before = ' ', .bracketed = true};
        classify(&t, out, false);
        if (t.kind == T_QUAL || t.kind == T_YEAR)
          marker = true;
        toks[nt++] = t;
      }
      if (!marker)
        nt = first;
      i = j < len ? j + 1 : j;
      sep = ' ';
      continue;
    }
    if (is_sep(c) || c == ']') {
      sep = c == '.' ? '.' : ' ';
      i++;
      continue;
    }
    size_t st = i;
    while (i < len && !is_sep(buf[i]) && buf[i] != '[' && buf[i] != ']')
      i++;
    /* "S.H.I.E.L.D." style: the separator is kept with the token */
    toks[nt++] = (tok){.s = buf + st, .len = i - st, .sep_before = sep};
    sep = 0;
  }
  if (nt == 0)
    return false;

  for (int k = 0; k < nt; k++) {
    /* a bracketed hash ("[E1A2B3C4]") must not pass for an episode */
    classify(&toks[k], out, !toks[k].bracketed);
    if (toks[k].bracketed && toks[k].kind == T_QUAL)
      classify(&toks[k], out, true);
    else if (toks[k].bracketed && toks[k].kind == T_SE)
      toks[k].kind = T_WORD;
    /* "H.264", "H.265" */
    if (k > 0 && toks[k].len >= 3 && toks[k - 1].len == 1 &&
        (toks[k - 1].s[0] == 'H' || toks[k - 1].s[0] == 'h') &&
        (strncmp(toks[k].s, "264", 3) == 0 ||
         strncmp(toks[k].s, "265", 3) == 0) &&
        (toks[k].len == 3 || toks[k].s[3] == '-')) {
      toks[k - 1].kind = toks[k].kind = T_QUAL;
      if (!out->codec[0])
        snprintf(out->codec, sizeof out->codec, "%s",
                 toks[k].s[2] == '4' ? "x264" : "x265");
    }
  }

  /* "Season 1", "Season 1 Episode 2", "Episode 5", "Ep 5" */
  int se_at = -1;
  for (int k = 0; k < nt; k++) {
    if (toks[k].kind == T_SE && se_at < 0)
      se_at = k;
    size_t nd = 0;
    while (k + 1 < nt && nd < toks[k + 1].len &&
           isdigit((unsigned char)toks[k + 1].s[nd]))
      nd++;
    /* "Season 1", "Season 1-6" */
    if (toks[k].kind == T_WORD && k + 1 < nt && nd >= 1 && nd <= 3 &&
        (nd == toks[k + 1].len || toks[k + 1].s[nd] == '-')) {
      bool season = ieq(toks[k].s, toks[k].len, "season") ||
                    ieq(toks[k].s, toks[k].len, "saison") ||
                    ieq(toks[k].s, toks[k].len, "staffel") ||
                    ieq(toks[k].s, toks[k].len, "temporada");
      bool episode = ieq(toks[k].s, toks[k].len, "episode") ||
                     ieq(toks[k].s, toks[k].len, "ep");
      if (season || episode) {
        if (se_at < 0 || se_at > k)
          se_at = k;
        toks[k].kind = T_SE;
        toks[k + 1].kind = T_SE;
        int v = num(toks[k + 1].s, nd);
        if (season && out->season < 0)
          out->season = v;
        if (episode && out->episode < 0)
          out->episode = v;
      }
    }
    /* "S01" followed by "E02" as two tokens */
    if (toks[k].kind == T_SE && k + 1 < nt && toks[k + 1].kind == T_SE &&
        out->episode < 0) {
      int s2 = -1, e2 = -1;
      if (parse_se(toks[k + 1].s, toks[k + 1].len, &s2, &e2) && s2 < 0)
        out->episode = e2;
    }
  }

  int first_marker = nt;
  for (int k = 0; k < nt; k++)
    if (toks[k].kind == T_SE || toks[k].kind == T_QUAL) {
      first_marker = k;
      break;
    }

  /* the year: the last candidate before the first marker, never token 0 */
  int title_end = first_marker;
  for (int k = first_marker - 1; k >= 1; k--) {
    if (toks[k].kind == T_YEAR && !toks[k].bracketed) {
      bool word_before = false;
      for (int j = 0; j < k; j++)
        if (toks[j].kind != T_SEP && !toks[j].bracketed)
          word_before = true;
      if (!word_before)
        break;
      out->year = toks[k].year;
      title_end = k;
      break;
    }
  }
  if (!out->year) {
    /* a year in brackets or right after the episode marker */
    for (int k = 1; k < nt; k++)
      if (toks[k].kind == T_YEAR && (toks[k].bracketed || k > first_marker)) {
        out->year = toks[k].year;
        break;
      }
  }

  /* "Show - 12", "Show - 12v2" (anime, absolute numbering) */
  if (out->episode < 0 && out->season < 0) {
    for (int k = 1; k + 1 < title_end + 1 && k + 1 < nt; k++) {
      if (toks[k].kind != T_SEP)
        continue;
      tok *n = &toks[k + 1];
      size_t dl = 0;
      while (dl < n->len && isdigit((unsigned char)n->s[dl]))
        dl++;
      bool version = dl < n->len && (n->s[dl] == 'v' || n->s[dl] == 'V') &&
                     all_digits(n->s + dl + 1, n->len - dl - 1);
      if (dl >= 1 && dl <= 4 && (dl == n->len || version) &&
          (n->kind == T_NUM || n->kind == T_WORD)) {
        out->episode = num(n->s, dl);
        title_end = k;
        break;
      }
    }
  }
  if (out->episode >= 0 && out->season < 0)
    out->season = 1;

  /* the title */
  int start = 0;
  while (start < title_end &&
         (toks[start].kind == T_SEP || toks[start].bracketed))
    start++;
  while (title_end > start &&
         (toks[title_end - 1].kind == T_SEP || toks[title_end - 1].bracketed))
    title_end--;
  size_t tl = 0;
  out->title[0] = 0;
  for (int k = start; k < title_end; k++) {
    if (toks[k].bracketed)
      continue;
    if (tl) {
      /* S.H.I.E.L.D: single letters joined by dots stay joined */
      bool dots = toks[k].sep_before == '.' && toks[k].len == 1 &&
                  toks[k - 1].len == 1 &&
                  isalpha((unsigned char)toks[k].s[0]) &&
                  isalpha((unsigned char)toks[k - 1].s[0]);
      title_add(out, &tl, dots ? "." : " ", 1);
    }
    title_add(out, &tl, toks[k].s, toks[k].len);
  }
  /* a full title may end in the separator before a token that did not fit */
  while (tl > 0 && (out->title[tl - 1] == ' ' || out->title[tl - 1] == '.'))
    out->title[--tl] = 0;
  return tl > 0;
}

void rg_release_title_key(const char *title, char *out, size_t cap) {
  size_t o = 0;
  if (!cap)
    return;
  for (const unsigned char *p = (const unsigned char *)title; *p; p++) {
    if (o + 1 >= cap)
      break;
    if (*p >= 0x80 || isalnum(*p))
      out[o++] = (char)tolower(*p);
  }
  out[o] = 0;
}
