/* hls.h — on-the-fly HLS for browsers: GET /hls/{info_hash}/{file}/…
 *
 *   index.m3u8            master playlist (video + audio choice + subtitles)
 *   video.m3u8?audio=N    VOD media playlist; segments cut at keyframes from
 *                         the file's index (Matroska Cues / MP4 sample table)
 *   seg-K.ts?audio=N      segment K, remuxed on request (video copied; audio
 *                         copied when AAC/MP3, else transcoded to AAC stereo)
 *   init.mp4?audio=N, seg-K.m4s?audio=N
 *                         the same as fragmented MP4 (CMAF-style: ftyp+moov
 *                         init segment, one moof+mdat per segment, HEVC
 *                         tagged hvc1); playlists then say EXT-X-VERSION:7
 *                         and EXT-X-MAP
 *   subs-S.m3u8, subs-S-K.vtt   text subtitles as WebVTT
 *
 * Segment format: HEVC and AV1 get fMP4 (hls.js plays HEVC only from fMP4,
 * Apple requires it, MPEG-TS cannot carry AV1); H.264 gets MPEG-TS. A
 * playlist URL may override with ?fmp4=1 (fMP4 for H.264 too) or ?fmp4=0
 * (HEVC in MPEG-TS, for old clients; AV1 stays fMP4); the master passes
 * the choice on to the media playlists it lists.
 *
 * N is the audio track's rank among the file's audio streams (0-based;
 * -1 or "none": no audio; absent: the default track). With one audio track
 * the master's single variant is video.m3u8?audio=0 (audio muxed in); with
 * several, the variant is video-only (audio=-1) and each track is an
 * EXT-X-MEDIA TYPE=AUDIO rendition audio.m3u8?audio=N whose segments are
 * seg-K.ts?audio=N&video=0 (or .m4s). Every URI in a playlist carries
 * the stream key (?key=), never the API key.
 *
 * Work runs on worker threads reading through rg_bread; replies are sent
 * from the loop. The API key rules are those of /stream. Errors: 401 bad
 * key, 400 a bad query parameter, 404 unknown torrent/file/segment/track,
 * 415 not a video or a codec that cannot go into HLS, 503 no metadata yet,
 * 504 the data did not come in time. Each reply carries X-Hls-Bytes-Read (bytes read from the file). */
#ifndef RG_HLS_H
#define RG_HLS_H

#include "http.h"

typedef struct rg_hls rg_hls;

rg_hls *rg_hls_new(rg_app *app, char **cause);
void rg_hls_free(rg_hls **h);
/* PATH is what follows "/hls/". */
void rg_hls_route(rg_app *app, struct evhttp_request *req, const char *path);

#endif
