/*
 * check.c — the store's integrity check (utxo_store_check), and the check
 * every served proof bundle passes first (utxo_store_get_bundle).
 *
 * A bundle proves the outputs its block spends against the accumulator
 * roots *before* the block; the store keeps only the roots after its tip.
 * So bundles are checked by walking the accumulator forward from genesis,
 * accumulator work only (no predicate runs): for each block, its bundle
 * names it and the leaf count before it, its batch proof verifies against
 * the walked roots with the leaf hashes of the block's spent outputs, and
 * after the deletions and the block's new outputs the digest is the one the
 * block header commits to (the header is signed and chained by hash). A
 * bundle that passes is exactly what a stateless validator accepts for
 * that block's accumulator step.
 *
 * utxo_store_check adds what a replay would have had to get right: SQLite's
 * integrity_check; every block row (decodes, hash column, height, previous
 * hash, sequencer signature, time, leaf count); the metadata against the
 * tip and the walk; every forest node against its children and the roots
 * against the metadata; every unspent row against its leaf in the forest,
 * and the live leaves against the rows; the undo records of the last blocks
 * against their blocks and bundles (the bundle being proven, an undo record
 * equal to it is right). Each problem is reported with where it is; the
 * check goes on after one, as far as what it found lets it. docs/STORE.md,
 * "Checking a store".
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sqlstore/store_int.h"
#include "prover/blockproof.h"

/* ---- one block's accumulator step ------------------------------------------ */

int store_bundle_step(utxo_store *s, acc_state *acc, const utxo_block *b, const uint8_t *bytes,
                      size_t len)
{
    uint32_t h = b->header.height, bt = 0, bi = 0;
    utxo_bundle *bd = NULL;
    bp_layout L;
    acc_leaf *spent = NULL, *created = NULL;
    uint8_t *bound = NULL;
    uint8_t hash[UTXO_HASH_BYTES], digest[UTXO_HASH_BYTES];
    acc_state next;
    size_t off = 0, k = 0;
    int rc;

    memset(&L, 0, sizeof L);
    rc = utxo_bundle_from_bytes(&bd, bytes, len, &s->params, &off);
    if (rc != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u does not decode (offset %zu: %s)", h, off,
                        utxo_strerror(rc));
        goto done;
    }
    utxo_header_hash(&b->header, hash);
    if (memcmp(hash, bd->block_hash, UTXO_HASH_BYTES) != 0) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "bundle of block %u names another block", h);
        goto done;
    }
    if (bd->leaf_count != acc->count) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u was made against %llu leaves; the chain has %llu "
                        "before that block", h, (unsigned long long)bd->leaf_count,
                        (unsigned long long)acc->count);
        goto done;
    }
    if (bd->n_receipts != 0) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u carries segment receipts (the store writes none)", h);
        goto done;
    }
    if ((rc = bp_layout_build(&L, b, &bt, &bi)) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block %u tx %u input %u: %s", h, bt, bi,
                        utxo_strerror(rc));
        goto done;
    }
    if (L.n_external != bd->n_spent || bd->proof.n_targets != L.n_external) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u proves %zu spent outputs; the block spends %zu", h,
                        bd->n_spent, L.n_external);
        goto done;
    }
    rc = UTXO_ERR_NOMEM;
    if ((spent = malloc((L.n_external ? L.n_external : 1) * sizeof *spent)) == NULL ||
        (created = malloc((L.n_created ? L.n_created : 1) * sizeof *created)) == NULL ||
        (bound = calloc(L.n_external ? L.n_external : 1, 1)) == NULL)
        goto done;
    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            const bp_src *src = &L.src[L.in_off[t] + i];
            const bp_spent *e;
            if (src->tx != BP_EXTERNAL)
                continue;
            e = &bd->spent[src->out];
            if (e->target >= L.n_external || bound[e->target]) {
                rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                                "bundle of block %u: spent entry %zu has a bad target", h, k);
                goto done;
            }
            bound[e->target] = 1;
            spent[e->target].outpoint = b->txs[t]->inputs[i].prevout;
            spent[e->target].output = &e->output;
            spent[e->target].height = e->height;
            k++;
        }
    bp_layout_created(&L, b, created);
    next = *acc;
    rc = acc_stateless_apply_block(&next, &bd->proof, spent, L.n_external, created, L.n_created);
    if (rc != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u does not verify against the accumulator before the "
                        "block (%s)", h, utxo_strerror(rc));
        goto done;
    }
    acc_state_digest(digest, &next);
    if (memcmp(digest, b->header.acc_digest, UTXO_HASH_BYTES) != 0) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "bundle of block %u: after it the accumulator is not the one the block "
                        "header commits to", h);
        goto done;
    }
    *acc = next;
    rc = UTXO_OK;
done:
    bp_layout_clear(&L);
    utxo_bundle_free(bd);
    free(spent);
    free(created);
    free(bound);
    return rc;
}

/* Reads the raw blob of table st at height h (a new buffer). */
int store_height_blob(utxo_store *s, enum store_stmt st, uint32_t h, uint8_t **out, size_t *len)
{
    sqlite3_stmt *q = store_stmt(s, st);
    int sc, rc = UTXO_OK;

    *out = NULL;
    *len = 0;
    sqlite3_bind_int64(q, 1, h);
    sc = sqlite3_step(q);
    if (sc == SQLITE_DONE) {
        rc = store_fail(s, UTXO_ERR_STORE_HEIGHT, "no %s record at height %u",
                        st == ST_UNDO_GET ? "undo" : st == ST_BUNDLE_GET ? "bundle" : "", h);
    } else if (sc != SQLITE_ROW) {
        rc = store_sql_fail(s, "read record");
    } else {
        size_t n = (size_t)sqlite3_column_bytes(q, 0);
        if ((*out = malloc(n ? n : 1)) == NULL) {
            rc = UTXO_ERR_NOMEM;
        } else {
            if (n)
                memcpy(*out, sqlite3_column_blob(q, 0), n);
            *len = n;
        }
    }
    sqlite3_reset(q);
    return rc;
}

/* One step of the serving walk: block h's bundle (read from the table)
 * against s->serve_acc; a checkpoint is kept every s->serve_every
 * blocks (a failure to grow the array keeps none: it only costs time). */
static int serve_step(utxo_store *s, uint32_t h, const uint8_t *bytes, size_t len)
{
    utxo_block *b = NULL;
    uint8_t *own = NULL;
    int rc;

    if ((rc = store_block_load(s, h, &b, NULL, NULL, NULL)) != UTXO_OK)
        goto done;
    if (bytes == NULL && (rc = store_height_blob(s, ST_BUNDLE_GET, h, &own, &len)) != UTXO_OK)
        goto done;
    rc = store_bundle_step(s, &s->serve_acc, b, bytes ? bytes : own, len);
    s->serve_steps++;
    if (rc == UTXO_OK) {
        s->serve_next = h + 1;
        if (s->serve_next % s->serve_every == 0 &&
            s->serve_next / s->serve_every == s->n_serve_ckpt + 1) {
            if (s->n_serve_ckpt == s->cap_serve_ckpt) {
                size_t cap = s->cap_serve_ckpt ? 2 * s->cap_serve_ckpt : 16;
                acc_state *c = realloc(s->serve_ckpt, cap * sizeof *c);
                if (c != NULL) {
                    s->serve_ckpt = c;
                    s->cap_serve_ckpt = cap;
                }
            }
            if (s->n_serve_ckpt < s->cap_serve_ckpt)
                s->serve_ckpt[s->n_serve_ckpt++] = s->serve_acc;
        }
    }
done:
    utxo_block_free(b);
    free(own);
    return rc;
}

void store_serve_reset(utxo_store *s)
{
    s->serve_next = 0;
    s->n_serve_ckpt = 0;
}

/* Brings the serving walk to `at` (the state after blocks 0 .. at-1),
 * from where it is when that is not past `at`, else from the last
 * checkpoint at or below `at` (before, an earlier height walked again
 * from genesis: a client asking for heights 0 and the tip in turn made
 * each request cost the whole chain, under the store's one lock), or from
 * a later checkpoint when one is nearer. */
static int serve_seek(utxo_store *s, uint32_t at)
{
    int rc = UTXO_OK;
    size_t k = at / s->serve_every; /* checkpoints at or below `at` */

    if (k > s->n_serve_ckpt)
        k = s->n_serve_ckpt;
    if (s->serve_next == 0 || at < s->serve_next ||
        (k > 0 && k * s->serve_every > s->serve_next)) {
        if (k > 0) {
            s->serve_acc = s->serve_ckpt[k - 1];
            s->serve_next = (uint32_t)(k * s->serve_every);
        } else {
            acc_state_init(&s->serve_acc);
            s->serve_next = 0;
        }
    }
    while (rc == UTXO_OK && s->serve_next < at)
        rc = serve_step(s, s->serve_next, NULL, 0);
    return rc;
}

int store_serve_check(utxo_store *s, uint32_t h, const uint8_t *bytes, size_t len)
{
    int rc = serve_seek(s, h);

    if (rc == UTXO_OK)
        rc = serve_step(s, h, bytes, len);
    if (rc != UTXO_OK) {
        s->serve_next = 0;
        if (rc == UTXO_ERR_STORE_CORRUPT)
            store_fail(s, rc, "%s: refusing to serve the bundle of block %u: %s", s->path, h,
                       s->msg);
    }
    return rc;
}

int utxo_store_acc_state_at(utxo_store *s, uint32_t height, uint8_t *out, size_t out_len,
                            size_t *written)
{
    int rc;

    if (written)
        *written = 0;
    if (!store_enter(s) || out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if (height >= s->meta.n_blocks)
        return store_fail(s, UTXO_ERR_STORE_HEIGHT, "%s: no block at height %u (%u blocks held)",
                          s->path, height, s->meta.n_blocks);
    if ((rc = serve_seek(s, height + 1)) != UTXO_OK) {
        s->serve_next = 0;
        return rc;
    }
    return acc_state_to_bytes(&s->serve_acc, out, out_len, written);
}

/* ---- undo records against their blocks and bundles ----------------------- */

int store_undo_verify(utxo_store *s, const utxo_block *b, const store_spent *v, size_t n)
{
    uint32_t h = b->header.height, bt = 0, bi = 0;
    utxo_bundle *bd = NULL;
    uint8_t *bytes = NULL;
    size_t len = 0, k = 0;
    bp_layout L;
    int rc;

    memset(&L, 0, sizeof L);
    if ((rc = bp_layout_build(&L, b, &bt, &bi)) != UTXO_OK) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "block %u tx %u input %u: %s", h, bt, bi,
                        utxo_strerror(rc));
        goto done;
    }
    if (L.n_external != n) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "undo record of block %u holds %zu outputs; the block spends %zu", h, n,
                        L.n_external);
        goto done;
    }
    if ((rc = store_height_blob(s, ST_BUNDLE_GET, h, &bytes, &len)) != UTXO_OK)
        goto done;
    if (utxo_bundle_from_bytes(&bd, bytes, len, &s->params, NULL) != UTXO_OK ||
        bd->n_spent != n || bd->proof.n_targets != n) {
        rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                        "undo record of block %u cannot be checked: the block's bundle is damaged",
                        h);
        goto done;
    }
    for (uint32_t t = 0; t < b->n_txs; t++)
        for (uint32_t i = 0; i < b->txs[t]->n_inputs; i++) {
            const bp_src *src = &L.src[L.in_off[t] + i];
            const bp_spent *e;
            const store_spent *u;
            if (src->tx != BP_EXTERNAL)
                continue;
            k = src->out;
            e = &bd->spent[k];
            u = &v[k];
            if (memcmp(&u->outpoint.txid, b->txs[t]->inputs[i].prevout.txid, UTXO_HASH_BYTES) != 0 ||
                u->outpoint.index != b->txs[t]->inputs[i].prevout.index) {
                rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                                "undo record of block %u, entry %zu: not the output tx %u input %u "
                                "spends", h, k, t, i);
                goto done;
            }
            if (e->target >= n || u->position != bd->proof.targets[e->target] ||
                u->height != e->height || u->output.value != e->output.value ||
                memcmp(u->output.predicate_id, e->output.predicate_id, UTXO_HASH_BYTES) != 0 ||
                u->output.datum_len != e->output.datum_len ||
                (u->output.datum_len &&
                 memcmp(u->output.datum, e->output.datum, u->output.datum_len) != 0)) {
                rc = store_fail(s, UTXO_ERR_STORE_CORRUPT,
                                "undo record of block %u, entry %zu (tx %u input %u): the spent "
                                "output differs from the one the block's proof bundle proves", h,
                                k, t, i);
                goto done;
            }
        }
    rc = UTXO_OK;
done:
    bp_layout_clear(&L);
    utxo_bundle_free(bd);
    free(bytes);
    return rc;
}

/* ---- utxo_store_check --------------------------------------------------- */

#define CHECK_MAX_REPORTS 1000

typedef struct checker {
    utxo_store *s;
    utxo_store_check_fn fn;
    void *arg;
    uint64_t problems;
} checker;

static void problem(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(checker *c, const char *fmt, ...)
{
    char buf[768];
    va_list ap;

    c->problems++;
    if (c->fn == NULL || c->problems > CHECK_MAX_REPORTS)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (c->problems == CHECK_MAX_REPORTS)
        snprintf(buf, sizeof buf, "more than %d problems; the rest are not listed",
                 CHECK_MAX_REPORTS - 1);
    c->fn(c->arg, buf);
}

/* A failure that is not about the store's content (I/O, memory) stops the
 * check with the error; content problems are reported and return OK. */
static bool fatal(int rc)
{
    return rc != UTXO_OK && rc != UTXO_ERR_STORE_CORRUPT && rc != UTXO_ERR_STORE_HEIGHT;
}

static int prep(utxo_store *s, sqlite3_stmt **q, const char *sql)
{
    if (sqlite3_prepare_v2(s->db, sql, -1, q, NULL) != SQLITE_OK)
        return store_sql_fail(s, "prepare a check");
    return UTXO_OK;
}

static int check_sqlite(checker *c)
{
    sqlite3_stmt *q = NULL;
    int sc, rc;

    if ((rc = prep(c->s, &q, "PRAGMA integrity_check(100)")) != UTXO_OK)
        return rc;
    while ((sc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q, 0);
        if (t != NULL && strcmp(t, "ok") != 0)
            problem(c, "SQLite integrity_check: %s", t);
    }
    if (sc != SQLITE_DONE) {
        if ((sqlite3_extended_errcode(c->s->db) & 0xff) == SQLITE_CORRUPT ||
            (sqlite3_extended_errcode(c->s->db) & 0xff) == SQLITE_NOTADB)
            problem(c, "SQLite integrity_check: %s", sqlite3_errmsg(c->s->db));
        else
            rc = store_sql_fail(c->s, "integrity_check");
    }
    sqlite3_finalize(q);
    return rc;
}

/* Rows of the height-keyed tables past the tip. */
static int check_extra_rows(checker *c)
{
    static const char *const tables[] = {"blocks", "undo", "bundles", "txs"};
    int rc = UTXO_OK;

    for (size_t i = 0; i < 4 && rc == UTXO_OK; i++) {
        char sql[128];
        sqlite3_stmt *q = NULL;
        snprintf(sql, sizeof sql, "SELECT height FROM %s WHERE height >= ?1 OR height < 0",
                 tables[i]);
        if ((rc = prep(c->s, &q, sql)) != UTXO_OK)
            return rc;
        sqlite3_bind_int64(q, 1, c->s->meta.n_blocks);
        while (sqlite3_step(q) == SQLITE_ROW)
            problem(c, "%s: a row at height %lld, beyond the tip (the store holds %u blocks)",
                    tables[i], (long long)sqlite3_column_int64(q, 0), c->s->meta.n_blocks);
        sqlite3_finalize(q);
    }
    return rc;
}

/*
 * The heights that have a row in blocks, in order, so that a walk over
 * heights costs what the table holds and not what the meta row claims (an
 * edited n_blocks of 4e9 would otherwise be 4e9 lookups).
 */
typedef struct block_rows {
    utxo_store *s;
    sqlite3_stmt *q;
    sqlite3_int64 next;     /* the next height with a row; -1: none left */
    int rc;                 /* a failed step */
} block_rows;

static void rows_step(block_rows *r)
{
    int st = sqlite3_step(r->q);

    r->next = -1;
    if (st == SQLITE_ROW)
        r->next = sqlite3_column_int64(r->q, 0);
    else if (st != SQLITE_DONE && r->rc == UTXO_OK)
        r->rc = store_sql_fail(r->s, "reading the heights of the blocks table");
}

/* Rows at heights from <= h < to. */
static int rows_open(utxo_store *s, block_rows *r, uint32_t from, uint32_t to)
{
    int rc;

    r->s = s;
    r->q = NULL;
    r->rc = UTXO_OK;
    r->next = -1;
    rc = prep(s, &r->q, "SELECT height FROM blocks WHERE height >= ?1 AND height < ?2 "
                        "ORDER BY height");
    if (rc != UTXO_OK)
        return rc;
    sqlite3_bind_int64(r->q, 1, from);
    sqlite3_bind_int64(r->q, 2, to);
    rows_step(r);
    return UTXO_OK;
}

/* Heights h, h+1, ... in a row that have no block row, up to the next row
 * or `to` (0: h has a row, which the cursor then passes). Heights must be
 * asked for in increasing order. */
static uint32_t rows_gap_to(block_rows *r, uint32_t h, uint32_t to)
{
    while (r->next >= 0 && r->next < (sqlite3_int64)h)
        rows_step(r);
    if (r->next == (sqlite3_int64)h) {
        rows_step(r);
        return 0;
    }
    return (uint32_t)((r->next >= 0 ? r->next : (sqlite3_int64)to) - h);
}

/* The chain of blocks and the bundle walk; *walked: blocks whose bundles
 * verified in a row from genesis (all of them when the walk completed). */
static int check_chain(checker *c, acc_state *acc, uint32_t *walked, uint64_t *n_txs)
{
    utxo_store *s = c->s;
    sqlite3_stmt *hq = NULL, *tq = NULL;
    block_rows have;
    uint8_t prev[UTXO_HASH_BYTES] = {0}, hash[UTXO_HASH_BYTES];
    uint64_t prev_time = s->params.genesis_time;
    bool walking = true, chained = true;
    int rc;

    acc_state_init(acc);
    *walked = 0;
    *n_txs = 0;
    if ((rc = prep(s, &hq, "SELECT hash, leaf_count, n_txs FROM blocks WHERE height = ?1")) !=
            UTXO_OK ||
        (rc = prep(s, &tq, "SELECT height, idx FROM txs WHERE txid = ?1")) != UTXO_OK) {
        sqlite3_finalize(hq);
        return rc;
    }
    if ((rc = rows_open(s, &have, 0, s->meta.n_blocks)) != UTXO_OK) {
        sqlite3_finalize(hq);
        sqlite3_finalize(tq);
        return rc;
    }
    for (uint32_t h = 0; h < s->meta.n_blocks; h++) {
        utxo_block *b = NULL;
        uint8_t *bytes = NULL;
        size_t len = 0;
        sqlite3_int64 leaf_count = -1, ntx = -1;
        uint32_t gap = rows_gap_to(&have, h, s->meta.n_blocks);

        if (gap > 1) { /* a run of heights without rows: one problem, not one per height */
            problem(c, "blocks: the store holds no block at heights %u-%u (the meta row says "
                       "%u blocks)%s", h, h + gap - 1, s->meta.n_blocks,
                    walking ? " (the bundles from there on are not checked: the accumulator "
                              "before them is unknown)" : "");
            walking = chained = false;
            h += gap - 1;
            continue;
        }
        rc = store_block_load(s, h, &b, NULL, NULL, NULL);
        if (fatal(rc))
            break;
        if (rc != UTXO_OK) {
            problem(c, "blocks: %s%s", s->msg,
                    walking && h + 1 < s->meta.n_blocks
                        ? " (the bundles from there on are not checked: the accumulator before "
                          "them is unknown)" : "");
            walking = chained = false;
            rc = UTXO_OK;
            continue;
        }
        utxo_header_hash(&b->header, hash);
        sqlite3_reset(hq);
        sqlite3_bind_int64(hq, 1, h);
        if (sqlite3_step(hq) == SQLITE_ROW) {
            if (sqlite3_column_bytes(hq, 0) != UTXO_HASH_BYTES ||
                memcmp(sqlite3_column_blob(hq, 0), hash, UTXO_HASH_BYTES) != 0)
                problem(c, "blocks: height %u: the hash column is not the header's hash", h);
            leaf_count = sqlite3_column_int64(hq, 1);
            ntx = sqlite3_column_int64(hq, 2);
        }
        if (ntx != (sqlite3_int64)b->n_txs)
            problem(c, "blocks: height %u: n_txs column %lld, the block holds %u", h,
                    (long long)ntx, b->n_txs);
        *n_txs += b->n_txs;
        for (uint32_t t = 0; t < b->n_txs; t++) { /* the transaction index */
            uint8_t txid[UTXO_HASH_BYTES];
            utxo_tx_txid(b->txs[t], txid);
            sqlite3_reset(tq);
            sqlite3_bind_blob(tq, 1, txid, sizeof txid, SQLITE_STATIC);
            if (sqlite3_step(tq) != SQLITE_ROW || sqlite3_column_int64(tq, 0) != h ||
                sqlite3_column_int64(tq, 1) != t)
                problem(c, "txs: block %u transaction %u is not indexed at its place", h, t);
        }
        if (b->header.height != h)
            problem(c, "blocks: the row at height %u holds block %u", h, b->header.height);
        if (chained && memcmp(b->header.prev_hash, prev, UTXO_HASH_BYTES) != 0)
            problem(c, "blocks: height %u: previous hash is not block %u's hash", h, h - 1);
        if (b->header.time < prev_time)
            problem(c, "blocks: height %u: time goes backwards", h);
        if (utxo_header_verify(&b->header, s->params.sequencer_pk) != UTXO_OK)
            problem(c, "blocks: height %u: the sequencer signature does not verify", h);
        memcpy(prev, hash, UTXO_HASH_BYTES);
        prev_time = b->header.time;
        chained = true;
        if (walking && leaf_count != (sqlite3_int64)acc->count)
            problem(c, "blocks: height %u: leaf_count column %lld, the chain has %llu leaves "
                    "before it", h, (long long)leaf_count, (unsigned long long)acc->count);
        if (walking) {
            rc = store_height_blob(s, ST_BUNDLE_GET, h, &bytes, &len);
            if (rc == UTXO_OK)
                rc = store_bundle_step(s, acc, b, bytes, len);
            free(bytes);
            if (fatal(rc)) {
                utxo_block_free(b);
                break;
            }
            if (rc != UTXO_OK) {
                problem(c, "bundles: %s%s", s->msg,
                        h + 1 < s->meta.n_blocks ? " (the bundles above it are not checked: "
                                                   "the accumulator before them is unknown)" : "");
                walking = false;
                rc = UTXO_OK;
            } else {
                *walked = h + 1;
            }
        }
        utxo_block_free(b);
    }
    sqlite3_finalize(hq);
    sqlite3_finalize(tq);
    sqlite3_finalize(have.q);
    if (rc == UTXO_OK && have.rc != UTXO_OK)
        rc = have.rc;
    if (rc == UTXO_OK) { /* no row for a transaction the blocks do not hold */
        sqlite3_int64 rows = -1;
        if ((rc = prep(s, &tq, "SELECT count(*) FROM txs")) != UTXO_OK)
            return rc;
        if (sqlite3_step(tq) == SQLITE_ROW)
            rows = sqlite3_column_int64(tq, 0);
        sqlite3_finalize(tq);
        if (rows != (sqlite3_int64)*n_txs)
            problem(c, "txs: %lld rows, the blocks hold %llu transactions", (long long)rows,
                    (unsigned long long)*n_txs);
    }
    if (rc == UTXO_OK && s->meta.n_blocks > 0 && memcmp(prev, s->meta.tip_hash, UTXO_HASH_BYTES) != 0)
        problem(c, "meta: tip_hash is not the hash of block %u", s->meta.n_blocks - 1);
    if (rc == UTXO_OK && s->meta.n_blocks > 0 && prev_time != s->meta.tip_time)
        problem(c, "meta: tip_time is not the time of block %u", s->meta.n_blocks - 1);
    return rc;
}

/* Node key's value into h (zeros when it has no row); true when it has one. */
static bool node_get(sqlite3_stmt *q, uint64_t key, uint8_t h[ACC_HASH_BYTES])
{
    bool found = false;

    sqlite3_reset(q);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)key);
    if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_bytes(q, 0) == ACC_HASH_BYTES) {
        memcpy(h, sqlite3_column_blob(q, 0), ACC_HASH_BYTES);
        found = true;
    } else {
        memset(h, 0, ACC_HASH_BYTES);
    }
    sqlite3_reset(q);
    return found;
}

/* Every stored node against its children and its parent; nodes outside
 * the forest. */
static int check_nodes(checker *c)
{
    utxo_store *s = c->s;
    uint64_t count = s->meta.acc.count;
    sqlite3_stmt *all = NULL, *one = NULL;
    int sc, rc;

    if ((rc = prep(s, &all, "SELECT key, hash FROM nodes ORDER BY key")) != UTXO_OK ||
        (rc = prep(s, &one, "SELECT hash FROM nodes WHERE key = ?1")) != UTXO_OK)
        goto done;
    while ((sc = sqlite3_step(all)) == SQLITE_ROW) {
        uint64_t key = (uint64_t)sqlite3_column_int64(all, 0);
        unsigned row = (unsigned)(key >> 56);
        uint64_t idx = key & (STORE_MAX_LEAVES - 1), pkey;
        acc_hash kid[2], want, got;
        if (row >= 64 || idx >= (count >> row)) {
            problem(c, "nodes: row %u index %llu lies outside the forest of %llu leaves", row,
                    (unsigned long long)idx, (unsigned long long)count);
            continue;
        }
        if (sqlite3_column_bytes(all, 1) != ACC_HASH_BYTES ||
            acc_is_empty(sqlite3_column_blob(all, 1))) {
            problem(c, "nodes: row %u index %llu: the value is malformed or empty (empty nodes "
                    "have no row)", row, (unsigned long long)idx);
            continue;
        }
        /* as a parent: the value its children give */
        if (row > 0) {
            node_get(one, STORE_NODE_KEY(row - 1, 2 * idx), kid[0]);
            node_get(one, STORE_NODE_KEY(row - 1, 2 * idx + 1), kid[1]);
            acc_parent(want, kid[0], kid[1]);
            if (memcmp(want, sqlite3_column_blob(all, 1), ACC_HASH_BYTES) != 0)
                problem(c, "nodes: row %u index %llu is not the parent of its children (row %u "
                        "indexes %llu and %llu)", row, (unsigned long long)idx, row - 1,
                        (unsigned long long)(2 * idx), (unsigned long long)(2 * idx + 1));
        }
        /* as a child: a non-empty node has a non-empty parent, which has a
         * row (roots are checked against the metadata) */
        if (!acc_is_root(row, idx, count)) {
            pkey = STORE_NODE_KEY(row + 1, idx >> 1);
            if (!node_get(one, pkey, got))
                problem(c, "nodes: row %u index %llu is missing (its child row %u index %llu "
                        "is not empty)", row + 1, (unsigned long long)(idx >> 1), row,
                        (unsigned long long)idx);
        }
    }
    if (sc != SQLITE_DONE)
        rc = store_sql_fail(s, "read the forest nodes");
done:
    sqlite3_finalize(all);
    sqlite3_finalize(one);
    return rc;
}

/* Every unspent row against its leaf; the live leaves against the rows. */
static int check_utxos(checker *c, uint64_t *rows, uint64_t *value)
{
    utxo_store *s = c->s;
    sqlite3_stmt *all = NULL, *leaf = NULL, *live = NULL;
    uint64_t n = 0, sum = 0, n_live = 0;
    int sc, rc;

    if ((rc = prep(s, &all, "SELECT outpoint, value, predicate, datum, height, position FROM "
                            "utxos ORDER BY outpoint")) != UTXO_OK ||
        (rc = prep(s, &leaf, "SELECT hash FROM nodes WHERE key = ?1")) != UTXO_OK ||
        (rc = prep(s, &live, "SELECT count(*) FROM nodes WHERE key < ?1")) != UTXO_OK)
        goto done;
    while ((sc = sqlite3_step(all)) == SQLITE_ROW) {
        utxo_outpoint op;
        utxo_output o;
        sqlite3_int64 height = sqlite3_column_int64(all, 4), pos = sqlite3_column_int64(all, 5);
        uint8_t want[ACC_HASH_BYTES];
        char where[80];
        n++;
        if (sqlite3_column_bytes(all, 0) != STORE_OUTPOINT_KEY_BYTES ||
            sqlite3_column_bytes(all, 2) != UTXO_HASH_BYTES) {
            problem(c, "utxos: row %llu is malformed (outpoint or predicate id size)",
                    (unsigned long long)n);
            continue;
        }
        store_outpoint_from_key(&op, sqlite3_column_blob(all, 0));
        for (int i = 0; i < 8; i++)
            sprintf(where + 2 * i, "%02x", op.txid[i]);
        snprintf(where + 16, sizeof where - 16, "...:%u", op.index);
        memset(&o, 0, sizeof o);
        o.value = (uint64_t)sqlite3_column_int64(all, 1);
        memcpy(o.predicate_id, sqlite3_column_blob(all, 2), UTXO_HASH_BYTES);
        o.datum_len = (uint32_t)sqlite3_column_bytes(all, 3);
        o.datum = o.datum_len ? (uint8_t *)sqlite3_column_blob(all, 3) : NULL;
        sum += o.value;
        if (height < 0 || height >= (sqlite3_int64)s->meta.n_blocks || pos < 0 ||
            (uint64_t)pos >= s->meta.acc.count) {
            problem(c, "utxos: %s: height %lld or leaf position %lld outside the chain", where,
                    (long long)height, (long long)pos);
            continue;
        }
        acc_leaf_hash(want, &op, &o, (uint32_t)height, (uint64_t)pos);
        sqlite3_reset(leaf);
        sqlite3_bind_int64(leaf, 1, (sqlite3_int64)STORE_NODE_KEY(0, pos));
        if (sqlite3_step(leaf) != SQLITE_ROW || sqlite3_column_bytes(leaf, 0) != ACC_HASH_BYTES ||
            memcmp(sqlite3_column_blob(leaf, 0), want, ACC_HASH_BYTES) != 0)
            problem(c, "utxos: %s (leaf %lld): the row does not hash to the forest's leaf", where,
                    (long long)pos);
    }
    if (sc != SQLITE_DONE) {
        rc = store_sql_fail(s, "read the unspent outputs");
        goto done;
    }
    sqlite3_bind_int64(live, 1, (sqlite3_int64)STORE_NODE_KEY(1, 0));
    if (sqlite3_step(live) == SQLITE_ROW)
        n_live = (uint64_t)sqlite3_column_int64(live, 0);
    if (n_live != n)
        problem(c, "utxos: %llu rows, but the forest holds %llu live leaves", (unsigned long long)n,
                (unsigned long long)n_live);
    *rows = n;
    *value = sum;
done:
    sqlite3_finalize(all);
    sqlite3_finalize(leaf);
    sqlite3_finalize(live);
    return rc;
}

static int check_undo(checker *c, uint32_t last, uint32_t walked)
{
    utxo_store *s = c->s;
    uint32_t from = s->meta.n_blocks > last ? s->meta.n_blocks - last : 0, gap;
    block_rows rows;
    int rc = rows_open(s, &rows, from, s->meta.n_blocks);

    for (uint32_t h = from; rc == UTXO_OK && h < s->meta.n_blocks; h++) {
        utxo_block *b = NULL;
        uint8_t *undo = NULL;
        size_t len = 0, n = 0;
        store_spent *v = NULL;
        if ((gap = rows_gap_to(&rows, h, s->meta.n_blocks)) > 0) {
            h += gap - 1; /* no rows there: reported by the chain check */
            continue;
        }
        if (store_block_load(s, h, &b, NULL, NULL, NULL) != UTXO_OK)
            continue;   /* reported by the chain check */
        rc = store_height_blob(s, ST_UNDO_GET, h, &undo, &len);
        if (rc == UTXO_OK && store_undo_decode(undo, len, &v, &n) != UTXO_OK)
            rc = store_fail(s, UTXO_ERR_STORE_CORRUPT, "undo record of block %u does not decode",
                            h);
        if (rc == UTXO_OK)
            rc = store_undo_verify(s, b, v, n);
        if (rc == UTXO_ERR_STORE_CORRUPT || rc == UTXO_ERR_STORE_HEIGHT) {
            /* an undo record is checked against its block's bundle: when
             * that bundle did not verify, either may be the damaged one */
            problem(c, "undo: %s%s", s->msg,
                    h >= walked ? " (that block's bundle is not verified: either may be damaged)"
                                : "");
            rc = UTXO_OK;
        }
        free(v);
        free(undo);
        utxo_block_free(b);
    }
    sqlite3_finalize(rows.q);
    return rc == UTXO_OK ? rows.rc : rc;
}

int utxo_store_check(utxo_store *s, uint32_t undo_blocks, utxo_store_check_fn report, void *arg,
                     uint64_t *n_problems)
{
    checker c = {s, report, arg, 0};
    acc_state walked_acc, forest_acc;
    uint64_t n_txs = 0, rows = 0, value = 0;
    uint8_t d[UTXO_HASH_BYTES];
    uint32_t walked = 0;
    int rc;

    if (n_problems)
        *n_problems = 0;
    if (!store_enter(s))
        return UTXO_ERR_ARG;
    if (!sqlite3_get_autocommit(s->db))
        return store_fail(s, UTXO_ERR_ARG, "a check cannot run inside a transaction");
    /* one snapshot for the whole check, with the metadata of that snapshot */
    if (sqlite3_exec(s->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_fail(s, "begin read");
    if ((rc = check_sqlite(&c)) != UTXO_OK)
        goto done;
    if ((rc = store_meta_load(s)) != UTXO_OK) {
        if (rc == UTXO_ERR_STORE_CORRUPT || rc == UTXO_ERR_STORE_SCHEMA) {
            problem(&c, "meta: %s", s->msg);
            rc = UTXO_OK;
        }
        goto done;   /* nothing else can be checked without it */
    }
    store_nodes_reset(&s->nodes, s->meta.acc.count);
    if ((rc = store_forest_reset(s)) != UTXO_OK)
        goto done;
    store_serve_reset(s);
    if ((rc = check_extra_rows(&c)) != UTXO_OK ||
        (rc = check_chain(&c, &walked_acc, &walked, &n_txs)) != UTXO_OK)
        goto done;
    if (walked == s->meta.n_blocks && !acc_state_equal(&walked_acc, &s->meta.acc))
        problem(&c, "meta: acc_state is not the accumulator the chain's bundles lead to");
    if (n_txs != s->meta.n_txs)
        problem(&c, "meta: n_txs %llu, the blocks hold %llu", (unsigned long long)s->meta.n_txs,
                (unsigned long long)n_txs);
    acc_state_digest(d, &s->meta.acc);
    if (memcmp(d, s->meta.acc_digest, UTXO_HASH_BYTES) != 0)
        problem(&c, "meta: acc_digest is not the digest of acc_state");
    rc = acc_forest_state(s->forest, &forest_acc);
    if (rc == UTXO_ERR_NOMEM || rc == UTXO_ERR_IO || rc == UTXO_ERR_STORE_SQL ||
        rc == UTXO_ERR_STORE_BUSY)
        goto done;
    if (rc != UTXO_OK)
        problem(&c, "nodes: the forest's roots cannot be read (%s)", utxo_strerror(rc));
    else if (!acc_state_equal(&forest_acc, &s->meta.acc))
        problem(&c, "nodes: the forest's roots are not meta's acc_state");
    if ((rc = check_nodes(&c)) != UTXO_OK || (rc = check_utxos(&c, &rows, &value)) != UTXO_OK)
        goto done;
    if (rows != s->meta.n_utxos || value != s->meta.total_value)
        problem(&c, "meta: n_utxos %llu and total_value %llu, the rows give %llu and %llu",
                (unsigned long long)s->meta.n_utxos, (unsigned long long)s->meta.total_value,
                (unsigned long long)rows, (unsigned long long)value);
    rc = check_undo(&c, undo_blocks, walked);
done:
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_reset(s->st[i]);
    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
    if (n_problems)
        *n_problems = c.problems;
    if (rc != UTXO_OK)
        return rc;
    if (c.problems > 0)
        return store_fail(s, UTXO_ERR_STORE_CORRUPT, "%llu problem%s found",
                          (unsigned long long)c.problems, c.problems == 1 ? "" : "s");
    s->msg[0] = '\0';
    return UTXO_OK;
}
