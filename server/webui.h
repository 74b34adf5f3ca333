/* webui.h — the web UI: static files compiled into the binary
 * (webui/assets.c, made by tools/embed.sh) and its API routes (api-ui.c:
 * settings, system, speed history, key, restart). Loop thread only. */
#ifndef RG_WEBUI_H
#define RG_WEBUI_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"

typedef struct rg_webui_asset {
  const char *path; /* "/index.html", "/app.js", … */
  const char *mime;
  const unsigned char *data;
  size_t len;
  const char *etag; /* strong, quoted */
} rg_webui_asset;

/* The generated table, ended by a zeroed row. */
extern const rg_webui_asset rg_webui_assets[];
extern const size_t rg_webui_nassets;

/* Serves "/" (index.html) and the embedded files (also under /ui/…),
 * without the API key. Returns false (no reply sent) when PATH is not
 * one of them. */
bool rg_webui_route(rg_app *app, struct evhttp_request *req, const char *path);
/* The asset at PATH or NULL. */
const rg_webui_asset *rg_webui_find(const char *path);

/* ---- api-ui.c ---- */
/* /api/settings, /api/system, /api/speed, /api/key/regenerate,
 * /api/webhooks/regenerate, /api/restart; PATH after "/api". Returns false
 * (no reply) when PATH is none of them. */
bool rg_api_ui_route(rg_app *app, struct evhttp_request *req, const char *path);
/* Remembers the command line (for the settings' origin and the restart). */
void rg_ui_set_args(int argc, char **argv);
/* Applies the settings saved through PUT /api/settings to C, except those
 * that the environment or a flag sets (defaults < config file < saved <
 * environment < flags). Call right after the store opens. */
void rg_ui_apply_saved(rg_conf *c, rg_store *s);
/* POST /api/restart was called: re-exec the binary after a clean shutdown.
 * Returns only on failure (-errno). */
/* Samples the total download/upload rate every 2 s for GET /api/speed
 * (the last 15 minutes); rg_ui_stop before the event base goes. */
void rg_ui_start(rg_app *app);
void rg_ui_stop(void);
bool rg_ui_restart_requested(void);
int rg_ui_reexec(void);

#endif
