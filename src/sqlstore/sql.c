/*
 * sql.c — the pieces every file of the store stands on: failures recorded
 * with a message (SQLite's, or the file system's errno behind it), the
 * prepared statements, the outpoint key, and a stored block read back.
 * Files of the store call down into it; it calls none of them, so the
 * store's files use each other one way: store.c (open, close, metadata,
 * transactions) over nodes.c, checkpoint.c and this; query.c over check.c
 * (bundles checked before they are served) over this.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/stat.h>
#include "sqlstore/store_int.h"
#include "utxo/atomicfile.h"

/* ---- errors and statements ---------------------------------------------- */

int store_fail(utxo_store *s, int rc, const char *fmt, ...)
{
    char buf[sizeof s->msg];
    va_list ap;

    /* through a copy: the arguments may include s->msg itself */
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    memcpy(s->msg, buf, sizeof buf);
    return rc;
}

static int sql_code(const utxo_store *s, int sc)
{
    switch (sc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return UTXO_ERR_STORE_BUSY;
    case SQLITE_NOMEM:
        return UTXO_ERR_NOMEM;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
        return UTXO_ERR_IO;
    case SQLITE_READONLY:
        /* a store opened for queries is "open read-only"; a writable one
         * that cannot write is a file system matter (read-only mount,
         * permissions) */
        return (s->flags & UTXO_STORE_READONLY) ? UTXO_ERR_STORE_READONLY : UTXO_ERR_IO;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return UTXO_ERR_STORE_CORRUPT;
    default:
        return UTXO_ERR_STORE_SQL;
    }
}

/*
 * The errno behind a failed write to the store when SQLite did not keep
 * one (it often reports a short write as plain SQLITE_IOERR or
 * SQLITE_FULL): the file system is read-only or full, or the process's
 * file size limit (RLIMIT_FSIZE) is reached by the store or its WAL.
 */
static int probe_errno(const char *path)
{
    char dir[4096], wal[4096 + 8];
    const char *slash = strrchr(path, '/');
    struct statvfs vf;
    struct rlimit rl;
    struct stat sb;

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    if (statvfs(dir, &vf) == 0) {
        if (vf.f_flag & ST_RDONLY)
            return EROFS;
        if (vf.f_bavail < 16)
            return ENOSPC;
    }
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (getrlimit(RLIMIT_FSIZE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        ((stat(path, &sb) == 0 && (rlim_t)sb.st_size + 65536 >= rl.rlim_cur) ||
         (stat(wal, &sb) == 0 && (rlim_t)sb.st_size + 65536 >= rl.rlim_cur)))
        return EFBIG;
    return 0;
}

int store_sql_fail(utxo_store *s, const char *what)
{
    int sc = sqlite3_extended_errcode(s->db), e = sqlite3_system_errno(s->db);
    const char *path = s->path ? s->path : "store";

    switch (sc & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_READONLY:
        if ((sc & 0xff) == SQLITE_FULL || e == 0) {
            int pe = probe_errno(path);
            if (pe != 0)
                e = pe;
            else if ((sc & 0xff) == SQLITE_FULL)
                e = ENOSPC;
        }
        if (e != 0)
            return store_fail(s, sql_code(s, sc), "%s: %s: %s (SQLite: %s)", path, what,
                              afile_errtext(e), sqlite3_errmsg(s->db));
        return store_fail(s, sql_code(s, sc), "%s: %s: SQLite: %s", path, what,
                          sqlite3_errmsg(s->db));
    default:
        return store_fail(s, sql_code(s, sc), "%s: SQLite: %s", what, sqlite3_errmsg(s->db));
    }
}

sqlite3_stmt *store_stmt(utxo_store *s, enum store_stmt st)
{
    sqlite3_stmt *q = s->st[st];

    sqlite3_reset(q);
    sqlite3_clear_bindings(q);
    return q;
}

int store_exec_stmt(utxo_store *s, enum store_stmt st, const char *what)
{
    sqlite3_stmt *q = s->st[st];
    int sc = sqlite3_step(q);

    sqlite3_reset(q);
    if (sc != SQLITE_DONE && sc != SQLITE_ROW)
        return store_sql_fail(s, what);
    return UTXO_OK;
}

/* ---- keys and rows ------------------------------------------------------ */

void store_outpoint_key(uint8_t key[STORE_OUTPOINT_KEY_BYTES], const utxo_outpoint *op)
{
    memcpy(key, op->txid, UTXO_HASH_BYTES);
    key[32] = (uint8_t)(op->index >> 24);
    key[33] = (uint8_t)(op->index >> 16);
    key[34] = (uint8_t)(op->index >> 8);
    key[35] = (uint8_t)op->index;
}

void store_outpoint_from_key(utxo_outpoint *op, const uint8_t key[STORE_OUTPOINT_KEY_BYTES])
{
    memcpy(op->txid, key, UTXO_HASH_BYTES);
    op->index = (uint32_t)key[32] << 24 | (uint32_t)key[33] << 16 | (uint32_t)key[34] << 8 |
                key[35];
}

int store_block_load(utxo_store *s, uint32_t height, utxo_block **out, uint8_t **bytes,
                     size_t *len, uint64_t *leaf_count)
{
    sqlite3_stmt *q = store_stmt(s, ST_BLOCK_GET);
    uint8_t *buf = NULL;
    size_t hl, bl, off = 0;
    int sc, rc = UTXO_OK;

    if (out)
        *out = NULL;
    if (bytes)
        *bytes = NULL;
    if (len)
        *len = 0;
    sqlite3_bind_int64(q, 1, height);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_HEIGHT, "the store holds no block at height %u", height);
        goto done;
    }
    if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read block");
        goto done;
    }
    hl = (size_t)sqlite3_column_bytes(q, 0);
    bl = (size_t)sqlite3_column_bytes(q, 1);
    if (hl != UTXO_HEADER_BYTES || bl > UTXO_CAP_BLOCK_BYTES) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block row %u malformed", height);
        goto done;
    }
    if ((buf = malloc(hl + bl)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    memcpy(buf, sqlite3_column_blob(q, 0), hl);
    if (bl)
        memcpy(buf + hl, sqlite3_column_blob(q, 1), bl);
    if (leaf_count)
        *leaf_count = (uint64_t)sqlite3_column_int64(q, 2);
    if (out != NULL && (rc = utxo_block_from_bytes(out, buf, hl + bl, &s->params, &off)) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block %u does not decode (offset %zu: %s)",
                        height, off, utxo_strerror(rc));
        goto done;
    }
    if (bytes) {
        *bytes = buf;
        buf = NULL;
        if (len)
            *len = hl + bl;
    }
done:
    sqlite3_reset(q);
    free(buf);
    return rc;
}
