/* engine.h — the C interface over libtorrent-rasterbar 2.0 (engine-lt.cc).
 *
 * Opaque handles; torrents are named by their 20-byte v1 info hash. Every
 * entry point catches C++ exceptions and returns -errno (and a cause string
 * where one is useful). Alerts are copied into rg_alert structs; libtorrent's
 * notify callback only writes to an eventfd (rg_engine_alert_fd) which the
 * event loop watches and then calls rg_engine_pop_alerts.
 *
 * Storage is libtorrent's posix disk I/O: a block is written with pwrite
 * before the piece is hashed, so when RG_ALERT_PIECE_FINISHED arrives the
 * piece's bytes are readable from the cache file by anyone (pread/sendfile).
 *
 * Thread: call everything from one thread (the event loop), except
 * rg_tinfo_* and rg_engine_make_torrent which are pure functions. */
#ifndef RG_ENGINE_H
#define RG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct rg_engine rg_engine;

typedef struct rg_engine_opts {
  /* libtorrent listen_interfaces, e.g. "127.0.0.2:6881"; NULL → "0.0.0.0:0,[::]:0" */
  const char *listen_interfaces;
  /* outgoing_interfaces (bind outgoing connections to this address); NULL = any */
  const char *outgoing_interfaces;
  bool outgoing_utp, incoming_utp;
  bool enable_dht, enable_lsd, enable_natpmp, enable_upnp;
  int download_rate_limit, upload_rate_limit; /* bytes/s, 0 = unlimited */
  int connections_limit;                      /* 0 = libtorrent default */
  /* Apply the rate limits to peers on the local network too (test seeders;
   * libtorrent exempts them otherwise). */
  bool limit_local_peers;
  int request_timeout_s, piece_timeout_s; /* 0 = default */
} rg_engine_opts;

enum rg_alert_type {
  RG_ALERT_METADATA = 1,    /* metadata received: info dict now available */
  RG_ALERT_PIECE_FINISHED,  /* piece verified and on disk */
  RG_ALERT_HASH_FAILED,     /* piece failed its hash check */
  RG_ALERT_TORRENT_ERROR,   /* torrent paused by an error; msg says why */
  RG_ALERT_FILE_ERROR,      /* disk error on a file; msg says why */
  RG_ALERT_REMOVED,         /* torrent left the session */
  RG_ALERT_FINISHED,        /* every wanted piece is here */
  RG_ALERT_LISTEN_FAILED,   /* msg says which interface */
  RG_ALERT_LISTEN_OK,       /* piece = port */
  RG_ALERT_PEER_CONNECT,    /* informational */
  RG_ALERT_PEER_BANNED,     /* a peer was banned for corrupt data; msg names it */
};

typedef struct rg_alert {
  int type;
  uint8_t ih[20];
  int piece; /* piece index, or port for LISTEN_OK, else -1 */
  char msg[256];
} rg_alert;

/* Creates a session. NULL with *cause (free()) on failure. */
rg_engine *rg_engine_new(const rg_engine_opts *o, char **cause);
/* Stops the session (bounded: does not wait for trackers more than ~2 s). */
void rg_engine_free(rg_engine **e);
/* Readable when alerts are pending. */
int rg_engine_alert_fd(rg_engine *e);
/* Drains the eventfd and returns the pending alerts as a malloc'd array
 * (free() it); *n is the count. */
rg_alert *rg_engine_pop_alerts(rg_engine *e, size_t *n);
/* The TCP port the session listens on (0 before it does). */
int rg_engine_listen_port(rg_engine *e);
/* Applies new global rate limits (bytes/s, 0 = unlimited). */
int rg_engine_set_rate_limits(rg_engine *e, int download, int upload);

typedef struct rg_add {
  /* Bencoded info dictionary when the metadata is known, else NULL. */
  const uint8_t *info;
  size_t info_len;
  /* Info hash: required when info is NULL (magnet), ignored otherwise. */
  const uint8_t *ih;
  const char *name; /* display name while metadata is unknown (may be NULL) */
  const char *const *trackers;
  size_t ntrackers;
  const char *const *peers; /* "ip:port" or "[v6]:port", connected at once */
  size_t npeers;
  const char *save_path; /* required */
  /* Pieces already on disk (bit i, MSB first, = piece i), with info only.
   * Trusted as they are: no file check (no_verify_files). */
  const uint8_t *have;
  size_t have_len; /* bytes */
  bool seed_mode;  /* every piece is on disk (seeder); with info only */
  /* Every piece at priority 0 until the caller raises some (streaming). */
  bool zero_priorities;
  int upload_limit; /* per torrent, bytes/s, 0 = none */
} rg_add;

/* Adds a torrent (synchronously; not auto-managed, not paused; sequential
 * download off). 0, -EEXIST if already in the session, or -errno + cause. */
int rg_engine_add(rg_engine *e, const rg_add *a, char **cause);
/* Removes a torrent (and its files when DELETE_FILES). 0 or -ENOENT. */
int rg_engine_remove(rg_engine *e, const uint8_t ih[20], bool delete_files);
bool rg_engine_has(rg_engine *e, const uint8_t ih[20]);
/* The bencoded info dict once metadata is known (malloc'd, free()).
 * -EAGAIN before it is, -ENOENT for an unknown torrent. */
int rg_engine_get_info(rg_engine *e, const uint8_t ih[20], uint8_t **buf,
                       size_t *len);
/* Sets every piece's priority (0..7) in one call; N must equal the piece
 * count. Deadlines set earlier keep their pieces at 7 until they finish. */
int rg_engine_set_piece_priorities(rg_engine *e, const uint8_t ih[20],
                                   const uint8_t *prio, int n);
int rg_engine_set_piece_deadline(rg_engine *e, const uint8_t ih[20], int piece,
                                 int ms);
int rg_engine_reset_piece_deadline(rg_engine *e, const uint8_t ih[20],
                                   int piece);
/* 1 if the piece is verified, 0 if not, -errno. */
int rg_engine_have_piece(rg_engine *e, const uint8_t ih[20], int piece);
/* The verified-pieces bitfield (MSB first), malloc'd. */
int rg_engine_have_bitfield(rg_engine *e, const uint8_t ih[20], uint8_t **bits,
                            size_t *len);
int rg_engine_add_peer(rg_engine *e, const uint8_t ih[20], const char *ip,
                       int port);
/* SHA-256 of DATA (libtorrent's hasher). */
void rg_sha256(const void *data, size_t len, uint8_t out[32]);

/* Adds announce URLs and connects peers ("ip:port", "[v6]:port") to a
 * torrent in the session; new trackers are announced to at once. */
int rg_engine_add_sources(rg_engine *e, const uint8_t ih[20],
                          const char *const *trackers, size_t ntrackers,
                          const char *const *peers, size_t npeers);
int rg_engine_reannounce(rg_engine *e, const uint8_t ih[20]);
/* Per-torrent download limit (bytes/s) and connection cap; 0 = none. */
int rg_engine_set_torrent_limits(rg_engine *e, const uint8_t ih[20],
                                 int download_bps, int max_connections);
/* Pauses (no transfers at all) or resumes a torrent. */
int rg_engine_pause(rg_engine *e, const uint8_t ih[20], bool paused);

enum rg_tstate {
  RG_TS_CHECKING = 1,
  RG_TS_METADATA,
  RG_TS_DOWNLOADING,
  RG_TS_FINISHED,
  RG_TS_SEEDING,
  RG_TS_PAUSED,
  RG_TS_ERROR,
};

typedef struct rg_tstatus {
  int state; /* enum rg_tstate */
  bool has_metadata;
  int peers, seeds;
  int64_t download_rate, upload_rate; /* bytes/s */
  int64_t total_done;                 /* bytes verified */
  int64_t total_download, total_upload; /* payload bytes this session */
  int num_pieces;                     /* verified */
  char error[256];
} rg_tstatus;

int rg_engine_status(rg_engine *e, const uint8_t ih[20], rg_tstatus *st);
/* Bytes verified per file (N = file count incl. pad files). */
int rg_engine_file_progress(rg_engine *e, const uint8_t ih[20], int64_t *bytes,
                            int n);

/* ---- metadata, no session needed ---- */

typedef struct rg_tfile {
  char *path;     /* relative to save_path, '/'-separated, as written on disk */
  int64_t size;
  int64_t offset; /* in the torrent's byte stream */
  bool pad;       /* BEP 47 pad file: not shown to users */
} rg_tfile;

typedef struct rg_tinfo {
  uint8_t ih[20];
  char *name;
  int64_t total_size;
  int piece_length;
  int num_pieces;
  int nfiles;
  rg_tfile *files;
  uint8_t *info; /* the bencoded info dict */
  size_t info_len;
  char **trackers; /* announce URLs from a .torrent (may be 0) */
  int ntrackers;
} rg_tinfo;

/* Parses a .torrent file or a bare bencoded info dict. NULL + *cause on
 * bad input (never crashes on any bytes). Free with rg_tinfo_free. */
rg_tinfo *rg_tinfo_parse(const uint8_t *buf, size_t len, char **cause);
void rg_tinfo_free(rg_tinfo **t);

/* Makes a v1-only .torrent for the file or directory PATH (PIECE_SIZE 0 →
 * automatic). *torrent is malloc'd bencoded .torrent bytes. 0 or -errno. */
int rg_engine_make_torrent(const char *path, int piece_size,
                           const char *const *trackers, size_t ntrackers,
                           uint8_t **torrent, size_t *len, char **cause);

/* ---- IP filter and port mapping (blocklist.c, portmap.c) ---- */

/* An inclusive address range; FAMILY 4 (bytes 0..3 used) or 6. */
typedef struct rg_ip_range {
  int family;
  uint8_t first[16], last[16];
} rg_ip_range;

/* Replaces the session's IP filter: the N ranges are blocked, everything
 * else allowed. Applies live: connected peers now blocked are dropped, the
 * others stay. Also turns on the peer-blocked alerts counted below. */
int rg_engine_set_ip_filter(rg_engine *e, const rg_ip_range *r, size_t n);
/* Connections refused or dropped by the IP filter since start. */
int64_t rg_engine_blocked_peers(rg_engine *e);
/* Peers banned for sending data that failed hash checks, since start. */
int64_t rg_engine_banned_peers(rg_engine *e);

/* Turns libtorrent's own NAT-PMP and UPnP clients on or off. */
int rg_engine_set_portmap(rg_engine *e, bool natpmp, bool upnp);
/* Moves the listen socket to BIND:PORT (VPN-gateway mode: listen on the
 * port the gateway mapped, so announces and handshakes carry it). */
int rg_engine_set_listen(rg_engine *e, const char *bind, int port);

typedef struct rg_portmap {
  char transport[8]; /* "natpmp" or "upnp" */
  char protocol[4];  /* "tcp" or "udp" */
  int mapping;       /* libtorrent's mapping index */
  int external_port; /* 0 while failed */
  char local[64];    /* the local address of the listen socket */
  char error[160];   /* "" when mapped */
  int64_t when_s;    /* wall seconds of the last report */
} rg_portmap;
/* Copies up to MAX mappings libtorrent reported (portmap alerts); returns
 * how many there are. */
int rg_engine_portmaps(rg_engine *e, rg_portmap *out, int max);

#ifdef __cplusplus
}
#endif
#endif
