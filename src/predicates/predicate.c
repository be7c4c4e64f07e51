/*
 * predicate.c — the public predicate API of include/utxo/predicate.h:
 * image validation and conversion, predicate ids, the transaction context
 * of a run, and cached runs.
 *
 * A run takes the decoded program from the cache (cache.c), loads it into
 * the calling thread's machine (one vm per thread, created on first use and
 * freed when the thread exits), writes the instance's parameter segment at
 * UTXO_ABI_PARAMS_BASE, and runs to the end. Writing the parameters after
 * the load (vm_load_bytes) gives exactly the memory that loading the whole
 * image would: both put the same bytes at the same addresses before the
 * first instruction, and neither costs a cycle (loader pages are not
 * charged the per-page cost, include/utxo/abi.h).
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "predicates/cache.h"
#include "predicates/image.h"
#include "predicates/hostcall.h"
#include "predicates/pred_run.h"
#include "predicates/vm_internal.h" /* v->state: did vm_load end the run? */

int utxo_image_validate(const uint8_t *img, size_t len, size_t *err_offset)
{
    img_view v;

    return img_view_decode(&v, img, len, err_offset);
}

int utxo_image_from_elf(uint8_t **img, size_t *img_len, const uint8_t *elf, size_t elf_len,
                        size_t *err_offset)
{
    return img_from_elf(img, img_len, elf, elf_len, err_offset);
}

int utxo_image_explain(const uint8_t *bytes, size_t len, utxo_image_problem *p)
{
    img_why why = {NULL, -1};
    img_view v;
    uint8_t *img = NULL;
    size_t img_len = 0, off = 0;
    int rc;

    if (p == NULL)
        return UTXO_ERR_ARG;
    memset(p, 0, sizeof *p);
    p->segment = -1;
    p->what = "";
    if (bytes == NULL && len > 0)
        return p->err = UTXO_ERR_ARG;
    if (len >= 4 && memcmp(bytes, "\x7f" "ELF", 4) == 0) {
        rc = img_from_elf_why(&img, &img_len, bytes, len, &off, &why);
        free(img);
    } else {
        rc = img_view_decode_why(&v, bytes, len, &off, &why);
    }
    p->err = rc;
    if (rc != UTXO_OK) {
        p->offset = off;
        p->segment = why.segment;
        p->what = why.what ? why.what : utxo_strerror(rc);
    }
    return rc;
}

int utxo_txctx_init(utxo_txctx *ctx, const utxo_tx *tx, const utxo_output *spent,
                    uint32_t height, const uint8_t chain_id[UTXO_HASH_BYTES])
{
    if (ctx)
        memset(ctx, 0, sizeof *ctx);
    if (ctx == NULL || tx == NULL || chain_id == NULL || (spent == NULL && tx->n_inputs > 0))
        return UTXO_ERR_ARG;
    ctx->tx = tx;
    ctx->spent = spent;
    ctx->height = height;
    utxo_tx_sighash(tx, chain_id, ctx->sighash);
    return UTXO_OK;
}

void utxo_predicate_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t *img, size_t len)
{
    img_id(out, img, len);
}

/* ---- one machine per thread -------------------------------------------- */

static pthread_key_t vm_key;
static pthread_once_t vm_once = PTHREAD_ONCE_INIT;
static int vm_key_err;

static void vm_destroy(void *p)
{
    vm_free(p);
}

static void vm_key_init(void)
{
    vm_key_err = pthread_key_create(&vm_key, vm_destroy);
}

vm *pred_thread_vm(void)
{
    vm *v;

    if (pthread_once(&vm_once, vm_key_init) != 0 || vm_key_err != 0)
        return NULL;
    v = pthread_getspecific(vm_key);
    if (v == NULL) {
        v = vm_new();
        if (v == NULL)
            return NULL;
        if (pthread_setspecific(vm_key, v) != 0) {
            vm_free(v);
            return NULL;
        }
    }
    return v;
}

/* ---- runs ------------------------------------------------------------- */

int pred_load(vm *v, const pc_entry *e, const uint8_t *args, uint32_t args_len,
              const utxo_txctx *ctx, uint64_t budget, utxo_vm_result *res)
{
    const uint8_t *params;
    uint32_t plen;
    int rc;

    rc = vm_load(v, pc_program(e), args, args_len, ctx, budget);
    if (rc != UTXO_OK)
        return rc;
    if (v->state != VM_LIVE) { /* the load itself ended the run (page limit) */
        (void)vm_run_until(v, UINT64_MAX, res);
        return 1;
    }
    params = pc_params(e, &plen);
    if (plen > 0) {
        int f = vm_load_bytes(v, UTXO_ABI_PARAMS_BASE, params, plen);
        if (f != 0) { /* only the page limit can refuse it */
            memset(res, 0, sizeof *res);
            res->status = UTXO_VM_FAILED;
            res->fail = f;
            res->pc = vm_pc(v);
            return 1;
        }
    }
    return 0;
}

int pred_run(utxo_vm_result *res, const uint8_t *id, const uint8_t *img, size_t img_len,
             const uint8_t *args, size_t args_len, const utxo_txctx *ctx, uint64_t budget,
             size_t *err_off)
{
    uint8_t own_id[UTXO_HASH_BYTES];
    pc_entry *e = NULL;
    vm *v;
    int rc;

    if (res)
        memset(res, 0, sizeof *res);
    if (err_off)
        *err_off = 0;
    if (res == NULL || (img == NULL && img_len > 0) || (args == NULL && args_len > 0))
        return UTXO_ERR_ARG;
    if (args_len > UINT32_MAX || img_len > UTXO_IMAGE_MAX_BYTES)
        return UTXO_ERR_TOO_LARGE;
    if (id == NULL) {
        img_id(own_id, img, img_len);
        id = own_id;
    }
    v = pred_thread_vm();
    if (v == NULL)
        return UTXO_ERR_NOMEM;
    rc = pc_get(&e, id, img, img_len, err_off);
    if (rc != UTXO_OK)
        return rc;
    rc = pred_load(v, e, args, (uint32_t)args_len, ctx, budget, res);
    if (rc == 0)
        rc = vm_run_until(v, UINT64_MAX, res) == VM_RUN_DONE ? UTXO_OK : UTXO_ERR_INTERNAL;
    else if (rc == 1)
        rc = UTXO_OK; /* res already says how it failed */
    pc_put(e);
    return rc;
}

int utxo_predicate_run(utxo_vm_result *res, const uint8_t *img, size_t img_len,
                       const uint8_t *args, size_t args_len, const utxo_txctx *ctx,
                       uint64_t budget)
{
    return pred_run(res, NULL, img, img_len, args, args_len, ctx, budget, NULL);
}

void utxo_predicate_set_log(utxo_log_fn fn, void *ud)
{
    hc_set_log(fn, ud);
}
