/*
 * wallet/sync.c — blocks into the wallet (utxo/wallet.h), an adapter over
 * the block-connection core: stateless validation with the wallet's own
 * validator state (cn_validator_apply, whose effects give the layout, the
 * created outputs and every leaf hash, computed once), then, in one SQL
 * transaction, the coins that leave and enter, the history rows, and the
 * wallet's batch proof carried across the block with acc_proof_update from
 * the block's proof bundle alone (docs/ACCUMULATOR.md, "wallet proof
 * updates"). Also the per-coin proofs cut out of the batch proof, and a
 * self-check of the stored coins against the roots.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "wallet/wallet_int.h"
#include "connect/connect.h"

/* What the block means for the wallet beyond the core's effects (fx):
 * the bundle's spent leaves in target order, and the new coins to watch. */
typedef struct sync_plan {
    const cn_effects *fx;
    acc_hash *block_leaves;  /* the bundle's spent leaves, in target order */
    uint64_t *watch;         /* positions of new coins paying the wallet */
    size_t *watch_j;         /* their index in fx->created */
    uint32_t *watch_key;
    size_t n_watch;
} sync_plan;

static void plan_clear(sync_plan *s)
{
    free(s->block_leaves);
    free(s->watch);
    free(s->watch_j);
    free(s->watch_key);
    memset(s, 0, sizeof *s);
}

static int plan_build(sync_plan *s, const utxo_wallet *w, const cn_effects *fx,
                      const utxo_bundle *bundle)
{
    size_t nb = bundle->proof.n_targets, nc = fx->n_created;

    memset(s, 0, sizeof *s);
    s->fx = fx;
    s->block_leaves = calloc(nb ? nb : 1, sizeof *s->block_leaves);
    s->watch = calloc(nc ? nc : 1, sizeof *s->watch);
    s->watch_j = calloc(nc ? nc : 1, sizeof *s->watch_j);
    s->watch_key = calloc(nc ? nc : 1, sizeof *s->watch_key);
    if (!s->block_leaves || !s->watch || !s->watch_j || !s->watch_key)
        return UTXO_ERR_NOMEM;
    if (bundle->n_spent != nb || fx->n_spent != nb)
        return UTXO_ERR_BUNDLE_SPENDS; /* the validator accepted it: cannot happen */
    /* the core hashed every leaf once: spent ones at their proof targets */
    for (size_t k = 0; k < nb; k++)
        memcpy(s->block_leaves[bundle->spent[k].target], fx->spent_hash[k], ACC_HASH_BYTES);
    for (size_t j = 0; j < nc; j++) {
        int64_t key = wdb_find_id(w, fx->created[j].output->predicate_id);
        if (key >= 0) {
            s->watch[s->n_watch] = fx->count_before + j;
            s->watch_j[s->n_watch] = j;
            s->watch_key[s->n_watch] = (uint32_t)key;
            s->n_watch++;
        }
    }
    return UTXO_OK;
}

/* Deletes the wallet's coin at op if it has one, after appending its row
 * to the undo buffer; *value gets its value. Its reservation (pending) is
 * kept: a rollback that brings the coin back brings it back reserved for
 * the same payment (the undo record does not hold it); orphaned rows are
 * pruned with the undo data (wdb_undo_append). */
static int take_coin(utxo_wallet *w, sqlite3_stmt *sel, sqlite3_stmt *del,
                     const utxo_outpoint *op, uint64_t *value, bool *found, uint8_t **undo,
                     size_t *undo_len)
{
    int s;

    *found = false;
    *value = 0;
    sqlite3_reset(sel);
    sqlite3_bind_blob(sel, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(sel, 2, op->index);
    s = sqlite3_step(sel);
    if (s == SQLITE_DONE)
        return UTXO_OK;
    if (s != SQLITE_ROW)
        return wdb_sqlfail(w, "looking up a spent coin");
    *value = (uint64_t)sqlite3_column_int64(sel, 3);
    *found = true;
    if (wdb_undo_append_coin(undo, undo_len, sel) != UTXO_OK)
        return UTXO_ERR_NOMEM;
    sqlite3_reset(del);
    sqlite3_bind_blob(del, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(del, 2, op->index);
    if (sqlite3_step(del) != SQLITE_DONE)
        return wdb_sqlfail(w, "removing a spent coin");
    return UTXO_OK;
}

/* The SQL side of one block; runs inside BEGIN/COMMIT. saved is the
 * validator state before the block (for the undo record). */
static int write_block(utxo_wallet *w, const utxo_block *b, const sync_plan *s,
                       const acc_proof *newp, size_t *n_removed, const uint8_t *saved, size_t sl)
{
    uint8_t *undo = NULL;
    size_t undo_len = 0;
    sqlite3_stmt *sel = NULL, *del = NULL, *hist = NULL, *ins = NULL;
    int64_t seq = 0;
    int rc = UTXO_OK;

    *n_removed = 0;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT " WDB_COIN_COLUMNS " FROM coins WHERE txid = ?1 AND vout = ?2",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, "DELETE FROM coins WHERE txid = ?1 AND vout = ?2", -1, &del,
                           NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db,
                           "INSERT INTO history(height, seq, txid, received, spent)"
                           " VALUES (?1, ?2, ?3, ?4, ?5)",
                           -1, &hist, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db,
                           "INSERT INTO coins(position, txid, vout, value, predicate_id, datum,"
                           " height, leaf, key_idx) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &ins, NULL) != SQLITE_OK) {
        rc = wdb_sqlfail(w, "preparing the block's statements");
        goto done;
    }
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        uint64_t recv = 0, spent = 0;

        for (uint32_t o = 0; o < tx->n_outputs; o++)
            if (wdb_find_id(w, tx->outputs[o].predicate_id) >= 0)
                recv += tx->outputs[o].value;
        for (uint32_t i = 0; i < tx->n_inputs; i++) {
            const bp_src *src = &s->fx->L.src[s->fx->L.in_off[t] + i];
            uint64_t v;
            bool found;
            if (src->tx != BP_EXTERNAL) { /* an output of this block */
                const utxo_output *o = &b->txs[src->tx]->outputs[src->out];
                if (wdb_find_id(w, o->predicate_id) >= 0)
                    spent += o->value;
                continue;
            }
            if ((rc = take_coin(w, sel, del, &tx->inputs[i].prevout, &v, &found, &undo,
                                &undo_len)) != UTXO_OK)
                goto done;
            if (found) {
                spent += v;
                (*n_removed)++;
            }
        }
        if (recv == 0 && spent == 0)
            continue;
        sqlite3_reset(hist);
        sqlite3_bind_int64(hist, 1, b->header.height);
        sqlite3_bind_int64(hist, 2, seq++);
        sqlite3_bind_blob(hist, 3, s->fx->txids[t], UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(hist, 4, (int64_t)recv);
        sqlite3_bind_int64(hist, 5, (int64_t)spent);
        if (sqlite3_step(hist) != SQLITE_DONE) {
            rc = wdb_sqlfail(w, "recording history");
            goto done;
        }
    }
    for (size_t k = 0; k < s->n_watch; k++) {
        const acc_leaf *c = &s->fx->created[s->watch_j[k]];
        if (s->watch[k] > (uint64_t)INT64_MAX) {
            rc = wdb_fail(w, UTXO_ERR_TOO_LARGE, "leaf position beyond 2^63");
            goto done;
        }
        sqlite3_reset(ins);
        sqlite3_bind_int64(ins, 1, (int64_t)s->watch[k]);
        sqlite3_bind_blob(ins, 2, c->outpoint.txid, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, c->outpoint.index);
        sqlite3_bind_int64(ins, 4, (int64_t)c->output->value);
        sqlite3_bind_blob(ins, 5, c->output->predicate_id, UTXO_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(ins, 6, c->output->datum_len ? (const void *)c->output->datum : "",
                          (int)c->output->datum_len, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 7, c->height);
        sqlite3_bind_blob(ins, 8, s->fx->adds[s->watch_j[k]], ACC_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 9, s->watch_key[k]);
        if (sqlite3_step(ins) != SQLITE_DONE) {
            rc = wdb_sqlfail(w, "recording a new coin");
            goto done;
        }
    }
    if ((rc = wdb_undo_put(w, b->header.height, saved, sl, &w->proof, undo, undo_len)) == UTXO_OK)
        rc = wdb_store_chain_state(w, newp);
done:
    free(undo);
    sqlite3_finalize(sel);
    sqlite3_finalize(del);
    sqlite3_finalize(hist);
    sqlite3_finalize(ins);
    return rc;
}

int utxo_wallet_apply_block(utxo_wallet *w, const utxo_block *b, const utxo_bundle *bundle,
                            utxo_verdict *out)
{
    uint8_t saved[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t sl = 0, n_mine, n_removed = 0;
    utxo_verdict tmp;
    acc_state pre;
    acc_proof newp;
    acc_hash *nl = NULL;
    sync_plan s;
    cn_effects fx;
    bool applied = false, in_txn = false;
    uint32_t keys0, paid0;
    int rc;

    if (out == NULL)
        out = &tmp;
    memset(out, 0, sizeof *out);
    memset(&s, 0, sizeof s);
    memset(&fx, 0, sizeof fx);
    acc_proof_init(&newp);
    if (!wdb_enter(w) || b == NULL || bundle == NULL)
        return out->err = UTXO_ERR_ARG;
    keys0 = w->n_keys;
    paid0 = w->gap_paid;
    n_mine = w->proof.n_targets;
    wdb_acc_state(w, &pre);
    if ((rc = utxo_validator_state_to_bytes(w->val, saved, sizeof saved, &sl)) != UTXO_OK)
        return out->err = rc;
    /* the stateless validator's side of the core, keeping the effects */
    if ((rc = cn_validator_apply(w->val, b, bundle, &fx, out)) != UTXO_OK) {
        wdb_fail(w, rc, "block %u rejected: %s (tx %u, input %u)", b->header.height,
                 utxo_strerror(rc), out->tx, out->input);
        cn_effects_clear(&fx);
        return rc;
    }
    applied = true;
    /* the block is valid: from here on everything happens in its SQL
     * transaction, the keys a rescan derives for it included */
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        goto fail;
    in_txn = true;
    /* the state before this block must be the file's (another handle may
     * have applied blocks since this one was opened) */
    {
        uint8_t *stored = NULL;
        size_t stl = 0;
        if ((rc = wdb_meta_get(w, "state", &stored, &stl)) != UTXO_OK)
            goto fail;
        if (stl != sl || memcmp(stored, saved, sl) != 0)
            rc = wdb_fail(w, UTXO_ERR_WALLET_CHAIN,
                          "the wallet file was changed by another handle: reopen it");
        free(stored);
        if (rc != UTXO_OK)
            goto fail;
    }
    if ((rc = wdb_gap_extend(w, b)) != UTXO_OK) /* a rescan watches ahead (db.c) */
        goto fail;
    if ((rc = plan_build(&s, w, &fx, bundle)) != UTXO_OK)
        goto fail;
    if ((nl = calloc(n_mine + s.n_watch + 1, sizeof *nl)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto fail;
    }
    rc = acc_proof_update(&newp, nl, &w->proof, w->leaves, n_mine, &pre, &bundle->proof,
                          s.block_leaves, bundle->proof.n_targets, fx.adds, fx.n_created, s.watch,
                          s.n_watch);
    if (rc == UTXO_ERR_ACC_PROOF) {
        /* the block is valid: its bundle's proof, in another shape than the
         * forest's (proofs over deleted leaves are not unique), cannot carry
         * the wallet's; nothing applied */
        wdb_fail(w, rc,
                 "block %u: its bundle's proof verifies but is not in the shape the forest "
                 "gives, so it cannot carry the wallet's proof: get this block's bundle from "
                 "another node", b->header.height);
        goto fail;
    }
    if (rc != UTXO_OK) {
        wdb_fail(w, rc, "carrying the wallet's proof across block %u", b->header.height);
        goto fail;
    }
    if ((rc = write_block(w, b, &s, &newp, &n_removed, saved, sl)) != UTXO_OK)
        goto fail;
    /* the coins removed by outpoint are exactly the targets the update dropped */
    if (n_mine - n_removed + s.n_watch != newp.n_targets) {
        rc = wdb_fail(w, UTXO_ERR_INTERNAL, "coins and proof disagree after block %u",
                      b->header.height);
        goto fail;
    }
    if ((rc = wdb_exec(w, "COMMIT")) != UTXO_OK)
        goto fail;
    acc_proof_clear(&w->proof);
    w->proof = newp;
    free(w->leaves);
    w->leaves = nl;
    plan_clear(&s);
    cn_effects_clear(&fx);
    return out->err = UTXO_OK;
fail:
    if (in_txn)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    w->gap_paid = paid0; /* the keys derived for the block went with the ROLLBACK */
    wdb_keys_truncate(w, keys0);
    if (applied) { /* put the validator back where the file says it is */
        utxo_validator *v = NULL;
        if (utxo_validator_from_state(&v, &w->params, saved, sl, 0, NULL) == UTXO_OK) {
            utxo_validator_free(w->val);
            w->val = v;
        }
    }
    acc_proof_clear(&newp);
    free(nl);
    plan_clear(&s);
    cn_effects_clear(&fx);
    return out->err = rc;
}

/* The index of the coin at op among the proof's targets, or -1. */
static int64_t coin_index(utxo_wallet *w, const utxo_outpoint *op, uint64_t *pos)
{
    sqlite3_stmt *st = NULL;
    int64_t r = -1;

    if (sqlite3_prepare_v2(w->db, "SELECT position FROM coins WHERE txid = ?1 AND vout = ?2", -1,
                           &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_blob(st, 1, op->txid, UTXO_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, op->index);
    if (sqlite3_step(st) == SQLITE_ROW) {
        *pos = (uint64_t)sqlite3_column_int64(st, 0);
        for (size_t i = 0; i < w->proof.n_targets; i++)
            if (w->proof.targets[i] == *pos)
                r = (int64_t)i;
    }
    sqlite3_finalize(st);
    return r;
}

int utxo_wallet_coin_proof(utxo_wallet *w, const utxo_outpoint *op, uint8_t *out, size_t out_len,
                           size_t *written, uint64_t *position)
{
    acc_hash roots[ACC_MAX_ROOTS];
    acc_rec_list rec = {0};
    acc_pos *addr = NULL;
    acc_proof p;
    acc_state st;
    size_t na = 0;
    uint64_t pos = 0;
    int64_t ci;
    int rc;

    if (written)
        *written = 0;
    if (position)
        *position = 0;
    if (!wdb_enter(w) || op == NULL || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    acc_proof_init(&p);
    if ((ci = coin_index(w, op, &pos)) < 0)
        return wdb_fail(w, UTXO_ERR_ARG, "not an unspent coin of this wallet");
    wdb_acc_state(w, &st);
    /* every sibling a one-target proof needs is a node the batch walk knows */
    if ((rc = acc_walk_record(&st, &w->proof, w->leaves, w->proof.n_targets, roots, &rec)) !=
            UTXO_OK ||
        (rc = acc_proof_positions(st.count, &pos, 1, &addr, &na)) != UTXO_OK)
        goto done;
    p.n_targets = 1;
    p.n_slots = na;
    p.targets = malloc(sizeof *p.targets);
    p.empty = calloc((na + 7) / 8 + 1, 1);
    p.hashes = malloc((na ? na : 1) * sizeof *p.hashes);
    if (!p.targets || !p.empty || !p.hashes) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    p.targets[0] = pos;
    for (size_t k = 0; k < na; k++) {
        const acc_rec *hit = NULL;
        for (size_t r = 0; r < rec.n && hit == NULL; r++)
            if (rec.v[r].row == addr[k].row && rec.v[r].idx == addr[k].idx)
                hit = &rec.v[r];
        if (hit == NULL) {
            rc = wdb_fail(w, UTXO_ERR_INTERNAL, "sibling (%u, %llu) not in the batch walk",
                          addr[k].row, (unsigned long long)addr[k].idx);
            goto done;
        }
        if (acc_is_empty(hit->old))
            p.empty[k >> 3] |= (uint8_t)(1u << (k & 7));
        else
            memcpy(p.hashes[p.n_hashes++], hit->old, ACC_HASH_BYTES);
    }
    if ((rc = acc_stateless_verify(&st, &p, &w->leaves[ci], 1)) != UTXO_OK) {
        wdb_fail(w, rc, "cut-out proof does not verify");
        goto done;
    }
    if ((rc = acc_proof_to_bytes(&p, out, out_len, written)) != UTXO_OK)
        goto done;
    if (position)
        *position = pos;
done:
    free(rec.v);
    free(addr);
    acc_proof_clear(&p);
    return rc;
}

int utxo_wallet_verify(utxo_wallet *w)
{
    sqlite3_stmt *st = NULL;
    acc_state acc;
    size_t k = 0;
    int s, rc = UTXO_OK;

    if (!wdb_enter(w))
        return UTXO_ERR_ARG;
    if (sqlite3_prepare_v2(w->db,
                           "SELECT txid, vout, value, predicate_id, datum, height, position, leaf"
                           " FROM coins ORDER BY position",
                           -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "reading coins");
    while (rc == UTXO_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
        utxo_outpoint op;
        utxo_output o;
        acc_hash h;
        if (k >= w->proof.n_targets || sqlite3_column_bytes(st, 0) != UTXO_HASH_BYTES ||
            sqlite3_column_bytes(st, 3) != UTXO_HASH_BYTES) {
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "coin rows do not match the proof");
            break;
        }
        memcpy(op.txid, sqlite3_column_blob(st, 0), UTXO_HASH_BYTES);
        op.index = (uint32_t)sqlite3_column_int64(st, 1);
        o.value = (uint64_t)sqlite3_column_int64(st, 2);
        memcpy(o.predicate_id, sqlite3_column_blob(st, 3), UTXO_HASH_BYTES);
        o.datum_len = (uint32_t)sqlite3_column_bytes(st, 4);
        o.datum = o.datum_len ? (uint8_t *)sqlite3_column_blob(st, 4) : NULL;
        acc_leaf_hash(h, &op, &o, (uint32_t)sqlite3_column_int64(st, 5),
                      (uint64_t)sqlite3_column_int64(st, 6));
        if ((uint64_t)sqlite3_column_int64(st, 6) != w->proof.targets[k] ||
            memcmp(h, w->leaves[k], ACC_HASH_BYTES) != 0)
            rc = wdb_fail(w, UTXO_ERR_ACC_PROOF, "coin at position %llu: leaf data differ",
                          (unsigned long long)w->proof.targets[k]);
        k++;
    }
    sqlite3_finalize(st);
    if (rc != UTXO_OK)
        return rc;
    if (k != w->proof.n_targets)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "coin rows do not match the proof");
    wdb_acc_state(w, &acc);
    if ((rc = acc_stateless_verify(&acc, &w->proof, w->leaves, k)) != UTXO_OK)
        return wdb_fail(w, rc, "wallet proof does not verify against its roots");
    return UTXO_OK;
}
