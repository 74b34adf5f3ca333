/* tap.h — a tiny TAP producer for the unit tests. Each test program calls
 * ok()/is_int()/is_str() and returns tap_done(). */
#ifndef RG_TAP_H
#define RG_TAP_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                          \
  do {                                                                         \
    int ok_c_ = !!(cond);                                                      \
    tap_n++;                                                                   \
    if (!ok_c_)                                                                \
      tap_failed++;                                                            \
    printf("%s %d - ", ok_c_ ? "ok" : "not ok", tap_n);                        \
    printf(__VA_ARGS__);                                                       \
    printf("\n");                                                              \
    if (!ok_c_)                                                                \
      printf("#   at %s:%d\n", __FILE__, __LINE__);                            \
  } while (0)

#define is_int(got, want, ...)                                                 \
  do {                                                                         \
    int64_t g_ = (int64_t)(got), w_ = (int64_t)(want);                         \
    ok(g_ == w_, __VA_ARGS__);                                                 \
    if (g_ != w_)                                                              \
      printf("#   got %" PRId64 ", want %" PRId64 "\n", g_, w_);               \
  } while (0)

#define is_str(got, want, ...)                                                 \
  do {                                                                         \
    const char *g_ = (got), *w_ = (want);                                      \
    int same_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                   \
    ok(same_, __VA_ARGS__);                                                    \
    if (!same_)                                                                \
      printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)",                  \
             w_ ? w_ : "(null)");                                              \
  } while (0)

static inline int tap_done(void) {
  printf("1..%d\n", tap_n);
  if (tap_failed)
    printf("# %d of %d failed\n", tap_failed, tap_n);
  return tap_failed ? 1 : 0;
}

#endif
