/*
 * builder_int.h — internals of the transaction builder (utxo/builder.h)
 * shared by builder.c (inputs, outputs, coin selection, fee, change, the
 * final check) and builder_sign.c (signing, merging co-signers' copies,
 * builders from a finalized transaction). Prefix bld_.
 */
#ifndef UTXO_SRC_BUILDER_INT_H
#define UTXO_SRC_BUILDER_INT_H

#include "utxo/builder.h"

enum { MODE_NONE = 0, MODE_CLAIM = 1, MODE_REFUND = 2 };

/* One input or candidate coin and everything needed to sign it. */
typedef struct bin {
    utxo_outpoint op;
    utxo_output out;               /* datum owned */
    uint8_t *image;
    size_t image_len;
    int kind;                      /* enum utxo_std_kind */
    uint8_t params[4 + UTXO_STD_MULTISIG_MAX_KEYS * UTXO_PUBKEY_BYTES];
    size_t params_len;
    unsigned m, n;                 /* multisig; single-key kinds: 1, 1 */
    bool planned;                  /* args_len and budget known */
    uint32_t args_len;
    uint64_t budget;
    int mode;                      /* HTLC branch */
    uint8_t *secret;               /* hash lock / HTLC claim (owned) */
    size_t secret_len;
    bool has_secret;
    uint32_t present;              /* signatures present (bit i = key i) */
    uint8_t sigs[UTXO_STD_MULTISIG_MAX_KEYS][UTXO_SIG_BYTES];
    uint8_t *args;                 /* RSA / non-standard: set directly (owned) */
    size_t args_set_len;
    bool has_args;
    /* spent by reference to a code output (witness form 3) */
    bool by_ref;
    utxo_outpoint ref_op;
    utxo_output ref_out;           /* datum owned */
    uint8_t *ref_params;           /* owned */
    size_t ref_params_len;
} bin;

/* The outpoints of the inputs and the candidates, for the duplicate rule:
 * open addressing with linear probing, at most half full, hashed with
 * SipHash under a key drawn per builder (the outpoints are the caller's:
 * no chosen set can make the probes long). */
typedef struct bld_opset {
    utxo_outpoint *slot;
    uint8_t *used;                 /* 1 per occupied slot */
    size_t cap, n;                 /* cap a power of two, or 0 */
    uint8_t key[16];
} bld_opset;

struct utxo_builder {
    utxo_params p;
    uint32_t height;
    bin *in, *pool;
    size_t n_in, n_pool;
    size_t cap_in, cap_pool;       /* allocated entries (grown geometrically) */
    bld_opset ops;                 /* outpoints of in and pool */
    utxo_tx *outs;                 /* holds the requested outputs only */
    uint64_t in_sum, out_sum;
    bool has_change;
    uint8_t change_id[UTXO_HASH_BYTES];
    bool final;
    uint64_t fee, change;
    utxo_tx *tx;                   /* after finalize */
    uint8_t sighash[UTXO_HASH_BYTES];
    utxo_verifier *ver;
    bool full_images;              /* spend standard predicates in form IMAGE (default: TEMPLATE) */
};

/* Releases what x owns (the secret wiped) and zeroes it. */
void bld_bin_clear(bin *x);
/* Current argument bytes of x (*out malloc'd, NULL when empty). */
int bld_bin_args(const bin *x, uint8_t **out, size_t *len);
/* True when x has every signature or argument it needs. */
bool bld_bin_complete(const bin *x);
/* Writes input i's current arguments into b->tx (after finalize; its form,
 * predicate and budget are fixed by then). */
int bld_sync_witness(utxo_builder *b, uint32_t i);
/* True when witness w names x's predicate: its image (form IMAGE) or its
 * template and parameters (form TEMPLATE). */
bool bld_witness_matches(const utxo_witness *w, const bin *x);

#endif /* UTXO_SRC_BUILDER_INT_H */
