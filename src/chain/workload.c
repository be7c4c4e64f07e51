/*
 * chain/workload.c — the deterministic payment workload (chain/workload.h). Coins live
 * in one array in creation order (spent ones are swap-removed, which keeps
 * the tail roughly the newest); each input is the newest coin (a chain of
 * spends, usually inside the block being built), a recent one or any one,
 * as the options say. A payment pays one wallet and returns the change to
 * another, with exactly the minimum fee; the coinbase collects the fees.
 * Keys are derived from the seed, so a seed names a whole chain.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "chain/workload.h"
#include "predicates/stdpred.h"
#include "utxo/ledger_int.h"
#include "utxo/splitmix.h"

#define GEN_SIG_BYTES 64u
#define GEN_ALLOC UINT64_C(1000000000000) /* per genesis coin */
/* Coins below this stay unspent: a payment always covers its fee. */
#define GEN_DUST UINT64_C(1000000)

typedef struct gen_wallet {
    uint8_t pk[32], sk[64];
    uint8_t *img;
    size_t img_len;
    uint8_t id[UTXO_HASH_BYTES];
} gen_wallet;

typedef struct gen_coin {
    utxo_outpoint op;
    uint64_t value;
    uint32_t owner;
} gen_coin;

struct bp_gen {
    bp_gen_opts o;
    utxo_params params;
    uint8_t seq_sk[64];
    bp_chain *chain;
    gen_wallet *w;
    gen_coin *coins;
    size_t n_coins, cap_coins;
    uint64_t rng;
};

void bp_gen_opts_default(bp_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_wallets = 16;
    o->genesis_coins = 64;
    o->txs_per_block = 20;
    o->max_inputs = 3;
    o->chain_pct = 15;
    o->recent_pct = 45;
    o->budget = 100000;
    o->seed = 1;
}

static uint64_t gen_rand(bp_gen *g)
{
    return splitmix64(&g->rng);
}

/* A key pair from H("utxo.gen", seed || what || index). */
static void derive_key(uint8_t pk[32], uint8_t sk[64], uint64_t seed, uint32_t what, uint32_t i)
{
    uint8_t in[16], s[UTXO_HASH_BYTES];

    put_u64le(in, seed);
    put_u32le(in + 8, what);
    put_u32le(in + 12, i);
    hash_tagged(s, "utxo.gen", in, sizeof in);
    crypto_sign_seed_keypair(pk, sk, s);
    sodium_memzero(s, sizeof s);
}

static int coin_push(bp_gen *g, const uint8_t txid[UTXO_HASH_BYTES], uint32_t index,
                     uint64_t value, uint32_t owner)
{
    if (value < GEN_DUST)
        return UTXO_OK;
    if (g->n_coins == g->cap_coins) {
        size_t cap = g->cap_coins ? 2 * g->cap_coins : 256;
        gen_coin *c = realloc(g->coins, cap * sizeof *c);
        if (c == NULL)
            return UTXO_ERR_NOMEM;
        g->coins = c;
        g->cap_coins = cap;
    }
    memcpy(g->coins[g->n_coins].op.txid, txid, UTXO_HASH_BYTES);
    g->coins[g->n_coins].op.index = index;
    g->coins[g->n_coins].value = value;
    g->coins[g->n_coins].owner = owner;
    g->n_coins++;
    return UTXO_OK;
}

int bp_gen_new(bp_gen **out, const bp_gen_opts *o, utxo_params *params)
{
    bp_gen *g;
    uint8_t pk[32];
    int rc = UTXO_ERR_NOMEM;

    if (out != NULL)
        *out = NULL;
    if (out == NULL || o == NULL || o->n_wallets == 0 || o->genesis_coins == 0 ||
        o->max_inputs == 0 || o->chain_pct + o->recent_pct > 100)
        return UTXO_ERR_ARG;
    if ((g = calloc(1, sizeof *g)) == NULL)
        return UTXO_ERR_NOMEM;
    g->o = *o;
    g->rng = o->seed;
    utxo_params_default(&g->params);
    derive_key(pk, g->seq_sk, o->seed, 0, 0);
    memcpy(g->params.sequencer_pk, pk, 32);
    utxo_params_chain_id(&g->params);
    if ((g->w = calloc(o->n_wallets, sizeof *g->w)) == NULL)
        goto fail;
    for (uint32_t i = 0; i < o->n_wallets; i++) {
        gen_wallet *w = &g->w[i];
        derive_key(w->pk, w->sk, o->seed, 1, i);
        rc = stdpred_instance(UTXO_STD_P2PK, w->pk, 32, &w->img, &w->img_len);
        if (rc != UTXO_OK)
            goto fail;
        utxo_predicate_id(w->id, w->img, w->img_len);
    }
    rc = bp_chain_new(&g->chain, &g->params, g->seq_sk);
    if (rc != UTXO_OK)
        goto fail;
    if (params != NULL)
        *params = g->params;
    *out = g;
    return UTXO_OK;
fail:
    bp_gen_free(g);
    return rc;
}

void bp_gen_free(bp_gen *g)
{
    if (g == NULL)
        return;
    if (g->w != NULL)
        for (uint32_t i = 0; i < g->o.n_wallets; i++) {
            free(g->w[i].img);
            sodium_memzero(g->w[i].sk, sizeof g->w[i].sk);
        }
    free(g->w);
    free(g->coins);
    bp_chain_free(g->chain);
    sodium_memzero(g->seq_sk, sizeof g->seq_sk);
    free(g);
}

bp_chain *bp_gen_chain(bp_gen *g)
{
    return g->chain;
}

const uint8_t *bp_gen_sequencer_sk(const bp_gen *g)
{
    return g->seq_sk;
}

const uint8_t *bp_gen_wallet_sk(const bp_gen *g, uint32_t w)
{
    return w < g->o.n_wallets ? g->w[w].sk : NULL;
}

const uint8_t *bp_gen_wallet_image(const bp_gen *g, uint32_t w, size_t *len)
{
    if (w >= g->o.n_wallets)
        return NULL;
    *len = g->w[w].img_len;
    return g->w[w].img;
}

const uint8_t *bp_gen_wallet_id(const bp_gen *g, uint32_t w)
{
    return w < g->o.n_wallets ? g->w[w].id : NULL;
}

/* Takes one coin out of the pool (newest, recent or any). */
static gen_coin take_coin(bp_gen *g)
{
    uint64_t r = gen_rand(g) % 100;
    size_t k, n = g->n_coins, recent = n / 10 ? n / 10 : 1;
    gen_coin c;

    if (r < g->o.chain_pct)
        k = n - 1;
    else if (r < g->o.chain_pct + g->o.recent_pct)
        k = n - 1 - gen_rand(g) % recent;
    else
        k = gen_rand(g) % n;
    c = g->coins[k];
    g->coins[k] = g->coins[n - 1];
    g->n_coins--;
    return c;
}

/* One payment from coins of the pool; adds its outputs to the pool. NULL
 * with *rc set on failure; NULL with UTXO_OK when the pool is empty. */
static utxo_tx *make_payment(bp_gen *g, uint64_t *fee, int *rc)
{
    uint32_t n_in = 1 + (uint32_t)(gen_rand(g) % g->o.max_inputs);
    gen_coin in[64];
    uint8_t sh[UTXO_HASH_BYTES], sig[GEN_SIG_BYTES], txid[UTXO_HASH_BYTES];
    uint64_t total = 0, pay, change;
    uint32_t to = (uint32_t)(gen_rand(g) % g->o.n_wallets);
    uint32_t back = (uint32_t)(gen_rand(g) % g->o.n_wallets);
    utxo_tx *tx;

    *rc = UTXO_OK;
    if (n_in > 64)
        n_in = 64;
    if (n_in > g->n_coins)
        n_in = (uint32_t)g->n_coins;
    if (n_in == 0 || (tx = utxo_tx_new()) == NULL) {
        *rc = n_in == 0 ? UTXO_OK : UTXO_ERR_NOMEM;
        return NULL;
    }
    memset(sig, 0, sizeof sig);
    for (uint32_t i = 0; i < n_in; i++) {
        const gen_wallet *w;
        in[i] = take_coin(g);
        w = &g->w[in[i].owner];
        total += in[i].value;
        if (g->o.full_images)
            *rc = utxo_tx_add_input(tx, &in[i].op, g->o.budget, w->img, (uint32_t)w->img_len,
                                    sig, GEN_SIG_BYTES);
        else
            *rc = utxo_tx_add_input_template(tx, &in[i].op, g->o.budget, UTXO_STD_P2PK, w->pk,
                                             sizeof w->pk, sig, GEN_SIG_BYTES);
        if (*rc != UTXO_OK)
            goto fail;
    }
    /* outputs with placeholder values: the fee depends only on the sizes */
    pay = total / 2 + gen_rand(g) % (total / 4 + 1);
    if ((*rc = utxo_tx_add_output(tx, pay, g->w[to].id, NULL, 0)) != UTXO_OK ||
        (*rc = utxo_tx_add_output(tx, 0, g->w[back].id, NULL, 0)) != UTXO_OK)
        goto fail;
    *fee = utxo_tx_min_fee(tx, &g->params);
    if (total < pay + *fee) {
        *rc = UTXO_ERR_TX_FEE; /* cannot happen: inputs are >= GEN_DUST */
        goto fail;
    }
    change = total - pay - *fee;
    tx->outputs[1].value = change;
    utxo_tx_sighash(tx, g->params.chain_id, sh);
    for (uint32_t i = 0; i < n_in; i++) {
        const gen_wallet *w = &g->w[in[i].owner];
        crypto_sign_detached(sig, NULL, sh, sizeof sh, w->sk);
        *rc = utxo_tx_set_args(tx, i, sig, GEN_SIG_BYTES);
        if (*rc != UTXO_OK)
            goto fail;
    }
    utxo_tx_txid(tx, txid);
    if ((*rc = coin_push(g, txid, 0, pay, to)) != UTXO_OK ||
        (change > 0 && (*rc = coin_push(g, txid, 1, change, back)) != UTXO_OK))
        goto fail;
    return tx;
fail:
    utxo_tx_free(tx);
    return NULL;
}

int bp_gen_next(bp_gen *g, utxo_block **blk, utxo_bundle **bundle)
{
    utxo_block *b = NULL;
    utxo_tx *cb = NULL;
    gen_coin *saved = NULL;
    size_t saved_n;
    uint64_t fees = 0;
    uint8_t txid[UTXO_HASH_BYTES];
    uint32_t height;
    int rc = UTXO_ERR_NOMEM;

    if (blk != NULL)
        *blk = NULL;
    if (bundle != NULL)
        *bundle = NULL;
    if (g == NULL || blk == NULL || bundle == NULL)
        return UTXO_ERR_ARG;
    height = bp_chain_next_height(g->chain);
    /* the pool is restored if anything fails */
    saved_n = g->n_coins;
    if ((saved = malloc((saved_n ? saved_n : 1) * sizeof *saved)) == NULL)
        return UTXO_ERR_NOMEM;
    if (saved_n > 0)
        memcpy(saved, g->coins, saved_n * sizeof *saved);
    if ((b = utxo_block_new()) == NULL || (cb = utxo_tx_new()) == NULL)
        goto fail;
    cb->coinbase_height = height;
    rc = utxo_block_add_tx(b, cb);
    if (rc != UTXO_OK)
        goto fail;
    b->header.time = g->params.genesis_time + height;
    if (height == 0) {
        uint64_t each = UTXO_MAX_MONEY / g->o.genesis_coins;
        if (each > GEN_ALLOC)
            each = GEN_ALLOC;
        for (uint32_t i = 0; i < g->o.genesis_coins; i++)
            if ((rc = utxo_tx_add_output(cb, each, g->w[i % g->o.n_wallets].id, NULL, 0)))
                goto fail;
    } else {
        for (uint32_t t = 0; t < g->o.txs_per_block; t++) {
            uint64_t fee = 0;
            utxo_tx *tx = make_payment(g, &fee, &rc);
            if (tx == NULL && rc != UTXO_OK)
                goto fail;
            if (tx == NULL)
                break;
            if ((rc = utxo_block_add_tx(b, tx)) != UTXO_OK) {
                utxo_tx_free(tx);
                goto fail;
            }
            fees += fee;
        }
        rc = utxo_tx_add_output(cb, fees, g->w[height % g->o.n_wallets].id, NULL, 0);
        if (rc != UTXO_OK)
            goto fail;
    }
    rc = bp_chain_seal(g->chain, b, bundle, NULL, NULL);
    if (rc != UTXO_OK)
        goto fail;
    utxo_tx_txid(cb, txid);
    for (uint32_t i = 0; i < cb->n_outputs; i++)
        if ((rc = coin_push(g, txid, i, cb->outputs[i].value, height == 0 ? i % g->o.n_wallets
                                                                           : height % g->o.n_wallets)))
            goto fail; /* the chain has the block; only OOM gets here */
    free(saved);
    *blk = b;
    return UTXO_OK;
fail:
    if (saved != NULL) {
        if (g->cap_coins >= saved_n) {
            if (saved_n > 0)
                memcpy(g->coins, saved, saved_n * sizeof *saved);
            g->n_coins = saved_n;
        }
        free(saved);
    }
    if (bundle != NULL) {
        utxo_bundle_free(*bundle);
        *bundle = NULL;
    }
    utxo_block_free(b);
    return rc;
}
