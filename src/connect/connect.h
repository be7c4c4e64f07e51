/*
 * connect.h — the block-connection core: ONE function that connects a block
 * (cn_connect), modelled on Bitcoin Core's ConnectBlock over CCoinsView,
 * and the two small interfaces it is fed through. Every mode adapts it: the
 * store's apply (src/sqlstore/apply.c), the stateless validator
 * (validator.c), the chain builder (src/chain/chainbuild.c) and wallet sync
 * (src/wallet/sync.c); rollback takes a block back with the undo record the
 * core's effects define (cn_undo_*). docs/CONNECT.md describes the stages.
 *
 * What cn_connect does, in this order (the first failure is the verdict):
 *   1. header against the tip: height, previous hash, time, sequencer
 *      signature (skipped with CN_SEAL: the caller is making the header;
 *      the signature is verified on the verifier's pool beside stage 3's
 *      hashing, and reported before anything of stages 2-3);
 *   2. with a proof bundle: it is this block's (UTXO_ERR_BUNDLE_BLOCK) and
 *      made against this accumulator (UTXO_ERR_BUNDLE_STATE);
 *   3. the context-free block rules (utxo_block_check), every transaction
 *      hashed once here (txid and wtxid on the verifier's pool for blocks
 *      of 8 transactions or more): txid, wtxid and sighash go into the
 *      effects and every later stage reads them from there;
 *   4. with a bundle: every receipt names an input (UTXO_ERR_BUNDLE_RECEIPT),
 *      after 5's layout (a fault of the block before one of the bundle);
 *   5. the layout of spends (same block or earlier: bp_layout), the
 *      accumulator's capacity (UTXO_ERR_ACC_FULL);
 *   6. the spent-output view: every input spending an earlier block's
 *      output gets it, its creation height and its leaf position;
 *   7. the accumulator backend's optional begin (a store commits the
 *      block before this one there: the pipeline), then it deletes the
 *      spent leaves and appends the new ones (leaf hashes computed once,
 *      here) — on a helper thread,
 *      while the calling thread does 8; then the backend's optional
 *      persist hook (still on the helper thread) once the digest matches;
 *   8. the contextual rules (values, fees, coinbase), then the segment
 *      receipt chains of the bundle verified (their outcome stands for the
 *      run), then every predicate on the verifier's pool
 *      (cn_verifier_block; an input whose chain fails runs there): a
 *      block's own fault is its verdict whether or not a bundle's receipts
 *      are also bad, a chain's failure only when the predicates all accept;
 *   9. the header's accumulator digest is the new one (UTXO_ERR_BLOCK_DIGEST;
 *      with CN_SEAL it is returned in the effects instead).
 * Verdicts come in that fixed order whichever thread finished first: a
 * failing accumulator (7) is reported before a failing predicate (8), and a
 * failing persist only when everything else passed.
 *
 * Reason codes are the existing UTXO_ERR_* codes; vd->tx / vd->input name
 * the transaction and input at fault as the old per-mode code did.
 *
 * Nothing here writes anything the caller keeps: the view is only read, the
 * backend changes only its own state (which the caller commits or undoes),
 * and the block's effects (cn_effects) say what to persist. Prefix cn_.
 * Not installed.
 */
#ifndef UTXO_SRC_CONNECT_H
#define UTXO_SRC_CONNECT_H

#include "prover/blockproof.h"
#include "utxo/validate.h"

/* One output an input of the block spends, from an earlier block: what the
 * undo record keeps of it, and what its accumulator leaf binds. */
typedef struct cn_spent {
    utxo_outpoint outpoint;
    utxo_output output;   /* datum borrowed (from the view, or the undo buffer) */
    uint32_t height;      /* height of the block that created it */
    uint64_t position;    /* its leaf position */
} cn_spent;

typedef struct cn_effects cn_effects;

/*
 * The spent-output view: where the outputs a block spends come from (the
 * SQLite store, a proof bundle, an in-memory set, a wallet's coins).
 *
 * begin (may be NULL): called once, before any get, with the number of
 *   inputs that spend outputs of earlier blocks. An error stops the block
 *   (*bad: the ordinal of the spend at fault, >= n_external for none).
 * get: the output spent by the k-th such input (block input order) whose
 *   outpoint is op: fills out->output (datum borrowed: it must stay valid
 *   until the caller of cn_connect is done with the effects), ->height,
 *   ->position (out->outpoint is set by the core). Returns UTXO_OK,
 *   UTXO_ERR_TX_MISSING (not an unspent output) or the view's own error.
 * refs (may be NULL: the view serves no reference inputs, and a block with
 *   some fails with UTXO_ERR_TX_REF_MISSING): the outputs the block's
 *   reference inputs name, ops[0..n) (distinct, in order of first mention
 *   in the block), each an unspent output of an earlier block: fills
 *   out[k] as get does (out[k].outpoint is set by the core). Returns
 *   UTXO_OK, UTXO_ERR_TX_MISSING with *bad = k (not an unspent output) or
 *   the view's own error.
 * Only the calling thread of cn_connect calls the view.
 */
typedef struct cn_view_methods {
    int (*begin)(void *ctx, const utxo_block *b, size_t n_external, size_t *bad);
    int (*get)(void *ctx, size_t k, const utxo_outpoint *op, cn_spent *out);
    int (*refs)(void *ctx, const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad);
} cn_view_methods;

/*
 * The accumulator backend: the roots only (a stateless validator, checking
 * the bundle's batch proof), the SQLite forest, an in-memory forest.
 *
 * count: the leaf count before the block.
 * apply: deletes the n_spent leaves spent[k] (block input order; spent_hash[k]
 *   is the leaf hash of spent[k] at spent[k].position) and appends adds[j]
 *   at count + j; *after receives the new state (roots and count). On error
 *   the backend's visible state is as before or the caller undoes it (the
 *   store's SQL transaction; cn_acc_forest_undo), and *bad names the
 *   ordinal of the spend at fault (0 when it is the batch as a whole).
 *   Errors: UTXO_ERR_ACC_* (the spent data is not the accumulator's),
 *   UTXO_ERR_BLOCK_DOUBLE_SPEND (two spends of one position), NOMEM, I/O.
 * persist (may be NULL): called after apply succeeded and the digest is
 *   the header's (or CN_SEAL), on the same helper thread, while the
 *   predicates may still be running: the caller writes the effects there
 *   (the store: rows, undo, bundle, inside its SQL transaction). If the
 *   block fails later the caller must undo what persist wrote.
 * refs (may be NULL when no block has reference inputs): checks, before
 *   apply and on the calling thread, that the referenced leaves refs[k]
 *   (hashes ref_hash[k]) are live in the accumulator as it is before the
 *   block; they are read, not deleted. Errors as apply's (*bad: k).
 * begin (may be NULL): called first on the helper thread, before apply:
 *   the pipeline's hook. A store that left the previous block's COMMIT
 *   pending (its rows written, its transaction still open, so that this
 *   block's view read through it) commits it here, while this block's
 *   predicates run, and opens this block's transaction. An error stops
 *   stage 7 (apply is not called) and is the verdict, stage
 *   CN_STAGE_PERSIST, before any other of stages 7-9.
 * begin, apply and persist run on a helper thread, concurrently with the
 * view's caller thread running predicates; they must not touch what the
 * predicates read (the block, the spent outputs: read only).
 */
typedef struct cn_acc_methods {
    uint64_t (*count)(void *ctx);
    int (*apply)(void *ctx, const cn_spent *spent, const acc_hash *spent_hash, size_t n_spent,
                 const acc_hash *adds, size_t n_adds, acc_state *after, size_t *bad);
    int (*persist)(void *ctx, const cn_effects *fx);
    int (*refs)(void *ctx, const cn_spent *refs, const acc_hash *ref_hash, size_t n, size_t *bad);
    int (*begin)(void *ctx);
} cn_acc_methods;

/* Flags for cn_args.flags. */
#define CN_SEAL 1u           /* the caller is making the header: no header checks;
                                the digest goes to fx->digest, not compared */
#define CN_NO_PREDICATES 2u  /* skip stage 8 (a builder trusting its mempool) */
#define CN_DEFER_PREDICATES 4u /* stage 8 is the caller's (cn_stage8_start/_finish),
                                  stage 7 runs on the calling thread; not with a
                                  persist or begin hook, nor CN_SEAL */
#define CN_NO_POOL 8u        /* stages 1-7 leave the verifier's pool alone (the
                                caller has a loop in flight on it) */

/* Where a verdict came from (cn_effects.stage). */
enum cn_stage {
    CN_STAGE_NONE = 0,
    CN_STAGE_HEADER,     /* 1 */
    CN_STAGE_BUNDLE,     /* 2, 4 */
    CN_STAGE_RULES,      /* 3, 5 */
    CN_STAGE_VIEW,       /* 6 */
    CN_STAGE_ACC,        /* 7 */
    CN_STAGE_PREDICATES, /* 8 */
    CN_STAGE_DIGEST,     /* 9 */
    CN_STAGE_PERSIST     /* the persist hook */
};

typedef struct cn_args {
    const utxo_params *params;
    utxo_verifier *verifier;       /* its pool runs the predicates; NULL with CN_NO_PREDICATES */
    /* the tip the block must extend */
    uint32_t next_height;
    const uint8_t *tip_hash;       /* UTXO_HASH_BYTES; zeros before genesis */
    uint64_t min_time;             /* the tip's time, or the genesis time */
    uint64_t max_leaves;           /* accumulator capacity (0: no limit) */
    const utxo_bundle *bundle;     /* may be NULL: binding checks and segment receipts */
    const cn_view_methods *view;
    void *view_ctx;
    const cn_acc_methods *acc;
    void *acc_ctx;
    unsigned flags;                /* CN_* */
} cn_args;

/* What connecting the block does, for the caller to persist. Owned by the
 * effects except where noted; release with cn_effects_clear. */
struct cn_effects {
    enum cn_stage stage;           /* of the verdict (NONE: valid) */
    bool acc_applied;              /* the backend's apply succeeded (undo it if the
                                      caller drops the block) */
    uint8_t block_hash[UTXO_HASH_BYTES]; /* not with CN_SEAL */
    /* every transaction hashed once: n_txs entries each (sighash[0], the
     * coinbase's, is zeros) */
    uint8_t (*txids)[UTXO_HASH_BYTES];
    uint8_t (*wtxids)[UTXO_HASH_BYTES];
    uint8_t (*sighash)[UTXO_HASH_BYTES];
    size_t *tx_len;                /* each transaction's encoded length */
    bp_layout L;                   /* where each input's spent output comes from */
    size_t n_spent;                /* == L.n_external */
    cn_spent *spent;               /* block input order: the undo record */
    acc_hash *spent_hash;          /* their leaf hashes */
    const utxo_output **spent_tx;  /* per tx: its inputs' spent outputs (borrowed) */
    /* reference inputs: the distinct outputs the block references, in order
     * of first mention, with their leaf hashes; per tx, its refs' outputs */
    size_t n_refs;
    cn_spent *refs;
    acc_hash *ref_hash;
    const utxo_output **ref_tx;    /* NULL for a tx without refs */
    size_t n_created;              /* == L.n_created */
    acc_leaf *created;             /* outputs entering the accumulator (borrowed from b) */
    acc_hash *adds;                /* their leaf hashes, at count_before + j */
    uint64_t count_before;         /* leaf count before the block */
    acc_state acc;                 /* after the block */
    uint8_t digest[UTXO_HASH_BYTES];
    uint64_t spent_value, created_value;
    uint64_t ns_pre, ns_acc, ns_persist, ns_predicates; /* timings */
    bool owes_predicates;          /* CN_DEFER_PREDICATES: stages 1-7 passed, stage 8 is
                                      still to run (cn_stage8_start) */
    /* internal */
    utxo_output *spent_flat;
    utxo_output *ref_flat;
};

/*
 * Connects block b (borrowed; with CN_SEAL its header's acc_digest is not
 * read) as described above. *fx is initialised here and filled as far as
 * the block got (release with cn_effects_clear, also after an error);
 * *vd (may be NULL) receives the verdict. Returns vd->err.
 */
int cn_connect(const cn_args *a, const utxo_block *b, cn_effects *fx, utxo_verdict *vd);
void cn_effects_clear(cn_effects *fx);

/*
 * Stage 8 of a block cn_connect checked with CN_DEFER_PREDICATES, which
 * returned with fx->owes_predicates set and the verdict of stage 9 (OK or
 * UTXO_ERR_BLOCK_DIGEST; stages 1-7 had passed). _start (a the same args
 * but the flags; the pool free) starts the predicates: without segment
 * receipts in a->bundle their loop is left running on the verifier's pool,
 * with them the whole stage runs here. _finish waits for them and frees
 * *s: a failure of stage 8 is the verdict (it comes before 9), else
 * `after`, cn_connect's verdict, already in *vd (fees and cycles added
 * when valid). b, fx and a->bundle stay alive until _finish returns.
 */
typedef struct cn_stage8 cn_stage8;
int cn_stage8_start(const cn_args *a, const utxo_block *b, const cn_effects *fx,
                    cn_stage8 **s);
int cn_stage8_finish(cn_stage8 *s, int after, cn_effects *fx, utxo_verdict *vd);

/* ---- standard views and backends (backends.c) ------------------------------ */

/* A proof bundle as the view: bundle->spent[k] for the k-th spend, its
 * position the proof target it is bound to (each bound exactly once, else
 * UTXO_ERR_BUNDLE_SPENDS). */
typedef struct cn_bundle_view {
    const utxo_bundle *bundle;
    uint8_t *bound;
} cn_bundle_view;
extern const cn_view_methods cn_bundle_view_methods;
void cn_bundle_view_clear(cn_bundle_view *v);

/* A lookup function (bp_lookup_fn: the chain builder's set, a mempool's)
 * as the view. */
typedef struct cn_lookup_view {
    bp_lookup_fn lookup;
    void *ctx;
} cn_lookup_view;
extern const cn_view_methods cn_lookup_view_methods;

/* A view's refs for a view whose get does not depend on k (a table, a
 * lookup): get(ctx, k, &ops[k], &out[k]) for each k, *bad the first that
 * fails. */
int cn_refs_by_get(int (*get)(void *, size_t, const utxo_outpoint *, cn_spent *), void *ctx,
                   const utxo_outpoint *ops, size_t n, cn_spent *out, size_t *bad);

/* The roots only: the bundle's batch proof checked against *st's roots;
 * apply works on a copy (next), the caller adopts it on a valid block. */
typedef struct cn_roots_acc {
    const acc_state *st;
    const acc_proof *proof;
    const acc_proof *ref_proof;   /* the bundle's proof of its referenced outputs */
    acc_state next;
} cn_roots_acc;
extern const cn_acc_methods cn_roots_acc_methods;

/* A full forest (in memory, or the store's over SQLite): the spent leaves
 * are checked against the forest's, deleted, the new ones appended, and
 * the batch proof made (proof, for the bundle). */
typedef struct cn_forest_acc {
    acc_forest *f;
    acc_proof proof;          /* initialise with acc_proof_init; release with acc_proof_clear */
    acc_proof ref_proof;      /* of the referenced leaves; the same */
    int (*persist)(void *ctx, const cn_effects *fx); /* may be NULL */
    int (*begin)(void *ctx);  /* may be NULL: the backend's begin, with persist_ctx */
    void *persist_ctx;
} cn_forest_acc;
extern const cn_acc_methods cn_forest_acc_methods;

/* Puts a forest back where it was before the block whose effects are fx
 * (fx->spent: the leaves to restore). */
int cn_acc_forest_undo(acc_forest *f, const cn_effects *fx);

/*
 * The proof bundle of a block connected over a forest: its spent outputs
 * (copied) with their targets, the batch proof (moved out of fa: fa->proof
 * is empty afterwards), its referenced outputs with theirs and their proof
 * (moved out of fa->ref_proof), the leaf count before, the block hash (zeros with
 * CN_SEAL: set it with bp_bundle_set_block).
 */
int cn_bundle_make(utxo_bundle **out, const cn_effects *fx, cn_forest_acc *fa);

/* ---- undo records (undo.c) ---------------------------------------------------- */

/* Encodes the effects' spent outputs as an undo record (docs/STORE.md,
 * "Undo record") into a new buffer (free()). */
int cn_undo_encode(const cn_spent *v, size_t n, uint8_t **out, size_t *len);
/* Decodes an undo record; *v is a new array (free()) whose datums point
 * into buf. */
int cn_undo_decode(const uint8_t *buf, size_t len, cn_spent **v, size_t *n);

/*
 * What taking block b back means (DisconnectBlock): fx receives the
 * layout, the created outputs (to delete) and, from the undo record's
 * entries v[0..n) (borrowed), the spent outputs to restore with their leaf
 * hashes; fx->count_before = count_before. UTXO_ERR_STORE_CORRUPT when the
 * block and the record disagree.
 */
int cn_disconnect(const utxo_block *b, const cn_spent *v, size_t n, uint64_t count_before,
                  cn_effects *fx);

/* ---- the predicate stage (verifier.c) ------------------------------------------- */

/* utxo_verifier_block_known with each transaction's sighash computed by the
 * caller (sighash[t], t >= 1) and its encoded length (tx_len[t], for the
 * minimum fee; tx_len may be NULL: measured). */
int cn_verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                      const utxo_output *const *refs, const utxo_vm_result *const *known,
                      const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                      utxo_verdict *out);
/* cn_verifier_block's cheap checks alone (each transaction's values and
 * fee, the coinbase's pay-out; b has passed utxo_block_check), no
 * predicate: the verdict of the first that fails, as cn_verifier_block
 * gives it. For a caller with costlier checks of its own to run before the
 * predicates (the bundle's receipts), so that an invalid block gets the
 * same verdict with or without them. */
int cn_verifier_block_cheap(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                            const utxo_output *const *refs,
                            const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                            utxo_verdict *out);
/* utxo_verifier_tx_refs for txs[0..n) in order, with the inputs of all of
 * them on the pool at once (spent[t], refs[t] as that function takes them;
 * refs may be NULL): for a caller (the mempool) that has resolved what each
 * spends, counting the earlier ones accepted. out[t] for t < *n_ok are
 * acceptances (fees, cycles); when *n_ok < n, out[*n_ok] is the verdict of
 * the first transaction rejected, exactly as utxo_verifier_tx_refs gives
 * it, and the ones after it are not judged (out[] past it cleared).
 * Returns out[*n_ok].err, or UTXO_OK when every one passes. */
int cn_verifier_txs(utxo_verifier *v, const utxo_tx *const *txs, size_t n,
                    const utxo_output *const *spent, const utxo_output *const *refs,
                    uint32_t height, utxo_verdict *out, size_t *n_ok);
/* cn_verifier_block (known NULL) in two halves, for a caller that has
 * other work while the predicates run: _start makes the cheap checks in
 * order (a failure is the verdict: *run stays NULL, out set, its code
 * returned) and starts the block's predicate loop on the pool (*run);
 * _finish takes part in the loop, waits for its end, gives the verdict as
 * cn_verifier_block would and frees run. Between the two the pool is the
 * run's (connect.h's CN_NO_POOL); b, spent, refs, sighash and tx_len stay
 * alive. */
typedef struct cn_vrun cn_vrun;
int cn_verifier_block_start(utxo_verifier *v, const utxo_block *b,
                            const utxo_output *const *spent, const utxo_output *const *refs,
                            const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                            cn_vrun **run, utxo_verdict *out);
int cn_verifier_block_finish(utxo_verifier *v, cn_vrun *run, utxo_verdict *out);
const utxo_params *cn_verifier_params(const utxo_verifier *v);
/* fn(arg, i, worker) for every i < n on the verifier's pool (the calling
 * thread takes part; v NULL: all on the calling thread), returning when
 * all are done: the core's other per-block work spread like the
 * predicates. */
void cn_verifier_for(utxo_verifier *v, size_t n, void (*fn)(void *arg, size_t i, unsigned worker),
                     void *arg);
/* fn(arg) on the verifier's helper thread (one long-lived thread, made at
 * the first call) while the caller goes on; 0, or -1 when there is no
 * thread to be had (the caller runs fn itself). cn_verifier_join waits
 * for it; until then another spawn on v waits. The core's stage 7. */
int cn_verifier_spawn(utxo_verifier *v, void (*fn)(void *arg), void *arg);
void cn_verifier_join(utxo_verifier *v);

/* ---- the stateless validator's core side (validator.c) -------------------------- */

/* utxo_validator_apply, with the block's effects (fx, cleared by the caller
 * with cn_effects_clear) for a caller that persists more (wallet sync). */
int cn_validator_apply(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                       cn_effects *fx, utxo_verdict *out);
/* The same with cn_connect flags: CN_NO_PREDICATES advances the state by
 * the header, the rules and the accumulator step alone (a range plan
 * computing the states it claims; never a verdict on the chain). */
int cn_validator_apply_flags(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                             unsigned flags, cn_effects *fx, utxo_verdict *out);
/* Drops the check utxo_validator_apply_ahead keeps of the block it was
 * told comes next: for a caller about to free that block and bundle
 * without passing them (it stops early). The check is keyed by their
 * addresses, so objects allocated later at the same addresses would
 * otherwise be taken for them. NULL-safe. */
void cn_validator_forget_ahead(utxo_validator *v);
/* True when v holds such a check (tests). */
bool cn_validator_holds_ahead(const utxo_validator *v);

#endif /* UTXO_SRC_CONNECT_H */
