/* util.h — small helpers shared by every module. */
#ifndef RG_UTIL_H
#define RG_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Value of hex digit C, or -1. */
int rg_hex_digit(int c);
/* Decodes exactly 2*N hex digits of HEX into OUT. 0 or -EINVAL. */
int rg_hex_decode(const char *hex, uint8_t *out, size_t n);
/* Writes 2*N lowercase hex digits and a NUL into OUT. */
void rg_hex_encode(const uint8_t *in, size_t n, char *out);
/* Percent-decodes LEN bytes of S ('+' → ' ' when PLUS_SPACE). Returns a
 * malloc'd NUL-terminated string, or NULL on a bad escape or an embedded NUL.
 * Free with free(). */
char *rg_percent_decode(const char *s, size_t len, bool plus_space);
/* Percent-encodes S for a URL path segment or query value. Free with free(). */
char *rg_percent_encode(const char *s);
/* mkdir -p. 0 or -errno. */
int rg_mkdir_p(const char *path, mode_t mode);
/* asprintf that aborts on OOM. Free with free(). */
char *rg_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Monotonic milliseconds. */
int64_t rg_now_ms(void);
/* Wall-clock seconds since the epoch. */
int64_t rg_wall_s(void);
/* Fills OUT with 2*NBYTES random hex digits and a NUL. */
void rg_random_hex(char *out, size_t nbytes);
/* S is exactly 40 hex digits (an info hash), any case; false for NULL. */
bool rg_is_hex40(const char *s);
/* PATH's last name ends in "." plus one of the N extensions (any case). */
bool rg_path_has_ext(const char *path, const char *const *exts, size_t n);
/* The topmost mount at PATH (compared as given) in /proc/self/mountinfo:
 * its fstype and device numbers. 0, or -ENOENT when nothing is mounted
 * there, or -errno. Never stats PATH (a dead FUSE mount would hang it). */
int rg_find_mount(const char *path, char *fstype, size_t fslen,
                  unsigned *major, unsigned *minor);
/* Compares without leaking where two secrets differ. */
bool rg_secret_eq(const char *a, const char *b);
/* Reads a whole file (at most MAX bytes). 0 or -errno (-EFBIG if larger). */
int rg_read_file(const char *path, size_t max, uint8_t **buf, size_t *len);
/* A growable buffer (a response body, a text being built): at most MAX
 * bytes (0 = no limit), NUL-terminated once anything was added (the NUL is
 * not in LEN). Free P. */
typedef struct rg_body {
  char *p;
  size_t len, cap, max;
  bool over; /* an add would have passed MAX: refused */
} rg_body;
/* Appends N bytes of DATA; false (over set, nothing added) past MAX. */
bool rg_body_add(rg_body *b, const void *data, size_t n);
/* A libcurl write function (CURLOPT_WRITEFUNCTION, WRITEDATA = an
 * rg_body): appends SIZE*N bytes, or sets over and returns 0 (libcurl then
 * fails the transfer with CURLE_WRITE_ERROR) once MAX would be passed. */
size_t rg_body_write(char *p, size_t size, size_t n, void *arg);
/* Writes a file atomically (tmp + rename). 0 or -errno. */
int rg_write_file(const char *path, const void *buf, size_t len, mode_t mode);
/* malloc/calloc/realloc/strdup that abort on OOM. */
void *rg_malloc(size_t n);
void *rg_calloc(size_t n, size_t m);
void *rg_realloc(void *p, size_t n);
char *rg_strdup(const char *s);
char *rg_strndup(const char *s, size_t n);

#endif
