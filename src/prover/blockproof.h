/*
 * blockproof.h — internals of the block proof bundle (utxo/stateless.h):
 * its layout in memory, the block layout shared by the prover and the
 * validator (which inputs spend outputs of the same block, which outputs
 * enter the accumulator). Bundles are made by the block-connection core
 * over a forest (src/connect: cn_bundle_make). Prefix bp_. Format: docs/STATELESS.md.
 */
#ifndef UTXO_SRC_BLOCKPROOF_H
#define UTXO_SRC_BLOCKPROOF_H

#include "utxo/stateless.h"
#include "utxo/segments.h"
#include "witness/acc.h"

#define BP_VERSION UTXO_BUNDLE_VERSION

/* One spent output of an earlier block, for one input (block order). */
typedef struct bp_spent {
    uint32_t target;      /* index into proof.targets: its leaf position */
    uint32_t height;      /* height of the block that created it */
    utxo_output output;   /* owns output.datum */
} bp_spent;

/* The segment receipt chain of one input (utxo/segments.h), in order. */
typedef struct bp_receipt {
    uint32_t tx, input;
    size_t n;               /* >= 1 */
    utxo_receipt **r;       /* owned */
} bp_receipt;

struct utxo_bundle {
    uint8_t block_hash[UTXO_HASH_BYTES];
    uint64_t leaf_count;      /* accumulator leaf count before the block */
    acc_proof proof;
    size_t n_spent;           /* == proof.n_targets */
    bp_spent *spent;          /* in block input order */
    /* reference inputs: the distinct outputs the block references, in order
     * of first mention, each once, proven live before the block by ref_proof
     * (target: index into ref_proof.targets) */
    acc_proof ref_proof;
    size_t n_refs;            /* == ref_proof.n_targets */
    bp_spent *refs;
    size_t n_receipts;
    bp_receipt *receipts;     /* strictly increasing (tx, input) */
};

/* A new empty bundle (leaf count 0, no spends); NULL on OOM. */
utxo_bundle *bp_bundle_new(void);

/*
 * Where each input's spent output comes from, and which outputs the block
 * adds to the accumulator. Inputs and outputs are numbered flat across the
 * block in order (in_off[t] + i, out_off[t] + o).
 */
#define BP_EXTERNAL UINT32_MAX
typedef struct bp_src {
    uint32_t tx;    /* BP_EXTERNAL: an output of an earlier block */
    uint32_t out;   /* external: its ordinal among external inputs; else output index in tx */
} bp_src;

typedef struct bp_layout {
    uint32_t n_txs;
    uint8_t (*txids)[UTXO_HASH_BYTES];
    uint32_t *in_off;      /* n_txs + 1 */
    uint32_t *out_off;     /* n_txs + 1 */
    bp_src *src;           /* in_off[n_txs] entries */
    uint8_t *out_spent;    /* out_off[n_txs] flags: spent later in this block */
    size_t n_external;     /* inputs spending outputs of earlier blocks */
    size_t n_created;      /* outputs entering the accumulator */
} bp_layout;

/*
 * Builds the layout of b. An input whose txid names a transaction of this
 * block must spend an existing output of an earlier one (else
 * UTXO_ERR_TX_MISSING with *bad_tx, *bad_in). A double spend inside the
 * block is not detected here (utxo_block_check does). Release with
 * bp_layout_clear (also after an error).
 */
int bp_layout_build(bp_layout *L, const utxo_block *b, uint32_t *bad_tx, uint32_t *bad_in);
/* The same with the txids known: txids[t] is utxo_tx_txid of b->txs[t]
 * (NULL: computed here). */
int bp_layout_build_ids(bp_layout *L, const utxo_block *b, const uint8_t (*txids)[UTXO_HASH_BYTES],
                        uint32_t *bad_tx, uint32_t *bad_in);
void bp_layout_clear(bp_layout *L);

/* The created leaves (outpoint, output borrowed from b, height) in order
 * into out (L->n_created entries). */
void bp_layout_created(const bp_layout *L, const utxo_block *b, acc_leaf *out);

/*
 * Where a prover or a mempool finds an unspent output of an earlier block:
 * its data (borrowed until the caller returns), creation height and leaf
 * position. Returns UTXO_OK or UTXO_ERR_TX_MISSING. (Blocks are proven by
 * the block-connection core over a forest: src/connect/connect.h.)
 */
typedef int (*bp_lookup_fn)(void *ctx, const utxo_outpoint *op, const utxo_output **out,
                            uint32_t *height, uint64_t *position);

/*
 * The reference inputs of block b (docs/ENCODING.md): the distinct
 * outpoints it references, in order of first mention (tx by tx, each tx's
 * refs in order), into ops[0..*n) (a new array); for every reference of
 * the block in that flat order, the index of its outpoint in ops (*id, a
 * new array); for each distinct one, the flat position of its first
 * mention (*first, a new array). A bundle carries one entry per distinct
 * reference, in this order. UTXO_OK or UTXO_ERR_NOMEM.
 */
int bp_block_refs(const utxo_block *b, utxo_outpoint **ops, size_t *n, size_t **id,
                  size_t **first);

/* Binds bundle to block hash h. */
void bp_bundle_set_block(utxo_bundle *bundle, const uint8_t h[UTXO_HASH_BYTES]);

/* Attaches the receipt chain r[0..n) (n >= 1) of input (tx, input); the
 * bundle takes ownership of the receipts on success (the array itself stays
 * the caller's). Entries must come in strictly increasing (tx, input) order
 * (else UTXO_ERR_ARG). */
int bp_bundle_add_receipt(utxo_bundle *bundle, uint32_t tx, uint32_t input, utxo_receipt *const *r,
                          size_t n);

/* One input's receipt chain as the prover hands it over (a growing array
 * the list owns, receipts included); {NULL, 0, 0} is the empty list. */
typedef struct bp_rlist {
    utxo_receipt **r;
    size_t n, cap;
} bp_rlist;

/* A utxo_receipt_sink appending r to the bp_rlist ud, which takes r over:
 * out of memory, it frees r and returns 1 (the prover stops). */
int bp_rlist_sink(void *ud, utxo_receipt *r);
/* Frees the receipts still in l and the array; l becomes empty. */
void bp_rlist_clear(bp_rlist *l);

/*
 * The receipts a bundle carries for input (tx, input) (l empty on entry):
 * the run of img on w's arguments and budget under ctx, proven in segments
 * of 2^po2 cycles, when it takes more than one segment and its entry in
 * the bundle's encoding fits in *room bytes (which then shrink by it). It
 * gets none (l empty, UTXO_OK) when the run takes one segment; when one of
 * its host calls costs more than a whole segment (UTXO_ERR_SEG_HOSTCALL
 * from the prover: the run cannot be cut at this size); when its
 * arguments are longer than a receipt takes (UTXO_SEG_MAX_ARGS, which a
 * chain's max_args_bytes may exceed: UTXO_ERR_TOO_LARGE); or when its
 * receipts would not fit (a run sweeping its memory has witnesses of up to
 * 16 MiB per segment): proving stops there. Validators run such an input
 * directly, and a valid block always gets a bundle within
 * UTXO_BUNDLE_MAX_BYTES, holding at most that many bytes of receipts in
 * memory. Other errors as utxo_segments_prove, l empty. The one rule of
 * the chain builder (bp_chain_set_segments) and of chain_receipts_add.
 */
int bp_prove_input(bp_rlist *l, size_t *room, uint32_t tx, uint32_t input, const uint8_t *img,
                   size_t img_len, const utxo_witness *w, const utxo_txctx *ctx, unsigned po2);
/* The *room bp_prove_input starts from for bundle b (made without
 * receipts): what b may grow by and stay within UTXO_BUNDLE_MAX_BYTES. */
size_t bp_bundle_room(const utxo_bundle *b);

/* Field encoder and cursor decoder (embedding; see utxo_bundle_*_bytes). */
void bp_bundle_encode(enc *e, const utxo_bundle *b);
utxo_bundle *bp_bundle_decode(dec *d, const utxo_params *p);

#endif /* UTXO_SRC_BLOCKPROOF_H */
