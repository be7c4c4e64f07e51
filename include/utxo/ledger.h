/*
 * utxo/ledger.h — the ledger's types, canonical encoding, identifiers and
 * context-free rules.
 *
 * The byte formats are specified in docs/ENCODING.md (offset / size / meaning
 * tables with worked examples). In short: integers are little-endian, counts
 * and lengths are minimal unsigned LEB128 varints, a transaction puts all
 * witnesses after its base so that the txid hashes one prefix.
 *
 * Ownership: the structs here are plain data. A utxo_tx or utxo_block made by
 * this library (utxo_tx_new, utxo_tx_from_bytes, utxo_block_from_bytes ...)
 * owns every buffer it points to and is released with the matching _free;
 * _free(NULL) is a no-op. Do not free or realloc the inner pointers yourself:
 * use the setters, which copy their inputs.
 *
 * Thread-safety: objects are not locked; distinct objects may be used from
 * distinct threads, and a const object may be read from many threads at once.
 */
#ifndef UTXO_LEDGER_H
#define UTXO_LEDGER_H

#include <stdbool.h>
#include "utxo/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define UTXO_TX_VERSION 1u
#define UTXO_HEADER_VERSION 1u
#define UTXO_PUBKEY_BYTES 32u   /* Ed25519 public key */
#define UTXO_SIG_BYTES 64u      /* Ed25519 signature */
#define UTXO_HEADER_BYTES 176u  /* encoded header, signature included */
#define UTXO_PARAMS_BYTES 108u  /* encoded consensus parameters */
#define UTXO_OUTPOINT_BYTES 36u /* txid + index */
/** Maximum supply in base units: no value and no sum of values may exceed it. */
#define UTXO_MAX_MONEY UINT64_C(2100000000000000)

/* An output being spent: the transaction that made it and its position. */
typedef struct utxo_outpoint {
    uint8_t txid[UTXO_HASH_BYTES];
    uint32_t index;
} utxo_outpoint;

/* A coin: an amount guarded by a predicate, with optional data for it. */
typedef struct utxo_output {
    uint64_t value;
    uint8_t predicate_id[UTXO_HASH_BYTES]; /* hash of the predicate image */
    uint8_t *datum;                        /* datum_len bytes, NULL when 0 */
    uint32_t datum_len;
} utxo_output;

/*
 * Witness forms (docs/ENCODING.md, "Witness forms"): how an input names the
 * predicate of the output it spends. The form (and, for a template, its
 * index) is encoded in the transaction's base, so txid, wtxid and sighash
 * commit to it; the id check is the same in every form.
 */
#define UTXO_FORM_IMAGE 1u    /* the whole canonical image travels in the witness */
#define UTXO_FORM_TEMPLATE 2u /* a standard template (enum utxo_std_kind) + its parameters */
#define UTXO_FORM_REF 3u      /* a code output (a reference input of the tx) + parameters */
#define UTXO_STD_KINDS 6u     /* templates in the consensus table: indices 0 .. 5 */
#define UTXO_STD_PARAMS_MAX 1024u /* parameter bytes a template spend may carry (decoder bound) */

/* What an input presents to the predicate that guards the spent output. */
typedef struct utxo_witness {
    uint64_t budget;     /* most cycles the predicate may run */
    uint8_t form;        /* UTXO_FORM_*; 0 in a struct made by hand counts as IMAGE */
    uint8_t tmpl;        /* UTXO_FORM_TEMPLATE: the template's index (enum utxo_std_kind) */
    uint32_t ref;        /* UTXO_FORM_REF: index into the transaction's refs */
    uint8_t *image;      /* UTXO_FORM_IMAGE: canonical predicate image (utxo/predicate.h) */
    uint32_t image_len;
    uint8_t *params;     /* UTXO_FORM_TEMPLATE, UTXO_FORM_REF: the parameter bytes */
    uint32_t params_len;
    uint8_t *args;       /* argument bytes handed to the predicate */
    uint32_t args_len;
} utxo_witness;

typedef struct utxo_input {
    utxo_outpoint prevout;
    utxo_witness witness;
} utxo_input;

/*
 * A transaction. A coinbase has no inputs and carries the block height in
 * coinbase_height (which makes its txid unique); for any other transaction
 * coinbase_height is 0 and is not encoded.
 */
typedef struct utxo_tx {
    uint32_t version;
    uint32_t coinbase_height;
    uint32_t n_inputs;
    uint32_t n_outputs;
    utxo_input *inputs;
    utxo_output *outputs;
    /* reference inputs: outputs read, not spent (code outputs named by
     * UTXO_FORM_REF witnesses; docs/ENCODING.md). Never in a coinbase. */
    uint32_t n_refs;
    utxo_outpoint *refs;
} utxo_tx;

typedef struct utxo_header {
    uint32_t version;
    uint32_t height;
    uint8_t prev_hash[UTXO_HASH_BYTES];
    uint64_t time;                       /* seconds since the Unix epoch */
    uint8_t tx_root[UTXO_HASH_BYTES];
    uint8_t acc_digest[UTXO_HASH_BYTES]; /* accumulator digest after the block */
    uint8_t sig[UTXO_SIG_BYTES];         /* sequencer's Ed25519 signature of the block hash */
} utxo_header;

typedef struct utxo_block {
    utxo_header header;
    uint32_t n_txs;
    utxo_tx **txs;       /* n_txs transactions, owned by the block */
} utxo_block;

/*
 * Consensus parameters, fixed at genesis. chain_id is not encoded: it is the
 * hash of the encoded parameters (utxo_params_chain_id) and every sighash
 * commits to it, so a signature is valid on one chain only.
 */
typedef struct utxo_params {
    uint8_t chain_id[UTXO_HASH_BYTES];
    uint8_t sequencer_pk[UTXO_PUBKEY_BYTES];
    uint32_t max_tx_bytes;     /* encoded transaction, witnesses included */
    uint32_t max_block_bytes;  /* encoded block */
    uint32_t max_block_txs;
    uint32_t max_inputs;       /* per transaction */
    uint32_t max_outputs;      /* per transaction */
    uint32_t max_datum_bytes;
    uint32_t max_image_bytes;
    uint32_t max_args_bytes;
    uint64_t max_tx_cycles;    /* sum of the input budgets of one transaction */
    uint64_t max_block_cycles; /* sum over a block */
    uint64_t fee_per_byte;     /* base units per encoded byte */
    uint64_t fee_per_kcycle;   /* base units per 1024 cycles of budget, rounded up */
    uint64_t genesis_time;
} utxo_params;

/**
 * Fills p with the default limits and fee rates (docs/ENCODING.md lists
 * them), a zero sequencer key and the chain id that follows from them.
 */
void utxo_params_default(utxo_params *p);

/** Recomputes p->chain_id from the other fields. */
void utxo_params_chain_id(utxo_params *p);

/**
 * Encodes p into out (UTXO_PARAMS_BYTES, caller-owned). Decoding checks the
 * version, that no limit is zero and that no limit exceeds the hard caps
 * below; it sets p->chain_id. err_offset (may be NULL) receives the offset of
 * the failing byte.
 */
void utxo_params_to_bytes(uint8_t out[UTXO_PARAMS_BYTES], const utxo_params *p);
UTXO_WARN_UNUSED int utxo_params_from_bytes(utxo_params *p, const uint8_t *in, size_t len,
                                            size_t *err_offset);

/* Hard caps that no parameter set may exceed (they bound decoder allocation). */
#define UTXO_CAP_TX_BYTES (16u << 20)
#define UTXO_CAP_BLOCK_BYTES (256u << 20)
#define UTXO_CAP_COUNT 65536u

/* ---- transactions ---------------------------------------------------- */

/** A new, empty transaction (version 1, no inputs or outputs); NULL on OOM. */
utxo_tx *utxo_tx_new(void);
/** Frees tx and everything it owns; NULL is a no-op. */
void utxo_tx_free(utxo_tx *tx);
/** A deep copy, or NULL on OOM. */
utxo_tx *utxo_tx_clone(const utxo_tx *tx);

/**
 * Appends an input spending prevout; image and args are copied (either may be
 * NULL with length 0). Returns UTXO_OK, UTXO_ERR_NOMEM or UTXO_ERR_ARG.
 */
int utxo_tx_add_input(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                      const uint8_t *image, uint32_t image_len,
                      const uint8_t *args, uint32_t args_len);
/** Replaces the witness of input i (copies image and args; form IMAGE). */
int utxo_tx_set_witness(utxo_tx *tx, uint32_t i, uint64_t budget,
                        const uint8_t *image, uint32_t image_len,
                        const uint8_t *args, uint32_t args_len);
/**
 * Appends an input in the compact form UTXO_FORM_TEMPLATE: standard template
 * `tmpl` (enum utxo_std_kind, < UTXO_STD_KINDS) with its parameter bytes
 * (1 .. UTXO_STD_PARAMS_MAX; copied, as are args). Whether the parameters
 * suit the template is a validation rule (UTXO_ERR_TX_TEMPLATE_PARAMS), not
 * checked here. Returns UTXO_OK, UTXO_ERR_NOMEM or UTXO_ERR_ARG.
 */
int utxo_tx_add_input_template(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                               unsigned tmpl, const uint8_t *params, uint32_t params_len,
                               const uint8_t *args, uint32_t args_len);
/** Replaces the witness of input i by a template spend (as above). */
int utxo_tx_set_witness_template(utxo_tx *tx, uint32_t i, uint64_t budget, unsigned tmpl,
                                 const uint8_t *params, uint32_t params_len,
                                 const uint8_t *args, uint32_t args_len);
/**
 * The index of reference input op in tx (*index), appended when tx does not
 * list it yet: an output the transaction reads (a code output) without
 * spending it (a coinbase may list none: utxo_tx_check). Returns UTXO_OK,
 * UTXO_ERR_NOMEM or UTXO_ERR_ARG.
 */
int utxo_tx_add_ref(utxo_tx *tx, const utxo_outpoint *op, uint32_t *index);
/**
 * Appends an input in the form UTXO_FORM_REF: its predicate is the code
 * held in the datum of reference input `ref` (utxo_tx_add_ref) with
 * parameter bytes params (0 .. max_args_bytes; copied, as are args).
 * Returns UTXO_OK, UTXO_ERR_NOMEM or UTXO_ERR_ARG (ref not listed).
 */
int utxo_tx_add_input_ref(utxo_tx *tx, const utxo_outpoint *prevout, uint64_t budget,
                          uint32_t ref, const uint8_t *params, uint32_t params_len,
                          const uint8_t *args, uint32_t args_len);
/**
 * Replaces only the arguments of input i (copied), keeping its form,
 * predicate and budget: for signing, which cannot change the txid.
 */
int utxo_tx_set_args(utxo_tx *tx, uint32_t i, const uint8_t *args, uint32_t args_len);
/** Appends an output; datum is copied (may be NULL with length 0). */
int utxo_tx_add_output(utxo_tx *tx, uint64_t value, const uint8_t predicate_id[UTXO_HASH_BYTES],
                       const uint8_t *datum, uint32_t datum_len);

/** True when tx is a coinbase (no inputs). */
bool utxo_tx_is_coinbase(const utxo_tx *tx);

/** Encoded length of tx with witnesses (with_witness) or of its base only. */
size_t utxo_tx_get_length(const utxo_tx *tx, bool with_witness);

/**
 * Encodes tx (with witnesses) into out, caller-owned, of out_len bytes;
 * *written receives the length. UTXO_ERR_ARG when out_len is too small (then
 * nothing useful is in out; ask utxo_tx_get_length first).
 */
int utxo_tx_to_bytes(const utxo_tx *tx, uint8_t *out, size_t out_len, size_t *written);

/**
 * Decodes exactly len bytes into a new transaction (*out, free with
 * utxo_tx_free). Strict: truncated input, trailing bytes, a non-minimal
 * varint, an unknown version, or a count or length above the limits of p
 * (NULL: utxo_params_default) is an error; *out is then NULL and *err_offset
 * (may be NULL) holds the offset of the byte where decoding failed.
 */
UTXO_WARN_UNUSED int utxo_tx_from_bytes(utxo_tx **out, const uint8_t *in, size_t len,
                                        const utxo_params *p, size_t *err_offset);

/** txid: BLAKE2b-256 of the base encoding (no witnesses), tag "utxo.txid". */
void utxo_tx_txid(const utxo_tx *tx, uint8_t out[UTXO_HASH_BYTES]);
/** wtxid: BLAKE2b-256 of the full encoding, tag "utxo.wtxid". */
void utxo_tx_wtxid(const utxo_tx *tx, uint8_t out[UTXO_HASH_BYTES]);
/**
 * The message every input's signature signs: BLAKE2b-256 with tag
 * "utxo.sighash" of chain_id || txid. Through the txid it commits to every
 * outpoint and every output.
 */
void utxo_tx_sighash(const utxo_tx *tx, const uint8_t chain_id[UTXO_HASH_BYTES],
                     uint8_t out[UTXO_HASH_BYTES]);

/**
 * Context-free transaction rules (no UTXO set needed): version; a non-coinbase
 * spends at least one output; at least one output; counts, datum, image and
 * argument sizes and the encoded size within p; no outpoint twice; every
 * value and the sum of outputs at most UTXO_MAX_MONEY; every input has a
 * predicate image; the sum of budgets within max_tx_cycles.
 * Returns UTXO_OK or the first violated rule; *bad_index (may be NULL)
 * receives the offending input or output index (0 when not applicable).
 */
UTXO_WARN_UNUSED int utxo_tx_check(const utxo_tx *tx, const utxo_params *p, uint32_t *bad_index);

/** The least fee tx must pay under p: size and cycle price (saturating). */
uint64_t utxo_tx_min_fee(const utxo_tx *tx, const utxo_params *p);

/* ---- headers and blocks ---------------------------------------------- */

void utxo_header_to_bytes(const utxo_header *h, uint8_t out[UTXO_HEADER_BYTES]);
UTXO_WARN_UNUSED int utxo_header_from_bytes(utxo_header *h, const uint8_t *in, size_t len,
                                            size_t *err_offset);
/** Block hash: BLAKE2b-256 of the header without its signature, tag "utxo.block". */
void utxo_header_hash(const utxo_header *h, uint8_t out[UTXO_HASH_BYTES]);
/** Signs h (sets h->sig) with a libsodium Ed25519 secret key (64 bytes). */
int utxo_header_sign(utxo_header *h, const uint8_t sk[64]);
/** UTXO_OK when h->sig is the key's signature of the block hash, else UTXO_ERR_BLOCK_SIG. */
UTXO_WARN_UNUSED int utxo_header_verify(const utxo_header *h, const uint8_t pk[UTXO_PUBKEY_BYTES]);

/** A new block with header zeroed and no transactions; NULL on OOM. */
utxo_block *utxo_block_new(void);
void utxo_block_free(utxo_block *b);
/** Appends tx; on success the block owns it (do not free it yourself). */
int utxo_block_add_tx(utxo_block *b, utxo_tx *tx);

/**
 * Tx root: a binary Merkle tree over the wtxids (tags "utxo.txleaf",
 * "utxo.txnode"; an odd node is carried up unchanged, never duplicated)
 * sealed with the count (tag "utxo.txroot"). Committing to wtxids binds the
 * witnesses to the header.
 */
int utxo_block_tx_root(const utxo_block *b, uint8_t out[UTXO_HASH_BYTES]);

size_t utxo_block_get_length(const utxo_block *b);
int utxo_block_to_bytes(const utxo_block *b, uint8_t *out, size_t out_len, size_t *written);
/** Strict decoding, as utxo_tx_from_bytes; free the result with utxo_block_free. */
UTXO_WARN_UNUSED int utxo_block_from_bytes(utxo_block **out, const uint8_t *in, size_t len,
                                           const utxo_params *p, size_t *err_offset);

/**
 * Context-free block rules: header version; at least one tx; the first is the
 * only coinbase and commits to header.height; every tx passes utxo_tx_check;
 * size, tx count and total cycle budget within p; tx root matches; no txid
 * twice; no outpoint spent twice in the block. Signature, previous hash and
 * accumulator digest need the chain state and are checked by the validator.
 * *bad_tx (may be NULL) receives the offending transaction index and
 * *bad_index the input/output index within it.
 */
UTXO_WARN_UNUSED int utxo_block_check(const utxo_block *b, const utxo_params *p,
                                      uint32_t *bad_tx, uint32_t *bad_index);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_LEDGER_H */
