/* store.h — the state database (SQLite, WAL, versioned schema). Owned by the
 * loop thread. Every write that must survive a crash is one transaction. */
#ifndef RG_STORE_H
#define RG_STORE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rg_store rg_store;

typedef struct rg_store_torrent {
  char hash[41];
  char *name;   /* may be NULL */
  char *title;  /* may be NULL */
  char *source; /* the link it was added by (magnet with trackers/peers) */
  uint8_t *info; /* bencoded info dict, NULL until metadata is known */
  size_t info_len;
  uint8_t *have; /* verified pieces on disk, MSB first */
  size_t have_len;
  int64_t added, last_read; /* wall seconds */
} rg_store_torrent;

/* Opens (creating and migrating) the DB at PATH. 0 or -errno + *cause. */
int rg_store_open(const char *path, rg_store **out, char **cause);
void rg_store_close(rg_store **s);
sqlite3 *rg_store_db(rg_store *s);
/* Prepares SQL on DB; on failure logs "WHAT: SQL: error" and returns NULL.
 * Every module that keeps tables in the store prepares through this. */
sqlite3_stmt *rg_db_prep(sqlite3 *db, const char *what, const char *sql);
/* Steps ST once and finalizes it: 0, or -EIO with "WHAT write failed: …"
 * logged unless the step returned SQLITE_DONE. */
int rg_db_step_done(sqlite3 *db, const char *what, sqlite3_stmt *st);
/* Whether SQL (one ? for KEY) returns a row; false on errors (logged). */
bool rg_db_has_row(sqlite3 *db, const char *what, const char *sql,
                   const char *key);
int rg_store_schema_version(rg_store *s);

/* A setting's value (malloc'd) or NULL. */
char *rg_store_get_setting(rg_store *s, const char *key);
int rg_store_set_setting(rg_store *s, const char *key, const char *value);

/* Inserts or replaces the whole row (and its files when INFO is set). */
int rg_store_put_torrent(rg_store *s, const rg_store_torrent *t,
                         const char *const *paths, const int64_t *sizes,
                         int nfiles);
int rg_store_set_have(rg_store *s, const char *hash, const uint8_t *have,
                      size_t len);
int rg_store_set_last_read(rg_store *s, const char *hash, int64_t when);
int rg_store_delete_torrent(rg_store *s, const char *hash);
/* Calls CB for every stored torrent (the row is only valid during CB). */
int rg_store_each_torrent(rg_store *s,
                          void (*cb)(const rg_store_torrent *t, void *arg),
                          void *arg);

#endif
