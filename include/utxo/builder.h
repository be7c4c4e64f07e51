/*
 * utxo/builder.h — the transaction builder: inputs and outputs, coin
 * selection, the fee from the chain's fee rates, change, the dust rule,
 * signing (each signer separately, partial multisig signatures merged) and
 * a final check by the validator (utxo_verifier_tx), so that it never hands
 * out a transaction the validator would reject.
 *
 * Life cycle:
 *   1. utxo_builder_new; add inputs (spent for sure), candidate coins (spent
 *      only if needed), outputs and the change predicate id; for hash locks
 *      and HTLCs say how each is spent (utxo_builder_set_secret /
 *      utxo_builder_set_refund); for other predicates utxo_builder_set_plan.
 *   2. utxo_builder_finalize: selects coins, fixes the fee and the change.
 *      The transaction's base (hence txid and sighash) is now fixed.
 *   3. utxo_builder_sign with each key (any order, any builder holding the
 *      same transaction: see utxo_builder_from_tx and utxo_builder_merge).
 *   4. utxo_builder_check runs the validator; utxo_builder_to_bytes and
 *      utxo_builder_get_tx hand out the transaction only when it passes.
 *
 * Rules (docs/WALLET.md, "Builder rules"):
 *   fee     exactly utxo_tx_min_fee of the final transaction (size with
 *           every witness at its final length, plus the cycle price of the
 *           budgets), plus any change below the dust threshold;
 *   change  inputs - outputs - fee, paid to the change id when it is at
 *           least the dust threshold; smaller change is left to the fee; an
 *           excess of at least the dust threshold without a change id is
 *           refused (UTXO_ERR_BUILDER_STATE), and so is one that a change
 *           output would not fit (the count or size limit's error): value
 *           is never silently given away;
 *   dust    utxo_dust_threshold(p): the fee a pay-to-pubkey input costs to
 *           spend. An output below it is refused (UTXO_ERR_DUST);
 *   overflow  every value and every sum at most UTXO_MAX_MONEY
 *           (UTXO_ERR_TX_VALUE), checked as values are added;
 *   coins   candidates are taken largest value first (ties: smaller
 *           outpoint) until the outputs and the fee are covered.
 *
 * Ownership: the builder copies everything it is given; utxo_builder_tx
 * returns a pointer into the builder (valid until the next call on it);
 * utxo_builder_get_tx returns a new transaction the caller frees.
 * Thread-safety: a builder is used by one thread at a time; distinct
 * builders are independent.
 */
#ifndef UTXO_BUILDER_H
#define UTXO_BUILDER_H

#include "utxo/validate.h"
#include "utxo/keys.h"
#include "utxo/standard.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An output that can be spent, with the image of its predicate. */
typedef struct utxo_coin {
    utxo_outpoint outpoint;
    utxo_output output;       /* value, predicate id and datum (borrowed) */
    const uint8_t *image;     /* the predicate image: must hash to output.predicate_id */
    size_t image_len;
} utxo_coin;

typedef struct utxo_builder utxo_builder;

/**
 * A builder for chain parameters p (copied) and a transaction meant for the
 * block at `height` (time locks and the final check use it). NULL on
 * out-of-memory or a NULL p. Free with utxo_builder_free (NULL: no-op).
 */
utxo_builder *utxo_builder_new(const utxo_params *p, uint32_t height);
/** Frees b and what it holds (secrets wiped); NULL is a no-op. */
void utxo_builder_free(utxo_builder *b);
/**
 * How inputs name standard predicates: by default by their template and
 * parameters (the compact witness form 2, docs/ENCODING.md); with full
 * set, by their whole image (form 1, larger and dearer). Other predicates
 * always travel as images. UTXO_ERR_BUILDER_STATE after finalize.
 */
int utxo_builder_set_full_images(utxo_builder *b, bool full);

/**
 * Spends input `index` (utxo_builder_add_input; its coin's image is the
 * predicate) in witness form 3 (docs/ENCODING.md): by reference to the code
 * output code_op (its output `code`, copied: a confirmed, unspent output
 * whose datum holds an image) with parameter bytes params (copied; none:
 * the datum is the whole image). The transaction lists code_op as a
 * reference input; inputs sharing a code output share the reference.
 * UTXO_ERR_ARG when the datum with params does not make the coin's image
 * (or is no image: UTXO_ERR_TX_REF_CODE), UTXO_ERR_TX_REF_SPENT when
 * code_op is the input itself, UTXO_ERR_BUILDER_STATE after finalize.
 */
int utxo_builder_use_code(utxo_builder *b, uint32_t index, const utxo_outpoint *code_op,
                          const utxo_output *code, const uint8_t *params, size_t params_len);

/** The dust threshold of p: the fee of one pay-to-pubkey input. */
uint64_t utxo_dust_threshold(const utxo_params *p);

/**
 * Adds c as an input (copied). Standard instances are recognised from the
 * image; other predicates need utxo_builder_set_plan before finalize.
 * Errors: UTXO_ERR_ARG (image does not hash to the predicate id, or NULL),
 * UTXO_ERR_TX_DUP_INPUT (the outpoint is an input or a candidate coin
 * already), UTXO_ERR_TX_VALUE (the inputs' sum would exceed
 * UTXO_MAX_MONEY), UTXO_ERR_BUILDER_STATE (after finalize), UTXO_ERR_NOMEM.
 * *index (may be NULL) receives the input's index.
 */
int utxo_builder_add_input(utxo_builder *b, const utxo_coin *c, uint32_t *index);
/**
 * Offers c to coin selection (copied): spent only when the inputs do not
 * cover the outputs and the fee. Only p2pk, timelock (when height allows)
 * and multisig coins are eligible: they need no secret. Same errors.
 */
int utxo_builder_add_coin(utxo_builder *b, const utxo_coin *c);
/**
 * Appends an output (datum copied). UTXO_ERR_DUST below the dust threshold,
 * UTXO_ERR_TX_VALUE when the value or the outputs' sum exceeds
 * UTXO_MAX_MONEY, UTXO_ERR_TX_DATUM for a datum over p's limit.
 */
int utxo_builder_add_output(utxo_builder *b, uint64_t value, const uint8_t id[UTXO_HASH_BYTES],
                            const uint8_t *datum, uint32_t datum_len);
/** Where change goes (a predicate id, e.g. a fresh address of the wallet). */
int utxo_builder_set_change(utxo_builder *b, const uint8_t id[UTXO_HASH_BYTES]);
/**
 * Input `index` (a hash lock, or an HTLC claimed by its recipient) reveals
 * secret (copied). UTXO_ERR_ARG when the secret does not hash to the
 * lock's hash, or the input is another kind.
 */
int utxo_builder_set_secret(utxo_builder *b, uint32_t index, const uint8_t *secret, size_t len);
/** Input `index`, an HTLC, is spent by its refund branch. */
int utxo_builder_set_refund(utxo_builder *b, uint32_t index);
/**
 * For a non-standard (or RSA) input: its argument length and cycle budget,
 * which the fee depends on. The arguments themselves come later with
 * utxo_builder_set_args.
 */
int utxo_builder_set_plan(utxo_builder *b, uint32_t index, uint32_t args_len, uint64_t budget);

/**
 * Selects coins, computes the fee and the change (the rules above) and
 * fixes the transaction's base. Errors: UTXO_ERR_FUNDS (with
 * utxo_builder_fee holding the fee the attempt needed), UTXO_ERR_TX_NO_OUTPUTS,
 * UTXO_ERR_TX_NO_INPUTS, UTXO_ERR_BUILDER_STATE (an input without a plan,
 * or change without a change id), a utxo_tx_check error, UTXO_ERR_NOMEM.
 */
int utxo_builder_finalize(utxo_builder *b);

/** The fee, the change paid (0 when none) and the sighash, after finalize. */
uint64_t utxo_builder_fee(const utxo_builder *b);
uint64_t utxo_builder_change(const utxo_builder *b);
int utxo_builder_sighash(const utxo_builder *b, uint8_t out[UTXO_HASH_BYTES]);

/**
 * Signs every input that the key sk (64-byte libsodium secret key) can
 * sign and that still needs it: p2pk, timelock, HTLC claim (recipient) or
 * refund, and one multisig slot per matching key until m are present.
 * *n_signed (may be NULL) receives the count. UTXO_ERR_NO_KEY when the key
 * signs nothing; UTXO_ERR_BUILDER_STATE before finalize.
 */
int utxo_builder_sign(utxo_builder *b, const uint8_t sk[UTXO_SECRETKEY_BYTES], unsigned *n_signed);
/**
 * Sets the argument bytes of input `index` directly (copied), for RSA and
 * non-standard predicates: their length must be the planned one.
 */
int utxo_builder_set_args(utxo_builder *b, uint32_t index, const uint8_t *args, size_t len);
/**
 * Takes the signatures another signer added to its copy of this
 * transaction: other must have the same txid. Multisig signatures missing
 * here are added (each verified first, UTXO_ERR_SIGNATURE if one fails),
 * up to m; unsigned inputs take the other's arguments when they verify.
 * UTXO_ERR_MISMATCH for another transaction.
 */
int utxo_builder_merge(utxo_builder *b, const utxo_tx *other);

/**
 * A builder holding a finalized transaction made elsewhere (unsigned or
 * partly signed), for a co-signer: coins[i] is what input i spends
 * (n_coins == tx->n_inputs, in order). The transaction is taken as is (its
 * fee is whatever its inputs and outputs leave). *out is NULL on error.
 */
int utxo_builder_from_tx(utxo_builder **out, const utxo_params *p, uint32_t height,
                         const utxo_tx *tx, const utxo_coin *coins, size_t n_coins);

/** True when every input has its arguments (all signatures present). */
bool utxo_builder_complete(const utxo_builder *b);

/**
 * Runs the validator (utxo_verifier_tx at the builder's height, one
 * thread) on the transaction. UTXO_ERR_UNSIGNED when an input still lacks
 * arguments; otherwise the validator's verdict (also in *out, may be NULL),
 * e.g. UTXO_ERR_TX_REJECTED with the input and the predicate's exit code.
 */
int utxo_builder_check(utxo_builder *b, utxo_verdict *out);

/**
 * The transaction as it stands (finalized, maybe partly signed), to pass
 * to co-signers: borrowed, valid until the next call on b; NULL before
 * finalize.
 */
const utxo_tx *utxo_builder_tx(const utxo_builder *b);
/**
 * The finished transaction: utxo_builder_check must pass (else its error).
 * _get_tx returns a new copy (*out, utxo_tx_free); _to_bytes encodes it into
 * out (caller-owned, out_len bytes; _get_length gives the size, 0 before
 * finalize) with *written the length.
 */
int utxo_builder_get_tx(utxo_builder *b, utxo_tx **out);
size_t utxo_builder_get_length(const utxo_builder *b);
int utxo_builder_to_bytes(utxo_builder *b, uint8_t *out, size_t out_len, size_t *written);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_BUILDER_H */
