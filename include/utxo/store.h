/*
 * utxo/store.h — the full (bridge) node's store: a chain replayed into an
 * SQLite file holding the blocks, the UTXO set (indexed by predicate id for
 * wallets), the accumulator forest, undo data for reorgs and the block proof
 * bundles that stateless validators need.
 *
 * Every block is applied in one SQL transaction (WAL mode): after a crash,
 * even kill -9 mid-block, the store reopens at a block boundary. A block is
 * validated in full against the UTXO set before it lands (header signature
 * by the chain's sequencer key, previous hash, height, time, context-free
 * rules, every predicate on a thread pool, the accumulator digest); a block
 * that fails leaves the store exactly as it was. Schema, transaction model
 * and undo format: docs/STORE.md.
 *
 * Ownership: utxo_store is an opaque handle made by utxo_store_open and
 * released by utxo_store_close (NULL is a no-op). Blocks passed in are
 * borrowed for the call. Buffers the store returns (bundle bytes, datums,
 * blocks) are new allocations owned by the caller and say how to free them.
 * Thread-safety: one handle is used by one thread at a time. Inside, a
 * writable handle runs its own threads: predicate workers, a helper that
 * writes each block's rows while the predicates run, and a WAL
 * checkpointer. Several processes may read one file while one writes
 * (UTXO_ERR_STORE_BUSY for a second writer).
 */
#ifndef UTXO_STORE_H
#define UTXO_STORE_H

#include "utxo/validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The schema version this library writes and reads (metadata table).
 *  Version 2 added the transaction index (utxo_store_find_tx); a version 1
 *  store opened as a writer is upgraded in place, in one transaction (its
 *  blocks indexed); a read-only open of one is UTXO_ERR_STORE_SCHEMA. */
#define UTXO_STORE_SCHEMA_VERSION 2u

/* Flags for utxo_store_open. */
#define UTXO_STORE_CREATE 1u    /* create the file when it does not exist */
#define UTXO_STORE_READONLY 2u  /* queries only; apply and rollback fail */
/* With READONLY only: open even when the consistency check fails (for
 * utxo_store_check, which reports what is wrong); the schema and the
 * metadata row must still read. */
#define UTXO_STORE_UNCHECKED 4u
#define UTXO_STORE_FLAGS_MASK 7u

typedef struct utxo_store utxo_store;

/**
 * Opens the store at path (*out; close with utxo_store_close).
 * In:  params: the chain's consensus parameters. Required to create a store
 *      (UTXO_STORE_CREATE and no file yet); for an existing store it may be
 *      NULL, else its chain id must be the store's (UTXO_ERR_FILE_CHAIN).
 *      flags: UTXO_STORE_* (unknown bits: UTXO_ERR_ARG).
 *      threads: predicate threads for apply (0: one per online CPU).
 * Out: msg (may be NULL), msg_len bytes: a NUL-terminated message saying
 *      what failed and where, on error.
 * Opening checks the schema version (UTXO_ERR_STORE_SCHEMA for another
 * one), the stored parameters, and that the accumulator recomputed from the
 * forest matches the recorded state and the tip header's digest
 * (UTXO_ERR_STORE_CORRUPT otherwise). *out is NULL on any error.
 * A writable open takes the store's writer lock (a flock on PATH.lock,
 * holding the writer's pid) until close: a second writer, in this process
 * or another, gets UTXO_ERR_STORE_BUSY, "store busy (held by pid N)", and
 * changes nothing. Read-only opens take no lock. A read-only open on a
 * medium where SQLite cannot create the -shm file works when the
 * write-ahead log is empty; with committed blocks still in it, the message
 * says so (UTXO_ERR_IO). File system failures (read-only, permission,
 * disk full) are UTXO_ERR_IO with the path and the reason in the message.
 */
UTXO_WARN_UNUSED int utxo_store_open(utxo_store **out, const char *path, const utxo_params *params,
                                     unsigned flags, unsigned threads, char *msg, size_t msg_len);
/** Closes the store (the last committed block stays); NULL is a no-op. */
void utxo_store_close(utxo_store *s);

/**
 * The detailed message of the last call on s when it failed (SQLite's
 * text, the failing transaction and input ...): "" after a success, and
 * after a refusal of the call's own arguments (UTXO_ERR_ARG says it all).
 * Owned by s, valid until the next call on it.
 */
const char *utxo_store_errmsg(const utxo_store *s);

/** The chain parameters the store was created with, into *p. */
void utxo_store_params(const utxo_store *s, utxo_params *p);

/* What the store holds. */
typedef struct utxo_store_info {
    uint32_t n_blocks;                   /* blocks held: heights 0 .. n_blocks-1 */
    uint8_t tip_hash[UTXO_HASH_BYTES];   /* hash of block n_blocks-1 (zeros when empty) */
    uint64_t tip_time;
    uint8_t acc_digest[UTXO_HASH_BYTES]; /* accumulator digest after the tip */
    uint64_t leaf_count;                 /* accumulator leaves (outputs ever added) */
    uint64_t n_utxos;                    /* unspent outputs */
    uint64_t total_value;                /* sum of their values */
    uint64_t n_txs;                      /* transactions in all held blocks */
} utxo_store_info;

/** Fills *info from the store's metadata. */
void utxo_store_get_info(const utxo_store *s, utxo_store_info *info);

/*
 * Where the time of the blocks this handle applied went (monotonic ns,
 * summed over the blocks), for benchmarks: header and block rules, layout
 * and spent-output reads (pre); predicates and rules on the verifier's
 * threads (validate); forest and proof (prove) and rows (write) on the
 * store's thread meanwhile; the commit (with the pipeline, on the next
 * block's store thread or in a flush); the whole apply (total: with the
 * pipeline it holds no commit).
 */
typedef struct utxo_store_stats {
    unsigned threads;     /* predicate threads of apply (1 before the first apply) */
    uint64_t ns_pre, ns_validate, ns_prove, ns_write, ns_commit, ns_total;
    uint64_t node_writes; /* accumulator nodes written or deleted */
    uint64_t utxo_rows_skipped; /* with the pipeline: outputs created and spent
                                   within one group, whose rows were never written */
} utxo_store_stats;

/** Fills *st for this handle (zeros for a NULL s). */
void utxo_store_get_stats(const utxo_store *s, utxo_store_stats *st);

/* ---- writing -------------------------------------------------------------- */

/**
 * Validates block b as the next block (height n_blocks) and applies it in
 * one SQL transaction (with the pipeline, the open group's): spent outputs leave the UTXO set and the forest, new
 * outputs enter both (an output spent in the block that made it enters
 * neither), undo data and the block's proof bundle are written, and the tip
 * advances. On any error nothing of b changed (with the pipeline, the
 * valid blocks before it are then committed). out (may be NULL) receives the
 * verdict: err, and for rule failures the transaction and input at fault
 * (out->vm says why a predicate rejected). Returns out->err; storage
 * failures return UTXO_ERR_STORE_* / UTXO_ERR_IO with utxo_store_errmsg.
 */
int utxo_store_apply_block(utxo_store *s, const utxo_block *b, utxo_verdict *out);

/**
 * The replay pipeline (docs/STORE.md, "The pipeline"). With on, valid
 * blocks are committed in groups: the SQL transaction is left open when
 * utxo_store_apply_block returns, the next block reads its spent outputs
 * inside it and either joins it or, once the group holds 16 blocks or
 * its first is a second old, commits it on the store's thread while its
 * own predicates run and opens the next. Each block is still applied
 * whole or not at all; the rows each commit leaves are the same as
 * without the pipeline (outputs created and spent within a group are
 * never written). Until the next commit (an apply that ends the group, a
 * utxo_store_flush, utxo_store_rollback, utxo_store_close or turning the
 * pipeline off, which flush), the open group is visible through this
 * handle only, and a crash loses it (whole blocks, never half of one). A
 * block that fails leaves the valid blocks before it committed. A commit
 * that fails is the answer of the call that ran it (the next apply, a
 * flush), and its message names the blocks lost: the store is then back
 * at the end of the group before, which utxo_store_get_info reports.
 * utxo_store_get_utxo, utxo_store_each_utxo, utxo_store_each_utxo_after
 * and utxo_store_count_utxos on this handle with a group open first write
 * the group's new unspent outputs into its transaction (not committed);
 * should that fail, they answer as a failed commit would.
 * Returns UTXO_OK, UTXO_ERR_ARG, or a flush's error.
 */
int utxo_store_set_pipeline(utxo_store *s, bool on);
/** Commits the group of blocks the pipeline left open, if any. */
int utxo_store_flush(utxo_store *s);

/**
 * Undoes the blocks above height (keeps heights 0..height) in one SQL
 * transaction, with the undo data: afterwards the UTXO set, the forest, the
 * proof bundles and the metadata are those a fresh replay to height would
 * give, byte for byte. UTXO_ERR_STORE_HEIGHT when height >= n_blocks.
 */
int utxo_store_rollback(utxo_store *s, uint32_t height);

/* ---- queries ------------------------------------------------------------- */

/* An unspent output as the store holds it. */
typedef struct utxo_store_utxo {
    utxo_outpoint outpoint;
    utxo_output output;   /* datum: see the function that filled it */
    uint32_t height;      /* block that created it */
    uint64_t position;    /* its accumulator leaf position */
} utxo_store_utxo;

/**
 * The unspent output at op, into *out; out->output.datum is a new buffer
 * (NULL when empty) the caller frees with free(). UTXO_ERR_STORE_NOT_FOUND
 * when op is not unspent.
 */
int utxo_store_get_utxo(utxo_store *s, const utxo_outpoint *op, utxo_store_utxo *out);

/**
 * Calls fn for every unspent output guarded by predicate_id (NULL: every
 * output), in outpoint order; u and its datum are valid during the call
 * only. fn returns 0 to go on, anything else to stop (the call then returns
 * UTXO_OK). *count and *total (each may be NULL) receive the number of
 * outputs visited and the sum of their values. fn may be NULL to count only
 * (then as utxo_store_count_utxos). The walk reads every output it visits:
 * to list a large set in pages, use utxo_store_each_utxo_after.
 */
int utxo_store_each_utxo(utxo_store *s, const uint8_t *predicate_id,
                         int (*fn)(void *arg, const utxo_store_utxo *u), void *arg,
                         uint64_t *count, uint64_t *total);

/**
 * One page of utxo_store_each_utxo (keyset pagination): calls fn for the
 * unspent outputs guarded by predicate_id (NULL: every output) that come
 * strictly after *after in outpoint order (after NULL: from the first),
 * in that order, for at most max of them (UINT64_MAX: no bound; 0: none).
 * after need not be unspent, nor ever have existed: the page starts at the
 * first output above it. The query seeks to the cursor in the
 * utxos_predicate index (or the primary key), so a page costs the outputs
 * it visits, not those before the cursor. u and its datum are valid
 * during the call only; fn (not NULL) returns 0 to go on, anything else to
 * stop (the call then returns UTXO_OK). To know whether an output follows
 * a page of k, ask for k + 1 and stop at the last.
 * Returns UTXO_OK, UTXO_ERR_ARG (s or fn NULL), UTXO_ERR_STORE_CORRUPT (a
 * malformed row), or a store error (utxo_store_errmsg).
 */
int utxo_store_each_utxo_after(utxo_store *s, const uint8_t *predicate_id,
                               const utxo_outpoint *after, uint64_t max,
                               int (*fn)(void *arg, const utxo_store_utxo *u), void *arg);

/**
 * The number of unspent outputs guarded by predicate_id (NULL: every
 * output) into *count, and the sum of their values into *total (each may
 * be NULL), from one aggregate query: the rows are counted in the
 * utxos_predicate index, and only each value is read from its row (no
 * datum, no callback). Returns UTXO_OK, UTXO_ERR_ARG (s NULL), or a store
 * error: a value that is not an integer is UTXO_ERR_STORE_CORRUPT, and a
 * sum past 2^63 - 1 (only a damaged store has one: values are at most
 * UTXO_MAX_MONEY) fails as SQLite's "integer overflow".
 */
int utxo_store_count_utxos(utxo_store *s, const uint8_t *predicate_id, uint64_t *count,
                           uint64_t *total);

/**
 * Where transaction txid is: *height (may be NULL) its block, *index (may
 * be NULL) its place in the block (0: the coinbase). Then
 * utxo_store_get_block gives the transaction. UTXO_ERR_STORE_NOT_FOUND
 * when no stored block holds it.
 */
int utxo_store_find_tx(utxo_store *s, const uint8_t txid[UTXO_HASH_BYTES], uint32_t *height,
                       uint32_t *index);

/**
 * The encoded proof bundle of the block at height (utxo/stateless.h): a new
 * buffer in *bytes of *len bytes, freed by the caller with free().
 * UTXO_ERR_STORE_HEIGHT when the store holds no such block.
 * A bundle is handed out only after it verified against the accumulator
 * before its block (walked from genesis with the stored blocks and bundles,
 * accumulator work only; consecutive heights cost one step each, the first
 * call at height h costs h steps): a damaged bundle, or one after it on
 * the walk, is UTXO_ERR_STORE_CORRUPT naming the block, and nothing is
 * returned.
 */
int utxo_store_get_bundle(utxo_store *s, uint32_t height, uint8_t **bytes, size_t *len);

/**
 * The block at height, decoded (*out, free with utxo_block_free); with
 * bytes != NULL also its encoding (a new buffer, free()). Either output may
 * be NULL.
 */
int utxo_store_get_block(utxo_store *s, uint32_t height, utxo_block **out, uint8_t **bytes,
                         size_t *len);

/**
 * The accumulator state after the tip, encoded as in docs/ACCUMULATOR.md
 * (u64 leaf count, then the roots largest first): into out (caller-owned,
 * out_len >= 8 + 64 * 32 always suffices); *written gets the length.
 */
int utxo_store_acc_state(utxo_store *s, uint8_t *out, size_t out_len, size_t *written);

/**
 * A current accumulator proof that the unspent output op is in the set:
 * *position its leaf position, leaf (caller-owned) its leaf hash
 * (docs/ACCUMULATOR.md), *proof a new buffer (free()) of *proof_len bytes,
 * the proof encoded as in docs/ACCUMULATOR.md for one target, against the
 * roots after the tip (utxo_store_acc_state). The proof is checked against
 * those roots before it is handed out (UTXO_ERR_STORE_CORRUPT, naming the
 * leaf, otherwise). UTXO_ERR_STORE_NOT_FOUND when op is not unspent.
 */
int utxo_store_prove_utxo(utxo_store *s, const utxo_outpoint *op, uint64_t *position,
                          uint8_t leaf[UTXO_HASH_BYTES], uint8_t **proof, size_t *proof_len);

/**
 * The accumulator state after the block at height (what that block's
 * header commits to), encoded as utxo_store_acc_state does, for serving
 * claimed start states (docs/RANGES.md). Computed by the walk that checks
 * served bundles (utxo_store_get_bundle): forward from genesis, or from the
 * last height walked when height is above it (one step per block), each
 * bundle verified on the way; a damaged one is UTXO_ERR_STORE_CORRUPT
 * naming the block. UTXO_ERR_STORE_HEIGHT when the store holds no block at
 * height.
 */
int utxo_store_acc_state_at(utxo_store *s, uint32_t height, uint8_t *out, size_t out_len,
                            size_t *written);

/* ---- checking ------------------------------------------------------------ */

/** Called by utxo_store_check with each problem found (a NUL-terminated
 *  line saying what is wrong and where; valid during the call). */
typedef void (*utxo_store_check_fn)(void *arg, const char *problem);

/**
 * Checks the whole store, in one read snapshot, without writing: SQLite's
 * integrity_check; every block (decodes, stored hash, height, previous hash,
 * sequencer signature, time, leaf count); every proof bundle verified
 * against the accumulator before its block, walked from genesis, ending at
 * the recorded state; the metadata (tip, digest, counts); every forest node
 * against its children and parent, and the roots against the recorded
 * state; every unspent row against its forest leaf, and the live leaves
 * against the rows; the undo records of the last undo_blocks blocks against
 * their blocks and bundles. report (may be NULL) gets each problem, at most
 * 1000 (n_problems, may be NULL, counts them all).
 * Returns UTXO_OK when sound, UTXO_ERR_STORE_CORRUPT when problems were
 * found, another code when the check itself failed (I/O, memory; message
 * in utxo_store_errmsg). Open the store with UTXO_STORE_READONLY |
 * UTXO_STORE_UNCHECKED to check one whose opening check fails.
 */
int utxo_store_check(utxo_store *s, uint32_t undo_blocks, utxo_store_check_fn report, void *arg,
                     uint64_t *n_problems);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_STORE_H */
