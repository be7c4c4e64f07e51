/*
 * verifier.c — contextual validation of transactions and blocks against the
 * outputs they spend (see utxo/validate.h): the predicate stage of the
 * block-connection core (connect.h), also used alone by the mempool and the
 * transaction builder. It sits above src/predicates (it runs them), so it
 * lives with the core, not in src/utxo. Cheap checks (rules, values,
 * fees) run first and in order; then per-input work — hashing the witness
 * image against the spent predicate id, and the predicate run — goes to the
 * thread pool as one task per input across the whole block. Among failing
 * inputs the first in (tx, input) order is reported.
 */
#include "config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "connect/connect.h"
#include "utxo/ledger_int.h"
#include "utxo/pool.h"
#include "predicates/pred_run.h"
#include "predicates/stdpred.h"

struct utxo_verifier {
    utxo_params params;
    pool *pool;
    helper *helper;     /* the core's stage 7 beside the predicates */
};

utxo_verifier *utxo_verifier_new(const utxo_params *p, unsigned threads)
{
    utxo_verifier *v;

    if (p == NULL || (v = calloc(1, sizeof *v)) == NULL)
        return NULL;
    v->params = *p;
    v->pool = pool_new(threads);
    v->helper = helper_new();
    if (v->pool == NULL || v->helper == NULL) {
        pool_free(v->pool);
        helper_free(v->helper);
        free(v);
        return NULL;
    }
    return v;
}

void utxo_verifier_free(utxo_verifier *v)
{
    if (v == NULL)
        return;
    pool_free(v->pool);
    helper_free(v->helper);
    free(v);
}

unsigned utxo_verifier_threads(const utxo_verifier *v)
{
    return v ? pool_threads(v->pool) : 1;
}

static void verdict_clear(utxo_verdict *out)
{
    memset(out, 0, sizeof *out);
}

/* One predicate run: transaction t, input i. */
struct job {
    uint32_t tx;
    uint32_t input;
    utxo_txctx ctx;
    const utxo_output *refs; /* the outputs its tx references (tx->n_refs), or NULL */
    uint8_t id[UTXO_HASH_BYTES];
    utxo_vm_result res;
    int err;                 /* UTXO_OK, an image error, or NOMEM */
};

struct batch {
    struct job *jobs;
    const utxo_tx *const *txs;
    const utxo_vm_result *const *known; /* may be NULL */
    atomic_size_t first_bad;   /* lowest failing job index so far */
};

static void run_job(void *arg, size_t k, unsigned worker)
{
    struct batch *b = arg;
    struct job *j = &b->jobs[k];
    const utxo_tx *tx = b->txs[j->tx];
    const utxo_witness *w = &tx->inputs[j->input].witness;

    (void)worker;
    /* Later jobs than a known failure cannot change the verdict. */
    if (k > atomic_load_explicit(&b->first_bad, memory_order_relaxed)) {
        j->err = UTXO_ERR_INTERNAL; /* not run; never reported */
        return;
    }
    /* Building a template's instance and hashing the image are per-input
     * work too: done here, in parallel. */
    const uint8_t *img;
    size_t img_len;
    uint8_t *owned;
    j->err = stdpred_witness_image(w, j->refs, tx->n_refs, &img, &img_len, &owned);
    if (j->err != UTXO_OK)
        ; /* no such template or code output, or parameters that do not fit it */
    else if (utxo_predicate_id(j->id, img, img_len),
             sodium_memcmp(j->id, j->ctx.spent[j->input].predicate_id, UTXO_HASH_BYTES) != 0)
        j->err = UTXO_ERR_TX_PREDICATE_ID;
    else if (b->known != NULL && b->known[j->tx] != NULL &&
        b->known[j->tx][j->input].status != UTXO_VM_UNKNOWN) {
        j->res = b->known[j->tx][j->input]; /* established by the caller */
        j->err = UTXO_OK;
    } else {
        j->err = pred_run(&j->res, j->id, img, img_len, w->args, w->args_len, &j->ctx,
                          w->budget, NULL);
    }
    free(owned);
    if (j->err != UTXO_OK || j->res.status != UTXO_VM_ACCEPTED) {
        size_t cur = atomic_load(&b->first_bad);
        while (k < cur && !atomic_compare_exchange_weak(&b->first_bad, &cur, k))
            ;
    }
}

/* The value checks of one transaction; fills jobs for its inputs. */
static int tx_context(const utxo_params *p, const utxo_tx *tx, const utxo_output *spent,
                      const utxo_output *refs, const uint8_t *known_sighash, size_t len,
                      uint32_t t, uint32_t height, struct job *jobs, uint64_t *fee, uint32_t *bad)
{
    uint64_t in = 0, out = 0, min_fee;
    uint8_t sighash[UTXO_HASH_BYTES];

    *bad = 0;
    if (spent == NULL)
        return UTXO_ERR_ARG;
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        *bad = i;
        if (spent[i].value > UTXO_MAX_MONEY)
            return UTXO_ERR_TX_VALUE;
        in += spent[i].value;
        if (in > UTXO_MAX_MONEY)
            return UTXO_ERR_TX_VALUE;
    }
    *bad = 0;
    for (uint32_t i = 0; i < tx->n_outputs; i++)
        out += tx->outputs[i].value; /* bounded by utxo_tx_check */
    min_fee = tx_min_fee_len(tx, p, len); /* len SIZE_MAX: measured there */
    if (in < out || in - out < min_fee)
        return UTXO_ERR_TX_FEE;
    *fee = in - out;
    if (known_sighash != NULL)
        memcpy(sighash, known_sighash, UTXO_HASH_BYTES);
    else
        utxo_tx_sighash(tx, p->chain_id, sighash);
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        jobs[i].tx = t;
        jobs[i].input = i;
        jobs[i].ctx.tx = tx;
        jobs[i].ctx.input_index = i;
        jobs[i].ctx.spent = spent;
        jobs[i].ctx.height = height;
        jobs[i].refs = refs;
        memcpy(jobs[i].ctx.sighash, sighash, UTXO_HASH_BYTES);
    }
    return UTXO_OK;
}

/* Starts jobs[0..n) on the pool (pool_start); jobs_finish waits for them. */
static void jobs_start(utxo_verifier *v, struct batch *b, struct job *jobs, size_t n,
                       const utxo_tx *const *txs, const utxo_vm_result *const *known)
{
    b->jobs = jobs;
    b->txs = txs;
    b->known = known;
    atomic_init(&b->first_bad, n);
    pool_start(v->pool, n, run_job, b);
}

/* Waits for the jobs of jobs_start and reports the first failure in order. */
static int jobs_finish(utxo_verifier *v, struct batch *b, size_t n, utxo_verdict *out)
{
    struct job *jobs = b->jobs;

    pool_wait(v->pool);
    size_t k = atomic_load(&b->first_bad);
    if (k < n) {
        out->tx = jobs[k].tx;
        out->input = jobs[k].input;
        if (jobs[k].err == UTXO_ERR_NOMEM || jobs[k].err == UTXO_ERR_TX_PREDICATE_ID ||
            jobs[k].err == UTXO_ERR_TX_TEMPLATE || jobs[k].err == UTXO_ERR_TX_TEMPLATE_PARAMS ||
            jobs[k].err == UTXO_ERR_TX_FORM || jobs[k].err == UTXO_ERR_TX_REF_MISSING ||
            jobs[k].err == UTXO_ERR_TX_REF_CODE)
            return jobs[k].err;
        if (jobs[k].err != UTXO_OK) { /* the image does not decode: nothing accepted */
            out->run_err = jobs[k].err;
            return UTXO_ERR_TX_REJECTED;
        }
        out->vm = jobs[k].res;
        return UTXO_ERR_TX_REJECTED;
    }
    for (size_t i = 0; i < n; i++)
        out->cycles += jobs[i].res.cycles;
    return UTXO_OK;
}

/* Runs jobs[0..n) on the pool and reports the first failure in order. */
static int run_jobs(utxo_verifier *v, struct job *jobs, size_t n, const utxo_tx *const *txs,
                    const utxo_vm_result *const *known, utxo_verdict *out)
{
    struct batch b;

    jobs_start(v, &b, jobs, n, txs, known);
    return jobs_finish(v, &b, n, out);
}

int utxo_verifier_tx(utxo_verifier *v, const utxo_tx *tx, const utxo_output *spent,
                     uint32_t height, utxo_verdict *out)
{
    return utxo_verifier_tx_refs(v, tx, spent, NULL, height, out);
}

int utxo_verifier_tx_refs(utxo_verifier *v, const utxo_tx *tx, const utxo_output *spent,
                          const utxo_output *refs, uint32_t height, utxo_verdict *out)
{
    utxo_verdict tmp;
    size_t ok;

    if (out == NULL)
        out = &tmp;
    if (v == NULL || tx == NULL || spent == NULL) {
        verdict_clear(out);
        return out->err = UTXO_ERR_ARG;
    }
    return cn_verifier_txs(v, &tx, 1, &spent, &refs, height, out, &ok);
}

int cn_verifier_txs(utxo_verifier *v, const utxo_tx *const *txs, size_t n,
                    const utxo_output *const *spent, const utxo_output *const *refs,
                    uint32_t height, utxo_verdict *out, size_t *n_ok)
{
    struct job *jobs = NULL;
    uint64_t *fee = NULL;
    size_t *first = NULL, m = n, k = 0, n_jobs = 0, ok;
    utxo_verdict bad;
    int rc = UTXO_OK, cheap, jrc;

    *n_ok = 0;
    for (size_t t = 0; t < n; t++)
        verdict_clear(&out[t]);
    if (n == 0)
        return UTXO_OK;
    /* The cheap checks, in order, up to the first that fails (txs[m]):
     * the rules first (they bound n_inputs), then values and fees. */
    for (size_t t = 0; t < m; t++) {
        rc = utxo_tx_check(txs[t], &v->params, &out[t].input);
        if (rc == UTXO_OK && utxo_tx_is_coinbase(txs[t]))
            rc = UTXO_ERR_BLOCK_COINBASE;
        if (rc != UTXO_OK)
            m = t;
        else
            n_jobs += txs[t]->n_inputs;
    }
    cheap = rc;
    jobs = calloc(n_jobs > 0 ? n_jobs : 1, sizeof *jobs);
    fee = calloc(n, sizeof *fee);
    first = calloc(n + 1, sizeof *first);
    if (jobs == NULL || fee == NULL || first == NULL) {
        rc = out[0].err = UTXO_ERR_NOMEM;
        goto done;
    }
    for (size_t t = 0; t < m; t++) {
        first[t] = k;
        rc = tx_context(&v->params, txs[t], spent[t], refs ? refs[t] : NULL, NULL, SIZE_MAX,
                        (uint32_t)t, height, jobs + k, &fee[t], &out[t].input);
        if (rc != UTXO_OK) {
            m = t;
            cheap = rc;
            break;
        }
        k += txs[t]->n_inputs;
    }
    rc = cheap;
    first[m] = k;
    /* The inputs of txs[0..m) on the pool; a failing one ends the run of
     * acceptances before a failed cheap check would. */
    verdict_clear(&bad);
    jrc = run_jobs(v, jobs, k, txs, NULL, &bad);
    ok = m;
    if (jrc != UTXO_OK) {
        ok = bad.tx;
        bad.tx = 0;
        out[ok] = bad;
        rc = jrc;
    }
    if (ok < n)
        out[ok].err = rc;
    for (size_t t = ok + 1; t < n; t++)
        verdict_clear(&out[t]);
    for (size_t t = 0; t < ok; t++) {
        out[t].fees = fee[t];
        for (size_t i = first[t]; i < first[t + 1]; i++)
            out[t].cycles += jobs[i].res.cycles;
    }
    *n_ok = ok;
done:
    free(jobs);
    free(fee);
    free(first);
    return rc;
}

static int verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                          const utxo_output *const *refs, const utxo_vm_result *const *known,
                          const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                          bool checked, utxo_verdict *out);

int utxo_verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                        utxo_verdict *out)
{
    return verifier_block(v, b, spent, NULL, NULL, NULL, NULL, false, out);
}

int utxo_verifier_block_refs(utxo_verifier *v, const utxo_block *b,
                             const utxo_output *const *spent, const utxo_output *const *refs,
                             utxo_verdict *out)
{
    return verifier_block(v, b, spent, refs, NULL, NULL, NULL, false, out);
}

int utxo_verifier_block_known(utxo_verifier *v, const utxo_block *b,
                              const utxo_output *const *spent,
                              const utxo_vm_result *const *known, utxo_verdict *out)
{
    return verifier_block(v, b, spent, NULL, known, NULL, NULL, true, out);
}

int cn_verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                      const utxo_output *const *refs, const utxo_vm_result *const *known,
                      const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                      utxo_verdict *out)
{
    return verifier_block(v, b, spent, refs, known, sighash, tx_len, true, out);
}

const utxo_params *cn_verifier_params(const utxo_verifier *v)
{
    return &v->params;
}

void cn_verifier_for(utxo_verifier *v, size_t n, void (*fn)(void *arg, size_t i, unsigned worker),
                     void *arg)
{
    pool_for(v != NULL ? v->pool : NULL, n, fn, arg);
}

int cn_verifier_spawn(utxo_verifier *v, void (*fn)(void *arg), void *arg)
{
    return v != NULL ? helper_start(v->helper, fn, arg) : -1;
}

void cn_verifier_join(utxo_verifier *v)
{
    helper_join(v->helper);
}

/* The cheap checks of block b in order (the rules unless checked, each
 * transaction's values and fee, the coinbase's pay-out), filling *jobs
 * (calloc, n entries: the block's inputs) and *fees; out gets the verdict
 * of the first that fails. */
static int block_jobs(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                      const utxo_output *const *refs, const uint8_t (*sighash)[UTXO_HASH_BYTES],
                      const size_t *tx_len, bool checked, struct job **jobs_out, size_t *n_out,
                      uint64_t *fees_out, utxo_verdict *out)
{
    struct job *jobs = NULL;
    size_t n = 0, k = 0;
    uint64_t fees = 0, paid = 0;
    int rc;

    *jobs_out = NULL;
    *n_out = 0;
    *fees_out = 0;
    if (v == NULL || b == NULL || (spent == NULL && b->n_txs > 1))
        return UTXO_ERR_ARG;
    rc = checked ? UTXO_OK : utxo_block_check(b, &v->params, &out->tx, &out->input);
    if (rc != UTXO_OK)
        return rc;
    for (uint32_t t = 1; t < b->n_txs; t++)
        n += b->txs[t]->n_inputs;
    jobs = calloc(n > 0 ? n : 1, sizeof *jobs);
    if (jobs == NULL)
        return UTXO_ERR_NOMEM;
    for (uint32_t t = 1; t < b->n_txs; t++) {
        uint64_t fee = 0;
        rc = tx_context(&v->params, b->txs[t], spent[t], refs ? refs[t] : NULL,
                        sighash ? sighash[t] : NULL, tx_len ? tx_len[t] : SIZE_MAX, t,
                        b->header.height, jobs + k, &fee, &out->input);
        if (rc != UTXO_OK) {
            out->tx = t;
            free(jobs);
            return rc;
        }
        k += b->txs[t]->n_inputs;
        /* the fees sum to at most the value the block's inputs spend, all
         * of it in the accumulator (their leaf hashes bind them), which
         * genesis and fee-only coinbases keep within UTXO_MAX_MONEY: no
         * wrap. A sum past it is a broken invariant, refused all the same */
        if (fee > UTXO_MAX_MONEY - fees) {
            out->tx = t;
            out->input = 0;
            free(jobs);
            return UTXO_ERR_TX_VALUE;
        }
        fees += fee;
    }
    for (uint32_t i = 0; i < b->txs[0]->n_outputs; i++)
        paid += b->txs[0]->outputs[i].value;
    if (paid > (b->header.height == 0 ? UTXO_MAX_MONEY : fees)) {
        out->tx = 0;
        free(jobs);
        return UTXO_ERR_TX_VALUE;
    }
    *jobs_out = jobs;
    *n_out = n;
    *fees_out = fees;
    return UTXO_OK;
}

int cn_verifier_block_cheap(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                            const utxo_output *const *refs,
                            const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                            utxo_verdict *out)
{
    struct job *jobs = NULL;
    size_t n = 0;
    uint64_t fees = 0;

    verdict_clear(out);
    int rc = block_jobs(v, b, spent, refs, sighash, tx_len, true, &jobs, &n, &fees, out);
    free(jobs);
    return out->err = rc;
}

/* A block's predicate loop in flight: its jobs and its fees. */
struct cn_vrun {
    struct batch b;
    size_t n;
    uint64_t fees;
};

/* The cheap checks (block_jobs), then the block's jobs started on the
 * pool; out gets the verdict of a cheap check that fails. */
static int vrun_start(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                      const utxo_output *const *refs, const utxo_vm_result *const *known,
                      const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                      bool checked, cn_vrun *r, utxo_verdict *out)
{
    struct job *jobs;
    int rc = block_jobs(v, b, spent, refs, sighash, tx_len, checked, &jobs, &r->n, &r->fees, out);

    if (rc == UTXO_OK)
        jobs_start(v, &r->b, jobs, r->n, (const utxo_tx *const *)b->txs, known);
    return rc;
}

/* Waits for vrun_start's jobs: the verdict (fees when valid); frees them. */
static int vrun_finish(utxo_verifier *v, cn_vrun *r, utxo_verdict *out)
{
    int rc = jobs_finish(v, &r->b, r->n, out);

    if (rc == UTXO_OK)
        out->fees = r->fees;
    free(r->b.jobs);
    return out->err = rc;
}

/* checked: the caller has run utxo_block_check on b already. sighash
 * (may be NULL): each transaction's sighash, computed by the caller. */
static int verifier_block(utxo_verifier *v, const utxo_block *b, const utxo_output *const *spent,
                          const utxo_output *const *refs, const utxo_vm_result *const *known,
                          const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                          bool checked, utxo_verdict *out)
{
    utxo_verdict tmp;
    cn_vrun r;
    int rc;

    if (out == NULL)
        out = &tmp;
    verdict_clear(out);
    rc = vrun_start(v, b, spent, refs, known, sighash, tx_len, checked, &r, out);
    if (rc != UTXO_OK)
        return out->err = rc;
    return vrun_finish(v, &r, out);
}

int cn_verifier_block_start(utxo_verifier *v, const utxo_block *b,
                            const utxo_output *const *spent, const utxo_output *const *refs,
                            const uint8_t (*sighash)[UTXO_HASH_BYTES], const size_t *tx_len,
                            cn_vrun **run, utxo_verdict *out)
{
    cn_vrun *r = calloc(1, sizeof *r);
    int rc;

    *run = NULL;
    verdict_clear(out);
    if (r == NULL)
        return out->err = UTXO_ERR_NOMEM;
    rc = vrun_start(v, b, spent, refs, NULL, sighash, tx_len, true, r, out);
    if (rc != UTXO_OK) {
        free(r);
        return out->err = rc;
    }
    *run = r;
    return UTXO_OK;
}

int cn_verifier_block_finish(utxo_verifier *v, cn_vrun *run, utxo_verdict *out)
{
    int rc;

    verdict_clear(out);
    rc = vrun_finish(v, run, out);
    free(run);
    return rc;
}
