/* tail.c — see tail.h.
 *
 * Matroska: the EBML header, then the Segment; its level-1 children are
 * walked from the start of the Segment data up to the first Cluster (one
 * small read per element header outside the first 64 KiB). The first
 * SeekHead's entries — and those of any other SeekHead it points to (the
 * "tail SeekHead" mkvmerge writes with cluster entries) — give the positions
 * of Cues, Tags, Chapters, Attachments and SeekHeads, relative to the first
 * byte of the Segment data. Each one located after the first Cluster is read
 * for its own ID and size, and its full extent becomes a span.
 *
 * MP4/MOV: top-level boxes are walked; a `moov` found after `mdat` is the
 * tail. With `moov` first, the only tail a demuxer reads is an `mfra` box
 * (fragmented files end with `mfro` giving its size).
 *
 * Every read goes through fetch(): clamped to the file, at most
 * RG_TAIL_MAX_READ bytes, at most RG_TAIL_MAX_READS calls in all. Any value
 * that does not fit (sizes past the file, bad IDs, a budget exhausted) is a
 * doubt: no spans, a cause, and the caller keeps a fixed tail. */
#include "config.h"

#include "tail.h"
#include "util.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define ID_EBML 0x1A45DFA3u
#define ID_SEGMENT 0x18538067u
#define ID_SEEKHEAD 0x114D9B74u
#define ID_SEEK 0x4DBBu
#define ID_SEEKID 0x53ABu
#define ID_SEEKPOS 0x53ACu
#define ID_CLUSTER 0x1F43B675u
#define ID_CUES 0x1C53BB6Bu
#define ID_TAGS 0x1254C367u
#define ID_CHAPTERS 0x1043A770u
#define ID_ATTACHMENTS 0x1941A469u

#define MAX_LEVEL1 128 /* level-1 elements walked before the first Cluster */
#define MAX_SEEKS 64   /* non-Cluster seek entries kept */
#define MAX_HEADS 4    /* SeekHeads parsed */
#define MAX_BOXES 64   /* MP4 top-level boxes walked */

typedef struct ctx {
  int64_t size;
  rg_tail_read_fn read;
  void *arg;
  int reads;
  int err;        /* first read error (-errno) */
  bool exhausted; /* the read budget ran out */
  uint8_t *head;  /* the first bytes of the file */
  size_t head_len;
} ctx;

/* Reads up to LEN (≤ RG_TAIL_MAX_READ) bytes at OFF, clamped to the file.
 * Returns the count (short only at EOF) or -errno. */
static ssize_t fetch(ctx *c, void *buf, size_t len, int64_t off) {
  if (off < 0 || off >= c->size || len == 0)
    return 0;
  if (len > RG_TAIL_MAX_READ)
    len = RG_TAIL_MAX_READ;
  if ((int64_t)len > c->size - off)
    len = (size_t)(c->size - off);
  if (c->head && off + (int64_t)len <= (int64_t)c->head_len) {
    memcpy(buf, c->head + off, len);
    return (ssize_t)len;
  }
  size_t done = 0;
  while (done < len) {
    if (c->reads >= RG_TAIL_MAX_READS) {
      c->exhausted = true;
      return -E2BIG;
    }
    c->reads++;
    ssize_t r =
        c->read(c->arg, (uint8_t *)buf + done, len - done, off + (int64_t)done);
    if (r < 0) {
      if (!c->err)
        c->err = (int)r;
      return r;
    }
    if (r == 0 || (size_t)r > len - done)
      break;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

/* ---- EBML ---- */

/* An element ID (marker bits kept) at P[0..N). Its length, or 0 if bad. */
static int ebml_id(const uint8_t *p, size_t n, uint32_t *id) {
  if (n < 1)
    return 0;
  int len = p[0] & 0x80   ? 1
            : p[0] & 0x40 ? 2
            : p[0] & 0x20 ? 3
            : p[0] & 0x10 ? 4
                          : 0;
  if (len == 0 || (size_t)len > n)
    return 0;
  uint32_t v = 0;
  for (int i = 0; i < len; i++)
    v = v << 8 | p[i];
  *id = v;
  return len;
}

/* A data size at P[0..N); -1 in *SIZE for "unknown". Its length, or 0. */
static int ebml_size(const uint8_t *p, size_t n, int64_t *size) {
  if (n < 1 || p[0] == 0)
    return 0;
  int len = 1;
  while (!(p[0] & (0x80 >> (len - 1))))
    len++;
  if ((size_t)len > n)
    return 0;
  uint64_t v = p[0] & (0xFFu >> len);
  bool ones = v == (0xFFu >> len);
  for (int i = 1; i < len; i++) {
    v = v << 8 | p[i];
    ones = ones && p[i] == 0xFF;
  }
  if (ones)
    *size = -1;
  else if (v > (uint64_t)INT64_MAX / 2)
    return 0;
  else
    *size = (int64_t)v;
  return len;
}

/* An element header at P[0..N). Its length, or 0. */
static int ebml_header(const uint8_t *p, size_t n, uint32_t *id,
                       int64_t *size) {
  int a = ebml_id(p, n, id);
  if (!a)
    return 0;
  int b = ebml_size(p + a, n - (size_t)a, size);
  return b ? a + b : 0;
}

/* The element header at file offset OFF. Its length, 0 if bad, -errno. */
static int header_at(ctx *c, int64_t off, uint32_t *id, int64_t *size) {
  uint8_t buf[12];
  ssize_t n = fetch(c, buf, sizeof buf, off);
  if (n < 0)
    return (int)n;
  return ebml_header(buf, (size_t)n, id, size);
}

static uint64_t be_uint(const uint8_t *p, int64_t n) {
  uint64_t v = 0;
  for (int64_t i = 0; i < n; i++)
    v = v << 8 | p[i];
  return v;
}

typedef struct seek {
  uint32_t id;
  int64_t pos; /* absolute */
} seek;

typedef struct mkv {
  int64_t seg_data, seg_end, first_cluster;
  seek seeks[MAX_SEEKS];
  int nseeks;
  int64_t heads[MAX_HEADS]; /* SeekHeads parsed */
  int nheads;
} mkv;

static void add_seek(mkv *k, uint32_t id, int64_t pos) {
  if (id == ID_CLUSTER || k->nseeks >= MAX_SEEKS)
    return;
  for (int i = 0; i < k->nseeks; i++)
    if (k->seeks[i].id == id && k->seeks[i].pos == pos)
      return;
  k->seeks[k->nseeks++] = (seek){id, pos};
}

/* Parses the SeekHead at OFF (its first 64 KiB: a longer one, full of
 * cluster entries, is cut at an entry boundary — what follows is lost, not
 * misread). 0, or -errno / -EINVAL. */
static int parse_seekhead(ctx *c, mkv *k, int64_t off) {
  for (int i = 0; i < k->nheads; i++)
    if (k->heads[i] == off)
      return 0;
  if (k->nheads >= MAX_HEADS)
    return 0;
  k->heads[k->nheads++] = off;
  uint32_t id;
  int64_t size;
  int h = header_at(c, off, &id, &size);
  if (h < 0)
    return h;
  if (h == 0 || id != ID_SEEKHEAD || size < 0)
    return -EINVAL;
  size_t want = size > RG_TAIL_MAX_READ ? RG_TAIL_MAX_READ : (size_t)size;
  uint8_t *buf = rg_malloc(want ? want : 1);
  ssize_t n = fetch(c, buf, want, off + h);
  if (n < 0) {
    free(buf);
    return (int)n;
  }
  size_t p = 0, end = (size_t)n;
  while (p < end) {
    uint32_t eid;
    int64_t esz;
    int eh = ebml_header(buf + p, end - p, &eid, &esz);
    if (!eh || esz < 0 || esz > (int64_t)(end - p - (size_t)eh))
      break; /* truncated by the read cap, or garbage: stop here */
    if (eid == ID_SEEK) {
      const uint8_t *q = buf + p + eh;
      size_t qn = (size_t)esz, j = 0;
      uint32_t sid = 0;
      int64_t spos = -1;
      while (j < qn) {
        uint32_t cid;
        int64_t csz;
        int ch = ebml_header(q + j, qn - j, &cid, &csz);
        if (!ch || csz < 0 || csz > (int64_t)(qn - j - (size_t)ch))
          break;
        if (cid == ID_SEEKID && csz >= 1 && csz <= 4)
          sid = (uint32_t)be_uint(q + j + ch, csz);
        else if (cid == ID_SEEKPOS && csz >= 1 && csz <= 8) {
          uint64_t v = be_uint(q + j + ch, csz);
          spos = v < (uint64_t)INT64_MAX / 2 ? (int64_t)v : -1;
        }
        j += (size_t)ch + (size_t)csz;
      }
      if (sid && spos >= 0 && spos < k->seg_end - k->seg_data)
        add_seek(k, sid, k->seg_data + spos);
    }
    p += (size_t)eh + (size_t)esz;
  }
  free(buf);
  return 0;
}

static bool wanted(uint32_t id) {
  return id == ID_CUES || id == ID_TAGS || id == ID_CHAPTERS ||
         id == ID_ATTACHMENTS || id == ID_SEEKHEAD;
}

static int add_span(int64_t (*spans)[2], int n, int max, int64_t off,
                    int64_t len) {
  for (int i = 0; i < n; i++)
    if (spans[i][0] == off)
      return n;
  if (n >= max)
    return n;
  spans[n][0] = off;
  spans[n][1] = len;
  return n + 1;
}

static int cmp_span(const void *a, const void *b) {
  const int64_t *x = a, *y = b;
  return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* Sorts and merges overlapping spans. The new count. */
static int normalize(int64_t (*spans)[2], int n) {
  if (n <= 1)
    return n;
  qsort(spans, (size_t)n, sizeof spans[0], cmp_span);
  int w = 0;
  for (int i = 1; i < n; i++) {
    int64_t end = spans[w][0] + spans[w][1];
    if (spans[i][0] < end) {
      int64_t e2 = spans[i][0] + spans[i][1];
      if (e2 > end)
        spans[w][1] = e2 - spans[w][0];
    } else {
      spans[++w][0] = spans[i][0];
      spans[w][1] = spans[i][1];
    }
  }
  return w + 1;
}

/* A locator's result from N (spans, or -errno) and DOUBT: a spent read
 * budget or a doubt gives 0 spans and "FORMAT: doubt" as *CAUSE; an I/O
 * error keeps -errno and says "FORMAT: read failed: …". */
static int conclude(const ctx *c, int n, const char *doubt, const char *format,
                    char **cause) {
  if (c->exhausted)
    doubt = "too many reads";
  if (doubt) {
    if (cause)
      *cause = rg_printf("%s: %s", format, doubt);
    return 0;
  }
  if (n < 0 && cause)
    *cause = rg_printf("%s: read failed: %s", format, strerror(-n));
  return n;
}

static int locate_mkv(ctx *c, int64_t (*spans)[2], int max, char **cause) {
  mkv *k = rg_calloc(1, sizeof *k);
  int n = 0, rc;
  uint32_t id;
  int64_t size;
  const char *doubt = NULL;

  int h = ebml_header(c->head, c->head_len, &id, &size);
  if (!h || id != ID_EBML || size < 0 || size > 4096) {
    doubt = "bad EBML header";
    goto out;
  }
  int64_t off = h + size;
  h = header_at(c, off, &id, &size);
  if (h < 0)
    goto io;
  if (!h || id != ID_SEGMENT) {
    doubt = "no Segment after the EBML header";
    goto out;
  }
  k->seg_data = off + h;
  k->seg_end =
      size < 0 || size > c->size - k->seg_data ? c->size : k->seg_data + size;
  k->first_cluster = -1;

  /* level 1, up to the first Cluster */
  int64_t first_head = -1;
  off = k->seg_data;
  for (int i = 0; i < MAX_LEVEL1 && off < k->seg_end; i++) {
    h = header_at(c, off, &id, &size);
    if (h < 0)
      goto io;
    if (!h)
      break;
    if (id == ID_CLUSTER) {
      k->first_cluster = off;
      break;
    }
    if (id == ID_SEEKHEAD && first_head < 0)
      first_head = off;
    if (size < 0)
      break;
    off += h + size;
  }
  if (first_head < 0) {
    doubt = "no SeekHead before the first Cluster";
    goto out;
  }
  if (k->first_cluster < 0) {
    doubt = "no Cluster found";
    goto out;
  }

  rc = parse_seekhead(c, k, first_head);
  if (rc == -EINVAL) {
    doubt = "unreadable SeekHead";
    goto out;
  }
  if (rc < 0)
    goto io;
  /* SeekHeads the first one points to (entries appended while iterating) */
  for (int i = 0; i < k->nseeks; i++) {
    if (k->seeks[i].id != ID_SEEKHEAD)
      continue;
    rc = parse_seekhead(c, k, k->seeks[i].pos);
    if (rc < 0 && rc != -EINVAL)
      goto io;
  }

  for (int i = 0; i < k->nseeks; i++) {
    const seek *s = &k->seeks[i];
    if (!wanted(s->id) || s->pos < k->first_cluster)
      continue;
    h = header_at(c, s->pos, &id, &size);
    if (h < 0)
      goto io;
    if (!h || id != s->id)
      continue; /* a stale entry: demuxers ignore it too */
    int64_t len = size < 0 || size > k->seg_end - s->pos - h
                      ? k->seg_end - s->pos
                      : h + size;
    n = add_span(spans, n, max, s->pos, len);
  }
  n = normalize(spans, n);
  goto out;
io:
  doubt = NULL;
  n = c->err ? c->err : -EIO;
out:
  n = conclude(c, n, doubt, "Matroska", cause);
  free(k);
  return n;
}

/* ---- MP4 / QuickTime ---- */

static bool box_type_known(const uint8_t *t) {
  static const char *const first[] = {"ftyp", "moov", "mdat", "free", "skip",
                                      "wide", "pnot", "styp", "uuid", NULL};
  for (int i = 0; first[i]; i++)
    if (memcmp(t, first[i], 4) == 0)
      return true;
  return false;
}

static bool box_type_sane(const uint8_t *t) {
  for (int i = 0; i < 4; i++)
    if (t[i] < 0x20 || t[i] > 0x7e)
      return false;
  return true;
}

/* A box header at OFF: type, total size (to EOF for size 0). Header length,
 * 0 if bad, -errno. */
static int box_at(ctx *c, int64_t off, uint8_t type[4], int64_t *size) {
  uint8_t b[16];
  ssize_t n = fetch(c, b, sizeof b, off);
  if (n < 0)
    return (int)n;
  if (n < 8)
    return 0;
  memcpy(type, b + 4, 4);
  if (!box_type_sane(type))
    return 0;
  uint64_t s = be_uint(b, 4);
  int h = 8;
  if (s == 1) {
    if (n < 16)
      return 0;
    s = be_uint(b + 8, 8);
    h = 16;
  } else if (s == 0) {
    s = (uint64_t)(c->size - off);
  }
  if (s < (uint64_t)h || s > (uint64_t)(c->size - off))
    return 0;
  *size = (int64_t)s;
  return h;
}

static int locate_mp4(ctx *c, int64_t (*spans)[2], int max, char **cause) {
  const char *doubt = NULL;
  int n = 0;
  bool seen_mdat = false;
  int64_t off = 0;
  uint8_t type[4];
  int64_t size;
  int i;
  for (i = 0; i < MAX_BOXES && off < c->size; i++) {
    int h = box_at(c, off, type, &size);
    if (h < 0)
      goto io;
    if (h == 0) {
      /* a moov truncated by a still-growing file also lands here */
      doubt = "bad box header";
      goto out;
    }
    if (memcmp(type, "moov", 4) == 0) {
      if (seen_mdat) {
        if (max > 0) {
          spans[0][0] = off;
          spans[0][1] = size;
          n = 1;
        }
        goto out;
      }
      break; /* moov first: at most an mfra at the end */
    }
    if (memcmp(type, "mdat", 4) == 0)
      seen_mdat = true;
    off += size;
  }
  if (seen_mdat) {
    doubt = "no moov box";
    goto out;
  }
  if (i >= MAX_BOXES && off < c->size) {
    doubt = "too many boxes before moov";
    goto out;
  }
  /* fragmented files end with mfra, whose last box (mfro) gives its size */
  if (c->size >= 16) {
    uint8_t t[16];
    ssize_t r = fetch(c, t, 16, c->size - 16);
    if (r < 0)
      goto io;
    if (r == 16 && memcmp(t + 4, "mfro", 4) == 0) {
      int64_t ms = (int64_t)be_uint(t + 12, 4);
      uint8_t mt[4];
      int64_t msz;
      if (ms >= 16 && ms <= c->size && box_at(c, c->size - ms, mt, &msz) > 0 &&
          memcmp(mt, "mfra", 4) == 0 && msz == ms && max > 0) {
        spans[0][0] = c->size - ms;
        spans[0][1] = ms;
        n = 1;
      }
    }
  }
  goto out;
io:
  n = c->err ? c->err : -EIO;
out:
  return conclude(c, n, doubt, "MP4", cause);
}

int rg_tail_locate(int64_t size, rg_tail_read_fn read, void *arg,
                   int64_t (*spans)[2], int max, char **cause) {
  if (cause)
    *cause = NULL;
  if (max < 0)
    max = 0;
  ctx c = {.size = size, .read = read, .arg = arg};
  if (size <= 0) {
    if (cause)
      *cause = rg_printf("empty file");
    return 0;
  }
  size_t want = size < RG_TAIL_MAX_READ ? (size_t)size : RG_TAIL_MAX_READ;
  uint8_t *head = rg_malloc(want);
  ssize_t got = fetch(&c, head, want, 0);
  if (got < 0) {
    free(head);
    if (cause)
      *cause = rg_printf("read failed: %s", strerror((int)-got));
    return (int)got;
  }
  c.head = head;
  c.head_len = (size_t)got;
  int n;
  uint32_t id;
  if (ebml_id(head, c.head_len, &id) == 4 && id == ID_EBML)
    n = locate_mkv(&c, spans, max, cause);
  else if (c.head_len >= 8 && box_type_known(head + 4))
    n = locate_mp4(&c, spans, max, cause);
  else {
    n = 0;
    if (cause)
      *cause = rg_printf("neither Matroska nor MP4");
  }
  free(head);
  return n;
}
