/* util.c — hex, percent coding, files, time, randomness. */
#include "config.h"

#include "util.h"

#include <ctype.h>
#include <strings.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void *rg_malloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    abort();
  return p;
}

void *rg_calloc(size_t n, size_t m) {
  void *p = calloc(n ? n : 1, m ? m : 1);
  if (!p)
    abort();
  return p;
}

void *rg_realloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

char *rg_strdup(const char *s) {
  char *p = strdup(s ? s : "");
  if (!p)
    abort();
  return p;
}

char *rg_strndup(const char *s, size_t n) {
  char *p = strndup(s, n);
  if (!p)
    abort();
  return p;
}

int rg_hex_digit(int c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int rg_hex_decode(const char *hex, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    int hi = rg_hex_digit((unsigned char)hex[2 * i]);
    if (hi < 0)
      return -EINVAL;
    int lo = rg_hex_digit((unsigned char)hex[2 * i + 1]);
    if (lo < 0)
      return -EINVAL;
    out[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

void rg_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

char *rg_percent_decode(const char *s, size_t len, bool plus_space) {
  char *out = rg_malloc(len + 1);
  size_t o = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    if (c == '%') {
      int hi = i + 2 < len ? rg_hex_digit((unsigned char)s[i + 1]) : -1;
      int lo = i + 2 < len ? rg_hex_digit((unsigned char)s[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        free(out);
        return NULL;
      }
      c = (char)(hi << 4 | lo);
      i += 2;
    } else if (c == '+' && plus_space) {
      c = ' ';
    }
    if (c == 0) {
      free(out);
      return NULL;
    }
    out[o++] = c;
  }
  out[o] = 0;
  return out;
}

char *rg_percent_encode(const char *s) {
  static const char digits[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *out = rg_malloc(3 * n + 1), *p = out;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
        (*c >= '0' && *c <= '9') || strchr("-._~", *c)) {
      *p++ = (char)*c;
    } else {
      *p++ = '%';
      *p++ = digits[*c >> 4];
      *p++ = digits[*c & 15];
    }
  }
  *p = 0;
  return out;
}

int rg_mkdir_p(const char *path, mode_t mode) {
  if (!path || !*path)
    return -EINVAL;
  char *p = rg_strdup(path);
  int rc = 0;
  for (char *s = p + 1;; s++) {
    if (*s == '/' || *s == 0) {
      char save = *s;
      *s = 0;
      if (mkdir(p, mode) < 0 && errno != EEXIST) {
        rc = -errno;
        break;
      }
      *s = save;
      if (!save)
        break;
    }
  }
  free(p);
  struct stat st;
  if (rc == 0 && (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)))
    rc = -ENOTDIR;
  return rc;
}

char *rg_printf(const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int n = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  return s;
}

int64_t rg_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t rg_wall_s(void) { return (int64_t)time(NULL); }

void rg_random_hex(char *out, size_t nbytes) {
  uint8_t buf[64];
  if (nbytes > sizeof buf)
    nbytes = sizeof buf;
  size_t got = 0;
  while (got < nbytes) {
    ssize_t r = getrandom(buf + got, nbytes - got, 0);
    if (r < 0) {
      if (errno == EINTR)
        continue;
      abort();
    }
    got += (size_t)r;
  }
  rg_hex_encode(buf, nbytes, out);
}

bool rg_is_hex40(const char *s) {
  if (!s)
    return false;
  size_t i = 0;
  for (; s[i]; i++)
    if (i >= 40 || !isxdigit((unsigned char)s[i]))
      return false;
  return i == 40;
}

bool rg_path_has_ext(const char *path, const char *const *exts, size_t n) {
  const char *dot = strrchr(path, '.');
  if (!dot || strchr(dot, '/'))
    return false;
  for (size_t i = 0; i < n; i++)
    if (strcasecmp(dot + 1, exts[i]) == 0)
      return true;
  return false;
}

bool rg_secret_eq(const char *a, const char *b) {
  if (!a || !b)
    return false;
  size_t la = strlen(a), lb = strlen(b);
  unsigned char diff = (unsigned char)(la != lb);
  for (size_t i = 0; i < la; i++)
    diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
  return diff == 0 && lb != 0;
}

int rg_read_file(const char *path, size_t max, uint8_t **buf, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  struct stat st;
  if (fstat(fd, &st) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return -EISDIR;
  }
  /* read to EOF: /proc files report size 0 */
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, got = 0;
  if (cap > max + 1)
    cap = max + 1;
  uint8_t *b = rg_malloc(cap + 1);
  for (;;) {
    if (got == cap) {
      if (cap > max) {
        free(b);
        close(fd);
        return -EFBIG;
      }
      cap = cap * 2 > max + 1 ? max + 1 : cap * 2;
      b = rg_realloc(b, cap + 1);
    }
    ssize_t r = read(fd, b + got, cap - got);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0) {
      int e = -errno;
      free(b);
      close(fd);
      return e;
    }
    if (r == 0)
      break;
    got += (size_t)r;
  }
  close(fd);
  if (got > max) {
    free(b);
    return -EFBIG;
  }
  b[got] = 0;
  *buf = b;
  *len = got;
  return 0;
}

bool rg_body_add(rg_body *b, const void *data, size_t n) {
  if (b->max && (n > b->max || b->len > b->max - n)) {
    b->over = true;
    return false;
  }
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1)
      cap *= 2;
    b->p = rg_realloc(b->p, cap);
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  b->p[b->len] = 0;
  return true;
}

size_t rg_body_write(char *p, size_t size, size_t n, void *arg) {
  return rg_body_add(arg, p, size * n) ? size * n : 0;
}

int rg_write_file(const char *path, const void *buf, size_t len, mode_t mode) {
  char *tmp = rg_printf("%s.tmp.%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    int e = -errno;
    free(tmp);
    return e;
  }
  const char *p = buf;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      int e = -errno;
      close(fd);
      unlink(tmp);
      free(tmp);
      return e;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) < 0) {
    int e = -errno;
    close(fd);
    unlink(tmp);
    free(tmp);
    return e;
  }
  close(fd);
  int rc = rename(tmp, path) < 0 ? -errno : 0;
  if (rc)
    unlink(tmp);
  free(tmp);
  return rc;
}

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape_mountinfo(char *s) {
  char *o = s;
  for (char *p = s; *p; p++) {
    if (p[0] == '\\' && p[1] >= '0' && p[1] <= '7' && p[2] >= '0' &&
        p[2] <= '7' && p[3] >= '0' && p[3] <= '7') {
      *o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
      p += 3;
    } else {
      *o++ = *p;
    }
  }
  *o = 0;
}

int rg_find_mount(const char *path, char *fstype, size_t fslen,
                      unsigned *major_out, unsigned *minor_out) {
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f)
    return -errno;
  char *line = NULL;
  size_t cap = 0;
  int found = -ENOENT;
  while (getline(&line, &cap, f) > 0) {
    unsigned ma, mi;
    char mp[PATH_MAX + 1], fst[128];
    if (sscanf(line, "%*u %*u %u:%u %*s %" "4096" "s", &ma, &mi, mp) != 3)
      continue;
    const char *sep = strstr(line, " - ");
    if (!sep || sscanf(sep + 3, "%127s", fst) != 1)
      continue;
    unescape_mountinfo(mp);
    if (strcmp(mp, path) != 0)
      continue;
    found = 0;
    snprintf(fstype, fslen, "%s", fst);
    *major_out = ma;
    *minor_out = mi;
  }
  free(line);
  fclose(f);
  return found;
}
