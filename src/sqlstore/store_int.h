/*
 * store_int.h — internals of the SQLite store (utxo/store.h): the handle,
 * its prepared statements (prepared once when the store opens and reused
 * for every block), the accumulator node store with its write-back cache,
 * and the undo record. Prefix store_. Schema and formats: docs/STORE.md.
 */
#ifndef UTXO_SRC_SQLSTORE_STORE_INT_H
#define UTXO_SRC_SQLSTORE_STORE_INT_H

#include <sqlite3.h>
#include "utxo/store.h"
#include "connect/connect.h"
#include "witness/acc.h"

/* Leaf positions stay below 2^56 so a node key (row << 56 | idx) fits in
 * SQLite's signed 64-bit integer; a store refuses blocks past it. */
#define STORE_MAX_LEAVES (UINT64_C(1) << 56)
#define STORE_NODE_KEY(row, idx) ((uint64_t)(row) << 56 | (uint64_t)(idx))
/* Bytes of an outpoint key: txid, then the index big-endian so that keys
 * sort as (txid, index). */
#define STORE_OUTPOINT_KEY_BYTES 36u
/* The page size of a new store (an existing one keeps its own). A group's
 * COMMIT appends each dirty page to the WAL with two writes; most of a
 * group's pages are its blocks, bundles and undo records, so pages 4 times
 * SQLite's default make 3.5 times fewer writes and a COMMIT about 30%
 * shorter (docs/STORE.md, "The pipeline"). */
#define STORE_PAGE_BYTES 16384
#define STORE_STR_(x) #x
#define STORE_STR(x) STORE_STR_(x)
#define STORE_PAGE_SQL "PRAGMA page_size = " STORE_STR(STORE_PAGE_BYTES)
/* SQLite application_id of a utxo store ("UTXO"). */
#define STORE_APPLICATION_ID 0x5554584f
/* The pipeline commits its open group of blocks once it holds this many,
 * or once its first block was applied this long ago (docs/STORE.md). */
#define STORE_GROUP_BLOCKS 16u
#define STORE_GROUP_NS UINT64_C(1000000000)

enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_META_GET,
    ST_META_PUT,
    ST_UTXO_GET,
    ST_UTXO_INS,
    ST_UTXO_DEL,
    ST_UTXO_ALL,
    ST_UTXO_BYPRED,
    ST_UTXO_AFTER,
    ST_UTXO_AFTER_PRED,
    ST_UTXO_SUM,
    ST_UTXO_SUM_PRED,
    ST_NODE_GET,
    ST_NODE_PUT,
    ST_NODE_DEL,
    ST_NODE_TRUNC,
    ST_BLOCK_INS,
    ST_BLOCK_GET,
    ST_BLOCK_DEL,
    ST_UNDO_INS,
    ST_UNDO_GET,
    ST_UNDO_DEL,
    ST_BUNDLE_INS,
    ST_BUNDLE_GET,
    ST_BUNDLE_DEL,
    ST_TX_INS,
    ST_TX_GET,
    ST_TX_DEL,
    ST_COUNT
};

/* One cached forest node. state: 0 free slot, 1 clean, 2 dirty (to be
 * written at commit). An ACC_EMPTY value means "no row" (pruned). */
typedef struct store_node {
    uint64_t key;
    uint8_t h[ACC_HASH_BYTES];
    uint8_t state;
} store_node;

/* The node cache's first capacity (entries); it doubles past 70% load. */
#define STORE_NODES_MIN ((size_t)1 << 12)

/* The forest's node storage (acc_store_ops context). */
typedef struct store_nodes {
    struct utxo_store *s;
    uint64_t count;       /* leaves the stored forest holds (row lengths) */
    store_node *tab;      /* open addressing, linear probing, cap a power of 2 */
    size_t cap, used, dirty;
    size_t keep;          /* after a flush, more entries than this empty the cache */
    uint64_t n_written;   /* nodes written or deleted by flushes (for the bench) */
    uint64_t n_grown;     /* doublings of tab (it never shrinks) */
    int err;              /* first storage error inside the forest's calls */
} store_nodes;

/* The background WAL checkpointer (checkpoint.c). */
typedef struct store_ckpt store_ckpt;

/* The metadata row, mirrored in memory. */
typedef struct store_meta {
    uint32_t n_blocks;
    uint8_t tip_hash[UTXO_HASH_BYTES];
    uint64_t tip_time;
    acc_state acc;
    uint8_t acc_digest[UTXO_HASH_BYTES];
    uint64_t n_utxos;
    uint64_t total_value;
    uint64_t n_txs;
} store_meta;

/* The cache of recent unspent outputs (coins.c): the utxos table's recent
 * rows, for the view's reads, and with the pipeline the rows its open
 * group inserted, not yet written (pending). write_block keeps it in step;
 * what else moves the table empties it: store_abort (every rolled-back
 * transaction, which drops the pending rows with the rest of the group),
 * utxo_store_rollback, a reload after another writer. */
#define STORE_COINS_MAX (1u << 16)          /* entries */
#define STORE_COINS_BYTES (16u << 20)       /* datum copies */
typedef struct store_coin store_coin;
typedef struct store_coins {
    store_coin **slot;         /* 2 * STORE_COINS_MAX, open addressing */
    size_t n, bytes;
    size_t n_pending;          /* entries the table does not hold yet, */
    store_coin **pend;         /* listed here */
    size_t pend_cap;
    unsigned char key[16];     /* crypto_shorthash_KEYBYTES: slots are keyed */
    uint64_t hits;             /* view reads served here (tests, docs) */
    uint64_t rows_skipped;     /* pending rows spent before written (bench) */
} store_coins;
int store_coins_init(store_coins *c);
void store_coins_free(store_coins *c);
void store_coins_clear(store_coins *c);
/* Keyed by the outpoint's table key (store_outpoint_key). put copies the
 * row (o, height, position) in, replacing one of the same key; pending
 * says the table does not hold it yet (store_coins_settle writes it). It
 * returns false when it kept nothing: NOMEM, a datum over
 * STORE_COINS_BYTES, or a full cache that holds pending rows (it can drop
 * only the others: settle first). */
bool store_coins_put(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES],
                     const utxo_output *o, uint32_t height, uint64_t position, bool pending);
/* Drops key's entry; true when it was pending (the table never held it). */
bool store_coins_del(store_coins *c, const uint8_t key[STORE_OUTPOINT_KEY_BYTES]);
const store_coin *store_coins_get(const store_coins *c,
                                  const uint8_t key[STORE_OUTPOINT_KEY_BYTES]);
const uint8_t *store_coin_read(const store_coin *e, cn_spent *out);
/* Writes the pending rows into the open transaction, in key order; they
 * stay cached as ordinary entries. On failure the caller rolls back. */
int store_coins_settle(utxo_store *s);
/* The same for a read through the handle while a group is open, so that
 * it sees the group's rows; a failure loses the group (store_group_lost). */
int store_coins_settle_for_read(utxo_store *s);
/* Entries that are not the utxos table's row, or pending ones that it
 * holds (tests): 0 for a sound cache. */
size_t store_coins_check(utxo_store *s);
/* Inserts one row of utxos (apply.c): the view's writes, settled rows and
 * a rollback's restored outputs. */
int store_utxo_insert(utxo_store *s, const uint8_t key[STORE_OUTPOINT_KEY_BYTES],
                      const utxo_output *o, uint32_t height, uint64_t position,
                      const char *what);

struct utxo_store {
    sqlite3 *db;
    char *path;                /* the file, for messages (owned) */
    int lock_fd;               /* writable stores: PATH.lock, flock'ed (else -1) */
    sqlite3_stmt *st[ST_COUNT];
    utxo_params params;
    unsigned flags;
    unsigned threads;
    utxo_verifier *verifier;   /* made at the first apply */
    store_meta meta;
    store_nodes nodes;
    acc_forest *forest;        /* over nodes; rebuilt after a rolled-back transaction */
    store_coins coins;         /* recent rows of utxos, for the view */
    bool broken;               /* state could not be reloaded after a rollback */
    /* the replay pipeline (utxo_store_set_pipeline): with `pipeline`,
     * valid blocks stay in one open SQL transaction, a group (`pending`
     * of them from height `group_first`, the first applied at
     * `group_t0`, each kept encoded in group_bytes for group_redo); the
     * store thread of the next block commits them once they are
     * `group_max` (<= STORE_GROUP_BLOCKS) or `group_ns` old (STORE_GROUP_NS;
     * tests set both), as does utxo_store_flush */
    bool pipeline, redoing;
    uint32_t pending, group_max, group_first;
    uint64_t group_t0, group_ns;
    uint8_t *group_bytes[STORE_GROUP_BLOCKS];
    size_t group_len[STORE_GROUP_BLOCKS];
    size_t block_hint;          /* the last block's encoded size: the next in one pass */
    sqlite3_int64 data_version; /* PRAGMA data_version when the mirrors were read */
    store_ckpt *ckpt;          /* writable stores: WAL checkpoints on their own thread */
    /* time spent in applied blocks, for `utxo bench replay` (monotonic ns):
     * header and block rules, layout and spent-output reads; predicates and
     * rules (on the verifier's threads); forest + proof and rows (this
     * thread, meanwhile); the commit; the whole apply */
    uint64_t ns_pre, ns_validate, ns_prove, ns_write, ns_commit, ns_total;
    /* bundles served by utxo_store_get_bundle are checked first against
     * the accumulator before them, walked forward from genesis (check.c):
     * serve_acc is the state after blocks 0 .. serve_next-1 */
    acc_state serve_acc;
    uint32_t serve_next;
    /* the walk's state every STORE_SERVE_CKPT blocks, kept as it passes:
     * serve_ckpt[i] is the state after blocks 0 .. (i+1)*STORE_SERVE_CKPT-1,
     * so a walk that must start again (an earlier height asked) starts at
     * the last checkpoint at or below the height, not at genesis */
    acc_state *serve_ckpt;
    size_t n_serve_ckpt, cap_serve_ckpt;
    uint32_t serve_every;  /* blocks between two: STORE_SERVE_CKPT (tests lower it) */
    uint64_t serve_steps;  /* steps walked in all (tests count them) */
    char msg[512];
};

/* Monotonic clock in nanoseconds. */
uint64_t store_now_ns(void);

/* ---- errors and statements (sql.c, below every other file) ------------ */

/* The start of every public call on s: clears the message the call before
 * left (utxo_store_errmsg is the last call's). False for a NULL s, so it
 * heads the argument checks: if (!store_enter(s) || ...) return UTXO_ERR_ARG. */
static inline bool store_enter(utxo_store *s)
{
    if (s == NULL)
        return false;
    s->msg[0] = '\0';
    return true;
}

/* Records a failure: formats the message into s->msg and returns rc. */
int store_fail(utxo_store *s, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Maps the last SQLite error to a code (BUSY, SQL, NOMEM, IO) with a
 * message naming `what`; a failure of the file system (read-only, no
 * permission, disk full, I/O) is UTXO_ERR_IO and the message names the
 * store's path and the reason (errno), never "corrupt". */
int store_sql_fail(utxo_store *s, const char *what);

/* Statement st reset and cleared, ready for binding. */
sqlite3_stmt *store_stmt(utxo_store *s, enum store_stmt st);
/* Runs a statement that returns no row (reset after). */
int store_exec_stmt(utxo_store *s, enum store_stmt st, const char *what);

/* ---- transactions and metadata (store.c) -------------------------------- */

/* Before a write: when another connection committed since the in-memory
 * mirrors (meta, node cache, forest) were read, reads them again. */
int store_refresh(utxo_store *s);
/* BEGIN IMMEDIATE; UTXO_ERR_STORE_BUSY (nothing begun, mirrors read again)
 * when another connection committed since the last store_refresh. */
int store_begin(utxo_store *s);
int store_commit(utxo_store *s);
/* Writes what a transaction holds back until it ends: the coins cache's
 * pending rows (store_coins_settle) and the node cache's dirty nodes
 * (store_nodes_flush). On failure the caller rolls back. */
int store_write_held(utxo_store *s);
/* Commits the group of blocks the pipeline left open (nothing to do
 * without one); on failure rolls back and reloads (store_abort), and the
 * message names the blocks lost. */
int store_flush(utxo_store *s);
/* Rolls the SQL transaction back and reloads every in-memory mirror (meta,
 * node cache, forest) from the file. */
void store_abort(utxo_store *s);
/* Forgets the pipeline's group (committed or lost): frees its blocks. */
void store_group_clear(utxo_store *s);
/* The pipeline's blocks first .. first+n-1 are lost (their COMMIT, or
 * applying them again, failed): forgets the group, rolls back to the last
 * commit (store_abort) and says "block(s) ... were not committed: why";
 * returns rc. */
int store_group_lost(utxo_store *s, int rc, uint32_t first, uint32_t n, const char *why);

/* Writes s->meta into the meta row (inside the caller's transaction). */
int store_meta_save(utxo_store *s);
/* Reads the meta row into s->meta. */
int store_meta_load(utxo_store *s);

/* Outpoint keys (sql.c). */
void store_outpoint_key(uint8_t key[STORE_OUTPOINT_KEY_BYTES], const utxo_outpoint *op);
void store_outpoint_from_key(utxo_outpoint *op, const uint8_t key[STORE_OUTPOINT_KEY_BYTES]);

/* ---- WAL checkpoints (checkpoint.c) ---------------------------------------- */

/* Starts the checkpoint thread with a second connection to path and hooks
 * the writer's commits; without a thread SQLite's own checkpoints stay. */
int store_ckpt_start(utxo_store *s, const char *path);
/* Stops and joins it (NULL-safe: no checkpointer, nothing to do). */
void store_ckpt_stop(utxo_store *s);

/* ---- forest nodes (nodes.c) ---------------------------------------------- */

extern const acc_store_ops store_node_ops;
/* Initialises the node store for a forest of count leaves (empty cache). */
int store_nodes_init(store_nodes *n, utxo_store *s, uint64_t count);
void store_nodes_free(store_nodes *n);
/* Drops the cache (after a rollback) and sets the leaf count. */
void store_nodes_reset(store_nodes *n, uint64_t count);
/* Writes dirty nodes to the nodes table (inside the block's transaction). */
int store_nodes_flush(store_nodes *n);
/* (Re)creates s->forest over s->nodes with s->meta.acc.count leaves. */
int store_forest_reset(utxo_store *s);

/* ---- undo records (the core's: src/connect/undo.c) ------------------------------------------------ */

/* One output a block spent, as the undo record keeps it (the core's). */
typedef cn_spent store_spent;

/* Encodes n spent entries (docs/STORE.md, "Undo record") into a new buffer. */
int store_undo_encode(const store_spent *e, size_t n, uint8_t **out, size_t *len);
/* Decodes an undo record; *e is a new array (free()) whose datums point
 * into buf. */
int store_undo_decode(const uint8_t *buf, size_t len, store_spent **e, size_t *n);

/* (sql.c) Reads a stored block (header + body) as a decoded block; leaf_count and
 * n_txs (may be NULL) receive the columns of the same row. */
int store_block_load(utxo_store *s, uint32_t height, utxo_block **out, uint8_t **bytes,
                     size_t *len, uint64_t *leaf_count);

/* ---- checks (check.c) ------------------------------------------------------ */

/* Block b's bundle (bytes, len) against the accumulator *acc before it:
 * names the block and the leaf count, its proof verifies with the leaves of
 * the block's spent outputs, and the state after the block has the digest
 * the header commits to; then *acc is that state. UTXO_ERR_STORE_CORRUPT
 * with the reason in s->msg otherwise (*acc unchanged). */
int store_bundle_step(utxo_store *s, acc_state *acc, const utxo_block *b, const uint8_t *bytes,
                      size_t len);
/* The check a served bundle passes (utxo_store_get_bundle): block h's
 * bundle (the bytes read) against the accumulator before block h, walked
 * from genesis (or from the last bundle served, when h follows it). */
int store_serve_check(utxo_store *s, uint32_t h, const uint8_t *bytes, size_t len);
/* Blocks between two checkpoints of the serving walk: a served bundle or
 * an accumulator state at any height costs at most this many steps once
 * the walk has passed it (2,056 bytes a checkpoint: 8 bytes a block). */
#define STORE_SERVE_CKPT 256u
/* Forgets the serving walk and its checkpoints (a rollback, another
 * connection's commit: the blocks walked may be gone). */
void store_serve_reset(utxo_store *s);
/* The decoded undo record v[0..n) of block b against the block's spent
 * outpoints and its proof bundle's spent outputs and positions. */
int store_undo_verify(utxo_store *s, const utxo_block *b, const store_spent *v, size_t n);
/* The blob of the undo or bundles table at height h (a new buffer). */
int store_height_blob(utxo_store *s, enum store_stmt st, uint32_t h, uint8_t **out, size_t *len);

#endif /* UTXO_SRC_SQLSTORE_STORE_INT_H */
