/* test-tail.c — media/tail.c on real files made at test time by ffmpeg and
 * mkvmerge (nothing is committed): Matroska with cues at the end (ffmpeg,
 * mkvmerge), cues at the front (ffmpeg -reserve_index_space), no cues, a
 * tail SeekHead (mkvmerge --clusters-in-meta-seek), chapters + attachments +
 * tags; MP4 with moov at the end and with faststart.
 *
 * For each: the spans found (count, the element/box each starts with, a
 * small total, few and small reads), then libavformat itself proves them
 * right — every read it makes past the first 2 MiB during open, probe and a
 * seek to the middle starts inside a span, and served only the first 2 MiB
 * plus the spans (an AVIOContext that fails anywhere else) it still opens,
 * probes and seeks to the middle. media/probe.c is checked on the same
 * files (and a 10-bit HEVC HDR10 one) through a plain read function.
 * Exits 77 without ffmpeg. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probe.h"
#include "tail.h"
#include "tap.h"
#include "util.h"

#define HEAD (2 << 20)
#define MAXSPANS 16

static char tmp[] = "/tmp/test-tail-XXXXXX";

/* ---- a file-backed read for rg_tail_locate ---- */

typedef struct freader {
  int fd;
  int reads;
  size_t max_len;
} freader;

static ssize_t fread_cb(void *arg, void *buf, size_t len, int64_t off) {
  freader *f = arg;
  f->reads++;
  if (len > f->max_len)
    f->max_len = len;
  ssize_t r = pread(f->fd, buf, len, off);
  return r < 0 ? -errno : r;
}

/* ---- an AVIOContext over a file, recording or restricting reads ---- */

typedef struct served {
  int fd;
  int64_t size, pos;
  const int64_t (*spans)[2];
  int nspans;
  bool restrict_; /* fail outside the head + spans */
  int outside;    /* reads past HEAD that start outside every span */
  int denied;     /* reads refused (restricted mode) */
} served;

/* Bytes readable at OFF: to the end of the region holding it, 0 if none. */
static int64_t served_run(const served *s, int64_t off) {
  if (off < HEAD)
    return HEAD - off;
  for (int i = 0; i < s->nspans; i++)
    if (off >= s->spans[i][0] && off < s->spans[i][0] + s->spans[i][1])
      return s->spans[i][0] + s->spans[i][1] - off;
  return 0;
}

static int av_read(void *opaque, uint8_t *buf, int len) {
  served *s = opaque;
  if (s->pos >= s->size)
    return AVERROR_EOF;
  int64_t run = served_run(s, s->pos);
  if (run == 0) {
    s->outside++;
    if (s->restrict_) {
      s->denied++;
      return AVERROR(EIO);
    }
  } else if (s->restrict_ && run < len) {
    len = (int)run;
  }
  ssize_t r = pread(s->fd, buf, (size_t)len, s->pos);
  if (r < 0)
    return AVERROR(errno);
  if (r == 0)
    return AVERROR_EOF;
  s->pos += r;
  return (int)r;
}

static int64_t av_seek(void *opaque, int64_t off, int whence) {
  served *s = opaque;
  switch (whence & ~AVSEEK_FORCE) {
  case AVSEEK_SIZE:
    return s->size;
  case SEEK_SET:
    break;
  case SEEK_CUR:
    off += s->pos;
    break;
  case SEEK_END:
    off += s->size;
    break;
  default:
    return -1;
  }
  if (off < 0)
    return AVERROR(EINVAL);
  s->pos = off;
  return off;
}

/* Opens, probes and seeks to the middle. 0 when all three worked; *SEEKED
 * tells whether the seek did. */
static int av_check(served *s, bool want_seek, bool *seeked, double *duration) {
  int rc = -1;
  *seeked = false;
  *duration = 0;
  AVFormatContext *fc = avformat_alloc_context();
  uint8_t *iobuf = av_malloc(32768);
  AVIOContext *io =
      avio_alloc_context(iobuf, 32768, 0, s, av_read, NULL, av_seek);
  fc->pb = io;
  fc->flags |= AVFMT_FLAG_CUSTOM_IO;
  AVDictionary *opt = NULL;
  av_dict_set(&opt, "probesize", "1000000", 0);
  av_dict_set(&opt, "analyzeduration", "1000000", 0);
  if (avformat_open_input(&fc, NULL, NULL, &opt) < 0) {
    fc = NULL;
    goto out;
  }
  if (avformat_find_stream_info(fc, NULL) < 0)
    goto out;
  *duration = fc->duration > 0 ? fc->duration / (double)AV_TIME_BASE : 0;
  if (want_seek) {
    int64_t mid = fc->duration / 2;
    *seeked = av_seek_frame(fc, -1, mid, AVSEEK_FLAG_BACKWARD) >= 0;
  }
  rc = 0;
out:
  av_dict_free(&opt);
  avformat_close_input(&fc);
  if (io)
    av_freep(&io->buffer);
  avio_context_free(&io);
  return rc;
}

/* ---- the cases ---- */

static bool have(const char *prog) {
  char *cmd = rg_printf("command -v %s >/dev/null 2>&1", prog);
  int rc = system(cmd);
  free(cmd);
  return rc == 0;
}

static int sh(const char *fmt, const char *a, const char *b) {
  char *cmd = rg_printf(fmt, tmp, a, tmp, b);
  int rc = system(cmd);
  free(cmd);
  return rc;
}

static const char *id_name(const uint8_t *p) {
  static const struct {
    const char *name;
    uint8_t b[4];
  } ids[] = {
      {"Cues", {0x1C, 0x53, 0xBB, 0x6B}},
      {"Tags", {0x12, 0x54, 0xC3, 0x67}},
      {"Chapters", {0x10, 0x43, 0xA7, 0x70}},
      {"Attachments", {0x19, 0x41, 0xA4, 0x69}},
      {"SeekHead", {0x11, 0x4D, 0x9B, 0x74}},
  };
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    if (memcmp(p, ids[i].b, 4) == 0)
      return ids[i].name;
  if (memcmp(p + 4, "moov", 4) == 0)
    return "moov";
  return "?";
}

/* NAME: a file in tmp; WANT: the span kinds in file order, comma-separated
 * ("" for none); SEEK: whether a seek from the index must work. */
static void check_file(const char *name, const char *want, bool seek) {
  char *path = rg_printf("%s/%s", tmp, name);
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) {
    ok(0, "%s: made", name);
    free(path);
    if (fd >= 0)
      close(fd);
    return;
  }
  ok(st.st_size > HEAD + (1 << 20), "%s: %lld bytes, well past the 2 MiB head",
     name, (long long)st.st_size);

  freader fr = {.fd = fd};
  int64_t spans[MAXSPANS][2];
  char *cause = NULL;
  int n = rg_tail_locate(st.st_size, fread_cb, &fr, spans, MAXSPANS, &cause);
  ok(n >= 0 && cause == NULL, "%s: located (%d spans%s%s)", name, n,
     cause ? ", " : "", cause ? cause : "");
  free(cause);
  ok(fr.reads <= RG_TAIL_MAX_READS && fr.max_len <= RG_TAIL_MAX_READ,
     "%s: %d reads, the largest %zu bytes", name, fr.reads, fr.max_len);

  char got[256] = "";
  int64_t total = 0;
  bool inside = true;
  for (int i = 0; i < n; i++) {
    uint8_t b[8] = {0};
    if (pread(fd, b, 8, spans[i][0]) != 8)
      inside = false;
    if (spans[i][0] < 0 || spans[i][1] <= 0 ||
        spans[i][0] + spans[i][1] > st.st_size ||
        (i > 0 && spans[i][0] < spans[i - 1][0] + spans[i - 1][1]))
      inside = false;
    total += n > 0 ? spans[i][1] : 0;
    snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "," : "",
             id_name(b));
  }
  is_str(got, want, "%s: spans are %s", name, *want ? want : "(none)");
  ok(inside, "%s: spans sorted, disjoint, inside the file", name);
  ok(total < st.st_size / 50, "%s: %lld tail bytes (< 2%% of the file)", name,
     (long long)total);

  /* libavformat on the whole file: where does it read past the head? */
  served s = {.fd = fd,
              .size = st.st_size,
              .spans = (const int64_t(*)[2])spans,
              .nspans = n};
  bool seeked;
  double dur;
  int rc = av_check(&s, seek, &seeked, &dur);
  ok(rc == 0 && (!seek || seeked), "%s: libavformat opens, probes%s", name,
     seek ? ", seeks to the middle" : "");
  is_int(s.outside, 0, "%s: every read past 2 MiB starts inside a span", name);

  /* served only the head and the spans */
  served r = s;
  r.pos = 0;
  r.outside = r.denied = 0;
  r.restrict_ = true;
  rc = av_check(&r, seek, &seeked, &dur);
  ok(rc == 0 && (!seek || seeked) && dur > 19 && dur < 21,
     "%s: with only the head + spans: opens, probes (%.2f s)%s", name, dur,
     seek ? ", seeks to the middle" : "");
  is_int(r.denied, 0, "%s: no read refused", name);

  /* and the spans are needed: without them something is refused */
  if (n > 0) {
    served h = r;
    h.pos = 0;
    h.denied = 0;
    h.nspans = 0;
    av_check(&h, seek, &seeked, &dur);
    ok(h.denied > 0, "%s: with the head only, %d reads are refused", name,
       h.denied);
  }

  close(fd);
  free(path);
}

/* ---- media/probe.c over a plain file ---- */

static json_t *probe_file(const char *name, char **cause) {
  char *path = rg_printf("%s/%s", tmp, name);
  freader fr = {.fd = open(path, O_RDONLY)};
  free(path);
  *cause = NULL;
  if (fr.fd < 0) {
    *cause = rg_printf("cannot open %s", name);
    return NULL;
  }
  struct stat st;
  fstat(fr.fd, &st);
  json_t *j = rg_probe_json(st.st_size, fread_cb, NULL, &fr, cause);
  close(fr.fd);
  return j;
}

static const char *sfield(json_t *j, int stream, const char *key) {
  json_t *s = json_array_get(json_object_get(j, "streams"), (size_t)stream);
  return json_string_value(json_object_get(s, key));
}

static int64_t ifield(json_t *j, int stream, const char *key) {
  json_t *s = json_array_get(json_object_get(j, "streams"), (size_t)stream);
  return json_integer_value(json_object_get(s, key));
}

static int stop_now(void *arg) {
  (void)arg;
  return 1;
}

static void check_probe(void) {
  char *cause = NULL;
  json_t *j = probe_file("ff.mkv", &cause);
  ok(j != NULL, "probe ff.mkv%s%s", cause ? ": " : "", cause ? cause : "");
  free(cause);
  if (j) {
    is_str(json_string_value(json_object_get(j, "container")), "matroska,webm",
           "probe: container");
    double d = json_number_value(json_object_get(j, "duration"));
    ok(d > 19.9 && d < 20.2, "probe: duration %.3f s", d);
    ok(json_integer_value(json_object_get(j, "bitrate")) > 1000000,
       "probe: bitrate");
    is_int(json_array_size(json_object_get(j, "streams")), 2, "probe: streams");
    is_str(sfield(j, 0, "type"), "video", "probe: stream 0 is video");
    is_str(sfield(j, 0, "codec"), "h264", "probe: h264");
    is_int(ifield(j, 0, "width"), 320, "probe: width");
    is_int(ifield(j, 0, "height"), 180, "probe: height");
    is_str(sfield(j, 0, "pix_fmt"), "yuv420p", "probe: pixel format");
    ok(json_is_null(json_object_get(
           json_array_get(json_object_get(j, "streams"), 0), "hdr")),
       "probe: SDR has hdr null");
    is_str(sfield(j, 1, "codec"), "aac", "probe: aac");
    is_str(sfield(j, 1, "language"), "eng", "probe: audio language");
    is_int(ifield(j, 1, "channels"), 1, "probe: channels");
    is_int(ifield(j, 1, "sample_rate"), 44100, "probe: sample rate");
    json_decref(j);
  }
  j = probe_file("end.mp4", &cause);
  is_str(j ? json_string_value(json_object_get(j, "container")) : cause,
         "mov,mp4,m4a,3gp,3g2,mj2", "probe: MP4 container");
  free(cause);
  json_decref(j);

  int rc = sh("cd %s && ffmpeg -nostdin -v error -y -f lavfi "
              "-i testsrc=size=320x180:rate=25 -t 2 -c:v libx265 "
              "-preset ultrafast -pix_fmt yuv420p10le -color_trc smpte2084 "
              "-color_primaries bt2020 -colorspace bt2020nc "
              "-x265-params log-level=error %s >>%s/ffmpeg.out 2>&1%s",
              "hdr.mkv", "");
  if (rc != 0) {
    printf("# no libx265: the HDR10 probe is skipped\n");
  } else {
    j = probe_file("hdr.mkv", &cause);
    free(cause);
    is_str(j ? sfield(j, 0, "codec") : NULL, "hevc", "probe: hevc");
    is_str(j ? sfield(j, 0, "profile") : NULL, "Main 10", "probe: Main 10");
    is_int(j ? ifield(j, 0, "bit_depth") : 0, 10, "probe: 10-bit");
    is_str(j ? sfield(j, 0, "hdr") : NULL, "HDR10", "probe: HDR10");
    json_decref(j);
  }

  /* a stop function abandons at once */
  char *path = rg_printf("%s/ff.mkv", tmp);
  freader fr = {.fd = open(path, O_RDONLY)};
  free(path);
  j = rg_probe_json(1 << 22, fread_cb, stop_now, &fr, &cause);
  ok(j == NULL && cause && fr.reads == 0, "probe: stopped before reading (%s)",
     cause ? cause : "no cause");
  free(cause);
  json_decref(j);
  close(fr.fd);

  /* junk is an error, not a crash */
  path = rg_printf("%s/junk.bin", tmp);
  FILE *f = fopen(path, "w");
  for (int i = 0; f && i < 100000; i++)
    fputc((i * 7919) & 0xff, f);
  if (f)
    fclose(f);
  free(path);
  j = probe_file("junk.bin", &cause);
  ok(j == NULL && cause != NULL, "probe: junk fails with a cause (%s)",
     cause ? cause : "none");
  free(cause);
  json_decref(j);
}

/* ---- synthetic bytes: robustness ---- */

typedef struct membuf {
  const uint8_t *p;
  size_t n;
  int reads;
} membuf;

static ssize_t mem_read(void *arg, void *buf, size_t len, int64_t off) {
  membuf *m = arg;
  m->reads++;
  if (off < 0 || (uint64_t)off >= m->n)
    return 0;
  if (len > m->n - (size_t)off)
    len = m->n - (size_t)off;
  memcpy(buf, m->p + off, len);
  return (ssize_t)len;
}

static ssize_t fail_read(void *arg, void *buf, size_t len, int64_t off) {
  (void)arg, (void)buf, (void)len, (void)off;
  return -ETIMEDOUT;
}

static void synthetic(void) {
  int64_t spans[4][2];
  char *cause = NULL;
  uint8_t junk[4096];
  for (size_t i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 131 + 7);
  membuf m = {junk, sizeof junk, 0};
  int n = rg_tail_locate(sizeof junk, mem_read, &m, spans, 4, &cause);
  ok(n == 0 && cause != NULL, "junk: no spans, a cause (%s)",
     cause ? cause : "none");
  free(cause);

  n = rg_tail_locate(1 << 30, fail_read, NULL, spans, 4, &cause);
  is_int(n, -ETIMEDOUT, "a failing read is reported as its error");
  ok(cause != NULL, "with a cause (%s)", cause ? cause : "none");
  free(cause);

  /* an EBML header whose Segment claims far more than the file */
  static const uint8_t mkv[] = {0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x18, 0x53, 0x80,
                                0x67, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0xFF, 0x11, 0x4D, 0x9B, 0x74, 0x88, 0x4D, 0xBB,
                                0x85, 0x53, 0xAC, 0x82, 0x7F, 0xFF};
  membuf mm = {mkv, sizeof mkv, 0};
  n = rg_tail_locate(sizeof mkv, mem_read, &mm, spans, 4, &cause);
  ok(n == 0 && cause != NULL, "truncated Matroska: no spans, a doubt (%s)",
     cause ? cause : "none");
  free(cause);

  /* mdat claiming to run past EOF */
  static const uint8_t mp4[] = {0,   0,   0,    16,  'f', 't', 'y', 'p',
                                'i', 's', 'o',  'm', 0,   0,   0,   0,
                                0,   0,   0x10, 0,   'm', 'd', 'a', 't'};
  membuf mp = {mp4, sizeof mp4, 0};
  n = rg_tail_locate(sizeof mp4, mem_read, &mp, spans, 4, &cause);
  ok(n == 0 && cause != NULL, "MP4 with a bad mdat: no spans, a doubt (%s)",
     cause ? cause : "none");
  free(cause);
  ok(mp.reads <= RG_TAIL_MAX_READS, "bounded reads (%d)", mp.reads);
}

static int rm_rf(void) {
  char *cmd = rg_printf("rm -rf '%s'", tmp);
  int rc = system(cmd);
  free(cmd);
  return rc;
}

int main(void) {
  if (!have("ffmpeg")) {
    printf("1..0 # SKIP ffmpeg is not installed\n");
    return 77;
  }
  if (!mkdtemp(tmp)) {
    perror("mkdtemp");
    return 99;
  }
  av_log_set_level(AV_LOG_QUIET);

  synthetic();

  /* 20 s of noisy 320x180 H.264 + AAC: ~4 MB, the cues far past 2 MiB */
  int rc = sh("cd %s && ffmpeg -nostdin -v error -y "
              "-f lavfi -i testsrc=size=320x180:rate=25 "
              "-f lavfi -i sine=frequency=440 -t 20 "
              "-vf noise=alls=40:allf=t -c:v libx264 -preset ultrafast "
              "-b:v 1500k -g 25 -pix_fmt yuv420p -c:a aac -b:a 64k "
              "-metadata:s:a language=eng %s >%s/ffmpeg.out 2>&1%s",
              "ff.mkv", "");
  ok(rc == 0, "ffmpeg made a Matroska file");
  if (rc != 0)
    goto out;
  ok(sh("cd %s && ffmpeg -nostdin -v error -y -i ff.mkv -c copy "
        "-reserve_index_space 65536 %s >>%s/ffmpeg.out 2>&1%s",
        "front.mkv", "") == 0,
     "ffmpeg remuxed it with the cues at the front");
  ok(sh("cd %s && ffmpeg -nostdin -v error -y -i ff.mkv -c copy %s "
        ">>%s/ffmpeg.out 2>&1%s",
        "end.mp4", "") == 0,
     "ffmpeg made an MP4 (moov at the end)");
  ok(sh("cd %s && ffmpeg -nostdin -v error -y -i ff.mkv -c copy "
        "-movflags +faststart %s >>%s/ffmpeg.out 2>&1%s",
        "fast.mp4", "") == 0,
     "ffmpeg made a faststart MP4");

  check_file("ff.mkv", "Cues", true);
  check_file("front.mkv", "", true);
  check_file("end.mp4", "moov", true);
  check_file("fast.mp4", "", true);
  check_probe();

  if (!have("mkvmerge")) {
    printf("# mkvmerge is not installed: its cases are skipped\n");
    goto out;
  }
  /* chapters (simple format), an attachment and global tags */
  FILE *f;
  char *p = rg_printf("%s/chapters.txt", tmp);
  if ((f = fopen(p, "w"))) {
    fputs("CHAPTER01=00:00:00.000\nCHAPTER01NAME=Start\n"
          "CHAPTER02=00:00:10.000\nCHAPTER02NAME=Middle\n",
          f);
    fclose(f);
  }
  free(p);
  p = rg_printf("%s/tags.xml", tmp);
  if ((f = fopen(p, "w"))) {
    fputs("<?xml version=\"1.0\"?>\n<Tags><Tag><Targets/><Simple>"
          "<Name>COMMENT</Name><String>reelgate test</String></Simple>"
          "</Tag></Tags>\n",
          f);
    fclose(f);
  }
  free(p);
  p = rg_printf("%s/cover.txt", tmp);
  if ((f = fopen(p, "w"))) {
    for (int i = 0; i < 200; i++)
      fputs("an attachment line\n", f);
    fclose(f);
  }
  free(p);
  ok(sh("cd %s && mkvmerge -q -o %s ff.mkv >%s/mkvmerge.out 2>&1%s", "mm.mkv",
        "") == 0,
     "mkvmerge remuxed (cues and tags at the end)");
  ok(sh("cd %s && mkvmerge -q -o %s --clusters-in-meta-seek ff.mkv "
        ">>%s/mkvmerge.out 2>&1%s",
        "seek2.mkv", "") == 0,
     "mkvmerge with a tail SeekHead");
  ok(sh("cd %s && mkvmerge -q -o %s --no-cues ff.mkv >>%s/mkvmerge.out 2>&1%s",
        "nocues.mkv", "") == 0,
     "mkvmerge without cues");
  ok(sh("cd %s && mkvmerge -q -o %s --chapters chapters.txt --global-tags "
        "tags.xml --attachment-mime-type text/plain --attach-file cover.txt "
        "ff.mkv >>%s/mkvmerge.out 2>&1%s",
        "extras.mkv", "") == 0,
     "mkvmerge with chapters, an attachment and tags");

  check_file("mm.mkv", "Cues,Tags", true);
  check_file("seek2.mkv", "Cues,SeekHead,Tags", true);
  check_file("nocues.mkv", "Tags", false);
  /* chapters and attachments go to the front: only cues and tags are tail */
  check_file("extras.mkv", "Cues,Tags", true);

out:
  rm_rf();
  return tap_done();
}
