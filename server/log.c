/* log.c — timestamped lines to stderr and optionally a log file. Thread-safe:
 * one write(2) per line. libevent's own messages are routed here. */
#include "config.h"

#include "log.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int rg_log_level_current = RG_LOG_INFO;
static int log_fd = -1;
static char log_path[4096]; /* for rg_log_reopen */

static const char *level_names[] = {"error", "warn", "info", "debug"};

int rg_log_level_parse(const char *name) {
  for (int i = 0; i < 4; i++)
    if (strcmp(name, level_names[i]) == 0)
      return i;
  return -1;
}

static void on_event_log(int sev, const char *msg) {
  int lvl = sev >= EVENT_LOG_ERR    ? RG_LOG_ERROR
            : sev == EVENT_LOG_WARN ? RG_LOG_WARN
                                    : RG_LOG_DEBUG;
  RG_LOG(lvl, "libevent: %s", msg);
}

int rg_log_init(const char *file, int level) {
  rg_log_level_current = level;
  event_set_log_callback(on_event_log);
  if (file && *file) {
    int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0)
      return -errno;
    if (log_fd >= 0)
      close(log_fd);
    log_fd = fd;
    snprintf(log_path, sizeof log_path, "%s", file);
  }
  return 0;
}

/* The new file takes the old descriptor's number (dup2), so a line written
 * by another thread meanwhile goes to one file or the other, never lost. */
int rg_log_reopen(void) {
  if (log_fd < 0 || !log_path[0])
    return 0;
  int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0)
    return -errno;
  int rc = dup3(fd, log_fd, O_CLOEXEC) < 0 ? -errno : 0;
  close(fd);
  return rc;
}

void rg_log_close(void) {
  if (log_fd >= 0)
    close(log_fd);
  log_fd = -1;
}

void rg_log_write(int level, const char *mod, const char *fmt, ...) {
  char line[2048];
  struct timeval tv;
  struct tm tm;
  gettimeofday(&tv, NULL);
  localtime_r(&tv.tv_sec, &tm);
  const char *base = strrchr(mod, '/');
  base = base ? base + 1 : mod;
  char name[32];
  snprintf(name, sizeof name, "%s", base);
  char *dot = strrchr(name, '.');
  if (dot)
    *dot = 0;
  int n = snprintf(line, sizeof line, "%04d-%02d-%02d %02d:%02d:%02d.%03d %-5s %s: ",
                   tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                   tm.tm_min, tm.tm_sec, (int)(tv.tv_usec / 1000),
                   level_names[level < 0 ? 0 : level > 3 ? 3 : level], name);
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
  va_end(ap);
  size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
  if (len > sizeof line - 2)
    len = sizeof line - 2;
  line[len++] = '\n';
  ssize_t w = write(STDERR_FILENO, line, len);
  if (log_fd >= 0)
    w = write(log_fd, line, len);
  (void)w;
}
