/* hls.h — on-the-fly HLS for browsers: GET /hls/{info_hash}/{file}/…
 *
 *   index.m3u8            master playlist (video + audio choice + subtitles)
 *   video.m3u8?audio=N    VOD media playlist; segments cut at keyframes from
 *                         the file's index (Matroska Cues / MP4 sample table)
 *   seg-K.ts?audio=N      segment K, remuxed on request (video copied; audio
 *                         copied when AAC/MP3, else transcoded to AAC stereo)
 *   subs-S.m3u8, subs-S-K.vtt   text subtitles as WebVTT
 *
 * Work runs on worker threads reading through rg_bread; replies are sent
 * from the loop. The API key rules are those of /stream. */
#ifndef RG_HLS_H
#define RG_HLS_H

#include "http.h"

typedef struct rg_hls rg_hls;

rg_hls *rg_hls_new(rg_app *app, char **cause);
void rg_hls_free(rg_hls **h);
/* PATH is what follows "/hls/". */
void rg_hls_route(rg_app *app, struct evhttp_request *req, const char *path);

#endif
