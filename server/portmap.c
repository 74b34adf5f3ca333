/* portmap.c — port mapping switches and the VPN-gateway NAT-PMP client
 * (portmap.h).
 *
 * NAT-PMP (RFC 6886) over UDP to GATEWAY:5351: opcode 0 asks the external
 * address, opcodes 1 (UDP) and 2 (TCP) ask a mapping of our listen port
 * with a suggested external port and lifetime. Requests are retried at
 * 250 ms, 500 ms, 1 s (bounded so a stop never waits long). A result goes
 * to the loop, which moves the listen socket to the external port when it
 * differs from the one we listen on; the next renewal then maps that port
 * onto itself. */
#include "config.h"

#include "portmap.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NATPMP_PORT 5351

struct gw_result {
  rg_portmap_ctl *p;
  int err;             /* 0 or -errno */
  char error[160];
  char external_ip[INET_ADDRSTRLEN];
  int external_port;   /* TCP mapping */
  int udp_port;
  int lifetime_s;      /* granted */
};

struct rg_portmap_ctl {
  rg_engine *engine;
  bool natpmp, upnp;
  char *bt_bind;
  /* gateway mode */
  bool gw_on;
  char gw_text[80];
  struct sockaddr_in gw;
  int lifetime_s, refresh_s;
  pthread_t th;
  bool th_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stop;
  _Atomic int internal_port; /* what the worker maps */
  /* loop-owned report */
  struct gw_result last;
  int64_t last_try_s, last_ok_s, requests;
  bool mapped;
};

static int natpmp_call(int fd, const struct sockaddr_in *gw, const uint8_t *req,
                       size_t reqlen, uint8_t *resp, size_t resplen,
                       uint8_t want_op) {
  int wait_ms = 250;
  for (int attempt = 0; attempt < 3; attempt++, wait_ms *= 2) {
    if (sendto(fd, req, reqlen, 0, (const struct sockaddr *)gw, sizeof *gw) <
        0)
      return -errno;
    int64_t until = rg_now_ms() + wait_ms;
    for (;;) {
      int left = (int)(until - rg_now_ms());
      if (left <= 0)
        break;
      struct pollfd pf = {fd, POLLIN, 0};
      int rc = poll(&pf, 1, left);
      if (rc <= 0)
        break;
      struct sockaddr_in from;
      socklen_t fl = sizeof from;
      ssize_t n = recvfrom(fd, resp, resplen, 0, (struct sockaddr *)&from, &fl);
      if (n < 0) {
        if (errno == ECONNREFUSED)
          return -ECONNREFUSED;
        continue;
      }
      /* only the gateway may answer (RFC 6886 §3.1) */
      if (from.sin_addr.s_addr != gw->sin_addr.s_addr ||
          from.sin_port != gw->sin_port || n < 8 || resp[0] != 0 ||
          resp[1] != want_op)
        continue;
      return (int)n;
    }
  }
  return -ETIMEDOUT;
}

static const char *result_text(int code) {
  switch (code) {
  case 1:
    return "unsupported version";
  case 2:
    return "not authorized / refused";
  case 3:
    return "network failure";
  case 4:
    return "out of resources";
  case 5:
    return "unsupported opcode";
  default:
    return "unknown result code";
  }
}

/* One round: external address, then TCP and UDP mappings. */
static void gw_round(rg_portmap_ctl *p, struct gw_result *r) {
  memset(r, 0, sizeof *r);
  r->p = p;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    r->err = -errno;
    snprintf(r->error, sizeof r->error, "socket: %s", strerror(errno));
    return;
  }
  connect(fd, (const struct sockaddr *)&p->gw, sizeof p->gw); /* ICMP errors */
  uint8_t req[12], resp[16];
  req[0] = 0;
  req[1] = 0;
  int n = natpmp_call(fd, &p->gw, req, 2, resp, sizeof resp, 128);
  if (n >= 12 && resp[2] == 0 && resp[3] == 0) {
    inet_ntop(AF_INET, resp + 8, r->external_ip, sizeof r->external_ip);
  } else if (n < 0) {
    r->err = n;
    snprintf(r->error, sizeof r->error, "no NAT-PMP answer from %s: %s",
             p->gw_text, strerror(-n));
    close(fd);
    return;
  }
  int internal = atomic_load(&p->internal_port);
  int suggest = r->external_port ? r->external_port : internal;
  for (int op = 2; op >= 1; op--) { /* TCP first: it decides the port */
    memset(req, 0, sizeof req);
    req[1] = (uint8_t)op;
    req[4] = (uint8_t)(internal >> 8);
    req[5] = (uint8_t)internal;
    req[6] = (uint8_t)(suggest >> 8);
    req[7] = (uint8_t)suggest;
    uint32_t life = (uint32_t)p->lifetime_s;
    req[8] = (uint8_t)(life >> 24);
    req[9] = (uint8_t)(life >> 16);
    req[10] = (uint8_t)(life >> 8);
    req[11] = (uint8_t)life;
    n = natpmp_call(fd, &p->gw, req, 12, resp, sizeof resp,
                    (uint8_t)(128 + op));
    if (n < 16) {
      r->err = n < 0 ? n : -EPROTO;
      snprintf(r->error, sizeof r->error, "%s mapping: %s",
               op == 2 ? "TCP" : "UDP",
               n < 0 ? strerror(-n) : "short answer");
      break;
    }
    int code = resp[2] << 8 | resp[3];
    if (code) {
      r->err = -EPERM;
      snprintf(r->error, sizeof r->error, "%s mapping refused: %s (%d)",
               op == 2 ? "TCP" : "UDP", result_text(code), code);
      break;
    }
    int ext = resp[10] << 8 | resp[11];
    int granted = (int)((uint32_t)resp[12] << 24 | (uint32_t)resp[13] << 16 |
                        (uint32_t)resp[14] << 8 | resp[15]);
    if (op == 2) {
      r->external_port = ext;
      r->lifetime_s = granted;
      suggest = ext;
    } else {
      r->udp_port = ext;
    }
  }
  close(fd);
}

static void on_gw_result(void *arg) {
  struct gw_result *r = arg;
  rg_portmap_ctl *p = r->p;
  p->last = *r;
  p->last_try_s = rg_wall_s();
  p->requests++;
  free(r);
  if (p->last.err) {
    if (p->mapped || p->requests == 1)
      rg_warn("port mapping via %s failed: %s", p->gw_text, p->last.error);
    p->mapped = false;
    return;
  }
  if (!p->mapped)
    rg_info("port mapping via %s: external %s:%d (lifetime %d s)", p->gw_text,
            p->last.external_ip[0] ? p->last.external_ip : "?",
            p->last.external_port, p->last.lifetime_s);
  p->mapped = true;
  p->last_ok_s = p->last_try_s;
  int ext = p->last.external_port;
  if (ext > 0 && ext != rg_engine_listen_port(p->engine)) {
    rg_info("listening on the mapped port %d so announces carry it", ext);
    if (rg_engine_set_listen(p->engine, p->bt_bind, ext) == 0)
      atomic_store(&p->internal_port, ext);
  }
}

static void *gw_thread(void *arg) {
  rg_portmap_ctl *p = arg;
  pthread_mutex_lock(&p->mu);
  while (!p->stop) {
    pthread_mutex_unlock(&p->mu);
    struct gw_result *r = rg_calloc(1, sizeof *r);
    gw_round(p, r);
    int wait_s = r->err ? (p->refresh_s < 10 ? p->refresh_s : 10)
                        : p->refresh_s;
    if (r->err == 0 && r->lifetime_s > 0 && r->lifetime_s / 2 < wait_s)
      wait_s = r->lifetime_s / 2 > 0 ? r->lifetime_s / 2 : 1;
    if (rg_loop_call(on_gw_result, r) != 0)
      free(r);
    pthread_mutex_lock(&p->mu);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_s > 0 ? wait_s : 1;
    while (!p->stop &&
           pthread_cond_timedwait(&p->cv, &p->mu, &ts) != ETIMEDOUT)
      ;
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static int parse_gateway(const char *s, struct sockaddr_in *sa) {
  char host[64];
  const char *colon = strrchr(s, ':');
  size_t n = colon ? (size_t)(colon - s) : strlen(s);
  if (n == 0 || n >= sizeof host)
    return -EINVAL;
  memcpy(host, s, n);
  host[n] = 0;
  memset(sa, 0, sizeof *sa);
  sa->sin_family = AF_INET;
  sa->sin_port = htons(NATPMP_PORT);
  if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
    return -EINVAL;
  if (colon) {
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 1 || port > 65535)
      return -EINVAL;
    sa->sin_port = htons((uint16_t)port);
  }
  return 0;
}

rg_portmap_ctl *rg_portmap_new(rg_engine *engine, const rg_portmap_opts *o,
                               char **cause) {
  rg_portmap_ctl *p = rg_calloc(1, sizeof *p);
  p->engine = engine;
  p->natpmp = o->natpmp;
  p->upnp = o->upnp;
  p->bt_bind = rg_strdup(o->bt_bind ? o->bt_bind : "0.0.0.0");
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  if (o->natpmp || o->upnp)
    rg_engine_set_portmap(engine, o->natpmp, o->upnp);
  if (o->gateway && *o->gateway) {
    if (parse_gateway(o->gateway, &p->gw) != 0) {
      *cause = rg_printf("portmap_gateway must be an IPv4 address with an "
                         "optional :port, got %s",
                         o->gateway);
      rg_portmap_free(&p);
      return NULL;
    }
    p->gw_on = true;
    snprintf(p->gw_text, sizeof p->gw_text, "%s", o->gateway);
    p->lifetime_s = o->lifetime_s > 0 ? o->lifetime_s : 60;
    p->refresh_s = o->refresh_s > 0 ? o->refresh_s : p->lifetime_s / 2;
    if (p->refresh_s < 1)
      p->refresh_s = 1;
    atomic_store(&p->internal_port, rg_engine_listen_port(engine));
    if (pthread_create(&p->th, NULL, gw_thread, p) == 0)
      p->th_started = true;
    else
      rg_error("cannot start the port mapping thread");
  }
  return p;
}

json_t *rg_portmap_json(rg_portmap_ctl *p) {
  rg_portmap maps[64];
  int n = p ? rg_engine_portmaps(p->engine, maps, 64) : 0;
  if (n > 64)
    n = 64;
  json_t *arr = json_array();
  for (int i = 0; i < n; i++) {
    json_t *m = json_pack("{s:s, s:s, s:i, s:i, s:s, s:I}", "transport",
                          maps[i].transport, "protocol", maps[i].protocol,
                          "mapping", maps[i].mapping, "external_port",
                          maps[i].external_port, "local", maps[i].local,
                          "updated", (json_int_t)maps[i].when_s);
    json_object_set_new(m, "error", maps[i].error[0]
                                        ? json_string(maps[i].error)
                                        : json_null());
    json_array_append_new(arr, m);
  }
  json_t *gw = json_null();
  if (p && p->gw_on) {
    gw = json_pack(
        "{s:s, s:i, s:i, s:b, s:i, s:i, s:i, s:I}", "address", p->gw_text,
        "lifetime_s", p->lifetime_s, "refresh_s", p->refresh_s, "mapped",
        p->mapped, "external_port", p->mapped ? p->last.external_port : 0,
        "external_udp_port", p->mapped ? p->last.udp_port : 0,
        "granted_lifetime_s", p->mapped ? p->last.lifetime_s : 0, "requests",
        (json_int_t)p->requests);
    json_object_set_new(gw, "external_ip",
                        p->last.external_ip[0]
                            ? json_string(p->last.external_ip)
                            : json_null());
    json_object_set_new(gw, "last_error", p->last.err
                                              ? json_string(p->last.error)
                                              : json_null());
    json_object_set_new(gw, "last_try", p->last_try_s
                                            ? json_integer(p->last_try_s)
                                            : json_null());
    json_object_set_new(gw, "last_ok", p->last_ok_s
                                           ? json_integer(p->last_ok_s)
                                           : json_null());
  }
  return json_pack("{s:b, s:b, s:i, s:o, s:o}", "natpmp", p && p->natpmp,
                   "upnp", p && p->upnp, "listen_port",
                   p ? rg_engine_listen_port(p->engine) : 0, "mappings", arr,
                   "gateway", gw);
}

void rg_portmap_free(rg_portmap_ctl **pp) {
  rg_portmap_ctl *p = *pp;
  if (!p)
    return;
  *pp = NULL;
  if (p->th_started) {
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->th, NULL);
  }
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->bt_bind);
  free(p);
}
