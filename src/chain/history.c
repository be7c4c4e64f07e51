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
 * the expected code (chain/invalid.c). Same options: same bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gmp.h>
#include <sodium.h>
#include "chain/history_int.h"
#include "chain/work_img.h"
#include "utxo/ledger_int.h"
#include "utxo/splitmix.h"

static const char *const kind_names[GEN_KINDS] = {"p2pk", "multisig", "hashlock", "timelock",
                                                  "htlc-claim", "htlc-refund", "rsa", "long-run"};

const char *gen_kind_name(unsigned k)
{
    return k < GEN_KINDS ? kind_names[k] : "?";
}

const uint8_t *gen_work_image(size_t *len)
{
    *len = sizeof chain_work_img;
    return chain_work_img;
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

uint64_t gen_rand(gen *g)
{
    return splitmix64(&g->rng);
}

/* Deterministic bytes: BLAKE2b("utxo.gen.bytes", master || what || i || k). */
static void gen_bytes(const gen *g, uint32_t what, uint32_t i, uint8_t *out, size_t n)
{
    uint8_t in[44], h[UTXO_HASH_BYTES];

    memcpy(in, g->master, 32);
    put_u32le(in + 32, what);
    put_u32le(in + 36, i);
    for (uint32_t k = 0; n > 0; k++) {
        size_t take = n < sizeof h ? n : sizeof h;
        put_u32le(in + 40, k);
        hash_tagged(h, "utxo.gen.bytes", in, sizeof in);
        memcpy(out, h, take);
        out += take;
        n -= take;
    }
}

void gen_secret(const gen *g, uint32_t ix, uint8_t secret[GEN_SECRET_BYTES])
{
    gen_bytes(g, 1, ix, secret, GEN_SECRET_BYTES);
}

static void be_export(uint8_t *out, size_t len, const mpz_t x)
{
    size_t need = (mpz_sizeinbase(x, 2) + 7) / 8, w;

    memset(out, 0, len);
    mpz_export(out + len - need, &w, 1, 1, 0, 0, x);
}

/* An RSA-2048 key (n || d, 256 bytes each, big-endian) from seed bytes:
 * primes are the next primes after derived 1024-bit numbers with the top
 * two bits set, so n has exactly 2048 bits. */
static void make_rsa(const gen *g, uint32_t k, uint8_t nd[512])
{
    uint8_t buf[128];
    mpz_t p, q, n, e, d, phi, t;
    uint32_t tries = 0;

    mpz_inits(p, q, n, e, d, phi, t, NULL);
    mpz_set_ui(e, 65537);
    do {
        gen_bytes(g, 2, 4 * k + 2 * tries, buf, sizeof buf);
        mpz_import(p, sizeof buf, 1, 1, 0, 0, buf);
        gen_bytes(g, 2, 4 * k + 2 * tries + 1, buf, sizeof buf);
        mpz_import(q, sizeof buf, 1, 1, 0, 0, buf);
        mpz_setbit(p, 1023);
        mpz_setbit(p, 1022);
        mpz_setbit(q, 1023);
        mpz_setbit(q, 1022);
        mpz_nextprime(p, p);
        mpz_nextprime(q, q);
        mpz_mul(n, p, q);
        mpz_sub_ui(t, p, 1);
        mpz_sub_ui(phi, q, 1);
        mpz_mul(phi, phi, t);
        tries++;
    } while (mpz_sizeinbase(n, 2) != 2048 || mpz_cmp(p, q) == 0 || mpz_invert(d, e, phi) == 0);
    be_export(nd, 256, n);
    be_export(nd + 256, 256, d);
    mpz_clears(p, q, n, e, d, phi, t, NULL);
    sodium_memzero(buf, sizeof buf);
}

/* ---- coins ------------------------------------------------------------------- */

int gen_coin_image(const gen *g, const gen_coin *c, uint8_t *img, size_t cap, size_t *len)
{
    uint8_t h[UTXO_HASH_BYTES], secret[GEN_SECRET_BYTES];
    uint8_t pks[3][UTXO_PUBKEY_BYTES];
    uint32_t n = g->o.n_wallets;

    switch (c->kind) {
    case GK_P2PK:
        return utxo_std_p2pk_image(img, cap, len, g->pk[c->a]);
    case GK_MULTISIG:
        for (int i = 0; i < 3; i++)
            memcpy(pks[i], g->pk[(c->a + (uint32_t)i) % n], UTXO_PUBKEY_BYTES);
        return utxo_std_multisig_image(img, cap, len, 2, 3, (const uint8_t(*)[32])pks);
    case GK_HASHLOCK:
        gen_secret(g, c->secret, secret);
        utxo_std_secret_hash(h, secret, sizeof secret);
        return utxo_std_hashlock_image(img, cap, len, h);
    case GK_TIMELOCK:
        return utxo_std_timelock_image(img, cap, len, g->pk[c->a], c->lock);
    case GK_HTLC_CLAIM:
    case GK_HTLC_REFUND:
        gen_secret(g, c->secret, secret);
        utxo_std_secret_hash(h, secret, sizeof secret);
        return utxo_std_htlc_image(img, cap, len, h, g->pk[c->a], g->pk[c->b], c->lock);
    case GK_RSA:
        return utxo_std_rsa_image(img, cap, len, g->rsa[c->a % GEN_RSA_KEYS]);
    case GK_WORK:
        if (cap < sizeof chain_work_img)
            return UTXO_ERR_ARG;
        memcpy(img, chain_work_img, sizeof chain_work_img);
        *len = sizeof chain_work_img;
        return UTXO_OK;
    default:
        return UTXO_ERR_ARG;
    }
}

static int push(gen_coin **v, size_t *n, size_t *cap, const gen_coin *c)
{
    if (*n == *cap) {
        size_t nc = *cap ? 2 * *cap : 256;
        gen_coin *p = realloc(*v, nc * sizeof *p);
        if (p == NULL)
            return UTXO_ERR_NOMEM;
        *v = p;
        *cap = nc;
    }
    (*v)[(*n)++] = *c;
    return UTXO_OK;
}

int gen_add_coin(gen *g, const gen_coin *c)
{
    if (c->kind == GK_P2PK)
        return push(&g->pay, &g->n_pay, &g->cap_pay, c);
    return push(&g->spec, &g->n_spec, &g->cap_spec, c);
}

/* The work predicate's arguments: rounds, no sieve, a BLAKE2b host call
 * every 50 rounds, 32 KiB touched, any checksum accepted. */
void gen_work_args(const gen *g, uint8_t args[GEN_WORK_ARGS])
{
    put_u32le(args, g->o.long_rounds);
    put_u32le(args + 4, 0);
    put_u32le(args + 8, 50);
    put_u32le(args + 12, 32);
    put_u32le(args + 16, 0xffffffffu);
    put_u32le(args + 20, 1);
}

/*
 * A copy of tx paying `tip` more than the least fee: taken from the change
 * (the output after the n_out asked for) when it stays above the dust
 * limit, and every input, all pay-to-pubkey, signed again. *out stays NULL
 * when there is no change to take it from.
 */
static int add_tip(const gen *g, const gen_coin *ins, size_t n_in, size_t n_out,
                   const utxo_tx *tx, uint64_t tip, utxo_tx **out)
{
    uint8_t sh[UTXO_HASH_BYTES], sig[UTXO_SIG_BYTES];
    utxo_tx *t;

    *out = NULL;
    if (tx->n_outputs != n_out + 1 || tx->outputs[n_out].value < tip + GEN_DUST)
        return UTXO_OK;
    for (size_t i = 0; i < n_in; i++)
        if (ins[i].kind != GK_P2PK)
            return UTXO_OK;
    if ((t = utxo_tx_clone(tx)) == NULL)
        return UTXO_ERR_NOMEM;
    t->outputs[n_out].value -= tip;
    utxo_tx_sighash(t, g->p.chain_id, sh);
    for (size_t i = 0; i < n_in; i++) {
        const utxo_witness *w = &t->inputs[i].witness;
        int rc = utxo_sign_sighash(sig, sh, g->sk[ins[i].a]);
        if (rc == UTXO_OK)
            rc = utxo_tx_set_witness(t, (uint32_t)i, w->budget, w->image, w->image_len, sig,
                                     sizeof sig);
        if (rc != UTXO_OK) {
            utxo_tx_free(t);
            return rc;
        }
    }
    *out = t;
    return UTXO_OK;
}

/*
 * Builds, signs and submits a transaction spending ins[0..n_in) to
 * outs[0..n_out) with change to wallet `change` (UINT32_MAX: none);
 * mode alters the witnesses for invalid transactions (GEN_MODE_*). The
 * transaction (a new copy) goes to *out when out is not NULL; with submit
 * the mempool's verdict is returned (and coins recorded when accepted).
 */
int gen_make_tx(gen *g, const gen_coin *ins, size_t n_in, const gen_out *outs, size_t n_out,
                uint32_t change, bool submit, utxo_tx **out, utxo_verdict *vd)
{
    utxo_builder *b = NULL;
    uint8_t img[GEN_IMAGE_MAX], secret[GEN_SECRET_BYTES], sh[UTXO_HASH_BYTES];
    uint8_t sig[UTXO_RSA_BYTES], args[GEN_WORK_ARGS], txid[UTXO_HASH_BYTES];
    const utxo_tx *tx;
    utxo_tx *tipped = NULL;
    utxo_verdict local;
    uint64_t tip = g->tip_next;
    size_t len;
    int rc;

    g->tip_next = 0;
    if (out != NULL)
        *out = NULL;
    if (vd == NULL)
        vd = &local;
    memset(vd, 0, sizeof *vd);
    if ((b = utxo_builder_new(&g->p, chain_seq_next_height(g->seq))) == NULL)
        return UTXO_ERR_NOMEM;
    for (size_t i = 0; i < n_in; i++) {
        utxo_coin uc;
        uint32_t ix;
        memset(&uc, 0, sizeof uc);
        if ((rc = gen_coin_image(g, &ins[i], img, sizeof img, &len)) != UTXO_OK)
            goto out;
        uc.outpoint = ins[i].op;
        uc.output.value = ins[i].value;
        utxo_predicate_id(uc.output.predicate_id, img, len);
        uc.image = img;
        uc.image_len = len;
        if ((rc = utxo_builder_add_input(b, &uc, &ix)) != UTXO_OK)
            goto out;
        switch (ins[i].kind) {
        case GK_HASHLOCK:
        case GK_HTLC_CLAIM:
            gen_secret(g, ins[i].secret, secret);
            rc = utxo_builder_set_secret(b, ix, secret, sizeof secret);
            break;
        case GK_HTLC_REFUND:
            rc = utxo_builder_set_refund(b, ix);
            break;
        case GK_RSA:
            rc = utxo_builder_set_plan(b, ix, UTXO_RSA_BYTES, utxo_std_budget(UTXO_STD_RSA, 0, 0));
            break;
        case GK_WORK:
            rc = utxo_builder_set_plan(b, ix, GEN_WORK_ARGS, g->work_budget);
            break;
        default:
            rc = UTXO_OK;
        }
        if (rc != UTXO_OK)
            goto out;
    }
    for (size_t k = 0; k < n_out; k++)
        if ((rc = utxo_builder_add_output(b, outs[k].value, outs[k].id, NULL, 0)) != UTXO_OK)
            goto out;
    if (change != UINT32_MAX && (rc = utxo_builder_set_change(b, g->id[change])) != UTXO_OK)
        goto out;
    if ((rc = utxo_builder_finalize(b)) != UTXO_OK)
        goto out;
    if ((rc = utxo_builder_sighash(b, sh)) != UTXO_OK)
        goto out;
    for (size_t i = 0; i < n_in; i++) {
        const gen_coin *c = &ins[i];
        uint32_t keys[2], nk = 0;
        switch (c->kind) {
        case GK_P2PK:
        case GK_TIMELOCK:
        case GK_HTLC_CLAIM:
            keys[nk++] = c->a;
            break;
        case GK_HTLC_REFUND:
            keys[nk++] = c->b;
            break;
        case GK_MULTISIG: /* keys 0 and 2 of the three */
            keys[nk++] = c->a;
            keys[nk++] = (c->a + 2) % g->o.n_wallets;
            break;
        case GK_RSA:
            if ((rc = utxo_std_rsa_sign(sig, sh, g->rsa[c->a % GEN_RSA_KEYS],
                                        g->rsa[c->a % GEN_RSA_KEYS] + 256)) != UTXO_OK ||
                (rc = utxo_builder_set_args(b, (uint32_t)i, sig, UTXO_RSA_BYTES)) != UTXO_OK)
                goto out;
            break;
        case GK_WORK:
            gen_work_args(g, args);
            if ((rc = utxo_builder_set_args(b, (uint32_t)i, args, sizeof args)) != UTXO_OK)
                goto out;
            break;
        default:
            break;
        }
        for (uint32_t k = 0; k < nk; k++) {
            rc = utxo_builder_sign(b, g->sk[keys[k]], NULL);
            if (rc != UTXO_OK && rc != UTXO_ERR_NO_KEY)
                goto out;
        }
    }
    if ((tx = utxo_builder_tx(b)) == NULL) {
        rc = UTXO_ERR_INTERNAL;
        goto out;
    }
    if (tip > 0 && (rc = add_tip(g, ins, n_in, n_out, tx, tip, &tipped)) != UTXO_OK)
        goto out;
    if (tipped != NULL)
        tx = tipped;
    if (out != NULL && (*out = utxo_tx_clone(tx)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    rc = UTXO_OK;
    if (!submit)
        goto out;
    rc = chain_seq_submit(g->seq, tx, vd);
    if (rc != UTXO_OK)
        goto out;
    /* the new coins: outs[k] at index k, then the change */
    utxo_tx_txid(tx, txid);
    for (uint32_t k = 0; k < tx->n_outputs; k++) {
        gen_coin c;
        memset(&c, 0, sizeof c);
        if (k < n_out)
            c = outs[k].coin;
        else {
            c.kind = GK_P2PK;
            c.a = change;
        }
        memcpy(c.op.txid, txid, UTXO_HASH_BYTES);
        c.op.index = k;
        c.value = tx->outputs[k].value;
        c.height = chain_seq_next_height(g->seq);
        if (c.kind == GK_P2PK && c.value < GEN_DUST)
            continue;
        if ((rc = gen_add_coin(g, &c)) != UTXO_OK)
            goto out;
    }
    g->st->txs++;
    g->st->inputs += n_in;
    g->st->outputs += tx->n_outputs;
    for (size_t i = 0; i < n_in; i++) {
        g->st->by_kind[ins[i].kind]++;
        if (ins[i].height == chain_seq_next_height(g->seq))
            g->st->same_block++;
        else if (ins[i].height + 50 <= chain_seq_next_height(g->seq))
            g->st->old_spends++;
        if (ins[i].kind == GK_WORK)
            g->st->long_runs++;
    }
out:
    utxo_tx_free(tipped);
    utxo_builder_free(b);
    sodium_memzero(secret, sizeof secret);
    return rc;
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

static uint32_t wallet(gen *g)
{
    return (uint32_t)(gen_rand(g) % g->o.n_wallets);
}

static void out_p2pk(gen_out *o, gen *g, uint64_t value, uint32_t w)
{
    memset(o, 0, sizeof *o);
    o->value = value;
    memcpy(o->id, g->id[w], UTXO_HASH_BYTES);
    o->coin.kind = GK_P2PK;
    o->coin.a = w;
}

/* A special output of `kind` worth value, spendable from *ready. */
int gen_out_special(gen *g, gen_out *o, unsigned kind, uint64_t value, uint32_t height,
                    uint32_t ready)
{
    uint8_t img[GEN_IMAGE_MAX];
    size_t len;
    int rc;

    memset(o, 0, sizeof *o);
    o->value = value;
    o->coin.kind = kind;
    o->coin.a = wallet(g);
    o->coin.b = wallet(g);
    o->coin.secret = g->next_secret++;
    o->coin.height = height;
    o->coin.ready = ready;
    switch (kind) {
    case GK_TIMELOCK:
        o->coin.lock = height + 2 + (uint32_t)(gen_rand(g) % 10);
        if (o->coin.ready < o->coin.lock)
            o->coin.ready = o->coin.lock;
        break;
    case GK_HTLC_REFUND:
        o->coin.lock = height + 3 + (uint32_t)(gen_rand(g) % 10);
        if (o->coin.ready < o->coin.lock)
            o->coin.ready = o->coin.lock;
        break;
    case GK_HTLC_CLAIM:
        o->coin.lock = height + 1000;
        break;
    default:
        break;
    }
    if (ready == UINT32_MAX) /* a reserve: locks far in the future */
        o->coin.lock = UINT32_MAX - 1;
    if ((rc = gen_coin_image(g, &o->coin, img, sizeof img, &len)) != UTXO_OK)
        return rc;
    utxo_predicate_id(o->id, img, len);
    return UTXO_OK;
}

/* A payment: 1-3 p2pk coins to a wallet, change to another. */
static int payment(gen *g)
{
    gen_coin in[3];
    gen_out o;
    uint64_t total = 0;
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
    out_p2pk(&o, g, total / 2 + gen_rand(g) % (total / 4 + 1), wallet(g));
    /* a third of the payments pay more than the least fee: the mempool
     * orders blocks by fee rate, parents still before children */
    if (gen_rand(g) % 3 == 0)
        g->tip_next = 1 + gen_rand(g) % 5000;
    rc = gen_make_tx(g, in, n, &o, 1, wallet(g), true, NULL, NULL);
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
    out_p2pk(&o[1], g, in.value / 4, wallet(g));
    return gen_make_tx(g, &in, 1, o, 2, in.a, true, NULL, NULL);
}

/* Spends special coin c to a wallet, change to another. */
static int spend_special(gen *g, const gen_coin *c)
{
    gen_out o;

    out_p2pk(&o, g, c->value / 2, wallet(g));
    return gen_make_tx(g, c, 1, &o, 1, wallet(g), true, NULL, NULL);
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
    snprintf(msg, msg_len, "generator: block %u: the mempool rejected a generated transaction: %s",
             h, utxo_strerror(rc));
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

static void gen_free(gen *g)
{
    if (g->sk != NULL)
        sodium_memzero(g->sk, (size_t)g->o.n_wallets * sizeof *g->sk);
    free(g->pk);
    free(g->sk);
    free(g->id);
    free(g->pay);
    free(g->spec);
    sodium_memzero(g->rsa, sizeof g->rsa);
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
    for (uint32_t i = 0; i < o->n_wallets; i++)
        if ((rc = utxo_keypair_derive(g.pk[i], g.sk[i], g.master, i)) != UTXO_OK ||
            (rc = utxo_p2pk_id(g.id[i], g.pk[i])) != UTXO_OK)
            goto out;
    for (uint32_t k = 0; k < GEN_RSA_KEYS; k++)
        make_rsa(&g, k, g.rsa[k]);
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
    rc = chain_genesis(dir, &p, seq_seed, allocs, n_alloc, &g.p, msg, msg_len);
    sodium_memzero(seq_seed, sizeof seq_seed);
    if (rc != UTXO_OK)
        goto out;
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
    free(allocs);
    gen_free(&g);
    if (rc != UTXO_OK && msg != NULL && msg_len > 0 && msg[0] == 0)
        snprintf(msg, msg_len, "generator: %s", utxo_strerror(rc));
    return rc;
}
