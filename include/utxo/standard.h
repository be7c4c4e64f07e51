/*
 * utxo/standard.h — the standard predicates from C: the output side (the
 * instance image, whose hash is the predicate id an output pays to) and the
 * input side (the argument bytes of a witness that spends it).
 *
 * Kinds, parameters and arguments (docs/PREDICATES.md, section 5):
 *
 *   p2pk      pk                             sig
 *   multisig  m of n keys (1 <= m <= n <= 16) bitmap u32 || m sigs in key order
 *   hashlock  h = BLAKE2b-256(secret)        secret
 *   timelock  pk, height H                   sig (valid from height H on)
 *   htlc      h, recipient pk, refund pk, H  00 || sig || secret  (claim)
 *                                            01 || sig            (refund, from H)
 *   rsa       2048-bit modulus n             s = RSASSA-PKCS1-v1_5-SHA256(sighash)
 *
 * Every signature signs the spending transaction's sighash
 * (utxo_tx_sighash); utxo_sign_sighash (utxo/keys.h) makes one.
 *
 * Buffers: images are written into the caller's buffer of out_len bytes
 * (UTXO_STD_IMAGE_MAX_BYTES is always enough), *written receives the length;
 * argument buffers have the sizes named below. On failure the outputs are
 * zeroed. Thread-safety: no shared state.
 */
#ifndef UTXO_STANDARD_H
#define UTXO_STANDARD_H

#include <stdbool.h>
#include "utxo/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Standard predicate kinds; the numbers are stable. */
enum utxo_std_kind {
    UTXO_STD_P2PK = 0,
    UTXO_STD_MULTISIG = 1,
    UTXO_STD_HASHLOCK = 2,
    UTXO_STD_TIMELOCK = 3,
    UTXO_STD_HTLC = 4,
    UTXO_STD_RSA = 5,
    UTXO_STD_NONE = -1 /* not a standard instance */
};

#define UTXO_STD_IMAGE_MAX_BYTES 1280u  /* enough for any instance (largest: multisig of 16 keys, 1030) */
#define UTXO_STD_MULTISIG_MAX_KEYS 16u
#define UTXO_RSA_BYTES 256u             /* RSA-2048 modulus, exponent or signature */
#define UTXO_HTLC_REFUND_ARGS_BYTES 65u /* 01 || sig */

/* ---- output side: instance images ---------------------------------------- */

/** Pay to an Ed25519 key. */
int utxo_std_p2pk_image(uint8_t *out, size_t out_len, size_t *written,
                        const uint8_t pk[UTXO_PUBKEY_BYTES]);
/** m of the n keys pks[0..n) (1 <= m <= n <= 16); key order matters. Keys
 * are not checked distinct: a key given twice fills two of the m slots. */
int utxo_std_multisig_image(uint8_t *out, size_t out_len, size_t *written, unsigned m, unsigned n,
                            const uint8_t (*pks)[UTXO_PUBKEY_BYTES]);
/** Whoever reveals a preimage of hash (utxo_std_secret_hash). */
int utxo_std_hashlock_image(uint8_t *out, size_t out_len, size_t *written,
                            const uint8_t hash[UTXO_HASH_BYTES]);
/** pk, from block height `height` on. */
int utxo_std_timelock_image(uint8_t *out, size_t out_len, size_t *written,
                            const uint8_t pk[UTXO_PUBKEY_BYTES], uint32_t height);
/** Hashed time-locked contract: recipient with the secret, or refund key from `height`. */
int utxo_std_htlc_image(uint8_t *out, size_t out_len, size_t *written,
                        const uint8_t hash[UTXO_HASH_BYTES],
                        const uint8_t recipient[UTXO_PUBKEY_BYTES],
                        const uint8_t refund[UTXO_PUBKEY_BYTES], uint32_t height);
/** RSA-2048 key with modulus n (256 bytes big-endian, top bit set, odd), e = 65537. */
int utxo_std_rsa_image(uint8_t *out, size_t out_len, size_t *written,
                       const uint8_t n[UTXO_RSA_BYTES]);

/** The hash a hash lock or HTLC commits to: plain BLAKE2b-256 of the secret. */
void utxo_std_secret_hash(uint8_t out[UTXO_HASH_BYTES], const uint8_t *secret, size_t len);

/**
 * Recognises a standard instance image: *kind receives its enum utxo_std_kind
 * (UTXO_STD_NONE when img is not one, then the result is UTXO_ERR_NOT_STANDARD)
 * and, when params is not NULL, the parameter bytes (at most params_len,
 * *params_written gets the length; NULL allowed when params is NULL).
 * UTXO_STD_PARAMS_MAX bytes always suffice (the largest, multisig of 16
 * keys, takes 516); a params_len too small for them is UTXO_ERR_ARG.
 */
int utxo_std_identify(int *kind, uint8_t *params, size_t params_len, size_t *params_written,
                      const uint8_t *img, size_t img_len);

/**
 * A cycle budget sufficient for spending an instance of `kind` (with m
 * signatures for multisig, a secret of secret_len bytes for hashlock and
 * htlc claims): the measured cost plus a margin (docs/WALLET.md). Returns 0
 * for an unknown kind.
 */
uint64_t utxo_std_budget(int kind, unsigned m, size_t secret_len);

/* ---- input side: witness arguments ---------------------------------------- */

/**
 * Multisig arguments from the signatures present: sigs[i] is key i's
 * signature where bit i of `present` is set (other entries unused).
 * Exactly m bits must be set for a spendable witness; with fewer the result
 * is a partial witness (same layout) that utxo_std_multisig_args_parse reads
 * back, for signers who sign separately. Writes 4 + 64 x popcount bytes.
 */
int utxo_std_multisig_args(uint8_t *out, size_t out_len, size_t *written, uint32_t present,
                           const uint8_t (*sigs)[UTXO_SIG_BYTES], unsigned n);
/**
 * Reads multisig arguments (complete or partial) for an n-key instance:
 * *present gets the bitmap and sigs[i] (n entries, caller-owned) key i's
 * signature for each set bit. UTXO_ERR_ARG when the layout is wrong.
 */
int utxo_std_multisig_args_parse(uint32_t *present, uint8_t (*sigs)[UTXO_SIG_BYTES], unsigned n,
                                 const uint8_t *args, size_t len);
/** HTLC claim: 00 || sig || secret (65 + secret_len bytes). */
int utxo_std_htlc_claim_args(uint8_t *out, size_t out_len, size_t *written,
                             const uint8_t sig[UTXO_SIG_BYTES], const uint8_t *secret,
                             size_t secret_len);
/** HTLC refund: 01 || sig. */
void utxo_std_htlc_refund_args(uint8_t out[UTXO_HTLC_REFUND_ARGS_BYTES],
                               const uint8_t sig[UTXO_SIG_BYTES]);
/**
 * RSA argument: the RSASSA-PKCS1-v1_5 SHA-256 signature of sighash with the
 * private exponent d (both n and d 256 bytes big-endian). Returns UTXO_OK,
 * UTXO_ERR_ARG (n not a 2048-bit odd modulus) or UTXO_ERR_NOMEM.
 */
int utxo_std_rsa_sign(uint8_t sig[UTXO_RSA_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                      const uint8_t n[UTXO_RSA_BYTES], const uint8_t d[UTXO_RSA_BYTES]);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_STANDARD_H */
