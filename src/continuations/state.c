/*
 * state.c — run ids, state digests and the initial state of a run
 * (state.h, docs/CONTINUATIONS.md).
 */
#include "config.h"

#include <string.h>
#include "continuations/state.h"
#include "predicates/pred_run.h"

void seg_run_id(uint8_t out[UTXO_HASH_BYTES], const uint8_t pred_id[UTXO_HASH_BYTES],
                uint64_t budget, uint32_t page_limit, unsigned po2, const uint8_t *args,
                uint32_t args_len)
{
    hash_state hs;
    enc e;

    hash_init(&hs, "utxo.seg.run");
    enc_init(&e, NULL, 0, &hs);
    enc_bytes(&e, pred_id, UTXO_HASH_BYTES);
    enc_u64(&e, budget);
    enc_u32(&e, page_limit);
    enc_u8(&e, (uint8_t)po2);
    enc_u32(&e, args_len);
    enc_bytes(&e, args, args_len);
    hash_final(&hs, out);
}

void seg_state_digest(uint8_t out[UTXO_HASH_BYTES], const uint8_t run_id[UTXO_HASH_BYTES],
                      const seg_state *s)
{
    hash_state hs;
    enc e;

    hash_init(&hs, "utxo.seg.state");
    enc_init(&e, NULL, 0, &hs);
    enc_bytes(&e, run_id, UTXO_HASH_BYTES);
    enc_u32(&e, s->pc);
    for (unsigned r = 1; r < 32; r++)
        enc_u32(&e, s->x[r]);
    enc_bytes(&e, s->root, UTXO_HASH_BYTES);
    enc_u64(&e, s->cycles);
    enc_u32(&e, s->touched);
    enc_u32(&e, s->segment);
    hash_final(&hs, out);
}

int seg_initial(seg_state *st, mt_tree **tree_out, utxo_vm_result *res, vm *v,
                const pc_entry *e, const uint8_t *args, uint32_t args_len,
                const utxo_txctx *ctx, uint64_t budget, uint32_t page_limit)
{
    uint8_t page[VM_PAGE_BYTES];
    const uint32_t *pages;
    uint32_t n;
    mt_tree *t = NULL;
    int rc;

    memset(st, 0, sizeof *st);
    memset(res, 0, sizeof *res);
    if (tree_out)
        *tree_out = NULL;
    vm_set_page_limit(v, page_limit);
    rc = pred_load(v, e, args, args_len, ctx, budget, res);
    if (rc != 0)
        return rc; /* 1: the load ended the run; or an error */
    t = mt_new();
    if (!t)
        return UTXO_ERR_NOMEM;
    pages = vm_touched_pages(v, &n);
    for (uint32_t i = 0; i < n; i++) {
        (void)vm_page_get(v, pages[i], page);
        if ((rc = mt_set_page(t, pages[i], page)) != UTXO_OK)
            goto fail;
    }
    if ((rc = mt_commit(t)) != UTXO_OK)
        goto fail;
    st->pc = vm_pc(v);
    for (unsigned r = 1; r < 32; r++)
        st->x[r] = vm_reg(v, r);
    mt_root(t, st->root);
    st->cycles = vm_cycles(v);
    st->touched = n;
    if (tree_out)
        *tree_out = t;
    else
        mt_free(t);
    return 0;
fail:
    mt_free(t);
    return rc;
}

bool seg_count_fits(size_t n, uint64_t budget, unsigned po2)
{
    return n <= 2 * (budget >> po2) + 2;
}

uint64_t seg_stop_at(uint64_t start, unsigned po2)
{
    uint64_t end = start + (UINT64_C(1) << po2);
    return end < start ? UINT64_MAX : end;
}

int seg_exec(vm *v, const seg_state *st, const uint8_t *args, uint32_t args_len,
             const utxo_txctx *ctx, uint64_t budget, uint32_t page_limit, unsigned po2,
             vm_pager_fn fn, void *ud, utxo_vm_result *out)
{
    uint64_t end;
    int rc;

    memset(out, 0, sizeof *out);
    rc = vm_load_empty(v, NULL, args, args_len, ctx, budget);
    if (rc != UTXO_OK)
        return -rc;
    vm_set_page_limit(v, page_limit);
    vm_set_pages_outside(v, st->touched);
    vm_set_pager(v, fn, ud);
    for (unsigned r = 1; r < 32; r++)
        vm_set_reg(v, r, st->x[r]);
    vm_set_pc(v, st->pc);
    vm_set_cycles(v, st->cycles);
    end = seg_stop_at(st->cycles, po2);
    vm_set_hostcall_fence(v, end);
    return vm_run_until(v, end, out);
}
