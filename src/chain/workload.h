/*
 * chain/workload.h — a deterministic workload generator on top of the chain
 * builder: wallets holding pay-to-pubkey coins, a genesis block allocating
 * to them, then blocks of signed payments that spend old and recent coins,
 * including chains of spends inside one block (a payment spending an output
 * of an earlier payment of the same block). The same seed gives the same
 * chain on every machine. Used by tests/test_stateless, tests/mkchain (the
 * chain writer of the CLI test) and `utxo bench stateless`. Prefix bp_gen_.
 */
#ifndef UTXO_SRC_CHAINGEN_H
#define UTXO_SRC_CHAINGEN_H

#include "chain/chainbuild.h"

typedef struct bp_gen_opts {
    uint32_t n_wallets;      /* distinct pay-to-pubkey keys (>= 1) */
    uint32_t genesis_coins;  /* outputs of the genesis coinbase (>= 1) */
    uint32_t txs_per_block;  /* payments per block */
    uint32_t max_inputs;     /* inputs per payment: 1..max_inputs (>= 1) */
    uint32_t chain_pct;      /* % of inputs spending the newest coin (often same block) */
    uint32_t recent_pct;     /* % of inputs among the newest tenth of coins */
    uint64_t budget;         /* cycle budget of each input */
    uint64_t seed;
    bool full_images;        /* spend with whole images (witness form 1), not templates (form 2) */
} bp_gen_opts;

/* Reasonable defaults: 16 wallets, 64 genesis coins, 20 payments of 1..3
 * inputs, 15% chained, 45% recent, budget 100,000, seed 1. */
void bp_gen_opts_default(bp_gen_opts *o);

typedef struct bp_gen bp_gen;

/*
 * A generator: the chain's parameters are utxo_params_default with a
 * sequencer key derived from the seed (and the chain id that follows); they
 * are copied to *params when params is not NULL.
 */
int bp_gen_new(bp_gen **out, const bp_gen_opts *o, utxo_params *params) UTXO_WARN_UNUSED;
void bp_gen_free(bp_gen *g);

/*
 * The next block, sealed, with its bundle (*blk, *bundle: the caller frees
 * them with utxo_block_free / utxo_bundle_free). The first call gives the
 * genesis block; each later one a block of payments plus a coinbase taking
 * the fees. The generator tracks its wallets' coins.
 */
int bp_gen_next(bp_gen *g, utxo_block **blk, utxo_bundle **bundle) UTXO_WARN_UNUSED;

bp_chain *bp_gen_chain(bp_gen *g);
/* The sequencer's secret key (64 bytes) and a wallet's key and p2pk image. */
const uint8_t *bp_gen_sequencer_sk(const bp_gen *g);
const uint8_t *bp_gen_wallet_sk(const bp_gen *g, uint32_t w);
const uint8_t *bp_gen_wallet_image(const bp_gen *g, uint32_t w, size_t *len);
const uint8_t *bp_gen_wallet_id(const bp_gen *g, uint32_t w);

#endif /* UTXO_SRC_CHAINGEN_H */
