/*
 * chain/gencoin.c — the history generator's wallets (chain/history_int.h):
 * keys and secrets derived from the master seed, the coins they own, the
 * images that lock them, and the transactions that spend them, made by the
 * wallet builder and submitted to the mempool. The generator's two drivers
 * build on it: chain/history.c plays the blocks, chain/invalid.c writes the
 * bookends and invalid.txs. It calls neither.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <gmp.h>
#include <sodium.h>
#include "chain/history_int.h"
#include "chain/work_img.h"
#include "predicates/stdpred.h"
#include "utxo/ledger_int.h"
#include "utxo/splitmix.h"

const uint8_t *gen_work_image(size_t *len)
{
    *len = sizeof chain_work_img;
    return chain_work_img;
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

/* An RSA-2048 key (n || d, 256 bytes each, big-endian; its factors
 * p || q, 128 bytes each, for signing) from seed bytes: primes are the
 * next primes after derived 1024-bit numbers with the top two bits set, so
 * n has exactly 2048 bits. */
static void make_rsa(const gen *g, uint32_t k, uint8_t nd[512], uint8_t pq[256])
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
    be_export(pq, 128, p);
    be_export(pq + 128, 128, q);
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
        int rc = utxo_sign_sighash(sig, sh, g->sk[ins[i].a]);
        if (rc == UTXO_OK)
            rc = utxo_tx_set_args(t, (uint32_t)i, sig, sizeof sig);
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
    if ((rc = utxo_builder_set_full_images(b, g->o.full_images)) != UTXO_OK)
        goto out;
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
        /* a long run by reference to the code output, once it is in a block */
        if (ins[i].kind == GK_WORK && g->have_code && !g->o.full_images &&
            g->code_height < chain_seq_next_height(g->seq) &&
            (rc = utxo_builder_use_code(b, ix, &g->code_op, &g->code_out, NULL, 0)) != UTXO_OK)
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
        if ((rc = utxo_builder_add_output(b, outs[k].value, outs[k].id, outs[k].datum,
                                          outs[k].datum_len)) != UTXO_OK)
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
            if ((rc = stdpred_rsa_sign_crt(sig, sh, g->rsa[c->a % GEN_RSA_KEYS],
                                           g->rsa[c->a % GEN_RSA_KEYS] + 256,
                                           g->rsa_pq[c->a % GEN_RSA_KEYS],
                                           g->rsa_pq[c->a % GEN_RSA_KEYS] + 128)) != UTXO_OK ||
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
    if (g->batch && vd == &local) {
        /* queued: its coins are usable at once, its verdict comes with the
         * block's (gen_submit_queued) */
        if (g->n_queued == g->cap_queued) {
            size_t cap = g->cap_queued ? 2 * g->cap_queued : 64;
            utxo_tx **nq = realloc(g->queued, cap * sizeof *nq);
            if (nq == NULL) {
                rc = UTXO_ERR_NOMEM;
                goto out;
            }
            g->queued = nq;
            g->cap_queued = cap;
        }
        if ((g->queued[g->n_queued] = utxo_tx_clone(tx)) == NULL) {
            rc = UTXO_ERR_NOMEM;
            goto out;
        }
        g->n_queued++;
    } else if ((rc = chain_seq_submit(g->seq, tx, vd)) != UTXO_OK) {
        goto out;
    }
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
        if (k < n_out && outs[k].code) {
            g->have_code = true;
            g->code_op = c.op;
            g->code_out = tx->outputs[k];
            g->code_out.datum = (uint8_t *)outs[k].datum; /* static: outlives tx */
            g->code_height = c.height;
            continue;
        }
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
        if (tx->inputs[i].witness.form == UTXO_FORM_REF)
            g->st->ref_spends++;
    }
out:
    utxo_tx_free(tipped);
    utxo_builder_free(b);
    sodium_memzero(secret, sizeof secret);
    return rc;
}

/* The wallets' keys and predicate ids, and the RSA keys, from g->master
 * (g->pk, g->sk, g->id allocated for g->o.n_wallets). */
int gen_keys(gen *g)
{
    int rc;

    for (uint32_t i = 0; i < g->o.n_wallets; i++)
        if ((rc = utxo_keypair_derive(g->pk[i], g->sk[i], g->master, i)) != UTXO_OK ||
            (rc = utxo_p2pk_id(g->id[i], g->pk[i])) != UTXO_OK)
            return rc;
    for (uint32_t k = 0; k < GEN_RSA_KEYS; k++)
        make_rsa(g, k, g->rsa[k], g->rsa_pq[k]);
    return UTXO_OK;
}

/* A wallet picked at random. */
uint32_t gen_wallet(gen *g)
{
    return (uint32_t)(gen_rand(g) % g->o.n_wallets);
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
    o->coin.a = gen_wallet(g);
    o->coin.b = gen_wallet(g);
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

void gen_drop_queued(gen *g)
{
    for (size_t i = 0; i < g->n_queued; i++)
        utxo_tx_free(g->queued[i]);
    g->n_queued = 0;
}

int gen_submit_queued(gen *g, char *msg, size_t msg_len)
{
    utxo_verdict *vd;
    size_t acc = 0;
    int rc;

    if (g->n_queued == 0)
        return UTXO_OK;
    if ((vd = calloc(g->n_queued, sizeof *vd)) == NULL) {
        gen_drop_queued(g);
        return UTXO_ERR_NOMEM;
    }
    rc = chain_seq_submit_batch(g->seq, (const utxo_tx *const *)g->queued, g->n_queued, vd,
                                &acc);
    if (rc != UTXO_OK) {
        size_t k = 0;
        while (k < g->n_queued && vd[k].err == UTXO_OK)
            k++;
        snprintf(msg, msg_len,
                 "generator: block %u: the mempool rejected generated transaction %zu of %zu "
                 "(input %u): %s",
                 chain_seq_next_height(g->seq), k, g->n_queued, vd[k < g->n_queued ? k : 0].input,
                 utxo_strerror(rc));
    }
    free(vd);
    gen_drop_queued(g);
    return rc;
}
