/* hls.c — on-the-fly HLS for browsers (see hls.h for the URLs).
 *
 * Threads. rg_hls_route runs on the loop: it checks the key and the path,
 * queues a job and sets a close callback on the client's connection.
 * NWORKERS worker threads take jobs, read the file through rg_bread (a custom
 * AVIOContext: no temp files), build the whole answer in memory and hand the
 * job back to the loop with rg_loop_call, where the reply is sent (or
 * dropped when the client left). A job belongs to the queue, then to one
 * worker, then to the loop; the close callback touches it only on the loop,
 * and tells the worker through an atomic flag (its reads then stop early).
 *
 * Cuts. The first request for a file builds its media info: the streams and
 * the keyframe times of the container's own index (Matroska Cues, read by
 * one seek; the MP4 sample table; AVI idx1), never a scan of the file. Cuts
 * go at the first keyframe at least SEG_US after the previous cut. A file
 * without an index gets a cut every SEG_US and each segment starts at the
 * first keyframe at or after its cut. The info is cached per (hash, file)
 * in a small LRU.
 *
 * Segment K = video from the keyframe at cut K up to (not including) the
 * keyframe at cut K+1, audio whose PTS lies in [cut K, cut K+1): segments
 * tile the timeline. Timestamps are the file's own plus one constant
 * (TS_OFFSET_US - start), the same in every segment and in the WebVTT
 * X-TIMESTAMP-MAP, so a player sees one continuous clock. fMP4 segments
 * use that clock too (tfdt = first DTS, no edit list), so MPEG-TS and fMP4
 * segments of one file line up. Only the
 * segment's own bytes are read, plus the header and the index (both in
 * the warmup store's regions). */
#include "config.h"

#include "bread.h"
#include "codecs.h"
#include "hls.h"
#include "log.h"
#include "loop.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <inttypes.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/channel_layout.h>
#include <libavutil/mathematics.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NWORKERS 2
#define QUEUE_MAX 64
#define CACHE_MAX 32
#define AVIO_BUF (64 * 1024)
#define SEG_US 6000000LL        /* target segment length */
#define TS_OFFSET_US 10000000LL /* output clock = file clock - start + this */
#define TOL_US 1000             /* timestamp slack when matching cuts */
#define AAC_RATE 48000
#define AAC_BITRATE 160000
#define STOP_WAIT_MS 5000

static const AVRational US = {1, 1000000};

/* ------------------------------------------------------------ text --- */

typedef rg_body sbuf; /* no max: playlists and WebVTT we build */

static void sb_printf(sbuf *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *t = NULL;
  int n = vasprintf(&t, fmt, ap);
  va_end(ap);
  if (n < 0)
    abort();
  rg_body_add(s, t, (size_t)n);
  free(t);
}

/* ------------------------------------------------------- media info --- */

typedef struct track {
  int stream; /* index in the file */
  enum AVCodecID codec;
  bool copy; /* audio: copied as is (AAC, MP3); else transcoded to AAC */
  int channels;
  int profile;
  bool def;
  char lang[16];
  char name[64];
} track;

/* What playlists and segments need to know about a file. Immutable once
 * built; shared by reference count under rg_hls.mu. */
typedef struct minfo {
  char hash[41];
  int index;
  int refs;
  bool cached;
  uint64_t used;
  int64_t size;
  int vstream;
  enum AVCodecID vcodec;
  int width, height, video_delay;
  bool pts_index; /* index times are PTS (Matroska), else DTS (MP4) */
  bool exact;     /* cuts are keyframes from the index */
  int64_t start_us, end_us, bitrate;
  char vcodecs[48]; /* "avc1.64001f", "hvc1.1.6.L93.B0", or "" when unsure */
  int naudio, def_audio;
  track *audio;
  int nsubs;
  track *subs;
  int nseg;
  int64_t *cut; /* nseg cuts (file clock, µs) */
} minfo;

static void minfo_free(minfo *mi) {
  if (!mi)
    return;
  free(mi->audio);
  free(mi->subs);
  free(mi->cut);
  free(mi);
}

/* Segment K's bounds on the file clock: [lo, hi). The first segment starts
 * at the first keyframe whatever its time, the last runs to the end. */
static int64_t seg_lo(const minfo *mi, int k) {
  return k == 0 ? INT64_MIN : mi->cut[k];
}
static int64_t seg_hi(const minfo *mi, int k) {
  return k + 1 < mi->nseg ? mi->cut[k + 1] : INT64_MAX;
}
static double seg_dur(const minfo *mi, int k) {
  int64_t a = k == 0 ? mi->start_us : mi->cut[k];
  int64_t b = k + 1 < mi->nseg ? mi->cut[k + 1] : mi->end_us;
  return b > a ? (double)(b - a) / 1e6 : 0.001;
}

/* ------------------------------------------------------------- jobs --- */

enum kind { K_MASTER, K_VIDEO_PL, K_AUDIO_PL, K_SUBS_PL, K_SEG, K_INIT, K_VTT };

typedef struct job {
  struct job *next;
  rg_hls *h;
  /* loop thread only; NULL once the client left */
  struct evhttp_request *req;
  struct evhttp_connection *evcon;
  atomic_bool gone;
  int64_t t0;
  /* the request (immutable once queued) */
  enum kind kind;
  char hash[41];
  int index;
  int seg, track; /* segment, subtitle track */
  int audio;      /* audio track; -1 none, -2 the default */
  bool video;
  bool m4s;  /* K_SEG: an fMP4 fragment (seg-K.m4s), else MPEG-TS */
  int fmp4;  /* playlists: ?fmp4= 1 fMP4, 0 MPEG-TS, -1 absent (by codec) */
  char *key; /* the stream key (hex), for the URIs in playlists */
  /* the answer */
  int code;
  const char *ctype;
  uint8_t *body;
  size_t len;
  int64_t bytes_read;
  char *err;
} job;

struct rg_hls {
  rg_app *app;
  rg_tm *tm;
  int timeout_s;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  job *head, *tail;
  int queued, busy, nthreads;
  atomic_bool stopping;
  pthread_t th[NWORKERS];
  minfo *cache[CACHE_MAX];
  int ncache;
  uint64_t tick;
};

static void job_free(job *j) {
  if (!j)
    return;
  free(j->key);
  free(j->body);
  free(j->err);
  free(j);
}

static void job_fail(job *j, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void job_fail(job *j, int code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  free(j->err);
  if (vasprintf(&j->err, fmt, ap) < 0)
    abort();
  va_end(ap);
  j->code = code;
}

/* -errno from reading → HTTP status and message. */
static void job_fail_errno(job *j, int rc, const char *what) {
  switch (rc) {
  case -ENOENT:
    job_fail(j, 404, "%s: no such torrent or file", what);
    break;
  case -EAGAIN:
    job_fail(j, 503, "%s: the torrent's metadata is not known yet", what);
    break;
  case -ETIMEDOUT:
    job_fail(j, 504,
             "%s: the data did not arrive in time (no peer has it, "
             "or the swarm is too slow)",
             what);
    break;
  case -ECANCELED:
  case -ESHUTDOWN:
    job_fail(j, 503, "%s: cancelled (shutting down or the client left)", what);
    break;
  case -EMEDIUMTYPE:
    job_fail(j, 415, "%s: not a media file libavformat can read", what);
    break;
  default:
    job_fail(j, 500, "%s: %s", what, strerror(-rc));
  }
}

static int interrupted(void *arg) {
  job *j = arg;
  return atomic_load(&j->gone) || atomic_load(&j->h->stopping);
}

/* --------------------------------------------------- reading a file --- */

/* A file opened with libavformat over the reader core. */
typedef struct src {
  rg_bread *b;
  int64_t pos, size, nread;
  int err; /* the first read error, -errno */
  AVIOContext *pb;
  AVFormatContext *fmt;
} src;

static int src_read(void *opaque, uint8_t *buf, int n) {
  src *s = opaque;
  if (s->pos >= s->size)
    return AVERROR_EOF;
  ssize_t r = rg_bread_pread(s->b, buf, (size_t)n, s->pos);
  if (r < 0) {
    if (!s->err)
      s->err = (int)r;
    return AVERROR((int)-r);
  }
  if (r == 0)
    return AVERROR_EOF;
  s->pos += r;
  s->nread += r;
  return (int)r;
}

static int64_t src_seek(void *opaque, int64_t off, int whence) {
  src *s = opaque;
  int64_t to;
  switch (whence & ~AVSEEK_FORCE) {
  case AVSEEK_SIZE:
    return s->size;
  case SEEK_SET:
    to = off;
    break;
  case SEEK_CUR:
    to = s->pos + off;
    break;
  case SEEK_END:
    to = s->size + off;
    break;
  default:
    return AVERROR(EINVAL);
  }
  if (to < 0)
    return AVERROR(EINVAL);
  s->pos = to;
  return to;
}

static void src_close(src *s) {
  if (s->fmt)
    avformat_close_input(&s->fmt);
  if (s->pb) {
    av_freep(&s->pb->buffer);
    avio_context_free(&s->pb);
  }
  rg_bread_close(&s->b);
}

/* Why libav failed: a read error beats its own code. */
static int src_errno(const src *s, const job *j, int averr) {
  if (s->err)
    return s->err;
  if (interrupted((void *)j) || averr == AVERROR_EXIT)
    return -ECANCELED;
  return -EMEDIUMTYPE;
}

/* Opens the job's file and its container. 0 or -errno. */
static int src_open(job *j, src *s) {
  memset(s, 0, sizeof *s);
  int rc = rg_bread_open(j->h->tm, j->hash, j->index, j->h->timeout_s, &s->b);
  if (rc)
    return rc;
  s->size = rg_bread_size(s->b);
  uint8_t *buf = av_malloc(AVIO_BUF);
  s->pb =
      buf ? avio_alloc_context(buf, AVIO_BUF, 0, s, src_read, NULL, src_seek)
          : NULL;
  s->fmt = avformat_alloc_context();
  if (!s->pb || !s->fmt) {
    if (!s->pb)
      av_free(buf);
    src_close(s);
    return -ENOMEM;
  }
  s->fmt->pb = s->pb;
  s->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  s->fmt->interrupt_callback.callback = interrupted;
  s->fmt->interrupt_callback.opaque = j;
  int ar = avformat_open_input(&s->fmt, NULL, NULL, NULL);
  if (ar < 0) {
    rc = src_errno(s, j, ar);
    src_close(s);
    return rc;
  }
  return 0;
}

/* Opens the job's file for a segment or a subtitle file: on failure J's
 * error is filled and false returned (S is then closed). */
static bool src_open_job(job *j, src *s) {
  int rc = src_open(j, s);
  if (rc)
    job_fail_errno(j, rc, "opening the file");
  return rc == 0;
}

/* Closes S and counts its bytes in J's X-Hls-Bytes-Read. */
static void src_done(job *j, src *s) {
  j->bytes_read += s->nread;
  src_close(s);
}

/* Makes the demuxer drop every stream but A and B (either may be NULL). */
static void src_keep(src *s, const AVStream *a, const AVStream *b) {
  for (unsigned i = 0; i < s->fmt->nb_streams; i++) {
    const AVStream *st = s->fmt->streams[i];
    s->fmt->streams[i]->discard =
        st == a || st == b ? AVDISCARD_DEFAULT : AVDISCARD_ALL;
  }
}

/* ----------------------------------------------------- building info --- */

static bool text_sub(enum AVCodecID id) {
  return id == AV_CODEC_ID_SUBRIP || id == AV_CODEC_ID_SRT ||
         id == AV_CODEC_ID_ASS || id == AV_CODEC_ID_SSA ||
         id == AV_CODEC_ID_WEBVTT || id == AV_CODEC_ID_MOV_TEXT ||
         id == AV_CODEC_ID_TEXT;
}

/* Copies a tag into DST keeping only characters safe inside a quoted
 * playlist attribute. */
static void tag_copy(char *dst, size_t n, AVDictionary *meta, const char *key) {
  AVDictionaryEntry *e = av_dict_get(meta, key, NULL, 0);
  size_t k = 0;
  for (const char *p = e ? e->value : ""; *p && k + 1 < n; p++)
    if ((unsigned char)*p >= 0x20 && *p != '"' && *p != ',')
      dst[k++] = *p;
  dst[k] = 0;
}

static void track_fill(track *t, const AVStream *st) {
  t->stream = st->index;
  t->codec = st->codecpar->codec_id;
  t->channels = st->codecpar->ch_layout.nb_channels;
  t->profile = st->codecpar->profile;
  t->def = (st->disposition & AV_DISPOSITION_DEFAULT) != 0;
  tag_copy(t->lang, sizeof t->lang, st->metadata, "language");
  if (strcmp(t->lang, "und") == 0)
    t->lang[0] = 0;
  tag_copy(t->name, sizeof t->name, st->metadata, "title");
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Reads the file's header and index into a new minfo. 0 or -errno;
 * unsupported media fills J's error itself and returns -EMEDIUMTYPE. */
static int info_build(job *j, minfo **out) {
  src s;
  int rc = src_open(j, &s);
  if (rc)
    return rc;
  AVFormatContext *fmt = s.fmt;
  int64_t t0 = rg_now_ms();
  minfo *mi = rg_calloc(1, sizeof *mi);
  int64_t *kf = NULL;
  snprintf(mi->hash, sizeof mi->hash, "%s", j->hash);
  mi->index = j->index;
  mi->size = s.size;
  /* Codec parameters the header lacks (B-frame delay, MKV audio details)
   * come from the first seconds of the file, which the warmup store keeps. */
  fmt->max_analyze_duration = 3 * AV_TIME_BASE;
  int ar = avformat_find_stream_info(fmt, NULL);
  if (ar < 0 && (s.err || interrupted(j))) {
    rc = src_errno(&s, j, ar);
    goto fail;
  }
  mi->vstream = -1;
  const char *other = NULL;
  mi->audio = rg_calloc(fmt->nb_streams, sizeof *mi->audio);
  mi->subs = rg_calloc(fmt->nb_streams, sizeof *mi->subs);
  mi->def_audio = -1;
  for (unsigned i = 0; i < fmt->nb_streams; i++) {
    AVStream *st = fmt->streams[i];
    AVCodecParameters *par = st->codecpar;
    if (par->codec_type == AVMEDIA_TYPE_VIDEO &&
        !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
      if (par->codec_id == AV_CODEC_ID_H264 ||
          par->codec_id == AV_CODEC_ID_HEVC ||
          par->codec_id == AV_CODEC_ID_AV1) {
        if (mi->vstream < 0)
          mi->vstream = (int)i;
      } else if (!other) {
        other = avcodec_get_name(par->codec_id);
      }
    } else if (par->codec_type == AVMEDIA_TYPE_AUDIO) {
      track *t = &mi->audio[mi->naudio];
      track_fill(t, st);
      t->copy =
          par->codec_id == AV_CODEC_ID_AAC || par->codec_id == AV_CODEC_ID_MP3;
      if (!t->copy && !avcodec_find_decoder(par->codec_id)) {
        rg_debug("%s/%d: audio stream %u (%s) has no decoder", j->hash,
                 j->index, i, avcodec_get_name(par->codec_id));
        continue;
      }
      if (t->def && mi->def_audio < 0)
        mi->def_audio = mi->naudio;
      mi->naudio++;
    } else if (par->codec_type == AVMEDIA_TYPE_SUBTITLE &&
               text_sub(par->codec_id) && avcodec_find_decoder(par->codec_id)) {
      track_fill(&mi->subs[mi->nsubs++], st);
    }
  }
  if (mi->def_audio < 0 && mi->naudio > 0)
    mi->def_audio = 0;
  if (mi->vstream < 0) {
    if (other)
      job_fail(j, 415,
               "the video is %s: HLS here copies H.264, HEVC or AV1 only",
               other);
    else
      job_fail(j, 415,
               "no video stream (not a video file, or one "
               "libavformat cannot read)");
    rc = -EMEDIUMTYPE;
    goto fail;
  }
  AVStream *vst = fmt->streams[mi->vstream];
  mi->vcodec = vst->codecpar->codec_id;
  mi->width = vst->codecpar->width;
  mi->height = vst->codecpar->height;
  mi->video_delay = vst->codecpar->video_delay;
  if (mi->vcodec == AV_CODEC_ID_H264)
    rg_codecs_avc(mi->vcodecs, sizeof mi->vcodecs, vst->codecpar->extradata,
                  vst->codecpar->extradata_size);
  else if (mi->vcodec == AV_CODEC_ID_HEVC)
    rg_codecs_hevc(mi->vcodecs, sizeof mi->vcodecs, vst->codecpar->extradata,
                   vst->codecpar->extradata_size);
  else
    rg_codecs_av1(mi->vcodecs, sizeof mi->vcodecs, vst->codecpar->extradata,
                  vst->codecpar->extradata_size);
  mi->pts_index = strstr(fmt->iformat->name, "matroska") != NULL;
  mi->start_us = fmt->start_time != AV_NOPTS_VALUE ? fmt->start_time : 0;
  int64_t dur = fmt->duration;
  if (dur == AV_NOPTS_VALUE && vst->duration != AV_NOPTS_VALUE)
    dur = av_rescale_q(vst->duration, vst->time_base, US);
  if (dur == AV_NOPTS_VALUE || dur <= 0) {
    job_fail(j, 415, "the file's duration is unknown: no VOD playlist");
    rc = -EMEDIUMTYPE;
    goto fail;
  }
  mi->end_us = mi->start_us + dur;
  mi->bitrate = fmt->bit_rate > 0 ? fmt->bit_rate : s.size * 8 * 1000000 / dur;

  /* The keyframe index. Matroska reads its Cues at the first seek. */
  int64_t seek_to = vst->start_time != AV_NOPTS_VALUE ? vst->start_time : 0;
  av_seek_frame(fmt, mi->vstream, seek_to, AVSEEK_FLAG_BACKWARD);
  if (s.err || interrupted(j)) {
    rc = src_errno(&s, j, 0);
    goto fail;
  }
  int n = avformat_index_get_entries_count(vst), nkf = 0;
  kf = rg_calloc((size_t)n + 1, sizeof *kf);
  for (int i = 0; i < n; i++) {
    const AVIndexEntry *e = avformat_index_get_entry(vst, i);
    if (e && (e->flags & AVINDEX_KEYFRAME) && e->timestamp != AV_NOPTS_VALUE)
      kf[nkf++] = av_rescale_q(e->timestamp, vst->time_base, US);
  }
  qsort(kf, (size_t)nkf, sizeof *kf, cmp_i64);
  /* An index that stops early (entries from the probe's own reads, no Cues)
   * is no index. */
  int64_t tail = nkf ? mi->end_us - kf[nkf - 1] : dur;
  mi->exact = nkf >= 2 && (tail <= 20000000 || tail <= dur / 20);
  int cap = (int)(dur / (SEG_US / 2)) + 4;
  mi->cut = rg_calloc((size_t)cap, sizeof *mi->cut);
  if (mi->exact) {
    mi->cut[mi->nseg++] = kf[0];
    for (int i = 1; i < nkf && mi->nseg < cap; i++)
      if (kf[i] - mi->cut[mi->nseg - 1] >= SEG_US - 250000)
        mi->cut[mi->nseg++] = kf[i];
  } else {
    for (int64_t t = mi->start_us; t < mi->end_us && mi->nseg < cap;
         t += SEG_US)
      mi->cut[mi->nseg++] = t;
  }
  /* no tiny last segment */
  if (mi->nseg > 1 && mi->end_us - mi->cut[mi->nseg - 1] < 1000000)
    mi->nseg--;
  rg_info("%s/%d: %s, %s%s %dx%d, %d audio, %d subtitles, %d keyframes "
          "in the index, %d segments (%s), %.1f s; read %" PRId64 " of %" PRId64
          " bytes in %" PRId64 " ms",
          j->hash, j->index, fmt->iformat->name, avcodec_get_name(mi->vcodec),
          mi->video_delay ? " (B-frames)" : "", mi->width, mi->height,
          mi->naudio, mi->nsubs, nkf, mi->nseg,
          mi->exact ? "cut at indexed keyframes" : "no index: every 6 s",
          (double)dur / 1e6, s.nread, s.size, rg_now_ms() - t0);
  free(kf);
  src_done(j, &s);
  *out = mi;
  return 0;
fail:
  free(kf);
  minfo_free(mi);
  src_done(j, &s);
  return rc;
}

static void info_put(rg_hls *h, minfo *mi) {
  if (!mi)
    return;
  pthread_mutex_lock(&h->mu);
  bool drop = --mi->refs == 0 && !mi->cached;
  pthread_mutex_unlock(&h->mu);
  if (drop)
    minfo_free(mi);
}

/* The job's file's info, from the cache or built now (reference: release
 * with info_put). 0 or -errno (J's error may be filled). */
static int info_get(job *j, minfo **out) {
  rg_hls *h = j->h;
  pthread_mutex_lock(&h->mu);
  for (int i = 0; i < h->ncache; i++) {
    minfo *mi = h->cache[i];
    if (mi->index == j->index && strcmp(mi->hash, j->hash) == 0) {
      mi->refs++;
      mi->used = ++h->tick;
      pthread_mutex_unlock(&h->mu);
      *out = mi;
      return 0;
    }
  }
  pthread_mutex_unlock(&h->mu);
  minfo *mi = NULL;
  int rc = info_build(j, &mi);
  if (rc)
    return rc;
  minfo *drop = NULL;
  pthread_mutex_lock(&h->mu);
  mi->refs = 1;
  mi->used = ++h->tick;
  /* another worker may have built it meanwhile: keep one */
  bool dup = false;
  for (int i = 0; i < h->ncache && !dup; i++)
    dup = h->cache[i]->index == j->index && !strcmp(h->cache[i]->hash, j->hash);
  if (!dup) {
    if (h->ncache == CACHE_MAX) {
      int lru = 0;
      for (int i = 1; i < h->ncache; i++)
        if (h->cache[i]->used < h->cache[lru]->used)
          lru = i;
      minfo *old = h->cache[lru];
      old->cached = false;
      if (old->refs == 0)
        drop = old;
      h->cache[lru] = h->cache[--h->ncache];
    }
    mi->cached = true;
    h->cache[h->ncache++] = mi;
  }
  pthread_mutex_unlock(&h->mu);
  minfo_free(drop);
  *out = mi;
  return 0;
}

/* -------------------------------------------------------- playlists --- */

static const char *codecs_audio(const track *t) {
  if (!t->copy)
    return "mp4a.40.2";
  if (t->codec == AV_CODEC_ID_MP3)
    return "mp4a.40.34";
  if (t->profile == FF_PROFILE_AAC_HE)
    return "mp4a.40.5";
  if (t->profile == FF_PROFILE_AAC_HE_V2)
    return "mp4a.40.29";
  return "mp4a.40.2";
}

static const char *lang_attr(const track *t, char *buf, size_t n) {
  if (!t->lang[0])
    return "";
  snprintf(buf, n, ",LANGUAGE=\"%s\"", t->lang);
  return buf;
}

static void track_name(const track *t, const char *kind, int i, char *buf,
                       size_t n) {
  if (t->name[0] && t->lang[0])
    snprintf(buf, n, "%s (%s)", t->name, t->lang);
  else if (t->name[0] || t->lang[0])
    snprintf(buf, n, "%s", t->name[0] ? t->name : t->lang);
  else
    snprintf(buf, n, "%s %d", kind, i + 1);
}

/* fMP4 segments for J's playlists? HEVC and AV1 by default (hls.js and
 * Apple play HEVC only from fMP4; MPEG-TS cannot carry AV1), H.264 when
 * asked with ?fmp4=1; ?fmp4=0 keeps HEVC in MPEG-TS for old clients. */
static bool use_fmp4(const job *j, const minfo *mi) {
  if (mi->vcodec == AV_CODEC_ID_AV1)
    return true;
  if (j->fmp4 >= 0)
    return j->fmp4 == 1;
  return mi->vcodec != AV_CODEC_ID_H264;
}

static void playlist_master(job *j, const minfo *mi, sbuf *s) {
  char lang[40], name[96];
  /* an explicit choice travels to the media playlists */
  const char *f = j->fmp4 == 1 ? "&fmp4=1" : j->fmp4 == 0 ? "&fmp4=0" : "";
  sb_printf(s, "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-INDEPENDENT-SEGMENTS\n",
            use_fmp4(j, mi) ? 7 : 4);
  bool groups = mi->naudio > 1;
  for (int i = 0; groups && i < mi->naudio; i++) {
    const track *t = &mi->audio[i];
    track_name(t, "Audio", i, name, sizeof name);
    sb_printf(s,
              "#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aud\",NAME=\"%s\"%s,"
              "DEFAULT=%s,AUTOSELECT=YES,CHANNELS=\"2\","
              "URI=\"audio.m3u8?audio=%d%s&key=%s\"\n",
              name, lang_attr(t, lang, sizeof lang),
              i == mi->def_audio ? "YES" : "NO", i, f, j->key);
  }
  for (int i = 0; i < mi->nsubs; i++) {
    const track *t = &mi->subs[i];
    track_name(t, "Subtitles", i, name, sizeof name);
    sb_printf(s,
              "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"%s\"%s,"
              "DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,"
              "URI=\"subs-%d.m3u8?key=%s\"\n",
              name, lang_attr(t, lang, sizeof lang), i, j->key);
  }
  int64_t bw = mi->bitrate > 0 ? mi->bitrate : 5000000;
  if (mi->naudio && !mi->audio[mi->def_audio].copy)
    bw += AAC_BITRATE;
  sb_printf(s, "#EXT-X-STREAM-INF:BANDWIDTH=%" PRId64, bw);
  if (mi->vcodecs[0]) {
    sb_printf(s, ",CODECS=\"%s", mi->vcodecs);
    if (mi->naudio)
      sb_printf(s, ",%s", codecs_audio(&mi->audio[mi->def_audio]));
    sb_printf(s, "\"");
  }
  if (mi->width > 0 && mi->height > 0)
    sb_printf(s, ",RESOLUTION=%dx%d", mi->width, mi->height);
  if (groups)
    sb_printf(s, ",AUDIO=\"aud\"");
  if (mi->nsubs)
    sb_printf(s, ",SUBTITLES=\"subs\"");
  /* one audio track rides in the video segments; several are renditions */
  sb_printf(s, "\nvideo.m3u8?audio=%d%s&key=%s\n",
            groups || !mi->naudio ? -1 : mi->def_audio, f, j->key);
}

/* A VOD media playlist: segment K is NAME-K.EXT?QUERY&key=KEY (QUERY
 * may be ""); MAP, when not NULL, is the fMP4 initialization segment. */
static void playlist_media(const minfo *mi, sbuf *s, const char *name,
                           const char *ext, const char *query, const char *key,
                           const char *map) {
  double maxd = 1;
  for (int k = 0; k < mi->nseg; k++)
    if (seg_dur(mi, k) > maxd)
      maxd = seg_dur(mi, k);
  const char *amp = query[0] ? "&" : "";
  sb_printf(s,
            "#EXTM3U\n#EXT-X-VERSION:%d\n#EXT-X-PLAYLIST-TYPE:VOD\n"
            "#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n",
            map ? 7 : 3, (int)(maxd + 0.999));
  if (strcmp(ext, "vtt") != 0)
    sb_printf(s, "#EXT-X-INDEPENDENT-SEGMENTS\n");
  if (map)
    sb_printf(s, "#EXT-X-MAP:URI=\"%s?%s%skey=%s\"\n", map, query, amp,
              key);
  for (int k = 0; k < mi->nseg; k++) {
    sb_printf(s, "#EXTINF:%.3f,\n", seg_dur(mi, k));
    sb_printf(s, "%s-%d.%s?%s%skey=%s\n", name, k, ext, query, amp, key);
  }
  sb_printf(s, "#EXT-X-ENDLIST\n");
}

/* --------------------------------------------------------- segments --- */

/* Audio decode → stereo 48 kHz float → AAC. */
typedef struct xcode {
  AVCodecContext *dec, *enc;
  SwrContext *swr;
  AVAudioFifo *fifo;
  AVFrame *in, *out;
  AVPacket *pkt;
  int64_t next;  /* pts of the next encoder frame, 1/AAC_RATE */
  int64_t first; /* pts of the first one */
  bool trim;     /* drop the encoder's priming packet (not the first segment) */
  AVRational tb;
  AVFormatContext *o;
  AVStream *ost;
} xcode;

static void xcode_free(xcode *x) {
  avcodec_free_context(&x->dec);
  avcodec_free_context(&x->enc);
  swr_free(&x->swr);
  if (x->fifo)
    av_audio_fifo_free(x->fifo);
  x->fifo = NULL;
  av_frame_free(&x->in);
  av_frame_free(&x->out);
  av_packet_free(&x->pkt);
}

/* Sets up the decoder for ST and the AAC encoder feeding OST. 0 or AVERROR. */
static int xcode_init(xcode *x, AVStream *st, AVFormatContext *o,
                      AVStream *ost) {
  memset(x, 0, sizeof *x);
  x->o = o;
  x->ost = ost;
  x->tb = st->time_base;
  x->next = AV_NOPTS_VALUE;
  const AVCodec *dc = avcodec_find_decoder(st->codecpar->codec_id);
  const AVCodec *ec = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!dc || !ec)
    return AVERROR_DECODER_NOT_FOUND;
  x->dec = avcodec_alloc_context3(dc);
  x->enc = avcodec_alloc_context3(ec);
  x->in = av_frame_alloc();
  x->out = av_frame_alloc();
  x->pkt = av_packet_alloc();
  x->fifo = av_audio_fifo_alloc(AV_SAMPLE_FMT_FLTP, 2, 4096);
  if (!x->dec || !x->enc || !x->in || !x->out || !x->pkt || !x->fifo)
    return AVERROR(ENOMEM);
  int rc = avcodec_parameters_to_context(x->dec, st->codecpar);
  if (rc < 0)
    return rc;
  x->dec->pkt_timebase = st->time_base;
  if ((rc = avcodec_open2(x->dec, dc, NULL)) < 0)
    return rc;
  x->enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
  x->enc->sample_rate = AAC_RATE;
  av_channel_layout_default(&x->enc->ch_layout, 2);
  x->enc->bit_rate = AAC_BITRATE;
  x->enc->time_base = (AVRational){1, AAC_RATE};
  if ((rc = avcodec_open2(x->enc, ec, NULL)) < 0)
    return rc;
  rc = avcodec_parameters_from_context(ost->codecpar, x->enc);
  ost->time_base = x->enc->time_base;
  return rc;
}

static int xcode_drain_enc(xcode *x) {
  int rc;
  while ((rc = avcodec_receive_packet(x->enc, x->pkt)) == 0) {
    /* The priming packet overlaps the previous segment's last frame:
     * players would see two frames at one time. */
    if (x->trim && x->pkt->pts != AV_NOPTS_VALUE && x->pkt->pts < x->first) {
      av_packet_unref(x->pkt);
      continue;
    }
    av_packet_rescale_ts(x->pkt, x->enc->time_base, x->ost->time_base);
    x->pkt->stream_index = x->ost->index;
    if ((rc = av_interleaved_write_frame(x->o, x->pkt)) < 0)
      return rc;
  }
  return rc == AVERROR(EAGAIN) || rc == AVERROR_EOF ? 0 : rc;
}

/* Encodes whole frames from the FIFO (and the rest when FLUSH). */
static int xcode_encode(xcode *x, bool flush) {
  int fs = x->enc->frame_size > 0 ? x->enc->frame_size : 1024;
  int rc;
  while (av_audio_fifo_size(x->fifo) >= fs ||
         (flush && av_audio_fifo_size(x->fifo) > 0)) {
    int n = FFMIN(fs, av_audio_fifo_size(x->fifo));
    av_frame_unref(x->out);
    x->out->nb_samples = n;
    x->out->format = AV_SAMPLE_FMT_FLTP;
    x->out->sample_rate = AAC_RATE;
    av_channel_layout_copy(&x->out->ch_layout, &x->enc->ch_layout);
    if ((rc = av_frame_get_buffer(x->out, 0)) < 0)
      return rc;
    if (av_audio_fifo_read(x->fifo, (void **)x->out->data, n) != n)
      return AVERROR(EIO);
    x->out->pts = x->next;
    x->next += n;
    if ((rc = avcodec_send_frame(x->enc, x->out)) < 0)
      return rc;
    if ((rc = xcode_drain_enc(x)) < 0)
      return rc;
  }
  if (flush) {
    avcodec_send_frame(x->enc, NULL);
    return xcode_drain_enc(x);
  }
  return 0;
}

/* Resamples FRAME (NULL: the resampler's tail) into the FIFO. */
static int xcode_resample(xcode *x, const AVFrame *f) {
  if (!x->swr) {
    if (!f)
      return 0;
    AVChannelLayout in = {0};
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC ||
        f->ch_layout.nb_channels == 0)
      av_channel_layout_default(&in, f->ch_layout.nb_channels
                                         ? f->ch_layout.nb_channels
                                         : x->dec->ch_layout.nb_channels);
    else
      av_channel_layout_copy(&in, &f->ch_layout);
    int rc = swr_alloc_set_opts2(
        &x->swr, &x->enc->ch_layout, AV_SAMPLE_FMT_FLTP, AAC_RATE, &in,
        (enum AVSampleFormat)f->format, f->sample_rate, 0, NULL);
    av_channel_layout_uninit(&in);
    if (rc < 0 || (rc = swr_init(x->swr)) < 0)
      return rc;
  }
  int max = swr_get_out_samples(x->swr, f ? f->nb_samples : 0);
  if (max <= 0)
    return 0;
  uint8_t **buf = NULL;
  int rc = av_samples_alloc_array_and_samples(&buf, NULL, 2, max,
                                              AV_SAMPLE_FMT_FLTP, 0);
  if (rc < 0)
    return rc;
  int got = swr_convert(x->swr, buf, max, f ? (const uint8_t **)f->data : NULL,
                        f ? f->nb_samples : 0);
  if (got > 0 && av_audio_fifo_write(x->fifo, (void **)buf, got) < got)
    got = AVERROR(ENOMEM);
  av_freep(&buf[0]);
  av_freep(&buf);
  return got < 0 ? got : 0;
}

/* Decodes PKT (NULL: flush) and encodes what comes out. */
static int xcode_packet(xcode *x, const AVPacket *pkt) {
  int rc = avcodec_send_packet(x->dec, pkt);
  if (rc < 0 && rc != AVERROR_EOF)
    return rc == AVERROR_INVALIDDATA ? 0 : rc; /* skip a broken packet */
  while ((rc = avcodec_receive_frame(x->dec, x->in)) == 0) {
    if (x->next == AV_NOPTS_VALUE) {
      int64_t t = x->in->best_effort_timestamp != AV_NOPTS_VALUE
                      ? x->in->best_effort_timestamp
                      : x->in->pts;
      x->next = t != AV_NOPTS_VALUE
                    ? av_rescale_q(t, x->tb, (AVRational){1, AAC_RATE})
                    : 0;
      x->first = x->next;
    }
    rc = xcode_resample(x, x->in);
    av_frame_unref(x->in);
    if (rc < 0 || (rc = xcode_encode(x, false)) < 0)
      return rc;
  }
  if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF)
    return 0;
  return rc == AVERROR_INVALIDDATA ? 0 : rc;
}

static int xcode_finish(xcode *x) {
  int rc = xcode_packet(x, NULL);
  if (rc >= 0 && x->next != AV_NOPTS_VALUE)
    rc = xcode_resample(x, NULL);
  if (rc >= 0 && x->next != AV_NOPTS_VALUE)
    rc = xcode_encode(x, true);
  return rc;
}

/* A packet's time on the file clock (µs), or AV_NOPTS_VALUE. */
static int64_t pkt_us(const AVPacket *p, const AVStream *st, bool pts_first) {
  int64_t t = pts_first ? (p->pts != AV_NOPTS_VALUE ? p->pts : p->dts)
                        : (p->dts != AV_NOPTS_VALUE ? p->dts : p->pts);
  return t == AV_NOPTS_VALUE ? t : av_rescale_q(t, st->time_base, US);
}

/* Matroska stores PTS only; with B-frames libavformat derives DTS late
 * (the first packets after a seek have none) or not at all (HEVC). Derive
 * them the same way in every segment: keep the DELAY+1 latest PTS, each
 * packet replaces the smallest and its DTS is the new smallest; while the
 * window still has holes, step back from the keyframe's PTS by whole
 * frames. Never go backwards, never past the PTS. */
#define DTS_WIN 17
typedef struct dtsgen {
  bool on;
  int delay, n;
  int64_t fd, last, first;
  int64_t win[DTS_WIN];
} dtsgen;

static void dts_init(dtsgen *g, const AVStream *st, const minfo *mi) {
  memset(g, 0, sizeof *g);
  g->on = mi->pts_index && mi->video_delay > 0;
  g->delay = FFMIN(mi->video_delay, DTS_WIN - 1);
  for (int i = 0; i < DTS_WIN; i++)
    g->win[i] = INT64_MIN;
  AVRational fr =
      st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
  g->fd = fr.num > 0 ? av_rescale_q(1, av_inv_q(fr), st->time_base) : 0;
  if (g->fd <= 0)
    g->fd = av_rescale_q(40000, US, st->time_base);
  if (g->fd <= 0)
    g->fd = 1;
  g->last = AV_NOPTS_VALUE;
}

static void dts_fix(dtsgen *g, AVPacket *p) {
  if (!g->on || p->pts == AV_NOPTS_VALUE)
    return;
  if (g->n == 0)
    g->first = p->pts;
  int w = g->delay + 1, lo = 0;
  for (int i = 1; i < w; i++)
    if (g->win[i] < g->win[lo])
      lo = i;
  g->win[lo] = p->pts;
  int64_t dts = g->win[0];
  for (int i = 1; i < w; i++)
    if (g->win[i] < dts)
      dts = g->win[i];
  if (dts == INT64_MIN)
    dts = g->first - (int64_t)(g->delay - g->n) * g->fd;
  if (g->last != AV_NOPTS_VALUE && dts <= g->last)
    dts = g->last + 1;
  if (dts > p->pts)
    dts = p->pts;
  g->n++;
  g->last = dts;
  p->dts = dts;
}

/* Seeks to segment K's keyframe. 0 or AVERROR. */
static int seek_seg(AVFormatContext *fmt, const minfo *mi, int k) {
  if (k == 0)
    return 0; /* right after the header: no need for the index */
  AVStream *st = fmt->streams[mi->vstream];
  int64_t ts = av_rescale_q(mi->cut[k], US, st->time_base);
  int rc = av_seek_frame(fmt, mi->vstream, ts, AVSEEK_FLAG_BACKWARD);
  if (rc < 0)
    rc = av_seek_frame(fmt, mi->vstream, ts, 0);
  return rc;
}

/* Seeks S to J's segment; on failure fills J's error and returns false. */
static bool seek_job(job *j, src *s, const minfo *mi) {
  int rc = seek_seg(s->fmt, mi, j->seg);
  if (rc >= 0 || j->seg == 0)
    return true;
  if (s->err || interrupted(j))
    job_fail_errno(j, src_errno(s, j, rc), "seeking");
  else
    job_fail(j, 500, "cannot seek to segment %d: %s", j->seg, av_err2str(rc));
  return false;
}

/* The player's decoders check MPEG-TS continuity counters across segments;
 * each segment's muxer starts them at 0. Flag the first packet of every PID
 * that has an adaptation field (the video's keyframe, the PCR) as a
 * discontinuity, which is what a fresh counter is. */
static void ts_mark_discontinuity(uint8_t *p, size_t len) {
  static const size_t words = 8192 / 64;
  uint64_t seen[8192 / 64];
  memset(seen, 0, words * sizeof seen[0]);
  for (size_t off = 0; off + 188 <= len; off += 188) {
    uint8_t *t = p + off;
    if (t[0] != 0x47)
      break;
    int pid = ((t[1] & 0x1f) << 8) | t[2];
    if (seen[pid / 64] & (1ULL << (pid % 64)))
      continue;
    seen[pid / 64] |= 1ULL << (pid % 64);
    if ((t[3] & 0x20) && t[4] > 0)
      t[5] |= 0x80;
  }
}

static int output_open(AVFormatContext **o, const char *format) {
  int rc = avformat_alloc_output_context2(o, NULL, format, NULL);
  if (rc < 0)
    return rc;
  if ((rc = avio_open_dyn_buf(&(*o)->pb)) < 0) {
    avformat_free_context(*o);
    *o = NULL;
  }
  return rc;
}

static void output_free(AVFormatContext **o) {
  if (!*o)
    return;
  if ((*o)->pb) {
    uint8_t *b = NULL;
    avio_close_dyn_buf((*o)->pb, &b);
    av_free(b);
    (*o)->pb = NULL;
  }
  avformat_free_context(*o);
  *o = NULL;
}

/* Segment K (K_SEG) or the fMP4 initialization segment (K_INIT).
 *
 * fMP4: the mp4 muxer writes ftyp+moov (empty, with mvex) at the header and
 * one moof+mdat for everything written (frag_custom, no trailer). The init
 * segment is that header alone; a media segment is the same header, whose
 * bytes are dropped, then the fragment. The header depends only on the
 * file's streams, so init.mp4 fits every segment. frag_discont with no edit
 * list makes each track's tfdt its first DTS on the output clock, the same
 * clock as the MPEG-TS path; the fragment's sequence number is K + 1. */
static void seg_make(job *j, const minfo *mi) {
  src s;
  bool init = j->kind == K_INIT, fmp4 = init || j->m4s;
  const char *mux = fmp4 ? "fMP4" : "MPEG-TS";
  int64_t hdr_len = 0;
  AVFormatContext *o = NULL;
  AVPacket *pkt = NULL;
  xcode x = {0};
  bool have_x = false;
  const track *at = j->audio >= 0 ? &mi->audio[j->audio] : NULL;
  int k = j->seg;
  int rc = 0;
  if (!src_open_job(j, &s))
    return;
  AVFormatContext *fmt = s.fmt;
  if ((unsigned)mi->vstream >= fmt->nb_streams ||
      (at && (unsigned)at->stream >= fmt->nb_streams)) {
    job_fail(j, 500, "the file's streams changed");
    goto out;
  }
  AVStream *vst = fmt->streams[mi->vstream];
  AVStream *ast = at ? fmt->streams[at->stream] : NULL;
  /* The B-frame delay tells the demuxer how to derive DTS from PTS. */
  if (mi->video_delay && !vst->codecpar->video_delay)
    vst->codecpar->video_delay = mi->video_delay;
  src_keep(&s, vst, ast);
  if ((rc = output_open(&o, fmp4 ? "mp4" : "mpegts")) < 0) {
    job_fail(j, 500, "cannot set up the %s muxer: %s", mux, av_err2str(rc));
    goto out;
  }
  AVStream *ov = NULL, *oa = NULL;
  int strip_ls = -1; /* NAL length size when stripping parameter sets */
  if (j->video) {
    ov = avformat_new_stream(o, NULL);
    if (!ov || avcodec_parameters_copy(ov->codecpar, vst->codecpar) < 0) {
      job_fail(j, 500, "out of memory");
      goto out;
    }
    /* Apple's players take HEVC as hvc1 only (parameter sets in hvcC);
     * the mp4 muxer would pick hev1 */
    ov->codecpar->codec_tag =
        fmp4 && mi->vcodec == AV_CODEC_ID_HEVC ? MKTAG('h', 'v', 'c', '1') : 0;
    ov->time_base = vst->time_base;
    /* hvc1 wants the parameter sets in hvcC only: the muxer drops in-band
     * ones from Annex B input itself, not from hvcC-layout packets (MKV,
     * MP4), so those are stripped here */
    if (ov->codecpar->codec_tag == MKTAG('h', 'v', 'c', '1'))
      strip_ls = rg_hvcc_length_size(vst->codecpar->extradata,
                                     vst->codecpar->extradata_size);
  }
  if (at) {
    oa = avformat_new_stream(o, NULL);
    if (!oa) {
      job_fail(j, 500, "out of memory");
      goto out;
    }
    if (at->copy) {
      avcodec_parameters_copy(oa->codecpar, ast->codecpar);
      oa->codecpar->codec_tag = 0;
      oa->time_base = ast->time_base;
    } else {
      have_x = true;
      rc = xcode_init(&x, ast, o, oa);
      x.trim = k > 0;
      if (rc < 0) {
        job_fail(j, 415, "cannot transcode the %s audio to AAC: %s",
                 avcodec_get_name(at->codec), av_err2str(rc));
        goto out;
      }
    }
  }
  o->output_ts_offset = TS_OFFSET_US - mi->start_us;
  o->avoid_negative_ts = AVFMT_AVOID_NEG_TS_DISABLED;
  AVDictionary *opts = NULL;
  if (fmp4) {
    av_dict_set(&opts, "movflags",
                "frag_custom+empty_moov+default_base_moof+frag_discont+"
                "skip_trailer",
                0);
    av_dict_set(&opts, "use_editlist", "0", 0);
    av_dict_set(&opts, "video_track_timescale", "90000", 0);
    av_dict_set_int(&opts, "fragment_index", k + 1, 0);
  } else {
    av_dict_set(&opts, "mpegts_copyts", "1", 0);
  }
  rc = avformat_write_header(o, &opts);
  av_dict_free(&opts);
  if (rc < 0) {
    job_fail(j, 500, "the %s muxer refused the streams: %s", mux,
             av_err2str(rc));
    goto out;
  }
  hdr_len = avio_tell(o->pb);
  if (init) {
    uint8_t *buf = NULL;
    int len = avio_close_dyn_buf(o->pb, &buf);
    o->pb = NULL;
    j->body = rg_malloc(len > 0 ? (size_t)len : 1);
    if (len > 0)
      memcpy(j->body, buf, (size_t)len);
    av_free(buf);
    j->len = len > 0 ? (size_t)len : 0;
    j->code = 200;
    j->ctype = "video/mp4";
    goto out;
  }
  if (!seek_job(j, &s, mi))
    goto out;
  int64_t lo = seg_lo(mi, k), hi = seg_hi(mi, k);
  bool vstarted = false, vdone = false, adone = !at;
  int64_t nv = 0, na = 0;
  dtsgen dg;
  dts_init(&dg, vst, mi);
  pkt = av_packet_alloc();
  while (pkt) {
    rc = av_read_frame(fmt, pkt);
    if (rc < 0)
      break;
    int64_t t;
    if (pkt->stream_index == vst->index) {
      t = pkt_us(pkt, vst, mi->pts_index);
      bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
      if (!vstarted && key && t != AV_NOPTS_VALUE &&
          (lo == INT64_MIN || t >= lo - TOL_US))
        vstarted = true;
      if (vstarted && key && hi != INT64_MAX && t != AV_NOPTS_VALUE &&
          t >= hi - TOL_US)
        vdone = true;
      if (vstarted && !vdone && ov) {
        dts_fix(&dg, pkt);
        /* fMP4 takes the last sample's duration from the packet */
        if (pkt->duration <= 0)
          pkt->duration = dg.fd;
        pkt->stream_index = ov->index;
        av_packet_rescale_ts(pkt, vst->time_base, ov->time_base);
        pkt->pos = -1;
        long left = pkt->size;
        /* encoders repeat the headers before random access points only:
         * keyframes are all that need a writable copy */
        if (strip_ls > 0 && key) {
          if ((rc = av_packet_make_writable(pkt)) < 0)
            break;
          left = rg_hevc_strip_param_sets(pkt->data, (size_t)pkt->size,
                                          strip_ls);
          if (left > 0 && left < pkt->size)
            av_shrink_packet(pkt, (int)left);
        }
        if (left != 0) { /* 0: parameter sets only, nothing to write */
          if ((rc = av_interleaved_write_frame(o, pkt)) < 0)
            break;
          nv++;
        }
      }
      /* an audio track that ends early must not make us read on */
      if (vdone && t != AV_NOPTS_VALUE && t > hi + 10000000)
        adone = true;
    } else if (ast && pkt->stream_index == ast->index) {
      t = pkt_us(pkt, ast, true);
      if (t == AV_NOPTS_VALUE || (lo != INT64_MIN && t < lo - TOL_US)) {
        av_packet_unref(pkt);
        continue;
      }
      if (hi != INT64_MAX && t >= hi - TOL_US) {
        adone = true;
      } else if (at->copy) {
        if (pkt->duration <= 0 && ast->codecpar->sample_rate > 0) {
          int n = av_get_audio_frame_duration2(ast->codecpar, pkt->size);
          if (n > 0)
            pkt->duration = av_rescale_q(
                n, (AVRational){1, ast->codecpar->sample_rate}, ast->time_base);
        }
        pkt->stream_index = oa->index;
        av_packet_rescale_ts(pkt, ast->time_base, oa->time_base);
        pkt->pos = -1;
        if ((rc = av_interleaved_write_frame(o, pkt)) < 0)
          break;
        na++;
      } else {
        if ((rc = xcode_packet(&x, pkt)) < 0)
          break;
        na++;
      }
    }
    av_packet_unref(pkt);
    if (vdone && adone)
      break;
  }
  if (s.err || interrupted(j)) {
    job_fail_errno(j, src_errno(&s, j, rc), "reading the segment");
    goto out;
  }
  if (rc < 0 && rc != AVERROR_EOF) {
    job_fail(j, 500, "remuxing segment %d failed: %s", k, av_err2str(rc));
    goto out;
  }
  if (have_x && (rc = xcode_finish(&x)) < 0) {
    job_fail(j, 500, "encoding the audio of segment %d failed: %s", k,
             av_err2str(rc));
    goto out;
  }
  if (!vstarted) {
    job_fail(j, 500, "segment %d: no keyframe found where the index says", k);
    goto out;
  }
  if ((rc = av_write_trailer(o)) < 0) {
    job_fail(j, 500, "finishing segment %d failed: %s", k, av_err2str(rc));
    goto out;
  }
  uint8_t *buf = NULL;
  int len = avio_close_dyn_buf(o->pb, &buf);
  o->pb = NULL;
  /* fMP4: the fragment without the header (ftyp+moov, i.e. init.mp4) */
  int64_t from = fmp4 && hdr_len > 0 && hdr_len <= len ? hdr_len : 0;
  j->len = len > from ? (size_t)(len - from) : 0;
  j->body = rg_malloc(j->len ? j->len : 1);
  if (j->len)
    memcpy(j->body, buf + from, j->len);
  av_free(buf);
  if (!fmp4)
    ts_mark_discontinuity(j->body, j->len);
  j->code = 200;
  j->ctype = fmp4 ? "video/mp4" : "video/mp2t";
  rg_debug("%s/%d seg %d: %" PRId64 " video + %" PRId64
           " audio packets, %zu bytes out, %" PRId64 " bytes read",
           j->hash, j->index, k, nv, na, j->len, s.nread);
out:
  if (have_x)
    xcode_free(&x);
  av_packet_free(&pkt);
  output_free(&o);
  src_done(j, &s);
}

/* ------------------------------------------------------------ WebVTT --- */

static void vtt_time(sbuf *s, int64_t us) {
  if (us < 0)
    us = 0;
  int64_t ms = us / 1000;
  sb_printf(s, "%02" PRId64 ":%02d:%02d.%03d", ms / 3600000,
            (int)(ms / 60000 % 60), (int)(ms / 1000 % 60), (int)(ms % 1000));
}

/* Plain text of an ASS event ("ReadOrder,Layer,Style,…,Text"): the last
 * resort when the WebVTT encoder refuses it. */
static void ass_plain(sbuf *s, const char *ass) {
  const char *p = ass;
  for (int commas = 0; *p && commas < 8; p++)
    if (*p == ',')
      commas++;
  if (!*p)
    p = ass;
  for (; *p; p++) {
    if (*p == '{') {
      const char *e = strchr(p, '}');
      if (e) {
        p = e;
        continue;
      }
    }
    if (*p == '\\' && (p[1] == 'N' || p[1] == 'n')) {
      rg_body_add(s, "\n", 1);
      p++;
    } else if (*p == '\\' && p[1] == 'h') {
      rg_body_add(s, " ", 1);
      p++;
    } else if (*p != '\r') {
      rg_body_add(s, p, 1);
    }
  }
}

static void vtt_make(job *j, const minfo *mi) {
  src s;
  AVCodecContext *dec = NULL, *enc = NULL;
  AVPacket *pkt = NULL;
  sbuf out = {0};
  const track *st_ = &mi->subs[j->track];
  int k = j->seg;
  int rc = 0;
  if (!src_open_job(j, &s))
    return;
  AVFormatContext *fmt = s.fmt;
  if ((unsigned)st_->stream >= fmt->nb_streams) {
    job_fail(j, 500, "the file's streams changed");
    goto out;
  }
  AVStream *sst = fmt->streams[st_->stream];
  AVStream *vst = fmt->streams[mi->vstream];
  src_keep(&s, vst, sst);
  const AVCodec *dc = avcodec_find_decoder(sst->codecpar->codec_id);
  const AVCodec *ec = avcodec_find_encoder(AV_CODEC_ID_WEBVTT);
  dec = dc ? avcodec_alloc_context3(dc) : NULL;
  if (!dec || avcodec_parameters_to_context(dec, sst->codecpar) < 0) {
    job_fail(j, 415, "no decoder for the %s subtitles",
             avcodec_get_name(sst->codecpar->codec_id));
    goto out;
  }
  dec->pkt_timebase = sst->time_base;
  if ((rc = avcodec_open2(dec, dc, NULL)) < 0) {
    job_fail(j, 415, "cannot decode the %s subtitles: %s",
             avcodec_get_name(sst->codecpar->codec_id), av_err2str(rc));
    goto out;
  }
  if (ec && dec->subtitle_header) {
    enc = avcodec_alloc_context3(ec);
    if (enc) {
      enc->subtitle_header = av_mallocz((size_t)dec->subtitle_header_size + 1);
      if (enc->subtitle_header)
        memcpy(enc->subtitle_header, dec->subtitle_header,
               (size_t)dec->subtitle_header_size);
      enc->subtitle_header_size = dec->subtitle_header_size;
      enc->time_base = (AVRational){1, 1000};
      if (avcodec_open2(enc, ec, NULL) < 0)
        avcodec_free_context(&enc);
    }
  }
  if (!seek_job(j, &s, mi))
    goto out;
  sb_printf(&out,
            "WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:%" PRId64 ",LOCAL:00:00:00.000\n\n",
            (int64_t)(TS_OFFSET_US * 9 / 100));
  int64_t lo = seg_lo(mi, k), hi = seg_hi(mi, k);
  int cues = 0;
  pkt = av_packet_alloc();
  uint8_t *text = av_malloc(64 * 1024);
  while (pkt && text && (rc = av_read_frame(fmt, pkt)) >= 0) {
    if (pkt->stream_index == vst->index) {
      int64_t t = pkt_us(pkt, vst, true);
      bool past = hi != INT64_MAX && t != AV_NOPTS_VALUE && t > hi + 1000000;
      av_packet_unref(pkt);
      if (past)
        break;
      continue;
    }
    int64_t t = pkt_us(pkt, sst, true);
    if (t == AV_NOPTS_VALUE || (lo != INT64_MIN && t < lo) ||
        (hi != INT64_MAX && t >= hi)) {
      av_packet_unref(pkt);
      continue;
    }
    int64_t end = pkt->duration > 0
                      ? t + av_rescale_q(pkt->duration, sst->time_base, US)
                      : AV_NOPTS_VALUE;
    AVSubtitle sub;
    int got = 0;
    if (avcodec_decode_subtitle2(dec, &sub, &got, pkt) >= 0 && got) {
      if (end == AV_NOPTS_VALUE)
        end = t + (sub.end_display_time && sub.end_display_time != UINT32_MAX
                       ? (int64_t)sub.end_display_time * 1000
                       : 3000000);
      int64_t begin = t + (int64_t)sub.start_display_time * 1000;
      sbuf cue = {0};
      int n =
          enc ? avcodec_encode_subtitle(enc, text, 64 * 1024 - 1, &sub) : -1;
      if (n > 0) {
        rg_body_add(&cue, text, (size_t)n);
      } else {
        for (unsigned r = 0; r < sub.num_rects; r++)
          if (sub.rects[r]->ass) {
            if (cue.len)
              rg_body_add(&cue, "\n", 1);
            ass_plain(&cue, sub.rects[r]->ass);
          }
      }
      while (cue.len &&
             (cue.p[cue.len - 1] == '\n' || cue.p[cue.len - 1] == ' '))
        cue.p[--cue.len] = 0;
      if (cue.len) {
        vtt_time(&out, begin - mi->start_us);
        sb_printf(&out, " --> ");
        vtt_time(&out, end - mi->start_us);
        /* a blank line would end the cue early */
        for (size_t i = 0; i + 1 < cue.len; i++)
          if (cue.p[i] == '\n' && cue.p[i + 1] == '\n')
            cue.p[i + 1] = ' ';
        sb_printf(&out, "\n%s\n\n", cue.p);
        cues++;
      }
      free(cue.p);
      avsubtitle_free(&sub);
    }
    av_packet_unref(pkt);
  }
  av_free(text);
  if (s.err || interrupted(j)) {
    job_fail_errno(j, src_errno(&s, j, rc), "reading the subtitles");
    goto out;
  }
  j->code = 200;
  j->ctype = "text/vtt; charset=utf-8";
  j->body = (uint8_t *)out.p;
  j->len = out.len;
  out.p = NULL;
  rg_debug("%s/%d subs %d seg %d: %d cues, %" PRId64 " bytes read", j->hash,
           j->index, j->track, k, cues, s.nread);
out:
  free(out.p);
  av_packet_free(&pkt);
  avcodec_free_context(&dec);
  avcodec_free_context(&enc);
  src_done(j, &s);
}

/* ----------------------------------------------------------- workers --- */

static void job_run(job *j) {
  minfo *mi = NULL;
  int rc = info_get(j, &mi);
  if (rc) {
    if (!j->code)
      job_fail_errno(j, rc, "reading the file's header and index");
    return;
  }
  sbuf s = {0};
  int audio = j->audio == -2 ? (mi->naudio ? mi->def_audio : -1) : j->audio;
  if (audio >= mi->naudio) {
    job_fail(j, 404, "no audio track %d (the file has %d)", audio, mi->naudio);
    goto out;
  }
  j->audio = audio;
  if ((j->kind == K_SEG || j->kind == K_VTT) &&
      (j->seg < 0 || j->seg >= mi->nseg)) {
    job_fail(j, 404, "no segment %d (there are %d)", j->seg, mi->nseg);
    goto out;
  }
  if ((j->kind == K_SUBS_PL || j->kind == K_VTT) && j->track >= mi->nsubs) {
    job_fail(j, 404, "no subtitle track %d (the file has %d text tracks)",
             j->track, mi->nsubs);
    goto out;
  }
  bool f = use_fmp4(j, mi);
  const char *ext = f ? "m4s" : "ts", *map = f ? "init.mp4" : NULL;
  char q[64], name[32];
  switch (j->kind) {
  case K_MASTER:
    playlist_master(j, mi, &s);
    break;
  case K_VIDEO_PL:
    snprintf(q, sizeof q, "audio=%d", audio);
    playlist_media(mi, &s, "seg", ext, q, j->key, map);
    break;
  case K_AUDIO_PL:
    if (audio < 0) {
      job_fail(j, 404, "no audio track");
      goto out;
    }
    snprintf(q, sizeof q, "audio=%d&video=0", audio);
    playlist_media(mi, &s, "seg", ext, q, j->key, map);
    break;
  case K_SUBS_PL:
    snprintf(name, sizeof name, "subs-%d", j->track);
    playlist_media(mi, &s, name, "vtt", "", j->key, NULL);
    break;
  case K_SEG:
  case K_INIT:
    if (!j->video && audio < 0) {
      job_fail(j, 404, "a segment needs video or an audio track");
      goto out;
    }
    if (j->kind == K_SEG && !j->m4s && mi->vcodec == AV_CODEC_ID_AV1) {
      job_fail(j, 415, "AV1 cannot go into MPEG-TS: use seg-%d.m4s", j->seg);
      goto out;
    }
    seg_make(j, mi);
    goto out;
  case K_VTT:
    vtt_make(j, mi);
    goto out;
  }
  j->code = 200;
  j->ctype = "application/vnd.apple.mpegurl";
  j->body = (uint8_t *)s.p;
  j->len = s.len;
  s.p = NULL;
out:
  free(s.p);
  info_put(j->h, mi);
}

static void on_close(struct evhttp_connection *evcon, void *arg);

static void add_cors(struct evhttp_request *req) {
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
  evhttp_add_header(h, "Access-Control-Expose-Headers",
                    "Content-Length, X-Hls-Bytes-Read");
}

static void body_free(const void *data, size_t len, void *arg) {
  (void)len;
  (void)arg;
  free((void *)data);
}

/* Loop thread: sends the answer (unless the client left) and frees J. */
static void deliver(void *arg) {
  job *j = arg;
  struct evhttp_request *req = j->req;
  if (req) {
    evhttp_connection_set_closecb(j->evcon, NULL, NULL);
    j->req = NULL; /* CORS headers were set by rg_hls_route */
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    char n[32];
    snprintf(n, sizeof n, "%" PRId64, j->bytes_read);
    evhttp_add_header(h, "X-Hls-Bytes-Read", n);
    if (j->code == 200) {
      evhttp_add_header(h, "Content-Type", j->ctype);
      evhttp_add_header(h, "Cache-Control", "no-cache");
      struct evbuffer *b = evbuffer_new();
      if (j->len)
        evbuffer_add_reference(b, j->body, j->len, body_free, NULL);
      else
        free(j->body);
      j->body = NULL;
      evhttp_send_reply(req, 200, "OK", b);
      evbuffer_free(b);
    } else {
      if (j->code == 503)
        evhttp_add_header(h, "Retry-After", "2");
      rg_http_error(req, j->code ? j->code : 500, "%s",
                    j->err ? j->err : "internal error");
    }
    rg_debug("%s/%d %d in %" PRId64 " ms", j->hash, j->index, j->code,
             rg_now_ms() - j->t0);
  }
  job_free(j);
}

static void *worker(void *arg) {
  rg_hls *h = arg;
  pthread_mutex_lock(&h->mu);
  for (;;) {
    while (!h->head && !atomic_load(&h->stopping))
      pthread_cond_wait(&h->cv, &h->mu);
    job *j = h->head;
    if (!j)
      break;
    h->head = j->next;
    if (!h->head)
      h->tail = NULL;
    h->queued--;
    h->busy++;
    pthread_mutex_unlock(&h->mu);
    if (atomic_load(&h->stopping) || atomic_load(&j->gone))
      job_fail(j, 503, "cancelled");
    else
      job_run(j);
    if (rg_loop_call(deliver, j) != 0)
      job_free(j); /* the loop is gone, and its requests with it */
    pthread_mutex_lock(&h->mu);
    h->busy--;
    pthread_cond_broadcast(&h->cv);
  }
  pthread_mutex_unlock(&h->mu);
  return NULL;
}

/* Loop thread: the client left while its job was out. */
static void on_close(struct evhttp_connection *evcon, void *arg) {
  (void)evcon;
  job *j = arg;
  struct evhttp_request *req = j->req;
  atomic_store(&j->gone, true);
  j->req = NULL;
  j->evcon = NULL;
  /* libevent left a detached request to us: replying frees it */
  if (req && evhttp_request_get_connection(req) == NULL)
    evhttp_send_reply(req, 500, "Gone", NULL);
}

/* -------------------------------------------------------------- API --- */

rg_hls *rg_hls_new(rg_app *app, char **cause) {
  if (!avcodec_find_encoder(AV_CODEC_ID_AAC)) {
    *cause = rg_strdup("this libavcodec has no AAC encoder: HLS is off");
    return NULL;
  }
  rg_hls *h = rg_calloc(1, sizeof *h);
  h->app = app;
  h->tm = app->tm;
  h->timeout_s = app->conf && app->conf->read_timeout_s > 0
                     ? app->conf->read_timeout_s
                     : 30;
  pthread_mutex_init(&h->mu, NULL);
  pthread_cond_init(&h->cv, NULL);
  for (int i = 0; i < NWORKERS; i++) {
    int rc = pthread_create(&h->th[i], NULL, worker, h);
    if (rc) {
      *cause = rg_printf("cannot start an HLS worker thread: %s", strerror(rc));
      rg_hls_free(&h);
      return NULL;
    }
    h->nthreads++;
  }
  return h;
}

void rg_hls_free(rg_hls **hp) {
  rg_hls *h = *hp;
  if (!h)
    return;
  *hp = NULL;
  pthread_mutex_lock(&h->mu);
  atomic_store(&h->stopping, true);
  pthread_cond_broadcast(&h->cv);
  pthread_mutex_unlock(&h->mu);
  /* Workers may wait on reads that the loop serves, and hand back their
   * jobs through it: keep it turning until they are idle (bounded). */
  int64_t until = rg_now_ms() + STOP_WAIT_MS;
  bool idle = false;
  while (!idle) {
    pthread_mutex_lock(&h->mu);
    idle = h->busy == 0 && h->queued == 0;
    pthread_mutex_unlock(&h->mu);
    if (idle || rg_now_ms() > until)
      break;
    if (h->app && h->app->base)
      event_base_loop(h->app->base, EVLOOP_NONBLOCK | EVLOOP_ONCE);
    usleep(5000);
  }
  if (!idle) {
    /* a read still waits: leave the workers (and H) to the process's end */
    rg_warn("a worker is still busy at shutdown; not waiting for it");
    return;
  }
  for (int i = 0; i < h->nthreads; i++)
    pthread_join(h->th[i], NULL);
  if (h->app && h->app->base)
    event_base_loop(h->app->base, EVLOOP_NONBLOCK); /* the last deliveries */
  for (int i = 0; i < h->ncache; i++)
    minfo_free(h->cache[i]);
  pthread_mutex_destroy(&h->mu);
  pthread_cond_destroy(&h->cv);
  free(h);
}

/* Parses an integer query parameter; DEF when absent, "none" → -1. */
static bool query_int(struct evhttp_request *req, const char *name, int def,
                      int *out) {
  char *v = rg_http_query(req, name);
  *out = def;
  if (!v)
    return true;
  bool ok = true;
  if (strcmp(v, "none") == 0) {
    *out = -1;
  } else {
    char *end = NULL;
    long n = strtol(v, &end, 10);
    ok = end != v && !*end && n >= -1 && n < 10000;
    if (ok)
      *out = (int)n;
  }
  free(v);
  return ok;
}

/* "NAME" with one or two integers: "seg-%d.ts" etc. */
static bool name_match(const char *name, const char *fmt, int *a, int *b) {
  int n = -1;
  int got = b ? sscanf(name, fmt, a, b, &n) : sscanf(name, fmt, a, &n);
  return got == (b ? 2 : 1) && n >= 0 && name[n] == 0 && *a >= 0 &&
         (!b || *b >= 0);
}

void rg_hls_route(rg_app *app, struct evhttp_request *req, const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  add_cors(req);
  if (m == EVHTTP_REQ_OPTIONS) {
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Access-Control-Allow-Methods", "GET, HEAD");
    evhttp_add_header(h, "Access-Control-Allow-Headers", "X-Api-Key, Range");
    evhttp_add_header(h, "Access-Control-Max-Age", "600");
    evhttp_send_reply(req, 204, "No Content", NULL);
    return;
  }
  if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
    rg_http_error(req, 405, "use GET or HEAD");
    return;
  }
  if (!rg_http_stream_authorized(app, req)) {
    rg_http_error(req, 401,
                  "missing or wrong key: HLS URLs carry the stream key as "
                  "?key= (or use the API key)");
    return;
  }
  rg_hls *h = app->hls;
  if (!h) {
    rg_http_error(req, 503, "HLS is off (see the log at start)");
    return;
  }
  /* {hash}/{index}/{name} */
  const char *slash = strchr(path, '/');
  if (!slash || slash - path != 40) {
    rg_http_error(req, 404,
                  "not an HLS URL: /hls/{info_hash}/{index}/index.m3u8");
    return;
  }
  job *j = rg_calloc(1, sizeof *j);
  for (int i = 0; i < 40; i++)
    j->hash[i] =
        (char)(path[i] >= 'A' && path[i] <= 'F' ? path[i] + 32 : path[i]);
  char *endp = NULL;
  long index = strtol(slash + 1, &endp, 10);
  if (endp == slash + 1 || *endp != '/' || index < 0 || index > 1000000) {
    job_free(j);
    rg_http_error(req, 404, "bad file index");
    return;
  }
  const char *name = endp + 1;
  j->index = (int)index;
  j->video = true;
  j->audio = -2;
  int a = 0, b = 0, v = 1;
  bool ok = query_int(req, "audio", -2, &j->audio) &&
            query_int(req, "video", 1, &v) &&
            query_int(req, "fmp4", -1, &j->fmp4) && j->fmp4 <= 1;
  j->video = v != 0;
  if (!ok) {
    job_free(j);
    rg_http_error(req, 400, "bad audio=, video= or fmp4= (0 or 1) parameter");
    return;
  }
  if (strcmp(name, "index.m3u8") == 0 || strcmp(name, "master.m3u8") == 0) {
    j->kind = K_MASTER;
  } else if (strcmp(name, "video.m3u8") == 0) {
    j->kind = K_VIDEO_PL;
  } else if (strcmp(name, "audio.m3u8") == 0) {
    j->kind = K_AUDIO_PL;
  } else if (name_match(name, "seg-%d.ts%n", &a, NULL)) {
    j->kind = K_SEG;
    j->seg = a;
  } else if (name_match(name, "seg-%d.m4s%n", &a, NULL)) {
    j->kind = K_SEG;
    j->m4s = true;
    j->seg = a;
  } else if (strcmp(name, "init.mp4") == 0) {
    j->kind = K_INIT;
  } else if (name_match(name, "subs-%d.m3u8%n", &a, NULL)) {
    j->kind = K_SUBS_PL;
    j->track = a;
  } else if (name_match(name, "subs-%d-%d.vtt%n", &a, &b)) {
    j->kind = K_VTT;
    j->track = a;
    j->seg = b;
  } else {
    job_free(j);
    rg_http_error(req, 404,
                  "no such HLS resource: %s (index.m3u8, "
                  "video.m3u8, audio.m3u8, seg-K.ts, seg-K.m4s, init.mp4, "
                  "subs-S.m3u8, "
                  "subs-S-K.vtt)",
                  name);
    return;
  }
  rg_torrent *t = rg_tm_find(app->tm, j->hash);
  const rg_tinfo *ti = t ? rg_torrent_info(t) : NULL;
  if (!t) {
    rg_http_error(req, 404, "no torrent %s", j->hash);
    job_free(j);
    return;
  }
  if (!ti) {
    job_free(j);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "2");
    rg_http_error(req, 503, "the torrent's metadata is not known yet");
    return;
  }
  if (index >= ti->nfiles || ti->files[index].pad) {
    rg_http_error(req, 404, "torrent %s has no file %ld", j->hash, index);
    job_free(j);
    return;
  }
  j->h = h;
  char sk[33];
  rg_http_stream_key(app, sk); /* never the API key: playlists get shared */
  j->key = rg_strdup(sk);
  j->req = req;
  j->evcon = evhttp_request_get_connection(req);
  j->t0 = rg_now_ms();
  pthread_mutex_lock(&h->mu);
  bool full = h->queued >= QUEUE_MAX || atomic_load(&h->stopping);
  if (!full) {
    if (h->tail)
      h->tail->next = j;
    else
      h->head = j;
    h->tail = j;
    h->queued++;
    pthread_cond_signal(&h->cv);
  }
  pthread_mutex_unlock(&h->mu);
  if (full) {
    job_free(j);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    rg_http_error(req, 503, "too many HLS requests at once");
    return;
  }
  if (j->evcon)
    evhttp_connection_set_closecb(j->evcon, on_close, j);
}
