/*
 * vm.h — internal contract of the predicate VM (src/predicates).
 *
 * Two halves meet here:
 *   - the machine (vm.c, vm_mem.c, vm_interp.c): RV32IM interpreter, paged
 *     memory, metering, exact stop at a cycle count;
 *   - the environment (image.c, hostcall.c, cache.c): canonical predicate
 *     images, the ECALL host calls, the decoded-program cache.
 * The machine calls vm_host_call() on ECALL; host calls touch the machine only
 * through the accessors below, which bounds-check and meter every access.
 * Nothing here is exported from libutxo (names are vm_*); the public API is in
 * include/utxo/predicate.h.
 */
#ifndef UTXO_SRC_VM_H
#define UTXO_SRC_VM_H

#include <stdbool.h>
#include <stdint.h>
#include "utxo/predicate.h"

/* ---- memory layout (documented in docs/VM.md) ------------------------- */
#define VM_PAGE_BYTES 1024u
#define VM_PAGE_SHIFT 10u
#define VM_NUM_PAGES (1u << 22)          /* 4 GiB / 1 KiB */
#define VM_LOW_UNMAPPED 0x00010000u      /* [0, this) always faults (null guard) */

/* ---- a decoded image, as the machine loads it ------------------------- */
typedef struct vm_segment {
    uint32_t vaddr;      /* page-aligned? no: any address >= VM_LOW_UNMAPPED */
    uint32_t len;        /* bytes of data copied to vaddr */
    const uint8_t *data; /* len bytes, owned by the image */
} vm_segment;

typedef struct vm_image {
    uint8_t id[UTXO_HASH_BYTES]; /* predicate id: hash of the canonical bytes */
    uint32_t entry;              /* initial pc */
    uint32_t n_segs;
    vm_segment *segs;
    uint8_t *bytes;              /* canonical encoding (owned) */
    size_t bytes_len;
} vm_image;

/* Opaque: machine state of one execution; reusable across runs. */
typedef struct vm vm;

/* ---- machine side (implemented in vm*.c) ------------------------------ */
/* Register and memory accessors for host calls. Memory accessors check
 * bounds (no wrap past 2^32, not below VM_LOW_UNMAPPED), count pages against
 * the page limit, keep instruction fetch coherent after writes to code, and
 * return 0 or a UTXO_VM_FAIL_* reason. */
uint32_t vm_reg(const vm *v, unsigned r);
void vm_set_reg(vm *v, unsigned r, uint32_t value);
int vm_mem_read(vm *v, uint32_t addr, void *dst, uint32_t len);
int vm_mem_write(vm *v, uint32_t addr, const void *src, uint32_t len);
/* Charges cycles for a host call before it does its work: 0, or
 * UTXO_VM_FAIL_OUT_OF_CYCLES (then the cycle count is the budget). */
int vm_charge(vm *v, uint64_t cycles);
/* Ends the run: code 0 accepts, anything else rejects with that exit code. */
void vm_halt(vm *v, uint32_t code);
/* The environment of the run (may be NULL: no transaction). */
const utxo_txctx *vm_txctx(const vm *v);
const uint8_t *vm_args(const vm *v, uint32_t *len);

/* ---- machine: initial state (docs/VM.md "Initial state") -------------- *
 * At entry: image segments at their vaddrs, the argument bytes at
 * VM_ARGS_BASE, pc = image entry, a0 = args_len, a1 = VM_ARGS_BASE,
 * sp = VM_STACK_TOP, every other register 0, every other byte 0. */
#define VM_STACK_TOP 0x7FFFFFF0u          /* initial sp, 16-byte aligned */
#define VM_ARGS_BASE 0x80000000u          /* argument bytes are copied here */
#define VM_DEFAULT_PAGE_LIMIT 16384u      /* 16 MiB of touched pages per run */

/* ---- machine: programs, machines, runs (implemented in vm*.c) --------- */
/* A program: an image prepared for running (pages laid out, code decoded on
 * first use). Immutable and shareable: any number of vms and threads may
 * run one program at once. It does not keep pointers into img. */
typedef struct vm_program vm_program;

/* Builds *out from img. Returns UTXO_OK, UTXO_ERR_NOMEM, or UTXO_ERR_ARG when
 * a segment lies below VM_LOW_UNMAPPED, wraps past 2^32 or overlaps another.
 * The caller owns *out and frees it with vm_program_free (NULL is a no-op)
 * after every run that uses it has finished. */
int vm_program_new(vm_program **out, const vm_image *img);
void vm_program_free(vm_program *p);
/* Pages of initial memory the program occupies (counted against the limit). */
uint32_t vm_program_pages(const vm_program *p);

/* A machine: 4 GiB of reserved (not committed) address space plus tables.
 * Reuse one per thread: loading a new run only undoes the pages the last run
 * touched. vm_new returns NULL when out of memory; vm_free(NULL) is a no-op. */
vm *vm_new(void);
/* 1 when machines made now use the translating tier (vm_jit.c): an x86-64
 * host and the environment variable UTXO_VM_JIT not "0" (UTXO_VM_JIT=eager:
 * translate from the first instruction, not after VM_JIT_WARMUP cycles).
 * Results never depend on it. */
int vm_jit_default(void);
/* Times v's current or last run entered the tier's native code: 0 when it
 * ran on the interpreter alone (the tier off, a run shorter than the
 * warm-up, or translation refused, e.g. no executable mappings). For
 * benchmarks, which must not call interpreted time the tier's. */
uint64_t vm_jit_entries(const vm *v);
void vm_free(vm *v);
/* Most pages a run may materialise (image, arguments and stack included);
 * takes effect at once (also between pauses) and stays for later runs.
 * 0 means VM_DEFAULT_PAGE_LIMIT; more than VM_NUM_PAGES is clamped. */
void vm_set_page_limit(vm *v, uint32_t pages);
/* Tests only: the n-th decoded code page v allocates from now on (n >= 1;
 * 0: none) fails as if the host were out of memory. A run never turns the
 * host's memory into a verdict: the process stops instead (abort, with a
 * message on stderr), as on any allocation failure during a run. */
void vm_test_oom_after(vm *v, uint32_t n);

/* Cycles charged for every page the running program materialises (a load,
 * store or host-call access to a page not touched before in the run). The
 * pages vm_load and vm_load_bytes fill (image, arguments, parameters) are
 * not charged, nor pages installed from a witness or a pager (they were
 * charged in the run that first touched them). The charge lands on the
 * instruction that touched the page; a charge past the budget fails
 * OUT_OF_CYCLES with the count at the budget. Deterministic and the same
 * for split runs (a page is charged once per run, when first materialised).
 * Every new machine charges UTXO_ABI_PAGE_CYCLES (include/utxo/abi.h), the
 * consensus value, and there is no build-time switch: code that validates
 * must never call this. It exists for tests that count instructions
 * exactly (they set 0 on a private machine) and for the fuzzer. Stays set
 * across runs. */
void vm_set_page_cost(vm *v, uint32_t cycles);

/* Pages of this run whose decoded code was patched by a write (a guest
 * store or a host-call write to a page the run had already executed code
 * from): the interpreter runs such pages one instruction at a time (docs/
 * VM.md, "Implementation"). Counted over the touched pages on each call;
 * for tests and diagnostics, no consensus meaning. */
uint32_t vm_patched_pages(const vm *v);

/* One complete run: vm_load + vm_run_until(UINT64_MAX). p, args and ctx are
 * borrowed until the run ends. Returns UTXO_OK with *out filled (the outcome
 * is in out->status), or UTXO_ERR_ARG for NULL v/p/out. */
int vm_run(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
           const utxo_txctx *ctx, uint64_t budget, utxo_vm_result *out);

/* Split runs (continuations). vm_load resets v and sets the initial state.
 * vm_run_until runs until the run ends (returns VM_RUN_DONE, *out filled) or
 * until the cycle count reaches stop_at < budget (returns VM_RUN_PAUSED; out
 * holds pc and cycles so far). A host call is never split: a pause lands on
 * the first instruction boundary at or after stop_at. Running 0..N then
 * N..end gives exactly the state and outcome of one run 0..end. */
enum { VM_RUN_DONE = 0, VM_RUN_PAUSED = 1 };
int vm_load(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
            const utxo_txctx *ctx, uint64_t budget);
/* Adds len bytes at addr to the initial state of a run vm_load has just
 * set up (before any instruction): like vm_mem_write, except that the pages
 * it materialises are loader pages, not charged (vm_set_page_cost). The
 * environment writes a standard instance's parameter segment this way, so a
 * cached template plus parameters costs exactly what the whole image does.
 * Returns 0 or a UTXO_VM_FAIL_* reason (BAD_ACCESS, MEMORY_LIMIT). */
int vm_load_bytes(vm *v, uint32_t addr, const void *src, uint32_t len);
int vm_run_until(vm *v, uint64_t stop_at, utxo_vm_result *out);

/* State of a paused (or finished) run. vm_reg(v, 0) is always 0 and
 * vm_set_reg(v, 0, x) does nothing. */
uint32_t vm_pc(const vm *v);
void vm_set_pc(vm *v, uint32_t pc);
uint64_t vm_cycles(const vm *v);
/* Pages materialised so far, in first-touch order; *n gets the count. The
 * array belongs to v and is valid until the next run or load. A page's bytes
 * are vm_mem_read(v, page << VM_PAGE_SHIFT, ...). */
const uint32_t *vm_touched_pages(const vm *v, uint32_t *n);

/* ---- machine: continuations (segment replay) ------------------------- *
 * A segment verifier rebuilds a paused state on a fresh machine: vm_load_empty
 * resets v for program p without materialising anything (no image, no
 * arguments copied, all registers 0, pc = entry, cycles 0); the caller then
 * installs the witnessed pages, registers, pc and cycle count, turns on
 * restricted mode and runs with vm_run_until. Same argument rules as vm_load,
 * except that p may be NULL (pc 0): a segment verifier's code comes from its
 * witness, not from a program. */
int vm_load_empty(vm *v, const vm_program *p, const uint8_t *args, uint32_t args_len,
                  const utxo_txctx *ctx, uint64_t budget);
void vm_set_cycles(vm *v, uint64_t cycles);
/* Materialises page `page` (counted against the limit, allowed in restricted
 * mode) with the given 1 KiB of content. 0, or UTXO_VM_FAIL_BAD_ACCESS for a
 * page below VM_LOW_UNMAPPED or past 2^32, or UTXO_VM_FAIL_MEMORY_LIMIT. */
int vm_page_set(vm *v, uint32_t page, const uint8_t bytes[VM_PAGE_BYTES]);
/* Copies page `page` to out without touching it: returns 1 when the page is
 * materialised, 0 when it is not (out is then all zeros, which is what the
 * guest would read). Never changes the machine. */
int vm_page_get(const vm *v, uint32_t page, uint8_t out[VM_PAGE_BYTES]);
/* Restricted mode (off after every load): materialising a page that is not
 * already there, or fetching from one, fails the run with
 * UTXO_VM_FAIL_NOT_WITNESSED -- except for pages the witness proves empty
 * (vm_set_absent_pages): those behave as in a normal run (a data access
 * materialises them, a fetch fails BAD_FETCH). */
void vm_set_restricted(vm *v, bool on);
/* The pages (copied; any order) the witness proves were never materialised
 * before the segment. Returns UTXO_OK, UTXO_ERR_ARG or UTXO_ERR_NOMEM.
 * Cleared by every load. */
int vm_set_absent_pages(vm *v, const uint32_t *pages, uint32_t n);
/* Pages materialised by earlier segments that are not in this witness: they
 * count against the page limit as they did in the original run. Cleared by
 * every load. */
void vm_set_pages_outside(vm *v, uint32_t n);

/* Demand paging (continuation prover and verifier). When a pager is set,
 * the first touch or fetch of a page that is not materialised here (and lies
 * in [VM_LOW_UNMAPPED, 2^32)) first asks fn(ud, page, buf):
 *   VM_PAGE_PRESENT  the page was materialised earlier in the run and fn has
 *                    written its 1 KiB to buf: it is installed here and moves
 *                    from the pages_outside count to the touched list (so the
 *                    limit sees the same total);
 *   VM_PAGE_ABSENT   the page was never materialised: normal rules (a data
 *                    access materialises it under the page limit, a fetch
 *                    fails BAD_FETCH);
 *   VM_PAGE_MISSING  fn cannot say: the access fails NOT_WITNESSED.
 * fn NULL (the default; every load clears it) turns paging off. */
enum { VM_PAGE_ABSENT = 0, VM_PAGE_PRESENT = 1, VM_PAGE_MISSING = 2 };
typedef int (*vm_pager_fn)(void *ud, uint32_t page, uint8_t buf[VM_PAGE_BYTES]);
void vm_set_pager(vm *v, vm_pager_fn fn, void *ud);
/* Host-call fence (continuation segments): a host call whose charge would
 * take the count past `fence` (but fits the budget) does not happen; the run
 * pauses before its ECALL (pc = the ECALL, cycles as before it) and
 * vm_run_until returns VM_RUN_PAUSED. UINT64_MAX (the default; every load
 * resets it) turns the fence off. */
void vm_set_hostcall_fence(vm *v, uint64_t fence);
/* What vm_charge returns for a call stopped by the fence (not a failure). */
#define VM_HC_DEFER 0x100

/* ---- environment side (implemented in hostcall.c) --------------------- */
/* Called on ECALL with a7 = host call number (include/utxo/abi.h). Returns 0
 * to continue at pc + 4, or a UTXO_VM_FAIL_* reason. */
int vm_host_call(vm *v);

#endif /* UTXO_SRC_VM_H */
