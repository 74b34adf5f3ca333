/* http-stream.c — GET|HEAD /stream/{info_hash}/{file_index}/{name}.
 *
 * RFC 9110 byte ranges over the reader core. The status line waits for the
 * first bytes: a read that times out before anything was sent is a 504; one
 * that times out later closes the connection (the length was promised).
 * Bytes go out as file segments of the cache file (sendfile), at most
 * CHUNK at a time; the next read starts when the socket has taken them.
 * A client that goes away cancels its read (the close callback). */
#include "config.h"

#include "http-range.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "reader.h"
#include "util.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <sys/socket.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (4 << 20)

struct stream {
  rg_app *app;
  struct evhttp_request *req;
  struct evhttp_connection *evcon;
  rg_reader *r;
  int64_t pos, end; /* next byte to send, last byte (inclusive) */
  int code;
  bool started;
  char hash[41];
  struct event *probe; /* while a read waits: is the client still there? */
};

static const struct {
  const char *ext, *type;
} mime[] = {
    {"mkv", "video/x-matroska"}, {"mk3d", "video/x-matroska"},
    {"mka", "audio/x-matroska"}, {"webm", "video/webm"},
    {"mp4", "video/mp4"},        {"m4v", "video/mp4"},
    {"m4a", "audio/mp4"},        {"mov", "video/quicktime"},
    {"avi", "video/x-msvideo"},  {"ts", "video/mp2t"},
    {"m2ts", "video/mp2t"},      {"mts", "video/mp2t"},
    {"mpg", "video/mpeg"},       {"mpeg", "video/mpeg"},
    {"wmv", "video/x-ms-wmv"},   {"flv", "video/x-flv"},
    {"ogv", "video/ogg"},        {"ogg", "audio/ogg"},
    {"mp3", "audio/mpeg"},       {"flac", "audio/flac"},
    {"wav", "audio/wav"},        {"opus", "audio/ogg"},
    {"srt", "application/x-subrip"}, {"vtt", "text/vtt"},
    {"ass", "text/x-ssa"},       {"ssa", "text/x-ssa"},
    {"sub", "text/plain"},       {"nfo", "text/plain"},
    {"txt", "text/plain"},       {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},      {"png", "image/png"},
    {"iso", "application/x-iso9660-image"},
};

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.');
  if (dot && !strchr(dot, '/'))
    for (size_t i = 0; i < RG_ARRAY_LEN(mime); i++)
      if (strcasecmp(dot + 1, mime[i].ext) == 0)
        return mime[i].type;
  return "application/octet-stream";
}

/* Does a list of entity tags (If-Match / If-None-Match) contain ETAG?
 * WEAK allows W/ tags to match (If-None-Match uses weak comparison). */
static bool etag_listed(const char *list, const char *etag, bool weak) {
  for (const char *p = list; *p;) {
    while (*p == ' ' || *p == '\t' || *p == ',')
      p++;
    if (*p == '*')
      return true;
    bool is_weak = strncmp(p, "W/", 2) == 0;
    if (is_weak)
      p += 2;
    if (*p != '"')
      return false;
    const char *q = strchr(p + 1, '"');
    if (!q)
      return false;
    size_t n = (size_t)(q - p + 1);
    if ((!is_weak || weak) && n == strlen(etag) && strncmp(p, etag, n) == 0)
      return true;
    p = q + 1;
  }
  return false;
}

static void stream_free(struct stream *s) {
  if (s->probe)
    event_free(s->probe);
  if (s->evcon)
    evhttp_connection_set_closecb(s->evcon, NULL, NULL);
  rg_reader_close(&s->r);
  s->app->streams--;
  free(s);
}

static void on_close(struct evhttp_connection *evcon, void *arg) {
  struct stream *s = arg;
  struct evhttp_request *req = s->req;
  bool detached = evhttp_request_get_connection(req) == NULL;
  rg_debug("stream client went away at %" PRId64, s->pos);
  s->evcon = NULL;
  rg_reader_cancel(s->r);
  if (detached) {
    /* libevent left the request to us: finishing it frees it */
    if (s->started)
      evhttp_send_reply_end(req);
    else
      evhttp_send_reply(req, 500, "Gone", NULL);
  }
  stream_free(s);
}

static void read_next(struct stream *s);

/* libevent reads nothing from a connection whose request is being answered
 * until it writes, so a client that leaves while a read waits for the swarm
 * would go unnoticed until the read timed out. Peek at the socket instead. */
static void on_probe(evutil_socket_t unused, short what, void *arg) {
  struct stream *s = arg;
  if (!s->evcon)
    return;
  struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
  evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
  char c;
  ssize_t n = fd >= 0 ? recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) : -1;
  if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
                 errno != EINTR)) {
    rg_debug("stream client went away while its read waited (byte %" PRId64
             ")",
             s->pos);
    struct evhttp_connection *evcon = s->evcon;
    stream_free(s);
    evhttp_connection_free(evcon); /* frees the request as well */
  }
}

static void on_sent(struct evhttp_connection *evcon, void *arg) {
  struct stream *s = arg;
  if (s->pos > s->end) {
    struct evhttp_request *req = s->req;
    stream_free(s);
    evhttp_send_reply_end(req);
    return;
  }
  read_next(s);
}

static void on_data(void *arg, int err, int fd, int64_t off, size_t len) {
  struct stream *s = arg;
  struct evhttp_request *req = s->req;
  if (err || len == 0) {
    int e = err ? err : -EIO;
    char why[256] = "";
    rg_torrent *t = rg_tm_find(s->app->tm, s->hash);
    if (t && rg_torrent_error(t))
      snprintf(why, sizeof why, "%s", rg_torrent_error(t));
    const char *s_error = why[0] ? why : NULL;
    if (!s->started) {
      stream_free(s);
      /* the headers prepared for the body don't describe an error */
      evhttp_clear_headers(evhttp_request_get_output_headers(req));
      if (e == -ETIMEDOUT)
        rg_http_error(req, 504, "the data did not arrive in time (no peer "
                                "has it, or the swarm is too slow)");
      else if (e == -ENOENT)
        rg_http_error(req, 404, "the torrent was removed");
      else if (s_error)
        rg_http_error(req, 500, "read failed: %s", s_error);
      else
        rg_http_error(req, 500, "read failed: %s", strerror(-e));
      return;
    }
    /* the length was promised: all we can do is close */
    rg_warn("stream aborted at byte %" PRId64 ": %s", s->pos, strerror(-e));
    struct evhttp_connection *evcon = s->evcon;
    stream_free(s);
    if (evcon)
      evhttp_connection_free(evcon); /* frees the request too */
    else
      evhttp_send_reply_end(req);
    return;
  }
  if ((int64_t)len > s->end + 1 - off)
    len = (size_t)(s->end + 1 - off);
  int dfd = dup(fd);
  struct evbuffer *b = evbuffer_new();
  struct evbuffer_file_segment *seg =
      dfd >= 0 ? evbuffer_file_segment_new(dfd, off, (ev_off_t)len,
                                           EVBUF_FS_CLOSE_ON_FREE)
               : NULL;
  if (!seg || evbuffer_add_file_segment(b, seg, 0, (ev_off_t)len) != 0) {
    if (seg)
      evbuffer_file_segment_free(seg);
    else if (dfd >= 0)
      close(dfd);
    evbuffer_free(b);
    on_data(arg, -EIO, -1, off, 0);
    return;
  }
  evbuffer_file_segment_free(seg); /* the buffer holds its own reference */
  if (!s->started) {
    evhttp_send_reply_start(req, s->code, s->code == 206 ? "Partial Content"
                                                         : "OK");
    s->started = true;
  }
  s->pos = off + (int64_t)len;
  rg_metrics_add("reelgate_http_bytes_total", "route=\"stream\"", (int64_t)len);
  evhttp_send_reply_chunk_with_cb(req, b, on_sent, s);
  evbuffer_free(b);
}

static void read_next(struct stream *s) {
  int64_t left = s->end + 1 - s->pos;
  size_t n = left > CHUNK ? CHUNK : (size_t)left;
  int rc = rg_reader_read(s->r, s->pos, n, on_data, s);
  if (rc)
    on_data(s, rc, -1, s->pos, 0);
}

static void http_date(int64_t when, char *buf, size_t n) {
  time_t t = (time_t)when;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void rg_stream_route(rg_app *app, struct evhttp_request *req,
                     const char *path) {
  enum evhttp_cmd_type m = evhttp_request_get_command(req);
  if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_HEAD) {
    rg_http_error(req, 405, "use GET or HEAD");
    return;
  }
  if (!rg_http_stream_authorized(app, req)) {
    rg_http_error(req, 401, "missing or wrong key: stream URLs carry the "
                            "stream key as ?key= (or use the API key)");
    return;
  }
  /* {hash}/{index}[/{name}] */
  char hash[41] = {0};
  const char *slash = strchr(path, '/');
  if (!slash || slash - path != 40) {
    rg_http_error(req, 404, "not a stream URL: /stream/{info_hash}/{index}/{name}");
    return;
  }
  for (int i = 0; i < 40; i++)
    hash[i] = (char)(path[i] >= 'A' && path[i] <= 'F' ? path[i] + 32 : path[i]);
  char *endp = NULL;
  long index = strtol(slash + 1, &endp, 10);
  if (endp == slash + 1 || (*endp && *endp != '/') || index < 0 ||
      index > 1000000) {
    rg_http_error(req, 404, "bad file index");
    return;
  }
  rg_torrent *t = rg_tm_find(app->tm, hash);
  if (!t) {
    rg_http_error(req, 404, "no torrent %s", hash);
    return;
  }
  const rg_tinfo *ti = rg_torrent_info(t);
  if (!ti) {
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "2");
    rg_http_error(req, 503, "the torrent's metadata is not known yet");
    return;
  }
  if (index >= ti->nfiles || ti->files[index].pad) {
    rg_http_error(req, 404, "torrent %s has no file %ld", hash, index);
    return;
  }
  int64_t size = ti->files[index].size;
  struct evkeyvalq *in = evhttp_request_get_input_headers(req);
  struct evkeyvalq *out = evhttp_request_get_output_headers(req);
  char etag[80], lm[64], buf[96];
  snprintf(etag, sizeof etag, "\"%s-%ld-%" PRId64 "\"", hash, index, size);
  http_date(rg_torrent_added(t), lm, sizeof lm);
  evhttp_add_header(out, "Accept-Ranges", "bytes");
  evhttp_add_header(out, "ETag", etag);
  evhttp_add_header(out, "Last-Modified", lm);
  evhttp_add_header(out, "Content-Type", content_type(ti->files[index].path));
  evhttp_add_header(out, "Cache-Control", "private, max-age=3600");

  const char *im = evhttp_find_header(in, "If-Match");
  if (im && !etag_listed(im, etag, false)) {
    evhttp_send_reply(req, 412, "Precondition Failed", NULL);
    return;
  }
  const char *inm = evhttp_find_header(in, "If-None-Match");
  if (inm && etag_listed(inm, etag, true)) {
    evhttp_send_reply(req, 304, "Not Modified", NULL);
    return;
  }
  const char *range = evhttp_find_header(in, "Range");
  const char *ifr = evhttp_find_header(in, "If-Range");
  if (range && ifr) {
    bool same = ifr[0] == '"' ? strcmp(ifr, etag) == 0 : strcmp(ifr, lm) == 0;
    if (!same)
      range = NULL; /* the representation changed: send all of it */
  }
  rg_range rr;
  int kind = rg_range_parse(range, size, &rr);
  if (kind == RG_RANGE_UNSATISFIABLE) {
    snprintf(buf, sizeof buf, "bytes */%" PRId64, size);
    evhttp_add_header(out, "Content-Range", buf);
    evhttp_add_header(out, "Content-Length", "0");
    evhttp_send_reply(req, 416, "Range Not Satisfiable", NULL);
    return;
  }
  int code = 200;
  int64_t start = 0, end = size - 1;
  if (kind == RG_RANGE_PARTIAL) {
    code = 206;
    start = rr.start;
    end = rr.end;
    snprintf(buf, sizeof buf, "bytes %" PRId64 "-%" PRId64 "/%" PRId64, start,
             end, size);
    evhttp_add_header(out, "Content-Range", buf);
  }
  snprintf(buf, sizeof buf, "%" PRId64, end - start + 1);
  evhttp_add_header(out, "Content-Length", buf);
  if (m == EVHTTP_REQ_HEAD || size == 0) {
    evhttp_send_reply(req, code, code == 206 ? "Partial Content" : "OK", NULL);
    return;
  }
  struct stream *s = rg_calloc(1, sizeof *s);
  s->app = app;
  s->req = req;
  s->code = code;
  memcpy(s->hash, hash, sizeof s->hash);
  s->pos = start;
  s->end = end;
  app->streams++;
  int rc = rg_reader_open(app->tm, t, (int)index, &s->r);
  if (rc) {
    stream_free(s);
    rg_http_error(req, 500, "cannot open a reader: %s", strerror(-rc));
    return;
  }
  s->evcon = evhttp_request_get_connection(req);
  evhttp_connection_set_closecb(s->evcon, on_close, s);
  /* libevent writes at most 16 KiB per call by default: one sendfile per
   * chunk instead */
  struct bufferevent *bev = evhttp_connection_get_bufferevent(s->evcon);
  if (bev)
    bufferevent_set_max_single_write(bev, CHUNK);
  s->probe = event_new(app->base, -1, EV_PERSIST, on_probe, s);
  struct timeval half = {0, 500000};
  event_add(s->probe, &half);
  read_next(s);
}
