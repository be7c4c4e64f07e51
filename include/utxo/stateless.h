/*
 * utxo/stateless.h — block proof bundles and the stateless validator.
 *
 * A stateless validator keeps only the chain tip (next height, block hash,
 * time), the consensus parameters and the UTXO accumulator's roots and leaf
 * count: a few hundred bytes, at most 2,137 (docs/STATELESS.md). It checks a
 * block with the block's proof bundle, made by a node that keeps the full
 * accumulator forest: the batch proof that the spent outputs are in the
 * accumulator, the spent outputs' data, and the segment receipts of long
 * predicate runs. Formats and the validation order are in docs/STATELESS.md.
 *
 * Ownership: utxo_bundle and utxo_validator are opaque objects made by this
 * library and released with their _free (NULL is a no-op). Blocks and byte
 * buffers passed in are borrowed for the duration of the call.
 * Thread-safety: one validator is used by one thread at a time (it runs its
 * own worker threads for predicates); a const bundle may be read from many
 * threads.
 */
#ifndef UTXO_STATELESS_H
#define UTXO_STATELESS_H

#include "utxo/validate.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bundle format version (the first byte of an encoded bundle). */
#define UTXO_BUNDLE_VERSION 1u

/** Largest encoded validator state: the tip (81 bytes with magic, version
 * and chain id) plus the accumulator (8 + 64 roots of 32 bytes). In practice
 * 89 + 32 x popcount(leaf count) bytes: at most 2,041 below 2^61 leaves. */
#define UTXO_VALIDATOR_STATE_MAX_BYTES (81u + 8u + 64u * 32u)

/* ---- block proof bundles ---------------------------------------------- */

/** The proof material for one block (opaque). */
typedef struct utxo_bundle utxo_bundle;

/**
 * Decodes exactly len bytes into a new bundle (*out; free with
 * utxo_bundle_free). Strict: unknown version, truncated or trailing bytes,
 * non-minimal varints, a malformed accumulator proof, spent entries that do
 * not map one to one onto the proof's targets, datums over p's limit (p NULL:
 * utxo_params_default), receipt entries out of order or empty, a receipt
 * that does not decode strictly: each is an error;
 * then *out is NULL and *err_offset (may be NULL) holds the offset of the
 * failing byte. Allocation is bounded by a small multiple of len.
 */
UTXO_WARN_UNUSED int utxo_bundle_from_bytes(utxo_bundle **out, const uint8_t *in, size_t len,
                                            const utxo_params *p, size_t *err_offset);
/** Encoded length of b. */
size_t utxo_bundle_get_length(const utxo_bundle *b);
/** Encodes b into out (caller-owned, out_len bytes); *written gets the
 * length. UTXO_ERR_ARG when out_len is too small. */
int utxo_bundle_to_bytes(const utxo_bundle *b, uint8_t *out, size_t out_len, size_t *written);
void utxo_bundle_free(utxo_bundle *b);

/** What a bundle holds, for display. */
typedef struct utxo_bundle_info {
    uint8_t block_hash[UTXO_HASH_BYTES]; /* the block it proves */
    uint64_t leaf_count;                 /* accumulator leaf count before the block */
    uint32_t n_spent;                    /* spent outputs proven (outputs of earlier blocks) */
    uint32_t n_receipts;                 /* inputs with segment receipts */
    size_t proof_bytes;                  /* encoded accumulator proof */
    uint32_t n_refs;                     /* referenced outputs proven (reference inputs) */
    size_t ref_proof_bytes;              /* their encoded accumulator proof (0: none) */
} utxo_bundle_info;
void utxo_bundle_get_info(const utxo_bundle *b, utxo_bundle_info *info);

/* ---- the stateless validator ------------------------------------------ */

typedef struct utxo_validator utxo_validator;

/**
 * A validator for chain parameters p (copied) before its genesis block,
 * running predicates on `threads` threads (0: one per online CPU). NULL on
 * out-of-memory or a NULL p.
 */
utxo_validator *utxo_validator_new(const utxo_params *p, unsigned threads);
void utxo_validator_free(utxo_validator *v);

/**
 * Checks block b (height = the validator's next height) against its bundle
 * and, when valid, advances the tip and the accumulator. In order: header
 * height, previous hash (zeros for genesis) and time (not before the tip's;
 * genesis: not before p->genesis_time); the sequencer signature; the bundle
 * names this block and the validator's leaf count; the context-free block
 * rules; every input's spent output, from the block itself (outputs of
 * earlier transactions of the block) or from the bundle (one entry per other
 * input, in block order); the batch proof of those against the roots, then
 * the deletion of the spent leaves and the addition of the new outputs (those
 * not spent in the block); the segment receipt chains of the bundle, each
 * proving its input's run (utxo/segments.h); the contextual rules and every
 * other predicate (on the thread pool); the new accumulator digest against
 * header.acc_digest.
 * Returns out->err (UTXO_OK when valid); out->tx / out->input name the
 * offending transaction and input when there is one (docs/STATELESS.md says
 * which for each code). On any error the validator is unchanged.
 * out may be NULL.
 */
int utxo_validator_apply(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                         utxo_verdict *out);

/**
 * utxo_validator_apply(v, b, bundle, out), told which block comes next:
 * next and next_bundle (both NULL, or the block and bundle the caller will
 * most likely pass to the following call) let the validator check next's
 * serial stages (header, rules, layout, spent outputs, proof and digest)
 * while b's predicates run on the pool, against the state b would leave.
 * The result is kept for that following call, which uses it only when it
 * gets the same two objects (same addresses, unchanged meanwhile) on the
 * state it was made for, and otherwise checks from scratch. The verdict
 * and the state after each call are exactly those of utxo_validator_apply;
 * only the time differs. The caller keeps next and next_bundle alive and
 * unchanged until the following call returns (or until it frees v).
 */
int utxo_validator_apply_ahead(utxo_validator *v, const utxo_block *b, const utxo_bundle *bundle,
                               const utxo_block *next, const utxo_bundle *next_bundle,
                               utxo_verdict *out);

/** The next block height expected (0 before genesis). */
uint32_t utxo_validator_next_height(const utxo_validator *v);
/** The tip's block hash (zeros before genesis) into out. */
void utxo_validator_tip_hash(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES]);
/** Accumulator leaf count (outputs ever added). */
uint64_t utxo_validator_leaf_count(const utxo_validator *v);
/**
 * The accumulator's roots, largest tree first, as in the state encoding
 * (roots of fully spent trees are zeros): writes min(n, root count) roots to
 * roots (caller-owned, n x 32 bytes) and returns the root count.
 */
unsigned utxo_validator_roots(const utxo_validator *v, uint8_t (*roots)[UTXO_HASH_BYTES],
                              unsigned n);
/** The accumulator digest (what header.acc_digest of the tip holds). */
void utxo_validator_acc_digest(const utxo_validator *v, uint8_t out[UTXO_HASH_BYTES]);

/**
 * The validator's whole state as bytes (docs/STATELESS.md): magic, version,
 * chain id, tip, accumulator. _get_length gives the exact size (at most
 * UTXO_VALIDATOR_STATE_MAX_BYTES); _to_bytes writes into out (caller-owned).
 */
size_t utxo_validator_state_get_length(const utxo_validator *v);
int utxo_validator_state_to_bytes(const utxo_validator *v, uint8_t *out, size_t out_len,
                                  size_t *written);
/**
 * A utxo_record_check (utxo/blockfile.h) for proof files: decodes
 * prefix[0..have) of a bundle record of len bytes as far as it goes, with
 * params (a const utxo_params *, the file's); returns UTXO_OK when the
 * prefix may still begin a good bundle, else the decoding error (a complete
 * bundle shorter than the record: UTXO_ERR_TRAILING). Set it on a proof
 * file with utxo_chainfile_set_check(f, utxo_bundle_check_prefix, &params).
 */
int utxo_bundle_check_prefix(const uint8_t *prefix, size_t have, size_t len, void *params);

/**
 * A validator resuming from state bytes for chain p (the state's chain id
 * must be p's: else UTXO_ERR_FILE_CHAIN). Strict decoding: exactly len
 * bytes, canonical accumulator encoding, a pre-genesis state with zero hash,
 * time and leaf count. *out is NULL on error and *err_offset (may be NULL)
 * receives the failing offset.
 */
UTXO_WARN_UNUSED int utxo_validator_from_state(utxo_validator **out, const utxo_params *p,
                                               const uint8_t *state, size_t len, unsigned threads,
                                               size_t *err_offset);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_STATELESS_H */
