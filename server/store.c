/* store.c — SQLite state. Schema changes are numbered migrations applied in
 * one transaction each; PRAGMA user_version records the last one applied. */
#include "config.h"

#include "store.h"
#include "log.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rg_store {
  sqlite3 *db;
};

static const char *migrations[] = {
    /* 1: core */
    "CREATE TABLE settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE torrents(hash TEXT PRIMARY KEY, name TEXT, title TEXT,"
    "  source TEXT, info BLOB, have BLOB, added INTEGER NOT NULL DEFAULT 0,"
    "  last_read INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE files(hash TEXT NOT NULL REFERENCES torrents(hash)"
    "  ON DELETE CASCADE, idx INTEGER NOT NULL, path TEXT NOT NULL,"
    "  size INTEGER NOT NULL, PRIMARY KEY(hash, idx));",
};

static int exec(rg_store *s, const char *sql, char **cause) {
  char *err = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    if (cause)
      *cause = rg_printf("database: %s", err ? err : "error");
    sqlite3_free(err);
    return -EIO;
  }
  return 0;
}

int rg_store_schema_version(rg_store *s) {
  sqlite3_stmt *st;
  int v = -1;
  if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) ==
      SQLITE_OK) {
    if (sqlite3_step(st) == SQLITE_ROW)
      v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
  }
  return v;
}

static int migrate(rg_store *s, char **cause) {
  int have = rg_store_schema_version(s);
  int want = (int)RG_ARRAY_LEN(migrations);
  if (have < 0) {
    *cause = rg_strdup("database: cannot read its schema version");
    return -EIO;
  }
  if (have > want) {
    *cause = rg_printf("database schema version %d is newer than this "
                       "reelgate (%d); upgrade reelgate",
                       have, want);
    return -EPROTO;
  }
  for (int v = have; v < want; v++) {
    char *sql = rg_printf("BEGIN;%s;PRAGMA user_version=%d;COMMIT;",
                          migrations[v], v + 1);
    int rc = exec(s, sql, cause);
    free(sql);
    if (rc) {
      exec(s, "ROLLBACK", NULL);
      return rc;
    }
    rg_info("database migrated to schema version %d", v + 1);
  }
  return 0;
}

int rg_store_open(const char *path, rg_store **out, char **cause) {
  rg_store *s = rg_calloc(1, sizeof *s);
  if (sqlite3_open_v2(path, &s->db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    *cause = rg_printf("cannot open database %s: %s", path,
                       s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_close(s->db);
    free(s);
    return -EIO;
  }
  sqlite3_busy_timeout(s->db, 5000);
  int rc = exec(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                   "PRAGMA foreign_keys=ON;",
                cause);
  if (!rc)
    rc = migrate(s, cause);
  if (rc) {
    char *c = rg_printf("%s: %s", path, *cause);
    free(*cause);
    *cause = c;
    sqlite3_close(s->db);
    free(s);
    return rc;
  }
  *out = s;
  return 0;
}

void rg_store_close(rg_store **sp) {
  if (!*sp)
    return;
  sqlite3_close((*sp)->db);
  free(*sp);
  *sp = NULL;
}

sqlite3 *rg_store_db(rg_store *s) { return s->db; }

sqlite3_stmt *rg_db_prep(sqlite3 *db, const char *what, const char *sql) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
    rg_error("%s: %s: %s", what, sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return NULL;
  }
  return st;
}

int rg_db_step_done(sqlite3 *db, const char *what, sqlite3_stmt *st) {
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    rg_error("%s write failed: %s", what, sqlite3_errmsg(db));
    return -EIO;
  }
  return 0;
}

bool rg_db_has_row(sqlite3 *db, const char *what, const char *sql,
                   const char *key) {
  sqlite3_stmt *st = rg_db_prep(db, what, sql);
  if (!st)
    return false;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  bool yes = sqlite3_step(st) == SQLITE_ROW;
  sqlite3_finalize(st);
  return yes;
}

static sqlite3_stmt *prep(rg_store *s, const char *sql) {
  return rg_db_prep(s->db, "database", sql);
}

static int step_done(rg_store *s, sqlite3_stmt *st) {
  return rg_db_step_done(s->db, "database", st);
}

char *rg_store_get_setting(rg_store *s, const char *key) {
  sqlite3_stmt *st = prep(s, "SELECT value FROM settings WHERE key=?");
  char *v = NULL;
  if (!st)
    return NULL;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step(st) == SQLITE_ROW)
    v = rg_strdup((const char *)sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  return v;
}

int rg_store_set_setting(rg_store *s, const char *key, const char *value) {
  sqlite3_stmt *st =
      prep(s, "INSERT OR REPLACE INTO settings(key, value) VALUES(?,?)");
  if (!st)
    return -EIO;
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  return step_done(s, st);
}

int rg_store_put_torrent(rg_store *s, const rg_store_torrent *t,
                         const char *const *paths, const int64_t *sizes,
                         int nfiles) {
  if (exec(s, "BEGIN", NULL))
    return -EIO;
  sqlite3_stmt *st = prep(
      s, "INSERT INTO torrents(hash,name,title,source,info,have,added,"
         "last_read) VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(hash) DO UPDATE SET "
         "name=excluded.name, title=excluded.title, source=excluded.source, "
         "info=excluded.info, have=excluded.have, added=excluded.added, "
         "last_read=excluded.last_read");
  int rc = -EIO;
  if (!st)
    goto out;
  sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, t->name, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, t->title, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, t->source, -1, SQLITE_STATIC);
  if (t->info)
    sqlite3_bind_blob(st, 5, t->info, (int)t->info_len, SQLITE_STATIC);
  if (t->have)
    sqlite3_bind_blob(st, 6, t->have, (int)t->have_len, SQLITE_STATIC);
  sqlite3_bind_int64(st, 7, t->added);
  sqlite3_bind_int64(st, 8, t->last_read);
  if ((rc = step_done(s, st)))
    goto out;
  if (t->info && nfiles > 0) {
    st = prep(s, "DELETE FROM files WHERE hash=?");
    if (!st)
      goto out;
    sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
    if ((rc = step_done(s, st)))
      goto out;
    st = prep(s, "INSERT INTO files(hash, idx, path, size) VALUES(?,?,?,?)");
    if (!st) {
      rc = -EIO;
      goto out;
    }
    for (int i = 0; i < nfiles; i++) {
      sqlite3_reset(st);
      sqlite3_bind_text(st, 1, t->hash, -1, SQLITE_STATIC);
      sqlite3_bind_int(st, 2, i);
      sqlite3_bind_text(st, 3, paths[i], -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 4, sizes[i]);
      if (sqlite3_step(st) != SQLITE_DONE) {
        rg_error("database write failed: %s", sqlite3_errmsg(s->db));
        sqlite3_finalize(st);
        rc = -EIO;
        goto out;
      }
    }
    sqlite3_finalize(st);
  }
  rc = exec(s, "COMMIT", NULL);
out:
  if (rc)
    exec(s, "ROLLBACK", NULL);
  return rc;
}

int rg_store_set_have(rg_store *s, const char *hash, const uint8_t *have,
                      size_t len) {
  sqlite3_stmt *st = prep(s, "UPDATE torrents SET have=? WHERE hash=?");
  if (!st)
    return -EIO;
  if (have)
    sqlite3_bind_blob(st, 1, have, (int)len, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
  return step_done(s, st);
}

int rg_store_set_last_read(rg_store *s, const char *hash, int64_t when) {
  sqlite3_stmt *st = prep(s, "UPDATE torrents SET last_read=? WHERE hash=?");
  if (!st)
    return -EIO;
  sqlite3_bind_int64(st, 1, when);
  sqlite3_bind_text(st, 2, hash, -1, SQLITE_STATIC);
  return step_done(s, st);
}

int rg_store_delete_torrent(rg_store *s, const char *hash) {
  sqlite3_stmt *st = prep(s, "DELETE FROM torrents WHERE hash=?");
  if (!st)
    return -EIO;
  sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
  return step_done(s, st);
}

static char *col_text(sqlite3_stmt *st, int i) {
  const unsigned char *v = sqlite3_column_text(st, i);
  return v ? (char *)v : NULL;
}

int rg_store_each_torrent(rg_store *s,
                          void (*cb)(const rg_store_torrent *t, void *arg),
                          void *arg) {
  sqlite3_stmt *st = prep(s, "SELECT hash,name,title,source,info,have,added,"
                             "last_read FROM torrents ORDER BY added, hash");
  if (!st)
    return -EIO;
  while (sqlite3_step(st) == SQLITE_ROW) {
    rg_store_torrent t = {0};
    snprintf(t.hash, sizeof t.hash, "%s", (const char *)sqlite3_column_text(st, 0));
    t.name = col_text(st, 1);
    t.title = col_text(st, 2);
    t.source = col_text(st, 3);
    t.info = (uint8_t *)sqlite3_column_blob(st, 4);
    t.info_len = (size_t)sqlite3_column_bytes(st, 4);
    t.have = (uint8_t *)sqlite3_column_blob(st, 5);
    t.have_len = (size_t)sqlite3_column_bytes(st, 5);
    t.added = sqlite3_column_int64(st, 6);
    t.last_read = sqlite3_column_int64(st, 7);
    cb(&t, arg);
  }
  sqlite3_finalize(st);
  return 0;
}
