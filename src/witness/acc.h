/*
 * acc.h — the UTXO accumulator: a Utreexo-style forest of perfect binary
 * Merkle trees over every output ever created, in creation order, with the
 * swapless deletion rule. Internal API (prefix acc_); the block validator,
 * the proof bundle and the SQLite store are built on it. The format and the
 * reasoning are in docs/ACCUMULATOR.md.
 *
 * Vocabulary.
 *   leaf count  N: outputs ever added (spent ones included). Never shrinks,
 *               except when a block is undone.
 *   position    the index of a leaf, 0..N-1, fixed for ever.
 *   node (r, i) the node at row r (leaves are row 0) and index i in that row:
 *               it covers leaves [i*2^r, (i+1)*2^r) and exists once all of them
 *               were added, i.e. when (i+1) << r <= N. Its children are
 *               (r-1, 2i) and (r-1, 2i+1); its sibling is (r, i^1).
 *   root        a node whose parent does not exist: one per set bit r of N,
 *               the node (r, (N >> r) - 1). At most 64.
 *   empty       the value of a deleted leaf: 32 zero bytes (ACC_EMPTY). A real
 *               hash is never all zero (2^-256), and every decoder rejects a
 *               non-empty slot holding zeros.
 *   value       leaf: its leaf hash or empty. Node: acc_parent(left, right):
 *               empty if both are empty, the other child if one is empty (the
 *               survivor "moves up", unchanged), else H("utxo.accnode", l||r).
 *
 * Ownership: every buffer is the caller's unless the function says it
 * allocates (acc_proof arrays, acc_forest); those have a matching release
 * (acc_proof_clear, acc_forest_free) for which NULL is harmless.
 * Every function returns UTXO_OK or a UTXO_ERR_* code (utxo/common.h) and,
 * unless it says otherwise, leaves its outputs unchanged on failure.
 * Thread-safety: no globals; distinct objects on distinct threads are fine.
 */
#ifndef UTXO_SRC_WITNESS_ACC_H
#define UTXO_SRC_WITNESS_ACC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "utxo/common.h"
#include "utxo/ledger.h"
#include "utxo/codec.h"

#define ACC_HASH_BYTES UTXO_HASH_BYTES
#define ACC_MAX_ROOTS 64u
/* Largest encoded state: 8-byte count + 64 roots of 32 bytes. */
#define ACC_STATE_MAX_BYTES (8u + ACC_MAX_ROOTS * ACC_HASH_BYTES)
/* Most targets one proof may hold (decoders reject more: UTXO_ERR_TOO_LARGE). */
#define ACC_PROOF_MAX_TARGETS (1u << 20)

/* Hash domains (BLAKE2b personalisation, <= 16 bytes). */
#define TAG_ACCLEAF "utxo.accleaf"
#define TAG_ACCNODE "utxo.accnode"
#define TAG_ACCDIGEST "utxo.accdigest"

typedef uint8_t acc_hash[ACC_HASH_BYTES];

extern const acc_hash ACC_EMPTY;

/* ---- values ------------------------------------------------------------ */

static inline bool acc_is_empty(const uint8_t h[ACC_HASH_BYTES])
{
    uint8_t x = 0;
    for (unsigned i = 0; i < ACC_HASH_BYTES; i++)
        x |= h[i];
    return x == 0;
}

/*
 * The leaf hash of an output created at `height` and added at leaf `position`:
 *   H("utxo.accleaf", u64 position || txid || u32 index || u32 height ||
 *                     output as in a transaction: u64 value, predicate id,
 *                     varint datum length, datum)
 * Binding the position makes a leaf provable only where it was added.
 */
void acc_leaf_hash(uint8_t out[ACC_HASH_BYTES], const utxo_outpoint *op, const utxo_output *o,
                   uint32_t height, uint64_t position);

/* out = acc_parent(l, r) as defined above; out may alias l or r. Returns 1
 * when a hash was computed, 0 when a child moved up (for counting work). */
int acc_parent(uint8_t out[ACC_HASH_BYTES], const uint8_t l[ACC_HASH_BYTES],
               const uint8_t r[ACC_HASH_BYTES]);

/* The row of the root of the tree holding leaf pos (pos < count). */
static inline unsigned acc_root_row(uint64_t pos, uint64_t count)
{
    return 63u - (unsigned)__builtin_clzll(pos ^ count);
}

/* True when node (row, idx), which exists, is a root of a forest of count. */
static inline bool acc_is_root(unsigned row, uint64_t idx, uint64_t count)
{
    return row >= 63 || (idx >> 1) >= (count >> (row + 1));
}

/* ---- the stateless state ------------------------------------------------ */

/*
 * What a stateless validator holds: 2,056 bytes in memory whatever the chain
 * size. roots[r] is meaningful only when bit r of count is set (it may then
 * be ACC_EMPTY: every leaf of that tree was deleted); other slots are zero.
 */
typedef struct acc_state {
    uint64_t count;
    acc_hash roots[ACC_MAX_ROOTS];
} acc_state;

/* An empty accumulator (count 0). */
void acc_state_init(acc_state *st);
/* Number of roots: popcount(count). */
unsigned acc_state_n_roots(const acc_state *st);
bool acc_state_equal(const acc_state *a, const acc_state *b);

/*
 * Appends one leaf (its hash, computed for position st->count; must not be
 * empty). UTXO_ERR_ACC_FULL when count is already 2^64-1 (then 64 roots).
 */
int acc_state_add(acc_state *st, const uint8_t leaf[ACC_HASH_BYTES]) UTXO_WARN_UNUSED;

/*
 * State encoding, also the digest preimage (docs/ACCUMULATOR.md):
 *   u64 count, then for r = 63 down to 0 with bit r of count set: root r
 *   (32 bytes; zeros for an empty tree). 8 + 32*popcount(count) bytes.
 * acc_state_encode appends to an enc cursor; _to_bytes writes into out
 * (cap >= acc_state_get_length) and stores the length in *written.
 * _from_bytes decodes strictly (exactly len bytes) and reports the offset of
 * the first bad byte in *err_off (may be NULL); *st is untouched on error.
 */
size_t acc_state_get_length(const acc_state *st);
void acc_state_encode(enc *e, const acc_state *st);
int acc_state_to_bytes(const acc_state *st, uint8_t *out, size_t cap, size_t *written) UTXO_WARN_UNUSED;
int acc_state_decode(dec *d, acc_state *st);
int acc_state_from_bytes(acc_state *st, const uint8_t *in, size_t len, size_t *err_off) UTXO_WARN_UNUSED;

/* The digest committed by a block header: H("utxo.accdigest", encoding). */
void acc_state_digest(uint8_t out[ACC_HASH_BYTES], const acc_state *st);

/* ---- batch proofs ------------------------------------------------------- */

/*
 * A batch proof for a set of leaves against the roots of a forest of N
 * leaves. It holds no leaf data: the verifier is given the leaf hashes (the
 * block proof carries the spent outputs, and acc_stateless_apply_block
 * computes the hashes from them), so the outputs' bytes are sent once.
 *
 * Sibling order: the verifier walks up row by row from the sorted targets;
 * at each row it visits the known nodes left to right: a root leaves the
 * walk, two known siblings combine, and any other node consumes the next
 * slot (its sibling's value).
 * Slots are thus in (row, index) order, and a sibling computable from other
 * targets is never sent. A slot may be ACC_EMPTY (the sibling was deleted);
 * it is one bit in the proof instead of 32 bytes, here and in the encoding.
 * The arrays are sized by the proof, never more: a hostile encoding cannot
 * make the decoder allocate more than about 9 times its length.
 */
typedef struct acc_proof {
    size_t n_targets;
    uint64_t *targets;   /* leaf positions, strictly increasing, < N */
    size_t n_slots;      /* sibling slots, in walk order */
    uint8_t *empty;      /* ceil(n_slots/8) bytes: bit j%8 of byte j/8 = slot j empty */
    size_t n_hashes;     /* non-empty slots: n_slots - (empty bits set) */
    acc_hash *hashes;    /* their values in slot order; never ACC_EMPTY */
} acc_proof;

/* True when slot j of p is empty (j < p->n_slots). */
static inline bool acc_proof_slot_empty(const acc_proof *p, size_t j)
{
    return (p->empty[j >> 3] >> (j & 7)) & 1;
}

/* A node address, as produced by acc_proof_positions. */
typedef struct acc_pos {
    uint8_t row;
    uint64_t idx;
} acc_pos;

void acc_proof_init(acc_proof *p);
/* Frees the arrays and reinitialises; NULL-safe. */
void acc_proof_clear(acc_proof *p);

/*
 * Checks targets (sorted, unique, < count) and computes the sibling
 * addresses a proof for them needs, in slot order. *out is malloc'd (free()
 * it; NULL when *n_out is 0). out may be NULL to count only.
 * UTXO_ERR_ACC_POSITION for bad targets.
 */
int acc_proof_positions(uint64_t count, const uint64_t *targets, size_t n, acc_pos **out,
                        size_t *n_out) UTXO_WARN_UNUSED;

/*
 * Encoding (docs/ACCUMULATOR.md): varint n_targets; varint first target;
 * varint gap (t[i] - t[i-1] - 1) for each further target; varint n_slots;
 * ceil(n_slots/8) bytes of empty flags (bit j%8 of byte j/8 set = slot j is
 * empty; padding bits zero); 32 bytes per non-empty slot in slot order.
 */
size_t acc_proof_get_length(const acc_proof *p);
void acc_proof_encode(enc *e, const acc_proof *p);
int acc_proof_to_bytes(const acc_proof *p, uint8_t *out, size_t cap, size_t *written) UTXO_WARN_UNUSED;
/*
 * Strict decoding against a forest of `count` leaves: targets must be < count
 * and the slot count must be exactly the one the targets need (extra or
 * missing hashes are errors); non-zero padding bits and all-zero hashes in
 * non-empty slots are non-canonical. Allocations are bounded by the input
 * length. acc_proof_decode reads from a cursor (for embedding; on error *p
 * is left cleared and the error is in d); _from_bytes wants exactly len
 * bytes. *p must be initialised (acc_proof_init) and empty; the caller
 * releases it with acc_proof_clear.
 */
int acc_proof_decode(dec *d, acc_proof *p, uint64_t count);
int acc_proof_from_bytes(acc_proof *p, const uint8_t *in, size_t len, uint64_t count,
                         size_t *err_off) UTXO_WARN_UNUSED;

/* ---- stateless verification (acc_stateless.c) --------------------------- */

/*
 * Verifies that leaves[i] is under st's roots where proof->targets[i] says,
 * and computes the roots after deleting all of them. Nothing else is read.
 * n_leaves must equal proof->n_targets; a leaf hash must not be empty.
 * leaves[i] MUST be the hash computed for position proof->targets[i]: the
 * walk authenticates a position only through the leaf hash that binds it
 * (next to an empty sibling, left and right hash alike), so a hash made for
 * another position proves that leaf is in the set, not that it is at the
 * claimed place. acc_stateless_apply_block computes the hashes itself and
 * cannot be misused that way: validators should call it.
 * Errors: UTXO_ERR_ARG, UTXO_ERR_ACC_POSITION, UTXO_ERR_ACC_SIBLINGS (slot
 * count wrong), UTXO_ERR_ACC_PROOF (a recomputed root differs: stale roots,
 * spent leaf, wrong leaf data, altered sibling ...), UTXO_ERR_NOMEM.
 */
int acc_stateless_verify(const acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                         size_t n_leaves) UTXO_WARN_UNUSED;
/* Verify, then delete the targets from *st. *st is unchanged on error.
 * *n_hashes (may be NULL) receives the node hashes computed. */
int acc_stateless_delete(acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                         size_t n_leaves, uint64_t *n_hashes) UTXO_WARN_UNUSED;
/*
 * One block in block order: verify the spends (one batch proof against the
 * pre-block roots) and delete them, then append adds[0..n_adds) in order.
 * adds[j] must be the leaf hash for position (count before the block) + j;
 * an output created and spent in the same block is neither in the proof nor
 * in adds. All or nothing: *st is unchanged on any error.
 */
int acc_stateless_apply(acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                        size_t n_leaves, const acc_hash *adds, size_t n_adds) UTXO_WARN_UNUSED;

/*
 * The walk with a record: like acc_stateless_delete, but writes the
 * post-deletion roots to roots_out (st is not changed) and appends every
 * node the walk knows or receives to rec, as (row, idx, value before, value
 * after deleting the targets). Used to update proofs (acc_update.c). rec
 * grows with realloc; release with free(rec->v). On error rec may hold a
 * partial list.
 */
typedef struct acc_rec {
    uint8_t row;
    uint64_t idx;
    acc_hash old;
    acc_hash now;
} acc_rec;

typedef struct acc_rec_list {
    acc_rec *v;
    size_t n, cap;
} acc_rec_list;

int acc_walk_record(const acc_state *st, const acc_proof *proof, const acc_hash *leaves,
                    size_t n_leaves, acc_hash roots_out[ACC_MAX_ROOTS],
                    acc_rec_list *rec) UTXO_WARN_UNUSED;

/* What a block proof carries for each spent output (and what a block
 * creates): the data a leaf hash binds, apart from the position. */
typedef struct acc_leaf {
    utxo_outpoint outpoint;
    const utxo_output *output;   /* borrowed, not owned */
    uint32_t height;             /* height of the block that created it */
} acc_leaf;

/* out[i] = acc_leaf_hash of leaves[i] at positions[i], for i < n. */
int acc_leaf_hashes(acc_hash *out, const acc_leaf *leaves, const uint64_t *positions, size_t n);

/*
 * The validator's entry point, block order: spent[i] is the output the proof
 * places at proof->targets[i] (n_spent == proof->n_targets); created[j] is
 * appended at position count + j, after the deletions. Every leaf hash is
 * computed here from the data and the positions. All or nothing: *st is
 * unchanged on any error.
 */
int acc_stateless_apply_block(acc_state *st, const acc_proof *proof, const acc_leaf *spent,
                              size_t n_spent, const acc_leaf *created,
                              size_t n_created) UTXO_WARN_UNUSED;

/* ---- proof updates for wallets (acc_update.c) --------------------------- */

/*
 * Carries a proof across one block using only what a stateless node sees.
 * In:  mine proves mine_leaves[0..n_mine) against pre (it is verified);
 *      block proves block_leaves[0..n_block) against pre (verified too);
 *      adds[0..n_adds) are the block's new leaf hashes in order;
 *      watch[0..n_watch): positions among them (pre->count <= w <
 *      pre->count + n_adds, sorted, unique) to start tracking.
 * Out: *out (initialised; its old content is released on success, so out
 *      may be mine) proves, against the post-block state, the targets
 *      (mine's targets not spent by the block) then the watched ones, in
 *      order; out_leaves (room for n_mine + n_watch; may be mine_leaves)
 *      receives their leaf hashes; out->n_targets says how many.
 * The result is checked against the post-block roots before it is
 * returned (UTXO_ERR_INTERNAL if that ever failed). UTXO_ERR_ACC_PROOF
 * when block, though it verifies, is not in the forest's shape (proofs
 * over deleted leaves are not unique) where it meets mine: it cannot carry
 * mine (the block is still valid; another source's proof can). On error
 * *out is unchanged (out_leaves may have been written).
 */
int acc_proof_update(acc_proof *out, acc_hash *out_leaves, const acc_proof *mine,
                     const acc_hash *mine_leaves, size_t n_mine, const acc_state *pre,
                     const acc_proof *block, const acc_hash *block_leaves, size_t n_block,
                     const acc_hash *adds, size_t n_adds, const uint64_t *watch,
                     size_t n_watch) UTXO_WARN_UNUSED;

/* ---- the full forest for bridge nodes (acc_forest.c) -------------------- */

/*
 * Node storage behind a small interface so the SQLite store can hold the
 * forest later. Node (row, idx) for idx < count >> row. get of an unset node
 * may fail with UTXO_ERR_INTERNAL; put of idx == current row length appends;
 * truncate(count) drops every node not existing in a forest of count leaves.
 * destroy may be NULL.
 */
typedef struct acc_store_ops {
    int (*get)(void *ctx, unsigned row, uint64_t idx, uint8_t out[ACC_HASH_BYTES]);
    int (*put)(void *ctx, unsigned row, uint64_t idx, const uint8_t h[ACC_HASH_BYTES]);
    int (*truncate)(void *ctx, uint64_t count);
    void (*destroy)(void *ctx);
} acc_store_ops;

typedef struct acc_forest acc_forest;

/* A forest of 0 leaves in memory (every node: about 64 bytes per leaf). */
int acc_forest_new(acc_forest **out) UTXO_WARN_UNUSED;
/* A forest over an existing store holding a forest of count leaves. The
 * forest calls ops->destroy(ctx) when freed. */
int acc_forest_new_with_store(acc_forest **out, const acc_store_ops *ops, void *ctx,
                              uint64_t count) UTXO_WARN_UNUSED;
void acc_forest_free(acc_forest *f);

uint64_t acc_forest_count(const acc_forest *f);
/* The roots and count as a stateless node would hold them. */
int acc_forest_state(const acc_forest *f, acc_state *out) UTXO_WARN_UNUSED;
/* The value of leaf pos (ACC_EMPTY once deleted). */
int acc_forest_leaf(const acc_forest *f, uint64_t pos, uint8_t out[ACC_HASH_BYTES]) UTXO_WARN_UNUSED;
/* Appends a leaf (hash for position acc_forest_count(f)). */
int acc_forest_add(acc_forest *f, const uint8_t leaf[ACC_HASH_BYTES]) UTXO_WARN_UNUSED;
/*
 * The batch proof for live leaves targets[0..n) (sorted, unique). Fills *p
 * (initialised, empty; caller clears). UTXO_ERR_ACC_SPENT for a deleted leaf.
 */
int acc_forest_prove(const acc_forest *f, const uint64_t *targets, size_t n,
                     acc_proof *p) UTXO_WARN_UNUSED;
/*
 * Deletes live leaves targets[0..n) (sorted, unique). When undo is not NULL
 * it receives their hashes (n entries) for acc_forest_undo. On error nothing
 * changed, except after a storage failure (then the store is inconsistent;
 * the SQLite store will roll its transaction back).
 */
int acc_forest_delete(acc_forest *f, const uint64_t *targets, size_t n,
                      acc_hash *undo) UTXO_WARN_UNUSED;
/*
 * One block on the bridge side, in block order: proves the sorted live
 * targets against the pre-block forest into *proof (initialised, empty;
 * caller clears), deletes them (their hashes into undo[0..n) when undo is
 * not NULL), then appends adds[0..n_adds) (hashes for positions count,
 * count+1, ...). Validation errors (positions, spent leaves, empty adds)
 * are found before anything changes; a storage failure midway leaves the
 * store to be rolled back by its owner.
 */
int acc_forest_apply_block(acc_forest *f, const uint64_t *targets, size_t n, const acc_hash *adds,
                           size_t n_adds, acc_proof *proof, acc_hash *undo) UTXO_WARN_UNUSED;
/*
 * Undoes one block: drops the leaves added after old_count, then restores
 * the leaves the block deleted (targets sorted, leaves as returned by
 * acc_forest_delete). Afterwards the forest equals the one before the block.
 */
int acc_forest_undo(acc_forest *f, uint64_t old_count, const uint64_t *targets,
                    const acc_hash *leaves, size_t n) UTXO_WARN_UNUSED;

#endif /* UTXO_SRC_WITNESS_ACC_H */
