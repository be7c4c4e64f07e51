/*
 * chain/history.c — the history generator behind `utxo gen` and `utxo demo`
 * (chain.h, gen_). From one 64-bit seed it derives a master seed, the
 * wallets' keys (utxo_keypair_derive, the wallet key derivation), the
 * sequencer's key, hash-lock secrets and RSA-2048 keys, then plays a chain
 * through the real mempool and sequencer: every transaction is made by the
 * wallet builder (utxo/builder.h), validated in full by the mempool (every
 * predicate run) and sealed into blocks. The content (docs/CHAIN.md,
 * "Generator"): payments with change spending old, recent and same-block
 * coins; every standard predicate created and later spent (multisig 2-of-3,
 * hash lock, time lock, HTLC claim and refund, RSA); long runs of the work
 * predicate (tests/segments/work.c) whose receipts go into the bundles; and
 * at the end invalid.txs, transactions the mempool must reject, each with
 * the expected code (chain/invalid.c). The wallets, their coins and the
 * transactions that spend them are chain/gencoin.c. Same options: same bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include "chain/history_int.h"
#include "utxo/ledger_int.h"

static const char *const kind_names[GEN_KINDS] = {"p2pk", "multisig", "hashlock", "timelock",
                                                  "htlc-claim", "htlc-refund", "rsa", "long-run"};

const char *gen_kind_name(unsigned k)
{
    return k < GEN_KINDS ? kind_names[k] : "?";
}

void gen_opts_default(gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->blocks = 300;
    o->tx_per_block = 30;
    o->n_wallets = 64;
    o->long_every = 8;
    o->long_rounds = 400;
    o->po2 = 18;
}

/* Takes one p2pk coin out of the pool: the newest (often made earlier in
 * this block), a recent one or any one. */
static bool take_pay(gen *g, gen_coin *c)
{
    size_t n = g->n_pay, k, recent;
    uint64_t r = gen_rand(g) % 100;

    if (n == 0)
        return false;
    recent = n / 10 ? n / 10 : 1;
    if (r < 15)
        k = n - 1;
    else if (r < 60)
        k = n - 1 - gen_rand(g) % recent;
    else
        k = gen_rand(g) % n;
    *c = g->pay[k];
    g->pay[k] = g->pay[n - 1];
    g->n_pay--;
    return true;
}

static void out_p2pk(gen_out *o, gen *g, uint64_t value, uint32_t w)
{
    memset(o, 0, sizeof *o);
    o->value = value;
    memcpy(o->id, g->id[w], UTXO_HASH_BYTES);
    o->coin.kind = GK_P2PK;
    o->coin.a = w;
}


/* A payment: 1-3 p2pk coins to a wallet, change to another. */
static int payment(gen *g)
{
    gen_coin in[3];
    gen_out o;
    uint64_t total = 0, value;
    uint32_t to;
    size_t n = 1 + (size_t)(gen_rand(g) % 3);
    int rc;

    for (size_t i = 0; i < n; i++) {
        if (!take_pay(g, &in[i])) {
            n = i;
            break;
        }
        total += in[i].value;
    }
    if (n == 0)
        return UTXO_OK;
    /* one draw per statement: C leaves the order of a call's arguments
     * unspecified, and compilers differ (the same seed gave other bytes
     * with clang, or on s390x); this is the order x86-64 GCC builds used */
    to = gen_wallet(g);
    value = total / 2 + gen_rand(g) % (total / 4 + 1);
    out_p2pk(&o, g, value, to);
    /* a third of the payments pay more than the least fee: the mempool
     * orders blocks by fee rate, parents still before children */
    if (gen_rand(g) % 3 == 0)
        g->tip_next = 1 + gen_rand(g) % 5000;
    rc = gen_make_tx(g, in, n, &o, 1, gen_wallet(g), true, NULL, NULL);
    return rc;
}

/* A payment that also locks value in a special output. */
static int make_special(gen *g, unsigned kind, uint32_t ready)
{
    gen_coin in;
    gen_out o[2];
    uint32_t h = chain_seq_next_height(g->seq);
    uint64_t v;
    int rc;

    if (!take_pay(g, &in))
        return UTXO_OK;
    v = in.value / 8;
    if (v < GEN_SPECIAL_MIN) {
        /* too small to lock: back to the pool */
        return gen_add_coin(g, &in);
    }
    if ((rc = gen_out_special(g, &o[0], kind, v, h, ready)) != UTXO_OK)
        return rc;
    out_p2pk(&o[1], g, in.value / 4, gen_wallet(g));
    return gen_make_tx(g, &in, 1, o, 2, in.a, true, NULL, NULL);
}

/* The code output: the long-run image in the datum of an output that
 * pays wallet 0, spent by nobody (docs/ENCODING.md, witness form 3). */
static int deploy_code(gen *g)
{
    gen_coin in;
    gen_out o;
    size_t len;

    if (!take_pay(g, &in))
        return UTXO_ERR_INTERNAL;
    memset(&o, 0, sizeof o);
    o.value = GEN_SPECIAL_MIN;
    memcpy(o.id, g->id[0], UTXO_HASH_BYTES);
    o.datum = gen_work_image(&len);
    o.datum_len = (uint32_t)len;
    o.code = true;
    return gen_make_tx(g, &in, 1, &o, 1, in.a, true, NULL, NULL);
}

/* Spends special coin c to a wallet, change to another. */
static int spend_special(gen *g, const gen_coin *c)
{
    gen_out o;

    out_p2pk(&o, g, c->value / 2, gen_wallet(g));
    return gen_make_tx(g, c, 1, &o, 1, gen_wallet(g), true, NULL, NULL);
}

static uint32_t ready_at(gen *g, uint32_t h, unsigned kind)
{
    /* half soon (next block), half long after; the first two of each kind
     * soon, so that even a short history spends every kind */
    if (g->made[kind]++ < 2)
        return h + 1;
    return gen_rand(g) % 2 ? h + 1 : h + 30 + (uint32_t)(gen_rand(g) % 60);
}

/* One block's transactions, then the seal. */
static int gen_block(gen *g, char *msg, size_t msg_len)
{
    static const unsigned kinds[] = {GK_MULTISIG, GK_HASHLOCK, GK_TIMELOCK,
                                     GK_HTLC_CLAIM, GK_HTLC_REFUND, GK_RSA};
    uint32_t h = chain_seq_next_height(g->seq);
    uint32_t budget = g->o.tx_per_block, spends = budget / 5 ? budget / 5 : 1;
    uint32_t makes = budget / 6 ? budget / 6 : 1;
    chain_block_info info;
    int rc = UTXO_OK;

    g->batch = true;
    /* long runs: one made every long_every blocks, spent when due */
    if (g->o.long_every != 0 && h % g->o.long_every == 1 && budget > 0) {
        if ((rc = make_special(g, GK_WORK, ready_at(g, h, GK_WORK))) != UTXO_OK)
            goto fail;
        budget--;
    }
    /* due special coins, oldest first (the list is in creation order) */
    for (size_t k = 0; k < g->n_spec && spends > 0 && budget > 0;) {
        gen_coin c = g->spec[k];
        if (c.ready > h) {
            k++;
            continue;
        }
        memmove(&g->spec[k], &g->spec[k + 1], (g->n_spec - k - 1) * sizeof *g->spec);
        g->n_spec--;
        if ((rc = spend_special(g, &c)) != UTXO_OK)
            goto fail;
        spends--;
        budget--;
    }
    for (uint32_t i = 0; i < makes && budget > 0; i++, budget--) {
        unsigned kind = kinds[g->next_kind++ % 6];
        if ((rc = make_special(g, kind, ready_at(g, h, kind))) != UTXO_OK)
            goto fail;
    }
    for (; budget > 0; budget--)
        if ((rc = payment(g)) != UTXO_OK)
            goto fail;
    g->batch = false;
    if ((rc = gen_submit_queued(g, msg, msg_len)) != UTXO_OK)
        return rc;
    if ((rc = chain_seq_seal(g->seq, g->p.genesis_time + 10 * (uint64_t)h, &info, msg,
                             msg_len)) != UTXO_OK)
        return rc;
    g->st->blocks++;
    g->st->txs++; /* the coinbase */
    g->st->outputs++;
    g->st->segments += info.n_segments;
    g->last = info;
    /* the coinbase's fees are the sequencer's: not a wallet coin */
    return UTXO_OK;
fail:
    g->batch = false;
    gen_drop_queued(g);
    snprintf(msg, msg_len, "generator: block %u: the mempool rejected a generated transaction: %s",
             h, utxo_strerror(rc));
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

static void gen_free(gen *g)
{
    gen_drop_queued(g);
    free(g->queued);
    if (g->sk != NULL)
        sodium_memzero(g->sk, (size_t)g->o.n_wallets * sizeof *g->sk);
    free(g->pk);
    free(g->sk);
    free(g->id);
    free(g->pay);
    free(g->spec);
    sodium_memzero(g->rsa, sizeof g->rsa);
    sodium_memzero(g->rsa_pq, sizeof g->rsa_pq);
    sodium_memzero(g->master, sizeof g->master);
}

int gen_run(const char *dir, const gen_opts *o, gen_stats *st, gen_progress_fn fn, void *ud,
            char *msg, size_t msg_len)
{
    gen g;
    gen_stats local;
    utxo_params p;
    chain_alloc *allocs = NULL;
    uint8_t in[8], seq_seed[32];
    uint32_t n_alloc;
    struct stat sb;
    bool made_dir = false, made_chain = false;
    int rc;

    if (msg != NULL && msg_len > 0)
        msg[0] = 0;
    if (st == NULL)
        st = &local;
    memset(st, 0, sizeof *st);
    memset(&g, 0, sizeof g);
    if (dir == NULL || o == NULL || o->blocks < 1 || o->tx_per_block < 1 || o->n_wallets < 4 ||
        o->po2 < GEN_PO2_MIN || o->po2 > UTXO_SEG_PO2_MAX)
        return UTXO_ERR_ARG;
    g.o = *o;
    g.st = st;
    g.rng = o->seed;
    put_u64le(in, o->seed);
    hash_tagged(g.master, "utxo.gen.master", in, sizeof in);
    rc = UTXO_ERR_NOMEM;
    if ((g.pk = calloc(o->n_wallets, sizeof *g.pk)) == NULL ||
        (g.sk = calloc(o->n_wallets, sizeof *g.sk)) == NULL ||
        (g.id = calloc(o->n_wallets, sizeof *g.id)) == NULL)
        goto out;
    if ((rc = gen_keys(&g)) != UTXO_OK)
        goto out;
    /* genesis: two coins per wallet, at least 32 (the reserves and
     * invalid.txs need a few whatever the size) */
    n_alloc = 2 * o->n_wallets < 32 ? 32 : 2 * o->n_wallets;
    rc = UTXO_ERR_NOMEM;
    if ((allocs = calloc(n_alloc, sizeof *allocs)) == NULL)
        goto out;
    for (uint32_t i = 0; i < n_alloc; i++) {
        memcpy(allocs[i].id, g.id[i % o->n_wallets], UTXO_HASH_BYTES);
        allocs[i].value = GEN_ALLOC;
    }
    utxo_params_default(&p);
    p.genesis_time = GEN_GENESIS_TIME;
    if ((rc = utxo_seed_derive(seq_seed, g.master, GEN_SEQ_KEY_INDEX)) != UTXO_OK)
        goto out;
    made_dir = stat(dir, &sb) != 0;
    rc = chain_genesis(dir, &p, seq_seed, allocs, n_alloc, &g.p, msg, msg_len);
    sodium_memzero(seq_seed, sizeof seq_seed);
    if (rc != UTXO_OK)
        goto out;
    made_chain = true; /* from here on a failure removes the chain again */
    if ((rc = chain_seq_open(&g.seq, dir, NULL, o->threads, o->po2, msg, msg_len)) != UTXO_OK)
        goto out;
    if ((rc = gen_genesis_coins(&g, allocs, n_alloc)) != UTXO_OK)
        goto out;
    st->blocks = 1;
    st->txs = 1;
    st->outputs = n_alloc;
    if ((rc = gen_measure_work(&g)) != UTXO_OK) {
        snprintf(msg, msg_len, "generator: the long-run predicate does not run: %s",
                 utxo_strerror(rc));
        goto out;
    }
    if (fn != NULL && fn(ud, 0, o->blocks) != 0) {
        rc = UTXO_ERR_IO;
        goto out;
    }
    for (uint32_t h = 1; h < o->blocks; h++) {
        if (h == 1 && o->long_every != 0 && (rc = deploy_code(&g)) != UTXO_OK) {
            snprintf(msg, msg_len, "generator: the code output: %s", utxo_strerror(rc));
            goto out;
        }
        if (h == 1 && (rc = gen_reserves(&g)) != UTXO_OK) {
            snprintf(msg, msg_len, "generator: reserve coins: %s", utxo_strerror(rc));
            goto out;
        }
        if ((rc = gen_block(&g, msg, msg_len)) != UTXO_OK)
            goto out;
        if (fn != NULL && fn(ud, h, o->blocks) != 0) {
            rc = UTXO_ERR_IO;
            goto out;
        }
    }
    if ((rc = gen_write_invalid(&g, dir, msg, msg_len)) != UTXO_OK)
        goto out;
    memcpy(st->tip, g.last.hash, UTXO_HASH_BYTES);
    memcpy(st->acc_digest, g.last.acc_digest, UTXO_HASH_BYTES);
out:
    if (g.seq != NULL) {
        int crc = chain_seq_close(g.seq, rc == UTXO_OK);
        if (rc == UTXO_OK && crc != UTXO_OK) {
            rc = crc;
            snprintf(msg, msg_len, "generator: cannot write the files in %s", dir);
        }
    }
    if (rc != UTXO_OK && made_chain && !o->keep_partial)
        chain_unmake(dir, made_dir);
    free(allocs);
    gen_free(&g);
    if (rc != UTXO_OK && msg != NULL && msg_len > 0 && msg[0] == 0)
        snprintf(msg, msg_len, "generator: %s", utxo_strerror(rc));
    return rc;
}
