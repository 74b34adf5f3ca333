/* test-warmup.c — server/warmup.c over a real store and event loop: offers
 * from a temp "cache" file are copied by the worker and published on the
 * loop; lookups return the right contiguous lengths and the mirror holds
 * the source's bytes; only whole blocks inside the head and tail regions
 * are kept (fixed tail, then spans from set_tail); a copy written but not
 * published (a crash in between) is never served and is cleaned up at the
 * next start; a mirror that lost bytes is dropped; everything persists
 * across a reopen; quota with least-recently-used eviction of whole files;
 * forget; a bounded free with copies queued. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loop.h"
#include "store.h"
#include "tap.h"
#include "util.h"
#include "warmup.h"

#define KIB 1024
#define MIB (1024 * 1024)
#define BS RG_WARMUP_BLOCK

static char tmp[] = "/tmp/test-warmup-XXXXXX";
static struct event_base *base;
static rg_store *store;
static char *warm_dir;

static const char H1[] = "0123456789abcdef0123456789abcdef01234567";
static const char H2[] = "89abcdef0123456789abcdef0123456789abcdef";

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

/* A file of SIZE pseudo-random bytes (seeded), kept in memory too. */
static uint8_t *make_source(const char *path, int64_t size, unsigned seed) {
  uint8_t *b = rg_malloc((size_t)size);
  uint32_t x = seed * 2654435761u + 1;
  for (int64_t i = 0; i < size; i++) {
    x ^= x << 13, x ^= x >> 17, x ^= x << 5;
    b[i] = (uint8_t)x;
  }
  if (rg_write_file(path, b, (size_t)size, 0600)) {
    printf("Bail out! cannot write %s\n", path);
    exit(1);
  }
  return b;
}

/* Runs the loop until the store has no copy in flight (≤ 10 s). */
static bool settle(rg_warmup *w) {
  int64_t until = rg_now_ms() + 10000;
  while (rg_now_ms() < until) {
    event_base_loop(base, EVLOOP_NONBLOCK);
    if (rg_warmup_pending(w) == 0)
      return true;
    usleep(1000);
  }
  return false;
}

static rg_warmup *open_store(int64_t quota, int64_t head, int64_t tail) {
  char *cause = NULL;
  rg_warmup_opts o = {store, warm_dir, quota, head, tail};
  rg_warmup *w = rg_warmup_new(&o, &cause);
  if (!w) {
    printf("Bail out! rg_warmup_new: %s\n", cause);
    exit(1);
  }
  return w;
}

/* The mirror's bytes [OFF, OFF+LEN) equal SRC's. */
static bool mirror_eq(const char *path, const uint8_t *src, int64_t off,
                      int64_t len) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return false;
  uint8_t *b = rg_malloc((size_t)len);
  ssize_t n = pread(fd, b, (size_t)len, off);
  close(fd);
  bool same = n == len && memcmp(b, src + off, (size_t)len) == 0;
  free(b);
  return same;
}

static int64_t lookup(rg_warmup *w, const char *h, int i, int64_t off,
                      int64_t len, const char **path) {
  const char *p = NULL;
  int64_t n = rg_warmup_lookup(w, h, i, off, len, &p);
  if (path)
    *path = p;
  return n;
}

static int64_t jint(json_t *o, const char *k) {
  return json_integer_value(json_object_get(o, k));
}

static bool exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

int main(void) {
  if (!mkdtemp(tmp)) {
    printf("Bail out! mkdtemp\n");
    return 1;
  }
  char *cause = NULL;
  char *db = rg_printf("%s/state.db", tmp);
  if (rg_store_open(db, &store, &cause)) {
    printf("Bail out! store: %s\n", cause);
    return 1;
  }
  free(db);
  base = event_base_new();
  if (rg_loop_init(base)) {
    printf("Bail out! rg_loop_init\n");
    return 1;
  }
  warm_dir = rg_printf("%s/warm", tmp);

  /* ---- a 20 MiB + 12345 file: head 1 MiB + 100, fixed tail 300000 */
  const int64_t size = 20 * MIB + 12345;
  const int64_t head = MIB + 100, ftail = 300000;
  char *src_path = rg_printf("%s/cache-a.bin", tmp);
  uint8_t *src = make_source(src_path, size, 1);
  rg_warmup *w = open_store(0, head, ftail);
  ok(w != NULL, "store opens");
  json_t *u = rg_warmup_usage_json(w);
  is_int(jint(u, "used"), 0, "nothing used at first");
  is_int(jint(u, "quota"), (int64_t)32 << 30, "quota 0 means the default");
  json_decref(u);
  is_int(lookup(w, H1, 0, 0, MIB, NULL), 0, "unknown file: not warm");

  int n;
  int64_t(*r)[2] = rg_warmup_regions(w, H1, 0, size, &n);
  is_int(n, 2, "regions before set_tail: head and fixed tail");
  ok(n == 2 && r[0][0] == 0 && r[0][1] == head && r[1][0] == size - ftail &&
         r[1][1] == ftail,
     "regions are [0, head) and the last fixed_tail bytes");
  free(r);
  r = rg_warmup_regions(w, H1, 0, 700000, &n);
  ok(n == 1 && r[0][0] == 0 && r[0][1] == 700000,
     "a file smaller than the head is one region");
  free(r);

  rg_warmup_offer(w, H1, 0, size, src_path, 0, 512 * KIB);
  ok(settle(w), "first offer is published");
  const char *mp = NULL;
  is_int(lookup(w, H1, 0, 0, 100 * MIB, &mp), 512 * KIB,
         "lookup at 0: the 512 KiB offered");
  ok(mp && strstr(mp, H1) != NULL, "mirror path under <dir>/<hash>/: %s",
     mp ? mp : "(null)");
  char *mirror = rg_printf("%s/%s/0", warm_dir, H1);
  is_str(mp, mirror, "mirror path is <dir>/<hash>/<index>");
  is_int(lookup(w, H1, 0, 100, 10, NULL), 10, "lookup is capped by maxlen");
  is_int(lookup(w, H1, 0, 512 * KIB - 1, 100, NULL), 1,
         "lookup stops at the last warm byte");
  is_int(lookup(w, H1, 0, 512 * KIB, 100, NULL), 0, "next block not warm");
  ok(mirror_eq(mirror, src, 0, 512 * KIB), "mirror bytes equal the source");

  rg_warmup_offer(w, H1, 0, size, src_path, 600000, 100000);
  ok(settle(w), "unaligned offer settles");
  is_int(lookup(w, H1, 0, 600000, 10, NULL), 0,
         "a block only partly offered is not copied");
  rg_warmup_offer(w, H1, 0, size, src_path, 5 * MIB, 4 * MIB);
  ok(settle(w), "offer outside the regions settles");
  is_int(lookup(w, H1, 0, 5 * MIB, 10, NULL), 0,
         "bytes outside the head and tail are not kept");

  rg_warmup_offer(w, H1, 0, size, src_path, 0, size);
  ok(settle(w), "whole-file offer is published");
  int64_t head_end = (head + BS - 1) / BS * BS;
  is_int(lookup(w, H1, 0, 0, size, NULL), head_end,
         "head warm up to the end of the block holding its last byte");
  is_int(lookup(w, H1, 0, head_end, 10, NULL), 0, "the middle is not warm");
  int64_t tail_start = (size - ftail) / BS * BS;
  is_int(lookup(w, H1, 0, tail_start, size, NULL), size - tail_start,
         "tail warm from its first block to the end of the file");
  is_int(lookup(w, H1, 0, size - 100, 1000, NULL), 100,
         "lookup stops at the end of the file (short last block)");
  is_int(lookup(w, H1, 0, size, 10, NULL), 0, "lookup past the end: 0");
  ok(mirror_eq(mirror, src, 0, head_end), "head bytes equal the source");
  ok(mirror_eq(mirror, src, tail_start, size - tail_start),
     "tail bytes equal the source");
  json_t *fj = rg_warmup_file_json(w, H1, 0, size);
  ok(json_is_true(json_object_get(fj, "complete")), "file_json: complete");
  is_int(jint(fj, "head"), head, "file_json: head bytes");
  is_int(jint(fj, "tail"), ftail, "file_json: tail bytes");
  is_int(jint(fj, "regions"), head + ftail, "file_json: region bytes");
  is_int(jint(fj, "used"), head_end + size - tail_start,
         "file_json: used counts whole blocks");
  json_decref(fj);
  u = rg_warmup_usage_json(w);
  is_int(jint(u, "used"), head_end + size - tail_start, "usage: used");
  is_int(jint(u, "files"), 1, "usage: one file");
  json_decref(u);

  /* ---- tail spans from the locator */
  const int64_t spans[2][2] = {{5 * MIB + 7, 1000}, {size - 50000, 50000}};
  rg_warmup_set_tail(w, H1, 0, size, spans, 2);
  r = rg_warmup_regions(w, H1, 0, size, &n);
  ok(n == 3 && r[1][0] == 5 * MIB + 7 && r[1][1] == 1000 &&
         r[2][0] == size - 50000,
     "regions after set_tail: head and the two spans");
  free(r);
  fj = rg_warmup_file_json(w, H1, 0, size);
  ok(json_is_false(json_object_get(fj, "complete")),
     "a new tail span is not warm yet");
  ok(json_is_true(json_object_get(fj, "tail_known")), "tail_known");
  json_decref(fj);
  rg_warmup_offer(w, H1, 0, size, src_path, 5 * MIB, MIB);
  ok(settle(w), "offer over the new span settles");
  is_int(lookup(w, H1, 0, 5 * MIB + 7, 1000, NULL), 1000,
         "the new span is warm");
  is_int(lookup(w, H1, 0, 5 * MIB, size, NULL), BS,
         "exactly the one block holding it");
  ok(mirror_eq(mirror, src, 5 * MIB, BS), "span bytes equal the source");
  fj = rg_warmup_file_json(w, H1, 0, size);
  ok(json_is_true(json_object_get(fj, "complete")), "complete again");
  json_decref(fj);

  /* ---- small reads: a block straddling two offers is copied once both
   * halves were offered */
  for (int64_t o = 0; o < 300000; o += 20000)
    rg_warmup_offer(w, H1, 2, size, src_path, o, 20000);
  ok(settle(w), "offers of 20000 bytes each settle");
  is_int(lookup(w, H1, 2, 0, size, NULL), 4 * BS,
         "consecutive small offers warm every whole block they cover");
  char *mirror2 = rg_printf("%s/%s/2", warm_dir, H1);
  ok(mirror_eq(mirror2, src, 0, 4 * BS), "their bytes equal the source");
  free(mirror2);

  /* ---- a cache block released (hole-punched) after its offer is not
   * copied: zeros are never published */
  char *src3_path = rg_printf("%s/cache-c.bin", tmp);
  rg_write_file(src3_path, src, 4 * BS, 0600);
  int pfd = open(src3_path, O_WRONLY);
  bool punched =
      pfd >= 0 &&
      fallocate(pfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, BS, BS) == 0;
  if (pfd >= 0)
    close(pfd);
  if (punched) {
    rg_warmup_offer(w, H1, 3, size, src3_path, 0, 4 * BS);
    ok(settle(w), "offer over a punched cache file settles");
    is_int(lookup(w, H1, 3, 0, size, NULL), BS, "the block before the hole");
    is_int(lookup(w, H1, 3, BS, size, NULL), 0, "the punched block: not warm");
    is_int(lookup(w, H1, 3, 2 * BS, size, NULL), 2 * BS,
           "the blocks after the hole");
  } else {
    for (int i = 0; i < 4; i++)
      ok(1, "# SKIP the temp dir cannot punch holes");
  }
  free(src3_path);

  /* ---- a crash between the write and the publish */
  char *src2_path = rg_printf("%s/cache-b.bin", tmp);
  uint8_t *src2 = make_source(src2_path, 3 * MIB, 2);
  rg_warmup_test_crash(w, true);
  rg_warmup_offer(w, H1, 1, 3 * MIB, src2_path, 0, 3 * MIB);
  ok(settle(w), "copies of file 1 finish");
  char *mirror1 = rg_printf("%s/%s/1", warm_dir, H1);
  ok(mirror_eq(mirror1, src2, 0, MIB), "its bytes reached the mirror");
  is_int(lookup(w, H1, 1, 0, MIB, NULL), 0, "but unpublished: not served");
  rg_warmup_test_crash(w, false);

  /* ---- reopen: everything published is back, the rest is gone */
  rg_warmup_free(&w);
  ok(w == NULL, "free sets the pointer to NULL");
  w = open_store(0, head, ftail);
  ok(!exists(mirror1), "a mirror without valid blocks is removed at start");
  is_int(lookup(w, H1, 1, 0, MIB, NULL), 0, "file 1 still not served");
  is_int(lookup(w, H1, 0, 0, size, NULL), head_end, "head back after reopen");
  is_int(lookup(w, H1, 0, 5 * MIB + 7, 1000, NULL), 1000,
         "span back after reopen");
  fj = rg_warmup_file_json(w, H1, 0, size);
  ok(json_is_true(json_object_get(fj, "tail_known")) &&
         json_is_true(json_object_get(fj, "complete")),
     "tail spans persisted");
  json_decref(fj);
  rg_warmup_offer(w, H1, 1, 3 * MIB, src2_path, 0, 3 * MIB);
  ok(settle(w), "file 1 offered again");
  is_int(lookup(w, H1, 1, 0, 3 * MIB, NULL), head_end, "file 1 head warm");
  ok(mirror_eq(mirror1, src2, 0, head_end), "file 1 bytes equal the source");

  /* ---- a mirror that lost bytes (deleted, truncated) is dropped */
  rg_warmup_free(&w);
  if (truncate(mirror1, 1000) != 0)
    printf("# truncate: %s\n", strerror(errno));
  w = open_store(0, head, ftail);
  is_int(lookup(w, H1, 1, 0, 100, NULL), 0,
         "a truncated mirror is not served after a restart");
  is_int(lookup(w, H1, 0, 0, 100, NULL), 100, "the other file still is");

  /* ---- forget */
  rg_warmup_forget(w, H1);
  is_int(lookup(w, H1, 0, 0, 100, NULL), 0, "forget: not warm");
  char *hdir = rg_printf("%s/%s", warm_dir, H1);
  ok(!exists(hdir), "forget removes the torrent's directory");
  u = rg_warmup_usage_json(w);
  is_int(jint(u, "used"), 0, "forget: nothing used");
  is_int(jint(u, "files"), 0, "forget: no files");
  json_decref(u);
  rg_warmup_free(&w);
  w = open_store(0, head, ftail);
  is_int(lookup(w, H1, 0, 0, 100, NULL), 0, "forgotten after reopen too");
  rg_warmup_free(&w);

  /* ---- quota: 1 MiB, files of 256 KiB, least recently used goes first */
  char *small_path = rg_printf("%s/cache-small.bin", tmp);
  uint8_t *small = make_source(small_path, 256 * KIB, 3);
  w = open_store(MIB, MIB, 0);
  char hashes[6][41];
  for (int i = 0; i < 6; i++)
    snprintf(hashes[i], sizeof hashes[i], "%040x", i + 1);
  for (int i = 0; i < 4; i++) {
    rg_warmup_offer(w, hashes[i], 0, 256 * KIB, small_path, 0, 256 * KIB);
    settle(w);
  }
  int warm4 = 0;
  for (int i = 0; i < 4; i++)
    warm4 += lookup(w, hashes[i], 0, 0, MIB, NULL) == 256 * KIB;
  is_int(warm4, 4, "four files fill the quota");
  lookup(w, hashes[0], 0, 0, 1, NULL); /* file 0 becomes the most recent */
  rg_warmup_offer(w, hashes[4], 0, 256 * KIB, small_path, 0, 256 * KIB);
  ok(settle(w), "a fifth file settles");
  is_int(lookup(w, hashes[4], 0, 0, MIB, NULL), 256 * KIB, "fifth is warm");
  is_int(lookup(w, hashes[1], 0, 0, MIB, NULL), 0,
         "the least recently used (file 1) was evicted");
  char *m1 = rg_printf("%s/%s/0", warm_dir, hashes[1]);
  ok(!exists(m1), "its mirror is removed");
  is_int(lookup(w, hashes[0], 0, 0, MIB, NULL), 256 * KIB,
         "file 0, used recently, is kept");
  char *m4 = rg_printf("%s/%s/0", warm_dir, hashes[4]);
  ok(mirror_eq(m4, small, 0, 256 * KIB), "the new file's bytes are right");
  u = rg_warmup_usage_json(w);
  ok(jint(u, "used") <= MIB, "used ≤ quota (%lld)", (long long)jint(u, "used"));
  is_int(jint(u, "files"), 4, "four files kept");
  json_decref(u);
  /* LRU order survives a reopen: file 2 is now the oldest */
  rg_warmup_free(&w);
  w = open_store(MIB, MIB, 0);
  rg_warmup_offer(w, hashes[5], 0, 256 * KIB, small_path, 0, 256 * KIB);
  ok(settle(w), "a sixth file after a reopen settles");
  is_int(lookup(w, hashes[2], 0, 0, MIB, NULL), 0,
         "after a reopen the LRU order is kept (file 2 evicted)");
  is_int(lookup(w, hashes[0], 0, 0, MIB, NULL), 256 * KIB, "file 0 kept");
  /* a file larger than the whole quota warms what fits and drops the rest */
  rg_warmup_free(&w);
  w = open_store(MIB, 4 * MIB, 0);
  rg_warmup_offer(w, H2, 0, size, src_path, 0, size);
  ok(settle(w), "an oversized offer settles");
  u = rg_warmup_usage_json(w);
  is_int(jint(u, "used"), MIB, "it fills the quota exactly");
  ok(jint(u, "dropped") > 0, "and the rest is dropped");
  json_decref(u);
  is_int(lookup(w, H2, 0, 0, size, NULL), MIB, "its first MiB is warm");

  /* ---- free is bounded with copies queued */
  rg_warmup_free(&w);
  w = open_store(0, 64 * MIB, 0);
  rg_warmup_offer(w, H2, 1, size, src_path, 0, size);
  int64_t t0 = rg_now_ms();
  rg_warmup_free(&w);
  int64_t took = rg_now_ms() - t0;
  ok(took < 2000, "free with copies queued takes %lld ms", (long long)took);
  w = open_store(0, 64 * MIB, 0);
  int64_t got = lookup(w, H2, 1, 0, size, NULL);
  ok(got % BS == 0 && got <= size, "whatever was published is whole blocks");
  rg_warmup_free(&w);
  event_base_loop(base, EVLOOP_NONBLOCK); /* jobs that came back late */

  rg_loop_shutdown();
  rg_store_close(&store);
  event_base_free(base);
  free(src);
  free(src2);
  free(small);
  free(src_path);
  free(src2_path);
  free(small_path);
  free(mirror);
  free(mirror1);
  free(hdir);
  free(m1);
  free(m4);
  free(warm_dir);
  nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  return tap_done();
}
