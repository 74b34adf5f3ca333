/* test-library.c — server/library.c over a real store, torrent manager and
 * libtorrent session (listening on 127.0.0.1, no DHT; nothing is
 * downloaded): automatic entries from release-named .torrent files made by
 * rg_engine_make_torrent over sparse temp files, paths and sanitising,
 * collisions with a stable suffix, upgrades keeping path and inode, edits,
 * validation, tree snapshots (node, lookup, sizes, mtimes, listener),
 * inodes stable across a close and reopen, removal, and a 10k-entry load
 * and rebuild that must stay fast. */
#include "config.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine.h"
#include "library.h"
#include "log.h"
#include "store.h"
#include "tap.h"
#include "torrents.h"
#include "util.h"

#define MIB (1024 * 1024)

static char tmp[] = "/tmp/test-library-XXXXXX";

static struct {
  struct event_base *base;
  rg_engine *engine;
  rg_store *store;
  rg_tm *tm;
  rg_library *lib;
} w;

static int listener_calls;
static uint64_t listener_new_root;

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(p);
}

static void on_changed(void *arg, rg_lib_tree *old_tree,
                       rg_lib_tree *new_tree) {
  (void)arg;
  listener_calls++;
  if (old_tree && new_tree && old_tree != new_tree)
    listener_new_root = rg_lib_tree_node(new_tree, RG_LIB_ROOT_INO)->ino;
}

static void open_all(void) {
  char *cause = NULL;
  char *db = rg_printf("%s/state.db", tmp);
  if (rg_store_open(db, &w.store, &cause)) {
    printf("Bail out! store: %s\n", cause);
    exit(1);
  }
  free(db);
  w.base = event_base_new();
  rg_engine_opts eo = {.listen_interfaces = "127.0.0.1:0"};
  w.engine = rg_engine_new(&eo, &cause);
  if (!w.engine) {
    printf("Bail out! engine: %s\n", cause);
    exit(1);
  }
  char *cache = rg_printf("%s/cache", tmp);
  rg_tm_opts to = {.base = w.base,
                   .engine = w.engine,
                   .store = w.store,
                   .cache_dir = cache,
                   .read_timeout_s = 5,
                   .idle_timeout_s = 60,
                   .metadata_timeout_s = 60,
                   .readahead_mb = 4,
                   .max_active = 4};
  w.tm = rg_tm_new(&to);
  free(cache);
  rg_tm_load(w.tm);
  w.lib = rg_library_new(w.store, w.tm, &cause);
  if (!w.lib) {
    printf("Bail out! library: %s\n", cause);
    exit(1);
  }
  rg_library_set_listener(w.lib, on_changed, NULL);
  rg_library_attach(w.lib);
}

static void close_all(void) {
  rg_library_free(&w.lib);
  rg_tm_free(&w.tm);
  rg_engine_free(&w.engine);
  event_base_free(w.base);
  rg_store_close(&w.store);
}

typedef struct mkfile {
  const char *path;
  int64_t size;
} mkfile;

/* Makes sparse files under tmp/src/NAME (or the single file NAME when
 * NFILES is 0) and adds a .torrent of them. Returns the torrent. */
static rg_torrent *add_torrent(const char *name, const mkfile *files,
                               int nfiles, int64_t single_size) {
  char *root = rg_printf("%s/src/%s", tmp, name);
  if (nfiles == 0) {
    char *dir = rg_printf("%s/src", tmp);
    rg_mkdir_p(dir, 0755);
    free(dir);
    int fd = open(root, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, single_size) != 0)
      exit(99);
    close(fd);
  }
  for (int i = 0; i < nfiles; i++) {
    char *p = rg_printf("%s/%s", root, files[i].path);
    char *slash = strrchr(p, '/');
    *slash = 0;
    rg_mkdir_p(p, 0755);
    *slash = '/';
    int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC, 0644);
    if (fd < 0 || ftruncate(fd, files[i].size) != 0)
      exit(99);
    close(fd);
    free(p);
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  char *cause = NULL;
  if (rg_engine_make_torrent(root, 4 * MIB, NULL, 0, &buf, &len, &cause)) {
    printf("Bail out! make_torrent %s: %s\n", name, cause);
    exit(1);
  }
  rg_torrent *t = NULL;
  bool existed = false;
  if (rg_tm_add_torrent_file(w.tm, buf, len, NULL, &t, &existed, &cause)) {
    printf("Bail out! add %s: %s\n", name, cause);
    exit(1);
  }
  free(buf);
  free(root);
  return t;
}

/* Index of the file whose path ends with SUFFIX. */
static int file_idx(rg_torrent *t, const char *suffix) {
  const rg_tinfo *ti = rg_torrent_info(t);
  size_t sl = strlen(suffix);
  for (int i = 0; i < ti->nfiles; i++) {
    size_t pl = strlen(ti->files[i].path);
    if (pl >= sl && strcmp(ti->files[i].path + pl - sl, suffix) == 0)
      return i;
  }
  return -1;
}

typedef struct found {
  const char *hash;
  int n;
  rg_lib_entry last;
  char path[512];
} found;

static void count_cb(const rg_lib_entry *e, void *arg) {
  found *f = arg;
  if (!f->hash || strcmp(e->hash, f->hash) == 0) {
    f->n++;
    f->last = *e;
    snprintf(f->path, sizeof f->path, "%s", e->path);
  }
}

static int count_entries(const char *hash) {
  found f = {.hash = hash};
  rg_library_each(w.lib, count_cb, &f);
  return f.n;
}

typedef struct by_path {
  const char *path;
  rg_lib_entry e;
  bool hit;
} by_path;

static void path_cb(const rg_lib_entry *e, void *arg) {
  by_path *b = arg;
  if (strcmp(e->path, b->path) == 0) {
    b->e = *e;
    b->hit = true;
  }
}

/* The entry at PATH (fields valid until the next change), or NULL. */
static const rg_lib_entry *entry_at(const char *path) {
  static by_path b;
  b = (by_path){.path = path};
  rg_library_each(w.lib, path_cb, &b);
  return b.hit ? &b.e : NULL;
}

/* Node of PATH in tree T by successive lookups. */
static const rg_lib_node *walk(const rg_lib_tree *t, const char *path) {
  const rg_lib_node *n = rg_lib_tree_node(t, RG_LIB_ROOT_INO);
  char *p = rg_strdup(path), *save = NULL;
  for (char *c = strtok_r(p, "/", &save); c && n;
       c = strtok_r(NULL, "/", &save))
    n = rg_lib_tree_lookup(t, n->ino, c);
  free(p);
  return n;
}

static rg_lib_entry *manual(const char *hash, int idx, const char *kind,
                            const char *title, int year, int season,
                            int episode, int *rc, char **cause) {
  rg_lib_entry in = {.file_index = idx,
                     .title = (char *)title,
                     .year = year,
                     .season = season,
                     .episode = episode};
  snprintf(in.hash, sizeof in.hash, "%s", hash);
  snprintf(in.kind, sizeof in.kind, "%s", kind);
  rg_lib_entry *out = NULL;
  *cause = NULL;
  *rc = rg_library_add(w.lib, &in, &out, cause);
  return out;
}

/* ---- the tests ---- */

static char matrix[41], inception[41], pack[41], misc[41];
static uint64_t matrix_ino, pack_e1_ino, collide2_ino, upgrade_ino;
static char collide2_path[512];

static void test_automatic(void) {
  const mkfile mf[] = {
      {"The.Matrix.1999.1080p.BluRay.x264-GRP.mkv", 25 * MIB},
      {"Sample/the.matrix.1999.sample.mkv", 21 * MIB},
      {"The.Matrix.1999.1080p.BluRay.x264-GRP.nfo", 2000},
  };
  int calls = listener_calls;
  rg_torrent *t =
      add_torrent("The.Matrix.1999.1080p.BluRay.x264-GRP", mf, 3, 0);
  snprintf(matrix, sizeof matrix, "%s", rg_torrent_hex(t));
  is_int(count_entries(matrix), 1, "movie torrent: one automatic entry");
  const rg_lib_entry *e =
      entry_at("movies/The Matrix (1999)/The Matrix (1999).mkv");
  ok(e != NULL, "movie path movies/The Matrix (1999)/The Matrix (1999).mkv");
  if (e) {
    is_int(e->file_index, file_idx(t, "GRP.mkv"),
           "the main file, not the sample");
    ok(e->automatic && strcmp(e->kind, "movie") == 0 && e->year == 1999,
       "automatic movie entry, year 1999");
    is_int(e->size, 25 * MIB, "size from the metadata");
    is_int(e->mtime, rg_torrent_added(t), "mtime is the torrent's added time");
    ok(e->ino > 3, "a file inode above the fixed ones");
    matrix_ino = e->ino;
  }
  ok(listener_calls > calls, "the listener heard about the new tree");

  t = add_torrent("Inception.2010.720p.BrRip.x264.YIFY.MP4", NULL, 0, 1 * MIB);
  snprintf(inception, sizeof inception, "%s", rg_torrent_hex(t));
  ok(entry_at("movies/Inception (2010)/Inception (2010).mp4") != NULL,
     "single small video: entry, extension lowercased");

  const mkfile pf[] = {
      {"Breaking.Bad.S01E01.1080p.BluRay.x264.mkv", 21 * MIB},
      {"Breaking.Bad.S01E02.1080p.BluRay.x264.mkv", 22 * MIB},
      {"S01E03.mkv", 23 * MIB},
      {"Extras/Behind.the.Scenes.mkv", 1 * MIB},
      {"Breaking.Bad.S01E04.1080p.sample.mkv", 21 * MIB},
  };
  t = add_torrent("Breaking.Bad.S01.1080p.BluRay.x264-GRP", pf, 5, 0);
  snprintf(pack, sizeof pack, "%s", rg_torrent_hex(t));
  is_int(count_entries(pack), 3,
         "season pack: three episodes (no extra, no sample)");
  e = entry_at("tv/Breaking Bad/Season 01/Breaking Bad - S01E01.mkv");
  ok(e && e->season == 1 && e->episode == 1 && strcmp(e->kind, "episode") == 0,
     "episode path tv/Breaking Bad/Season 01/Breaking Bad - S01E01.mkv");
  if (e)
    pack_e1_ino = e->ino;
  ok(entry_at("tv/Breaking Bad/Season 01/Breaking Bad - S01E02.mkv") != NULL,
     "second episode");
  e = entry_at("tv/Breaking Bad/Season 01/Breaking Bad - S01E03.mkv");
  ok(e && e->file_index == file_idx(t, "S01E03.mkv"),
     "a bare S01E03.mkv takes the show from the torrent name");

  const mkfile sf[] = {
      {"The.Wire.S01E01.The.Target.720p.mkv", 21 * MIB},
      {"The.Wire.S01E01.The.Target.720p.DUPE.mkv", 21 * MIB},
  };
  t = add_torrent("The.Wire.2002.S01.720p", sf, 2, 0);
  is_int(count_entries(rg_torrent_hex(t)), 1,
         "two files of one torrent with one identity: one entry");
  ok(entry_at("tv/The Wire/Season 01/The Wire - S01E01.mkv") != NULL ||
         entry_at("tv/The Wire (2002)/Season 01/The Wire (2002) - S01E01.mkv"),
     "the wire episode path");

  const mkfile xf[] = {
      {"clip00.mkv", 4096}, {"clip01.mkv", 4096}, {"clip02.mkv", 4096},
      {"clip03.avi", 4096}, {"clip04.mkv", 4096}, {"clip05.mkv", 4096},
      {"clip06.mkv", 4096}, {"clip07.mkv", 4096}, {"clip08.mkv", 4096},
      {"clip09.mkv", 4096}, {"notes.TXT", 100}};
  t = add_torrent("Misc.Clips", xf, 11, 0);
  snprintf(misc, sizeof misc, "%s", rg_torrent_hex(t));
  is_int(count_entries(misc), 0, "many small videos: no automatic entry");
}

static int mi(const char *suffix) {
  return file_idx(rg_tm_find(w.tm, misc), suffix);
}

static void test_sanitise(void) {
  static const struct {
    const char *title;
    int year;
    const char *want;
  } c[] = {
      {"AC/DC: Live? <at> \"Donington\" | *1991*", 1992,
       "movies/AC-DC - Live at 'Donington' - 1991 (1992)/"
       "AC-DC - Live at 'Donington' - 1991 (1992).mkv"},
      {"CON", 0, "movies/CON_/CON_.mkv"},
      {"lpt1.part", 2000, "movies/lpt1_.part (2000)/lpt1_.part (2000).mkv"},
      {"  ..Hidden Dots.. ", 0, "movies/Hidden Dots/Hidden Dots.mkv"},
      {"Tab\tand\nnewline", 0, "movies/Tab and newline/Tab and newline.mkv"},
      {"\x01\x02", 0, "movies/Untitled/Untitled.mkv"},
      {"Bad\xff\xfeUTF", 0, "movies/Bad__UTF/Bad__UTF.mkv"},
      {"Time 10:30", 0, "movies/Time 10-30/Time 10-30.mkv"},
  };
  int idx = mi("clip00.mkv");
  for (size_t i = 0; i < RG_ARRAY_LEN(c); i++) {
    int rc;
    char *cause;
    rg_lib_entry *e =
        manual(misc, idx, "movie", c[i].title, c[i].year, -1, -1, &rc, &cause);
    is_str(e ? e->path : cause, c[i].want, "sanitised: %s", c[i].want);
    ok(e && !e->automatic, "manual entry is not automatic");
    rg_lib_entry_free(&e);
    free(cause);
  }
  /* 240 two-byte characters */
  char big[700] = "";
  for (int i = 0; i < 240; i++)
    strcat(big, "\xc3\xa9");
  int rc;
  char *cause;
  rg_lib_entry *e = manual(misc, idx, "movie", big, 2001, -1, -1, &rc, &cause);
  ok(e != NULL, "a 480-byte title is accepted");
  if (e) {
    bool fine = true;
    for (char *p = e->path, *s; *p; p = s + (*s ? 1 : 0)) {
      s = strchr(p, '/');
      if (!s)
        s = p + strlen(p);
      if (s - p > 200)
        fine = false;
      if (*s == 0)
        break;
    }
    ok(fine, "every component at most 200 bytes");
    const char *base = strrchr(e->path, '/') + 1;
    ok(strncmp(base, "\xc3\xa9", 2) == 0 &&
           strstr(base, "\xc3\xa9 (2001).mkv") != NULL,
       "cut between UTF-8 sequences, year and extension kept");
  }
  rg_lib_entry_free(&e);
  free(cause);
  /* still one entry for the file: each add replaced the last */
  found f = {.hash = misc};
  rg_library_each(w.lib, count_cb, &f);
  is_int(f.n, 1, "one entry per torrent file: a new one replaces the old");
}

static void test_collisions(void) {
  int rc;
  char *cause;
  rg_lib_entry *a = manual(misc, mi("clip01.mkv"), "movie", "Title: X", 2020,
                           -1, -1, &rc, &cause);
  rg_lib_entry *b = manual(misc, mi("clip02.mkv"), "movie", "Title - X", 2020,
                           -1, -1, &rc, &cause);
  is_str(a ? a->path : NULL, "movies/Title - X (2020)/Title - X (2020).mkv",
         "first of two colliding titles");
  is_str(b ? b->path : NULL, "movies/Title - X (2020)/Title - X (2020) [2].mkv",
         "the second gets a [2] suffix");
  rg_lib_entry *c = manual(misc, mi("clip05.mkv"), "movie", "TITLE | X", 2020,
                           -1, -1, &rc, &cause);
  ok(c && strcmp(c->path, "movies/Title - X (2020)/TITLE - X (2020) [3].mkv") ==
              0,
     "a case-variant directory takes the spelling published first (%s)",
     c ? c->path : "none");
  if (b) {
    collide2_ino = b->ino;
    snprintf(collide2_path, sizeof collide2_path, "%s", b->path);
  }
  /* the suffix is stable: the first going away does not move the second */
  if (a)
    is_int(rg_library_remove(w.lib, a->id), 0, "remove the first");
  rg_lib_entry *b2 = b ? rg_library_get(w.lib, b->id) : NULL;
  is_str(b2 ? b2->path : NULL, collide2_path, "the [2] entry keeps its path");
  rg_lib_entry *d = manual(misc, mi("clip06.mkv"), "movie", "Title? - X", 2020,
                           -1, -1, &rc, &cause);
  is_str(d ? d->path : NULL, "movies/Title - X (2020)/Title - X (2020).mkv",
         "a third colliding title takes the free unsuffixed path");
  ok(a && d && d->ino == a->ino, "and that path's old inode");
  is_int(rg_library_remove(w.lib, 999999), -ENOENT, "remove unknown id");
  rg_lib_entry_free(&a);
  rg_lib_entry_free(&b);
  rg_lib_entry_free(&b2);
  rg_lib_entry_free(&c);
  rg_lib_entry_free(&d);
}

static void test_upgrade(void) {
  int rc;
  char *cause;
  rg_lib_entry *a = manual(misc, mi("clip07.mkv"), "episode", "Upgrade Show",
                           2010, 2, 5, &rc, &cause);
  ok(a && strcmp(a->path, "tv/Upgrade Show (2010)/Season 02/Upgrade Show "
                          "(2010) - S02E05.mkv") == 0,
     "episode with year: %s", a ? a->path : cause);
  rg_lib_entry *b = manual(misc, mi("clip03.avi"), "episode", "upgrade show",
                           2010, 2, 5, &rc, &cause);
  ok(a && b && strcmp(a->path, b->path) == 0,
     "an upgrade keeps the path (extension too): %s", b ? b->path : cause);
  ok(a && b && a->ino == b->ino, "an upgrade keeps the inode");
  ok(a && b && b->id != a->id && !rg_library_get(w.lib, a->id),
     "the old entry is gone");
  ok(b && b->file_index == mi("clip03.avi"),
     "the new entry plays the new file");
  if (b)
    upgrade_ino = b->ino;
  /* edit: another title moves it; back again finds the old inode */
  rg_lib_entry in = *b;
  in.title = "Renamed Show";
  rg_lib_entry *c = NULL;
  rc = rg_library_update(w.lib, b->id, &in, &c, &cause);
  ok(rc == 0 && c &&
         strcmp(c->path, "tv/Renamed Show (2010)/Season 02/"
                         "Renamed Show (2010) - S02E05.avi") == 0,
     "edit to another title: new path %s", c ? c->path : cause);
  ok(c && c->ino != upgrade_ino, "a new path has a new inode");
  in.title = "Upgrade Show";
  rg_lib_entry *d = NULL;
  rc = rg_library_update(w.lib, b->id, &in, &d, &cause);
  ok(rc == 0 && d &&
         strcmp(d->path, "tv/Upgrade Show (2010)/Season 02/"
                         "Upgrade Show (2010) - S02E05.avi") == 0,
     "edit back: %s", d ? d->path : cause);
  rg_lib_entry_free(&a);
  rg_lib_entry_free(&b);
  rg_lib_entry_free(&c);
  rg_lib_entry_free(&d);
}

static void test_validation(void) {
  static const struct {
    const char *hash;
    int idx;
    const char *kind, *title;
    int year, season, episode;
    int rc;
    const char *field;
  } c[] = {
      {NULL, 0, "show", "X", 0, -1, -1, -EINVAL, "kind"},
      {NULL, 0, "episode", "X", 0, -1, 3, -EINVAL, "season"},
      {NULL, 0, "episode", "X", 0, 1, -1, -EINVAL, "episode"},
      {NULL, 0, "movie", "   ", 0, -1, -1, -EINVAL, "title"},
      {NULL, 0, "movie", "X", 1200, -1, -1, -EINVAL, "year"},
      {NULL, 999, "movie", "X", 0, -1, -1, -EINVAL, "file_index"},
      {NULL, -1, "movie", "X", 0, -1, -1, -EINVAL, "file_index"},
      {"0123456789012345678901234567890123456789", 0, "movie", "X", 0, -1, -1,
       -ENOENT, "info_hash"},
      {"zz23456789012345678901234567890123456789", 0, "movie", "X", 0, -1, -1,
       -EINVAL, "info_hash"},
  };
  for (size_t i = 0; i < RG_ARRAY_LEN(c); i++) {
    int rc;
    char *cause;
    rg_lib_entry *e =
        manual(c[i].hash ? c[i].hash : misc, c[i].idx, c[i].kind, c[i].title,
               c[i].year, c[i].season, c[i].episode, &rc, &cause);
    ok(!e && rc == c[i].rc && cause &&
           strncmp(cause, c[i].field, strlen(c[i].field)) == 0,
       "rejected, naming %s: %s", c[i].field, cause ? cause : "(none)");
    rg_lib_entry_free(&e);
    free(cause);
  }
  rg_lib_entry in = {.file_index = mi("clip08.mkv"),
                     .title = "Imdb",
                     .imdb_id = "nm123",
                     .season = -1,
                     .episode = -1};
  snprintf(in.hash, sizeof in.hash, "%s", misc);
  snprintf(in.kind, sizeof in.kind, "movie");
  char *cause = NULL;
  rg_lib_entry *out = NULL;
  int rc = rg_library_add(w.lib, &in, &out, &cause);
  ok(rc == -EINVAL && cause && strncmp(cause, "imdb_id", 7) == 0,
     "bad imdb id rejected");
  free(cause);
  in.imdb_id = "tt0133093";
  in.tmdb_id = 603;
  rc = rg_library_add(w.lib, &in, &out, &cause);
  ok(rc == 0 && out && strcmp(out->imdb_id, "tt0133093") == 0 &&
         out->tmdb_id == 603,
     "imdb and tmdb ids kept");
  rg_lib_entry_free(&out);
}

static void test_tree(void) {
  rg_lib_tree *t = rg_library_tree_get(w.lib);
  ok(t != NULL, "a snapshot");
  const rg_lib_node *root = rg_lib_tree_node(t, RG_LIB_ROOT_INO);
  ok(root && root->dir && root->nchildren == 2, "root holds movies and tv");
  const rg_lib_node *mv = rg_lib_tree_lookup(t, RG_LIB_ROOT_INO, "movies");
  const rg_lib_node *tv = rg_lib_tree_lookup(t, RG_LIB_ROOT_INO, "tv");
  ok(mv && tv && mv->dir && tv->dir && mv->size == 4096 &&
         mv->parent == RG_LIB_ROOT_INO,
     "movies and tv directories");
  ok(mv && mv->ino == 2 && tv && tv->ino == 3, "movies is inode 2, tv 3");
  bool sorted = true;
  for (uint32_t i = 1; mv && i < mv->nchildren; i++)
    if (strcmp(mv->children[i - 1]->name, mv->children[i]->name) >= 0)
      sorted = false;
  ok(sorted, "children sorted by name");
  const rg_lib_node *f =
      walk(t, "movies/The Matrix (1999)/The Matrix (1999).mkv");
  ok(f && !f->dir && f->ino == matrix_ino && f->size == 25 * MIB &&
         strcmp(f->hash, matrix) == 0,
     "lookup down to a file: inode, size, torrent");
  ok(f && rg_lib_tree_node(t, f->ino) == f, "node by inode");
  const rg_lib_node *d = f ? rg_lib_tree_node(t, f->parent) : NULL;
  ok(d && d->dir && strcmp(d->name, "The Matrix (1999)") == 0 &&
         d->mtime == f->mtime,
     "parent directory, mtime of its newest child");
  ok(!rg_lib_tree_lookup(t, RG_LIB_ROOT_INO, "nope") &&
         !rg_lib_tree_lookup(t, f ? f->ino : 0, "x") &&
         !rg_lib_tree_node(t, 987654321),
     "misses: unknown name, lookup in a file, unknown inode");
  const rg_lib_node *ep =
      walk(t, "tv/Breaking Bad/Season 01/Breaking Bad - S01E01.mkv");
  ok(ep && ep->ino == pack_e1_ino, "an episode by lookup");
  ok(ep && ep->entry_id > 0, "files carry their entry id");

  /* snapshots are immutable */
  int calls = listener_calls;
  int rc;
  char *cause;
  rg_lib_entry *e = manual(misc, mi("clip09.mkv"), "movie", "Snapshot Test", 0,
                           -1, -1, &rc, &cause);
  ok(!walk(t, "movies/Snapshot Test/Snapshot Test.mkv"),
     "an old snapshot does not change");
  rg_lib_tree *t2 = rg_library_tree_get(w.lib);
  ok(walk(t2, "movies/Snapshot Test/Snapshot Test.mkv") != NULL,
     "the new snapshot has the new entry");
  ok(listener_calls == calls + 1 && listener_new_root == RG_LIB_ROOT_INO,
     "listener called once with old and new trees");
  rg_lib_tree_put(t2);
  rg_lib_tree_put(t);
  rg_lib_entry_free(&e);
}

typedef struct snap {
  char path[512];
  uint64_t ino;
} snap;

static snap before[64];
static int nbefore;
static uint64_t dir_inos[3];

static void snap_cb(const rg_lib_entry *e, void *arg) {
  (void)arg;
  if (nbefore < 64) {
    snprintf(before[nbefore].path, sizeof before[nbefore].path, "%s", e->path);
    before[nbefore++].ino = e->ino;
  }
}

static void test_restart(void) {
  nbefore = 0;
  rg_library_each(w.lib, snap_cb, NULL);
  int n = count_entries(NULL);
  rg_lib_tree *t = rg_library_tree_get(w.lib);
  const char *dirs[] = {"movies/The Matrix (1999)", "tv/Breaking Bad",
                        "tv/Breaking Bad/Season 01"};
  for (int i = 0; i < 3; i++) {
    const rg_lib_node *d = walk(t, dirs[i]);
    dir_inos[i] = d ? d->ino : 0;
  }
  rg_lib_tree_put(t);
  /* a person deletes an automatic entry: it must not come back */
  const rg_lib_entry *inc =
      entry_at("movies/Inception (2010)/Inception (2010).mp4");
  ok(inc && rg_library_remove(w.lib, inc->id) == 0,
     "delete an automatic entry");

  close_all();
  open_all();
  is_int(count_entries(NULL), n - 1, "same entries after reopening");
  int same = 0;
  for (int i = 0; i < nbefore; i++) {
    const rg_lib_entry *e = entry_at(before[i].path);
    if (e && e->ino == before[i].ino)
      same++;
  }
  is_int(same, nbefore - 1, "every path and inode unchanged");
  t = rg_library_tree_get(w.lib);
  int dsame = 0;
  for (int i = 0; i < 3; i++) {
    const rg_lib_node *d = walk(t, dirs[i]);
    dsame += d && d->ino == dir_inos[i] && dir_inos[i] > 3;
  }
  is_int(dsame, 3, "directory inodes unchanged");
  const rg_lib_node *f = walk(t, collide2_path);
  ok(f && f->ino == collide2_ino, "the [2] suffix survives");
  rg_lib_tree_put(t);
  ok(!entry_at("movies/Inception (2010)/Inception (2010).mp4"),
     "a deleted automatic entry is not re-created at start");
}

static void test_removal(void) {
  rg_torrent *t = rg_tm_find(w.tm, pack);
  ok(t && rg_tm_remove(w.tm, t, true) == 0, "remove the season pack");
  is_int(count_entries(pack), 0, "its entries went with it");
  rg_lib_tree *tr = rg_library_tree_get(w.lib);
  ok(!walk(tr, "tv/Breaking Bad"), "its directories left the tree");
  rg_lib_tree_put(tr);
  /* the same torrent again: same paths, same (reserved) inodes */
  const mkfile pf[] = {
      {"Breaking.Bad.S01E01.1080p.BluRay.x264.mkv", 21 * MIB},
      {"Breaking.Bad.S01E02.1080p.BluRay.x264.mkv", 22 * MIB},
      {"S01E03.mkv", 23 * MIB},
      {"Extras/Behind.the.Scenes.mkv", 1 * MIB},
      {"Breaking.Bad.S01E04.1080p.sample.mkv", 21 * MIB},
  };
  add_torrent("Breaking.Bad.S01.1080p.BluRay.x264-GRP", pf, 5, 0);
  const rg_lib_entry *e =
      entry_at("tv/Breaking Bad/Season 01/Breaking Bad - S01E01.mkv");
  ok(e && e->ino == pack_e1_ino, "re-added: the episode has its old inode");
  tr = rg_library_tree_get(w.lib);
  const rg_lib_node *d = walk(tr, "tv/Breaking Bad");
  ok(d && d->ino == dir_inos[1], "and its directory too");
  rg_lib_tree_put(tr);
}

/* 10k entries straight into the tables (one torrent of 10k files), then a
 * load, a tree and an add that rebuilds it. */
static void test_scale(void) {
  char *cause = NULL;
  char *db = rg_printf("%s/big.db", tmp);
  rg_store *s = NULL;
  ok(rg_store_open(db, &s, &cause) == 0, "a second store");
  free(db);
  enum { NF = 10000 };
  char **paths = rg_calloc(NF, sizeof *paths);
  int64_t *sizes = rg_calloc(NF, sizeof *sizes);
  for (int i = 0; i < NF; i++) {
    paths[i] = rg_printf("big/file%05d.mkv", i);
    sizes[i] = 1000 + i;
  }
  rg_store_torrent row = {
      .info = (uint8_t *)"d4:name3:bige", .info_len = 13, .added = 1700000000};
  memset(row.hash, 'a', 40);
  rg_store_put_torrent(s, &row, (const char *const *)paths, sizes, NF);
  rg_library *lib = rg_library_new(s, NULL, &cause);
  ok(lib != NULL, "a library without a torrent manager");
  rg_library_free(&lib);
  sqlite3 *h = rg_store_db(s);
  sqlite3_exec(h, "BEGIN", NULL, NULL, NULL);
  sqlite3_stmt *st;
  sqlite3_prepare_v2(h,
                     "INSERT INTO library(hash, file_index, kind, title, year,"
                     " season, episode, path) VALUES(?,?,?,?,?,?,?,?)",
                     -1, &st, NULL);
  for (int i = 0; i < NF - 1; i++) {
    char title[64], path[256];
    snprintf(title, sizeof title, "Show %d", i / 100);
    snprintf(path, sizeof path,
             "tv/Show %d/Season %02d/Show %d - S%02dE%02d.mkv", i / 100,
             (i % 100) / 20 + 1, i / 100, (i % 100) / 20 + 1, i % 20 + 1);
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, row.hash, 40, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, i);
    sqlite3_bind_text(st, 3, "episode", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, title, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, 0);
    sqlite3_bind_int(st, 6, (i % 100) / 20 + 1);
    sqlite3_bind_int(st, 7, i % 20 + 1);
    sqlite3_bind_text(st, 8, path, -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
  }
  sqlite3_finalize(st);
  sqlite3_exec(h, "COMMIT", NULL, NULL, NULL);

  int64_t t0 = rg_now_ms();
  lib = rg_library_new(s, NULL, &cause);
  int64_t load_ms = rg_now_ms() - t0;
  ok(lib != NULL, "loads 9999 entries");
  ok(load_ms < 3000, "load + inodes + first tree in %lld ms",
     (long long)load_ms);
  rg_lib_tree *t = rg_library_tree_get(lib);
  const rg_lib_node *e = walk(t, "tv/Show 42/Season 03/Show 42 - S03E07.mkv");
  ok(e && e->size == 1000 + 4246 && e->mtime == 1700000000,
     "a file deep in the big tree, size and mtime from the store");
  rg_lib_tree_put(t);
  rg_lib_entry in = {.file_index = NF - 1,
                     .title = "Last Movie",
                     .year = 2024,
                     .season = -1,
                     .episode = -1};
  memcpy(in.hash, row.hash, 41);
  snprintf(in.kind, sizeof in.kind, "movie");
  rg_lib_entry *out = NULL;
  t0 = rg_now_ms();
  int rc = rg_library_add(lib, &in, &out, &cause);
  int64_t add_ms = rg_now_ms() - t0;
  ok(rc == 0 && add_ms < 500, "one add with a 10k tree rebuild in %lld ms",
     (long long)add_ms);
  rg_lib_entry_free(&out);
  rg_library_free(&lib);
  t0 = rg_now_ms();
  lib = rg_library_new(s, NULL, &cause);
  ok(lib && rg_now_ms() - t0 < 2000, "a second load (inodes known) in %lld ms",
     (long long)(rg_now_ms() - t0));
  rg_library_free(&lib);
  rg_store_close(&s);
  for (int i = 0; i < NF; i++)
    free(paths[i]);
  free(paths);
  free(sizes);
}

int main(void) {
  if (!mkdtemp(tmp)) {
    printf("Bail out! mkdtemp\n");
    return 99;
  }
  rg_log_init(NULL, RG_LOG_WARN);
  open_all();
  test_automatic();
  test_sanitise();
  test_collisions();
  test_upgrade();
  test_validation();
  test_tree();
  test_restart();
  test_removal();
  close_all();
  test_scale();
  nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  return tap_done();
}
