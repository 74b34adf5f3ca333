/* blocklist.h — IP blocklists (PeerGuardian P2P text, eMule ipfilter.dat,
 * CIDR / single addresses; plain or gzip) from files or URLs, applied as
 * libtorrent's session IP filter.
 *
 * The first load is synchronous (rg_blocklist_load_now, called before any
 * torrent joins the session), so no peer connection ever precedes the
 * filter. Refreshes run on a worker thread every refresh interval and are
 * applied live from the loop (libtorrent disconnects peers that became
 * blocked; other connections and streams carry on). A URL's last good copy
 * is kept in the data dir and used when the URL cannot be fetched.
 * Malformed lines are counted, never fatal. Loop thread, except the pure
 * parser which any thread may call. */
#ifndef RG_BLOCKLIST_H
#define RG_BLOCKLIST_H

#include <event2/event.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* rg_ip_range (an inclusive address range) is defined in engine.h. */

typedef struct rg_bl_parsed {
  rg_ip_range *ranges; /* malloc'd */
  size_t n, cap;
  int64_t lines;    /* non-empty, non-comment lines */
  int64_t rejected; /* malformed lines */
  int64_t allowed;  /* DAT lines with an access level >= 128 (not blocks) */
  bool gzip;
  char first_bad[160]; /* "line N: text" of the first malformed line */
} rg_bl_parsed;

/* Largest list accepted, after decompression. */
#define RG_BLOCKLIST_MAX_BYTES (512u << 20)

/* Parses BUF (plain or gzip; line formats may be mixed) into OUT (zeroed
 * first by the caller or fresh). 0, or -EINVAL with *cause when the gzip
 * stream is corrupt or the text exceeds RG_BLOCKLIST_MAX_BYTES (what was
 * parsed so far stays in OUT). Thread-safe. */
int rg_blocklist_parse(const uint8_t *buf, size_t len, rg_bl_parsed *out,
                       char **cause);
void rg_bl_parsed_clear(rg_bl_parsed *p);
/* Whether textual address IP falls in one of P's ranges. */
bool rg_bl_parsed_contains(const rg_bl_parsed *p, const char *ip);

typedef struct rg_blocklist rg_blocklist;

/* SOURCES: files and http(s) URLs separated by commas, semicolons or
 * whitespace ("" = no blocklist). STATE_DIR keeps URL copies. ENGINE may be
 * NULL (tests). Never fails: a bad source is reported by the JSON. */
rg_blocklist *rg_blocklist_new(struct event_base *base, rg_engine *engine,
                               const char *sources, const char *state_dir,
                               int refresh_h);
/* Loads every source now, on the calling (loop) thread, and applies the
 * filter. URLs are fetched with a bounded timeout (their saved copy is used
 * when that fails). Returns the number of ranges applied. */
int64_t rg_blocklist_load_now(rg_blocklist *bl);
/* Starts a background reload now (POST /api/blocklist). false if one runs. */
bool rg_blocklist_refresh(rg_blocklist *bl);
/* {enabled, sources:[…], entries, rejected, allowed, last_load, …} */
json_t *rg_blocklist_json(rg_blocklist *bl);
/* Stops the timer; a running reload finishes on its own and is dropped. */
void rg_blocklist_free(rg_blocklist **bl);

#endif
