/*
 * chain/invalid.c — the generator's bookends (chain/history_int.h): the genesis
 * coins, the long-run budget, the reserve coins locked in block 1 that the
 * generator never spends, and invalid.txs: transactions built against the
 * final chain that the mempool must reject, each written with the code it
 * must be rejected with. Every entry is checked against the generator's own
 * mempool before it is written, so the file never states a reason the
 * mempool does not give. Format: docs/CHAIN.md, "invalid.txs".
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "chain/history_int.h"
#include "utxo/ledger_int.h"

int gen_genesis_coins(gen *g, const chain_alloc *allocs, uint32_t n)
{
    utxo_tx *cb = utxo_tx_new();
    uint8_t txid[UTXO_HASH_BYTES];
    acc_state st;
    int rc = UTXO_ERR_NOMEM;

    if (cb == NULL)
        return rc;
    /* the genesis coinbase as chain_genesis made it */
    for (uint32_t i = 0; i < n; i++)
        if ((rc = utxo_tx_add_output(cb, allocs[i].value, allocs[i].id, NULL, 0)) != UTXO_OK)
            goto out;
    utxo_tx_txid(cb, txid);
    for (uint32_t i = 0; i < n; i++) {
        gen_coin c;
        memset(&c, 0, sizeof c);
        memcpy(c.op.txid, txid, UTXO_HASH_BYTES);
        c.op.index = i;
        c.value = allocs[i].value;
        c.kind = GK_P2PK;
        c.a = i % g->o.n_wallets;
        if ((rc = gen_add_coin(g, &c)) != UTXO_OK)
            goto out;
    }
    memcpy(g->last.hash, bp_chain_tip_hash(chain_seq_chain(g->seq)), UTXO_HASH_BYTES);
    if ((rc = acc_forest_state(bp_chain_forest(chain_seq_chain(g->seq)), &st)) != UTXO_OK)
        goto out;
    acc_state_digest(g->last.acc_digest, &st);
out:
    utxo_tx_free(cb);
    return rc;
}

int gen_measure_work(gen *g)
{
    uint8_t args[GEN_WORK_ARGS];
    const uint8_t *img;
    size_t len;
    utxo_vm_result res;
    int rc;

    gen_work_args(g, args);
    img = gen_work_image(&len);
    rc = utxo_predicate_run(&res, img, len, args, sizeof args, NULL, g->p.max_tx_cycles);
    if (rc != UTXO_OK)
        return rc;
    if (res.status != UTXO_VM_ACCEPTED)
        return UTXO_ERR_TX_REJECTED;
    g->work_budget = res.cycles + res.cycles / 8 + 1024;
    return UTXO_OK;
}

int gen_reserves(gen *g)
{
    static const unsigned kinds[] = {GK_TIMELOCK, GK_HASHLOCK, GK_HTLC_REFUND,
                                     GK_RSA, GK_WORK, GK_MULTISIG};
    uint32_t h = chain_seq_next_height(g->seq);
    int rc;

    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        gen_coin in = g->pay[0];
        gen_out o;
        g->pay[0] = g->pay[g->n_pay - 1];
        g->n_pay--;
        if ((rc = gen_out_special(g, &o, kinds[k], GEN_SPECIAL_MIN, h, UINT32_MAX)) != UTXO_OK ||
            (rc = gen_make_tx(g, &in, 1, &o, 1, in.a, true, NULL, NULL)) != UTXO_OK)
            return rc;
        if (k == 0)
            g->spent_coin = in; /* spent in this block: material for a spend of a spent output */
    }
    return UTXO_OK;
}

/* ---- invalid transactions --------------------------------------------------- */

typedef struct inv_writer {
    gen *g;
    FILE *f;
    int rc;
    char *msg;
    size_t msg_len;
} inv_writer;

/* Checks tx against the mempool (expect 0: accepted) and writes the entry. */
static void entry(inv_writer *w, int expect, utxo_tx *tx, const char *what)
{
    utxo_verdict vd;
    size_t len, n = 0;
    uint8_t *bytes;
    char *hex;
    int got;

    if (w->rc != UTXO_OK || tx == NULL) {
        if (w->rc == UTXO_OK && tx == NULL) {
            snprintf(w->msg, w->msg_len, "generator: cannot build the invalid transaction \"%s\"",
                     what);
            w->rc = UTXO_ERR_INTERNAL;
        }
        utxo_tx_free(tx);
        return;
    }
    /* as a receiver sees it: strictly decoded first, then the mempool */
    len = utxo_tx_get_length(tx, true);
    if ((bytes = malloc(len)) == NULL || utxo_tx_to_bytes(tx, bytes, len, &n) != UTXO_OK) {
        free(bytes);
        utxo_tx_free(tx);
        w->rc = UTXO_ERR_NOMEM;
        return;
    }
    {
        utxo_tx *back = NULL;
        got = utxo_tx_from_bytes(&back, bytes, len, &w->g->p, NULL);
        utxo_tx_free(back);
    }
    free(bytes);
    if (got == UTXO_OK)
        got = chain_seq_submit(w->g->seq, tx, &vd);
    if (got != expect) {
        snprintf(w->msg, w->msg_len,
                 "generator: invalid transaction \"%s\": the mempool answers %d (%s), expected %d",
                 what, got, utxo_strerror(got), expect);
        w->rc = UTXO_ERR_INTERNAL;
        utxo_tx_free(tx);
        return;
    }
    len = utxo_tx_get_length(tx, true);
    bytes = malloc(len);
    hex = malloc(2 * len + 1);
    if (bytes == NULL || hex == NULL || utxo_tx_to_bytes(tx, bytes, len, &n) != UTXO_OK) {
        w->rc = UTXO_ERR_NOMEM;
    } else {
        sodium_bin2hex(hex, 2 * len + 1, bytes, len);
        if (fprintf(w->f, "%d %s %s\n", expect, hex, what) < 0)
            w->rc = UTXO_ERR_IO;
        if (expect != 0)
            w->g->st->invalid++;
    }
    free(bytes);
    free(hex);
    utxo_tx_free(tx);
}

/* A one-input payment of coin c (not submitted). */
static utxo_tx *pay_tx(gen *g, const gen_coin *c, uint32_t to)
{
    gen_out o;
    utxo_tx *tx = NULL;

    memset(&o, 0, sizeof o);
    o.value = c->value / 2;
    memcpy(o.id, g->id[to], UTXO_HASH_BYTES);
    o.coin.kind = GK_P2PK;
    if (gen_make_tx(g, c, 1, &o, 1, c->kind == GK_P2PK ? c->a : 0, false, &tx, NULL) != UTXO_OK)
        return NULL;
    return tx;
}

/* Signs input 0 (a p2pk coin of wallet w) again after the base changed. */
static void resign(gen *g, utxo_tx *tx, uint32_t w)
{
    uint8_t sh[UTXO_HASH_BYTES], sig[UTXO_SIG_BYTES];

    utxo_tx_sighash(tx, g->p.chain_id, sh);
    utxo_sign_sighash(sig, sh, g->sk[w]);
    if (utxo_tx_set_args(tx, 0, sig, sizeof sig) != UTXO_OK) {
        /* cannot happen with a same-size witness; the check in entry() catches it */
    }
}

static const gen_coin *reserve(const gen *g, unsigned kind)
{
    for (size_t k = 0; k < g->n_spec; k++)
        if (g->spec[k].kind == kind && g->spec[k].ready == UINT32_MAX)
            return &g->spec[k];
    return NULL;
}

int gen_write_invalid(gen *g, const char *dir, char *msg, size_t msg_len)
{
    inv_writer w = {g, NULL, UTXO_OK, msg, msg_len};
    size_t plen = strlen(dir) + sizeof CHAIN_INVALID_FILE + 2;
    char *path = malloc(plen), *tmp = NULL;
    gen_coin c[10], fake;
    const gen_coin *r;
    utxo_tx *tx, *a;
    uint32_t n = g->o.n_wallets;

    if (path == NULL)
        return UTXO_ERR_NOMEM;
    snprintf(path, plen, "%s/%s", dir, CHAIN_INVALID_FILE);
    if ((tmp = malloc(plen + 4)) == NULL) {
        free(path);
        return UTXO_ERR_NOMEM;
    }
    snprintf(tmp, plen + 4, "%s.new", path);
    if (g->n_pay < 10) {
        snprintf(msg, msg_len, "generator: fewer than 10 coins left for invalid.txs");
        free(path);
        free(tmp);
        return UTXO_ERR_INTERNAL;
    }
    for (int i = 0; i < 10; i++)
        c[i] = g->pay[i]; /* the oldest-placed coins of the pool */
    if ((w.f = fopen(tmp, "w")) == NULL) {
        snprintf(msg, msg_len, "cannot create %s: %s", tmp, strerror(errno));
        free(path);
        free(tmp);
        return UTXO_ERR_IO;
    }
    fprintf(w.f, "# invalid.txs: transactions for the block after the tip of this chain, in\n"
                 "# order: expected code (0 = accepted, else utxo_strerror's code), the\n"
                 "# transaction in hex, what it is. Submit them in order to one mempool.\n");
    /* a valid payment, then a conflicting one and itself again */
    a = pay_tx(g, &c[0], (c[0].a + 1) % n);
    entry(&w, UTXO_OK, a ? utxo_tx_clone(a) : NULL, "valid payment (the next two depend on it)");
    entry(&w, UTXO_ERR_MP_CONFLICT, pay_tx(g, &c[0], (c[0].a + 2) % n),
          "spends the output the valid payment spends (double spend in the mempool)");
    entry(&w, UTXO_ERR_MP_DUPLICATE, a, "the valid payment again");
    /* outputs that do not exist or no longer exist */
    fake = c[1];
    randombytes_buf_deterministic(fake.op.txid, UTXO_HASH_BYTES, g->master);
    entry(&w, UTXO_ERR_TX_MISSING, pay_tx(g, &fake, 0), "spends an output that never existed");
    if (g->spent_coin.value > 0) /* there is a block 1 */
        entry(&w, UTXO_ERR_TX_MISSING, pay_tx(g, &g->spent_coin, 0),
              "spends an output spent in block 1 (double spend across blocks)");
    /* witnesses */
    if ((tx = pay_tx(g, &c[1], 0)) != NULL)
        tx->inputs[0].witness.args[5] ^= 1;
    entry(&w, UTXO_ERR_TX_REJECTED, tx, "pay-to-pubkey signature with one bit flipped");
    if ((tx = pay_tx(g, &c[2], 0)) != NULL) {
        utxo_witness *wt = &tx->inputs[0].witness;
        uint8_t img[GEN_IMAGE_MAX];
        size_t len;
        gen_coin other = c[2];
        other.a = (c[2].a + 1) % n;
        if (gen_coin_image(g, &other, img, sizeof img, &len) == UTXO_OK) {
            /* the image form is larger than the template form the builder
             * chose: pay its bytes from the change, so the fee rule holds
             * and the id check is what fails */
            utxo_output *chg = &tx->outputs[tx->n_outputs - 1];
            uint64_t more = (uint64_t)len * g->p.fee_per_byte;
            if (chg->value > more)
                chg->value -= more;
            (void)utxo_tx_set_witness(tx, 0, wt->budget, img, (uint32_t)len, wt->args,
                                      wt->args_len);
        }
    }
    entry(&w, UTXO_ERR_TX_PREDICATE_ID, tx, "witness image of another wallet's key");
    /* compact spends (witness form 2, docs/ENCODING.md): the template's
     * instance is checked against the id like an image */
    /* a generator spending with whole images (bench tx's baseline) has no
     * template spends to spoil */
    if (!g->o.full_images) {
        if ((tx = pay_tx(g, &c[2], 0)) != NULL) {
            utxo_witness *wt = &tx->inputs[0].witness;
            if (wt->form == UTXO_FORM_TEMPLATE && wt->params_len == UTXO_PUBKEY_BYTES)
                wt->params[0] ^= 1; /* another key: a valid instance, another id */
        }
        entry(&w, UTXO_ERR_TX_PREDICATE_ID, tx, "template spend naming another key");
    }
    if (!g->o.full_images) {
        const utxo_witness *wt;
        uint8_t params[UTXO_PUBKEY_BYTES + 1];
        tx = pay_tx(g, &c[3], 0);
        wt = tx != NULL ? &tx->inputs[0].witness : NULL;
        if (wt != NULL && wt->form == UTXO_FORM_TEMPLATE && wt->params_len == UTXO_PUBKEY_BYTES) {
            memcpy(params, wt->params, UTXO_PUBKEY_BYTES);
            params[UTXO_PUBKEY_BYTES] = 0;
            (void)utxo_tx_set_witness_template(tx, 0, wt->budget, wt->tmpl, params,
                                               sizeof params, wt->args, wt->args_len);
            /* one byte more: pay it, so the fee rule holds */
            if (tx->outputs[tx->n_outputs - 1].value > 8 * g->p.fee_per_byte)
                tx->outputs[tx->n_outputs - 1].value -= 8 * g->p.fee_per_byte;
            resign(g, tx, c[3].a);
        }
        entry(&w, UTXO_ERR_TX_TEMPLATE_PARAMS, tx,
              "pay-to-pubkey template with 33 parameter bytes");
    }
    if ((tx = pay_tx(g, &c[3], 0)) != NULL)
        tx->inputs[0].witness.budget = 1000; /* witness data: no signature changes */
    entry(&w, UTXO_ERR_TX_REJECTED, tx, "budget of 1000 cycles: the predicate runs out");
    if ((tx = pay_tx(g, &c[4], 0)) != NULL)
        tx->inputs[0].witness.budget = g->p.max_tx_cycles + 1;
    entry(&w, UTXO_ERR_TX_CYCLES, tx, "budget over the per-transaction cycle limit");
    /* values and fees */
    if ((tx = pay_tx(g, &c[5], 0)) != NULL) {
        tx->outputs[0].value += 1;
        resign(g, tx, c[5].a);
    }
    entry(&w, UTXO_ERR_TX_FEE, tx, "pays 1 unit less than the least fee");
    if ((tx = pay_tx(g, &c[6], 0)) != NULL) {
        tx->outputs[0].value = c[6].value + 1;
        resign(g, tx, c[6].a);
    }
    entry(&w, UTXO_ERR_TX_FEE, tx, "outputs worth more than the inputs");
    if ((tx = pay_tx(g, &c[7], 0)) != NULL) {
        tx->outputs[0].value = UTXO_MAX_MONEY + 1;
        resign(g, tx, c[7].a);
    }
    entry(&w, UTXO_ERR_TX_VALUE, tx, "an output above the maximum supply");
    /* structure */
    if ((tx = pay_tx(g, &c[8], 0)) != NULL) {
        const utxo_input *in = &tx->inputs[0];
        if (in->witness.form == UTXO_FORM_TEMPLATE)
            (void)utxo_tx_add_input_template(tx, &in->prevout, in->witness.budget,
                                             in->witness.tmpl, in->witness.params,
                                             in->witness.params_len, in->witness.args,
                                             in->witness.args_len);
        else
            (void)utxo_tx_add_input(tx, &in->prevout, in->witness.budget, in->witness.image,
                                    in->witness.image_len, in->witness.args,
                                    in->witness.args_len);
    }
    entry(&w, UTXO_ERR_TX_DUP_INPUT, tx, "one outpoint spent twice in the transaction");
    if ((tx = utxo_tx_new()) != NULL)
        (void)utxo_tx_add_output(tx, 1000, g->id[0], NULL, 0);
    entry(&w, UTXO_ERR_TX_NO_INPUTS, tx, "no inputs (a coinbase from outside the sequencer)");
    if ((tx = pay_tx(g, &c[9], 0)) != NULL) {
        uint8_t *big = calloc(g->p.max_datum_bytes + 1, 1);
        if (big != NULL)
            (void)utxo_tx_add_output(tx, 1000, g->id[0], big, g->p.max_datum_bytes + 1);
        free(big);
        resign(g, tx, c[9].a);
    }
    entry(&w, UTXO_ERR_TOO_LARGE, tx, "a datum over the size limit (refused by the decoder)");
    /* the standard predicates, spent wrongly */
    if ((r = reserve(g, GK_TIMELOCK)) != NULL)
        entry(&w, UTXO_ERR_TX_REJECTED, pay_tx(g, r, 0), "time lock spent before its height");
    if ((r = reserve(g, GK_HASHLOCK)) != NULL) {
        if ((tx = pay_tx(g, r, 0)) != NULL)
            tx->inputs[0].witness.args[0] ^= 0x80;
        entry(&w, UTXO_ERR_TX_REJECTED, tx, "hash lock with a wrong secret");
    }
    if ((r = reserve(g, GK_HTLC_REFUND)) != NULL)
        entry(&w, UTXO_ERR_TX_REJECTED, pay_tx(g, r, 0), "HTLC refund before its height");
    if ((r = reserve(g, GK_RSA)) != NULL) {
        if ((tx = pay_tx(g, r, 0)) != NULL)
            tx->inputs[0].witness.args[200] ^= 1;
        entry(&w, UTXO_ERR_TX_REJECTED, tx, "RSA signature with one bit flipped");
    }
    if ((r = reserve(g, GK_MULTISIG)) != NULL) {
        if ((tx = pay_tx(g, r, 0)) != NULL) {
            const utxo_witness *wt = &tx->inputs[0].witness;
            uint8_t args[4 + UTXO_SIG_BYTES];
            put_u32le(args, 1); /* key 0's signature only */
            memcpy(args + 4, wt->args + 4, UTXO_SIG_BYTES);
            (void)utxo_tx_set_args(tx, 0, args, sizeof args);
        }
        entry(&w, UTXO_ERR_TX_REJECTED, tx, "2-of-3 multisig with one signature");
    }
    if ((r = reserve(g, GK_WORK)) != NULL) {
        if ((tx = pay_tx(g, r, 0)) != NULL)
            tx->inputs[0].witness.budget = g->work_budget / 4;
        entry(&w, UTXO_ERR_TX_REJECTED, tx, "long run with a quarter of its budget");
    }
    /* reference inputs (witness form 3, docs/ENCODING.md): the long run
     * spent by reference to the code output, with the reference spoilt */
    if (g->have_code && !g->o.full_images && (r = reserve(g, GK_WORK)) != NULL) {
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1)
            tx->refs[0].index += 1000; /* no such output */
        entry(&w, UTXO_ERR_TX_REF_MISSING, tx, "reference to an output that does not exist");
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1)
            tx->refs[0] = c[5].op; /* a pay-to-pubkey output: an empty datum */
        entry(&w, UTXO_ERR_TX_REF_CODE, tx, "reference to an output whose datum holds no image");
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1)
            tx->refs[0] = tx->inputs[0].prevout;
        entry(&w, UTXO_ERR_TX_REF_SPENT, tx, "an output both referenced and spent");
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1)
            tx->inputs[0].witness.ref = 1;
        entry(&w, UTXO_ERR_TX_REF_INDEX, tx, "a witness naming reference 1 of one");
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1) {
            uint32_t k;
            (void)utxo_tx_add_ref(tx, &c[5].op, &k);
        }
        entry(&w, UTXO_ERR_TX_REF_UNUSED, tx, "a reference input no witness names");
        if ((tx = pay_tx(g, r, 0)) != NULL && tx->n_refs == 1 &&
            tx->inputs[0].witness.form == UTXO_FORM_REF) {
            /* parameters that change the instance: another id */
            uint8_t p = 1;
            free(tx->inputs[0].witness.params);
            tx->inputs[0].witness.params = malloc(1);
            if (tx->inputs[0].witness.params != NULL)
                tx->inputs[0].witness.params[0] = p;
            tx->inputs[0].witness.params_len = tx->inputs[0].witness.params ? 1 : 0;
            if (tx->outputs[0].value > 8 * g->p.fee_per_byte) /* pay the byte it adds */
                tx->outputs[0].value -= 8 * g->p.fee_per_byte;
        }
        entry(&w, UTXO_ERR_TX_PREDICATE_ID, tx, "code output with parameters its coin lacks");
    }
    if (fclose(w.f) != 0 && w.rc == UTXO_OK) {
        snprintf(msg, msg_len, "cannot write %s: %s", tmp, strerror(errno));
        w.rc = UTXO_ERR_IO;
    }
    if (w.rc == UTXO_OK && rename(tmp, path) != 0) {
        snprintf(msg, msg_len, "cannot rename %s: %s", tmp, strerror(errno));
        w.rc = UTXO_ERR_IO;
    }
    if (w.rc != UTXO_OK)
        unlink(tmp);
    free(path);
    free(tmp);
    return w.rc;
}
