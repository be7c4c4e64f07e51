/*
 * pipeline/files.c — the loop shared by every pipeline that reads a block
 * file with its proof file (pipe_int.h): records are read in step, one
 * block and one bundle in memory at a time (two for a target that wants
 * the next one, from regular files: the pair after the block in hand is
 * read ahead and handed to it, and taken by the next turn instead of a
 * read, its failures reported there as they would have been), and each
 * record is placed by the record rule of utxo/pipeline.h before its block
 * reaches the target:
 *
 *   prefix   records below the target's next height N, at the start of the
 *            file: consecutive heights, each linked by its previous hash to
 *            the record before, the one at N-1 equal to the tip hash; the
 *            chain of hashes proves they are the blocks already accepted.
 *   apply    the record at the next height: handed to the target.
 *   repeat   a record equal (same hash) to the tip after the prefix:
 *            passed over and announced.
 *   error    anything else: UTXO_ERR_FILE_RECORD with the record, its
 *            offset and its height.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>
#include "pipeline/pipe_int.h"

int pipe_fail(utxo_pipe_result *res, int err, bool invalid, int file, const char *fmt, ...)
{
    va_list ap;

    res->err = err;
    res->invalid = invalid;
    res->file = file;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
    return err;
}

static void hex32(char out[2 * UTXO_HASH_BYTES + 1], const uint8_t h[UTXO_HASH_BYTES])
{
    sodium_bin2hex(out, 2 * UTXO_HASH_BYTES + 1, h, UTXO_HASH_BYTES);
}

/* Opens one input file of the target's chain. */
static int open_input(utxo_chainfile **f, const char *path, int kind, const pipe_target *t,
                      utxo_params *pout, utxo_pipe_result *res)
{
    int file = kind == UTXO_CHAINFILE_BLOCKS ? UTXO_PIPE_BLOCKS : UTXO_PIPE_PROOFS;
    const char *what = kind == UTXO_CHAINFILE_BLOCKS ? "block" : "proof";
    utxo_params p;
    size_t off = 0;
    int rc;

    errno = 0;
    rc = utxo_chainfile_open(f, path, kind, &p, &off);
    *pout = p;
    if (rc == UTXO_ERR_IO) {
        res->sys_errno = errno;
        return pipe_fail(res, rc, false, file, "%s: %s", path, strerror(errno ? errno : EIO));
    }
    if (rc != UTXO_OK)
        return pipe_fail(res, rc, false, file, "%s: not a valid %s file: %s at offset %zu", path,
                         what, utxo_strerror(rc), off);
    if (memcmp(p.chain_id, t->chain_id, UTXO_HASH_BYTES) != 0) {
        utxo_chainfile_close(*f);
        *f = NULL;
        return pipe_fail(res, UTXO_ERR_FILE_CHAIN, false, file,
                         "%s belongs to another chain than the state it is applied to", path);
    }
    return UTXO_OK;
}

/* The proof file's record check (utxo_bundle_check_prefix), noting a
 * refusal: its code may be one that framing gives too (a receipt whose
 * header needs more than its entry's length is truncated input), but a
 * refused record is an invalid bundle, not a damaged file. */
typedef struct proof_check {
    utxo_params p;
    bool refused;
} proof_check;

static int check_proof_prefix(const uint8_t *prefix, size_t have, size_t len, void *ud)
{
    proof_check *c = ud;
    int rc = utxo_bundle_check_prefix(prefix, have, len, &c->p);

    c->refused = rc != UTXO_OK;
    return rc;
}

/* Reads record k of both files; *brec NULL at the common end. chk: pf's
 * record check. */
static int read_pair(utxo_chainfile *bf, utxo_chainfile *pf, proof_check *chk, const char *blocks,
                     const char *proofs, uint64_t k, uint8_t **brec, size_t *blen, uint64_t *boff,
                     uint8_t **prec, size_t *plen, uint64_t *poff, utxo_pipe_result *res)
{
    int rc;

    errno = 0;
    rc = utxo_chainfile_next(bf, brec, blen, boff);
    if (rc != UTXO_OK) {
        res->record = k;
        res->offset = *boff;
        res->sys_errno = rc == UTXO_ERR_IO ? errno : 0;
        return pipe_fail(res, rc, false, UTXO_PIPE_BLOCKS, "%s: record %llu at offset %llu: %s",
                         blocks, (unsigned long long)k, (unsigned long long)*boff,
                         utxo_strerror(rc));
    }
    if (pf == NULL)
        return UTXO_OK; /* blocks only (replay) */
    errno = 0;
    chk->refused = false;
    rc = utxo_chainfile_next(pf, prec, plen, poff);
    if (rc != UTXO_OK) {
        free(*brec);
        *brec = NULL;
        res->record = k;
        res->offset = *poff;
        res->sys_errno = rc == UTXO_ERR_IO ? errno : 0;
        /* framing and I/O are not verdicts; a bundle the record check
         * refused is invalid */
        bool invalid = chk->refused || !(rc == UTXO_ERR_IO || rc == UTXO_ERR_TRUNCATED ||
                                         rc == UTXO_ERR_TOO_LARGE || rc == UTXO_ERR_NOMEM);
        return pipe_fail(res, rc, invalid, UTXO_PIPE_PROOFS, "%s: record %llu at offset %llu: %s",
                         proofs, (unsigned long long)k, (unsigned long long)*poff,
                         utxo_strerror(rc));
    }
    if ((*brec == NULL) != (*prec == NULL)) {
        bool fewer = *prec == NULL;
        free(*brec);
        free(*prec);
        *brec = *prec = NULL;
        res->record = k;
        return pipe_fail(res, UTXO_ERR_TRUNCATED, false, UTXO_PIPE_PROOFS,
                         "%s has %s records than %s (record %llu)", proofs,
                         fewer ? "fewer" : "more", blocks, (unsigned long long)k);
    }
    return UTXO_OK;
}

/* A record pair read ahead (pipe_target.wants_next), taken by the next
 * turn of the loop instead of reading: what read_pair gave (on failure,
 * the fields it wrote into its result), the file position after it, and
 * the block and bundle decoded when they decode (else the loop decodes
 * the bytes itself and reports as it would have). */
typedef struct ahead_pair {
    bool have;
    int rc;
    utxo_pipe_result fail;
    uint8_t *brec, *prec;
    size_t blen, plen;
    uint64_t boff, poff, tell;
    utxo_block *b;
    utxo_bundle *bd;
} ahead_pair;

static void ahead_clear(ahead_pair *a)
{
    free(a->brec);
    free(a->prec);
    utxo_block_free(a->b);
    utxo_bundle_free(a->bd);
    memset(a, 0, sizeof *a);
}

static void ahead_read(ahead_pair *a, utxo_chainfile *bf, utxo_chainfile *pf, proof_check *chk,
                       const char *blocks, const char *proofs, uint64_t k, const utxo_params *p,
                       const utxo_params *pp)
{
    memset(a, 0, sizeof *a);
    a->have = true;
    a->rc = read_pair(bf, pf, chk, blocks, proofs, k, &a->brec, &a->blen, &a->boff, &a->prec,
                      &a->plen, &a->poff, &a->fail);
    a->tell = utxo_chainfile_tell(bf);
    if (a->rc != UTXO_OK || a->brec == NULL)
        return;
    if (utxo_block_from_bytes(&a->b, a->brec, a->blen, p, NULL) != UTXO_OK)
        a->b = NULL;
    else if (a->prec != NULL && utxo_bundle_from_bytes(&a->bd, a->prec, a->plen, pp, NULL) != UTXO_OK)
        a->bd = NULL;
}

/* read_pair's failure, read ahead, into res as read_pair writes it. */
static void ahead_fail(const ahead_pair *a, utxo_pipe_result *res)
{
    res->record = a->fail.record;
    res->offset = a->fail.offset;
    res->sys_errno = a->fail.sys_errno;
    res->err = a->fail.err;
    res->invalid = a->fail.invalid;
    res->file = a->fail.file;
    memcpy(res->reason, a->fail.reason, sizeof res->reason);
}

/* The state the loop keeps between records. */
typedef struct loop {
    const pipe_target *t;
    const pipe_opts *o;
    utxo_pipe_result *res;
    const char *blocks, *proofs;
    uint32_t start_next;              /* the target's next height at the start */
    bool in_prefix;                   /* reading records below start_next */
    bool prefix_seen;                 /* at least one prefix record */
    uint32_t prev_height;             /* last prefix record's height */
    uint8_t prev_hash[UTXO_HASH_BYTES];
    uint64_t since_save;
    uint64_t bytes_total;
} loop;

static int do_save(loop *L, uint64_t k, uint64_t off, uint32_t height)
{
    utxo_pipe_progress pr;
    int rc;

    if (L->t->save == NULL)
        return UTXO_OK;
    errno = 0;
    rc = L->t->save(L->t->obj);
    if (rc != UTXO_OK) {
        L->res->sys_errno = rc == UTXO_ERR_IO ? errno : 0;
        return pipe_fail(L->res, rc, false, UTXO_PIPE_STATE, "cannot save the state: %s",
                         rc == UTXO_ERR_IO ? strerror(errno ? errno : EIO) : utxo_strerror(rc));
    }
    L->res->saves++;
    L->since_save = 0;
    if (L->o->progress != NULL) {
        memset(&pr, 0, sizeof pr);
        pr.event = UTXO_PIPE_SAVED;
        pr.height = height;
        pr.record = k;
        pr.offset = off;
        pr.applied = L->res->applied;
        pr.passed = L->res->passed;
        pr.bytes_total = L->bytes_total;
        (void)L->o->progress(L->o->ctx, &pr);
    }
    return UTXO_OK;
}

/* A record passed over has the accepted block's hash, which covers its
 * header but not the signature, and the transactions only through the tx
 * root: both are checked, so that the record is the accepted block byte for
 * byte, not a copy with an edited signature or body. */
static int check_passed_block(loop *L, uint64_t k, uint64_t off, const utxo_block *b,
                              const utxo_params *p)
{
    uint32_t tx = 0, in = 0;
    int rc = utxo_header_verify(&b->header, p->sequencer_pk);

    if (rc == UTXO_OK)
        rc = utxo_block_check(b, p, &tx, &in);
    if (rc != UTXO_OK)
        return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                         "%s: record %llu at offset %llu has the hash of the accepted block %u "
                         "but is not that block: %s",
                         L->blocks, (unsigned long long)k, (unsigned long long)off,
                         b->header.height, utxo_strerror(rc));
    return UTXO_OK;
}

/* A record that the rule passes over must come with its own bundle. */
static int check_passed_bundle(loop *L, uint64_t k, uint64_t poff, const uint8_t *prec,
                               size_t plen, const utxo_params *p, const uint8_t hash[32],
                               uint32_t h, utxo_bundle **bd)
{
    utxo_bundle_info bi;
    size_t eo = 0;
    int rc = utxo_bundle_from_bytes(bd, prec, plen, p, &eo);

    if (rc != UTXO_OK) {
        L->res->record = k;
        L->res->offset = poff;
        L->res->height = h;
        return pipe_fail(L->res, rc, true, UTXO_PIPE_PROOFS,
                         "%s: record %llu at offset %llu (block %u): proof bundle does not decode:"
                         " %s (byte %zu of the record)",
                         L->proofs, (unsigned long long)k, (unsigned long long)poff, h,
                         utxo_strerror(rc), eo);
    }
    utxo_bundle_get_info(*bd, &bi);
    if (memcmp(bi.block_hash, hash, UTXO_HASH_BYTES) != 0) {
        L->res->record = k;
        L->res->offset = poff;
        L->res->height = h;
        return pipe_fail(L->res, UTXO_ERR_BUNDLE_BLOCK, true, UTXO_PIPE_PROOFS,
                         "%s: record %llu at offset %llu: the bundle is not block %u's", L->proofs,
                         (unsigned long long)k, (unsigned long long)poff, h);
    }
    return UTXO_OK;
}

/* Places record k (block b, hash) by the rule: 1 apply it, 0 pass it over,
 * else an error code (res filled). */
static int place(loop *L, uint64_t k, uint64_t off, const utxo_block *b, const uint8_t hash[32])
{
    uint32_t h = b->header.height, next = L->t->next_height(L->t->obj);
    uint8_t tip[UTXO_HASH_BYTES];
    char hx[2 * UTXO_HASH_BYTES + 1], tx[2 * UTXO_HASH_BYTES + 1];

    L->res->record = k;
    L->res->offset = off;
    L->res->height = h;
    if (k == 0 && L->start_next > 0 && h < L->start_next)
        L->in_prefix = true;
    if (L->in_prefix) {
        if (L->prefix_seen &&
            (h != L->prev_height + 1 ||
             memcmp(b->header.prev_hash, L->prev_hash, UTXO_HASH_BYTES) != 0))
            return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                             "%s: record %llu at offset %llu holds block %u, which does not follow "
                             "record %llu (block %u): the records before the state's tip (height "
                             "%u) must be the chain it accepted",
                             L->blocks, (unsigned long long)k, (unsigned long long)off, h,
                             (unsigned long long)(k - 1), L->prev_height, L->start_next - 1);
        L->prefix_seen = true;
        L->prev_height = h;
        memcpy(L->prev_hash, hash, UTXO_HASH_BYTES);
        if (h + 1 == L->start_next) {
            L->t->tip_hash(L->t->obj, tip);
            if (memcmp(tip, hash, UTXO_HASH_BYTES) != 0) {
                hex32(hx, hash);
                hex32(tx, tip);
                return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                                 "%s: record %llu at offset %llu holds a block %u (hash %s) that "
                                 "is not the block %u the state accepted (hash %s)",
                                 L->blocks, (unsigned long long)k, (unsigned long long)off, h, hx,
                                 h, tx);
            }
            L->in_prefix = false; /* anchored: every record so far is accepted */
        }
        return 0;
    }
    if (h == next)
        return 1;
    if (next > 0 && h + 1 == next) {
        L->t->tip_hash(L->t->obj, tip);
        if (memcmp(tip, hash, UTXO_HASH_BYTES) == 0)
            return 0; /* the tip again, byte for byte */
        return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                         "%s: record %llu at offset %llu holds another block at height %u than "
                         "the one accepted there (equivocation); expected height %u",
                         L->blocks, (unsigned long long)k, (unsigned long long)off, h, next);
    }
    if (h < next)
        return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                         "%s: record %llu at offset %llu holds block %u, already below the tip; "
                         "expected height %u (only the tip block may repeat)",
                         L->blocks, (unsigned long long)k, (unsigned long long)off, h, next);
    return pipe_fail(L->res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                     "%s: record %llu at offset %llu holds block %u; expected height %u "
                     "(blocks are missing)",
                     L->blocks, (unsigned long long)k, (unsigned long long)off, h, next);
}

int pipe_files_run(const pipe_target *t, const char *blocks, const char *proofs,
                   const pipe_opts *o, utxo_pipe_result *res)
{
    utxo_chainfile *bf = NULL, *pf = NULL;
    utxo_params p, pp;
    struct stat sb;
    loop L;
    ahead_pair A;
    proof_check chk;
    uint64_t k = 0, last_off = 0;
    uint32_t last_height = 0;
    size_t eo = 0;
    bool stream = false;
    int rc;

    memset(res, 0, sizeof *res);
    memset(&L, 0, sizeof L);
    memset(&A, 0, sizeof A);
    memset(&pp, 0, sizeof pp);
    memset(&chk, 0, sizeof chk);
    L.t = t;
    L.o = o;
    L.res = res;
    L.blocks = blocks;
    L.proofs = proofs;
    L.start_next = t->next_height(t->obj);
    if (blocks == NULL)
        return pipe_fail(res, UTXO_ERR_ARG, false, UTXO_PIPE_NONE, "no block file");
    /* decoding limits: the files' parameters (their chain is the target's) */
    if (o->blocks_file != NULL) {
        bf = o->blocks_file;   /* the caller's, opened on blocks: its chain checked here */
        if (utxo_chainfile_params(bf, &p) != UTXO_OK ||
            memcmp(p.chain_id, t->chain_id, UTXO_HASH_BYTES) != 0) {
            bf = NULL;
            rc = pipe_fail(res, UTXO_ERR_FILE_CHAIN, false, UTXO_PIPE_BLOCKS,
                           "%s belongs to another chain than the state it is applied to", blocks);
            goto done;
        }
    } else if (open_input(&bf, blocks, UTXO_CHAINFILE_BLOCKS, t, &p, res) != UTXO_OK)
        goto done;
    if (proofs != NULL && open_input(&pf, proofs, UTXO_CHAINFILE_PROOFS, t, &pp, res) != UTXO_OK)
        goto done;
    /* a hostile proof record is refused after the bytes that show it,
     * before the rest of it is read (docs/STATELESS.md) */
    chk.p = pp;
    if (pf != NULL)
        utxo_chainfile_set_check(pf, check_proof_prefix, &chk);
    if (stat(blocks, &sb) == 0 && S_ISREG(sb.st_mode))
        L.bytes_total = (uint64_t)sb.st_size;
    else
        stream = true;
    for (;; k++) {
        uint8_t *brec = NULL, *prec = NULL, hash[UTXO_HASH_BYTES];
        size_t blen = 0, plen = 0;
        uint64_t boff = 0, poff = 0, tell;
        utxo_block *b = NULL, *pre_b = NULL;
        utxo_bundle *bd = NULL, *pre_bd = NULL;
        utxo_verdict vd;
        utxo_pipe_progress pr;
        int where, stop = 0;
        bool last = false;

        if (stream && t->idle != NULL) {
            char why[256] = "";
            if ((rc = t->idle(t->obj, why, sizeof why)) != UTXO_OK) {
                pipe_fail(res, rc, false, UTXO_PIPE_NONE, "%s", why[0] ? why : utxo_strerror(rc));
                break;
            }
        }
        if (A.have) { /* read with the record before */
            if (A.rc != UTXO_OK) {
                ahead_fail(&A, res);
                break;
            }
            brec = A.brec;
            blen = A.blen;
            boff = A.boff;
            prec = A.prec;
            plen = A.plen;
            poff = A.poff;
            tell = A.tell;
            pre_b = A.b;
            pre_bd = A.bd;
            memset(&A, 0, sizeof A);
        } else {
            if (read_pair(bf, pf, &chk, blocks, proofs, k, &brec, &blen, &boff, &prec, &plen, &poff,
                          res) != UTXO_OK)
                break;
            tell = utxo_chainfile_tell(bf);
        }
        if (brec == NULL)
            break; /* both files end here */
        memset(&vd, 0, sizeof vd);
        if (pre_b != NULL) {
            b = pre_b;
            rc = UTXO_OK;
        } else {
            rc = utxo_block_from_bytes(&b, brec, blen, &p, &eo);
        }
        if (rc != UTXO_OK) {
            free(prec);
            utxo_bundle_free(pre_bd);
            res->record = k;
            res->offset = boff;
            /* the header's height, if the record is long enough to have one */
            res->height = blen >= 8 ? (uint32_t)brec[4] | (uint32_t)brec[5] << 8 |
                                          (uint32_t)brec[6] << 16 | (uint32_t)brec[7] << 24
                                    : 0;
            free(brec);
            pipe_fail(res, rc, true, UTXO_PIPE_BLOCKS,
                      "block %u (record %llu at offset %llu) invalid: block does not decode "
                      "(byte %zu of the record): %s (code %d)",
                      res->height, (unsigned long long)k, (unsigned long long)boff, eo,
                      utxo_strerror(rc), rc);
            break;
        }
        free(brec);
        utxo_header_hash(&b->header, hash);
        where = place(&L, k, boff, b, hash);
        if (where == 1 && ((o->to != 0 && b->header.height >= o->to) ||
                           (o->max_blocks != 0 && res->applied >= o->max_blocks))) {
            res->stopped = true; /* the range ends before the files */
            utxo_block_free(b);
            utxo_bundle_free(pre_bd);
            free(prec);
            break;
        }
        if (where != 1) {
            utxo_bundle_free(pre_bd); /* a passed-over record's goes its own way */
            pre_bd = NULL;
        }
        if (where == 0) {
            rc = check_passed_block(&L, k, boff, b, &p);
            if (rc == UTXO_OK && pf != NULL)
                rc = check_passed_bundle(&L, k, poff, prec, plen, &pp, hash, b->header.height,
                                         &bd);
            if (rc == UTXO_OK)
                res->passed++;
        } else if (where == 1) {
            /* the last block the run wants: nothing after it is read (a
             * record beyond the range, torn or bad, is no verdict on it) */
            last = (o->to != 0 && b->header.height + 1 >= o->to) ||
                   (o->max_blocks != 0 && res->applied + 1 >= o->max_blocks);
            if (pre_bd != NULL) {
                bd = pre_bd;
                rc = UTXO_OK;
            } else {
                rc = pf == NULL ? UTXO_OK : utxo_bundle_from_bytes(&bd, prec, plen, &pp, &eo);
            }
            if (rc != UTXO_OK) {
                res->record = k;
                res->offset = poff;
                pipe_fail(res, rc, true, UTXO_PIPE_PROOFS,
                          "block %u (record %llu at offset %llu of %s) invalid: proof bundle "
                          "does not decode (byte %zu of the record): %s (code %d)",
                          b->header.height, (unsigned long long)k, (unsigned long long)poff,
                          proofs, eo, utxo_strerror(rc), rc);
            } else {
                bool invalid = true;
                char why[160] = "";
                const utxo_block *nb = NULL;
                const utxo_bundle *nbd = NULL;
                if (t->wants_next && !stream && pf != NULL && !last) {
                    ahead_read(&A, bf, pf, &chk, blocks, proofs, k + 1, &p, &pp);
                    if (A.b != NULL && A.bd != NULL &&
                        A.b->header.height == b->header.height + 1) {
                        nb = A.b;
                        nbd = A.bd;
                    }
                }
                rc = t->apply(t->obj, b, bd, nb, nbd, &vd, &invalid, why, sizeof why);
                if (rc != UTXO_OK) {
                    res->verdict = vd;
                    res->verdict.err = rc;
                    res->sys_errno = rc == UTXO_ERR_IO ? errno : 0;
                    pipe_fail(res, rc, invalid, UTXO_PIPE_BLOCKS,
                              "block %u (record %llu at offset %llu) invalid: %s (code %d) tx %u "
                              "input %u%s%s",
                              b->header.height, (unsigned long long)k, (unsigned long long)boff,
                              utxo_strerror(rc), rc, vd.tx, vd.input, why[0] ? ": " : "", why);
                    if (!invalid)
                        snprintf(res->reason, sizeof res->reason,
                                 "block %u not applied: %s%s%s; nothing of it was kept, run "
                                 "again to resume",
                                 b->header.height, utxo_strerror(rc), why[0] ? ": " : "", why);
                } else {
                    res->applied++;
                    L.since_save++;
                    last_height = b->header.height;
                    last_off = boff;
                }
            }
        } else {
            rc = where;
        }
        free(prec);
        if (rc == UTXO_OK && o->progress != NULL) {
            memset(&pr, 0, sizeof pr);
            pr.event = where == 1 ? UTXO_PIPE_APPLIED : UTXO_PIPE_PASSED;
            pr.height = b->header.height;
            pr.record = k;
            pr.offset = boff;
            pr.applied = res->applied;
            pr.passed = res->passed;
            pr.bytes_done = tell;
            pr.bytes_total = L.bytes_total;
            pr.block = b;
            pr.bundle = bd;
            pr.verdict = where == 1 ? &vd : NULL;
            stop = o->progress(o->ctx, &pr);
        }
        utxo_block_free(b);
        utxo_bundle_free(bd);
        if (rc != UTXO_OK)
            break;
        if (t->save != NULL && o->save_every != 0 && L.since_save >= o->save_every &&
            do_save(&L, k, last_off, last_height) != UTXO_OK)
            goto done;
        if (stop || last) {
            res->stopped = true;
            break;
        }
    }
    if (res->err == UTXO_OK && !res->stopped && L.in_prefix)
        pipe_fail(res, UTXO_ERR_FILE_RECORD, true, UTXO_PIPE_BLOCKS,
                  "%s ends at block %u, before the state's tip (height %u): its records cannot "
                  "be checked against the chain the state accepted",
                  blocks, L.prev_height, L.start_next - 1);
    /* the state after the last valid block, whatever stopped the run */
    if (t->save != NULL) {
        utxo_pipe_result first = *res;
        if (do_save(&L, k, last_off, last_height) != UTXO_OK && first.err != UTXO_OK) {
            /* report the first failure, and that the save failed too */
            char also[sizeof res->reason];
            snprintf(also, sizeof also, "%s", res->reason);
            *res = first;
            snprintf(res->reason + strlen(res->reason), sizeof res->reason - strlen(res->reason),
                     "; and %s", also);
        }
    }
done:
    ahead_clear(&A);
    if (bf != o->blocks_file)
        utxo_chainfile_close(bf);
    utxo_chainfile_close(pf);
    return res->err;
}
