/* portmap.h — port mapping: libtorrent's NAT-PMP and UPnP clients behind
 * config switches, and a VPN-gateway mode: our own NAT-PMP client (RFC 6886)
 * asks an explicitly configured gateway (a VPN's, e.g. 10.2.0.1) for a TCP
 * and a UDP mapping with the configured lifetime, renews it every refresh
 * interval, and moves the BitTorrent listen socket to the external port the
 * gateway assigned, so that tracker announces, DHT and the handshake carry
 * the port peers can reach. (libtorrent 2.0.8 has no announce_port setting
 * and its own NAT-PMP client only talks to the default route's gateway.)
 *
 * Threads: the gateway client runs on its own thread (blocking UDP with
 * bounded retries) and hands every result to the loop; everything else is
 * loop thread only. */
#ifndef RG_PORTMAP_H
#define RG_PORTMAP_H

#include <jansson.h>
#include <stdbool.h>

#include "engine.h"

typedef struct rg_portmap_opts {
  bool natpmp, upnp;    /* libtorrent's clients */
  const char *gateway;  /* "" / NULL = no gateway mode; "IP" or "IP:PORT" */
  int lifetime_s;       /* asked lifetime of the gateway mapping */
  int refresh_s;        /* renew every … (0 = lifetime / 2) */
  const char *bt_bind;  /* the BitTorrent listen address (kept on a move) */
} rg_portmap_opts;

typedef struct rg_portmap_ctl rg_portmap_ctl;

/* Applies the switches and starts the gateway client. NULL + *cause only
 * for a malformed gateway address. */
rg_portmap_ctl *rg_portmap_new(rg_engine *engine, const rg_portmap_opts *o,
                               char **cause);
/* {natpmp, upnp, listen_port, mappings:[…], gateway:{…}|null} */
json_t *rg_portmap_json(rg_portmap_ctl *p);
/* Stops the client (bounded: ~2 s) and frees. */
void rg_portmap_free(rg_portmap_ctl **p);

#endif
