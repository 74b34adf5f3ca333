/* fuzz-torrserver.c — the TorrServer API's request parsers
 * (torrserver.h) on arbitrary bytes: the JSON body of POST /torrents,
 * /settings, /viewed and /cache, and the {hash}/{id} tail of /play/. What
 * is parsed must be consistent (a normalised hash is 40 lowercase hex
 * digits taken from the "hash" field, a play id is >= 1) and parsing must
 * be deterministic. */
#include "config.h"

#include "torrserver.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hash(const char *h, const char *from) {
  size_t n = strlen(h);
  if (n != 0 && n != 40)
    abort();
  for (size_t i = 0; i < n; i++)
    if (!isxdigit((unsigned char)h[i]) || isupper((unsigned char)h[i]))
      abort();
  if (n && (!from || strncasecmp(h, from, 40) != 0))
    abort();
}

static void body(const uint8_t *data, size_t size) {
  /* a copy of exactly SIZE bytes, so reads past the end are caught */
  char *copy = malloc(size ? size : 1);
  memcpy(copy, data, size);
  rg_ts_request r;
  char *cause = NULL;
  int rc = rg_torrserver_parse_request(copy, size, &r, &cause);
  if (rc == 0) {
    if (cause || !json_is_object(r.root))
      abort();
    check_hash(r.hash, r.hash_in);
    if (r.sets && !json_is_object(r.sets))
      abort();
    rg_ts_request r2;
    if (rg_torrserver_parse_request(copy, size, &r2, &cause) != 0 ||
        strcmp(r.hash, r2.hash) != 0 || !r.action != !r2.action ||
        (r.action && strcmp(r.action, r2.action) != 0) ||
        r.has_file_index != r2.has_file_index ||
        r.file_index != r2.file_index)
      abort();
    rg_ts_request_clear(&r2);
    rg_ts_request_clear(&r);
    if (r.root || r.action)
      abort();
  } else {
    if (rc != -EINVAL || !cause || r.root)
      abort();
    free(cause);
  }
  free(copy);
}

static void play(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  memcpy(s, data, size);
  s[size] = 0;
  char hash[41];
  long id = 0;
  if (rg_torrserver_parse_play(s, hash, &id) == 0) {
    if (id < 1 || strlen(hash) != 40)
      abort();
    check_hash(hash, s);
  } else if (hash[0]) {
    abort();
  }
  free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  body(data, size);
  play(data, size);
  return 0;
}
