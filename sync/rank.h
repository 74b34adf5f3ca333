/* rank.h — what a release name says about quality (on top of release.h's
 * title/year/episode/resolution/source/codec), and the ladder that orders
 * releases: tiers, minimum seeders, size bounds per resolution, rejected
 * kinds (CAM, TS, screener…) and languages. Pure functions; any thread. */
#ifndef RG_RANK_H
#define RG_RANK_H

#include <stdbool.h>
#include <stdint.h>

#include "release.h"

enum { RG_HDR_NONE = 0, RG_HDR_HDR, RG_HDR_HDR10P, RG_HDR_DV };

enum {
  RG_AUDIO_ATMOS = 1 << 0,
  RG_AUDIO_TRUEHD = 1 << 1,
  RG_AUDIO_DTSHD = 1 << 2, /* DTS-HD MA, DTS:X */
  RG_AUDIO_DTS = 1 << 3,
  RG_AUDIO_DDP = 1 << 4, /* E-AC3, DD+ */
  RG_AUDIO_DD = 1 << 5,  /* AC3, DD */
  RG_AUDIO_AAC = 1 << 6,
  RG_AUDIO_51 = 1 << 7,
  RG_AUDIO_71 = 1 << 8,
};

typedef struct rg_rank_attrs {
  rg_release rel; /* title, year, season/episode, resolution, source… */
  bool parsed;    /* rg_release_parse found a title */
  bool remux;
  int hdr;              /* RG_HDR_*: the best dynamic range the name claims */
  bool hdr10;           /* HDR10 / HDR named (with DV: a fallback layer) */
  unsigned audio;       /* RG_AUDIO_* */
  char langs[48];       /* "fr,it": languages named, "multi" for MULTI/DUAL */
  const char *rejected; /* "cam", "ts", "tc", "screener", "workprint", "3d",
                           or NULL */
} rg_rank_attrs;

/* Parses NAME (a torrent or file name; Torrentio's multi-line title works
 * too: flags like 🇮🇹 count as languages). */
void rg_rank_parse(const char *name, rg_rank_attrs *a);

typedef struct rg_rank_conf rg_rank_conf;

typedef struct rg_rank_opts {
  const char *ladder;        /* "2160p dv, 2160p hdr10+, 2160p hdr, 2160p,
                                1080p remux, 1080p" — best first; a release
                                matching no tier is rejected */
  const char *movie_sizes;   /* "2160p=8000-120000,1080p=1500-60000" MiB */
  const char *episode_sizes; /* the same, per episode */
  const char *reject;        /* "cam,ts,tc,screener,workprint,3d" */
  const char *languages;     /* "en" — accepted language tags; "" = any */
  int min_seeders;           /* 20 */
  int min_seeders_watchlist; /* 10 */
} rg_rank_opts;

/* NULL + *cause naming the bad part (which tier, which bound). Free with
 * rg_rank_conf_free. */
rg_rank_conf *rg_rank_conf_new(const rg_rank_opts *o, char **cause);
void rg_rank_conf_free(rg_rank_conf **c);
int rg_rank_tiers(const rg_rank_conf *c);

typedef struct rg_rank_verdict {
  bool ok;
  int tier;      /* 0 = the best tier; -1 = none */
  int score;     /* (tiers - tier) * 100 + audio/remux bonus (< 100) */
  char why[160]; /* why it was rejected, or the tier it matched */
} rg_rank_verdict;

enum { RG_RANK_MOVIE = 0, RG_RANK_EPISODE = 1 };

/* Judges a release. SEEDERS < 0 = unknown (not checked); SIZE 0 = unknown;
 * UNITS = episodes a pack holds (size bounds scale with it; 1 otherwise). */
void rg_rank_eval(const rg_rank_conf *c, const rg_rank_attrs *a, int seeders,
                  int64_t size, int kind, int units, bool watchlist,
                  rg_rank_verdict *v);

#endif
