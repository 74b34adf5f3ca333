/* torrent-int.h — what torrents.c and reader.c share. Not for other modules. */
#ifndef RG_TORRENT_INT_H
#define RG_TORRENT_INT_H

#include "reader.h"
#include "torrents.h"

struct rg_reader {
  rg_tm *tm;
  rg_torrent *t;
  int file;
  int64_t size;
  int64_t file_off; /* the file's offset in the torrent's byte stream */
  int fd;
  int warm_fd;      /* the warmup store's mirror of this file, -1 = closed */
  int64_t warm_len; /* a pending read served from the mirror: its length */
  char *cache_path; /* the torrent's cache file for this file */
  int64_t readahead;     /* window cap for this reader, 0 = the config's */
  int64_t bitrate;       /* given by a prober (bytes/s), 0 = unknown */
  int64_t observed_rate; /* how fast the client consumes, bytes/s */
  int64_t rate_t0_ms, rate_bytes, last_end;
  bool waited; /* the pending read had to wait for the swarm */
  bool background; /* a probe or warmup copy: yields to players */
  int64_t bytes_warm, bytes_cache, bytes_swarm; /* delivered, by source */
  /* the window: pieces [win_first, win_last]; win_first < 0 = none */
  int win_first, win_last;
  /* the pending read */
  bool pending;
  int64_t off;
  size_t len;
  int need; /* piece the pending read waits for */
  rg_read_cb cb;
  void *arg;
  int64_t started_ms, deadline_ms; /* monotonic */
  struct event *ev; /* timeout / deferred delivery */
  struct rg_reader *next;
};

struct rg_torrent {
  rg_tm *tm;
  uint8_t ih[20];
  char hex[41];
  char *name, *title, *source;
  rg_tinfo *ti;
  uint8_t *have; /* our own record of verified pieces on disk */
  size_t have_len;
  int64_t have_bytes;
  bool have_dirty;
  bool active, queued, fetching, removed;
  int in_hooks; /* hooks running on it: a removal keeps the husk till they end */
  bool failed; /* paused by a disk/torrent error until it leaves the session */
  int64_t queued_ms; /* when it started waiting for a slot */
  int64_t fetch_started_ms;
  char *error;
  int64_t added, last_read;   /* wall seconds */
  int64_t last_read_ms;       /* monotonic */
  int64_t announce_ms;        /* last forced re-announce */
  int64_t stall_ms;           /* a read timed out then (monotonic), 0 = never */
  int64_t stall_have_bytes;   /* have_bytes at that moment */
  int64_t stall_download;     /* payload bytes received then, -1 = unknown */
  bool playing;               /* priority mode (webhooks) */
  bool paused_for_priority;   /* paused because another title plays */
  int64_t drop_after_ms;      /* fast drop after playback stopped, 0 = no */
  uint8_t *prio_sent;         /* priorities last pushed to libtorrent */
  uint8_t *deadline;          /* 1 where we set a piece deadline */
  rg_reader *readers;
  struct rg_torrent *next;
};

/* torrents.c, for reader.c */
int rg_tm_activate(rg_tm *tm, rg_torrent *t);
void rg_tm_update_priorities(rg_tm *tm, rg_torrent *t);
int rg_tm_read_timeout_s(rg_tm *tm);
/* A read on T timed out: remember how much T had (rg_tm_stalled). */
void rg_tm_mark_stall(rg_tm *tm, rg_torrent *t);
/* Stalled: a read on T timed out within the last minute and since then not
 * one piece has arrived, nor any payload byte from any peer. */
bool rg_tm_stalled(rg_tm *tm, rg_torrent *t, int64_t now_ms);
int64_t rg_tm_readahead_bytes(rg_tm *tm);
struct event_base *rg_tm_base(rg_tm *tm);
rg_engine *rg_tm_engine(rg_tm *tm);
void rg_tm_touch(rg_tm *tm, rg_torrent *t);

static inline bool rg_have(const rg_torrent *t, int p) {
  return t->have && p >= 0 && (size_t)(p >> 3) < t->have_len &&
         (t->have[p >> 3] & (0x80 >> (p & 7)));
}

/* reader.c, for torrents.c */
void rg_reader_piece_ready(rg_reader *r, int piece);
void rg_reader_fail(rg_reader *r, int err);
/* Retries a read that waits for a piece libtorrent may hold already. */
void rg_reader_nudge(rg_reader *r);



/* torrents.c: a piece libtorrent holds although no alert said so. */
void rg_tm_piece_verified(rg_tm *tm, rg_torrent *t, int piece);
/* torrents.c: frees a removed torrent once its last reader closed. */
void rg_tm_reader_gone(rg_tm *tm, rg_torrent *t);
#endif
