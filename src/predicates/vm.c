/*
 * vm.c — programs (images prepared for running), machines and runs: the
 * life cycle around the interpreter loop in vm_interp.c.
 *
 * A vm_program lays an image out as 1 KiB pages once; it is immutable and
 * shared. A vm is one machine, reused run after run: vm_load undoes only what
 * the previous run touched, copies the program's pages and the arguments in,
 * and sets the registers (docs/VM.md, "Initial state"); vm_run_until runs to
 * the end or to an exact cycle count. Host calls reach the machine through
 * the accessors at the end of this file and in vm_mem.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "predicates/vm_internal.h"

/* ---- programs ------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Segment order for the overlap check. */
static int cmp_seg(const void *a, const void *b)
{
    const vm_segment *x = *(const vm_segment *const *)a;
    const vm_segment *y = *(const vm_segment *const *)b;
    return (x->vaddr > y->vaddr) - (x->vaddr < y->vaddr);
}

void vm_program_free(vm_program *p)
{
    if (!p)
        return;
    if (p->dec) {
        for (uint32_t i = 0; i < p->n_pages; i++)
            free(atomic_load(&p->dec[i]));
        free((void *)p->dec);
    }
    free(p->page_no);
    free(p->page_data);
    free(p);
}

/* Serial numbers of the programs made (vm_program.serial). */
static _Atomic uint64_t program_serial;

int vm_program_new(vm_program **out, const vm_image *img)
{
    int rc = UTXO_ERR_ARG;
    vm_program *p = NULL;
    const vm_segment **order = NULL;
    uint64_t n_pages = 0;

    if (out)
        *out = NULL;
    if (!out || !img || (img->n_segs && !img->segs))
        return UTXO_ERR_ARG;

    /* Check every segment, then that none overlaps its successor. */
    order = calloc(img->n_segs ? img->n_segs : 1, sizeof *order);
    if (!order)
        return UTXO_ERR_NOMEM;
    uint32_t n_live = 0;
    for (uint32_t i = 0; i < img->n_segs; i++) {
        const vm_segment *s = &img->segs[i];
        if (s->len == 0)
            continue;
        if (!s->data || s->vaddr < VM_LOW_UNMAPPED ||
            (uint64_t)s->vaddr + s->len > VM_ADDR_SPACE)
            goto out;
        order[n_live++] = s;
        n_pages += (((uint64_t)s->vaddr + s->len - 1) >> VM_PAGE_SHIFT) -
                   (s->vaddr >> VM_PAGE_SHIFT) + 1;
    }
    if (n_live > 1)
        qsort(order, n_live, sizeof *order, cmp_seg);
    for (uint32_t i = 1; i < n_live; i++)
        if ((uint64_t)order[i - 1]->vaddr + order[i - 1]->len > order[i]->vaddr)
            goto out;

    rc = UTXO_ERR_NOMEM;
    p = calloc(1, sizeof *p);
    if (!p)
        goto out;
    memcpy(p->id, img->id, sizeof p->id);
    p->serial = atomic_fetch_add(&program_serial, 1) + 1;
    p->entry = img->entry;
    /* Page list: every page a segment covers, sorted, without repeats. */
    p->page_no = malloc((n_pages ? n_pages : 1) * sizeof *p->page_no);
    if (!p->page_no)
        goto out;
    uint32_t k = 0;
    for (uint32_t i = 0; i < n_live; i++) {
        uint32_t a = order[i]->vaddr >> VM_PAGE_SHIFT;
        uint32_t b = (uint32_t)(((uint64_t)order[i]->vaddr + order[i]->len - 1) >> VM_PAGE_SHIFT);
        for (uint32_t pg = a;; pg++) {
            p->page_no[k++] = pg;
            if (pg == b)
                break;
        }
    }
    if (k > 1)
        qsort(p->page_no, k, sizeof *p->page_no, cmp_u32);
    uint32_t u = 0;
    for (uint32_t i = 0; i < k; i++)
        if (u == 0 || p->page_no[u - 1] != p->page_no[i])
            p->page_no[u++] = p->page_no[i];
    p->n_pages = u;
    p->page_data = calloc(u ? u : 1, VM_PAGE_BYTES);
    p->dec = malloc((u ? u : 1) * sizeof *p->dec);
    if (!p->page_data || !p->dec)
        goto out;
    for (uint32_t i = 0; i < u; i++)
        atomic_init(&p->dec[i], NULL);
    /* Copy the segments; segments are sorted, so a page cursor suffices. */
    uint32_t pi = 0;
    for (uint32_t i = 0; i < n_live; i++) {
        const vm_segment *s = order[i];
        uint64_t a = s->vaddr, end = (uint64_t)s->vaddr + s->len;
        while (a < end) {
            uint32_t pg = (uint32_t)(a >> VM_PAGE_SHIFT);
            while (p->page_no[pi] != pg)
                pi++;
            uint32_t off = (uint32_t)(a & (VM_PAGE_BYTES - 1));
            uint64_t n = VM_PAGE_BYTES - off;
            if (n > end - a)
                n = end - a;
            memcpy(p->page_data + (size_t)pi * VM_PAGE_BYTES + off,
                   s->data + (a - s->vaddr), (size_t)n);
            a += n;
        }
    }
    *out = p;
    p = NULL;
    rc = UTXO_OK;
out:
    vm_program_free(p);
    free(order);
    return rc;
}

uint32_t vm_program_pages(const vm_program *p)
{
    return p ? p->n_pages : 0;
}

/* ---- machines ------------------------------------------------------- */

/* The machine's page size is the ABI's: the page charge is per ABI page. */
_Static_assert(VM_PAGE_BYTES == UTXO_ABI_PAGE_BYTES, "VM and ABI page sizes differ");

vm *vm_new(void)
{
    vm *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->page_limit = VM_DEFAULT_PAGE_LIMIT;
    v->page_cost = UTXO_ABI_PAGE_CYCLES; /* consensus: every run charges pages */
    v->jit_on = vm_jit_default();
    v->jit_warmup = vm_jit_default_warmup();
    if (vm_mem_init(v) != UTXO_OK) {
        vm_free(v);
        return NULL;
    }
    return v;
}

void vm_free(vm *v)
{
    if (!v)
        return;
    vm_mem_fini(v);
    vm_jit_free(v->jit);
    free(v);
}

void vm_set_page_cost(vm *v, uint32_t cycles)
{
    if (v)
        v->page_cost = cycles;
}

void vm_set_page_limit(vm *v, uint32_t pages)
{
    if (!v)
        return;
    if (pages == 0)
        pages = VM_DEFAULT_PAGE_LIMIT;
    if (pages > VM_NUM_PAGES)
        pages = VM_NUM_PAGES;
    v->page_limit = pages;
}

void vm_finish(vm *v, int status, int fail, uint32_t exit_code, uint32_t pc)
{
    v->res.status = status;
    v->res.fail = fail;
    v->res.exit_code = exit_code;
    v->res.pc = pc;
    v->res.cycles = v->cycles;
    v->pc = pc;
    v->state = VM_DONE;
}

int vm_load_empty(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
                  const utxo_txctx *ctx, uint64_t budget)
{
    if (!v || (args_len && !args))
        return UTXO_ERR_ARG;
    vm_mem_reset(v);
    memset(v->x, 0, sizeof v->x);
    memset(&v->res, 0, sizeof v->res);
    v->cycles = 0;
    v->jit_insns = 0;
    v->jit_entries = 0;
    v->budget = budget;
    v->halted = 0;
    v->halt_code = 0;
    v->restricted = 0;
    v->charging = 1;
    v->pending = 0;
    v->pages_outside = 0;
    (void)vm_set_absent_pages(v, NULL, 0);
    v->pager = NULL;
    v->pager_ud = NULL;
    v->hc_fence = UINT64_MAX;
    v->prog = p;
    v->args = args;
    v->args_len = args_len;
    v->ctx = ctx;
    v->pc = p ? p->entry : 0;
    v->state = VM_LIVE;
    return UTXO_OK;
}

int vm_load(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
            const utxo_txctx *ctx, uint64_t budget)
{
    int rc = p ? vm_load_empty(v, p, args, args_len, ctx, budget) : UTXO_ERR_ARG;
    if (rc)
        return rc;
    v->charging = 0; /* loader pages: the transaction pays for their bytes */
    for (uint32_t i = 0; i < p->n_pages; i++) {
        uint32_t pg = p->page_no[i];
        rc = vm_touch(v, pg);
        if (rc) {
            vm_finish(v, UTXO_VM_FAILED, rc, 0, p->entry);
            return UTXO_OK;
        }
        memcpy(v->mem + ((size_t)pg << VM_PAGE_SHIFT),
               p->page_data + (size_t)i * VM_PAGE_BYTES, VM_PAGE_BYTES);
        v->pstate[pg] = VM_PG_IMAGE;
    }
    /* Arguments go in after the image (they win if the image overlaps). */
    if (args_len) {
        rc = (uint64_t)VM_ARGS_BASE + args_len > VM_ADDR_SPACE
                     ? UTXO_VM_FAIL_MEMORY_LIMIT
                     : vm_mem_write(v, VM_ARGS_BASE, args, args_len);
        if (rc) {
            vm_finish(v, UTXO_VM_FAILED, rc, 0, p->entry);
            return UTXO_OK;
        }
    }
    v->x[2] = VM_STACK_TOP;
    v->x[10] = args_len;
    v->x[11] = VM_ARGS_BASE;
    v->charging = 1;
    return UTXO_OK;
}

int vm_load_bytes(vm *v, uint32_t addr, const void *src, uint32_t len)
{
    if (!v || v->state != VM_LIVE || v->cycles != 0)
        return UTXO_VM_FAIL_BAD_ACCESS; /* not the initial state */
    uint32_t charging = v->charging;
    v->charging = 0; /* loader pages, like the image's */
    int rc = vm_mem_write(v, addr, src, len);
    v->charging = charging;
    return rc;
}

static void paused(const vm *v, utxo_vm_result *out)
{
    memset(out, 0, sizeof *out);
    out->pc = v->pc;
    out->cycles = v->cycles;
}

int vm_run_until(vm *v, uint64_t stop_at, utxo_vm_result *out)
{
    if (!v || !out || v->state == VM_IDLE)
        return UTXO_ERR_ARG;
    if (v->state == VM_LIVE) {
        uint64_t stop = stop_at < v->budget ? stop_at : v->budget;
        if ((v->jit_on ? vm_jit_run(v, stop) : vm_interp(v, stop)) == VM_RUN_PAUSED) {
            paused(v, out);
            return VM_RUN_PAUSED;
        }
    }
    *out = v->res;
    return VM_RUN_DONE;
}

int vm_run(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
           const utxo_txctx *ctx, uint64_t budget, utxo_vm_result *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!v || !p || !out)
        return UTXO_ERR_ARG;
    int rc = vm_load(v, p, args, args_len, ctx, budget);
    if (rc)
        return rc;
    (void)vm_run_until(v, UINT64_MAX, out);
    return UTXO_OK;
}

/* ---- state accessors (vm.h) ----------------------------------------- */

uint64_t vm_jit_entries(const vm *v)
{
    return v ? v->jit_entries : 0;
}

uint32_t vm_reg(const vm *v, unsigned r)
{
    return (v && r < 32) ? v->x[r] : 0;
}

void vm_set_reg(vm *v, unsigned r, uint32_t value)
{
    if (v && r > 0 && r < 32)
        v->x[r] = value;
}

uint32_t vm_pc(const vm *v)
{
    return v ? v->pc : 0;
}

void vm_set_pc(vm *v, uint32_t pc)
{
    if (v)
        v->pc = pc;
}

void vm_set_pager(vm *v, vm_pager_fn fn, void *ud)
{
    if (v) {
        v->pager = fn;
        v->pager_ud = ud;
    }
}

void vm_set_hostcall_fence(vm *v, uint64_t fence)
{
    if (v)
        v->hc_fence = fence;
}

void vm_set_cycles(vm *v, uint64_t cycles)
{
    if (v)
        v->cycles = cycles;
}

uint64_t vm_cycles(const vm *v)
{
    return v ? v->cycles : 0;
}

int vm_charge(vm *v, uint64_t cycles)
{
    if (v->cycles > v->budget || cycles > v->budget - v->cycles) {
        v->cycles = v->budget;
        return UTXO_VM_FAIL_OUT_OF_CYCLES;
    }
    if (v->cycles > v->hc_fence || cycles > v->hc_fence - v->cycles)
        return VM_HC_DEFER; /* continuation segment boundary: pause before */
    v->cycles += cycles;
    return 0;
}

void vm_halt(vm *v, uint32_t code)
{
    v->halted = 1;
    v->halt_code = code;
}

const utxo_txctx *vm_txctx(const vm *v)
{
    return v ? v->ctx : NULL;
}

const uint8_t *vm_args(const vm *v, uint32_t *len)
{
    if (len)
        *len = v ? v->args_len : 0;
    return v ? v->args : NULL;
}

const char *utxo_vm_fail_str(int fail)
{
    switch (fail) {
    case UTXO_VM_FAIL_NONE: return "none";
    case UTXO_VM_FAIL_OUT_OF_CYCLES: return "out of cycles";
    case UTXO_VM_FAIL_MEMORY_LIMIT: return "memory limit";
    case UTXO_VM_FAIL_ILLEGAL: return "illegal instruction";
    case UTXO_VM_FAIL_BAD_ACCESS: return "bad memory access";
    case UTXO_VM_FAIL_BAD_HOSTCALL: return "bad host call";
    case UTXO_VM_FAIL_EBREAK: return "ebreak";
    case UTXO_VM_FAIL_BAD_FETCH: return "bad instruction fetch";
    case UTXO_VM_FAIL_NOT_WITNESSED: return "page not in the witness";
    default: return "unknown failure";
    }
}
