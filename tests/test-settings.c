/* test-settings.c — the config table by name (conf.c's accessors behind
 * /api/settings): describing keys, reading and setting values as JSON with
 * the loader's rules, and where a value comes from. */
#include "config.h"

#include "conf.h"
#include "tap.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

static int set(rg_conf *c, const char *name, json_t *v, char **cause) {
  int rc = rg_conf_set_json(c, name, v, cause);
  json_decref(v);
  return rc;
}

int main(void) {
  rg_conf c;
  rg_conf_defaults(&c);
  char *cause = NULL;

  ok(rg_conf_nkeys() > 20, "the table has keys (%zu)", rg_conf_nkeys());
  rg_conf_keyinfo k;
  is_int(rg_conf_key_at(rg_conf_nkeys(), &k), -ENOENT, "past the end");
  is_int(rg_conf_key_info("http_port", &k), 0, "http_port is described");
  is_str(k.type, "int", "…as an int");
  is_int(k.max, 65535, "…up to 65535");
  is_str(k.flag, "--port N", "…with its flag");
  is_int(rg_conf_key_info("log_level", &k), 0, "log_level is described");
  is_str(k.choices, "error|warn|info|debug", "…with its choices");
  is_int(rg_conf_key_info("nope", &k), -ENOENT, "an unknown key");

  json_t *v = rg_conf_get_json(&c, "http_port");
  is_int(json_integer_value(v), 8090, "get an int");
  json_decref(v);
  v = rg_conf_get_json(&c, "dht");
  ok(json_is_true(v), "get a bool");
  json_decref(v);
  v = rg_conf_get_json(&c, "bind");
  is_str(json_string_value(v), "0.0.0.0", "get a string");
  json_decref(v);
  ok(rg_conf_get_json(&c, "nope") == NULL, "get an unknown key → NULL");

  is_int(set(&c, "download_limit_kbps", json_integer(5000), &cause), 0,
         "set an int");
  is_int(c.download_limit_kbps, 5000, "…applied");
  is_int(set(&c, "download_limit_kbps", json_integer(-1), &cause), -EINVAL,
         "out of range");
  ok(cause && strstr(cause, "between 0 and"), "…says the range: %s", cause);
  free(cause), cause = NULL;
  is_int(set(&c, "download_limit_kbps", json_string("5"), &cause), -EINVAL,
         "a string for an int");
  free(cause), cause = NULL;
  is_int(set(&c, "log_level", json_string("loud"), &cause), -EINVAL,
         "not one of the choices");
  ok(cause && strstr(cause, "one of error, warn, info, debug"),
     "…lists them: %s", cause);
  free(cause), cause = NULL;
  is_int(set(&c, "log_level", json_string("debug"), &cause), 0,
         "one of the choices");
  is_str(c.log_level, "debug", "…applied");
  is_int(set(&c, "bind", json_string(""), &cause), -EINVAL,
         "an empty required string");
  free(cause), cause = NULL;
  is_int(set(&c, "dht", json_false(), &cause), 0, "set a bool");
  ok(!c.dht, "…applied");
  is_int(set(&c, "nope", json_true(), &cause), -ENOENT, "set an unknown key");
  free(cause), cause = NULL;

  /* origins */
  unsetenv("REELGATE_READ_TIMEOUT_S");
  char *argv0[] = {"reelgate", NULL};
  ok(rg_conf_origin(&c, "read_timeout_s", 1, argv0) == NULL,
     "default: no origin");
  setenv("REELGATE_READ_TIMEOUT_S", "40", 1);
  is_str(rg_conf_origin(&c, "read_timeout_s", 1, argv0), "env",
         "the environment");
  char *argv1[] = {"reelgate", "--set", "read_timeout_s=9", NULL};
  is_str(rg_conf_origin(&c, "read_timeout_s", 3, argv1), "flag",
         "--set KEY=V beats the environment");
  char *argv2[] = {"reelgate", "--port=1234", NULL};
  is_str(rg_conf_origin(&c, "http_port", 2, argv2), "flag", "a dedicated flag");
  ok(rg_conf_origin(&c, "bind", 2, argv2) == NULL, "…only for its key");
  unsetenv("REELGATE_READ_TIMEOUT_S");
  char path[] = "/tmp/rg-test-settings-XXXXXX";
  int fd = mkstemp(path);
  ok(fd >= 0 && write(fd, "{\"idle_timeout_s\": 20}", 22) == 22,
     "a config file");
  close(fd);
  c.config_path = strdup(path);
  is_str(rg_conf_origin(&c, "idle_timeout_s", 1, argv0), "file",
         "a key in the config file");
  ok(rg_conf_origin(&c, "read_timeout_s", 1, argv0) == NULL, "…not the others");
  unlink(path);
  rg_conf_free(&c);
  return tap_done();
}
