/* probe.c — see probe.h. libavformat reads through an AVIOContext whose
 * callbacks call the caller's read function; its interrupt callback polls
 * the caller's stop function, so a probe blocked on the swarm is abandoned
 * as soon as its current read returns.
 *
 * HDR: HDR10 and HLG come from the stream's transfer characteristic
 * (SMPTE 2084 / PQ, ARIB STD-B67); Dolby Vision from the DOVI configuration
 * record libavformat attaches to the stream (Matroska BlockAddIDExtraData,
 * MP4 dvcC/dvvC); HDR10+ only when a demuxer attaches dynamic HDR10+
 * metadata to the stream (its per-frame SEI is seen only by decoding). */
#include "config.h"

#include "probe.h"
#include "util.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dovi_meta.h>
#include <libavutil/mastering_display_metadata.h>
#include <libavutil/pixdesc.h>
#include <string.h>

#define IO_BUF 65536

typedef struct pio {
  int64_t size, pos;
  rg_tail_read_fn read;
  int (*stop)(void *);
  void *arg;
  int err; /* the last read error (-errno) */
} pio;

static int io_read(void *opaque, uint8_t *buf, int len) {
  pio *p = opaque;
  if (p->stop && p->stop(p->arg))
    return AVERROR_EXIT;
  if (p->pos >= p->size)
    return AVERROR_EOF;
  ssize_t r = p->read(p->arg, buf, (size_t)len, p->pos);
  if (r < 0) {
    p->err = (int)r;
    return AVERROR(-(int)r);
  }
  if (r == 0)
    return AVERROR_EOF;
  p->pos += r;
  return (int)r;
}

static int64_t io_seek(void *opaque, int64_t off, int whence) {
  pio *p = opaque;
  switch (whence & ~AVSEEK_FORCE) {
  case AVSEEK_SIZE:
    return p->size;
  case SEEK_SET:
    break;
  case SEEK_CUR:
    off += p->pos;
    break;
  case SEEK_END:
    off += p->size;
    break;
  default:
    return AVERROR(EINVAL);
  }
  if (off < 0)
    return AVERROR(EINVAL);
  p->pos = off;
  return off;
}

static int io_interrupt(void *opaque) {
  pio *p = opaque;
  return p->stop && p->stop(p->arg);
}

static void set_str(json_t *o, const char *key, const char *v) {
  if (v && *v)
    json_object_set_new(o, key, json_string(v));
}

static void set_int(json_t *o, const char *key, int64_t v) {
  if (v > 0)
    json_object_set_new(o, key, json_integer((json_int_t)v));
}

static const char *meta(AVDictionary *d, const char *key) {
  AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0);
  return e ? e->value : NULL;
}

static double rate(AVRational r) {
  return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

/* "HDR10", "HLG", "HDR10+", "Dolby Vision" into O (strongest as "hdr",
 * all as "hdr_formats"). */
static void video_hdr(json_t *o, const AVStream *st) {
  const AVCodecParameters *cp = st->codecpar;
  json_t *all = json_array();
  size_t n = 0;
  const AVDOVIDecoderConfigurationRecord *dv =
      (const void *)av_stream_get_side_data(st, AV_PKT_DATA_DOVI_CONF, &n);
  if (dv && n >= sizeof *dv) {
    json_array_append_new(all, json_string("Dolby Vision"));
    json_object_set_new(o, "dv_profile", json_integer(dv->dv_profile));
    json_object_set_new(o, "dv_level", json_integer(dv->dv_level));
    json_object_set_new(o, "dv_bl_compatibility",
                        json_integer(dv->dv_bl_signal_compatibility_id));
  }
  if (av_stream_get_side_data(st, AV_PKT_DATA_DYNAMIC_HDR10_PLUS, &n))
    json_array_append_new(all, json_string("HDR10+"));
  if (cp->color_trc == AVCOL_TRC_SMPTE2084)
    json_array_append_new(all, json_string("HDR10"));
  else if (cp->color_trc == AVCOL_TRC_ARIB_STD_B67)
    json_array_append_new(all, json_string("HLG"));
  if (av_stream_get_side_data(st, AV_PKT_DATA_MASTERING_DISPLAY_METADATA, &n))
    json_object_set_new(o, "mastering_display", json_true());
  const AVContentLightMetadata *cll = (const void *)av_stream_get_side_data(
      st, AV_PKT_DATA_CONTENT_LIGHT_LEVEL, &n);
  if (cll && n >= sizeof *cll) {
    set_int(o, "max_cll", cll->MaxCLL);
    set_int(o, "max_fall", cll->MaxFALL);
  }
  json_object_set(o, "hdr",
                  json_array_size(all) ? json_array_get(all, 0) : json_null());
  json_object_set_new(o, "hdr_formats", all);
}

static json_t *stream_json(const AVStream *st) {
  const AVCodecParameters *cp = st->codecpar;
  const char *type = av_get_media_type_string(cp->codec_type);
  json_t *o = json_pack("{s:i, s:s, s:s}", "index", st->index, "type",
                        type ? type : "unknown", "codec",
                        avcodec_get_name(cp->codec_id));
  set_str(o, "profile", avcodec_profile_name(cp->codec_id, cp->profile));
  set_int(o, "bitrate", cp->bit_rate);
  set_str(o, "language", meta(st->metadata, "language"));
  set_str(o, "title", meta(st->metadata, "title"));
  json_object_set_new(o, "default",
                      json_boolean(st->disposition & AV_DISPOSITION_DEFAULT));
  json_object_set_new(o, "forced",
                      json_boolean(st->disposition & AV_DISPOSITION_FORCED));

  switch (cp->codec_type) {
  case AVMEDIA_TYPE_VIDEO: {
    set_int(o, "width", cp->width);
    set_int(o, "height", cp->height);
    set_int(o, "level", cp->level);
    double fr = rate(st->avg_frame_rate);
    if (fr <= 0)
      fr = rate(st->r_frame_rate);
    if (fr > 0)
      json_object_set_new(o, "frame_rate", json_real(fr));
    const char *pf = av_get_pix_fmt_name(cp->format);
    set_str(o, "pix_fmt", pf);
    const AVPixFmtDescriptor *pd = av_pix_fmt_desc_get(cp->format);
    if (pd && pd->nb_components > 0)
      set_int(o, "bit_depth", pd->comp[0].depth);
    if (cp->color_trc != AVCOL_TRC_UNSPECIFIED)
      set_str(o, "color_transfer", av_color_transfer_name(cp->color_trc));
    if (cp->color_primaries != AVCOL_PRI_UNSPECIFIED)
      set_str(o, "color_primaries",
              av_color_primaries_name(cp->color_primaries));
    if (cp->color_space != AVCOL_SPC_UNSPECIFIED)
      set_str(o, "color_space", av_color_space_name(cp->color_space));
    if (st->disposition & AV_DISPOSITION_ATTACHED_PIC)
      json_object_set_new(o, "attached_pic", json_true());
    video_hdr(o, st);
    break;
  }
  case AVMEDIA_TYPE_AUDIO: {
    set_int(o, "channels", cp->ch_layout.nb_channels);
    char buf[128];
    if (cp->ch_layout.nb_channels > 0 &&
        av_channel_layout_describe(&cp->ch_layout, buf, sizeof buf) > 0)
      set_str(o, "channel_layout", buf);
    set_int(o, "sample_rate", cp->sample_rate);
    break;
  }
  case AVMEDIA_TYPE_ATTACHMENT:
    set_str(o, "filename", meta(st->metadata, "filename"));
    set_str(o, "mimetype", meta(st->metadata, "mimetype"));
    break;
  default:
    break;
  }
  return o;
}

json_t *rg_probe_json(int64_t size, rg_tail_read_fn read, int (*stop)(void *),
                      void *arg, char **cause) {
  pio p = {.size = size, .read = read, .stop = stop, .arg = arg};
  AVFormatContext *fc = avformat_alloc_context();
  AVDictionary *opt = NULL;
  json_t *out = NULL;
  uint8_t *buf = av_malloc(IO_BUF);
  AVIOContext *io =
      fc && buf ? avio_alloc_context(buf, IO_BUF, 0, &p, io_read, NULL, io_seek)
                : NULL;
  if (!io) {
    av_free(buf);
    avformat_free_context(fc);
    *cause = rg_printf("out of memory");
    return NULL;
  }
  fc->pb = io;
  fc->flags |= AVFMT_FLAG_CUSTOM_IO;
  fc->interrupt_callback.callback = io_interrupt;
  fc->interrupt_callback.opaque = &p;
  av_dict_set_int(&opt, "probesize", RG_PROBE_PROBESIZE, 0);
  av_dict_set_int(&opt, "analyzeduration", RG_PROBE_ANALYZEDURATION, 0);

  int rc = avformat_open_input(&fc, NULL, NULL, &opt);
  if (rc < 0) {
    fc = NULL; /* freed by avformat_open_input */
    goto fail;
  }
  rc = avformat_find_stream_info(fc, NULL);
  if (rc < 0)
    goto fail;
  if (stop && stop(arg)) {
    rc = AVERROR_EXIT;
    goto fail;
  }

  out = json_pack("{s:s}", "container", fc->iformat->name);
  set_str(out, "format", fc->iformat->long_name);
  json_object_set_new(out, "duration",
                      fc->duration > 0 && fc->duration != AV_NOPTS_VALUE
                          ? json_real(fc->duration / (double)AV_TIME_BASE)
                          : json_null());
  json_object_set_new(out, "bitrate",
                      fc->bit_rate > 0 ? json_integer(fc->bit_rate)
                                       : json_null());
  json_object_set_new(out, "size", json_integer(size));
  set_str(out, "title", meta(fc->metadata, "title"));
  json_object_set_new(out, "chapters", json_integer(fc->nb_chapters));
  json_t *streams = json_array();
  for (unsigned i = 0; i < fc->nb_streams; i++)
    json_array_append_new(streams, stream_json(fc->streams[i]));
  json_object_set_new(out, "streams", streams);
  goto done;

fail:
  if (p.err)
    *cause = rg_printf("cannot read the file: %s", strerror(-p.err));
  else if (rc == AVERROR_EXIT)
    *cause = rg_printf("probe abandoned");
  else {
    char e[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(rc, e, sizeof e);
    *cause = rg_printf("libavformat: %s", e);
  }
done:
  av_dict_free(&opt);
  avformat_close_input(&fc);
  av_freep(&io->buffer);
  avio_context_free(&io);
  return out;
}
