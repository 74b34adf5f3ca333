/* log.h — one sink for the daemon's messages and those of libevent, libfuse
 * and libtorrent. The macros check the level before formatting anything.
 * Never pass a secret (API key, tracker passkey) to these functions. */
#ifndef RG_LOG_H
#define RG_LOG_H

enum rg_log_level { RG_LOG_ERROR = 0, RG_LOG_WARN, RG_LOG_INFO, RG_LOG_DEBUG };

extern int rg_log_level_current;

/* Opens FILE for appending (NULL: stderr only). Returns 0 or -errno. */
int rg_log_init(const char *file, int level);
/* "error", "warn", "info", "debug" → level, or -1. */
int rg_log_level_parse(const char *name);
void rg_log_write(int level, const char *mod, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void rg_log_close(void);
/* Reopens the log file by its path (SIGHUP, after logrotate moved it).
 * 0 or -errno (the old file stays in use). */
int rg_log_reopen(void);

#define RG_LOG(lvl, ...)                                                       \
  do {                                                                         \
    if ((lvl) <= rg_log_level_current)                                         \
      rg_log_write((lvl), __FILE__, __VA_ARGS__);                              \
  } while (0)
#define rg_error(...) RG_LOG(RG_LOG_ERROR, __VA_ARGS__)
#define rg_warn(...) RG_LOG(RG_LOG_WARN, __VA_ARGS__)
#define rg_info(...) RG_LOG(RG_LOG_INFO, __VA_ARGS__)
#define rg_debug(...) RG_LOG(RG_LOG_DEBUG, __VA_ARGS__)

#endif
