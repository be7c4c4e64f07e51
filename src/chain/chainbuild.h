/*
 * chainbuild.h — a chain builder in memory: the sequencer and bridge-node
 * side that the stateless validator needs on the other end. It keeps the
 * full accumulator forest, an in-memory UTXO set (outpoint -> output,
 * creation height, leaf position) and the tip, and turns a block's
 * transactions into a finished, signed block plus its proof bundle. Used by
 * the tests, `utxo bench stateless` and the test chain writer; the SQLite
 * bridge node does the same over its own store; both are adapters over the
 * block-connection core (src/connect/connect.h).
 * Prefix bp_chain_. Not thread-safe; one builder per thread.
 */
#ifndef UTXO_SRC_CHAINBUILD_H
#define UTXO_SRC_CHAINBUILD_H

#include "prover/blockproof.h"

typedef struct bp_chain bp_chain;

/* A builder for chain p (copied) whose sequencer secret key is sk (64-byte
 * libsodium Ed25519 key, copied; its public half must be p->sequencer_pk,
 * else UTXO_ERR_ARG). */
int bp_chain_new(bp_chain **out, const utxo_params *p, const uint8_t sk[64]) UTXO_WARN_UNUSED;
/* Frees c (wipes the key); NULL is a no-op. */
void bp_chain_free(bp_chain *c);

uint32_t bp_chain_next_height(const bp_chain *c);
const uint8_t *bp_chain_tip_hash(const bp_chain *c);  /* zeros before genesis */
acc_forest *bp_chain_forest(bp_chain *c);
size_t bp_chain_utxo_count(const bp_chain *c);

/*
 * Segment receipts in the bundles: with po2 in [UTXO_SEG_PO2_MIN,
 * UTXO_SEG_PO2_MAX], bp_chain_seal runs every input's predicate through
 * utxo_segments_prove at segments of 2^po2 cycles and attaches the receipt
 * chain of each run longer than one segment (a run with a host call larger
 * than a segment cannot be split and gets none); 0 (the default) attaches
 * none.
 * UTXO_ERR_ARG for another po2.
 */
int bp_chain_set_segments(bp_chain *c, unsigned po2) UTXO_WARN_UNUSED;

/*
 * Makes every later bp_chain_seal run the contextual rules and every
 * predicate as a validator does (on `threads` threads; 0: one per CPU),
 * refusing a block with the reason a validator gives. By default a seal
 * trusts its transactions (the mempool ran them) and checks only the
 * context-free rules, the spends and the accumulator.
 */
int bp_chain_set_verify(bp_chain *c, unsigned threads) UTXO_WARN_UNUSED;

/* An unspent output: data (valid until the next seal), height, position.
 * UTXO_ERR_TX_MISSING when op is not unspent. Fits bp_lookup_fn. */
int bp_chain_find(void *c, const utxo_outpoint *op, const utxo_output **o, uint32_t *height,
                  uint64_t *position);

/*
 * Finishes b as the next block and applies it: sets the header's version,
 * height, previous hash, tx root, accumulator digest and signature, the
 * coinbase height when tx 0 is a coinbase, and raises the time to the tip's
 * (genesis: p->genesis_time) when it is earlier; connects it through the
 * block-connection core (the context-free rules; the contextual rules and
 * predicates only after bp_chain_set_verify); proves the spends, and
 * returns the bundle (*bundle, free with utxo_bundle_free; may be NULL to
 * discard it). *bad_tx / *bad_in (may be NULL) name the input at fault.
 * On error the chain is unchanged (b may have been modified), except when
 * the forest cannot be put back after the block changed it (out of memory):
 * then this and every later seal fails with UTXO_ERR_INTERNAL.
 */
int bp_chain_seal(bp_chain *c, utxo_block *b, utxo_bundle **bundle, uint32_t *bad_tx,
                  uint32_t *bad_in) UTXO_WARN_UNUSED;

#endif /* UTXO_SRC_CHAINBUILD_H */
