/* tlink.h — adding a torrent by the link a person or a client sent, shared
 * by the native API (api.c) and the TorrServer API (torrserver.c): a magnet
 * link or a bare info hash is added at once; an http(s) URL of a .torrent
 * file is fetched off the loop first (tlink.c). Loop thread. */
#ifndef RG_TLINK_H
#define RG_TLINK_H

#include <stdbool.h>

#include "http.h"

/* LINK starts with http:// or https:// (any case). */
bool rg_tlink_is_url(const char *link);

/* Adds LINK, a magnet link or a 40-hex / 32-base32 info hash: 0 with *OUT
 * and *EXISTED, or -errno with *STATUS (400 for a link that is not one, 500
 * when the add failed) and *CAUSE (free it). */
int rg_tlink_add(rg_app *app, const char *link, const char *title,
                 rg_torrent **out, bool *existed, int *status, char **cause);

/* Called on the loop thread once the torrent behind a URL was added; it
 * answers REQ. */
typedef void (*rg_tlink_done)(rg_app *app, struct evhttp_request *req,
                              rg_torrent *t, bool existed, void *arg);

/* Fetches the .torrent at URL (http/https; at most 10 MiB, 20 s in all and
 * 5 redirects; a redirect to a magnet link is added as that magnet) on a
 * thread of its own and adds it, then calls DONE. Failures are answered
 * here, as JSON errors: 400 (URL unusable, body not a .torrent), 413 (too
 * large), 502 (the server failed or answered an error), 504 (timeout). ARG
 * is released with FREE_ARG (if set) when the job ends, whatever the outcome
 * — also when the client left or the daemon stops, and DONE never runs. A
 * URL fetched in the last 10 minutes whose torrent is still known is not
 * fetched again: players open a stream URL once per seek. */
void rg_tlink_fetch(rg_app *app, struct evhttp_request *req, const char *url,
                    const char *title, rg_tlink_done done, void *arg,
                    void (*free_arg)(void *));

/* Forgets the remembered URLs (at shutdown). */
void rg_tlink_cleanup(void);

#endif
