/*
 * ledger_int.h — internals shared by the ledger files (src/utxo) and by the
 * modules that encode ledger objects inside their own formats (blocks in
 * block files, spent outputs in proofs). Not installed.
 */
#ifndef UTXO_SRC_LEDGER_INT_H
#define UTXO_SRC_LEDGER_INT_H

#include "utxo/ledger.h"
#include "utxo/codec.h"

/* Hash domains (BLAKE2b personalisation, <= 16 bytes each). One per use:
 * a hash of one kind can never be mistaken for a hash of another. */
#define TAG_TXID "utxo.txid"
#define TAG_WTXID "utxo.wtxid"
#define TAG_SIGHASH "utxo.sighash"
#define TAG_BLOCK "utxo.block"
#define TAG_TXLEAF "utxo.txleaf"
#define TAG_TXNODE "utxo.txnode"
#define TAG_TXROOT "utxo.txroot"
#define TAG_CHAIN "utxo.chain"

#define PARAMS_VERSION 1u

/* Field-by-field encoders (see docs/ENCODING.md). */
void tx_encode_base(enc *e, const utxo_tx *tx);
void tx_encode(enc *e, const utxo_tx *tx);
void header_encode(enc *e, const utxo_header *h, bool with_sig);
void output_encode(enc *e, const utxo_output *o);

/* Decoders: return NULL / leave zeros after recording an error in d. */
utxo_tx *tx_decode(dec *d, const utxo_params *p);
void header_decode(dec *d, utxo_header *h);

/* The sighash of a transaction whose txid is known (utxo_tx_sighash without
 * hashing the transaction again). */
void tx_sighash_of_txid(const uint8_t txid[UTXO_HASH_BYTES],
                        const uint8_t chain_id[UTXO_HASH_BYTES], uint8_t out[UTXO_HASH_BYTES]);

/* b encoded into a new buffer (*out, free it), in one pass when it fits
 * `hint` bytes (enc_to_new), lens as for block_length_lens: UTXO_OK or
 * UTXO_ERR_NOMEM. */
int block_to_new(const utxo_block *b, const size_t *lens, size_t hint, uint8_t **out,
                 size_t *len);

/* utxo_tx_txid and utxo_tx_wtxid of tx at once: the witnesses follow the
 * base encoding, so one encoding serves both hashes (two counted); *len
 * gets utxo_tx_get_length(tx, true). */
void tx_ids(const utxo_tx *tx, uint8_t txid[UTXO_HASH_BYTES], uint8_t wtxid[UTXO_HASH_BYTES],
            size_t *len);
/* utxo_tx_check and utxo_tx_min_fee for a caller that knows
 * len = utxo_tx_get_length(tx, true) (SIZE_MAX: measure it). */
int tx_check_len(const utxo_tx *tx, const utxo_params *p, size_t len, uint32_t *bad_index);
uint64_t tx_min_fee_len(const utxo_tx *tx, const utxo_params *p, size_t len);
/* utxo_block_get_length, and b encoded, for a caller that knows each
 * transaction's length: lens[t] = utxo_tx_get_length(b->txs[t], true), or
 * lens NULL. */
size_t block_length_lens(const utxo_block *b, const size_t *lens);

/* Transaction hashes (txid, wtxid, sighash: one each) computed by this
 * process so far, for the benches' hashes_per_tx. Not consensus. */
uint64_t ledger_tx_hashes(void);

/*
 * What a caller may have computed per transaction of b, in parallel,
 * before block_check_ids: for every t < b->n_txs, check[t] =
 * utxo_tx_check(b->txs[t], p, &bad[t]), leaf[t] = block_tx_leaf of its
 * wtxid and len[t] its encoded length (check with bad, and len, may be
 * NULL: computed when needed). The verdict is the same as without them.
 */
typedef struct block_pre {
    const int *check;
    const uint32_t *bad;
    const uint8_t (*leaf)[UTXO_HASH_BYTES];
    const size_t *len;   /* utxo_tx_get_length(b->txs[t], true), or NULL */
} block_pre;

/*
 * utxo_block_check and utxo_block_tx_root for a caller that has hashed
 * every transaction of b once already: txids[t] and wtxids[t] (b->n_txs
 * each) must be utxo_tx_txid and utxo_tx_wtxid of b->txs[t]; pre (or
 * NULL) the per-transaction results above.
 */
int block_check_ids(const utxo_block *b, const utxo_params *p,
                    const uint8_t (*txids)[UTXO_HASH_BYTES],
                    const uint8_t (*wtxids)[UTXO_HASH_BYTES], const block_pre *pre,
                    uint32_t *bad_tx, uint32_t *bad_index);
/* block_check_ids in three parts, for a caller that runs them side by side
 * and reports the first failure in this order: the head (header version,
 * counts, size, coinbase, each transaction's checks, cycles), the tx root
 * against the header, the tail (duplicate txids, double spends, reference
 * inputs). Each sets *bad_tx, *bad_index as block_check_ids does. */
int block_check_head(const utxo_block *b, const utxo_params *p, const block_pre *pre,
                     uint32_t *bad_tx, uint32_t *bad_index);
int block_check_tail(const utxo_block *b, const uint8_t (*txids)[UTXO_HASH_BYTES],
                     uint32_t *bad_tx, uint32_t *bad_index);
int block_tx_root_ids(uint32_t n, const uint8_t (*wtxids)[UTXO_HASH_BYTES],
                      uint8_t out[UTXO_HASH_BYTES]);
/* A transaction's leaf in the tx root, and the root over n leaves. */
void block_tx_leaf(const uint8_t wtxid[UTXO_HASH_BYTES], uint8_t out[UTXO_HASH_BYTES]);
int block_tx_root_leaves(uint32_t n, const uint8_t (*leaves)[UTXO_HASH_BYTES],
                         uint8_t out[UTXO_HASH_BYTES]);

#endif /* UTXO_SRC_LEDGER_INT_H */
