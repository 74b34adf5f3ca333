/* seed.c — helper subcommands that need no daemon.
 *
 *  reelgate seed       a local seeder on our own engine (tests, the demo):
 *                      makes a v1 torrent of PATH, seeds it in seed mode,
 *                      prints one magnet line (with x.pe=IP:PORT) and runs
 *                      until SIGTERM/SIGINT.
 *  reelgate mktorrent  writes a .torrent and prints its info hash.
 *  reelgate demo       makes a sample video with ffmpeg, seeds it in the
 *                      background and adds it to a running daemon through
 *                      its API, then prints the stream URL.
 *
 * Each returns a process exit code: 0, or 1 with a message on stderr. */
#include "config.h"

#include "seed.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "log.h"
#include "magnet.h"
#include "util.h"

#define MAX_TRACKERS 64

/* ---- seed ---- */

static void seed_usage(FILE *f) {
  fprintf(f,
          "usage: reelgate seed [--bind IP] [--port N] [--upload-limit KBPS]\n"
          "                     [--tracker URL]... [--piece-size BYTES]\n"
          "                     [--torrent-out FILE] [--torrent FILE] [--utp]\n"
          "                     PATH\n"
          "Seeds the file or directory PATH and prints its magnet link (with\n"
          "x.pe=IP:PORT) on one line; runs until SIGTERM or SIGINT.\n"
          "  --bind IP            address to listen on (default 127.0.0.1)\n"
          "  --port N             port (default 0: any free port)\n"
          "  --upload-limit KBPS  upload limit in KiB/s, also for local peers\n"
          "  --tracker URL        announce URL (repeatable)\n"
          "  --piece-size BYTES   power of two >= 16384 (default automatic)\n"
          "  --torrent-out FILE   also write the .torrent to FILE\n"
          "  --torrent FILE       seed this .torrent over PATH (its file or\n"
          "                       folder name); the data is checked once\n"
          "                       before the magnet is printed, and what is\n"
          "                       written to it later is served unchecked\n"
          "  --utp                enable uTP as well as TCP\n");
}

static bool parse_int(const char *s, long min, long max, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < min || v > max)
    return false;
  *out = v;
  return true;
}

/* "IP" → "IP:PORT" or "[IP]:PORT" for v6. Free with free(). */
static char *host_port(const char *ip, int port) {
  return strchr(ip, ':') ? rg_printf("[%s]:%d", ip, port)
                         : rg_printf("%s:%d", ip, port);
}

/* The directory that holds PATH (its torrent's save path). Free with free(). */
static char *parent_dir(const char *path, char **cause) {
  char *rp = realpath(path, NULL);
  if (!rp) {
    *cause = rg_printf("%s: %s", path, strerror(errno));
    return NULL;
  }
  char *slash = strrchr(rp, '/');
  if (slash == rp)
    slash[1] = '\0';
  else if (slash)
    *slash = '\0';
  return rp;
}

/* Logs the alerts that mean something to a person running a seeder. */
static void seed_log_alerts(rg_engine *e) {
  size_t n = 0;
  rg_alert *a = rg_engine_pop_alerts(e, &n);
  for (size_t i = 0; i < n; i++) {
    switch (a[i].type) {
    case RG_ALERT_TORRENT_ERROR:
    case RG_ALERT_FILE_ERROR:
    case RG_ALERT_LISTEN_FAILED:
    case RG_ALERT_HASH_FAILED:
      rg_warn("seed: %s", a[i].msg);
      break;
    case RG_ALERT_PEER_CONNECT:
      rg_debug("seed: %s", a[i].msg);
      break;
    default:
      break;
    }
  }
  free(a);
}

int rg_cmd_seed(int argc, char **argv) {
  static const struct option opts[] = {
      {"bind", required_argument, NULL, 'b'},
      {"port", required_argument, NULL, 'p'},
      {"upload-limit", required_argument, NULL, 'u'},
      {"tracker", required_argument, NULL, 't'},
      {"piece-size", required_argument, NULL, 's'},
      {"torrent-out", required_argument, NULL, 'o'},
      {"torrent", required_argument, NULL, 'T'},
      {"utp", no_argument, NULL, 'U'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *bind = "127.0.0.1", *torrent_out = NULL, *torrent_in = NULL;
  const char *trackers[MAX_TRACKERS];
  size_t ntrackers = 0;
  long port = 0, upload_kbps = 0, piece_size = 0;
  bool utp = false;
  int c, rc = 1;

  optind = 1;
  while ((c = getopt_long(argc, argv, "b:p:u:t:s:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'b':
      bind = optarg;
      break;
    case 'p':
      if (!parse_int(optarg, 0, 65535, &port)) {
        fprintf(stderr, "reelgate seed: --port wants 0..65535, not '%s'\n",
                optarg);
        return 1;
      }
      break;
    case 'u':
      if (!parse_int(optarg, 0, INT_MAX / 1024, &upload_kbps)) {
        fprintf(stderr, "reelgate seed: --upload-limit wants KiB/s, not '%s'\n",
                optarg);
        return 1;
      }
      break;
    case 't':
      if (ntrackers == MAX_TRACKERS) {
        fprintf(stderr, "reelgate seed: at most %d trackers\n", MAX_TRACKERS);
        return 1;
      }
      trackers[ntrackers++] = optarg;
      break;
    case 's':
      if (!parse_int(optarg, 0, 1L << 28, &piece_size)) {
        fprintf(stderr, "reelgate seed: bad --piece-size '%s'\n", optarg);
        return 1;
      }
      break;
    case 'o':
      torrent_out = optarg;
      break;
    case 'T':
      torrent_in = optarg;
      break;
    case 'U':
      utp = true;
      break;
    case 'h':
      seed_usage(stdout);
      return 0;
    default:
      seed_usage(stderr);
      return 1;
    }
  }
  if (optind != argc - 1) {
    seed_usage(stderr);
    return 1;
  }
  const char *path = argv[optind];

  uint8_t *tor = NULL;
  size_t tor_len = 0;
  char *cause = NULL, *save = NULL, *listen = NULL, *peer = NULL,
       *magnet = NULL;
  rg_tinfo *ti = NULL;
  rg_engine *e = NULL;
  int sfd = -1;

  if (torrent_in) {
    int r = rg_read_file(torrent_in, 16 << 20, &tor, &tor_len);
    if (r < 0) {
      cause = rg_printf("%s: %s", torrent_in, strerror(-r));
      goto fail;
    }
  } else if (rg_engine_make_torrent(path, (int)piece_size, trackers,
                                    ntrackers, &tor, &tor_len, &cause) < 0) {
    goto fail;
  }
  if (!(ti = rg_tinfo_parse(tor, tor_len, &cause)))
    goto fail;
  if (!(save = parent_dir(path, &cause)))
    goto fail;
  if (torrent_out) {
    int r = rg_write_file(torrent_out, tor, tor_len, 0644);
    if (r < 0) {
      cause = rg_printf("%s: %s", torrent_out, strerror(-r));
      goto fail;
    }
  }

  /* Signals are taken from a signalfd so the loop below sees them. */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  signal(SIGPIPE, SIG_IGN);
  sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) {
    cause = rg_printf("signalfd: %s", strerror(errno));
    goto fail;
  }

  listen = host_port(bind, (int)port);
  bool wildcard = !strcmp(bind, "0.0.0.0") || !strcmp(bind, "::");
  rg_engine_opts o = {
      .listen_interfaces = listen,
      .outgoing_interfaces = wildcard ? NULL : bind,
      .outgoing_utp = utp,
      .incoming_utp = utp,
      .upload_rate_limit = (int)upload_kbps * 1024,
      .limit_local_peers = true,
  };
  if (!(e = rg_engine_new(&o, &cause)))
    goto fail;
  rg_add a = {.info = ti->info,
              .info_len = ti->info_len,
              .trackers = trackers,
              .ntrackers = ntrackers,
              .save_path = save,
              .seed_mode = !torrent_in};
  if (rg_engine_add(e, &a, &cause) < 0)
    goto fail;
  /* With --torrent the data is checked once before the magnet is printed
   * (seed mode would verify each piece at its first request and refuse a
   * bad one): a test may then corrupt the data in place, and it is served
   * as if good. */
  for (int i = 0; torrent_in && i < 600; i++) {
    rg_tstatus st;
    if (rg_engine_status(e, ti->ih, &st) == 0 && st.num_pieces == ti->num_pieces)
      break;
    free(rg_engine_pop_alerts(e, &(size_t){0}));
    usleep(100 * 1000);
  }
  int lport = rg_engine_listen_port(e);
  if (lport <= 0) {
    cause = rg_printf("not listening on %s", listen);
    goto fail;
  }
  const char *pe_ip = !wildcard           ? bind
                      : strchr(bind, ':') ? "::1"
                                          : "127.0.0.1";
  peer = host_port(pe_ip, lport);
  const char *peers[] = {peer};
  magnet = rg_magnet_format(ti->ih, ti->name, trackers, ntrackers, peers, 1);
  if (printf("%s\n", magnet) < 0 || fflush(stdout) != 0) {
    cause = rg_printf("cannot write the magnet to stdout");
    goto fail;
  }
  char hex[41];
  rg_hex_encode(ti->ih, 20, hex);
  rg_info("seeding %s (%s) on %s from %s", ti->name, hex, peer, save);

  for (;;) {
    struct pollfd p[2] = {{.fd = sfd, .events = POLLIN},
                          {.fd = rg_engine_alert_fd(e), .events = POLLIN}};
    if (poll(p, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      cause = rg_printf("poll: %s", strerror(errno));
      goto fail;
    }
    if (p[0].revents & POLLIN)
      break;
    if (p[1].revents & POLLIN)
      seed_log_alerts(e);
  }
  rg_info("stopped seeding");
  rc = 0;
  goto out;

fail:
  fprintf(stderr, "reelgate seed: %s\n", cause ? cause : "failed");
out:
  rg_engine_free(&e);
  if (sfd >= 0)
    close(sfd);
  rg_tinfo_free(&ti);
  free(tor);
  free(save);
  free(listen);
  free(peer);
  free(magnet);
  free(cause);
  return rc;
}

/* ---- mktorrent ---- */

static void mktorrent_usage(FILE *f) {
  fprintf(f,
          "usage: reelgate mktorrent [--piece-size BYTES] [--tracker URL]... "
          "-o OUT.torrent PATH\n"
          "Writes a v1 .torrent for the file or directory PATH and prints "
          "its info hash.\n");
}

int rg_cmd_mktorrent(int argc, char **argv) {
  static const struct option opts[] = {
      {"piece-size", required_argument, NULL, 's'},
      {"tracker", required_argument, NULL, 't'},
      {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *trackers[MAX_TRACKERS], *out = NULL;
  size_t ntrackers = 0;
  long piece_size = 0;
  int c;

  optind = 1;
  while ((c = getopt_long(argc, argv, "s:t:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 's':
      if (!parse_int(optarg, 0, 1L << 28, &piece_size)) {
        fprintf(stderr, "reelgate mktorrent: bad --piece-size '%s'\n", optarg);
        return 1;
      }
      break;
    case 't':
      if (ntrackers == MAX_TRACKERS) {
        fprintf(stderr, "reelgate mktorrent: at most %d trackers\n",
                MAX_TRACKERS);
        return 1;
      }
      trackers[ntrackers++] = optarg;
      break;
    case 'o':
      out = optarg;
      break;
    case 'h':
      mktorrent_usage(stdout);
      return 0;
    default:
      mktorrent_usage(stderr);
      return 1;
    }
  }
  if (!out || optind != argc - 1) {
    mktorrent_usage(stderr);
    return 1;
  }
  uint8_t *tor = NULL;
  size_t len = 0;
  char *cause = NULL;
  rg_tinfo *ti = NULL;
  int rc = 1;
  if (rg_engine_make_torrent(argv[optind], (int)piece_size, trackers, ntrackers,
                             &tor, &len, &cause) < 0)
    goto fail;
  if (!(ti = rg_tinfo_parse(tor, len, &cause)))
    goto fail;
  int r = rg_write_file(out, tor, len, 0644);
  if (r < 0) {
    cause = rg_printf("%s: %s", out, strerror(-r));
    goto fail;
  }
  char hex[41];
  rg_hex_encode(ti->ih, 20, hex);
  printf("%s\n", hex);
  rc = 0;
  goto done;
fail:
  fprintf(stderr, "reelgate mktorrent: %s\n", cause ? cause : "failed");
done:
  rg_tinfo_free(&ti);
  free(tor);
  free(cause);
  return rc;
}

/* ---- demo ---- */

#define DEMO_MAX_BODY (1 << 20)

/* One HTTP request to the daemon. Returns the status (>0), or -1 with
 * *cause. *resp (malloc'd, NUL-terminated) holds the body. */
static long demo_http(const char *method, const char *url, const char *key,
                      const char *json, char **resp, char **cause) {
  CURL *c = curl_easy_init();
  if (!c) {
    *cause = rg_strdup("cannot initialise libcurl");
    return -1;
  }
  rg_body b = {.max = DEMO_MAX_BODY};
  char errbuf[CURL_ERROR_SIZE] = "";
  struct curl_slist *h = NULL;
  char *hk = rg_printf("X-Api-Key: %s", key ? key : "");
  h = curl_slist_append(h, hk);
  if (json)
    h = curl_slist_append(h, "Content-Type: application/json");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  if (json)
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, rg_body_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode cr = curl_easy_perform(c);
  long status = -1;
  if (cr == CURLE_COULDNT_CONNECT)
    *cause = rg_printf("the reelgate daemon is not running at %s (%s); start "
                       "it first, e.g. `reelgate --data-dir DIR`",
                       url, errbuf[0] ? errbuf : curl_easy_strerror(cr));
  else if (cr != CURLE_OK)
    *cause = rg_printf("%s %s: %s", method, url,
                       errbuf[0] ? errbuf : curl_easy_strerror(cr));
  else
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  free(hk);
  curl_easy_cleanup(c);
  if (status < 0) {
    free(b.p);
    return -1;
  }
  *resp = b.p ? b.p : rg_strdup("");
  return status;
}

/* The API key from the daemon's state DB (read-only), or NULL + *cause. */
static char *demo_key_from_db(const char *data_dir, char **cause) {
  char *path = rg_printf("%s/reelgate.db", data_dir);
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  char *key = NULL;
  struct stat sb;
  if (stat(path, &sb) < 0) {
    *cause = rg_printf("no API key: pass --api-key, set REELGATE_API_KEY, or "
                       "point --data-dir at the daemon's data dir (%s: %s)",
                       path, strerror(errno));
    goto out;
  }
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
    *cause = rg_printf("%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
    goto out;
  }
  sqlite3_busy_timeout(db, 2000);
  if (sqlite3_prepare_v2(db, "SELECT value FROM settings WHERE key='api_key'",
                         -1, &st, NULL) != SQLITE_OK) {
    *cause = rg_printf("%s: %s", path, sqlite3_errmsg(db));
    goto out;
  }
  if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
    key = rg_strdup((const char *)sqlite3_column_text(st, 0));
  else
    *cause = rg_printf("%s holds no API key yet; has the daemon run with this "
                       "data dir? Or pass --api-key",
                       path);
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(path);
  return key;
}

/* True if PROG is an executable somewhere on $PATH. */
static bool on_path(const char *prog) {
  const char *p = getenv("PATH");
  if (!p || !*p)
    p = "/usr/local/bin:/usr/bin:/bin";
  char *dup = rg_strdup(p), *save = NULL;
  bool found = false;
  for (char *d = strtok_r(dup, ":", &save); d && !found;
       d = strtok_r(NULL, ":", &save)) {
    char *f = rg_printf("%s/%s", *d ? d : ".", prog);
    found = access(f, X_OK) == 0;
    free(f);
  }
  free(dup);
  return found;
}

/* Runs ARGV, waits; 0 if it exited 0. */
static int run_wait(char *const argv[]) {
  pid_t pid = fork();
  if (pid < 0)
    return -errno;
  if (pid == 0) {
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
      dup2(nul, 0);
    execvp(argv[0], argv);
    _exit(127);
  }
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return -errno;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Makes the sample video at PATH unless it exists. */
static int demo_make_video(const char *path, long seconds, char **cause) {
  struct stat sb;
  if (stat(path, &sb) == 0 && sb.st_size > 0) {
    printf("Using the existing sample video %s\n", path);
    return 0;
  }
  if (!on_path("ffmpeg")) {
    *cause = rg_strdup("ffmpeg is not installed (apt install ffmpeg); the "
                       "demo needs it to make a sample video");
    return -ENOENT;
  }
  char *tmp = rg_printf("%s.part", path);
  char *dur = rg_printf("%ld", seconds);
  char *argv[] = {"ffmpeg",
                  "-hide_banner",
                  "-loglevel",
                  "error",
                  "-y",
                  "-f",
                  "lavfi",
                  "-i",
                  "testsrc2=size=1280x720:rate=30",
                  "-f",
                  "lavfi",
                  "-i",
                  "sine=frequency=440:sample_rate=48000",
                  "-t",
                  dur,
                  "-c:v",
                  "libx264",
                  "-preset",
                  "veryfast",
                  "-pix_fmt",
                  "yuv420p",
                  "-c:a",
                  "aac",
                  "-f",
                  "matroska",
                  tmp,
                  NULL};
  printf("Making a %ld s sample video with ffmpeg (H.264 + AAC)...\n", seconds);
  fflush(stdout);
  int r = run_wait(argv);
  if (r == 0 && rename(tmp, path) < 0)
    r = -errno;
  if (r < 0) {
    *cause =
        rg_printf("ffmpeg could not make %s (its messages are above)", path);
    unlink(tmp);
  }
  free(tmp);
  free(dur);
  return r;
}

/* Stops a seeder a previous demo left running (recorded in PIDFILE). */
static void demo_stop_old_seeder(const char *pidfile) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (rg_read_file(pidfile, 64, &buf, &len) < 0)
    return;
  char txt[65];
  memcpy(txt, buf, len);
  txt[len] = '\0';
  free(buf);
  long pid;
  txt[strcspn(txt, "\n")] = '\0';
  if (!parse_int(txt, 2, INT_MAX, &pid))
    return;
  /* Only if it still is our seeder (pids get reused). /proc files have no
   * size, so read the command line directly. */
  char *cmdf = rg_printf("/proc/%ld/cmdline", pid);
  char cmd[4096];
  ssize_t cl = -1;
  int fd = open(cmdf, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    cl = read(fd, cmd, sizeof cmd);
    close(fd);
  }
  bool seeder = false;
  for (ssize_t i = 0; i + 5 <= cl; i++)
    if (!memcmp(cmd + i, "seed\0", 5) && (i == 0 || cmd[i - 1] == '\0'))
      seeder = true;
  if (seeder && kill((pid_t)pid, SIGTERM) == 0)
    printf("Stopped the previous demo seeder (pid %ld)\n", pid);
  free(cmdf);
  unlink(pidfile);
}

/* Starts `reelgate seed` on PATH in the background; returns its magnet line
 * (malloc'd) and pid, or NULL + *cause. */
static char *demo_start_seeder(const char *path, const char *logpath,
                               pid_t *pidp, char **cause) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) < 0) {
    *cause = rg_printf("pipe: %s", strerror(errno));
    return NULL;
  }
  fflush(stdout);
  pid_t pid = fork();
  if (pid < 0) {
    *cause = rg_printf("fork: %s", strerror(errno));
    close(p[0]);
    close(p[1]);
    return NULL;
  }
  if (pid == 0) {
    setsid();
    int nul = open("/dev/null", O_RDONLY);
    int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (nul >= 0)
      dup2(nul, 0);
    dup2(p[1], 1);
    if (log >= 0)
      dup2(log, 2);
    execl("/proc/self/exe", "reelgate", "seed", "--bind", "127.0.0.1", "--port",
          "0", path, (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char line[8192];
  size_t len = 0;
  int64_t end = rg_now_ms() + 120000;
  bool done = false;
  while (!done && len < sizeof line - 1) {
    int64_t left = end - rg_now_ms();
    if (left <= 0)
      break;
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    ssize_t n = read(p[0], line + len, sizeof line - 1 - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    len += (size_t)n;
    line[len] = '\0';
    done = memchr(line, '\n', len) != NULL;
  }
  close(p[0]);
  if (!done) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    *cause = rg_printf("the seeder did not start (see %s)", logpath);
    return NULL;
  }
  line[strcspn(line, "\n")] = '\0';
  *pidp = pid;
  return rg_strdup(line);
}

static void demo_usage(FILE *f) {
  fprintf(f,
          "usage: reelgate demo [--url URL] [--api-key KEY] [--data-dir DIR]\n"
          "                     [--seconds N]\n"
          "Makes a sample video with ffmpeg, seeds it from this machine and "
          "adds it\nto the running daemon, then prints a stream URL.\n"
          "  --url URL        the daemon (default http://127.0.0.1:8090)\n"
          "  --api-key KEY    default: $REELGATE_API_KEY, else read from\n"
          "                   DIR/reelgate.db\n"
          "  --data-dir DIR   the daemon's data dir (default ./reelgate-data)\n"
          "  --seconds N      length of the video (default 60)\n");
}

int rg_cmd_demo(int argc, char **argv) {
  static const struct option opts[] = {
      {"url", required_argument, NULL, 'u'},
      {"api-key", required_argument, NULL, 'k'},
      {"data-dir", required_argument, NULL, 'd'},
      {"seconds", required_argument, NULL, 's'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *url = "http://127.0.0.1:8090", *data_dir = "./reelgate-data";
  char *key = NULL;
  long seconds = 60;
  int c;

  optind = 1;
  while ((c = getopt_long(argc, argv, "u:k:d:s:h", opts, NULL)) != -1) {
    switch (c) {
    case 'u':
      url = optarg;
      break;
    case 'k':
      free(key);
      key = rg_strdup(optarg);
      break;
    case 'd':
      data_dir = optarg;
      break;
    case 's':
      if (!parse_int(optarg, 1, 36000, &seconds)) {
        fprintf(stderr, "reelgate demo: --seconds wants 1..36000\n");
        free(key);
        return 1;
      }
      break;
    case 'h':
      demo_usage(stdout);
      free(key);
      return 0;
    default:
      demo_usage(stderr);
      free(key);
      return 1;
    }
  }
  if (optind != argc) {
    demo_usage(stderr);
    free(key);
    return 1;
  }

  char *cause = NULL, *resp = NULL, *magnet = NULL, *api = NULL, *dir = NULL,
       *video = NULL, *logpath = NULL, *pidfile = NULL, *stream = NULL;
  json_t *j = NULL;
  int rc = 1;
  size_t ul = strlen(url);
  while (ul > 0 && url[ul - 1] == '/')
    ul--;
  curl_global_init(CURL_GLOBAL_DEFAULT);

  if (!key) {
    const char *env = getenv("REELGATE_API_KEY");
    key = env && *env ? rg_strdup(env) : demo_key_from_db(data_dir, &cause);
    if (!key)
      goto fail;
  }

  /* Is the daemon there, and does it take the key? */
  api = rg_printf("%.*s/api/torrents", (int)ul, url);
  long st = demo_http("GET", api, key, NULL, &resp, &cause);
  if (st < 0)
    goto fail;
  if (st == 401 || st == 403) {
    cause = rg_printf("the daemon at %.*s rejected the API key (HTTP %ld)",
                      (int)ul, url, st);
    goto fail;
  }
  free(resp);
  resp = NULL;

  dir = rg_printf("%s/demo", data_dir);
  int r = rg_mkdir_p(dir, 0755);
  if (r < 0) {
    cause = rg_printf("%s: %s", dir, strerror(-r));
    goto fail;
  }
  video = rg_printf("%s/reelgate-demo-%lds.mkv", dir, seconds);
  if (demo_make_video(video, seconds, &cause) < 0)
    goto fail;

  logpath = rg_printf("%s/seed.log", dir);
  pidfile = rg_printf("%s/seed.pid", dir);
  demo_stop_old_seeder(pidfile);
  pid_t pid = 0;
  if (!(magnet = demo_start_seeder(video, logpath, &pid, &cause)))
    goto fail;
  char pidtxt[32];
  int pl = snprintf(pidtxt, sizeof pidtxt, "%ld\n", (long)pid);
  rg_write_file(pidfile, pidtxt, (size_t)pl, 0644);
  printf("Seeding %s in the background (pid %ld, log %s).\n"
         "Stop it with: kill %ld\n",
         video, (long)pid, logpath, (long)pid);

  rg_magnet m;
  if (rg_magnet_parse(magnet, &m, &cause) < 0)
    goto fail;
  char hex[41];
  memcpy(hex, m.hex, sizeof hex);
  rg_magnet_clear(&m);

  j = json_pack("{s:s, s:s}", "link", magnet, "title", "reelgate demo");
  char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
  json_decref(j);
  j = NULL;
  if (!body) {
    cause = rg_strdup("cannot build the request");
    goto fail;
  }
  st = demo_http("POST", api, key, body, &resp, &cause);
  free(body);
  if (st < 0)
    goto fail;
  if (st != 200 && st != 201) {
    cause = rg_printf("POST %s: HTTP %ld: %.300s", api, st, resp);
    goto fail;
  }
  json_error_t jerr;
  j = json_loads(resp, 0, &jerr);
  const char *ih = json_string_value(json_object_get(j, "info_hash"));
  if (ih && strlen(ih) == 40)
    memcpy(hex, ih, 41);
  json_decref(j);
  j = NULL;
  free(resp);
  resp = NULL;
  printf("Added to the daemon: %s\n", hex);

  /* Wait until the daemon knows the files (metadata from our seeder). */
  char *turl = rg_printf("%.*s/api/torrents/%s", (int)ul, url, hex);
  int64_t end = rg_now_ms() + 30000;
  while (!stream && rg_now_ms() < end) {
    st = demo_http("GET", turl, key, NULL, &resp, &cause);
    if (st < 0)
      break;
    if (st == 200 && (j = json_loads(resp, 0, &jerr))) {
      json_t *files = json_object_get(j, "files");
      size_t i;
      json_t *f;
      json_array_foreach(files, i, f) {
        const char *su = json_string_value(json_object_get(f, "stream_url"));
        if (su && *su) {
          stream = rg_strdup(su);
          break;
        }
      }
      json_decref(j);
      j = NULL;
    }
    free(resp);
    resp = NULL;
    if (!stream)
      usleep(500000);
  }
  free(turl);
  if (!stream) {
    if (!cause)
      cause = rg_printf("the daemon did not get the torrent's metadata within "
                        "30 s; see %s and the daemon's log",
                        logpath);
    goto fail;
  }
  /* A relative URL is relative to the daemon. */
  if (stream[0] == '/') {
    char *abs = rg_printf("%.*s%s", (int)ul, url, stream);
    free(stream);
    stream = abs;
  }
  printf("\nStream URL:\n  %s\n\nPlay it:\n  mpv '%s'\n", stream, stream);
  rc = 0;
  goto out;

fail:
  fprintf(stderr, "reelgate demo: %s\n", cause ? cause : "failed");
out:
  json_decref(j);
  curl_global_cleanup();
  free(key);
  free(cause);
  free(resp);
  free(magnet);
  free(api);
  free(dir);
  free(video);
  free(logpath);
  free(pidfile);
  free(stream);
  return rc;
}
