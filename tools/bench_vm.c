/*
 * bench_vm.c — `utxo bench vm`: interpreter speed on RV32IM workloads.
 *
 * Each workload of tools/bench/vm_work.c runs as a predicate (the image in
 * vm_work_img.h, metering on, a reused machine, decoded code warm) and the
 * same C compiled natively into this binary runs as the baseline, in the
 * same process, right after. Printed per workload:
 *
 *   bench vm workload=fib n=27 insns=... pages=... vm_ms=... native_ms=...
 *       mips=... native_ratio=...
 *
 * insns is the exact instruction count of one run (cycles minus the halt
 * host call's cost and the page charges: `pages` fresh pages the run
 * touched, UTXO_ABI_PAGE_CYCLES each), mips = insns / VM time (the machine
 * charges pages as in consensus; the time includes that metering),
 * native_ratio = VM time / native
 * time (best of several repetitions each). Times are the thread's CPU time
 * (CLOCK_THREAD_CPUTIME_ID), so other load on a shared machine does not
 * distort them. The checksums of the two builds must agree, else the bench
 * fails (exit 1).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench.h"
#include "bench/vm_work.h"
#include "bench/vm_work_img.h"
#include "predicates/vm.h"
#include "util.h"
#include "utxo/abi.h"

struct workload {
    const char *name;
    uint32_t which;
    uint32_t n;
};

static const struct workload workloads[] = {
    {"fib", VM_WORK_FIB, 30},
    {"sieve", VM_WORK_SIEVE, 6},
    {"memcpy", VM_WORK_MEMCPY, 400},
    {"sha256", VM_WORK_SHA256, 100},
};

/* CPU time of this thread, in nanoseconds. */
static uint64_t cpu_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The native build must not see n as a constant. */
static volatile uint32_t native_n;

static int bench_one(vm *v, const vm_program *p, const struct workload *w, int reps)
{
    uint8_t args[8];
    utxo_vm_result r;
    uint64_t best_vm = UINT64_MAX, best_native = UINT64_MAX;
    uint32_t native_sum = 0;

    for (int i = 0; i < 4; i++) {
        args[i] = (uint8_t)(w->which >> (8 * i));
        args[4 + i] = (uint8_t)(w->n >> (8 * i));
    }
    /* Warm-up run: decodes the program's pages once. */
    if (vm_run(v, p, args, sizeof args, NULL, UINT64_MAX, &r) != UTXO_OK ||
        r.status == UTXO_VM_FAILED) {
        errorf("bench vm: workload %s failed in the VM (%s at pc %#x)", w->name,
               utxo_vm_fail_str(r.fail), r.pc);
        return 1;
    }
    for (int i = 0; i < reps; i++) {
        uint64_t t0 = cpu_now_ns();
        (void)vm_run(v, p, args, sizeof args, NULL, UINT64_MAX, &r);
        uint64_t dt = cpu_now_ns() - t0;
        if (dt < best_vm)
            best_vm = dt;
    }
    for (int i = 0; i < reps; i++) {
        native_n = w->n;
        uint64_t t0 = cpu_now_ns();
        native_sum = vm_work(w->which, native_n);
        uint64_t dt = cpu_now_ns() - t0;
        if (dt < best_native)
            best_native = dt;
    }
    if (native_sum != r.exit_code) {
        errorf("bench vm: workload %s: VM checksum %#x, native %#x", w->name, r.exit_code,
               native_sum);
        return 1;
    }
    if (best_vm == 0)
        best_vm = 1;
    if (best_native == 0)
        best_native = 1;
    /* Pages the run materialised itself: all touched but the loader's
     * (image pages, and one page of arguments). */
    uint32_t touched = 0;
    (void)vm_touched_pages(v, &touched);
    uint64_t pages = touched - vm_program_pages(p) - 1u;
    uint64_t insns = r.cycles - UTXO_COST_HOSTCALL - pages * UTXO_ABI_PAGE_CYCLES;
    /* Integer arithmetic only: mips with one decimal, ratio with two. */
    uint64_t mips10 = insns * 10000u / best_vm;
    uint64_t ratio100 = best_vm * 100u / best_native;
    printf("bench vm workload=%s n=%u insns=%llu pages=%llu vm_ms=%llu.%03llu "
           "native_ms=%llu.%03llu mips=%llu.%llu native_ratio=%llu.%02llu\n",
           w->name, w->n, (unsigned long long)insns, (unsigned long long)pages,
           (unsigned long long)(best_vm / 1000000u), (unsigned long long)(best_vm / 1000u % 1000u),
           (unsigned long long)(best_native / 1000000u),
           (unsigned long long)(best_native / 1000u % 1000u),
           (unsigned long long)(mips10 / 10u), (unsigned long long)(mips10 % 10u),
           (unsigned long long)(ratio100 / 100u), (unsigned long long)(ratio100 % 100u));
    fflush(stdout);
    return 0;
}

int bench_vm(int argc, char **argv)
{
    int reps = 3, rc = 0;
    const char *only = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
            if (reps < 1 || reps > 1000) {
                errorf("bench vm: --reps must be 1..1000");
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--workload") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            errorf("bench vm: unknown option '%s' (options: --reps N, --workload NAME)",
                   argv[i]);
            return EXIT_USAGE;
        }
    }

    vm_segment seg = {VM_WORK_IMG_BASE, (uint32_t)sizeof vm_work_img, vm_work_img};
    vm_image img;
    vm_program *p = NULL;
    memset(&img, 0, sizeof img);
    img.entry = VM_WORK_IMG_ENTRY;
    img.n_segs = 1;
    img.segs = &seg;
    vm *v = vm_new();
    if (!v || vm_program_new(&p, &img) != UTXO_OK) {
        errorf("bench vm: out of memory");
        vm_free(v);
        return EXIT_USAGE;
    }
    int found = 0;
    for (size_t i = 0; i < sizeof workloads / sizeof workloads[0]; i++) {
        if (only && strcmp(only, workloads[i].name) != 0)
            continue;
        found = 1;
        if (bench_one(v, p, &workloads[i], reps) != 0)
            rc = EXIT_INVALID;
    }
    /* pay-to-pubkey through the predicate API vs a bare verify (bench_p2pk.c) */
    if (!only || strcmp(only, "p2pk") == 0) {
        found = 1;
        if (bench_vm_p2pk(reps) != 0)
            rc = EXIT_INVALID;
    }
    if (!found) {
        errorf("bench vm: unknown workload '%s' (fib, sieve, memcpy, sha256, p2pk)", only);
        rc = EXIT_USAGE;
    }
    vm_program_free(p);
    vm_free(v);
    return rc;
}
