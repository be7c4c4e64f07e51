/*
 * fuzz_vm.c — libFuzzer target for the predicate machine: arbitrary bytes
 * run as code. Layout of an input:
 *
 *   offset  size  meaning
 *   0       1     budget selector: budget = 1 + (byte * 97) cycles (<= 24737)
 *   1       1     entry slot: entry = 0x20000 + 4 * byte
 *   2       1     argument length (bytes taken from the end of the input)
 *   3       ...   code, loaded at 0x20000 (a second copy at 0x7FFFF000
 *                 when the input is odd-sized, to reach the stack page)
 *
 * Host calls go to the real vm_host_call with no transaction (halt, args
 * and hashing work; introspection fails cleanly). The page cost is 0..68
 * cycles (from the input size), the page limit 64 so
 * a run can never take much memory. Oracles: no crash, hang or leak under
 * ASan/UBSan, and determinism: the same run paused at a cycle count taken
 * from the input and resumed, and (for short runs) the same run executed
 * one cycle at a time, and the same run through the switch-dispatch build
 * of the interpreter, must end exactly like the whole run. The whole run
 * is the interpreter's; on x86-64 the same run goes again through the
 * translating tier (vm_jit.c, translating from the first instruction,
 * which the default warm-up would never reach at these budgets), whole
 * and paused, and must end in the same state to the bit: result, every
 * register, every touched page.
 * Run: tests/fuzz/fuzz_vm -max_len=4096
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include "predicates/vm_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The interpreter loop built again with switch dispatch (tests/local.mk). */
int vm_interp_switch(vm *v, uint64_t stop);

static vm *V;  /* the interpreter alone: the reference */
static vm *VJ; /* the translating tier from the first instruction */

/* V's state == VJ's: result, registers, touched pages and their bytes. */
static void same_as_interp(const utxo_vm_result *want, const utxo_vm_result *got)
{
    if (memcmp(want, got, sizeof *want) != 0)
        abort();
    for (unsigned i = 0; i < 32; i++)
        if (vm_reg(V, i) != vm_reg(VJ, i))
            abort();
    uint32_t n = 0, nj = 0;
    const uint32_t *pg = vm_touched_pages(V, &n), *pj = vm_touched_pages(VJ, &nj);
    if (n != nj)
        abort();
    for (uint32_t i = 0; i < n; i++) {
        uint8_t a[VM_PAGE_BYTES], b[VM_PAGE_BYTES];
        if (pg[i] != pj[i] || vm_page_get(V, pg[i], a) != 1 || vm_page_get(VJ, pj[i], b) != 1 ||
            memcmp(a, b, sizeof a) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vm_segment segs[2];
    vm_image img;
    vm_program *p = NULL;
    utxo_vm_result whole, split;

    if (size < 4 || size > 65536)
        return 0;
    if (!V) {
        if (!(V = vm_new()) || !(VJ = vm_new()))
            abort();
        V->jit_on = 0;
        VJ->jit_on = VM_JIT_HOST;
        VJ->jit_warmup = 0;
    }
    uint64_t budget = 1 + (uint64_t)data[0] * 97u;
    uint32_t args_len = data[2] < size - 3 ? data[2] : 0;
    memset(&img, 0, sizeof img);
    segs[0] = (vm_segment){0x20000u, (uint32_t)(size - 3), data + 3};
    segs[1] = (vm_segment){0x7FFFF000u, (uint32_t)(size - 3), data + 3};
    img.entry = 0x20000u + 4u * data[1];
    img.segs = segs;
    img.n_segs = (size & 1) ? 2 : 1;
    if (size - 3 > 0x1000)
        img.n_segs = 1; /* the copy must stay below the argument area */
    if (vm_program_new(&p, &img) != UTXO_OK)
        abort();
    const uint32_t page_cost = (uint32_t)(size % 5) * 17u; /* 0 for a fifth of inputs */
    vm_set_page_limit(V, 64);
    vm_set_page_cost(V, page_cost);
    const uint8_t *args = data + size - args_len;
    if (vm_run(V, p, args, args_len, NULL, budget, &whole) != UTXO_OK)
        abort();
    if (whole.cycles > budget || (whole.status == UTXO_VM_FAILED && whole.fail == 0))
        abort();
    /* The translating tier agrees, whole and paused at a point from the
     * input (V still holds the whole run's end state). */
    if (VM_JIT_HOST) {
        utxo_vm_result jit;
        vm_set_page_limit(VJ, 64);
        vm_set_page_cost(VJ, page_cost);
        if (vm_run(VJ, p, args, args_len, NULL, budget, &jit) != UTXO_OK)
            abort();
        same_as_interp(&whole, &jit);
        uint64_t at = whole.cycles ? (data[0] * 193u + data[1]) % whole.cycles : 0;
        if (vm_load(VJ, p, args, args_len, NULL, budget) != UTXO_OK)
            abort();
        while (vm_run_until(VJ, at, &jit) == VM_RUN_PAUSED)
            at = jit.cycles + 1 + (at % 61);
        same_as_interp(&whole, &jit);
    }
    /* Determinism across a pause. */
    uint64_t stop = whole.cycles ? (data[1] * 131u) % whole.cycles : 0;
    if (vm_load(V, p, args, args_len, NULL, budget) != UTXO_OK)
        abort();
    while (vm_run_until(V, stop, &split) == VM_RUN_PAUSED)
        stop = split.cycles + 1 + (stop & 7);
    if (memcmp(&whole, &split, sizeof whole) != 0)
        abort();
    /* The switch-dispatch build of the loop agrees. */
    if (vm_load(V, p, args, args_len, NULL, budget) != UTXO_OK ||
        vm_interp_switch(V, budget) != VM_RUN_DONE || memcmp(&V->res, &whole, sizeof whole) != 0)
        abort();
    /* Short runs: single-step all of it. Step mode counts one cycle per
     * instruction with no per-run charging, so it is an independent check
     * of the run-length accounting (refunds, patched runs). */
    if (whole.cycles <= 4096) {
        if (vm_load(V, p, args, args_len, NULL, budget) != UTXO_OK)
            abort();
        uint64_t at = 1;
        while (vm_run_until(V, at, &split) == VM_RUN_PAUSED)
            at = split.cycles + 1;
        if (memcmp(&whole, &split, sizeof whole) != 0)
            abort();
    }
    vm_program_free(p);
    return 0;
}
