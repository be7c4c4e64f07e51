/*
 * store_dump.c — prints one BLAKE2b digest per table of a store file (every
 * column of every row, in key order, typed), so shell tests can compare two
 * stores row for row without the sqlite3 shell. Not installed.
 *
 * usage: store_dump DB      prints "TABLE DIGEST" lines
 */
#include "config.h"

#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

static const char *const tables[][2] = {
    {"meta", "SELECT * FROM meta"},
    {"blocks", "SELECT * FROM blocks ORDER BY height"},
    {"utxos", "SELECT * FROM utxos ORDER BY outpoint"},
    {"nodes", "SELECT * FROM nodes ORDER BY key"},
    {"undo", "SELECT * FROM undo ORDER BY height"},
    {"bundles", "SELECT * FROM bundles ORDER BY height"},
};

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    int ret = 0;

    if (argc != 2 || sodium_init() < 0) {
        fprintf(stderr, "usage: store_dump DB\n");
        return 2;
    }
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        fprintf(stderr, "store_dump: %s: %s\n", argv[1], sqlite3_errmsg(db));
        sqlite3_close(db);
        return 2;
    }
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && ret == 0; i++) {
        crypto_generichash_state st;
        sqlite3_stmt *q = NULL;
        uint8_t d[32];
        int sc;

        if (sqlite3_prepare_v2(db, tables[i][1], -1, &q, NULL) != SQLITE_OK) {
            fprintf(stderr, "store_dump: %s: %s\n", tables[i][0], sqlite3_errmsg(db));
            ret = 2;
            break;
        }
        crypto_generichash_init(&st, NULL, 0, sizeof d);
        while ((sc = sqlite3_step(q)) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(q); c++) {
                uint8_t t = (uint8_t)sqlite3_column_type(q, c), le[8];
                sqlite3_int64 v;
                uint32_t n;
                crypto_generichash_update(&st, &t, 1);
                switch (t) {
                case SQLITE_INTEGER:
                    v = sqlite3_column_int64(q, c);
                    for (int k = 0; k < 8; k++)
                        le[k] = (uint8_t)((uint64_t)v >> (8 * k));
                    crypto_generichash_update(&st, le, 8);
                    break;
                case SQLITE_BLOB:
                case SQLITE_TEXT:
                    n = (uint32_t)sqlite3_column_bytes(q, c);
                    for (int k = 0; k < 4; k++)
                        le[k] = (uint8_t)(n >> (8 * k));
                    crypto_generichash_update(&st, le, 4);
                    if (n > 0)
                        crypto_generichash_update(&st, sqlite3_column_blob(q, c), n);
                    break;
                default:
                    break;
                }
            }
        }
        if (sc != SQLITE_DONE) {
            fprintf(stderr, "store_dump: %s: %s\n", tables[i][0], sqlite3_errmsg(db));
            ret = 2;
        }
        sqlite3_finalize(q);
        crypto_generichash_final(&st, d, sizeof d);
        printf("%s ", tables[i][0]);
        for (size_t k = 0; k < sizeof d; k++)
            printf("%02x", d[k]);
        printf("\n");
    }
    sqlite3_close(db);
    return ret;
}
