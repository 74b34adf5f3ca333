/* test-conf.c — rg_conf: defaults, file, environment, options, and the error
 * messages for each kind of mistake. */
#include "config.h"

#include "conf.h"
#include "tap.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static char dir[] = "/tmp/test-conf-XXXXXX";

/* Removes every REELGATE_* variable so the caller's environment can't leak. */
static void clear_env(void) {
  for (;;) {
    char *victim = NULL;
    for (char **e = environ; *e; e++)
      if (strncmp(*e, "REELGATE_", 9) == 0) {
        victim = rg_strndup(*e, strcspn(*e, "="));
        break;
      }
    if (!victim)
      return;
    unsetenv(victim);
    free(victim);
  }
}

static char *write_conf(const char *name, const char *text) {
  char *path = rg_printf("%s/%s", dir, name);
  if (rg_write_file(path, text, strlen(text), 0644) < 0)
    abort();
  return path;
}

/* Runs rg_conf_load on the NULL-terminated ARGS; returns rc, fills C. */
static int load(rg_conf *c, char **cause, const char *const *args) {
  char *argv[32];
  int argc = 0;
  argv[argc++] = "reelgate";
  for (; *args; args++)
    argv[argc++] = (char *)*args;
  argv[argc] = NULL;
  *cause = NULL;
  return rg_conf_load(c, argc, argv, cause);
}

#define LOAD(c, cause, ...)                                                    \
  load(c, cause, (const char *const[]){__VA_ARGS__, NULL})

/* Expects a failed load whose cause contains every one of WANT. */
static void fails(const char *what, const char *const *want,
                  const char *const *args) {
  rg_conf c;
  char *cause;
  int rc = load(&c, &cause, args);
  bool all = cause != NULL;
  for (; all && *want; want++)
    all = strstr(cause, *want) != NULL;
  ok(rc == -EINVAL && all, "%s", what);
  if (!(rc == -EINVAL && all))
    printf("#   rc %d, cause: %s\n", rc, cause ? cause : "(null)");
  else
    printf("#   %s\n", cause);
  free(cause);
  rg_conf_free(&c);
}

#define FAILS(what, want, ...)                                                 \
  fails(what, (const char *const[]){want, NULL},                               \
        (const char *const[]){__VA_ARGS__, NULL})
#define FAILS2(what, w1, w2, ...)                                              \
  fails(what, (const char *const[]){w1, w2, NULL},                             \
        (const char *const[]){__VA_ARGS__, NULL})

/* Runs rg_conf_load with stdout captured into a malloc'd string. */
static int load_captured(const char *arg, char **out) {
  char *path = rg_printf("%s/stdout", dir);
  fflush(stdout);
  int saved = dup(1);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  dup2(fd, 1);
  close(fd);
  rg_conf c;
  char *cause = NULL;
  int rc = LOAD(&c, &cause, "--port", "1", arg, "--bogus");
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  uint8_t *buf = NULL;
  size_t len;
  rg_read_file(path, 1 << 20, &buf, &len);
  *out = (char *)buf;
  free(cause);
  rg_conf_free(&c);
  unlink(path);
  free(path);
  return rc;
}

static void test_defaults(void) {
  rg_conf c;
  char *cause = NULL;
  char *argv[] = {"reelgate", NULL};
  is_int(rg_conf_load(&c, 1, argv, &cause), 0, "no options");
  is_str(c.data_dir, "./reelgate-data", "data_dir");
  is_str(c.bind, "0.0.0.0", "bind");
  is_int(c.http_port, 8090, "http_port");
  is_str(c.api_key, "", "api_key");
  is_str(c.cache_dir, "", "cache_dir");
  is_int(c.cache_budget_mb, 0, "cache_budget_mb");
  is_int(c.read_timeout_s, 30, "read_timeout_s");
  is_int(c.idle_timeout_s, 300, "idle_timeout_s");
  is_int(c.metadata_timeout_s, 60, "metadata_timeout_s");
  is_int(c.readahead_mb, 32, "readahead_mb");
  is_int(c.bt_port, 0, "bt_port");
  is_str(c.bt_bind, "0.0.0.0", "bt_bind");
  ok(!c.bt_outgoing_utp, "bt_outgoing_utp");
  ok(c.dht, "dht");
  is_int(c.download_limit_kbps, 0, "download_limit_kbps");
  is_int(c.upload_limit_kbps, 0, "upload_limit_kbps");
  is_int(c.connections_limit, 200, "connections_limit");
  is_int(c.max_active_torrents, 16, "max_active_torrents");
  is_str(c.log_level, "info", "log_level");
  is_str(c.log_file, "", "log_file");
  is_str(c.mount, "", "mount");
  ok(c.config_path == NULL, "config_path");
  rg_conf_free(&c);
  ok(c.data_dir == NULL && c.log_level == NULL, "free NULLs the strings");
  rg_conf_free(&c);
}

static void test_layers(void) {
  char *path = write_conf("a.json", "{\n"
                                    "  \"http_port\": 9000,\n"
                                    "  \"bind\": \"127.0.0.1\",\n"
                                    "  \"dht\": false,\n"
                                    "  \"bt_outgoing_utp\": true,\n"
                                    "  \"cache_budget_mb\": 5000000000,\n"
                                    "  \"log_level\": \"debug\",\n"
                                    "  \"api_key\": \"s3cret\",\n"
                                    "  \"mount\": \"/mnt/file\"\n"
                                    "}\n");
  rg_conf c;
  char *cause;

  /* File over defaults. */
  is_int(LOAD(&c, &cause, "--config", path), 0, "--config FILE");
  is_str(c.config_path, path, "config_path is the file");
  is_int(c.http_port, 9000, "file: http_port");
  is_str(c.bind, "127.0.0.1", "file: bind");
  ok(!c.dht && c.bt_outgoing_utp, "file: booleans");
  is_int(c.cache_budget_mb, 5000000000LL, "file: int64 past 2^32");
  is_str(c.log_level, "debug", "file: log_level");
  is_str(c.api_key, "s3cret", "file: api_key");
  is_int(c.read_timeout_s, 30, "untouched keys keep defaults");
  rg_conf_free(&c);

  /* Environment over the file. */
  setenv("REELGATE_HTTP_PORT", "9100", 1);
  setenv("REELGATE_DHT", "yes", 1);
  setenv("REELGATE_BT_OUTGOING_UTP", "0", 1);
  setenv("REELGATE_MOUNT", "/mnt/env", 1);
  setenv("REELGATE_API_KEY", "", 1);
  is_int(LOAD(&c, &cause,
              "--config="
              "/nonexistent/ignored",
              "--config", path),
         0, "--config given twice: the last wins");
  is_int(c.http_port, 9100, "env beats file: http_port");
  ok(c.dht && !c.bt_outgoing_utp, "env beats file: booleans (yes, 0)");
  is_str(c.mount, "/mnt/env", "env beats file: mount");
  is_str(c.api_key, "", "env may set an empty string");
  is_str(c.bind, "127.0.0.1", "file still applies where env is silent");
  rg_conf_free(&c);

  /* Options over the environment, in order. */
  is_int(LOAD(&c, &cause, "--config", path, "--port", "9200",
              "--mount=/mnt/flag", "--set", "dht=false",
              "--set=readahead_mb=64", "--data-dir", "/d", "--bind=::1",
              "--log-level", "warn", "--set", "mount=/mnt/last"),
         0, "options");
  is_int(c.http_port, 9200, "--port N beats env");
  ok(!c.dht, "--set dht=false beats env");
  is_int(c.readahead_mb, 64, "--set=key=value");
  is_str(c.data_dir, "/d", "--data-dir");
  is_str(c.bind, "::1", "--bind=ADDR");
  is_str(c.log_level, "warn", "--log-level");
  is_str(c.mount, "/mnt/last", "later option wins");
  rg_conf_free(&c);

  is_int(LOAD(&c, &cause, "--port=0", "--set", "api_key=a=b"), 0,
         "--port=0 (ephemeral), value holding '='");
  is_int(c.http_port, 0, "http_port 0");
  is_str(c.api_key, "a=b", "only the first '=' splits --set");
  rg_conf_free(&c);
  clear_env();

  /* REELGATE_CONFIG names the file when --config does not. */
  setenv("REELGATE_CONFIG", path, 1);
  is_int(LOAD(&c, &cause, "--set", "bt_port=6881"), 0, "REELGATE_CONFIG");
  ok(c.http_port == 9000 && c.bt_port == 6881, "  file read, option applied");
  rg_conf_free(&c);
  clear_env();

  /* Parsing JSON on top of existing values. */
  rg_conf_defaults(&c);
  cause = NULL;
  is_int(rg_conf_parse_json(&c, "{}", 2, "x", &cause), 0, "empty object");
  is_int(rg_conf_parse_json(&c, "{\"bt_port\": 1}", 14, "x", &cause), 0,
         "one key");
  is_int(rg_conf_parse_json(&c, "{\"bt_bind\": \"1.2.3.4\"}", 22, "x", &cause),
         0, "another");
  ok(c.bt_port == 1 && strcmp(c.bt_bind, "1.2.3.4") == 0,
     "earlier values survive");
  rg_conf_free(&c);
  free(path);
}

static void json_fails(const char *text, const char *w1, const char *w2) {
  rg_conf c;
  char *cause = NULL;
  rg_conf_defaults(&c);
  int rc = rg_conf_parse_json(&c, text, strlen(text), "f.json", &cause);
  bool good =
      rc == -EINVAL && cause && strstr(cause, w1) && (!w2 || strstr(cause, w2));
  ok(good, "json error: %s", cause ? cause : "(none)");
  if (!good)
    printf("#   rc %d for %s\n", rc, text);
  free(cause);
  rg_conf_free(&c);
}

static void test_errors(void) {
  /* JSON syntax, with line and column. */
  char *path = write_conf("bad.json", "{\n  \"http_port\": 9000,\n  oops\n}\n");
  FAILS2("syntax error names FILE:LINE:COL", path, ":3:", "--config", path);
  free(path);
  json_fails("", "f.json:", NULL);
  json_fails("{\"http_port\": 1,}", "f.json:1:", NULL);
  json_fails("{\"a\": 1} x", "f.json:1:", NULL);
  json_fails("{\"http_port\": 1, \"http_port\": 2}", "f.json:1:", "duplicate");
  json_fails("{\"http_port\": 99999999999999999999999}", "f.json:1:", NULL);
  json_fails("{\"api_key\": \"a\\u0000b\"}", "f.json:1:", NULL);

  /* Shape, keys, types, ranges. */
  json_fails("[1, 2]", "f.json: the top level must be a JSON object", "array");
  json_fails("42", "top level must be a JSON object", "integer");
  json_fails("{\"htp_port\": 1}", "f.json: unknown key 'htp_port'",
             "known keys: data_dir, bind, http_port");
  json_fails("{\"HTTP-PORT\": 1}", "unknown key 'HTTP-PORT'",
             "did you mean 'http_port'?");
  json_fails("{\"http_port\": \"9000\"}",
             "f.json: key 'http_port' must be an integer between 0 and 65535, "
             "got string",
             NULL);
  json_fails("{\"http_port\": 70000}", "key 'http_port' must be an integer",
             "got 70000");
  json_fails("{\"http_port\": -1}", "key 'http_port'", "got -1");
  json_fails("{\"http_port\": 80.5}", "key 'http_port'", "non-integer number");
  json_fails("{\"http_port\": null}", "key 'http_port'", "got null");
  json_fails("{\"read_timeout_s\": 0}", "key 'read_timeout_s'",
             "between 1 and");
  json_fails("{\"dht\": 1}", "key 'dht' must be a boolean", "got integer");
  json_fails("{\"dht\": \"true\"}", "key 'dht' must be a boolean",
             "got string");
  json_fails("{\"data_dir\": 5}", "key 'data_dir' must be a non-empty string",
             "got integer");
  json_fails("{\"data_dir\": \"\"}",
             "key 'data_dir' must be a non-empty string", "got ''");
  json_fails("{\"log_level\": \"verbose\"}",
             "key 'log_level' must be one of error, warn, info, debug",
             "got 'verbose'");
  json_fails("{\"bind\": [\"a\"]}", "key 'bind'", "got array");
  json_fails("{\"cache_budget_mb\": -5}", "key 'cache_budget_mb'", "got -5");
  json_fails("{\"config_path\": \"x\"}", "unknown key 'config_path'", NULL);

  /* File problems. */
  FAILS2("missing file", "cannot read config file", "/nonexistent/x.json",
         "--config", "/nonexistent/x.json");
  FAILS("config is a directory", "cannot read config file", "--config", "/tmp");
  char *p2 = write_conf("type.json", "{\"http_port\": \"x\"}");
  FAILS2("file type error names the file and key", p2, "key 'http_port'",
         "--config", p2);
  free(p2);

  /* Environment. */
  setenv("REELGATE_HTTP_PORT", "abc", 1);
  FAILS2("bad env int names the variable", "REELGATE_HTTP_PORT",
         "between 0 and 65535, got 'abc'", "--port", "1");
  setenv("REELGATE_HTTP_PORT", "65536", 1);
  FAILS2("env out of range", "REELGATE_HTTP_PORT", "got 65536", "--port", "1");
  setenv("REELGATE_HTTP_PORT", "", 1);
  FAILS("empty env int", "REELGATE_HTTP_PORT", "--port", "1");
  setenv("REELGATE_HTTP_PORT", " 80", 1);
  FAILS("env int with a leading space", "REELGATE_HTTP_PORT", "--port", "1");
  setenv("REELGATE_HTTP_PORT", "80 ", 1);
  FAILS("env int with trailing junk", "REELGATE_HTTP_PORT", "--port", "1");
  unsetenv("REELGATE_HTTP_PORT");
  setenv("REELGATE_DHT", "maybe", 1);
  FAILS2("bad env bool", "REELGATE_DHT", "got 'maybe'", "--port", "1");
  unsetenv("REELGATE_DHT");
  setenv("REELGATE_LOG_LEVEL", "loud", 1);
  FAILS2("bad env log level", "REELGATE_LOG_LEVEL", "one of", "--port", "1");
  unsetenv("REELGATE_LOG_LEVEL");
  setenv("REELGATE_CACHE_BUDGET_MB", "99999999999999999999", 1);
  FAILS("env int64 overflow", "REELGATE_CACHE_BUDGET_MB", "--port", "1");
  clear_env();

  /* Options. */
  FAILS("unknown option", "unknown option '--prot'", "--prot", "9000");
  FAILS("unknown option with =", "unknown option '--prot'", "--prot=9000");
  FAILS("single-dash option", "unexpected argument '-p'", "-p", "9000");
  FAILS("positional argument", "unexpected argument 'serve'", "serve");
  FAILS("argument after --", "unexpected argument '--port'", "--", "--port");
  FAILS("missing value", "--port needs a value", "--port");
  FAILS("missing --config value", "--config needs a value", "--config");
  FAILS2("bad --port", "--port must be an integer between 0 and 65535",
         "got 'http'", "--port", "http");
  FAILS2("--port out of range", "--port", "got 65536", "--port=65536");
  FAILS2("bad --log-level", "--log-level must be one of", "got 'trace'",
         "--log-level", "trace");
  FAILS("empty --data-dir", "--data-dir must be a non-empty string",
        "--data-dir=");
  FAILS("--set without '='", "--set expects KEY=VALUE, got 'dht'", "--set",
        "dht");
  FAILS("--set with empty key", "--set expects KEY=VALUE", "--set", "=1");
  FAILS2("--set unknown key", "--set: unknown key 'nope'", "known keys",
         "--set", "nope=1");
  FAILS2("--set bad value", "--set dht: must be a boolean", "got 'x'", "--set",
         "dht=x");
  FAILS2("--set= bad value", "--set idle_timeout_s:", "got 0",
         "--set=idle_timeout_s=0");
  FAILS("--set cannot set config_path", "unknown key 'config_path'", "--set",
        "config_path=x");

  rg_conf c;
  char *cause = NULL;
  char *argv[] = {"reelgate", "--", NULL};
  is_int(rg_conf_load(&c, 2, argv, &cause), 0, "a lone trailing -- is fine");
  rg_conf_free(&c);
  char *argv2[] = {"reelgate", "--bogus", NULL};
  is_int(rg_conf_load(&c, 2, argv2, NULL), -EINVAL, "NULL cause is allowed");
  rg_conf_free(&c);
}

static void test_help(void) {
  char *out = NULL;
  is_int(load_captured("--help", &out), RG_CONF_EXIT,
         "--help returns EXIT, even next to a bad option");
  ok(out && strstr(out, "Usage: reelgate"), "usage on stdout");
  static const char *const words[] = {"--config FILE",
                                      "--data-dir DIR",
                                      "--port N",
                                      "--bind ADDR",
                                      "--mount DIR",
                                      "--log-level L",
                                      "--set KEY=VALUE",
                                      "--help",
                                      "--version",
                                      "REELGATE_DATA_DIR",
                                      "REELGATE_BIND",
                                      "REELGATE_HTTP_PORT",
                                      "REELGATE_API_KEY",
                                      "REELGATE_CACHE_DIR",
                                      "REELGATE_CACHE_BUDGET_MB",
                                      "REELGATE_READ_TIMEOUT_S",
                                      "REELGATE_IDLE_TIMEOUT_S",
                                      "REELGATE_METADATA_TIMEOUT_S",
                                      "REELGATE_READAHEAD_MB",
                                      "REELGATE_BT_PORT",
                                      "REELGATE_BT_BIND",
                                      "REELGATE_BT_OUTGOING_UTP",
                                      "REELGATE_DHT",
                                      "REELGATE_DOWNLOAD_LIMIT_KBPS",
                                      "REELGATE_UPLOAD_LIMIT_KBPS",
                                      "REELGATE_CONNECTIONS_LIMIT",
                                      "REELGATE_MAX_ACTIVE_TORRENTS",
                                      "REELGATE_LOG_LEVEL",
                                      "REELGATE_LOG_FILE",
                                      "REELGATE_MOUNT",
                                      "default 8090",
                                      "default \"./reelgate-data\"",
                                      "default true",
                                      "between 0 and 65535"};
  int missing = 0;
  for (size_t i = 0; i < RG_ARRAY_LEN(words); i++)
    if (!out || !strstr(out, words[i])) {
      printf("#   usage lacks '%s'\n", words[i]);
      missing++;
    }
  is_int(missing, 0, "usage lists every option, key, env name and default");
  free(out);

  is_int(load_captured("-h", &out), RG_CONF_EXIT, "-h returns EXIT");
  ok(out && strstr(out, "Usage: reelgate"), "  usage");
  free(out);

  is_int(load_captured("--version", &out), RG_CONF_EXIT, "--version");
  is_str(out, "reelgate " PACKAGE_VERSION "\n", "  prints the version");
  free(out);
}

int main(void) {
  clear_env();
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  test_defaults();
  test_layers();
  test_errors();
  test_help();
  char *cmd = rg_printf("rm -rf '%s'", dir);
  if (system(cmd) != 0)
    printf("# could not remove %s\n", dir);
  free(cmd);
  return tap_done();
}
