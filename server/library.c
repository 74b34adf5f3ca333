/* library.c — library entries, their virtual paths and inode numbers, and the
 * immutable tree snapshots the FUSE mount serves.
 *
 * Persistence (tables created here, versioned by the 'library_schema' row of
 * settings; store.c owns PRAGMA user_version):
 *   library(id, hash, file_index, kind, title, year, season, episode,
 *           imdb_id, tmdb_id, automatic, path UNIQUE, added)
 *   inodes(path PRIMARY KEY, ino UNIQUE) — every path ever published, files
 *           and directories; rows are never deleted, so a path keeps its
 *           number across restarts and numbers are never reused (the next
 *           one is max(ino)+1).
 *   library_scanned(hash) — torrents whose files were already looked at for
 *           automatic entries (an entry a person deleted is not re-created
 *           at the next start).
 *
 * Automatic episodes: an episode that already has an entry (same show by
 * title key — rg_release_title_key — and season and episode, a year known
 * on both sides agreeing; made by a person, the sync job or an earlier
 * scan, from any torrent) gets none, so a season pack the sync job took
 * only some episodes from adds no second entry for the rest. A new episode
 * of a show the library has takes that show's title and year, so it lands
 * in the same folder as the sync job's (TMDB-named) entries.
 *
 * Paths: movies/Title (Year)/Title (Year).ext and
 * tv/Show (Year)/Season 01/Show (Year) - S01E02.ext. A path is decided once,
 * when the entry is made (or edited to another title), and stored:
 *   - identity = kind + title (case-insensitive) + year (+ season, episode).
 *     A new entry with the identity of an existing one replaces it and takes
 *     over its path verbatim (extension included) — an upgrade keeps path and
 *     inode. A new entry for a file that already has an entry replaces that
 *     entry too (one entry per torrent file).
 *   - two different identities that want the same path (after sanitising,
 *     compared case-insensitively, as Samba clients do) get " [2]", " [3]"…
 *     on the file name.
 *   - a path that differs only in case from one published before takes that
 *     spelling, so case-insensitive clients never see two "The Matrix" dirs.
 *
 * In memory: every entry, hash maps by lowercase path, identity and file,
 * and path → inode. Snapshots are built from memory (O(n log n)), never from
 * the torrent engine: sizes come from the stored metadata, mtimes are the
 * torrent's added time.
 *
 * Threads: everything but the snapshot functions runs on the loop thread.
 * The current snapshot pointer is swapped under a mutex; snapshots are
 * reference-counted with atomics and freed by the last put. */
#include "config.h"

#include "library.h"
#include "log.h"
#include "release.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIB_SCHEMA 1
#define TITLE_MAX_BYTES 150 /* of the title in a name; names stay < 200 */
#define NAME_MAX_BYTES 200
#define MIN_VIDEO_BYTES (20 * 1024 * 1024)

/* ---- a string-keyed hash map (open addressing, tombstones) ---- */

typedef struct smap_slot {
  char *key; /* owned; NULL = empty; TOMB = deleted */
  union {
    void *p;
    uint64_t u;
  } v;
} smap_slot;

typedef struct smap {
  smap_slot *slots;
  size_t cap, used, tombs; /* cap is a power of two */
} smap;

static char tomb_key;
#define TOMB (&tomb_key)

static uint64_t str_hash(const char *s) {
  uint64_t h = 1469598103934665603ULL;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static void smap_free(smap *m) {
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].key && m->slots[i].key != TOMB)
      free(m->slots[i].key);
  free(m->slots);
  memset(m, 0, sizeof *m);
}

static smap_slot *smap_find(const smap *m, const char *key) {
  if (!m->cap)
    return NULL;
  size_t i = (size_t)str_hash(key) & (m->cap - 1);
  for (;;) {
    smap_slot *s = &m->slots[i];
    if (!s->key)
      return NULL;
    if (s->key != TOMB && strcmp(s->key, key) == 0)
      return s;
    i = (i + 1) & (m->cap - 1);
  }
}

static void smap_put(smap *m, const char *key, void *p, uint64_t u);

static void smap_grow(smap *m) {
  smap old = *m;
  size_t cap = old.cap ? old.cap : 64;
  while ((old.used + 1) * 2 > cap)
    cap *= 2;
  m->slots = rg_calloc(cap, sizeof *m->slots);
  m->cap = cap;
  m->used = m->tombs = 0;
  for (size_t i = 0; i < old.cap; i++)
    if (old.slots[i].key && old.slots[i].key != TOMB) {
      size_t j = (size_t)str_hash(old.slots[i].key) & (cap - 1);
      while (m->slots[j].key)
        j = (j + 1) & (cap - 1);
      m->slots[j] = old.slots[i];
      m->used++;
    }
  free(old.slots);
}

/* Inserts or replaces. P for pointer maps, U for number maps. */
static void smap_put(smap *m, const char *key, void *p, uint64_t u) {
  smap_slot *s = smap_find(m, key);
  if (!s) {
    if ((m->used + m->tombs + 1) * 10 > m->cap * 7)
      smap_grow(m);
    size_t i = (size_t)str_hash(key) & (m->cap - 1);
    while (m->slots[i].key && m->slots[i].key != TOMB)
      i = (i + 1) & (m->cap - 1);
    s = &m->slots[i];
    if (s->key == TOMB)
      m->tombs--;
    s->key = rg_strdup(key);
    m->used++;
  }
  if (p)
    s->v.p = p;
  else
    s->v.u = u;
}

static void smap_del(smap *m, const char *key) {
  smap_slot *s = smap_find(m, key);
  if (!s)
    return;
  free(s->key);
  s->key = TOMB;
  m->used--;
  m->tombs++;
}

static void *smap_get(const smap *m, const char *key) {
  smap_slot *s = smap_find(m, key);
  return s ? s->v.p : NULL;
}

/* ---- the library ---- */

typedef struct ent {
  rg_lib_entry e; /* title, imdb_id, path owned */
  char *ident;    /* identity key */
  char *lpath;    /* lowercased path */
  char *skey;     /* episodes: the show's title key (rg_release_title_key) */
  char fkey[52];  /* "hash/index" */
  int64_t added;
} ent;

struct rg_lib_tree {
  atomic_int refs;
  size_t nnodes;
  const rg_lib_node **by_ino; /* sorted by ino */
  rg_lib_node *nodes;         /* nodes[0] is the root */
};

struct rg_library {
  rg_store *store;
  sqlite3 *db;
  rg_tm *tm;
  ent **ents;
  size_t n, cap;
  smap by_lpath, by_ident, by_file;
  smap inodes; /* exact path → ino */
  smap lall; /* lowercased path → exact path (char *, owned) ever published */
  uint64_t next_ino;
  int64_t started;
  bool hooked;
  pthread_mutex_t mu;
  rg_lib_tree *cur;
  void (*changed)(void *arg, rg_lib_tree *old_tree, rg_lib_tree *new_tree);
  void *changed_arg;
};

static int exec_sql(rg_library *lib, const char *sql, char **cause) {
  char *err = NULL;
  if (sqlite3_exec(lib->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    if (cause)
      *cause = rg_printf("library database: %s", err ? err : "error");
    else
      rg_error("library database: %s: %s", sql, err ? err : "error");
    sqlite3_free(err);
    return -EIO;
  }
  return 0;
}

static sqlite3_stmt *prep(rg_library *lib, const char *sql) {
  return rg_db_prep(lib->db, "library database", sql);
}

static int step_done(rg_library *lib, sqlite3_stmt *st) {
  return rg_db_step_done(lib->db, "library database", st);
}

static char *lower_dup(const char *s) {
  char *l = rg_strdup(s);
  for (char *p = l; *p; p++)
    *p = (char)tolower((unsigned char)*p);
  return l;
}

/* ---- names ---- */

static bool reserved_stem(const char *s, size_t n) {
  static const char *const names[] = {"CON", "PRN", "AUX", "NUL"};
  while (n > 0 && s[n - 1] == ' ')
    n--;
  for (size_t i = 0; i < 4; i++)
    if (n == 3 && strncasecmp(s, names[i], 3) == 0)
      return true;
  if (n == 4 &&
      (strncasecmp(s, "COM", 3) == 0 || strncasecmp(s, "LPT", 3) == 0) &&
      s[3] >= '1' && s[3] <= '9')
    return true;
  return false;
}

/* Length of a valid UTF-8 sequence at S (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s) {
  if (s[0] < 0x80)
    return 1;
  size_t n;
  uint32_t cp;
  if ((s[0] & 0xE0) == 0xC0) {
    n = 2;
    cp = s[0] & 0x1F;
  } else if ((s[0] & 0xF0) == 0xE0) {
    n = 3;
    cp = s[0] & 0x0F;
  } else if ((s[0] & 0xF8) == 0xF0) {
    n = 4;
    cp = s[0] & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (s[i] & 0x3F);
  }
  if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return 0;
  return n;
}

/* A name that every filesystem Samba clients use accepts: no \ / : * ? " <
 * > | or control characters, valid UTF-8, no leading spaces or dots, no
 * trailing spaces or dots, not a Windows device name, at most MAX bytes
 * (never cutting a UTF-8 sequence); "Untitled" if nothing is left.
 * ": " becomes " - ". Free with free(). */
static char *sanitize(const char *in, size_t max) {
  size_t n = strlen(in);
  char *out = rg_malloc(n * 3 + 16);
  size_t o = 0;
  const unsigned char *s = (const unsigned char *)in;
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    size_t l = utf8_len(s + i);
    if (l == 0) {
      out[o++] = '_';
      i++;
      continue;
    }
    if (l > 1) {
      memcpy(out + o, s + i, l);
      o += l;
      i += l;
      continue;
    }
    i++;
    if (c < 0x20 || c == 0x7f) {
      out[o++] = ' ';
    } else if (c == ':') {
      if (s[i] == ' ' || s[i] == 0) {
        memcpy(out + o, " -", 2);
        o += 2;
      } else {
        out[o++] = '-';
      }
    } else if (c == '/' || c == '\\' || c == '|') {
      out[o++] = '-';
    } else if (c == '"') {
      out[o++] = '\'';
    } else if (c == '*' || c == '?' || c == '<' || c == '>') {
      /* dropped */
    } else {
      out[o++] = (char)c;
    }
  }
  out[o] = 0;
  /* collapse spaces, strip leading spaces and dots */
  size_t w = 0;
  for (size_t r = 0; r < o; r++) {
    if (out[r] == ' ' && (w == 0 || out[w - 1] == ' '))
      continue;
    if (out[r] == '.' && w == 0)
      continue;
    out[w++] = out[r];
  }
  out[w] = 0;
  if (w > max) {
    w = max;
    while (w > 0 && ((unsigned char)out[w] & 0xC0) == 0x80)
      w--;
    out[w] = 0;
  }
  while (w > 0 && (out[w - 1] == ' ' || out[w - 1] == '.'))
    out[--w] = 0;
  if (w == 0) {
    free(out);
    return rg_strdup("Untitled");
  }
  const char *dot = strchr(out, '.');
  size_t stem = dot ? (size_t)(dot - out) : w;
  if (reserved_stem(out, stem)) {
    while (stem > 0 && out[stem - 1] == ' ')
      stem--;
    char *fixed = rg_printf("%.*s_%s", (int)stem, out, out + stem);
    free(out);
    out = fixed;
  }
  return out;
}

/* The extension of PATH's last component, lowercased, or "" (1..8 alnum). */
static void path_ext(const char *path, char ext[10]) {
  ext[0] = 0;
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char *dot = strrchr(base, '.');
  if (!dot || dot == base)
    return;
  size_t n = strlen(dot + 1);
  if (n < 1 || n > 8)
    return;
  for (size_t i = 0; i < n; i++) {
    if (!isalnum((unsigned char)dot[1 + i])) {
      ext[0] = 0;
      return;
    }
    ext[i] = (char)tolower((unsigned char)dot[1 + i]);
  }
  ext[n] = 0;
}

static char *identity(const char *kind, const char *title, int year, int season,
                      int episode) {
  char *lt = lower_dup(title);
  char *id = strcmp(kind, "movie") == 0
                 ? rg_printf("m|%s|%d", lt, year)
                 : rg_printf("e|%s|%d|%d|%d", lt, year, season, episode);
  free(lt);
  return id;
}

/* PATH with every prefix that was published before in another case spelled
 * as it was then. */
static char *canonical(rg_library *lib, const char *path) {
  char *out = rg_strdup(path);
  char *low = lower_dup(path);
  size_t n = strlen(path);
  for (size_t i = 1; i <= n; i++) {
    if (i < n && path[i] != '/')
      continue;
    char save = low[i];
    low[i] = 0;
    const char *seen = smap_get(&lib->lall, low);
    low[i] = save;
    if (seen && strlen(seen) == i)
      memcpy(out, seen, i);
  }
  free(low);
  return out;
}

/* The path for an entry, free of collisions with entries other than
 * EXCLUDE. Free with free(). */
static char *make_path(rg_library *lib, const char *kind, const char *title,
                       int year, int season, int episode, const char *ext,
                       const ent *exclude) {
  char *name = sanitize(title, TITLE_MAX_BYTES);
  char yr[16] = "";
  if (year > 0)
    snprintf(yr, sizeof yr, " (%d)", year);
  char *dir, *stem;
  if (strcmp(kind, "movie") == 0) {
    dir = rg_printf("movies/%s%s", name, yr);
    stem = rg_printf("%s%s", name, yr);
  } else {
    dir = rg_printf("tv/%s%s/Season %02d", name, yr, season);
    stem = rg_printf("%s%s - S%02dE%02d", name, yr, season, episode);
  }
  char *path = NULL;
  for (int k = 1;; k++) {
    char sfx[16] = "";
    if (k > 1)
      snprintf(sfx, sizeof sfx, " [%d]", k);
    char *p = rg_printf("%s/%s%s%s%s", dir, stem, sfx, *ext ? "." : "", ext);
    path = canonical(lib, p);
    free(p);
    char *lp = lower_dup(path);
    ent *holder = smap_get(&lib->by_lpath, lp);
    free(lp);
    if (!holder || holder == exclude)
      break;
    free(path);
  }
  free(name);
  free(dir);
  free(stem);
  return path;
}

/* ---- inodes ---- */

static void remember_path(rg_library *lib, const char *path, uint64_t ino) {
  smap_put(&lib->inodes, path, NULL, ino);
  char *lp = lower_dup(path);
  if (!smap_get(&lib->lall, lp))
    smap_put(&lib->lall, lp, rg_strdup(path), 0);
  free(lp);
}

static uint64_t ino_of(const rg_library *lib, const char *path) {
  smap_slot *s = smap_find(&lib->inodes, path);
  return s ? s->v.u : 0;
}

/* Gives PATH and each of its directories an inode if they have none. */
static int ensure_inodes(rg_library *lib, const char *path) {
  char *p = rg_strdup(path);
  size_t n = strlen(p);
  int rc = 0;
  for (size_t i = 1; i <= n && !rc; i++) {
    if (i < n && p[i] != '/')
      continue;
    char save = p[i];
    p[i] = 0;
    if (!ino_of(lib, p)) {
      sqlite3_stmt *st = prep(lib, "INSERT INTO inodes(path, ino) VALUES(?,?)");
      if (!st) {
        rc = -EIO;
      } else {
        sqlite3_bind_text(st, 1, p, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)lib->next_ino);
        if (!(rc = step_done(lib, st)))
          remember_path(lib, p, lib->next_ino++);
      }
    }
    p[i] = save;
  }
  free(p);
  return rc;
}

/* ---- entries in memory ---- */

static void ent_free(ent *x) {
  if (!x)
    return;
  free(x->e.title);
  free(x->e.imdb_id);
  free(x->e.path);
  free(x->ident);
  free(x->lpath);
  free(x->skey);
  free(x);
}

static void index_ent(rg_library *lib, ent *x) {
  free(x->ident);
  free(x->lpath);
  free(x->skey);
  x->ident =
      identity(x->e.kind, x->e.title, x->e.year, x->e.season, x->e.episode);
  x->lpath = lower_dup(x->e.path);
  x->skey = NULL;
  if (strcmp(x->e.kind, "episode") == 0) {
    char k[256];
    rg_release_title_key(x->e.title, k, sizeof k);
    x->skey = rg_strdup(k);
  }
  snprintf(x->fkey, sizeof x->fkey, "%s/%d", x->e.hash, x->e.file_index);
  x->e.ino = ino_of(lib, x->e.path);
  smap_put(&lib->by_lpath, x->lpath, x, 0);
  smap_put(&lib->by_ident, x->ident, x, 0);
  smap_put(&lib->by_file, x->fkey, x, 0);
}

static void unindex_ent(rg_library *lib, ent *x) {
  if (smap_get(&lib->by_lpath, x->lpath) == x)
    smap_del(&lib->by_lpath, x->lpath);
  if (smap_get(&lib->by_ident, x->ident) == x)
    smap_del(&lib->by_ident, x->ident);
  if (smap_get(&lib->by_file, x->fkey) == x)
    smap_del(&lib->by_file, x->fkey);
}

static void push_ent(rg_library *lib, ent *x) {
  if (lib->n == lib->cap) {
    lib->cap = lib->cap ? lib->cap * 2 : 64;
    lib->ents = rg_realloc(lib->ents, lib->cap * sizeof *lib->ents);
  }
  lib->ents[lib->n++] = x;
  index_ent(lib, x);
}

/* Removes X from memory (not from the database) and frees it. */
static void drop_ent(rg_library *lib, ent *x) {
  unindex_ent(lib, x);
  for (size_t i = 0; i < lib->n; i++)
    if (lib->ents[i] == x) {
      lib->ents[i] = lib->ents[--lib->n];
      break;
    }
  ent_free(x);
}

static ent *find_id(rg_library *lib, int64_t id) {
  for (size_t i = 0; i < lib->n; i++)
    if (lib->ents[i]->e.id == id)
      return lib->ents[i];
  return NULL;
}

static void clear_memory(rg_library *lib) {
  for (size_t i = 0; i < lib->n; i++)
    ent_free(lib->ents[i]);
  lib->n = 0;
  smap_free(&lib->by_lpath);
  smap_free(&lib->by_ident);
  smap_free(&lib->by_file);
  smap_free(&lib->inodes);
  for (size_t i = 0; i < lib->lall.cap; i++)
    if (lib->lall.slots[i].key && lib->lall.slots[i].key != TOMB)
      free(lib->lall.slots[i].v.p);
  smap_free(&lib->lall);
}

static char *col_dup(sqlite3_stmt *st, int i) {
  const unsigned char *v = sqlite3_column_text(st, i);
  return v ? rg_strdup((const char *)v) : NULL;
}

/* (Re)loads inodes and entries from the database. */
static int load(rg_library *lib) {
  clear_memory(lib);
  lib->next_ino = 4;
  sqlite3_stmt *st = prep(lib, "SELECT path, ino FROM inodes ORDER BY ino");
  if (!st)
    return -EIO;
  while (sqlite3_step(st) == SQLITE_ROW) {
    uint64_t ino = (uint64_t)sqlite3_column_int64(st, 1);
    remember_path(lib, (const char *)sqlite3_column_text(st, 0), ino);
    if (ino >= lib->next_ino)
      lib->next_ino = ino + 1;
  }
  sqlite3_finalize(st);

  st =
      prep(lib, "SELECT l.id, l.hash, l.file_index, l.kind, l.title, l.year,"
                " l.season, l.episode, l.imdb_id, l.tmdb_id, l.automatic,"
                " l.path, l.added, f.size, t.added FROM library l"
                " LEFT JOIN files f ON f.hash = l.hash AND f.idx = l.file_index"
                " LEFT JOIN torrents t ON t.hash = l.hash");
  if (!st)
    return -EIO;
  int orphans = 0;
  bool tx = exec_sql(lib, "BEGIN", NULL) == 0; /* inodes for old rows */
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 13) == SQLITE_NULL) {
      orphans++;
      continue;
    }
    ent *x = rg_calloc(1, sizeof *x);
    x->e.id = sqlite3_column_int64(st, 0);
    snprintf(x->e.hash, sizeof x->e.hash, "%s",
             (const char *)sqlite3_column_text(st, 1));
    x->e.file_index = sqlite3_column_int(st, 2);
    snprintf(x->e.kind, sizeof x->e.kind, "%s",
             (const char *)sqlite3_column_text(st, 3));
    x->e.title = col_dup(st, 4);
    x->e.year = sqlite3_column_int(st, 5);
    x->e.season = sqlite3_column_type(st, 6) == SQLITE_NULL
                      ? -1
                      : sqlite3_column_int(st, 6);
    x->e.episode = sqlite3_column_type(st, 7) == SQLITE_NULL
                       ? -1
                       : sqlite3_column_int(st, 7);
    x->e.imdb_id = col_dup(st, 8);
    x->e.tmdb_id = sqlite3_column_int64(st, 9);
    x->e.automatic = sqlite3_column_int(st, 10) != 0;
    x->e.path = col_dup(st, 11);
    x->added = sqlite3_column_int64(st, 12);
    x->e.size = sqlite3_column_int64(st, 13);
    x->e.mtime = sqlite3_column_int64(st, 14);
    if (!x->e.title || !x->e.path) {
      ent_free(x);
      continue;
    }
    push_ent(lib, x);
    if (!x->e.ino && ensure_inodes(lib, x->e.path) == 0)
      x->e.ino = ino_of(lib, x->e.path);
  }
  sqlite3_finalize(st);
  if (tx && exec_sql(lib, "COMMIT", NULL))
    exec_sql(lib, "ROLLBACK", NULL);
  if (orphans) {
    rg_warn("%d entries point at torrents or files that are gone; "
            "removing them",
            orphans);
    exec_sql(lib,
             "DELETE FROM library WHERE NOT EXISTS (SELECT 1 FROM files f"
             " WHERE f.hash = library.hash AND f.idx = library.file_index)",
             NULL);
  }
  return 0;
}

/* ---- snapshots ---- */

typedef struct bnode {
  uint64_t ino;
  size_t parent;
  const char *name; /* into a path owned by an entry or the dir map key */
  size_t name_len;
  bool dir;
  int64_t size, mtime;
  const ent *e;
  uint32_t nchildren, child_at;
} bnode;

typedef struct builder {
  bnode *b;
  size_t n, cap;
  smap dirs; /* dir path → index + 1 */
} builder;

static size_t bnode_add(builder *bd, const bnode *n) {
  if (bd->n == bd->cap) {
    bd->cap = bd->cap ? bd->cap * 2 : 256;
    bd->b = rg_realloc(bd->b, bd->cap * sizeof *bd->b);
  }
  bd->b[bd->n] = *n;
  return bd->n++;
}

/* Index of the directory PATH (LEN bytes), creating it and its parents. */
static size_t dir_node(rg_library *lib, builder *bd, const char *path,
                       size_t len) {
  char *key = rg_strndup(path, len);
  smap_slot *s = smap_find(&bd->dirs, key);
  if (s) {
    free(key);
    return (size_t)s->v.u - 1;
  }
  size_t parent = 0;
  const char *name = path;
  for (size_t i = len; i > 0; i--)
    if (path[i - 1] == '/') {
      parent = dir_node(lib, bd, path, i - 1);
      name = path + i;
      break;
    }
  uint64_t ino = ino_of(lib, key);
  if (!ino) {
    /* every published directory has a row; this is only a safety net */
    ensure_inodes(lib, key);
    ino = ino_of(lib, key);
  }
  bnode n = {.ino = ino,
             .parent = parent,
             .name = name,
             .name_len = len - (size_t)(name - path),
             .dir = true,
             .size = 4096,
             .mtime = 0};
  size_t idx = bnode_add(bd, &n);
  smap_put(&bd->dirs, key, NULL, idx + 1);
  free(key);
  return idx;
}

static int cmp_child(const void *a, const void *b) {
  const rg_lib_node *x = *(const rg_lib_node *const *)a;
  const rg_lib_node *y = *(const rg_lib_node *const *)b;
  return strcmp(x->name, y->name);
}

static int cmp_ino(const void *a, const void *b) {
  const rg_lib_node *x = *(const rg_lib_node *const *)a;
  const rg_lib_node *y = *(const rg_lib_node *const *)b;
  return x->ino < y->ino ? -1 : x->ino > y->ino;
}

static rg_lib_tree *build_tree(rg_library *lib) {
  builder bd = {0};
  bnode root = {.ino = RG_LIB_ROOT_INO,
                .parent = 0,
                .name = "",
                .dir = true,
                .size = 4096};
  bnode_add(&bd, &root);
  smap_put(&bd.dirs, "", NULL, 1);
  dir_node(lib, &bd, "movies", 6);
  dir_node(lib, &bd, "tv", 2);
  for (size_t i = 0; i < lib->n; i++) {
    const ent *x = lib->ents[i];
    const char *p = x->e.path;
    const char *slash = strrchr(p, '/');
    size_t parent = slash ? dir_node(lib, &bd, p, (size_t)(slash - p)) : 0;
    const char *name = slash ? slash + 1 : p;
    bnode n = {.ino = x->e.ino,
               .parent = parent,
               .name = name,
               .name_len = strlen(name),
               .dir = false,
               .size = x->e.size,
               .mtime = x->e.mtime,
               .e = x};
    bnode_add(&bd, &n);
  }
  /* directory mtimes: children always come after their parent */
  for (size_t i = bd.n; i-- > 1;) {
    bnode *c = &bd.b[i];
    if (c->dir && c->mtime == 0)
      c->mtime = lib->started; /* an empty directory */
    if (c->mtime > bd.b[c->parent].mtime)
      bd.b[c->parent].mtime = c->mtime;
    bd.b[c->parent].nchildren++;
  }
  if (bd.b[0].mtime == 0)
    bd.b[0].mtime = lib->started;
  size_t names = 0;
  for (size_t i = 0; i < bd.n; i++)
    names += bd.b[i].name_len + 1;
  size_t child_ptrs = bd.n - 1;
  size_t sz = sizeof(rg_lib_tree) + bd.n * sizeof(rg_lib_node) +
              (child_ptrs + bd.n) * sizeof(rg_lib_node *) + names;
  char *arena = rg_calloc(1, sz);
  rg_lib_tree *t = (rg_lib_tree *)arena;
  atomic_init(&t->refs, 1);
  t->nnodes = bd.n;
  t->nodes = (rg_lib_node *)(arena + sizeof *t);
  const rg_lib_node **kids = (const rg_lib_node **)(t->nodes + bd.n);
  t->by_ino = kids + child_ptrs;
  char *strs = (char *)(t->by_ino + bd.n);
  uint32_t at = 0;
  for (size_t i = 0; i < bd.n; i++) {
    bd.b[i].child_at = at;
    at += bd.b[i].nchildren;
    bd.b[i].nchildren = 0;
  }
  for (size_t i = 0; i < bd.n; i++) {
    bnode *b = &bd.b[i];
    rg_lib_node *n = &t->nodes[i];
    memcpy(strs, b->name, b->name_len);
    strs[b->name_len] = 0;
    n->name = strs;
    strs += b->name_len + 1;
    n->ino = b->ino;
    n->parent = i == 0 ? RG_LIB_ROOT_INO : bd.b[b->parent].ino;
    n->dir = b->dir;
    n->size = b->size;
    n->mtime = b->mtime;
    if (b->e) {
      memcpy(n->hash, b->e->e.hash, sizeof n->hash);
      n->file_index = b->e->e.file_index;
      n->entry_id = b->e->e.id;
    } else {
      n->file_index = -1;
    }
    if (b->dir)
      n->children = kids + b->child_at;
    if (i > 0) {
      bnode *p = &bd.b[b->parent];
      kids[p->child_at + p->nchildren++] = n;
    }
    t->by_ino[i] = n;
  }
  for (size_t i = 0; i < bd.n; i++) {
    t->nodes[i].nchildren = bd.b[i].nchildren;
    if (bd.b[i].nchildren > 1)
      qsort((void *)t->nodes[i].children, bd.b[i].nchildren,
            sizeof(rg_lib_node *), cmp_child);
  }
  qsort(t->by_ino, bd.n, sizeof *t->by_ino, cmp_ino);
  free(bd.b);
  smap_free(&bd.dirs);
  return t;
}

static void publish(rg_library *lib) {
  rg_lib_tree *nt = build_tree(lib);
  pthread_mutex_lock(&lib->mu);
  rg_lib_tree *old = lib->cur;
  lib->cur = nt;
  pthread_mutex_unlock(&lib->mu);
  if (lib->changed)
    lib->changed(lib->changed_arg, old, nt);
  rg_lib_tree_put(old);
}

rg_lib_tree *rg_library_tree_get(rg_library *lib) {
  pthread_mutex_lock(&lib->mu);
  rg_lib_tree *t = lib->cur;
  if (t)
    atomic_fetch_add(&t->refs, 1);
  pthread_mutex_unlock(&lib->mu);
  return t;
}

void rg_lib_tree_put(rg_lib_tree *t) {
  if (t && atomic_fetch_sub(&t->refs, 1) == 1)
    free(t);
}

const rg_lib_node *rg_lib_tree_node(const rg_lib_tree *t, uint64_t ino) {
  size_t lo = 0, hi = t->nnodes;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    uint64_t v = t->by_ino[mid]->ino;
    if (v == ino)
      return t->by_ino[mid];
    if (v < ino)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const rg_lib_node *rg_lib_tree_lookup(const rg_lib_tree *t, uint64_t parent,
                                      const char *name) {
  const rg_lib_node *p = rg_lib_tree_node(t, parent);
  if (!p || !p->dir)
    return NULL;
  size_t lo = 0, hi = p->nchildren;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = strcmp(p->children[mid]->name, name);
    if (c == 0)
      return p->children[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

void rg_library_set_listener(rg_library *lib,
                             void (*changed)(void *arg, rg_lib_tree *old_tree,
                                             rg_lib_tree *new_tree),
                             void *arg) {
  lib->changed = changed;
  lib->changed_arg = arg;
}

/* ---- creation ---- */

static const char schema_v1[] =
    "CREATE TABLE IF NOT EXISTS library(id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  hash TEXT NOT NULL, file_index INTEGER NOT NULL, kind TEXT NOT NULL,"
    "  title TEXT NOT NULL, year INTEGER NOT NULL DEFAULT 0, season INTEGER,"
    "  episode INTEGER, imdb_id TEXT, tmdb_id INTEGER NOT NULL DEFAULT 0,"
    "  automatic INTEGER NOT NULL DEFAULT 0, path TEXT NOT NULL UNIQUE,"
    "  added INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS library_file ON library(hash, file_index);"
    "CREATE TABLE IF NOT EXISTS inodes(path TEXT PRIMARY KEY,"
    "  ino INTEGER NOT NULL UNIQUE);"
    "CREATE TABLE IF NOT EXISTS library_scanned(hash TEXT PRIMARY KEY);"
    "INSERT OR IGNORE INTO inodes(path, ino) VALUES('', 1), ('movies', 2),"
    "  ('tv', 3);";

static int migrate(rg_library *lib, char **cause) {
  char *v = rg_store_get_setting(lib->store, "library_schema");
  int have = v ? atoi(v) : 0;
  free(v);
  if (have > LIB_SCHEMA) {
    *cause = rg_printf("library schema version %d is newer than this "
                       "reelgate (%d); upgrade reelgate",
                       have, LIB_SCHEMA);
    return -EPROTO;
  }
  if (have == LIB_SCHEMA)
    return 0;
  char *sql = rg_printf("BEGIN;%sINSERT OR REPLACE INTO settings(key, value)"
                        " VALUES('library_schema', '%d');COMMIT;",
                        schema_v1, LIB_SCHEMA);
  int rc = exec_sql(lib, sql, cause);
  free(sql);
  if (rc) {
    exec_sql(lib, "ROLLBACK", NULL);
    return rc;
  }
  rg_info("library tables at version %d", LIB_SCHEMA);
  return 0;
}

rg_library *rg_library_new(rg_store *store, rg_tm *tm, char **cause) {
  rg_library *lib = rg_calloc(1, sizeof *lib);
  lib->store = store;
  lib->db = rg_store_db(store);
  lib->tm = tm;
  lib->started = rg_wall_s();
  pthread_mutex_init(&lib->mu, NULL);
  char *c = NULL;
  if (migrate(lib, &c) || load(lib)) {
    *cause = c ? c : rg_strdup("library: cannot read its tables");
    rg_library_free(&lib);
    return NULL;
  }
  lib->cur = build_tree(lib);
  rg_info("%zu entries, %zu paths with inodes", lib->n, lib->inodes.used);
  return lib;
}

void rg_library_free(rg_library **libp) {
  rg_library *lib = *libp;
  if (!lib)
    return;
  if (lib->hooked && lib->tm) {
    rg_tm_remove_hooks(lib->tm, lib);
  }
  rg_lib_tree_put(lib->cur);
  clear_memory(lib);
  free(lib->ents);
  pthread_mutex_destroy(&lib->mu);
  free(lib);
  *libp = NULL;
}

/* ---- entries ---- */

void rg_lib_entry_free(rg_lib_entry **ep) {
  rg_lib_entry *e = *ep;
  if (!e)
    return;
  free(e->title);
  free(e->imdb_id);
  free(e->path);
  free(e);
  *ep = NULL;
}

static rg_lib_entry *entry_copy(const ent *x) {
  rg_lib_entry *e = rg_malloc(sizeof *e);
  *e = x->e;
  e->title = rg_strdup(x->e.title);
  e->imdb_id = x->e.imdb_id ? rg_strdup(x->e.imdb_id) : NULL;
  e->path = rg_strdup(x->e.path);
  return e;
}

rg_lib_entry *rg_library_get(rg_library *lib, int64_t id) {
  ent *x = find_id(lib, id);
  return x ? entry_copy(x) : NULL;
}

static int cmp_path(const void *a, const void *b) {
  return strcmp((*(ent *const *)a)->e.path, (*(ent *const *)b)->e.path);
}

void rg_library_each(rg_library *lib,
                     void (*cb)(const rg_lib_entry *e, void *arg), void *arg) {
  if (!lib->n)
    return;
  ent **v = rg_malloc(lib->n * sizeof *v);
  memcpy(v, lib->ents, lib->n * sizeof *v);
  size_t n = lib->n;
  qsort(v, n, sizeof *v, cmp_path);
  for (size_t i = 0; i < n; i++)
    cb(&v[i]->e, arg);
  free(v);
}

/* The torrent file an entry may point at: size, mtime and extension. */
typedef struct target {
  int64_t size, mtime;
  char ext[10];
} target;

static int resolve_target(rg_library *lib, const char *hash, int index,
                          target *tg, char **cause) {
  if (lib->tm) {
    rg_torrent *t = rg_tm_find(lib->tm, hash);
    if (!t) {
      *cause = rg_printf("info_hash: no torrent %s", hash);
      return -ENOENT;
    }
    const rg_tinfo *ti = rg_torrent_info(t);
    if (!ti) {
      *cause = rg_printf("info_hash: torrent %s has no metadata yet", hash);
      return -EINVAL;
    }
    if (index < 0 || index >= ti->nfiles) {
      *cause = rg_printf("file_index: torrent %s has no file %d (it has %d)",
                         hash, index, ti->nfiles);
      return -EINVAL;
    }
    if (ti->files[index].pad) {
      *cause = rg_printf("file_index: file %d is a pad file", index);
      return -EINVAL;
    }
    tg->size = ti->files[index].size;
    tg->mtime = rg_torrent_added(t);
    path_ext(ti->files[index].path, tg->ext);
    return 0;
  }
  /* no torrent manager (tools, tests): the stored metadata */
  sqlite3_stmt *st = prep(lib, "SELECT f.size, f.path, t.added FROM torrents t"
                               " LEFT JOIN files f ON f.hash = t.hash AND"
                               " f.idx = ? WHERE t.hash = ?");
  if (!st)
    return -EIO;
  sqlite3_bind_int(st, 1, index);
  sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
  int rc = 0;
  if (sqlite3_step(st) != SQLITE_ROW) {
    *cause = rg_printf("info_hash: no torrent %s", hash);
    rc = -ENOENT;
  } else if (sqlite3_column_type(st, 0) == SQLITE_NULL) {
    *cause = rg_printf("file_index: torrent %s has no file %d", hash, index);
    rc = -EINVAL;
  } else {
    tg->size = sqlite3_column_int64(st, 0);
    path_ext((const char *)sqlite3_column_text(st, 1), tg->ext);
    tg->mtime = sqlite3_column_int64(st, 2);
  }
  sqlite3_finalize(st);
  return rc;
}

static bool valid_imdb(const char *s) {
  if (strncmp(s, "tt", 2) != 0)
    return false;
  size_t n = strlen(s + 2);
  if (n < 5 || n > 12)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isdigit((unsigned char)s[2 + i]))
      return false;
  return true;
}

/* Checks IN's fields; fills the normalised hash and title. */
static int validate(const rg_lib_entry *in, char hash[41], char **title,
                    char **cause) {
  size_t hl = strnlen(in->hash, sizeof in->hash);
  if (hl != 40) {
    *cause = rg_strdup("info_hash: must be 40 hex digits");
    return -EINVAL;
  }
  for (int i = 0; i < 40; i++) {
    if (rg_hex_digit((unsigned char)in->hash[i]) < 0) {
      *cause = rg_strdup("info_hash: must be 40 hex digits");
      return -EINVAL;
    }
    hash[i] = (char)tolower((unsigned char)in->hash[i]);
  }
  hash[40] = 0;
  if (in->file_index < 0) {
    *cause = rg_strdup("file_index: must be 0 or more");
    return -EINVAL;
  }
  bool movie = strcmp(in->kind, "movie") == 0;
  if (!movie && strcmp(in->kind, "episode") != 0) {
    *cause = rg_strdup("kind: must be \"movie\" or \"episode\"");
    return -EINVAL;
  }
  const char *t = in->title ? in->title : "";
  while (*t == ' ' || *t == '\t')
    t++;
  size_t tl = strlen(t);
  while (tl > 0 && (t[tl - 1] == ' ' || t[tl - 1] == '\t'))
    tl--;
  if (tl == 0) {
    *cause = rg_strdup("title: must not be empty");
    return -EINVAL;
  }
  if (tl > 500) {
    *cause = rg_strdup("title: longer than 500 bytes");
    return -EINVAL;
  }
  if (in->year != 0 && (in->year < 1870 || in->year > 2200)) {
    *cause = rg_strdup("year: must be 0 (unknown) or between 1870 and 2200");
    return -EINVAL;
  }
  if (!movie) {
    if (in->season < 0 || in->season > 9999) {
      *cause = rg_strdup("season: an episode needs a season from 0 to 9999");
      return -EINVAL;
    }
    if (in->episode < 0 || in->episode > 99999) {
      *cause = rg_strdup("episode: an episode needs a number from 0 to 99999");
      return -EINVAL;
    }
  }
  if (in->imdb_id && *in->imdb_id && !valid_imdb(in->imdb_id)) {
    *cause = rg_strdup("imdb_id: must look like tt0133093");
    return -EINVAL;
  }
  if (in->tmdb_id < 0) {
    *cause = rg_strdup("tmdb_id: must be 0 (unknown) or positive");
    return -EINVAL;
  }
  *title = rg_strndup(t, tl);
  return 0;
}

static int db_delete(rg_library *lib, int64_t id) {
  sqlite3_stmt *st = prep(lib, "DELETE FROM library WHERE id = ?");
  if (!st)
    return -EIO;
  sqlite3_bind_int64(st, 1, id);
  return step_done(lib, st);
}

/* Binds parameters 1..11 (hash … path), the columns INSERT and UPDATE
 * share, in that order. */
static void bind_entry(sqlite3_stmt *st, const ent *x) {
  bool movie = strcmp(x->e.kind, "movie") == 0;
  sqlite3_bind_text(st, 1, x->e.hash, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 2, x->e.file_index);
  sqlite3_bind_text(st, 3, x->e.kind, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, x->e.title, -1, SQLITE_STATIC);
  sqlite3_bind_int(st, 5, x->e.year);
  if (!movie) {
    sqlite3_bind_int(st, 6, x->e.season);
    sqlite3_bind_int(st, 7, x->e.episode);
  }
  if (x->e.imdb_id)
    sqlite3_bind_text(st, 8, x->e.imdb_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 9, x->e.tmdb_id);
  sqlite3_bind_int(st, 10, x->e.automatic);
  sqlite3_bind_text(st, 11, x->e.path, -1, SQLITE_STATIC);
}

static int db_insert(rg_library *lib, ent *x) {
  sqlite3_stmt *st = prep(
      lib, "INSERT INTO library(hash, file_index, kind, title, year, season,"
           " episode, imdb_id, tmdb_id, automatic, path, added)"
           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!st)
    return -EIO;
  bind_entry(st, x);
  sqlite3_bind_int64(st, 12, x->added);
  int rc = step_done(lib, st);
  if (!rc)
    x->e.id = sqlite3_last_insert_rowid(lib->db);
  return rc;
}

static int db_update(rg_library *lib, const ent *x) {
  sqlite3_stmt *st = prep(
      lib, "UPDATE library SET hash=?, file_index=?, kind=?, title=?, year=?,"
           " season=?, episode=?, imdb_id=?, tmdb_id=?, automatic=?, path=?"
           " WHERE id=?");
  if (!st)
    return -EIO;
  bind_entry(st, x);
  sqlite3_bind_int64(st, 12, x->e.id);
  return step_done(lib, st);
}

/* A failed write may have left memory ahead of the database: start over. */
static void recover(rg_library *lib) {
  exec_sql(lib, "ROLLBACK", NULL);
  if (load(lib))
    rg_error("cannot reload its tables");
  publish(lib);
}

/* Adds inside a transaction the caller runs. With SKIP_SAME_TORRENT, an
 * identity held by another file of the same torrent is left alone (-EEXIST:
 * automatic entries, two files of one torrent that parse the same). */
static int add_locked(rg_library *lib, const rg_lib_entry *in,
                      bool skip_same_torrent, ent **out, char **cause) {
  char hash[41];
  char *title = NULL;
  target tg = {0};
  int rc = validate(in, hash, &title, cause);
  if (rc)
    return rc;
  if ((rc = resolve_target(lib, hash, in->file_index, &tg, cause))) {
    free(title);
    return rc;
  }
  bool movie = strcmp(in->kind, "movie") == 0;
  ent *x = rg_calloc(1, sizeof *x);
  memcpy(x->e.hash, hash, sizeof hash);
  x->e.file_index = in->file_index;
  snprintf(x->e.kind, sizeof x->e.kind, "%s", movie ? "movie" : "episode");
  x->e.title = title;
  x->e.year = in->year;
  x->e.season = movie ? -1 : in->season;
  x->e.episode = movie ? -1 : in->episode;
  x->e.imdb_id = in->imdb_id && *in->imdb_id ? rg_strdup(in->imdb_id) : NULL;
  x->e.tmdb_id = in->tmdb_id;
  x->e.automatic = in->automatic;
  x->e.size = tg.size;
  x->e.mtime = tg.mtime;
  x->added = rg_wall_s();

  char fkey[52];
  snprintf(fkey, sizeof fkey, "%s/%d", hash, in->file_index);
  char *ident =
      identity(x->e.kind, x->e.title, x->e.year, x->e.season, x->e.episode);
  ent *same_file = smap_get(&lib->by_file, fkey);
  ent *same_title = smap_get(&lib->by_ident, ident);
  free(ident);
  if (skip_same_torrent && same_title && same_title != same_file &&
      strcmp(same_title->e.hash, hash) == 0) {
    ent_free(x);
    *cause = rg_printf("title: file %d of this torrent already is \"%s\"",
                       same_title->e.file_index, same_title->e.path);
    return -EEXIST;
  }
  if (same_title) {
    /* an upgrade: the path (and so the inode) stays */
    x->e.path = rg_strdup(same_title->e.path);
    if (!x->e.imdb_id && same_title->e.imdb_id)
      x->e.imdb_id = rg_strdup(same_title->e.imdb_id);
    if (!x->e.tmdb_id)
      x->e.tmdb_id = same_title->e.tmdb_id;
  } else {
    x->e.path = make_path(lib, x->e.kind, x->e.title, x->e.year, x->e.season,
                          x->e.episode, tg.ext, same_file);
  }
  if ((same_file && (rc = db_delete(lib, same_file->e.id))) ||
      (same_title && same_title != same_file &&
       (rc = db_delete(lib, same_title->e.id))) ||
      (rc = db_insert(lib, x)) || (rc = ensure_inodes(lib, x->e.path))) {
    ent_free(x);
    *cause = rg_strdup("library: database write failed");
    return rc;
  }
  if (same_file) {
    rg_info("entry %lld (%s) replaced", (long long)same_file->e.id,
            same_file->e.path);
    drop_ent(lib, same_file);
  }
  if (same_title && same_title != same_file) {
    rg_info("entry %lld upgraded: %s now plays file %d of %s",
            (long long)same_title->e.id, same_title->e.path, x->e.file_index,
            x->e.hash);
    drop_ent(lib, same_title);
  }
  push_ent(lib, x);
  *out = x;
  return 0;
}

int rg_library_add(rg_library *lib, const rg_lib_entry *in, rg_lib_entry **out,
                   char **cause) {
  ent *x = NULL;
  if (exec_sql(lib, "BEGIN", NULL)) {
    *cause = rg_strdup("library: database busy");
    return -EIO;
  }
  int rc = add_locked(lib, in, false, &x, cause);
  if (rc) {
    if (rc == -EIO)
      recover(lib);
    else
      exec_sql(lib, "ROLLBACK", NULL);
    return rc;
  }
  if (exec_sql(lib, "COMMIT", NULL)) {
    recover(lib);
    *cause = rg_strdup("library: database write failed");
    return -EIO;
  }
  rg_info("entry %lld: %s → %s file %d", (long long)x->e.id, x->e.path,
          x->e.hash, x->e.file_index);
  publish(lib);
  if (out)
    *out = entry_copy(x);
  return 0;
}

int rg_library_update(rg_library *lib, int64_t id, const rg_lib_entry *in,
                      rg_lib_entry **out, char **cause) {
  ent *x = find_id(lib, id);
  if (!x) {
    *cause = rg_printf("no library entry %lld", (long long)id);
    return -ENOENT;
  }
  char hash[41];
  char *title = NULL;
  target tg = {0};
  int rc = validate(in, hash, &title, cause);
  if (rc)
    return rc;
  if ((rc = resolve_target(lib, hash, in->file_index, &tg, cause))) {
    free(title);
    return rc;
  }
  bool movie = strcmp(in->kind, "movie") == 0;
  int season = movie ? -1 : in->season, episode = movie ? -1 : in->episode;
  const char *kind = movie ? "movie" : "episode";
  char fkey[52];
  snprintf(fkey, sizeof fkey, "%s/%d", hash, in->file_index);
  ent *other = smap_get(&lib->by_file, fkey);
  if (other && other != x) {
    *cause = rg_printf("file_index: entry %lld already plays file %d of %s",
                       (long long)other->e.id, in->file_index, hash);
    free(title);
    return -EEXIST;
  }
  char *ident = identity(kind, title, in->year, season, episode);
  other = smap_get(&lib->by_ident, ident);
  bool same_ident = strcmp(ident, x->ident) == 0;
  free(ident);
  if (other && other != x) {
    *cause = rg_printf("title: entry %lld already is %s",
                       (long long)other->e.id, other->e.path);
    free(title);
    return -EEXIST;
  }
  unindex_ent(lib, x);
  char *path = same_ident ? rg_strdup(x->e.path)
                          : make_path(lib, kind, title, in->year, season,
                                      episode, tg.ext, x);
  ent old = *x;
  memcpy(x->e.hash, hash, sizeof hash);
  x->e.file_index = in->file_index;
  snprintf(x->e.kind, sizeof x->e.kind, "%s", kind);
  x->e.title = title;
  x->e.year = in->year;
  x->e.season = season;
  x->e.episode = episode;
  x->e.imdb_id = in->imdb_id && *in->imdb_id ? rg_strdup(in->imdb_id) : NULL;
  x->e.tmdb_id = in->tmdb_id;
  x->e.automatic = false; /* a person decided */
  x->e.path = path;
  x->e.size = tg.size;
  x->e.mtime = tg.mtime;
  rc = exec_sql(lib, "BEGIN", NULL);
  if (!rc && !(rc = db_update(lib, x)) && !(rc = ensure_inodes(lib, path)))
    rc = exec_sql(lib, "COMMIT", NULL);
  free(old.e.title);
  free(old.e.imdb_id);
  free(old.e.path);
  index_ent(lib, x); /* frees the old identity and lowercase path */
  if (rc) {
    *cause = rg_strdup("library: database write failed");
    recover(lib);
    return -EIO;
  }
  rg_info("entry %lld edited: %s", (long long)id, x->e.path);
  publish(lib);
  if (out)
    *out = entry_copy(x);
  return 0;
}

int rg_library_remove(rg_library *lib, int64_t id) {
  ent *x = find_id(lib, id);
  if (!x)
    return -ENOENT;
  if (db_delete(lib, id))
    return -EIO;
  rg_info("entry %lld removed (%s)", (long long)id, x->e.path);
  drop_ent(lib, x);
  publish(lib);
  return 0;
}

/* ---- automatic entries ---- */

static bool is_video(const char *path) {
  static const char *const exts[] = {"mkv",  "mp4", "m4v",  "avi", "ts",
                                     "m2ts", "mov", "webm", "wmv"};
  char ext[10];
  path_ext(path, ext);
  for (size_t i = 0; i < RG_ARRAY_LEN(exts); i++)
    if (strcmp(ext, exts[i]) == 0)
      return true;
  return false;
}

/* "sample" as a word of the file's name or one of its directories. */
static bool is_sample(const char *path) {
  char *l = lower_dup(path);
  bool yes = false;
  for (char *p = strstr(l, "sample"); p && !yes; p = strstr(p + 1, "sample")) {
    bool start = p == l || !isalnum((unsigned char)p[-1]);
    bool end = !isalnum((unsigned char)p[6]);
    yes = start && end;
  }
  free(l);
  return yes;
}

static bool scanned(rg_library *lib, const char *hash) {
  return rg_db_has_row(lib->db, "library database",
                       "SELECT 1 FROM library_scanned WHERE hash=?", hash);
}

static bool titles_match(const char *a, const char *b) {
  return strcasecmp(a, b) == 0;
}

/* The entry, however it was made, that already is episode SEASON×EPISODE
 * of the show whose title key is SKEY; a year known on both sides must
 * agree. NULL if none. */
static const ent *episode_of(rg_library *lib, const char *skey, int year,
                             int season, int episode) {
  for (size_t i = 0; i < lib->n; i++) {
    const ent *x = lib->ents[i];
    if (x->skey && x->e.season == season && x->e.episode == episode &&
        strcmp(x->skey, skey) == 0 &&
        (!year || !x->e.year || x->e.year == year))
      return x;
  }
  return NULL;
}

/* The show folder an automatic episode of SKEY (YEAR, 0 = not in the name)
 * of SEASON joins: an episode entry of that show whose title and year it
 * takes, or NULL. A year in the name must match. Without one, an entry with
 * a year (the sync job's, from TMDB, or a person's) is preferred, then one
 * of the same season, then one a person or the sync job made. */
static const ent *show_of(rg_library *lib, const char *skey, int year,
                          int season) {
  const ent *best = NULL;
  int best_score = -1;
  for (size_t i = 0; i < lib->n; i++) {
    const ent *x = lib->ents[i];
    if (!x->skey || strcmp(x->skey, skey) != 0 || (year && x->e.year != year))
      continue;
    int score = (x->e.year ? 4 : 0) + (x->e.season == season ? 2 : 0) +
                (x->e.automatic ? 0 : 1);
    if (score > best_score) {
      best = x;
      best_score = score;
    }
  }
  return best;
}

/* Tries one automatic entry: 1 made, 0 not, -EIO (roll back). An episode
 * that already has an entry (any torrent, made by a person, the sync job or
 * an earlier scan) is left alone: a season pack the sync job took only some
 * episodes from must not add a second entry for the others. A new episode
 * of a show already in the library goes into that show's folder. */
static int auto_add(rg_library *lib, rg_torrent *t, int index, const char *kind,
                    const rg_release *r, int year) {
  char fkey[52];
  snprintf(fkey, sizeof fkey, "%s/%d", rg_torrent_hex(t), index);
  if (smap_get(&lib->by_file, fkey))
    return 0;
  rg_lib_entry in = {0};
  snprintf(in.hash, sizeof in.hash, "%s", rg_torrent_hex(t));
  in.file_index = index;
  snprintf(in.kind, sizeof in.kind, "%s", kind);
  in.title = (char *)r->title;
  in.year = year;
  in.season = r->season;
  in.episode = r->episode;
  in.automatic = true;
  char *show_title = NULL;
  if (strcmp(kind, "episode") == 0) {
    char skey[256];
    rg_release_title_key(r->title, skey, sizeof skey);
    const ent *have =
        skey[0] ? episode_of(lib, skey, year, r->season, r->episode) : NULL;
    if (have) {
      rg_info("%s file %d: S%02dE%02d already is %s; no automatic entry",
              in.hash, index, r->season, r->episode, have->e.path);
      return 0;
    }
    const ent *show = skey[0] ? show_of(lib, skey, year, r->season) : NULL;
    if (show) {
      show_title = rg_strdup(show->e.title);
      in.title = show_title;
      in.year = show->e.year;
    }
  }
  ent *x = NULL;
  char *cause = NULL;
  int rc = add_locked(lib, &in, true, &x, &cause);
  free(show_title);
  if (rc) {
    if (rc != -EEXIST)
      rg_warn("%s file %d: no automatic entry: %s", in.hash, index,
              cause ? cause : "error");
    free(cause);
    return rc == -EIO ? -EIO : 0;
  }
  rg_info("automatic entry %lld: %s", (long long)x->e.id, x->e.path);
  return 1;
}

static void scan_torrent(rg_library *lib, rg_torrent *t) {
  const char *hex = rg_torrent_hex(t);
  const rg_tinfo *ti = rg_torrent_info(t);
  if (!ti || scanned(lib, hex))
    return;
  if (exec_sql(lib, "BEGIN", NULL))
    return;
  sqlite3_stmt *st = prep(lib, "INSERT OR IGNORE INTO library_scanned(hash)"
                               " VALUES(?)");
  if (!st ||
      (sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC), step_done(lib, st))) {
    recover(lib);
    return;
  }
  /* the videos worth an entry */
  int *vid = rg_calloc((size_t)ti->nfiles + 1, sizeof *vid);
  int nvid = 0;
  for (int i = 0; i < ti->nfiles; i++)
    if (!ti->files[i].pad && is_video(ti->files[i].path) &&
        !is_sample(ti->files[i].path))
      vid[nvid++] = i;
  if (nvid > 1) {
    int k = 0;
    for (int i = 0; i < nvid; i++)
      if (ti->files[vid[i]].size >= MIN_VIDEO_BYTES)
        vid[k++] = vid[i];
    nvid = k;
  }
  rg_release tr, tt, fr;
  bool tr_ok = rg_release_parse(ti->name ? ti->name : "", &tr);
  const char *title = rg_torrent_title(t);
  bool tt_ok = title && *title && rg_release_parse(title, &tt);
  int made = 0, episodes = 0, largest = -1, rc;
  bool failed = false;
  for (int i = 0; i < nvid; i++) {
    const rg_tfile *f = &ti->files[vid[i]];
    if (largest < 0 || f->size > ti->files[largest].size)
      largest = vid[i];
    bool ok = rg_release_parse(f->path, &fr);
    if (fr.episode < 0 || fr.season < 0)
      continue;
    episodes++;
    int year = fr.year;
    if (!ok) {
      /* "S01E02.mkv" in "Show.S01.1080p": the show is the torrent's */
      const rg_release *show = tt_ok ? &tt : tr_ok ? &tr : NULL;
      if (!show)
        continue;
      snprintf(fr.title, sizeof fr.title, "%s", show->title);
      year = show->year;
    } else if (!year && tr_ok && titles_match(tr.title, fr.title)) {
      year = tr.year;
    }
    if ((rc = auto_add(lib, t, vid[i], "episode", &fr, year)) < 0)
      failed = true;
    else
      made += rc;
  }
  bool pack = (tr_ok && tr.season >= 0) || (tt_ok && tt.season >= 0);
  if (!episodes && !pack && largest >= 0) {
    /* a movie: the first name with a year, else the first that parses */
    bool f_ok = rg_release_parse(ti->files[largest].path, &fr);
    const rg_release *cands[3] = {tt_ok ? &tt : NULL, tr_ok ? &tr : NULL,
                                  f_ok ? &fr : NULL};
    const rg_release *pick = NULL;
    for (int i = 0; i < 3 && !pick; i++)
      if (cands[i] && cands[i]->year)
        pick = cands[i];
    for (int i = 0; i < 3 && !pick; i++)
      if (cands[i])
        pick = cands[i];
    if (pick && (rc = auto_add(lib, t, largest, "movie", pick, pick->year)) < 0)
      failed = true;
    else if (pick)
      made += rc;
  }
  free(vid);
  if (failed || exec_sql(lib, "COMMIT", NULL)) {
    recover(lib);
    return;
  }
  if (made)
    publish(lib);
}

static void hook_metadata(rg_torrent *t, void *arg) { scan_torrent(arg, t); }

static void hook_removed(rg_torrent *t, void *arg) {
  rg_library *lib = arg;
  const char *hex = rg_torrent_hex(t);
  sqlite3_stmt *st = prep(lib, "DELETE FROM library_scanned WHERE hash=?");
  if (st) {
    sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
    step_done(lib, st);
  }
  st = prep(lib, "DELETE FROM library WHERE hash=?");
  if (!st)
    return;
  sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
  if (step_done(lib, st))
    return;
  int gone = 0;
  for (size_t i = lib->n; i-- > 0;) {
    if (strcmp(lib->ents[i]->e.hash, hex) == 0) {
      drop_ent(lib, lib->ents[i]);
      gone++;
    }
  }
  if (gone) {
    rg_info("%d entries of %s removed with their torrent", gone, hex);
    publish(lib);
  }
}

static void scan_each(rg_torrent *t, void *arg) { scan_torrent(arg, t); }

void rg_library_attach(rg_library *lib) {
  if (!lib->tm)
    return;
  rg_tm_hooks h = {
      .on_metadata = hook_metadata, .on_removed = hook_removed, .arg = lib};
  rg_tm_add_hooks(lib->tm, &h);
  lib->hooked = true;
  /* torrents whose metadata arrived while no library was listening */
  rg_tm_each(lib->tm, scan_each, lib);
}
