/* fuzz-conf.c — rg_conf_parse_json on arbitrary bytes; whatever it accepts
 * must leave every setting inside its documented range. */
#include "config.h"

#include "conf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rg_conf c;
  char *cause = NULL;
  rg_conf_defaults(&c);
  int rc =
      rg_conf_parse_json(&c, (const char *)data, size, "fuzz.json", &cause);
  if (rc != 0 && (rc != -22 || !cause || strncmp(cause, "fuzz.json", 9) != 0))
    abort();
  if (rc == 0 && cause)
    abort();
  if (c.http_port < 0 || c.http_port > 65535 || c.bt_port < 0 ||
      c.bt_port > 65535 || c.read_timeout_s < 1 || c.idle_timeout_s < 1 ||
      c.metadata_timeout_s < 1 || c.readahead_mb < 1 || c.cache_budget_mb < 0 ||
      c.download_limit_kbps < 0 || c.upload_limit_kbps < 0 ||
      c.connections_limit < 1 || c.max_active_torrents < 1)
    abort();
  if (!c.data_dir || !*c.data_dir || !c.bind || !*c.bind || !c.bt_bind ||
      !c.api_key || !c.cache_dir || !c.log_file || !c.mount || !c.log_level)
    abort();
  if (strcmp(c.log_level, "error") && strcmp(c.log_level, "warn") &&
      strcmp(c.log_level, "info") && strcmp(c.log_level, "debug"))
    abort();
  free(cause);
  rg_conf_free(&c);
  return 0;
}
