/*
 * sqlfuzz.h — what fuzz_store and fuzz_walletdb share: a seed database
 * made once per process and kept in memory, a fresh work copy of it for
 * each input, and the input's 5-byte edits of the copy's rows made through
 * SQL. Header-only (static functions) for the two targets; each includes
 * it once.
 *
 * An edit is (target, row, operation, position, value): target picks a
 * (table, column, key) from the caller's list, row the row at that offset
 * (0..63) in key order, operation (mod 4) flips one bit or byte of the
 * value (0), cuts a blob or sets an integer to value - 128 (1), stores the
 * other type (2), or deletes the row (3).
 */
#ifndef UTXO_TESTS_SQLFUZZ_H
#define UTXO_TESTS_SQLFUZZ_H

#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SQLF_REC 5u         /* bytes of one edit */
#define SQLF_MAX_EDITS 16u  /* edits read from one input */

typedef struct {
    const char *table, *column, *key; /* key: the column that selects a row */
} sqlf_target;

/* Removes path with the files SQLite and the library keep beside it: the
 * writer lock (PATH.lock, left by design), and the WAL and shared-memory
 * files a read-only connection cannot delete when it closes (a stale WAL
 * would be replayed into the next copy). */
static void sqlf_remove(const char *path)
{
    static const char *const sfx[] = {"", ".lock", "-wal", "-shm", "-journal"};
    char p[300];

    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        snprintf(p, sizeof p, "%s%s", path, sfx[i]);
        unlink(p);
    }
}

/* The whole file at path in a new buffer (*len bytes), then the file and
 * its side files removed; NULL if it cannot be read or is empty. */
static uint8_t *sqlf_take(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long n = 0;

    if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
        fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (f != NULL)
        fclose(f);
    sqlf_remove(path);
    *len = buf != NULL ? (size_t)n : 0;
    return buf;
}

/* A fresh copy of seed[0..len) at path, open for editing; NULL on failure. */
static sqlite3 *sqlf_copy(const char *path, const uint8_t *seed, size_t len)
{
    sqlite3 *db = NULL;
    FILE *f;

    sqlf_remove(path);
    if ((f = fopen(path, "wb")) == NULL)
        return NULL;
    if (fwrite(seed, 1, len, f) != len) {
        fclose(f);
        return NULL;
    }
    if (fclose(f) != 0)
        return NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Applies the edit r[0..SQLF_REC) to db; an edit a constraint refuses, or
 * of a row that is not there, changes nothing. */
static void sqlf_edit(sqlite3 *db, const sqlf_target *targets, size_t n_targets, const uint8_t *r)
{
    const sqlf_target *tg = &targets[r[0] % n_targets];
    const char *t = tg->table, *c = tg->column, *k = tg->key;
    char sql[512];
    sqlite3_stmt *sel = NULL, *upd = NULL;

    snprintf(sql, sizeof sql, "SELECT %s, %s FROM %s ORDER BY %s LIMIT 1 OFFSET %u", k, c, t, k,
             (unsigned)r[1] % 64u);
    if (sqlite3_prepare_v2(db, sql, -1, &sel, NULL) != SQLITE_OK || sqlite3_step(sel) != SQLITE_ROW)
        goto out;
    if (r[2] % 4 == 3)
        snprintf(sql, sizeof sql, "DELETE FROM %s WHERE %s = ?1", t, k);
    else
        snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?2 WHERE %s = ?1", t, c, k);
    if (sqlite3_prepare_v2(db, sql, -1, &upd, NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_value(upd, 1, sqlite3_column_value(sel, 0));
    if (r[2] % 4 != 3) {
        int type = sqlite3_column_type(sel, 1);
        if (r[2] % 4 == 2) { /* the other type */
            if (type == SQLITE_BLOB)
                sqlite3_bind_int64(upd, 2, (int64_t)r[4] - 128);
            else
                sqlite3_bind_blob(upd, 2, &r[4], 1, SQLITE_TRANSIENT);
        } else if (type == SQLITE_BLOB) {
            int n = sqlite3_column_bytes(sel, 1);
            const uint8_t *v = sqlite3_column_blob(sel, 1);
            uint8_t *copy = malloc(n > 0 ? (size_t)n : 1);
            if (copy == NULL)
                goto out;
            if (n > 0)
                memcpy(copy, v, (size_t)n);
            if (r[2] % 4 == 0 && n > 0)
                copy[r[3] % n] ^= (uint8_t)(r[4] | 1u);
            else if (n > 0)
                n = r[3] % n; /* cut */
            sqlite3_bind_blob(upd, 2, copy, n, SQLITE_TRANSIENT);
            free(copy);
        } else {
            int64_t v = sqlite3_column_int64(sel, 1);
            if (r[2] % 4 == 0)
                v ^= (int64_t)(UINT64_C(1) << (r[4] % 64));
            else
                v = (int64_t)r[4] - 128;
            sqlite3_bind_int64(upd, 2, v);
        }
    }
    (void)sqlite3_step(upd); /* a constraint may refuse the edit: fine */
out:
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
}

#endif
