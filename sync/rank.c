/* rank.c — quality attributes of release names, and the ladder.
 *
 * Attributes are found as words of a lowercased copy of the name: a word is
 * bounded by the string's ends or by a character that is not a letter or a
 * digit ("HDR10+" ends at '+', so "hdr10+" is looked up with its '+').
 * Resolution, source, codec, title, year and episode come from release.c.
 *
 * The ladder is a list of tiers, best first; a tier is words that must all
 * hold (a resolution, "dv", "hdr10+", "hdr", "remux", "bluray", "web",
 * "x265", "x264", "av1"). A release takes the first tier it satisfies; none
 * means rejected. The score is (tiers - tier) * 100 plus a bonus under 100
 * for audio and REMUX, so an upgrade margin of 100 means "one tier better".
 * No allocation after rg_rank_conf_new; pure functions, any thread. */
#include "config.h"

#include "rank.h"

#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TIERS 16
#define MAX_BOUNDS 8
#define WORK_MAX 1024

enum {
  REQ_DV = 1 << 0,
  REQ_HDR10P = 1 << 1,
  REQ_HDR = 1 << 2,
  REQ_REMUX = 1 << 3,
  REQ_BLURAY = 1 << 4,
  REQ_WEB = 1 << 5,
  REQ_X265 = 1 << 6,
  REQ_X264 = 1 << 7,
  REQ_AV1 = 1 << 8,
};

typedef struct tier {
  int res; /* 0 = any */
  unsigned req;
  char name[48];
} tier;

typedef struct bound {
  int res;
  int64_t lo_mb, hi_mb;
} bound;

struct rg_rank_conf {
  tier tiers[MAX_TIERS];
  int ntiers;
  bound movie[MAX_BOUNDS], episode[MAX_BOUNDS];
  int nmovie, nepisode;
  char reject[128];    /* ",cam,ts," */
  char languages[128]; /* ",en,fr," or "" */
  int min_seeders, min_seeders_watchlist;
};

/* ---- words ---- */

static bool is_wordc(unsigned char c) { return isalnum(c) || c >= 0x80; }

/* WORD occurs in L (lowercase) with word boundaries on both sides. */
static bool has(const char *l, const char *word) {
  size_t n = strlen(word);
  for (const char *p = strstr(l, word); p; p = strstr(p + 1, word)) {
    bool start = p == l || !is_wordc((unsigned char)p[-1]) ||
                 !is_wordc((unsigned char)word[0]);
    bool end =
        !is_wordc((unsigned char)p[n]) || !is_wordc((unsigned char)word[n - 1]);
    if (start && end)
      return true;
  }
  return false;
}

static bool has_any(const char *l, const char *const *words) {
  for (; *words; words++)
    if (has(l, *words))
      return true;
  return false;
}

/* "5.1", "5 1", "ddp5.1", "dd+5.1", "aac5.1": the digits D.1 not inside a
 * longer number ("25.1", "5.10"). */
static bool has_channels(const char *l, char d) {
  for (const char *p = l; (p = strchr(p, d)); p++) {
    if (p > l && isdigit((unsigned char)p[-1]))
      continue;
    if ((p[1] == '.' || p[1] == ' ' || p[1] == '_') && p[2] == '1' &&
        !isdigit((unsigned char)p[3]))
      return true;
  }
  return false;
}

static void add_lang(rg_rank_attrs *a, const char *code) {
  char key[12];
  snprintf(key, sizeof key, ",%s,", code);
  char have[sizeof a->langs + 2];
  snprintf(have, sizeof have, ",%s,", a->langs);
  if (strstr(have, key))
    return;
  size_t n = strlen(a->langs);
  if (n + strlen(code) + 2 > sizeof a->langs)
    return;
  snprintf(a->langs + n, sizeof a->langs - n, "%s%s", n ? "," : "", code);
}

typedef struct lang_word {
  const char *word, *code;
} lang_word;

static const lang_word lang_words[] = {
    {"multi", "multi"},   {"dual", "multi"},    {"dual audio", "multi"},
    {"english", "en"},    {"eng", "en"},        {"french", "fr"},
    {"truefrench", "fr"}, {"vff", "fr"},        {"vfq", "fr"},
    {"vostfr", "fr"},     {"german", "de"},     {"ger", "de"},
    {"italian", "it"},    {"ita", "it"},        {"spanish", "es"},
    {"spa", "es"},        {"esp", "es"},        {"castellano", "es"},
    {"latino", "es"},     {"russian", "ru"},    {"rus", "ru"},
    {"hindi", "hi"},      {"tamil", "ta"},      {"telugu", "te"},
    {"japanese", "ja"},   {"jpn", "ja"},        {"korean", "ko"},
    {"kor", "ko"},        {"portuguese", "pt"}, {"por", "pt"},
    {"dublado", "pt"},    {"polish", "pl"},     {"pl", "pl"},
    {"dutch", "nl"},      {"swedish", "sv"},    {"nordic", "sv"},
    {"chinese", "zh"},    {"chs", "zh"},        {"cht", "zh"},
    {"turkish", "tr"},    {"ukrainian", "uk"},  {"ukr", "uk"},
    {"czech", "cs"},      {"hungarian", "hu"},  {"arabic", "ar"},
    {"thai", "th"},       {"vietnamese", "vi"},
};

/* Regional-indicator flags (as Torrentio prints them), UTF-8. */
static const lang_word lang_flags[] = {
    {"\xF0\x9F\x87\xAC\xF0\x9F\x87\xA7", "en"}, /* GB */
    {"\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8", "en"}, /* US */
    {"\xF0\x9F\x87\xAE\xF0\x9F\x87\xB9", "it"}, /* IT */
    {"\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7", "fr"}, /* FR */
    {"\xF0\x9F\x87\xAA\xF0\x9F\x87\xB8", "es"}, /* ES */
    {"\xF0\x9F\x87\xB2\xF0\x9F\x87\xBD", "es"}, /* MX */
    {"\xF0\x9F\x87\xA9\xF0\x9F\x87\xAA", "de"}, /* DE */
    {"\xF0\x9F\x87\xB7\xF0\x9F\x87\xBA", "ru"}, /* RU */
    {"\xF0\x9F\x87\xAF\xF0\x9F\x87\xB5", "ja"}, /* JP */
    {"\xF0\x9F\x87\xB0\xF0\x9F\x87\xB7", "ko"}, /* KR */
    {"\xF0\x9F\x87\xAE\xF0\x9F\x87\xB3", "hi"}, /* IN */
    {"\xF0\x9F\x87\xA7\xF0\x9F\x87\xB7", "pt"}, /* BR */
    {"\xF0\x9F\x87\xB5\xF0\x9F\x87\xB9", "pt"}, /* PT */
    {"\xF0\x9F\x87\xB5\xF0\x9F\x87\xB1", "pl"}, /* PL */
    {"\xF0\x9F\x87\xA8\xF0\x9F\x87\xB3", "zh"}, /* CN */
    {"\xF0\x9F\x87\xBA\xF0\x9F\x87\xA6", "uk"}, /* UA */
};

/* Only the part after the title and year speaks of languages ("The
 * Italian Job" is not Italian; "Rus" may be a title word). */
static const char *after_title(const char *l, const rg_rank_attrs *a) {
  if (!a->parsed || !a->rel.title[0])
    return l;
  /* the first quality/year/season marker: skip the title's word count */
  int words = 0;
  for (const char *t = a->rel.title; *t;) {
    while (*t && !is_wordc((unsigned char)*t))
      t++;
    if (!*t)
      break;
    words++;
    while (*t && is_wordc((unsigned char)*t))
      t++;
  }
  const char *p = l;
  for (int w = 0; w < words && *p; w++) {
    while (*p && !is_wordc((unsigned char)*p))
      p++;
    while (*p && is_wordc((unsigned char)*p))
      p++;
  }
  return p;
}

void rg_rank_parse(const char *name, rg_rank_attrs *a) {
  memset(a, 0, sizeof *a);
  char l[WORK_MAX];
  size_t n = 0;
  for (const char *s = name ? name : ""; *s && n + 1 < sizeof l; s++)
    l[n++] = (char)tolower((unsigned char)*s);
  l[n] = 0;
  /* Torrentio titles: the first line is the release name */
  char first[WORK_MAX];
  snprintf(first, sizeof first, "%.*s", (int)strcspn(name ? name : "", "\n"),
           name ? name : "");
  a->parsed = rg_release_parse(first, &a->rel);
  if (!a->parsed) {
    a->rel.season = a->rel.episode = -1;
  }

  static const char *const remux[] = {"remux", "bdremux", "uhdremux", NULL};
  a->remux = has_any(l, remux);
  static const char *const dv[] = {
      "dv", "dovi", "dolby vision", "dolbyvision", "dolby.vision", NULL};
  static const char *const hdr10p[] = {"hdr10+", "hdr10plus", "hdr10p", NULL};
  static const char *const hdr[] = {"hdr", "hdr10", "hdr 10", "uhd hdr", NULL};
  bool is_dv = has_any(l, dv), is_p = has_any(l, hdr10p);
  a->hdr10 = has_any(l, hdr) || is_p;
  a->hdr = is_dv ? RG_HDR_DV : is_p ? RG_HDR_HDR10P : a->hdr10 ? RG_HDR_HDR : 0;

  if (has(l, "atmos"))
    a->audio |= RG_AUDIO_ATMOS;
  if (has(l, "truehd") || has(l, "true-hd") || has(l, "true hd"))
    a->audio |= RG_AUDIO_TRUEHD;
  static const char *const dtshd[] = {"dts-hd",   "dtshd", "dts-hd ma", "dts-x",
                                      "dtsx",     "dts:x", "dts-ma",    "dtsma",
                                      "dts-hdma", NULL};
  if (has_any(l, dtshd))
    a->audio |= RG_AUDIO_DTSHD;
  else if (has(l, "dts"))
    a->audio |= RG_AUDIO_DTS;
  static const char *const ddp[] = {"ddp",  "dd+",  "eac3", "e-ac3", "ddp5",
                                    "ddp2", "ddp7", "dd+5", NULL};
  static const char *const dd[] = {"ac3",           "dd", "dd5", "dd2",
                                   "dolby digital", NULL};
  if (has_any(l, ddp) || strstr(l, "ddp5.1") || strstr(l, "ddp2.0") ||
      strstr(l, "ddp7.1"))
    a->audio |= RG_AUDIO_DDP;
  else if (has_any(l, dd) || strstr(l, "dd5.1"))
    a->audio |= RG_AUDIO_DD;
  if (has(l, "aac") || strstr(l, "aac2.0") || strstr(l, "aac5.1"))
    a->audio |= RG_AUDIO_AAC;
  if (has_channels(l, '7'))
    a->audio |= RG_AUDIO_71;
  else if (has_channels(l, '5'))
    a->audio |= RG_AUDIO_51;

  if (!a->rel.resolution) {
    static const char *const uhd[] = {"4k", "uhd", "2160", NULL};
    if (has_any(l, uhd))
      a->rel.resolution = 2160;
  }

  const char *tail = after_title(l, a);
  for (size_t i = 0; i < RG_ARRAY_LEN(lang_words); i++)
    if (has(tail, lang_words[i].word))
      add_lang(a, lang_words[i].code);
  for (size_t i = 0; i < RG_ARRAY_LEN(lang_flags); i++)
    if (strstr(l, lang_flags[i].word))
      add_lang(a, lang_flags[i].code);

  static const struct {
    const char *kind;
    const char *const words[10];
  } rej[] = {
      {"cam", {"cam", "camrip", "cam-rip", "hdcam", "hqcam", "newcam", NULL}},
      {"ts",
       {"ts", "hdts", "hd-ts", "telesync", "pdvd", "tsrip", "predvd", "hqts",
        NULL}},
      {"tc", {"tc", "hdtc", "telecine", "hd-tc", NULL}},
      {"screener",
       {"scr", "screener", "dvdscr", "dvdscreener", "bdscr", "webscr", NULL}},
      {"workprint", {"workprint", "wp", NULL}},
      {"3d", {"3d", "sbs", "h-sbs", "hsbs", "half-sbs", "h-ou", NULL}},
  };
  for (size_t i = 0; i < RG_ARRAY_LEN(rej) && !a->rejected; i++)
    if (has_any(tail, rej[i].words))
      a->rejected = rej[i].kind;
  /* "Movie.2023.1080p.WEB.ts": a file extension, not a telesync */
  if (a->rejected && strcmp(a->rejected, "ts") == 0 && n > 3 &&
      strcmp(l + n - 3, ".ts") == 0) {
    char cut[WORK_MAX];
    snprintf(cut, sizeof cut, "%.*s", (int)(n - 3), l);
    a->rejected = has_any(after_title(cut, a), rej[1].words) ? "ts" : NULL;
  }
}

/* ---- the ladder ---- */

static int parse_res(const char *w) {
  if (!strcmp(w, "2160p") || !strcmp(w, "4k") || !strcmp(w, "uhd") ||
      !strcmp(w, "2160"))
    return 2160;
  if (!strcmp(w, "1080p") || !strcmp(w, "1080"))
    return 1080;
  if (!strcmp(w, "720p") || !strcmp(w, "720"))
    return 720;
  if (!strcmp(w, "480p") || !strcmp(w, "480") || !strcmp(w, "sd"))
    return 480;
  return -1;
}

static int parse_tier(const char *s, size_t len, tier *t, char **cause) {
  char buf[64];
  if (len >= sizeof buf) {
    *cause = rg_printf("ladder tier '%.*s' is too long", (int)len, s);
    return -EINVAL;
  }
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    buf[n++] = (char)tolower((unsigned char)s[i]);
  buf[n] = 0;
  memset(t, 0, sizeof *t);
  char *save = NULL;
  int words = 0;
  for (char *w = strtok_r(buf, " .\t", &save); w;
       w = strtok_r(NULL, " .\t", &save)) {
    int r = parse_res(w);
    size_t o = strlen(t->name);
    snprintf(t->name + o, sizeof t->name - o, "%s%s", o ? " " : "", w);
    words++;
    if (r > 0) {
      t->res = r;
      continue;
    }
    static const struct {
      const char *w;
      unsigned req;
    } reqs[] = {{"dv", REQ_DV},         {"dovi", REQ_DV},
                {"hdr10+", REQ_HDR10P}, {"hdr10plus", REQ_HDR10P},
                {"hdr", REQ_HDR},       {"hdr10", REQ_HDR},
                {"remux", REQ_REMUX},   {"bluray", REQ_BLURAY},
                {"web", REQ_WEB},       {"x265", REQ_X265},
                {"hevc", REQ_X265},     {"x264", REQ_X264},
                {"av1", REQ_AV1}};
    bool known = false;
    for (size_t i = 0; i < RG_ARRAY_LEN(reqs); i++)
      if (!strcmp(w, reqs[i].w)) {
        t->req |= reqs[i].req;
        known = true;
      }
    if (!known) {
      *cause = rg_printf("ladder tier '%.*s': unknown word '%s' (use a "
                         "resolution such as 2160p or 1080p, and dv, hdr10+, "
                         "hdr, remux, bluray, web, x265, x264, av1)",
                         (int)len, s, w);
      return -EINVAL;
    }
  }
  if (!words) {
    *cause = rg_strdup("ladder: an empty tier (two commas in a row?)");
    return -EINVAL;
  }
  return 0;
}

static int parse_bounds(const char *what, const char *s, bound *b, int *nb,
                        char **cause) {
  *nb = 0;
  for (const char *p = s ? s : ""; *p;) {
    size_t len = strcspn(p, ",");
    char item[64];
    snprintf(item, sizeof item, "%.*s", (int)(len < 63 ? len : 63), p);
    char *t = item;
    while (*t == ' ')
      t++;
    if (*t) {
      char res[16];
      long long lo, hi;
      int used = 0;
      if (*nb >= MAX_BOUNDS ||
          sscanf(t, "%15[^=]=%lld-%lld%n", res, &lo, &hi, &used) != 3 ||
          t[used] != 0 || lo < 0 || hi < lo) {
        *cause = rg_printf("%s: '%s' is not RES=MIN-MAX in MiB (e.g. "
                           "1080p=1500-60000)",
                           what, t);
        return -EINVAL;
      }
      for (char *c = res; *c; c++)
        *c = (char)tolower((unsigned char)*c);
      int r = parse_res(res);
      if (r < 0) {
        *cause = rg_printf("%s: unknown resolution '%s'", what, res);
        return -EINVAL;
      }
      b[*nb].res = r;
      b[*nb].lo_mb = lo;
      b[*nb].hi_mb = hi;
      (*nb)++;
    }
    p += len + (p[len] == ',');
  }
  return 0;
}

/* ",a,b," from "a, b" (lowercase, spaces dropped) into OUT. */
static void list_norm(const char *s, char *out, size_t cap) {
  size_t n = 0;
  out[n++] = ',';
  for (; s && *s && n + 2 < cap; s++) {
    if (*s == ' ')
      continue;
    out[n++] = (char)tolower((unsigned char)*s);
  }
  out[n++] = ',';
  out[n] = 0;
  if (n == 2)
    out[0] = 0;
}

static bool in_list(const char *list, const char *item) {
  char key[24];
  snprintf(key, sizeof key, ",%s,", item);
  return list[0] && strstr(list, key);
}

rg_rank_conf *rg_rank_conf_new(const rg_rank_opts *o, char **cause) {
  rg_rank_conf *c = rg_calloc(1, sizeof *c);
  const char *ladder = o->ladder && *o->ladder
                           ? o->ladder
                           : "2160p dv,2160p hdr10+,2160p hdr,2160p,"
                             "1080p remux,1080p";
  for (const char *p = ladder; *p;) {
    size_t len = strcspn(p, ",>");
    while (len && *p == ' ')
      p++, len--;
    if (c->ntiers == MAX_TIERS) {
      *cause = rg_printf("ladder: more than %d tiers", MAX_TIERS);
      goto fail;
    }
    if (parse_tier(p, len, &c->tiers[c->ntiers], cause))
      goto fail;
    c->ntiers++;
    p += len + (p[len] != 0);
  }
  if (parse_bounds("movie size bounds", o->movie_sizes, c->movie, &c->nmovie,
                   cause) ||
      parse_bounds("episode size bounds", o->episode_sizes, c->episode,
                   &c->nepisode, cause))
    goto fail;
  list_norm(o->reject, c->reject, sizeof c->reject);
  list_norm(o->languages, c->languages, sizeof c->languages);
  c->min_seeders = o->min_seeders;
  c->min_seeders_watchlist = o->min_seeders_watchlist;
  return c;
fail:
  free(c);
  return NULL;
}

void rg_rank_conf_free(rg_rank_conf **c) {
  free(*c);
  *c = NULL;
}

int rg_rank_tiers(const rg_rank_conf *c) { return c->ntiers; }

static bool tier_holds(const tier *t, const rg_rank_attrs *a) {
  if (t->res && a->rel.resolution != t->res)
    return false;
  if ((t->req & REQ_DV) && a->hdr != RG_HDR_DV)
    return false;
  if ((t->req & REQ_HDR10P) && a->hdr < RG_HDR_HDR10P)
    return false;
  if ((t->req & REQ_HDR) && a->hdr < RG_HDR_HDR)
    return false;
  if ((t->req & REQ_REMUX) && !a->remux)
    return false;
  if ((t->req & REQ_BLURAY) && strcmp(a->rel.source, "bluray") != 0)
    return false;
  if ((t->req & REQ_WEB) && strcmp(a->rel.source, "web") != 0)
    return false;
  if ((t->req & REQ_X265) && strcmp(a->rel.codec, "x265") != 0)
    return false;
  if ((t->req & REQ_X264) && strcmp(a->rel.codec, "x264") != 0)
    return false;
  if ((t->req & REQ_AV1) && strcmp(a->rel.codec, "av1") != 0)
    return false;
  return true;
}

static int bonus(const rg_rank_attrs *a) {
  int b = 0;
  if (a->audio & RG_AUDIO_ATMOS)
    b += 20;
  if (a->audio & RG_AUDIO_TRUEHD)
    b += 15;
  else if (a->audio & RG_AUDIO_DTSHD)
    b += 12;
  else if (a->audio & RG_AUDIO_DTS)
    b += 6;
  else if (a->audio & RG_AUDIO_DDP)
    b += 5;
  else if (a->audio & RG_AUDIO_DD)
    b += 3;
  if (a->audio & RG_AUDIO_71)
    b += 4;
  else if (a->audio & RG_AUDIO_51)
    b += 2;
  if (a->remux)
    b += 20;
  if (a->hdr == RG_HDR_DV && a->hdr10)
    b += 5; /* DV with an HDR10 fallback plays everywhere */
  if (!strcmp(a->rel.source, "bluray"))
    b += 5;
  return b > 99 ? 99 : b;
}

/* Are the languages acceptable: none named (the original), multi, or one of
 * the configured ones. */
static bool langs_ok(const rg_rank_conf *c, const rg_rank_attrs *a, char *bad,
                     size_t cap) {
  if (!c->languages[0] || !a->langs[0])
    return true;
  char copy[sizeof a->langs];
  snprintf(copy, sizeof copy, "%s", a->langs);
  char *save = NULL;
  for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save))
    if (!strcmp(w, "multi") || in_list(c->languages, w))
      return true;
  snprintf(bad, cap, "%s", a->langs);
  return false;
}

void rg_rank_eval(const rg_rank_conf *c, const rg_rank_attrs *a, int seeders,
                  int64_t size, int kind, int units, bool watchlist,
                  rg_rank_verdict *v) {
  memset(v, 0, sizeof *v);
  v->tier = -1;
  char bad[64];
  if (a->rejected && in_list(c->reject, a->rejected)) {
    snprintf(v->why, sizeof v->why, "rejected kind: %s", a->rejected);
    return;
  }
  if (!langs_ok(c, a, bad, sizeof bad)) {
    snprintf(v->why, sizeof v->why, "language %s not wanted", bad);
    return;
  }
  int min = watchlist ? c->min_seeders_watchlist : c->min_seeders;
  if (seeders >= 0 && seeders < min) {
    snprintf(v->why, sizeof v->why, "%d seeders, fewer than %d", seeders, min);
    return;
  }
  for (int i = 0; i < c->ntiers; i++)
    if (tier_holds(&c->tiers[i], a)) {
      v->tier = i;
      break;
    }
  if (v->tier < 0) {
    snprintf(v->why, sizeof v->why, "no ladder tier matches (%dp%s%s)",
             a->rel.resolution, a->remux ? " remux" : "",
             a->hdr == RG_HDR_DV       ? " dv"
             : a->hdr == RG_HDR_HDR10P ? " hdr10+"
             : a->hdr                  ? " hdr"
                                       : "");
    return;
  }
  if (size > 0) {
    const bound *b = kind == RG_RANK_EPISODE ? c->episode : c->movie;
    int nb = kind == RG_RANK_EPISODE ? c->nepisode : c->nmovie;
    int64_t per = size / (units > 0 ? units : 1) / (1 << 20);
    for (int i = 0; i < nb; i++) {
      if (b[i].res != a->rel.resolution)
        continue;
      if (per < b[i].lo_mb || per > b[i].hi_mb) {
        snprintf(v->why, sizeof v->why,
                 "%lld MiB%s is outside %lld-%lld MiB for %dp", (long long)per,
                 units > 1 ? " per episode" : "", (long long)b[i].lo_mb,
                 (long long)b[i].hi_mb, b[i].res);
        v->tier = -1;
        return;
      }
    }
  }
  v->ok = true;
  v->score = (c->ntiers - v->tier) * 100 + bonus(a);
  snprintf(v->why, sizeof v->why, "tier %d (%s), score %d", v->tier + 1,
           c->tiers[v->tier].name, v->score);
}
