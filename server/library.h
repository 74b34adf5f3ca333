/* library.h — the media library: entries mapping a virtual path
 * (movies/Title (Year)/Title (Year).mkv, tv/Show (Year)/Season 01/Show (Year)
 * - S01E02.mkv) to a file of a torrent, persisted in the store with stable
 * 64-bit inode numbers, and the immutable tree snapshots the FUSE mount
 * serves.
 *
 * Threads: entries are changed on the loop thread only. Tree snapshots are
 * immutable and reference-counted: any thread may take one (get), use it
 * without locks, and put it back; a change publishes a new snapshot. */
#ifndef RG_LIBRARY_H
#define RG_LIBRARY_H

#include <stdbool.h>
#include <stdint.h>

#include "store.h"
#include "torrents.h"

typedef struct rg_library rg_library;

typedef struct rg_lib_entry {
  int64_t id;
  char hash[41];
  int file_index;
  char kind[8];   /* "movie" or "episode" */
  char *title;    /* movie title, or the show's name */
  int year;       /* 0 = unknown */
  int season, episode; /* episodes only */
  char *imdb_id;  /* may be NULL */
  int64_t tmdb_id; /* 0 = unknown */
  bool automatic; /* made from the release name on add, not by a person */
  /* derived */
  char *path;     /* the virtual path, '/'-separated, no leading '/' */
  uint64_t ino;
  int64_t size;
  int64_t mtime;  /* wall seconds (the torrent's added time) */
} rg_lib_entry;

/* Node of a tree snapshot. Directories have children (sorted by name). */
typedef struct rg_lib_node {
  uint64_t ino;
  uint64_t parent;
  const char *name;
  bool dir;
  int64_t size;
  int64_t mtime;
  /* files only */
  char hash[41];
  int file_index;
  int64_t entry_id;
  /* directories only */
  uint32_t nchildren;
  const struct rg_lib_node *const *children;
} rg_lib_node;

typedef struct rg_lib_tree rg_lib_tree;

#define RG_LIB_ROOT_INO 1

/* Creates the library (and its tables: migrations live in library.c and run
 * from rg_library_new). NULL + *cause on failure. */
rg_library *rg_library_new(rg_store *store, rg_tm *tm, char **cause);
void rg_library_free(rg_library **lib);
/* Registers the torrent-manager hooks: automatic entries when a torrent's
 * metadata is known and its release name parses; entries go when their
 * torrent is removed. */
void rg_library_attach(rg_library *lib);

/* Adds an entry (hash, file_index, kind, title, year, season, episode,
 * imdb_id, tmdb_id from IN). 0 with *out (free with rg_lib_entry_free), or
 * -EINVAL / -ENOENT + *cause. A new entry for a title that already has a
 * path (an upgrade to a better release) keeps that path and inode. */
int rg_library_add(rg_library *lib, const rg_lib_entry *in, rg_lib_entry **out,
                   char **cause);
/* Replaces the editable fields of entry ID. */
int rg_library_update(rg_library *lib, int64_t id, const rg_lib_entry *in,
                      rg_lib_entry **out, char **cause);
int rg_library_remove(rg_library *lib, int64_t id);
/* Entry by id (free with rg_lib_entry_free), or NULL. */
rg_lib_entry *rg_library_get(rg_library *lib, int64_t id);
/* Calls CB for every entry, ordered by path. */
void rg_library_each(rg_library *lib,
                     void (*cb)(const rg_lib_entry *e, void *arg), void *arg);
void rg_lib_entry_free(rg_lib_entry **e);

/* Snapshots (any thread). */
rg_lib_tree *rg_library_tree_get(rg_library *lib);
void rg_lib_tree_put(rg_lib_tree *t);
const rg_lib_node *rg_lib_tree_node(const rg_lib_tree *t, uint64_t ino);
const rg_lib_node *rg_lib_tree_lookup(const rg_lib_tree *t, uint64_t parent,
                                      const char *name);
/* Called (on the loop thread) after each new snapshot is published. */
void rg_library_set_listener(rg_library *lib,
                             void (*changed)(void *arg, rg_lib_tree *old_tree,
                                             rg_lib_tree *new_tree),
                             void *arg);

#endif
