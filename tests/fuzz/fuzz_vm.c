/*
 * fuzz_vm.c — libFuzzer target for the predicate machine: arbitrary bytes
 * run as code. Layout of an input:
 *
 *   offset  size  meaning
 *   0       1     budget selector b: budget = 1 + b * 97 cycles (<= 24737),
 *                 or with the long flag 1 + b * 1031 (<= 262906)
 *   1       1     entry slot: entry = 0x20000 + 4 * byte
 *   2       1     bits 0-5: argument length (bytes taken from the end of
 *                 the input); bit 6: loop; bit 7: long
 *   3       ...   code, loaded at 0x20000 (a second copy at 0x7FFFF000
 *                 when the input is odd-sized, to reach the stack page)
 *
 * Loop: the harness appends to the code (at the next word boundary) a
 * JAL x0 back to the entry, so a run that falls off the end of its code
 * goes round again until it stops or its budget is spent: a few valid
 * instructions become a long run, their registers changing every round.
 * Long: the larger budget, for real programs and for loops. An input
 * costs about five runs of its length (interpreter, tier, both paused,
 * switch build): at the bound, 10-180 ms under ASan + UBSan.
 *
 * Seeds (tests/fuzz/corpus/vm, docs/FUZZING.md says how they were made):
 * besides four hand-made ones, real RV32IM code loaded as it was linked
 * (at 0x20000, entry slot 0): the standard predicates' code (their runs
 * end at the first introspection call: no transaction here), the
 * segment test's work.img with its arguments, the differential test's
 * compiled C programs and the bench workloads (long: 23 k cycles to the
 * whole budget), eight riscv-tests programs with their data right after
 * the code (long: every case passes, 24-246 k cycles), and three
 * hand-written loops (loop and long: ALU and M ops; a walk of stores and
 * loads down the stack to the page limit; a store into its own code
 * followed by FENCE.I).
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
 * register, every touched page. The pauses come every few cycles (every
 * 1-8 and 1-61, plus 1/256 of the run with the long flag, so a long run
 * pauses a few hundred times, not hundreds of thousands).
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
    uint8_t *code;

    if (size < 4 || size > 65536)
        return 0;
    if (!V) {
        if (!(V = vm_new()) || !(VJ = vm_new()))
            abort();
        V->jit_on = 0;
        VJ->jit_on = VM_JIT_HOST;
        VJ->jit_warmup = 0;
    }
    const bool loop = (data[2] & 0x40) != 0, longrun = (data[2] & 0x80) != 0;
    uint64_t budget = 1 + (uint64_t)data[0] * (longrun ? 1031u : 97u);
    uint32_t args_len = (data[2] & 63u) < size - 3 ? (data[2] & 63u) : 0;
    uint32_t code_len = (uint32_t)(size - 3);
    memset(&img, 0, sizeof img);
    img.entry = 0x20000u + 4u * data[1];
    if ((code = calloc(1, code_len + 8)) == NULL)
        return 0;
    memcpy(code, data + 3, code_len);
    if (loop) { /* JAL x0, entry - here */
        code_len = (code_len + 3) & ~3u;
        uint32_t off = img.entry - (0x20000u + code_len);
        uint32_t jal = (off & 0x100000u) << 11 | (off & 0x7feu) << 20 | (off & 0x800u) << 9 |
                       (off & 0xff000u) | 0x6fu;
        for (int i = 0; i < 4; i++)
            code[code_len + i] = (uint8_t)(jal >> (8 * i));
        code_len += 4;
    }
    segs[0] = (vm_segment){0x20000u, code_len, code};
    segs[1] = (vm_segment){0x7FFFF000u, code_len, code};
    img.segs = segs;
    img.n_segs = (size & 1) ? 2 : 1;
    if (code_len > 0x1000)
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
    const uint64_t sparse = longrun ? whole.cycles >> 8 : 0; /* fewer pauses */
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
            at = jit.cycles + 1 + (at % 61) + sparse;
        same_as_interp(&whole, &jit);
    }
    /* Determinism across a pause. */
    uint64_t stop = whole.cycles ? (data[1] * 131u) % whole.cycles : 0;
    if (vm_load(V, p, args, args_len, NULL, budget) != UTXO_OK)
        abort();
    while (vm_run_until(V, stop, &split) == VM_RUN_PAUSED)
        stop = split.cycles + 1 + (stop & 7) + sparse;
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
    free(code);
    return 0;
}
