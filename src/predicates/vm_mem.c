/*
 * vm_mem.c — the machine's paged memory: the 4 GiB reservation, page states,
 * the touched-page list and limit, decoded-code tables and their coherence,
 * and the bounds-checked accessors host calls use (vm_mem_read/write).
 *
 * Layout and invariants are described in vm_internal.h and docs/VM.md
 * ("Memory"). In short: a page is materialised on first touch (load, store,
 * host-call access, image or argument copy) and then counts against the
 * run's page limit; pages below VM_LOW_UNMAPPED never materialise; a page
 * with a decoded table is in state VM_PG_CODE or VM_PG_OWNCODE; a write to it
 * (guest store or host call) re-decodes the written words in a private copy
 * of the table (prepare_write, patch_words).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "predicates/vm_internal.h"

/* LeakSanitizer does not scan mmap'd memory, and a private decoded table
 * (new_table) lives on between runs with its only pointer in dtab, which is
 * mmap'd: register dtab as a root region so such a table is not reported as
 * leaked (libFuzzer checks for leaks after any input that mallocs more than
 * it frees). */
#if defined(__SANITIZE_ADDRESS__)
#define VM_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define VM_LSAN 1
#endif
#endif
#ifdef VM_LSAN
#include <sanitizer/lsan_interface.h>
#define lsan_root(p, n) __lsan_register_root_region((p), (n))
#define lsan_unroot(p, n) __lsan_unregister_root_region((p), (n))
#else
#define lsan_root(p, n) ((void)(p), (void)(n))
#define lsan_unroot(p, n) ((void)(p), (void)(n))
#endif

#if UINTPTR_MAX <= 0xFFFFFFFFu
#error "the predicate VM reserves 4 GiB of address space: it needs a 64-bit host"
#endif
#if !defined(MAP_ANONYMOUS) && defined(MAP_ANON)
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0 /* BSDs: anonymous memory is lazily committed anyway */
#endif

static void *reserve(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int vm_mem_init(vm *v)
{
    v->mem = reserve((size_t)VM_ADDR_SPACE);
    v->pstate = reserve(VM_NUM_PAGES);
    v->dtab = reserve(VM_NUM_PAGES * sizeof(vm_dpage *));
    v->touched = reserve(VM_NUM_PAGES * sizeof(uint32_t));
    v->cap_touched = VM_NUM_PAGES;
    if (v->dtab)
        lsan_root(v->dtab, VM_NUM_PAGES * sizeof(vm_dpage *));
    if (!v->mem || !v->pstate || !v->dtab || !v->touched)
        return UTXO_ERR_NOMEM;
    return UTXO_OK;
}

static void release(void *p, size_t n)
{
    if (p)
        munmap(p, n);
}

void vm_mem_fini(vm *v)
{
    free(v->absent);
    v->absent = NULL;
    v->n_absent = 0;
    if (v->pstate && v->dtab && v->touched)
        vm_mem_reset(v);
    while (v->free_dpages) {
        vm_dpage *d = v->free_dpages;
        v->free_dpages = d->next;
        free(d);
    }
    release(v->mem, (size_t)VM_ADDR_SPACE);
    release(v->pstate, VM_NUM_PAGES);
    if (v->dtab)
        lsan_unroot(v->dtab, VM_NUM_PAGES * sizeof(vm_dpage *));
    release(v->dtab, VM_NUM_PAGES * sizeof(vm_dpage *));
    release(v->touched, VM_NUM_PAGES * sizeof(uint32_t));
    v->mem = NULL;
    v->pstate = NULL;
    v->dtab = NULL;
    v->touched = NULL;
}

/* Drops page p's decoded table; private tables go back to the free list. */
static void drop_code(vm *v, uint32_t p)
{
    vm_dpage *d = v->dtab[p];
    if (v->pstate[p] == VM_PG_OWNCODE && d) {
        d->next = v->free_dpages;
        v->free_dpages = d;
    }
    v->dtab[p] = NULL;
}

/* The host's memory ran out during a run. A run's outcome must not depend
 * on it: a validator short of memory would refuse what the others accept
 * (it gave MEMORY_LIMIT, a verdict). So the process stops, as it does when
 * GMP cannot allocate in a host call, and nothing is judged. */
static void host_oom(const char *what) __attribute__((noreturn));
static void host_oom(const char *what)
{
    static const char head[] = "utxo: out of memory for ";
    static const char tail[] = " during a predicate run: stopping (no verdict may depend on "
                               "the host's memory)\n";
    /* write(2), not stdio: no allocation */
    (void)!write(2, head, sizeof head - 1);
    (void)!write(2, what, strlen(what));
    (void)!write(2, tail, sizeof tail - 1);
    abort();
}

/* A decoded table from the host's memory; never NULL (host_oom). */
static vm_dpage *dpage_alloc(vm *v)
{
    vm_dpage *d = NULL;

    if (v->oom_after != 1) { /* tests: vm_test_oom_after */
        if (v->oom_after > 1)
            v->oom_after--;
        d = malloc(sizeof *d);
    }
    if (!d)
        host_oom("a decoded code page");
    return d;
}

void vm_test_oom_after(vm *v, uint32_t n)
{
    if (v)
        v->oom_after = n;
}

/* A private table (recycled, or from dpage_alloc); never NULL. */
static vm_dpage *new_table(vm *v)
{
    vm_dpage *d = v->free_dpages;
    if (d)
        v->free_dpages = d->next;
    else
        d = dpage_alloc(v);
    d->owned = 1;
    d->patched = 0;
    d->next = NULL;
    return d;
}

/* Hands the whole reservation back to the kernel, its next touch reading
 * zeros: 0, or -1 when the pages must be zeroed by hand. Only Linux's
 * MADV_DONTNEED discards private anonymous pages; elsewhere (FreeBSD,
 * macOS) it is advice and the old bytes stay, so there it is a hint given
 * after the zeroing, never instead of it. */
static int discard_all(vm *v)
{
#ifdef __linux__
    return madvise(v->mem, (size_t)VM_ADDR_SPACE, MADV_DONTNEED);
#else
    (void)v;
    return -1;
#endif
}

void vm_mem_reset(vm *v)
{
    int big = v->n_touched > VM_RESET_BULK_PAGES;
    int zeroed = big && discard_all(v) == 0;

    for (uint32_t i = 0; i < v->n_touched; i++) {
        uint32_t p = v->touched[i];
        drop_code(v, p);
        if (!zeroed)
            memset(v->mem + ((size_t)p << VM_PAGE_SHIFT), 0, VM_PAGE_BYTES);
        v->pstate[p] = VM_PG_NONE;
    }
#ifndef __linux__
    if (big)
        (void)madvise(v->mem, (size_t)VM_ADDR_SPACE, MADV_DONTNEED);
#endif
    v->n_touched = 0;
}

/* Materialises page p even in restricted mode. */
static int materialise(vm *v, uint32_t p)
{
    if (p < VM_LOW_PAGES || p >= VM_NUM_PAGES)
        return UTXO_VM_FAIL_BAD_ACCESS;
    if (v->pstate[p] != VM_PG_NONE)
        return 0;
    if (v->n_touched >= v->page_limit || v->page_limit - v->n_touched <= v->pages_outside)
        return UTXO_VM_FAIL_MEMORY_LIMIT;
    v->touched[v->n_touched++] = p;
    v->pstate[p] = VM_PG_RW;
    if (v->charging)
        v->pending += v->page_cost; /* settled by the interpreter */
    return 0;
}

/* Restricted mode: was page p witnessed as empty? */
static int witnessed_absent(const vm *v, uint32_t p)
{
    uint32_t lo = 0, hi = v->n_absent;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (v->absent[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < v->n_absent && v->absent[lo] == p;
}

/* Demand paging (vm_set_pager): asks the pager for page p, which is not
 * materialised here. Returns VM_PAGE_PRESENT (installed), VM_PAGE_ABSENT, or
 * VM_PAGE_MISSING (also when a present page would overdraw pages_outside). */
static int page_in(vm *v, uint32_t p)
{
    uint8_t *m = v->mem + ((size_t)p << VM_PAGE_SHIFT);
    int r = v->pager(v->pager_ud, p, m);
    if (r == VM_PAGE_ABSENT)
        return r;
    if (r != VM_PAGE_PRESENT || v->pages_outside == 0 || v->n_touched >= v->cap_touched) {
        memset(m, 0, VM_PAGE_BYTES);
        return VM_PAGE_MISSING;
    }
    v->pages_outside--;
    v->touched[v->n_touched++] = p;
    v->pstate[p] = VM_PG_RW;
    return VM_PAGE_PRESENT;
}

int vm_touch(vm *v, uint32_t p)
{
    if (v->pager && p >= VM_LOW_PAGES && p < VM_NUM_PAGES && v->pstate[p] == VM_PG_NONE) {
        int r = page_in(v, p);
        if (r == VM_PAGE_PRESENT)
            return 0;
        if (r == VM_PAGE_MISSING)
            return UTXO_VM_FAIL_NOT_WITNESSED;
    }
    if (v->restricted && p < VM_NUM_PAGES && p >= VM_LOW_PAGES &&
        v->pstate[p] == VM_PG_NONE && v->n_touched < v->page_limit &&
        v->page_limit - v->n_touched > v->pages_outside && !witnessed_absent(v, p))
        return UTXO_VM_FAIL_NOT_WITNESSED; /* (the limit is checked first) */
    return materialise(v, p);
}

/* Index of page p in the program, or -1. */
static long prog_page(const vm_program *prog, uint32_t p)
{
    if (!prog)
        return -1;
    uint32_t lo = 0, hi = prog->n_pages;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (prog->page_no[mid] < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < prog->n_pages && prog->page_no[lo] == p) ? (long)lo : -1;
}

/* The program's shared table for its page i, decoding it on first use. Two
 * threads may race to decode: both produce identical tables, one wins the
 * compare-and-swap and the other frees its copy. */
static vm_dpage *shared_table(vm *v, const vm_program *prog, uint32_t i)
{
    vm_dpage *d = atomic_load_explicit(&prog->dec[i], memory_order_acquire);
    if (d)
        return d;
    vm_dpage *fresh = dpage_alloc(v);
    vm_decode_page(fresh, prog->page_no[i] << VM_PAGE_SHIFT,
                   prog->page_data + (size_t)i * VM_PAGE_BYTES);
    fresh->owned = 0;
    fresh->next = NULL;
    vm_dpage *expected = NULL;
    if (atomic_compare_exchange_strong_explicit(&prog->dec[i], &expected, fresh,
                                                memory_order_acq_rel,
                                                memory_order_acquire))
        return fresh;
    free(fresh);
    return expected;
}

const vm_dpage *vm_fetch_page(vm *v, uint32_t pc, int *fail)
{
    uint32_t p = pc >> VM_PAGE_SHIFT;
    vm_dpage *d = NULL;

    *fail = UTXO_VM_FAIL_BAD_FETCH;
    if ((pc & 3u) != 0 || p < VM_LOW_PAGES)
        return NULL;
    uint8_t own = VM_PG_CODE;
    switch (v->pstate[p]) {
    case VM_PG_CODE:
    case VM_PG_OWNCODE:
        *fail = 0;
        return v->dtab[p];
    case VM_PG_IMAGE: {
        long i = prog_page(v->prog, p);
        if (i >= 0) {
            d = shared_table(v, v->prog, (uint32_t)i);
            break;
        }
        /* not the program's (cannot happen): decode privately */
    }
    /* fall through */
    case VM_PG_RW:
        own = VM_PG_OWNCODE;
        d = new_table(v);
        vm_decode_page(d, p << VM_PAGE_SHIFT, v->mem + ((size_t)p << VM_PAGE_SHIFT));
        break;
    default: /* VM_PG_NONE: fetching never materialises a page */
        if (v->pager) {
            int r = page_in(v, p);
            if (r == VM_PAGE_PRESENT) {
                own = VM_PG_OWNCODE;
                d = new_table(v);
                vm_decode_page(d, p << VM_PAGE_SHIFT, v->mem + ((size_t)p << VM_PAGE_SHIFT));
                break;
            }
            if (r == VM_PAGE_MISSING)
                *fail = UTXO_VM_FAIL_NOT_WITNESSED;
            return NULL;
        }
        if (v->restricted && !witnessed_absent(v, p))
            *fail = UTXO_VM_FAIL_NOT_WITNESSED;
        return NULL;
    }
    v->dtab[p] = d;
    v->pstate[p] = own;
    *fail = 0;
    return d;
}

int vm_load_slow(vm *v, uint32_t addr, unsigned size)
{
    if (addr & (size - 1u))
        return UTXO_VM_FAIL_BAD_ACCESS;
    return vm_touch(v, addr >> VM_PAGE_SHIFT);
}

/*
 * A guest store the fast path refused. On a page with decoded code the
 * store patches the decoded table in place (a private copy first when the
 * table is the program's shared one) instead of dropping it: data that
 * shares a page with code (images linked with -N do that) then costs a slow
 * store, not a re-decode of the page per store. The patch is O(1); the
 * table is marked patched and executed in step mode (vm_interp.c).
 */
/* Prepares materialised page p for a write: IMAGE becomes RW, a shared
 * decoded table becomes a private copy (patched per written word after the
 * write, see patch_words). 0 or a failure reason. */
static int prepare_write(vm *v, uint32_t p)
{
    if (v->pstate[p] == VM_PG_CODE) {
        vm_dpage *d = new_table(v);
        memcpy(d->ins, v->dtab[p]->ins, sizeof d->ins);
        d->vaddr = p << VM_PAGE_SHIFT;
        v->dtab[p] = d;
        v->pstate[p] = VM_PG_OWNCODE;
    } else if (v->pstate[p] == VM_PG_IMAGE) {
        v->pstate[p] = VM_PG_RW;
    }
    return 0;
}

/* Re-decodes the words of [addr, end) that lie on code pages. */
static void patch_words(vm *v, uint32_t addr, uint64_t end)
{
    uint64_t w = addr & ~3u;
    while (w < end) {
        uint32_t p = (uint32_t)(w >> VM_PAGE_SHIFT);
        uint64_t page_end = ((uint64_t)p + 1) << VM_PAGE_SHIFT;
        uint64_t stop = end < page_end ? end : page_end;
        if (v->pstate[p] == VM_PG_OWNCODE)
            for (; w < stop; w += 4)
                vm_decode_patch(v->dtab[p], (uint32_t)(w >> 2) & (VM_PAGE_INSNS - 1u),
                                vm_le32(v->mem + w));
        w = page_end;
    }
}

int vm_store_slow(vm *v, uint32_t addr, unsigned size, uint32_t value, int *recode)
{
    uint32_t p = addr >> VM_PAGE_SHIFT;
    int rc;

    *recode = 0;
    if (addr & (size - 1u))
        return UTXO_VM_FAIL_BAD_ACCESS;
    if ((rc = vm_touch(v, p)) != 0 || (rc = prepare_write(v, p)) != 0)
        return rc;
    uint8_t *m = v->mem + addr;
    for (unsigned i = 0; i < size; i++)
        m[i] = (uint8_t)(value >> (8 * i));
    if (v->pstate[p] == VM_PG_OWNCODE) {
        patch_words(v, addr, (uint64_t)addr + size);
        *recode = 1;
    }
    return 0;
}

/* Checks [addr, addr + len) for a host-call access and materialises it. */
static int span(vm *v, uint32_t addr, uint32_t len, int writable)
{
    if ((uint64_t)addr + len > VM_ADDR_SPACE)
        return UTXO_VM_FAIL_BAD_ACCESS;
    uint32_t first = addr >> VM_PAGE_SHIFT;
    uint32_t last = (uint32_t)(((uint64_t)addr + len - 1) >> VM_PAGE_SHIFT);
    if (first < VM_LOW_PAGES)
        return UTXO_VM_FAIL_BAD_ACCESS;
    for (uint32_t p = first;; p++) {
        int rc = vm_touch(v, p);
        if (rc == 0 && writable)
            rc = prepare_write(v, p);
        if (rc)
            return rc;
        if (p == last)
            break;
    }
    return 0;
}

int vm_mem_read(vm *v, uint32_t addr, void *dst, uint32_t len)
{
    if (!v || (len && !dst))
        return UTXO_VM_FAIL_BAD_ACCESS;
    if (len == 0)
        return 0;
    int rc = span(v, addr, len, 0);
    if (rc)
        return rc;
    memcpy(dst, v->mem + addr, len);
    return 0;
}

int vm_mem_write(vm *v, uint32_t addr, const void *src, uint32_t len)
{
    if (!v || (len && !src))
        return UTXO_VM_FAIL_BAD_ACCESS;
    if (len == 0)
        return 0;
    int rc = span(v, addr, len, 1);
    if (rc)
        return rc;
    memcpy(v->mem + addr, src, len);
    /* Code pages stay decoded: re-decode just the written words (cost
     * proportional to the bytes, which the host call charges for). */
    patch_words(v, addr, (uint64_t)addr + len);
    return 0;
}

int vm_page_set(vm *v, uint32_t page, const uint8_t bytes[VM_PAGE_BYTES])
{
    if (!v || !bytes)
        return UTXO_VM_FAIL_BAD_ACCESS;
    uint32_t charging = v->charging; /* installing a witness is not running */
    v->charging = 0;
    int rc = materialise(v, page);
    v->charging = charging;
    if (rc)
        return rc;
    drop_code(v, page);
    v->pstate[page] = VM_PG_RW;
    memcpy(v->mem + ((size_t)page << VM_PAGE_SHIFT), bytes, VM_PAGE_BYTES);
    return 0;
}

int vm_page_get(const vm *v, uint32_t page, uint8_t out[VM_PAGE_BYTES])
{
    if (!v || !out || page >= VM_NUM_PAGES || v->pstate[page] == VM_PG_NONE) {
        if (out)
            memset(out, 0, VM_PAGE_BYTES);
        return 0;
    }
    memcpy(out, v->mem + ((size_t)page << VM_PAGE_SHIFT), VM_PAGE_BYTES);
    return 1;
}

void vm_set_restricted(vm *v, bool on)
{
    if (v)
        v->restricted = on;
}

static int cmp_page(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int vm_set_absent_pages(vm *v, const uint32_t *pages, uint32_t n)
{
    if (!v || (n && !pages) || n > VM_NUM_PAGES)
        return UTXO_ERR_ARG;
    uint32_t *a = NULL;
    if (n) {
        a = malloc((size_t)n * sizeof *a);
        if (!a)
            return UTXO_ERR_NOMEM;
        memcpy(a, pages, (size_t)n * sizeof *a);
        qsort(a, n, sizeof *a, cmp_page);
    }
    free(v->absent);
    v->absent = a;
    v->n_absent = n;
    return UTXO_OK;
}

void vm_set_pages_outside(vm *v, uint32_t n)
{
    if (v)
        v->pages_outside = n;
}

uint32_t vm_patched_pages(const vm *v)
{
    uint32_t n = 0;

    if (!v)
        return 0;
    for (uint32_t i = 0; i < v->n_touched; i++) {
        uint32_t p = v->touched[i];
        if (v->pstate[p] == VM_PG_OWNCODE && v->dtab[p] && v->dtab[p]->patched)
            n++;
    }
    return n;
}

const uint32_t *vm_touched_pages(const vm *v, uint32_t *n)
{
    if (n)
        *n = v ? v->n_touched : 0;
    return v ? v->touched : NULL;
}
