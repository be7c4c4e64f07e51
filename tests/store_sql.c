/*
 * store_sql.c — damages a store file on purpose, for the tests of `utxo
 * check` and of the checks before serving (tests/store_check.sh), without
 * the sqlite3 shell. Not installed.
 *
 * usage: store_sql DB exec SQL
 *          runs SQL (any statements) on DB
 *        store_sql DB exec-hot SQL
 *          the same, and exits without the checkpoint SQLite does at close:
 *          what SQL committed stays in DB-wal (a "hot" write-ahead log)
 *        store_sql DB flip TABLE COLUMN WHERE OFFSET
 *          flips bit 0 of byte OFFSET (negative: from the end) of the blob
 *          COLUMN of the one row of TABLE matching WHERE
 */
#include "config.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(sqlite3 *db, const char *what)
{
    fprintf(stderr, "store_sql: %s: %s\n", what, sqlite3_errmsg(db));
    sqlite3_close(db);
    return 2;
}

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    char sql[1024];
    unsigned char *buf;
    long off;
    int n;

    bool exec = strcmp(argv[argc > 2 ? 2 : 0], "exec") == 0,
         hot = strcmp(argv[argc > 2 ? 2 : 0], "exec-hot") == 0;

    if (argc < 4 || (exec || hot ? argc != 4
                                                  : strcmp(argv[2], "flip") != 0 || argc != 7)) {
        fprintf(stderr, "usage: store_sql DB exec|exec-hot SQL | store_sql DB flip TABLE COLUMN WHERE OFFSET\n");
        return 2;
    }
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        return fail(db, argv[1]);
    if (hot)
        sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
    if (exec || hot) {
        if (sqlite3_exec(db, argv[3], NULL, NULL, NULL) != SQLITE_OK)
            return fail(db, argv[3]);
        sqlite3_close(db);
        return 0;
    }
    snprintf(sql, sizeof sql, "SELECT %s FROM %s WHERE %s", argv[4], argv[3], argv[5]);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
        return fail(db, sql);
    n = sqlite3_column_bytes(q, 0);
    off = strtol(argv[6], NULL, 10);
    if (off < 0)
        off += n;
    if (off < 0 || off >= n || (buf = malloc((size_t)n)) == NULL) {
        fprintf(stderr, "store_sql: offset %s outside the %d-byte blob\n", argv[6], n);
        return 2;
    }
    memcpy(buf, sqlite3_column_blob(q, 0), (size_t)n);
    sqlite3_finalize(q);
    buf[off] ^= 1;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE %s", argv[3], argv[4], argv[5]);
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) != SQLITE_OK)
        return fail(db, sql);
    sqlite3_bind_blob(q, 1, buf, n, SQLITE_TRANSIENT);
    if (sqlite3_step(q) != SQLITE_DONE || sqlite3_changes(db) != 1)
        return fail(db, sql);
    sqlite3_finalize(q);
    free(buf);
    sqlite3_close(db);
    return 0;
}
