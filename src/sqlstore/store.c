/*
 * store.c — the SQLite store's file: schema creation and version check,
 * opening (WAL mode, every statement prepared once), the metadata row and
 * its consistency check against the forest and the tip header, and the
 * transaction helpers the writers share. Errors, statements and rows are
 * sql.c, below every file of the store. Schema and crash model:
 * docs/STORE.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "sqlstore/store_int.h"
#include "utxo/atomicfile.h"

/* The transaction index (schema 2): where each transaction is. */
#define TXS_TABLE_SQL \
    "CREATE TABLE txs(txid BLOB PRIMARY KEY, height INTEGER NOT NULL, idx INTEGER NOT NULL)" \
    " WITHOUT ROWID;"

static const char *const schema_sql =
    "CREATE TABLE meta("
    " id INTEGER PRIMARY KEY CHECK (id = 0),"
    " schema_version INTEGER NOT NULL,"
    " params BLOB NOT NULL,"
    " n_blocks INTEGER NOT NULL,"
    " tip_hash BLOB NOT NULL,"
    " tip_time INTEGER NOT NULL,"
    " acc_state BLOB NOT NULL,"
    " acc_digest BLOB NOT NULL,"
    " n_utxos INTEGER NOT NULL,"
    " total_value INTEGER NOT NULL,"
    " n_txs INTEGER NOT NULL);"
    "CREATE TABLE blocks("
    " height INTEGER PRIMARY KEY,"
    " hash BLOB NOT NULL,"
    " header BLOB NOT NULL,"
    " body BLOB NOT NULL,"
    " leaf_count INTEGER NOT NULL,"
    " n_txs INTEGER NOT NULL);"
    "CREATE TABLE utxos("
    " outpoint BLOB PRIMARY KEY,"
    " value INTEGER NOT NULL,"
    " predicate BLOB NOT NULL,"
    " datum BLOB NOT NULL,"
    " height INTEGER NOT NULL,"
    " position INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX utxos_predicate ON utxos(predicate);"
    "CREATE TABLE nodes(key INTEGER PRIMARY KEY, hash BLOB NOT NULL);"
    "CREATE TABLE undo(height INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    "CREATE TABLE bundles(height INTEGER PRIMARY KEY, data BLOB NOT NULL);"
    TXS_TABLE_SQL;

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_META_GET] = "SELECT schema_version, params, n_blocks, tip_hash, tip_time, acc_state,"
                    " acc_digest, n_utxos, total_value, n_txs FROM meta WHERE id = 0",
    [ST_META_PUT] = "UPDATE meta SET n_blocks = ?1, tip_hash = ?2, tip_time = ?3, acc_state = ?4,"
                    " acc_digest = ?5, n_utxos = ?6, total_value = ?7, n_txs = ?8 WHERE id = 0",
    [ST_UTXO_GET] = "SELECT value, predicate, datum, height, position FROM utxos"
                    " WHERE outpoint = ?1",
    [ST_UTXO_INS] = "INSERT INTO utxos(outpoint, value, predicate, datum, height, position)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_UTXO_DEL] = "DELETE FROM utxos WHERE outpoint = ?1",
    [ST_UTXO_ALL] = "SELECT outpoint, value, predicate, datum, height, position FROM utxos"
                    " ORDER BY outpoint",
    [ST_UTXO_BYPRED] = "SELECT outpoint, value, predicate, datum, height, position FROM utxos"
                       " WHERE predicate = ?1 ORDER BY outpoint",
    /* Keyset pages (utxo_store_each_utxo_after). An index of a WITHOUT
     * ROWID table holds the primary key after its own columns, so
     * utxos_predicate is (predicate, outpoint): both seek to the cursor and
     * read in outpoint order, no sort ("SEARCH utxos USING INDEX
     * utxos_predicate (predicate=? AND outpoint>?)"; tests/test_store.c
     * checks the plans). */
    [ST_UTXO_AFTER] = "SELECT outpoint, value, predicate, datum, height, position FROM utxos"
                      " WHERE outpoint > ?2 ORDER BY outpoint LIMIT ?3",
    [ST_UTXO_AFTER_PRED] = "SELECT outpoint, value, predicate, datum, height, position FROM utxos"
                           " WHERE predicate = ?1 AND outpoint > ?2 ORDER BY outpoint LIMIT ?3",
    [ST_UTXO_SUM] = "SELECT count(*), sum(value) FROM utxos",
    [ST_UTXO_SUM_PRED] = "SELECT count(*), sum(value) FROM utxos WHERE predicate = ?1",
    [ST_NODE_GET] = "SELECT hash FROM nodes WHERE key = ?1",
    [ST_NODE_PUT] = "INSERT OR REPLACE INTO nodes(key, hash) VALUES (?1, ?2)",
    [ST_NODE_DEL] = "DELETE FROM nodes WHERE key = ?1",
    [ST_NODE_TRUNC] = "DELETE FROM nodes WHERE key >= ?1 AND key < ?2",
    [ST_BLOCK_INS] = "INSERT INTO blocks(height, hash, header, body, leaf_count, n_txs)"
                     " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_BLOCK_GET] = "SELECT header, body, leaf_count, n_txs FROM blocks WHERE height = ?1",
    [ST_BLOCK_DEL] = "DELETE FROM blocks WHERE height = ?1",
    [ST_UNDO_INS] = "INSERT INTO undo(height, data) VALUES (?1, ?2)",
    [ST_UNDO_GET] = "SELECT data FROM undo WHERE height = ?1",
    [ST_UNDO_DEL] = "DELETE FROM undo WHERE height = ?1",
    [ST_BUNDLE_INS] = "INSERT INTO bundles(height, data) VALUES (?1, ?2)",
    [ST_BUNDLE_GET] = "SELECT data FROM bundles WHERE height = ?1",
    [ST_BUNDLE_DEL] = "DELETE FROM bundles WHERE height = ?1",
    [ST_TX_INS] = "INSERT INTO txs(txid, height, idx) VALUES (?1, ?2, ?3)",
    [ST_TX_GET] = "SELECT height, idx FROM txs WHERE txid = ?1",
    [ST_TX_DEL] = "DELETE FROM txs WHERE txid = ?1",
};

/* PRAGMA data_version: changes when another connection commits. */
static int data_version(utxo_store *s, sqlite3_int64 *v)
{
    sqlite3_stmt *q = NULL;
    int rc = UTXO_OK;

    if (sqlite3_prepare_v2(s->db, "PRAGMA data_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        rc = store_sql_fail(s, "read the data version");
    else
        *v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

/* Reads the metadata, node cache and forest again when another connection
 * committed since they were read. */
static int reload_if_changed(utxo_store *s, bool *changed)
{
    sqlite3_int64 dv = 0;
    int rc;

    *changed = false;
    if ((rc = data_version(s, &dv)) != UTXO_OK || dv == s->data_version)
        return rc;
    *changed = true;
    store_serve_reset(s);
    store_coins_clear(&s->coins);
    if ((rc = store_meta_load(s)) != UTXO_OK)
        return rc;
    store_nodes_reset(&s->nodes, s->meta.acc.count);
    if ((rc = store_forest_reset(s)) != UTXO_OK)
        return rc;
    s->data_version = dv;
    return UTXO_OK;
}

int store_refresh(utxo_store *s)
{
    bool changed;

    return reload_if_changed(s, &changed);
}

int store_begin(utxo_store *s)
{
    bool changed = false;
    int rc;

    if (s->flags & UTXO_STORE_READONLY)
        return store_fail(s, UTXO_ERR_STORE_READONLY, "store is open read-only");
    if (s->broken)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT,
                          "this handle lost its state after a failed rollback; reopen the store");
    store_stmt(s, ST_BEGIN);
    rc = store_exec_stmt(s, ST_BEGIN, "begin transaction");
    if (rc != UTXO_OK)
        return rc;
    /* Another connection (an SQLite client that ignores the writer lock)
     * committed since the caller read the tip: its checks ran on a stale
     * state. Read it again and refuse this write; the caller may retry. */
    rc = reload_if_changed(s, &changed);
    if (rc == UTXO_OK && changed)
        rc = store_fail(s, UTXO_ERR_STORE_BUSY, "%s: another connection wrote the store "
                        "meanwhile; its state was read again, retry", s->path);
    if (rc != UTXO_OK) {
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
        if (store_meta_load(s) != UTXO_OK)
            s->broken = true;
    }
    return rc;
}

int store_commit(utxo_store *s)
{
    store_stmt(s, ST_COMMIT);
    return store_exec_stmt(s, ST_COMMIT, "commit");
}

uint64_t store_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int store_group_lost(utxo_store *s, int rc, uint32_t first, uint32_t n, const char *why)
{
    char msg[sizeof s->msg];

    snprintf(msg, sizeof msg, "%s", why); /* why may be s->msg */
    store_group_clear(s);
    store_abort(s);
    if (n == 1)
        return store_fail(s, rc, "block %u was not committed: %s", first, msg);
    return store_fail(s, rc, "blocks %u-%u were not committed: %s", first, first + n - 1, msg);
}

int store_write_held(utxo_store *s)
{
    int rc = store_coins_settle(s); /* the group's new outputs still unspent */

    return rc == UTXO_OK ? store_nodes_flush(&s->nodes) /* its forest nodes, each once */
                         : rc;
}

int store_flush(utxo_store *s)
{
    uint64_t t0;
    int rc;

    if (s->pending == 0)
        return UTXO_OK;
    t0 = store_now_ns();
    rc = store_write_held(s);
    if (rc == UTXO_OK)
        rc = store_commit(s);
    s->ns_commit += store_now_ns() - t0;
    if (rc != UTXO_OK)
        return store_group_lost(s, rc, s->group_first, s->pending, s->msg);
    store_group_clear(s);
    return UTXO_OK;
}

void store_group_clear(utxo_store *s)
{
    for (uint32_t k = 0; k < s->pending; k++)
        free(s->group_bytes[k]);
    s->pending = 0;
}

void store_abort(utxo_store *s)
{
    /* Reset every statement first: an active read would block ROLLBACK. */
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_reset(s->st[i]);
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    store_coins_clear(&s->coins);
    /* Without its metadata the handle cannot know where it stands: it
     * refuses every later write (the file itself is as the last commit
     * left it; reopening reads it again). */
    if (store_meta_load(s) != UTXO_OK)
        s->broken = true;
    store_nodes_reset(&s->nodes, s->meta.acc.count);
    if (store_forest_reset(s) != UTXO_OK)
        s->broken = true;
}

/* ---- metadata ----------------------------------------------------------- */

int store_meta_save(utxo_store *s)
{
    uint8_t acc[ACC_STATE_MAX_BYTES];
    size_t acc_len = 0;
    sqlite3_stmt *q = store_stmt(s, ST_META_PUT);

    if (acc_state_to_bytes(&s->meta.acc, acc, sizeof acc, &acc_len) != UTXO_OK)
        return store_fail(s, UTXO_ERR_INTERNAL, "encoding the accumulator state");
    sqlite3_bind_int64(q, 1, s->meta.n_blocks);
    sqlite3_bind_blob(q, 2, s->meta.tip_hash, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, (sqlite3_int64)s->meta.tip_time);
    sqlite3_bind_blob(q, 4, acc, (int)acc_len, SQLITE_TRANSIENT);
    sqlite3_bind_blob(q, 5, s->meta.acc_digest, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(q, 6, (sqlite3_int64)s->meta.n_utxos);
    sqlite3_bind_int64(q, 7, (sqlite3_int64)s->meta.total_value);
    sqlite3_bind_int64(q, 8, (sqlite3_int64)s->meta.n_txs);
    return store_exec_stmt(s, ST_META_PUT, "write metadata");
}

/* Reads column c as a blob of exactly n bytes into out. */
static int col_fixed(sqlite3_stmt *q, int c, void *out, size_t n)
{
    if (sqlite3_column_type(q, c) != SQLITE_BLOB || (size_t)sqlite3_column_bytes(q, c) != n)
        return -1;
    memcpy(out, sqlite3_column_blob(q, c), n);
    return 0;
}

int store_meta_load(utxo_store *s)
{
    sqlite3_stmt *q = store_stmt(s, ST_META_GET);
    store_meta m;
    utxo_params p;
    int sc, rc = UTXO_OK;
    sqlite3_int64 ver, nb;
    size_t off = 0;

    memset(&m, 0, sizeof m);
    sc = sqlite3_step(q);
    if (sc != SQLITE_ROW) {
        rc = sc == SQLITE_DONE ? store_fail(s, UTXO_ERR_STORE_CORRUPT, "metadata row missing")
                               : store_sql_fail(s, "read metadata");
        goto done;
    }
    ver = sqlite3_column_int64(q, 0);
    if (ver != UTXO_STORE_SCHEMA_VERSION) {
        rc = store_fail(s, UTXO_ERR_STORE_SCHEMA,
                        "store schema version %lld is unknown (this build reads version %u)",
                        (long long)ver, UTXO_STORE_SCHEMA_VERSION);
        goto done;
    }
    if (sqlite3_column_type(q, 1) != SQLITE_BLOB ||
        utxo_params_from_bytes(&p, sqlite3_column_blob(q, 1), (size_t)sqlite3_column_bytes(q, 1),
                               &off) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "stored chain parameters do not decode (offset %zu)",
                        off);
        goto done;
    }
    nb = sqlite3_column_int64(q, 2);
    if (nb < 0 || nb > (sqlite3_int64)UINT32_MAX ||
        col_fixed(q, 3, m.tip_hash, UTXO_HASH_BYTES) != 0 ||
        col_fixed(q, 6, m.acc_digest, UTXO_HASH_BYTES) != 0 ||
        sqlite3_column_type(q, 5) != SQLITE_BLOB ||
        acc_state_from_bytes(&m.acc, sqlite3_column_blob(q, 5), (size_t)sqlite3_column_bytes(q, 5),
                             NULL) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "metadata row malformed");
        goto done;
    }
    m.n_blocks = (uint32_t)nb;
    m.tip_time = (uint64_t)sqlite3_column_int64(q, 4);
    m.n_utxos = (uint64_t)sqlite3_column_int64(q, 7);
    m.total_value = (uint64_t)sqlite3_column_int64(q, 8);
    m.n_txs = (uint64_t)sqlite3_column_int64(q, 9);
    s->params = p;
    s->meta = m;
done:
    sqlite3_reset(q);
    return rc;
}

static int create_schema(utxo_store *s, const utxo_params *p)
{
    uint8_t pb[UTXO_PARAMS_BYTES], acc[8] = {0}, digest[UTXO_HASH_BYTES], zero[UTXO_HASH_BYTES] = {0};
    acc_state st;
    sqlite3_stmt *q = NULL;
    char pragma[96];
    int rc = UTXO_OK;

    acc_state_init(&st);
    acc_state_digest(digest, &st);
    utxo_params_to_bytes(pb, p);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_fail(s, "create schema");
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %u; PRAGMA application_id = %d;",
             UTXO_STORE_SCHEMA_VERSION, STORE_APPLICATION_ID);
    if (sqlite3_exec(s->db, schema_sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(s->db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db,
                           "INSERT INTO meta VALUES (0, ?1, ?2, 0, ?3, 0, ?4, ?5, 0, 0, 0)", -1,
                           &q, NULL) != SQLITE_OK) {
        rc = store_sql_fail(s, "create schema");
        goto done;
    }
    sqlite3_bind_int64(q, 1, UTXO_STORE_SCHEMA_VERSION);
    sqlite3_bind_blob(q, 2, pb, sizeof pb, SQLITE_STATIC);
    sqlite3_bind_blob(q, 3, zero, sizeof zero, SQLITE_STATIC);
    sqlite3_bind_blob(q, 4, acc, sizeof acc, SQLITE_STATIC);
    sqlite3_bind_blob(q, 5, digest, sizeof digest, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_DONE) {
        rc = store_sql_fail(s, "create schema");
        goto done;
    }
    sqlite3_finalize(q);
    q = NULL;
    if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "create schema");
done:
    sqlite3_finalize(q);
    if (rc != UTXO_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

static int pragma_int(utxo_store *s, const char *sql, sqlite3_int64 *v)
{
    sqlite3_stmt *q = NULL;
    int rc = UTXO_OK;

    if (sqlite3_prepare_v2(s->db, sql, -1, &q, NULL) != SQLITE_OK || sqlite3_step(q) != SQLITE_ROW)
        rc = store_sql_fail(s, "read the store's header");
    else
        *v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return rc;
}

/*
 * The consistency check of an opened store: the forest's roots are the
 * recorded accumulator, whose digest is the recorded digest, which is the
 * one the tip header commits to (and the tip's hash is the recorded one).
 */
static int check_consistency(utxo_store *s)
{
    acc_state st;
    uint8_t d[UTXO_HASH_BYTES], h[UTXO_HASH_BYTES];
    utxo_block *b = NULL;
    int rc;

    rc = acc_forest_state(s->forest, &st);
    if (rc != UTXO_OK)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT,
                          "accumulator forest of %llu leaves is incomplete (%s)",
                          (unsigned long long)s->meta.acc.count, utxo_strerror(rc));
    if (!acc_state_equal(&st, &s->meta.acc))
        return store_fail(s, UTXO_ERR_STORE_CORRUPT,
                          "accumulator forest roots differ from the recorded accumulator state");
    acc_state_digest(d, &s->meta.acc);
    if (memcmp(d, s->meta.acc_digest, UTXO_HASH_BYTES) != 0)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT,
                          "recorded accumulator digest does not match the recorded state");
    if (s->meta.n_blocks == 0)
        return UTXO_OK;
    rc = store_block_load(s, s->meta.n_blocks - 1, &b, NULL, NULL, NULL);
    if (rc != UTXO_OK)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT, "tip block %u unreadable: %s",
                          s->meta.n_blocks - 1, s->msg);
    utxo_header_hash(&b->header, h);
    if (memcmp(h, s->meta.tip_hash, UTXO_HASH_BYTES) != 0)
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "tip block %u's hash differs from the recorded tip",
                        s->meta.n_blocks - 1);
    else if (memcmp(b->header.acc_digest, d, UTXO_HASH_BYTES) != 0)
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "tip block %u commits to another accumulator digest than the store holds",
                        s->meta.n_blocks - 1);
    utxo_block_free(b);
    return rc;
}

int store_forest_reset(utxo_store *s)
{
    acc_forest_free(s->forest);
    s->forest = NULL;
    return acc_forest_new_with_store(&s->forest, &store_node_ops, &s->nodes, s->meta.acc.count);
}

/* ---- the writer lock -------------------------------------------------- */

/*
 * One writer per store: a writable handle holds an exclusive flock(2) on
 * PATH.lock for its lifetime, and writes its pid there so a second writer
 * can say who holds it. SQLite's own locks alone are not enough: a second
 * writer's BEGIN IMMEDIATE waits out the first one's transaction and then
 * runs on the metadata it read when it opened, which the first writer has
 * moved since (it reported valid blocks as invalid). flock belongs to the
 * open file, so a second handle in the same process is refused too; the
 * lock goes with the process, so a killed writer leaves no stale lock (the
 * file stays, empty or with an old pid that nobody holds).
 */
static int lock_holder(int fd)
{
    char buf[32];
    ssize_t n;

    /* the holder writes its pid just after it took the lock: give it a
     * moment */
    for (int tries = 0; tries < 20; tries++) {
        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            buf[n] = '\0';
            return atoi(buf);
        }
        nanosleep(&(struct timespec){0, 5000000}, NULL);
    }
    return 0;
}

static int lock_take(utxo_store *s, const char *path)
{
    size_t n = strlen(path) + sizeof ".lock";
    char *lp = malloc(n), pid[32];
    int fd, len, rc = UTXO_OK;

    if (lp == NULL)
        return store_fail(s, UTXO_ERR_NOMEM, "out of memory");
    snprintf(lp, n, "%s.lock", path);
    fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = store_fail(s, UTXO_ERR_IO, "%s: cannot create the writer lock file %s: %s", path, lp,
                        afile_errtext(errno));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno, holder;
        if (e == EWOULDBLOCK) {
            holder = lock_holder(fd);
            if (holder > 0)
                rc = store_fail(s, UTXO_ERR_STORE_BUSY,
                                "%s: store busy (held by pid %d): another writer has it open",
                                path, holder);
            else
                rc = store_fail(s, UTXO_ERR_STORE_BUSY,
                                "%s: store busy (held by another writer)", path);
        } else {
            rc = store_fail(s, UTXO_ERR_IO, "%s: cannot lock %s: %s", path, lp, strerror(e));
        }
        close(fd);
        goto done;
    }
    len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        rc = store_fail(s, UTXO_ERR_IO, "%s: cannot write the writer lock file %s: %s", path, lp,
                        afile_errtext(errno));
        close(fd);
        goto done;
    }
    s->lock_fd = fd;
done:
    free(lp);
    return rc;
}

static void lock_release(utxo_store *s)
{
    if (s->lock_fd < 0)
        return;
    /* no stale pid for the next reader of the file */
    if (ftruncate(s->lock_fd, 0) != 0) {
        /* nothing to do: the lock goes with the descriptor anyway */
    }
    close(s->lock_fd);
    s->lock_fd = -1;
}

/* ---- open / close ------------------------------------------------------- */

/* The size of PATH-wal (0 when there is none). */
static long long wal_bytes(const char *path)
{
    char wal[4096 + 8];
    struct stat sb;

    snprintf(wal, sizeof wal, "%s-wal", path);
    return stat(wal, &sb) == 0 ? (long long)sb.st_size : 0;
}

/* Why this process cannot write beside path (for SQLite's -wal and -shm):
 * an errno, or 0 when it can. */
static int dir_write_errno(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');

    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else
        snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    return access(dir, W_OK) == 0 ? 0 : errno;
}

/* "file:" URI of path with immutable=1 (percent-escaping what a URI
 * path cannot hold), for a read-only open where SQLite cannot create the
 * -shm file. */
static char *immutable_uri(const char *path)
{
    size_t n = strlen(path);
    char *u = malloc(3 * n + sizeof "file:?immutable=1"), *o = u;

    if (u == NULL)
        return NULL;
    o += sprintf(o, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p <= ' ' || *p >= 0x7f)
            o += sprintf(o, "%%%02X", *p);
        else
            *o++ = (char)*p;
    }
    sprintf(o, "?immutable=1");
    return u;
}

static int open_conn(utxo_store *s, const char *path, int oflags)
{
    sqlite3_close(s->db);
    s->db = NULL;
    if (sqlite3_open_v2(path, &s->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        if (s->db == NULL)
            return store_fail(s, UTXO_ERR_NOMEM, "%s: out of memory", path);
        return store_sql_fail(s, "cannot open");
    }
    sqlite3_busy_timeout(s->db, 2000);
    sqlite3_extended_result_codes(s->db, 1);
    return UTXO_OK;
}

/*
 * Schema 1 -> 2 (the transaction index), in place, in one transaction:
 * the txs table filled from the stored blocks, then both version marks.
 * Nothing changes when any step fails.
 */
static int migrate_v1(utxo_store *s, const char *path)
{
    sqlite3_stmt *pq = NULL, *bq = NULL, *iq = NULL;
    utxo_params p;
    uint8_t *buf = NULL;
    size_t cap = 0, off = 0;
    int sc, rc = UTXO_OK;

    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_fail(s, "upgrade the schema");
    if (sqlite3_exec(s->db, TXS_TABLE_SQL, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "SELECT params FROM meta WHERE id = 0", -1, &pq, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "SELECT height, header, body FROM blocks ORDER BY height", -1,
                           &bq, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, "INSERT INTO txs(txid, height, idx) VALUES (?1, ?2, ?3)", -1,
                           &iq, NULL) != SQLITE_OK) {
        rc = store_sql_fail(s, "upgrade the schema");
        goto done;
    }
    if (sqlite3_step(pq) != SQLITE_ROW || sqlite3_column_type(pq, 0) != SQLITE_BLOB ||
        utxo_params_from_bytes(&p, sqlite3_column_blob(pq, 0), (size_t)sqlite3_column_bytes(pq, 0),
                               &off) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "%s: stored chain parameters do not decode",
                        path);
        goto done;
    }
    while ((sc = sqlite3_step(bq)) == SQLITE_ROW) {
        sqlite3_int64 h = sqlite3_column_int64(bq, 0);
        size_t hl = (size_t)sqlite3_column_bytes(bq, 1), bl = (size_t)sqlite3_column_bytes(bq, 2);
        utxo_block *b = NULL;
        if (hl + bl > cap) {
            uint8_t *nb = realloc(buf, hl + bl);
            if (!nb) {
                rc = UTXO_ERR_NOMEM;
                goto done;
            }
            buf = nb;
            cap = hl + bl;
        }
        if (hl)
            memcpy(buf, sqlite3_column_blob(bq, 1), hl);
        if (bl)
            memcpy(buf + hl, sqlite3_column_blob(bq, 2), bl);
        if (utxo_block_from_bytes(&b, buf, hl + bl, &p, &off) != UTXO_OK) {
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "%s: block %lld does not decode", path,
                            (long long)h);
            goto done;
        }
        for (uint32_t i = 0; i < b->n_txs && rc == UTXO_OK; i++) {
            uint8_t txid[UTXO_HASH_BYTES];
            utxo_tx_txid(b->txs[i], txid);
            sqlite3_reset(iq);
            sqlite3_bind_blob(iq, 1, txid, sizeof txid, SQLITE_STATIC);
            sqlite3_bind_int64(iq, 2, h);
            sqlite3_bind_int64(iq, 3, i);
            if (sqlite3_step(iq) != SQLITE_DONE)
                rc = store_sql_fail(s, "upgrade the schema (index a transaction)");
        }
        utxo_block_free(b);
        if (rc != UTXO_OK)
            goto done;
    }
    if (sc != SQLITE_DONE) {
        rc = store_sql_fail(s, "upgrade the schema (read a block)");
        goto done;
    }
    if (sqlite3_exec(s->db, "UPDATE meta SET schema_version = 2; PRAGMA user_version = 2;", NULL,
                     NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "upgrade the schema");
done:
    sqlite3_finalize(pq);
    sqlite3_finalize(bq);
    sqlite3_finalize(iq);
    free(buf);
    if (rc == UTXO_OK && sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "upgrade the schema (commit)");
    if (rc != UTXO_OK)
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/*
 * Makes a new store at path all at once. The schema is written to
 * PATH.new (the writer lock on path is held: no one else writes there, and
 * what a crashed creation left is removed first), switched to
 * write-ahead-log mode, and the file installed by rename (fsync,
 * rename, fsync of the directory). A crash at any moment leaves path
 * absent or whole: never a file with part of a schema, or with the hot
 * rollback journal of the switch to WAL mode, which no read-only open can
 * roll back (`utxo prove` said "attempt to write a readonly database").
 */
static int create_store(utxo_store *s, const char *path, const utxo_params *params)
{
    static const char *const left[] = {"-wal", "-shm", "-journal", ""};
    size_t n = strlen(path) + sizeof ".new-journal";
    char *tmp = malloc(n);
    const char *what = "sync";
    int rc = UTXO_OK;

    if (tmp == NULL)
        return store_fail(s, UTXO_ERR_NOMEM, "out of memory");
    if (params == NULL) {
        free(tmp);
        return store_fail(s, UTXO_ERR_ARG, "%s: creating a store needs the chain parameters",
                          path);
    }
    for (size_t i = 0; rc == UTXO_OK && i < sizeof left / sizeof left[0]; i++) {
        snprintf(tmp, n, "%s.new%s", path, left[i]);
        if (unlink(tmp) != 0 && errno != ENOENT)
            rc = store_fail(s, UTXO_ERR_IO, "%s: cannot remove %s, left by a creation that "
                            "stopped: %s", path, tmp, afile_errtext(errno));
    }
    if (rc == UTXO_OK)
        rc = open_conn(s, tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (rc == UTXO_OK && sqlite3_exec(s->db, STORE_PAGE_SQL, NULL, NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "set the page size");
    /* the schema under a rollback journal (a new file's journal holds
     * nothing: no page existed before), then WAL mode with an empty log:
     * no more room than the store itself, where a log would need twice */
    if (rc == UTXO_OK)
        rc = create_schema(s, params);
    if (rc == UTXO_OK &&
        sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "set WAL mode");
    if (rc == UTXO_OK) {
        if (sqlite3_close(s->db) != SQLITE_OK)
            rc = store_sql_fail(s, "close the new store");
        else
            s->db = NULL;
    }
    if (rc == UTXO_OK && afile_install(tmp, path, &what) != 0)
        rc = store_fail(s, UTXO_ERR_IO, "%s: cannot install the new store (%s of %s): %s", path,
                        what, tmp, afile_errtext(errno));
    if (rc != UTXO_OK) {
        sqlite3_close(s->db);
        s->db = NULL;
        for (size_t i = 0; i < sizeof left / sizeof left[0]; i++) {
            snprintf(tmp, n, "%s.new%s", path, left[i]);
            unlink(tmp);
        }
    }
    free(tmp);
    return rc;
}

/*
 * Opens the connection and reads the store's identity. A read-only open of
 * a WAL store needs the -shm file, which SQLite creates beside the store:
 * on a read-only medium or a directory this process cannot write, it
 * cannot. With no write-ahead log content there is nothing SQLite would
 * take from it, and the file is opened immutable; with a log that holds
 * committed blocks (a "hot" WAL, left by a writer that stopped without its
 * final checkpoint) the message says exactly that, instead of SQLite's
 * "unable to open database file".
 */
static int open_db(utxo_store *s, const char *path, const utxo_params *params, unsigned flags)
{
    int oflags = (flags & UTXO_STORE_READONLY) ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
    sqlite3_int64 uv = 0, app = 0, n_tables = 0;
    struct stat sb;
    int rc;

    if (stat(path, &sb) != 0) {
        if (errno != ENOENT || !(flags & UTXO_STORE_CREATE) || (flags & UTXO_STORE_READONLY))
            return store_fail(s, UTXO_ERR_IO, "%s: %s", path, afile_errtext(errno));
        if ((rc = create_store(s, path, params)) != UTXO_OK)
            return rc;
    }
    /* an empty file a writer was asked to create gets its schema below */
    if ((rc = open_conn(s, path, oflags)) != UTXO_OK)
        return rc;
    rc = pragma_int(s, "PRAGMA user_version", &uv);
    if (rc != UTXO_OK && (flags & UTXO_STORE_READONLY) &&
        sqlite3_extended_errcode(s->db) == SQLITE_READONLY_ROLLBACK)
        return store_fail(s, UTXO_ERR_STORE_READONLY,
                          "%s: a writer stopped inside a transaction and left %s-journal, which "
                          "only a writer can roll back: open the store once as a writer (e.g. "
                          "`utxo replay`)", path, path);
    if ((rc == UTXO_ERR_IO || rc == UTXO_ERR_STORE_READONLY) && (flags & UTXO_STORE_READONLY)) {
        int e = dir_write_errno(path);
        long long wb = wal_bytes(path);
        char *uri;
        if (e == 0)
            return rc;   /* not the -shm file: keep SQLite's reason */
        if (wb > 0)
            return store_fail(s, UTXO_ERR_IO,
                              "%s: the store's write-ahead log %s-wal (%lld bytes) holds "
                              "committed blocks that must be folded in before it can be read, "
                              "and SQLite cannot create %s-shm here (%s): open the store once "
                              "as a writer (e.g. `utxo replay`) where it is writable, or copy "
                              "%s and %s-wal to a writable directory",
                              path, path, wb, path, afile_errtext(e), path, path);
        if ((uri = immutable_uri(path)) == NULL)
            return store_fail(s, UTXO_ERR_NOMEM, "out of memory");
        rc = open_conn(s, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI);
        free(uri);
        if (rc == UTXO_OK)
            rc = pragma_int(s, "PRAGMA user_version", &uv);
    }
    if (rc != UTXO_OK ||
        (rc = pragma_int(s, "PRAGMA application_id", &app)) != UTXO_OK ||
        (rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", &n_tables)) != UTXO_OK)
        return rc;
    if (uv == 0 && app == 0 && n_tables == 0) {
        if (!(flags & UTXO_STORE_CREATE) || (flags & UTXO_STORE_READONLY))
            return store_fail(s, UTXO_ERR_IO, "%s: no store there (empty file)", path);
        if (params == NULL)
            return store_fail(s, UTXO_ERR_ARG, "%s: creating a store needs the chain parameters",
                              path);
        if (sqlite3_exec(s->db, STORE_PAGE_SQL, NULL, NULL, NULL) != SQLITE_OK)
            return store_sql_fail(s, "set the page size");
        if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL) != SQLITE_OK)
            return store_sql_fail(s, "set WAL mode");
        if ((rc = create_schema(s, params)) != UTXO_OK)
            return rc;
        uv = UTXO_STORE_SCHEMA_VERSION;
        app = STORE_APPLICATION_ID;
    }
    if (app != STORE_APPLICATION_ID)
        return store_fail(s, UTXO_ERR_FILE_FORMAT, "%s is an SQLite file but not a utxo store", path);
    if (uv == 1 && (flags & UTXO_STORE_READONLY))
        return store_fail(s, UTXO_ERR_STORE_SCHEMA,
                          "%s: store schema version 1 has no transaction index: open it once "
                          "as a writer (utxo replay, utxo node) to upgrade it to version %u",
                          path, UTXO_STORE_SCHEMA_VERSION);
    if (uv == 1 && (rc = migrate_v1(s, path)) != UTXO_OK)
        return rc;
    if (uv == 1)
        uv = UTXO_STORE_SCHEMA_VERSION;
    if (uv != UTXO_STORE_SCHEMA_VERSION)
        return store_fail(s, UTXO_ERR_STORE_SCHEMA,
                          "%s: store schema version %lld is unknown (this build reads version %u)",
                          path, (long long)uv, UTXO_STORE_SCHEMA_VERSION);
    if (!(flags & UTXO_STORE_READONLY) &&
        sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                            " PRAGMA cache_size = -32768;", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_fail(s, "configure the connection");
    return UTXO_OK;
}

int utxo_store_open(utxo_store **out, const char *path, const utxo_params *params, unsigned flags,
                    unsigned threads, char *msg, size_t msg_len)
{
    utxo_store *s = NULL;
    int rc;

    if (out != NULL)
        *out = NULL;
    if (msg != NULL && msg_len > 0)
        msg[0] = '\0';
    if (out == NULL || path == NULL || (flags & ~UTXO_STORE_FLAGS_MASK) ||
        ((flags & UTXO_STORE_UNCHECKED) && !(flags & UTXO_STORE_READONLY))) {
        if (msg != NULL && msg_len > 0)
            snprintf(msg, msg_len, "invalid argument");
        return UTXO_ERR_ARG;
    }
    s = calloc(1, sizeof *s);
    if (s == NULL) {
        if (msg != NULL && msg_len > 0)
            snprintf(msg, msg_len, "out of memory");
        return UTXO_ERR_NOMEM;
    }
    s->flags = flags;
    s->serve_every = STORE_SERVE_CKPT;
    s->threads = threads;
    s->group_max = STORE_GROUP_BLOCKS;
    s->group_ns = STORE_GROUP_NS;
    s->lock_fd = -1;
    if ((s->path = strdup(path)) == NULL) {
        free(s);
        if (msg != NULL && msg_len > 0)
            snprintf(msg, msg_len, "out of memory");
        return UTXO_ERR_NOMEM;
    }
    /* the writer lock first: a second writer touches nothing (and no lock
     * file is left beside a store that does not exist) */
    if (!(flags & UTXO_STORE_CREATE) && access(path, F_OK) != 0)
        rc = store_fail(s, UTXO_ERR_IO, "%s: %s", path, afile_errtext(errno));
    else
        rc = (flags & UTXO_STORE_READONLY) ? UTXO_OK : lock_take(s, path);
    if (rc == UTXO_OK)
        rc = open_db(s, path, params, flags);
    for (int i = 0; rc == UTXO_OK && i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i],
                               NULL) == SQLITE_OK)
            continue;
        rc = store_sql_fail(s, "prepare statements");
        /* not I/O: a table or column the schema must have is missing */
        if (rc == UTXO_ERR_STORE_SQL)
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "%s: the schema is damaged (%s)", path,
                            s->msg);
    }
    /* one read transaction: a writer in another process cannot commit
     * between the metadata and the forest reads of the check below */
    if (rc == UTXO_OK && sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        rc = store_sql_fail(s, "begin read");
    if (rc == UTXO_OK)
        rc = store_meta_load(s);
    if (rc == UTXO_OK && params != NULL) {
        utxo_params want = *params;
        utxo_params_chain_id(&want);
        if (memcmp(want.chain_id, s->params.chain_id, UTXO_HASH_BYTES) != 0)
            rc = store_fail(s, UTXO_ERR_FILE_CHAIN,
                            "%s holds another chain (its parameters differ from these)", path);
    }
    if (rc == UTXO_OK)
        rc = store_nodes_init(&s->nodes, s, s->meta.acc.count);
    if (rc == UTXO_OK && (rc = store_forest_reset(s)) != UTXO_OK)
        store_fail(s, rc, "create the forest");
    if (rc == UTXO_OK && !(flags & UTXO_STORE_UNCHECKED))
        rc = check_consistency(s);
    if (rc == UTXO_OK)
        rc = data_version(s, &s->data_version);
    if (s->db != NULL && !sqlite3_get_autocommit(s->db)) {
        for (int i = 0; i < ST_COUNT; i++)
            sqlite3_reset(s->st[i]);
        sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    }
    if (rc != UTXO_OK) {
        if (msg != NULL && msg_len > 0)
            snprintf(msg, msg_len, "%s", s->msg[0] ? s->msg : utxo_strerror(rc));
        utxo_store_close(s);
        return rc;
    }
    if (!(flags & UTXO_STORE_READONLY) && (rc = store_ckpt_start(s, path)) != UTXO_OK) {
        if (msg != NULL && msg_len > 0)
            snprintf(msg, msg_len, "%s", s->msg[0] ? s->msg : utxo_strerror(rc));
        utxo_store_close(s);
        return rc;
    }
    s->msg[0] = '\0';
    *out = s;
    return UTXO_OK;
}

int utxo_store_set_pipeline(utxo_store *s, bool on)
{
    if (!store_enter(s))
        return UTXO_ERR_ARG;
    s->pipeline = on;
    return on ? UTXO_OK : store_flush(s);
}

int utxo_store_flush(utxo_store *s)
{
    return store_enter(s) ? store_flush(s) : UTXO_ERR_ARG;
}

void utxo_store_close(utxo_store *s)
{
    if (s == NULL)
        return;
    store_flush(s); /* a failure is as a crash would be: the blocks before the group stay */
    store_ckpt_stop(s);
    acc_forest_free(s->forest);
    free(s->serve_ckpt);
    store_nodes_free(&s->nodes);
    store_coins_free(&s->coins);
    utxo_verifier_free(s->verifier);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    lock_release(s);
    free(s->path);
    free(s);
}

const char *utxo_store_errmsg(const utxo_store *s)
{
    return s ? s->msg : "no store";
}

void utxo_store_params(const utxo_store *s, utxo_params *p)
{
    if (s != NULL && p != NULL)
        *p = s->params;
}

void utxo_store_get_info(const utxo_store *s, utxo_store_info *info)
{
    if (info == NULL)
        return;
    memset(info, 0, sizeof *info);
    if (s == NULL)
        return;
    info->n_blocks = s->meta.n_blocks;
    memcpy(info->tip_hash, s->meta.tip_hash, UTXO_HASH_BYTES);
    info->tip_time = s->meta.tip_time;
    memcpy(info->acc_digest, s->meta.acc_digest, UTXO_HASH_BYTES);
    info->leaf_count = s->meta.acc.count;
    info->n_utxos = s->meta.n_utxos;
    info->total_value = s->meta.total_value;
    info->n_txs = s->meta.n_txs;
}

void utxo_store_get_stats(const utxo_store *s, utxo_store_stats *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof *st);
    if (s == NULL)
        return;
    st->threads = utxo_verifier_threads(s->verifier);
    st->ns_pre = s->ns_pre;
    st->ns_validate = s->ns_validate;
    st->ns_prove = s->ns_prove;
    st->ns_write = s->ns_write;
    st->ns_commit = s->ns_commit;
    st->ns_total = s->ns_total;
    st->node_writes = s->nodes.n_written;
    st->utxo_rows_skipped = s->coins.rows_skipped;
}
