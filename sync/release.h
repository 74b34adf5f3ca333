/* release.h — release names ("The.Matrix.1999.1080p.BluRay.x264-GROUP",
 * "Show.Name.S01E02.720p.WEB-DL") parsed into title, year, season/episode
 * and quality. */
#ifndef RG_RELEASE_H
#define RG_RELEASE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct rg_release {
  char title[256]; /* cleaned: dots/underscores → spaces, as in the name */
  int year;        /* 0 = none */
  int season;      /* -1 = none */
  int episode;     /* -1 = none (a season pack has season ≥ 0, episode -1) */
  int resolution;  /* 2160, 1080, 720, 480, 0 = unknown */
  char source[16]; /* "bluray", "web", "hdtv", "dvd", "" */
  char codec[16];  /* "x265", "x264", "av1", "" */
} rg_release;

/* Parses NAME (a torrent name or a file name, extension allowed). Returns
 * true when at least a title was found. Never reads past NAME's NUL. */
bool rg_release_parse(const char *name, rg_release *out);

/* A title reduced to what names of one show share: ASCII letters and digits
 * lowercased, bytes of other UTF-8 characters kept, everything else dropped
 * ("Marvel's Agents of S.H.I.E.L.D." and "Marvels Agents of S H I E L D"
 * give one key). At most CAP-1 bytes, NUL-terminated. */
void rg_release_title_key(const char *title, char *out, size_t cap);

#endif
