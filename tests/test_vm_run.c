/*
 * test_vm_run.c — runs of the predicate machine as a whole: exact metering
 * (a known program's cycle count, a budget exactly enough and one short),
 * split runs (pause at every cycle and resume: same outcome and state as one
 * run), self-modifying code with and without FENCE.I and through a host call,
 * the page limit, page costs, the initial state, fetch failures, program
 * validation, reuse of one machine, programs shared by several threads, and
 * a host out of memory during a run (no verdict: the process stops).
 * Segment replay (continuation hooks) is in test_vm_segments.c.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "testutil.h"
#include "vm_asm.h"
#include "predicates/vm_internal.h"

#define HALT_CYCLES (2u + UTXO_COST_HOSTCALL) /* addi a7 + ecall + the call */

static utxo_vm_result run_prog(vm *v, const vm_program *p, uint64_t budget)
{
    utxo_vm_result r;
    ck_assert_int_eq(vm_run(v, p, NULL, 0, NULL, budget, &r), UTXO_OK);
    return r;
}

/* t0 = n; loop: t0--, t1 += 3, bne; then halt(t1). */
static vm_program *loop_program(uint32_t n)
{
    asm_buf b = {0};
    asm_li(&b, T0, n);
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, ADDI(T1, T1, 3));
    asm_emit(&b, BNE(T0, ZERO, -8));
    asm_emit(&b, ADDI(A0, T1, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    asm_free(&b);
    ck_assert_ptr_nonnull(p);
    return p;
}

START_TEST(exact_cycle_count)
{
    vm *v = asm_vm_new();
    for (uint32_t n = 1; n <= 300; n += 37) {
        vm_program *p = loop_program(n);
        uint64_t total = 2 + 3ull * n + 1 + HALT_CYCLES;
        utxo_vm_result r = run_prog(v, p, total);
        ck_assert_int_eq(r.status, UTXO_VM_REJECTED); /* exit code 3n != 0 */
        ck_assert_uint_eq(r.exit_code, 3 * n);
        ck_assert_uint_eq(r.cycles, total);
        /* One short: the halt call cannot pay, the count stops at the budget. */
        r = run_prog(v, p, total - 1);
        ck_assert_int_eq(r.status, UTXO_VM_FAILED);
        ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
        ck_assert_uint_eq(r.cycles, total - 1);
        /* A budget that ends inside the loop: pc is the first instruction
         * that could not start. */
        uint64_t budget = 2 + 3ull * (n / 2) + 1;
        r = run_prog(v, p, budget);
        ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
        ck_assert_uint_eq(r.cycles, budget);
        ck_assert_uint_eq(r.pc, ASM_BASE + 12); /* second instruction of the body */
        vm_program_free(p);
    }
    /* Budget 0: nothing runs. */
    vm_program *p = loop_program(5);
    utxo_vm_result r = run_prog(v, p, 0);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, 0);
    ck_assert_uint_eq(r.pc, ASM_BASE);
    vm_program_free(p);
    vm_free(v);
}
END_TEST

/* A long straight-line run (a whole page of ADDIs) with every budget around
 * its end: the per-run charge must never let one instruction too many run. */
START_TEST(budget_inside_long_run)
{
    asm_buf b = {0};
    while (b.n < 600)
        asm_emit(&b, ADDI(S2, S2, 1));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    for (uint64_t budget = 0; budget <= 605; budget++) {
        utxo_vm_result r = run_prog(v, p, budget);
        ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
        ck_assert_uint_eq(r.cycles, budget);
        ck_assert_uint_eq(vm_reg(v, S2), budget < 600 ? budget : 600);
    }
    utxo_vm_result r = run_prog(v, p, 601 + HALT_CYCLES);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* Snapshot of what a run leaves: result plus registers. */
struct snap {
    utxo_vm_result r;
    uint32_t x[32];
};

static void snap_take(struct snap *s, const vm *v, const utxo_vm_result *r)
{
    memset(s, 0, sizeof *s);
    s->r = *r;
    for (unsigned i = 0; i < 32; i++)
        s->x[i] = vm_reg(v, i);
}

static void snap_eq(const struct snap *a, const struct snap *b)
{
    ck_assert_int_eq(a->r.status, b->r.status);
    ck_assert_int_eq(a->r.fail, b->r.fail);
    ck_assert_uint_eq(a->r.exit_code, b->r.exit_code);
    ck_assert_uint_eq(a->r.pc, b->r.pc);
    ck_assert_uint_eq(a->r.cycles, b->r.cycles);
    for (unsigned i = 0; i < 32; i++)
        ck_assert_uint_eq(a->x[i], b->x[i]);
}

/* Runs p whole, then split at every cycle N (pause at N, resume), then
 * single-stepped one cycle at a time: all must agree exactly. */
static uint32_t split_page_cost; /* page cost check_splits runs with */

static void check_splits(const vm_program *p, uint64_t budget)
{
    vm *v = asm_vm_new();
    vm_set_page_cost(v, split_page_cost);
    utxo_vm_result r;
    struct snap whole, part;

    r = run_prog(v, p, budget);
    snap_take(&whole, v, &r);
    for (uint64_t n = 0; n <= whole.r.cycles; n++) {
        ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, budget), UTXO_OK);
        int st = vm_run_until(v, n, &r);
        if (st == VM_RUN_PAUSED) {
            /* A pause lands at n unless a host call straddles it. */
            ck_assert_uint_ge(r.cycles, n);
            ck_assert_uint_eq(r.cycles, vm_cycles(v));
            ck_assert_uint_eq(r.pc, vm_pc(v));
            if (r.cycles > n)
                ck_assert_uint_le(r.cycles - n, UTXO_COST_HOSTCALL + 1 + 4ull * split_page_cost);
            st = vm_run_until(v, UINT64_MAX, &r);
        }
        ck_assert_int_eq(st, VM_RUN_DONE);
        snap_take(&part, v, &r);
        snap_eq(&whole, &part);
    }
    /* Step through the whole run one cycle at a time. */
    ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, budget), UTXO_OK);
    uint64_t c = 0, pauses = 0;
    while (vm_run_until(v, c + 1, &r) == VM_RUN_PAUSED) {
        ck_assert_uint_gt(r.cycles, c);
        c = r.cycles;
        pauses++;
    }
    snap_take(&part, v, &r);
    snap_eq(&whole, &part);
    ck_assert_uint_gt(pauses, 0);
    vm_free(v);
}

START_TEST(split_runs_match_whole_runs)
{
    vm_program *p = loop_program(40);
    check_splits(p, 1000);
    check_splits(p, 100); /* ends out of cycles */
    vm_program_free(p);
}
END_TEST

/* Pausing then changing pc and registers resumes from the new state. */
START_TEST(pause_edit_resume)
{
    vm_program *p = loop_program(10);
    vm *v = asm_vm_new();
    utxo_vm_result r;
    ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, 1000), UTXO_OK);
    ck_assert_int_eq(vm_run_until(v, 8, &r), VM_RUN_PAUSED);
    ck_assert_uint_eq(r.cycles, 8);
    ck_assert_uint_eq(r.pc, ASM_BASE + 8); /* 2 + 3*2 cycles: top of the loop */
    ck_assert_uint_eq(vm_reg(v, T0), 8);
    vm_set_reg(v, T0, 1); /* last iteration next */
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &r), VM_RUN_DONE);
    ck_assert_uint_eq(r.exit_code, 9);
    ck_assert_uint_eq(r.cycles, 8 + 3 + 1 + HALT_CYCLES);
    vm_program_free(p);
    vm_free(v);
}
END_TEST

/* A store that rewrites the very next instruction (same straight-line run,
 * no FENCE.I) is seen by the next fetch, and the count stays exact. */
START_TEST(self_modifying_code)
{
    for (int with_fence = 0; with_fence < 2; with_fence++) {
        asm_buf b = {0};
        asm_li(&b, T1, ADDI(S2, ZERO, 42));
        asm_li(&b, T2, 0); /* patched below: address of the target slot */
        uint32_t li_at = b.n - 2;
        asm_emit(&b, SW(T1, T2, 0));
        if (with_fence)
            asm_emit(&b, FENCE_I());
        uint32_t target = asm_pc(&b);
        asm_emit(&b, ADDI(S2, ZERO, 1)); /* overwritten before it runs */
        asm_emit(&b, ADDI(S3, S2, 0));
        asm_emit(&b, ADDI(A0, ZERO, 0));
        asm_halt(&b);
        b.w[li_at] = LUI(T2, ((target + 0x800u) >> 12) & 0xFFFFFu);
        b.w[li_at + 1] = ADDI(T2, T2, (int32_t)(target << 20) >> 20);
        vm_program *p = asm_program(&b);
        vm *v = asm_vm_new();
        utxo_vm_result r = run_prog(v, p, 1000);
        ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
        ck_assert_uint_eq(vm_reg(v, S2), 42);
        ck_assert_uint_eq(vm_reg(v, S3), 42);
        ck_assert_uint_eq(r.cycles, b.n - 2 + HALT_CYCLES);
        /* The program's shared decode is untouched: a second run agrees. */
        r = run_prog(v, p, 1000);
        ck_assert_uint_eq(vm_reg(v, S2), 42);
        check_splits(p, 1000);
        vm_program_free(p);
        vm_free(v);
        asm_free(&b);
    }
}
END_TEST

/* Runs p on a fresh machine in a child whose n-th decoded code page fails
 * as if the host were out of memory: the child must die of SIGABRT with
 * the message on stderr, never finish the run (it gave MEMORY_LIMIT, a
 * verdict that depended on the host's memory). */
static void expect_oom_abort(const vm_program *p, uint32_t n)
{
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fds[1], 2);
        close(fds[0]);
        vm *v = asm_vm_new();
        utxo_vm_result r;
        vm_test_oom_after(v, n);
        int rc = vm_run(v, p, NULL, 0, NULL, 100000, &r);
        _exit(rc == UTXO_OK ? 10 + r.status : 9); /* a verdict: wrong */
    }
    close(fds[1]);
    char err[4096] = {0};
    size_t got = 0;
    ssize_t k;
    while (got < sizeof err - 1 && (k = read(fds[0], err + got, sizeof err - 1 - got)) > 0)
        got += (size_t)k;
    close(fds[0]);
    int st = 0;
    ck_assert_int_eq(waitpid(pid, &st, 0), pid);
    ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT,
                  "a run short of host memory ended with status %d (exit %d): a verdict",
                  st, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    ck_assert_msg(strstr(err, "out of memory for a decoded code page during a predicate run") !=
                      NULL,
                  "the message: %s", err);
}

START_TEST(host_out_of_memory_is_no_verdict)
{
    /* the program's own first page, decoded at the first fetch */
    vm_program *p = loop_program(10);
    expect_oom_abort(p, 1);
    vm_program_free(p);
    /* a store into the code page: its private copy (the second table) */
    asm_buf b = {0};
    asm_li(&b, T1, ADDI(S2, ZERO, 42));
    asm_li(&b, T2, 0); /* patched below: the address of the target slot */
    uint32_t li_at = b.n - 2;
    asm_emit(&b, SW(T1, T2, 0));
    uint32_t target = asm_pc(&b);
    asm_emit(&b, ADDI(S2, ZERO, 1));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    b.w[li_at] = LUI(T2, ((target + 0x800u) >> 12) & 0xFFFFFu);
    b.w[li_at + 1] = ADDI(T2, T2, (int32_t)(target << 20) >> 20);
    p = asm_program(&b);
    vm *v = asm_vm_new(); /* with memory, the same program is accepted */
    utxo_vm_result r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    vm_free(v);
    vm_program_free(p);
    p = asm_program(&b); /* fresh: its shared table not yet decoded */
    expect_oom_abort(p, 2);
    vm_program_free(p);
    asm_free(&b);
}
END_TEST

/* Code on another page, run, patched, run again. */
START_TEST(self_modifying_other_page)
{
    asm_buf b = {0};
    /* main: call f; patch f's first instruction; call f again; halt */
    asm_emit(&b, JAL(RA, 1024 * 2));          /* slot 0 -> slot 512 */
    asm_emit(&b, ADDI(S3, A0, 0));            /* s3 = first result */
    asm_li(&b, T1, ADDI(A0, ZERO, 77));
    asm_li(&b, T2, ASM_BASE + 2048);
    asm_emit(&b, SW(T1, T2, 0));
    asm_emit(&b, JAL(RA, 2048 - 4 * 7));      /* slot 7 -> 512 */
    asm_emit(&b, ADDI(S2, A0, 0));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    while (b.n < 512)
        asm_emit(&b, EBREAK());
    asm_emit(&b, ADDI(A0, ZERO, 5));          /* f: return 5 */
    asm_emit(&b, JALR(ZERO, RA, 0));
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S3), 5);
    ck_assert_uint_eq(vm_reg(v, S2), 77);
    check_splits(p, 1000);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* Stores that change the length of the current straight-line run: a plain
 * instruction turned into a jump (shorter) and a jump turned into a plain
 * instruction (longer). The count must follow what really executed. */
START_TEST(self_modifying_run_length)
{
    for (int shorten = 0; shorten < 2; shorten++) {
        uint32_t before = shorten ? ADDI(S3, S3, 1) : JAL(ZERO, 8);
        uint32_t after = shorten ? JAL(ZERO, 8) : ADDI(S3, S3, 1);
        asm_buf b = {0};
        asm_li(&b, T1, after);
        asm_li(&b, T2, ASM_BASE + 6 * 4);
        asm_emit(&b, SW(T1, T2, 0));      /* 4 */
        asm_emit(&b, ADDI(S2, S2, 1));    /* 5 */
        asm_emit(&b, before);             /* 6: rewritten by slot 4 */
        asm_emit(&b, ADDI(S4, S4, 1));    /* 7 */
        asm_emit(&b, ADDI(A0, ZERO, 0));  /* 8 */
        asm_halt(&b);                     /* 9, 10 */
        vm_program *p = asm_program(&b);
        vm *v = asm_vm_new();
        utxo_vm_result r = run_prog(v, p, 1000);
        ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
        ck_assert_uint_eq(vm_reg(v, S2), 1);
        ck_assert_uint_eq(vm_reg(v, S3), shorten ? 0 : 1);
        ck_assert_uint_eq(vm_reg(v, S4), shorten ? 0 : 1);
        ck_assert_uint_eq(r.cycles, (shorten ? 10u : 11u) + UTXO_COST_HOSTCALL);
        check_splits(p, 1000);
        vm_program_free(p);
        vm_free(v);
        asm_free(&b);
    }
}
END_TEST

/* Two stores in one run to its own page: the first makes the page's table
 * private, the second patches that table in place, shortening the run the
 * store itself is in. The refund must use the run length as charged. */
START_TEST(self_modifying_in_place_patch)
{
    asm_buf b = {0};
    asm_li(&b, T1, JAL(ZERO, 8));
    asm_li(&b, T2, ASM_BASE + 9 * 4);
    asm_emit(&b, SW(T1, T2, 764));        /* 4: slot 200 (data): table goes private */
    asm_emit(&b, SW(T1, T2, 0));          /* 5: slot 9 becomes "j +8" */
    asm_emit(&b, ADDI(S2, S2, 1));        /* 6 */
    asm_emit(&b, ADDI(S3, S3, 1));        /* 7 */
    asm_emit(&b, ADDI(S4, S4, 1));        /* 8 */
    asm_emit(&b, ADDI(S5, S5, 1));        /* 9: rewritten */
    asm_emit(&b, ADDI(T3, T3, 1));        /* 10: skipped */
    asm_emit(&b, ADDI(A0, ZERO, 0));      /* 11 */
    asm_halt(&b);                         /* 12, 13 */
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S4), 1);
    ck_assert_uint_eq(vm_reg(v, S5), 0);
    ck_assert_uint_eq(vm_reg(v, T3), 0);
    ck_assert_uint_eq(r.cycles, 13 + UTXO_COST_HOSTCALL);
    check_splits(p, 1000);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* Data living on a page of code (images linked with ld -N do that): every
 * store patches the decoded page, loads see the data, counts stay exact. */
START_TEST(data_on_code_page)
{
    const uint32_t n = 50;
    asm_buf b = {0};
    asm_li(&b, T0, n);
    asm_li(&b, T2, ASM_BASE + 1000);      /* slot 250 of the same page */
    asm_emit(&b, SW(T0, T2, 0));          /* loop: */
    asm_emit(&b, LW(T3, T2, 0));
    asm_emit(&b, ADD(S2, S2, T3));
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, BNE(T0, ZERO, -16));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r = run_prog(v, p, 100000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S2), n * (n + 1) / 2);
    ck_assert_uint_eq(r.cycles, 4 + 5 * n + 1 + HALT_CYCLES);
    /* the stores patched the code page: it ran one instruction at a time */
    ck_assert_uint_eq(vm_patched_pages(v), 1);
    check_splits(p, 100000);
    /* the same data one page further: nothing patched */
    b.w[2] = LUI(T2, ((ASM_BASE + 1024u + 0x800u) >> 12) & 0xFFFFFu);
    b.w[3] = ADDI(T2, T2, (int32_t)((ASM_BASE + 1024u) << 20) >> 20);
    vm_program *q = asm_program(&b);
    r = run_prog(v, q, 100000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S2), n * (n + 1) / 2);
    ck_assert_uint_eq(vm_patched_pages(v), 0);
    vm_program_free(q);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* A host call (ARGS_READ) writes the instruction after its own ECALL. */
START_TEST(host_call_writes_code)
{
    uint32_t word = ADDI(S2, ZERO, 99);
    uint8_t args[4] = {(uint8_t)word, (uint8_t)(word >> 8), (uint8_t)(word >> 16),
                       (uint8_t)(word >> 24)};
    asm_buf b = {0};
    asm_li(&b, A0, 0); /* patched: dst */
    asm_emit(&b, ADDI(A1, ZERO, 0));
    asm_emit(&b, ADDI(A2, ZERO, 4));
    asm_emit(&b, ADDI(A7, ZERO, UTXO_HC_ARGS_READ));
    asm_emit(&b, ECALL());
    uint32_t target = asm_pc(&b);
    asm_emit(&b, ADDI(S2, ZERO, 1));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    b.w[0] = LUI(A0, ((target + 0x800u) >> 12) & 0xFFFFFu);
    b.w[1] = ADDI(A0, A0, (int32_t)(target << 20) >> 20);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r;
    ck_assert_int_eq(vm_run(v, p, args, 4, NULL, 10000, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S2), 99);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

START_TEST(initial_state)
{
    static const uint8_t args[5] = {9, 8, 7, 6, 5};
    asm_buf b = {0};
    asm_emit(&b, LBU(S2, A1, 4));
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r;
    ck_assert_int_eq(vm_load(v, p, args, sizeof args, NULL, 1000), UTXO_OK);
    ck_assert_uint_eq(vm_pc(v), ASM_BASE);
    for (unsigned i = 0; i < 32; i++) {
        uint32_t want = i == SP ? VM_STACK_TOP : i == A0 ? 5 : i == A1 ? VM_ARGS_BASE : 0;
        ck_assert_uint_eq(vm_reg(v, i), want);
    }
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &r), VM_RUN_DONE);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S2), 5);
    ck_assert_uint_eq(VM_STACK_TOP % 16, 0);
    ck_assert_uint_eq(VM_ARGS_BASE, UTXO_ABI_ARGS_BASE);
    ck_assert_uint_eq(VM_STACK_TOP, UTXO_ABI_STACK_TOP);
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* Pages count against the limit: image, arguments, stack, data. */
START_TEST(page_limit)
{
    asm_buf b = {0};
    asm_li(&b, S0, 0x00400000u);
    for (int i = 0; i < 4; i++) {             /* 4 fresh pages */
        asm_emit(&b, SW(S0, S0, 0));
        asm_emit(&b, ADDI(S0, S0, 1024));
    }
    asm_emit(&b, LW(S2, S0, 0));              /* a load materialises too */
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b); /* one page */
    vm *v = asm_vm_new();
    vm_set_page_limit(v, 6);
    utxo_vm_result r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    uint32_t n;
    const uint32_t *pg = vm_touched_pages(v, &n);
    ck_assert_uint_eq(n, 6);
    ck_assert_uint_eq(pg[0], ASM_BASE >> VM_PAGE_SHIFT);
    ck_assert_uint_eq(pg[5], (0x00400000u >> VM_PAGE_SHIFT) + 4);

    vm_set_page_limit(v, 5);
    r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_uint_eq(r.pc, ASM_BASE + 10 * 4);
    ck_assert_uint_eq(r.cycles, 11);

    /* Arguments over the limit: fails before the first instruction. */
    static uint8_t big[6 * 1024];
    ck_assert_int_eq(vm_run(v, p, big, sizeof big, NULL, 1000, &r), UTXO_OK);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_uint_eq(r.cycles, 0);

    /* An image over the limit. */
    vm_set_page_limit(v, 1);
    asm_buf big_code = {0};
    while (big_code.n < 300)
        asm_emit(&big_code, ADDI(S2, S2, 1));
    vm_program *q = asm_program(&big_code);
    ck_assert_uint_eq(vm_program_pages(q), 2);
    r = run_prog(v, q, 1000);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    ck_assert_uint_eq(r.cycles, 0);
    vm_program_free(q);
    asm_free(&big_code);

    /* The default limit is 16 MiB. */
    vm_set_page_limit(v, 0);
    asm_buf many = {0};
    asm_li(&many, S0, 0x01000000u);
    asm_li(&many, S1, 0x01000000u + VM_DEFAULT_PAGE_LIMIT * 1024u);
    asm_emit(&many, SB(S0, S0, 0));
    asm_emit(&many, ADDI(S0, S0, 1024));
    asm_emit(&many, BNE(S0, S1, -8));
    asm_emit(&many, ADDI(A0, ZERO, 0));
    asm_halt(&many);
    q = asm_program(&many);
    r = run_prog(v, q, 1u << 20);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_MEMORY_LIMIT);
    vm_touched_pages(v, &n);
    ck_assert_uint_eq(n, VM_DEFAULT_PAGE_LIMIT);
    vm_program_free(q);
    asm_free(&many);
    /* The next load resets that many pages by handing them back to the
     * kernel: they must read as zero again. */
    asm_buf after = {0};
    asm_li(&after, S0, 0x01000000u + 5000u * 1024u);
    asm_emit(&after, LW(S2, S0, 0));
    asm_emit(&after, LBU(S3, S0, -1024 * 4000));
    asm_emit(&after, ADDI(A0, ZERO, 0));
    asm_halt(&after);
    q = asm_program(&after);
    vm_set_reg(v, S2, 1);
    r = run_prog(v, q, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S2), 0);
    ck_assert_uint_eq(vm_reg(v, S3), 0);
    vm_program_free(q);
    asm_free(&after);

    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

START_TEST(fetch_failures)
{
    vm *v = asm_vm_new();
    utxo_vm_result r;
    asm_buf b = {0};
    asm_emit(&b, ADDI(S2, ZERO, 1));
    /* entry misaligned, entry on an untouched page, entry below the guard */
    static const uint32_t entries[] = {ASM_BASE + 2, ASM_BASE + 0x100000u, 0x100u, 0};
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        vm_program *p = asm_program_at(b.w, b.n, ASM_BASE, entries[i]);
        r = run_prog(v, p, 100);
        ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_FETCH);
        ck_assert_uint_eq(r.pc, entries[i]);
        ck_assert_uint_eq(r.cycles, 0);
        vm_program_free(p);
    }
    /* Falling off the end of the code: the rest of the page is zero words
     * (illegal); the next page was never touched (bad fetch). */
    vm_program *p = asm_program(&b);
    r = run_prog(v, p, 100);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_ILLEGAL);
    ck_assert_uint_eq(r.pc, ASM_BASE + 4);
    vm_program_free(p);
    while (b.n < 256)
        asm_emit(&b, ADDI(S2, S2, 1));
    p = asm_program(&b);
    r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_FETCH);
    ck_assert_uint_eq(r.pc, ASM_BASE + 1024);
    ck_assert_uint_eq(r.cycles, 256);
    ck_assert_uint_eq(vm_reg(v, S2), 256);
    vm_program_free(p);
    /* Code written to a fresh page (the stack) and jumped to runs. */
    asm_buf c = {0};
    asm_li(&c, T1, ADDI(S3, ZERO, 11));
    asm_emit(&c, SW(T1, SP, -16));
    asm_li(&c, T1, JALR(ZERO, RA, 0));
    asm_emit(&c, SW(T1, SP, -12));
    asm_emit(&c, JALR(RA, SP, -16));
    asm_emit(&c, ADDI(A0, ZERO, 0));
    asm_halt(&c);
    p = asm_program(&c);
    r = run_prog(v, p, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(v, S3), 11);
    vm_program_free(p);
    asm_free(&c);
    asm_free(&b);
    vm_free(v);
}
END_TEST

START_TEST(program_validation)
{
    uint8_t data[2048] = {0};
    vm_segment segs[2];
    vm_image img;
    vm_program *p = (vm_program *)1;

    memset(&img, 0, sizeof img);
    img.segs = segs;
    img.n_segs = 2;
    img.entry = 0x20000;
    segs[0] = (vm_segment){0x20000, 2048, data};
    segs[1] = (vm_segment){0x20400, 16, data};      /* overlaps */
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_ERR_ARG);
    ck_assert_ptr_null(p);
    segs[1] = (vm_segment){0xFFFFFFF0u, 32, data};  /* wraps */
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_ERR_ARG);
    segs[1] = (vm_segment){0xFFF0u, 4, data};       /* below the guard */
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_ERR_ARG);
    segs[1] = (vm_segment){0x20800, 0, NULL};       /* empty: ignored */
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
    ck_assert_uint_eq(vm_program_pages(p), 2);
    vm_program_free(p);
    /* Two segments sharing a page, listed out of order. */
    segs[0] = (vm_segment){0x20010, 4, data};
    segs[1] = (vm_segment){0x20000, 16, data};
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
    ck_assert_uint_eq(vm_program_pages(p), 1);
    vm_program_free(p);
    segs[1] = (vm_segment){0xFFFFFC00u, 1024, data}; /* the last page is fine */
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
    vm_program_free(p);
    ck_assert_int_eq(vm_program_new(NULL, &img), UTXO_ERR_ARG);
    ck_assert_int_eq(vm_program_new(&p, NULL), UTXO_ERR_ARG);
    vm_program_free(NULL);
    vm_free(NULL);
}
END_TEST

/* One machine, many runs: nothing leaks from one run into the next. */
START_TEST(reuse_resets_memory)
{
    asm_buf b = {0};
    asm_li(&b, S0, 0x00500000u);
    asm_emit(&b, LW(S2, S0, 0));   /* must read 0 every run */
    asm_emit(&b, ADDI(T0, S2, 1));
    asm_emit(&b, SW(T0, S0, 0));
    asm_emit(&b, SW(T0, SP, -4));  /* the stack page too */
    asm_emit(&b, LW(S3, SP, -8));
    asm_emit(&b, ADDI(A0, S2, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    for (int i = 0; i < 5; i++) {
        utxo_vm_result r = run_prog(v, p, 1000);
        ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
        ck_assert_uint_eq(vm_reg(v, S2), 0);
        ck_assert_uint_eq(vm_reg(v, S3), 0);
        uint32_t n;
        vm_touched_pages(v, &n);
        ck_assert_uint_eq(n, 3);
    }
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* The same after a run that touched more pages than a reset zeroes one by
 * one (VM_RESET_BULK_PAGES): the next run still reads zeros. Such a reset
 * used to rely on madvise(MADV_DONTNEED) alone, which zeroes on Linux but
 * is mere advice on FreeBSD and macOS: there the second run read the first
 * run's 1s (seen with a madvise that does nothing, preloaded). */
START_TEST(reuse_resets_memory_after_big_run)
{
    const uint32_t base = 0x00500000u, pages = VM_RESET_BULK_PAGES + 8;
    asm_buf b = {0};
    asm_li(&b, S0, base);
    asm_li(&b, S1, base + (pages - 1) * VM_PAGE_BYTES);
    asm_emit(&b, LW(S2, S0, 0));   /* both must read 0 every run */
    asm_emit(&b, LW(S3, S1, 0));
    asm_li(&b, T0, pages);
    asm_li(&b, T2, VM_PAGE_BYTES);
    asm_emit(&b, ADDI(T1, ZERO, 1));
    asm_emit(&b, SW(T1, S0, 0));   /* loop: one word on each page */
    asm_emit(&b, ADD(S0, S0, T2));
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, BNE(T0, ZERO, -12));
    asm_emit(&b, ADD(A0, S2, S3));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    for (int i = 0; i < 3; i++) {
        utxo_vm_result r = run_prog(v, p, 100000);
        ck_assert_uint_eq(vm_reg(v, S2), 0);
        ck_assert_uint_eq(vm_reg(v, S3), 0);
        ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
        uint32_t n;
        vm_touched_pages(v, &n);
        ck_assert_uint_gt(n, VM_RESET_BULK_PAGES);
    }
    vm_program_free(p);
    vm_free(v);
    asm_free(&b);
}
END_TEST

/* With a page cost, every page the running program materialises (store,
 * load, host-call write) is charged once; image and argument pages are
 * not. Exact count, exact budget, and split runs agree. */
START_TEST(page_cost_metering)
{
    static const uint8_t args[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const uint32_t cost = 97;
    asm_buf b = {0};
    asm_li(&b, S0, 0x00700000u);
    asm_emit(&b, SW(S0, S0, 0));          /* page 1 */
    asm_emit(&b, SW(S0, S0, 4));          /* same page: free */
    asm_emit(&b, LW(S2, S0, 1024));       /* page 2, by a load */
    asm_emit(&b, SW(S0, SP, -4));         /* page 3: the stack */
    asm_emit(&b, LBU(S3, A1, 7));         /* argument page: not charged */
    asm_emit(&b, LW(S4, ZERO, 0x7FC));    /* below the guard: fails, no charge */
    vm_program *fail_p = asm_program(&b);
    b.n -= 1;                             /* drop the failing load */
    asm_li(&b, A0, 0x00700000u + 2048);   /* ARGS_READ into page 4 */
    asm_emit(&b, ADDI(A1, ZERO, 0));
    asm_emit(&b, ADDI(A2, ZERO, 8));
    asm_emit(&b, ADDI(A7, ZERO, UTXO_HC_ARGS_READ));
    asm_emit(&b, ECALL());
    asm_emit(&b, ADDI(A0, ZERO, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *v = asm_vm_new();
    utxo_vm_result r;

    /* Without a cost: the plain count, used as the baseline. */
    ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, 100000, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    uint64_t plain = r.cycles;
    vm_set_page_cost(v, cost);
    ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, 100000, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(r.cycles, plain + 4 * cost);
    uint64_t total = r.cycles;
    ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, total, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, total - 1, &r), UTXO_OK);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.cycles, total - 1);
    /* A budget that runs out on a page charge: pc is the touching store. */
    ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, 3 + cost - 1, &r), UTXO_OK);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
    ck_assert_uint_eq(r.pc, ASM_BASE + 8);
    ck_assert_uint_eq(r.cycles, 3 + cost - 1);
    /* A failing access is not charged. */
    ck_assert_int_eq(vm_run(v, fail_p, args, sizeof args, NULL, 100000, &r), UTXO_OK);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_ACCESS);
    ck_assert_uint_eq(r.cycles, 8 + 3 * cost);
    /* Every budget up to the total: the whole run ends exactly as the
     * single-stepped run (a page charge inside a straight-line run must not
     * let the rest of the run pass the budget). */
    vm *w = asm_vm_new();
    vm_set_page_cost(w, cost);
    for (uint64_t budget = 0; budget <= total; budget++) {
        utxo_vm_result one, step;
        ck_assert_int_eq(vm_run(v, p, args, sizeof args, NULL, budget, &one), UTXO_OK);
        ck_assert_int_eq(vm_load(w, p, args, sizeof args, NULL, budget), UTXO_OK);
        uint64_t at = 1;
        while (vm_run_until(w, at, &step) == VM_RUN_PAUSED)
            at = step.cycles + 1;
        ck_assert_msg(memcmp(&one, &step, sizeof one) == 0,
                      "budget %llu: whole pc %#x cycles %llu, stepped pc %#x cycles %llu",
                      (unsigned long long)budget, one.pc, (unsigned long long)one.cycles,
                      step.pc, (unsigned long long)step.cycles);
        ck_assert_uint_le(one.cycles, budget);
    }
    vm_free(w);
    vm_free(v);
    vm_program_free(fail_p);
    split_page_cost = cost;
    vm_program_free(p);
    /* split runs with the cost (no arguments: ARGS_READ then fails, fine) */
    p = asm_program(&b);
    check_splits(p, 100000);
    split_page_cost = 0;
    vm_program_free(p);
    asm_free(&b);
}
END_TEST

/* Every new machine charges the consensus page cost, UTXO_ABI_PAGE_CYCLES,
 * for pages the run touches; the loader's pages (image, arguments, and
 * bytes added with vm_load_bytes before the first instruction) are free. */
START_TEST(consensus_page_cost)
{
    static const uint8_t extra[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    asm_buf b = {0};
    asm_li(&b, S0, 0x00700000u);
    asm_emit(&b, SW(S0, S0, 0));          /* a fresh page: charged */
    asm_li(&b, S1, 0x00900000u);
    asm_emit(&b, LBU(A0, S1, 5));         /* a loader page: free */
    asm_emit(&b, SW(S0, SP, -4));         /* the stack page: charged */
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    vm *plain = asm_vm_new(), *v = vm_new();
    utxo_vm_result r0, r;

    ck_assert_ptr_nonnull(v);
    ck_assert_int_eq(vm_load(plain, p, NULL, 0, NULL, 100000), UTXO_OK);
    ck_assert_int_eq(vm_load_bytes(plain, 0x00900000u, extra, sizeof extra), 0);
    ck_assert_int_eq(vm_run_until(plain, UINT64_MAX, &r0), VM_RUN_DONE);
    ck_assert_int_eq(r0.status, UTXO_VM_REJECTED);
    ck_assert_uint_eq(r0.exit_code, 4);
    ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, 100000), UTXO_OK);
    ck_assert_int_eq(vm_load_bytes(v, 0x00900000u, extra, sizeof extra), 0);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &r), VM_RUN_DONE);
    ck_assert_int_eq(r.status, UTXO_VM_REJECTED);
    ck_assert_uint_eq(r.exit_code, 4);
    ck_assert_uint_eq(r.cycles, r0.cycles + 2 * UTXO_ABI_PAGE_CYCLES);
    /* written by the guest instead of the loader, the page is charged */
    ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, 100000), UTXO_OK);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &r), VM_RUN_DONE);
    ck_assert_uint_eq(r.exit_code, 0);
    ck_assert_uint_eq(r.cycles, r0.cycles + 3 * UTXO_ABI_PAGE_CYCLES);
    /* vm_load_bytes belongs to the initial state only */
    ck_assert_int_eq(vm_load(v, p, NULL, 0, NULL, 100000), UTXO_OK);
    ck_assert_int_eq(vm_run_until(v, 3, &r), VM_RUN_PAUSED);
    ck_assert_int_eq(vm_load_bytes(v, 0x00900000u, extra, sizeof extra), UTXO_VM_FAIL_BAD_ACCESS);
    ck_assert_int_eq(vm_run_until(v, UINT64_MAX, &r), VM_RUN_DONE);
    ck_assert_int_eq(vm_load_bytes(v, 0x00900000u, extra, sizeof extra), UTXO_VM_FAIL_BAD_ACCESS);
    ck_assert_int_eq(vm_load_bytes(NULL, 0x00900000u, extra, sizeof extra), UTXO_VM_FAIL_BAD_ACCESS);
    vm_program_free(p);
    vm_free(plain);
    vm_free(v);
    asm_free(&b);
}
END_TEST

struct thread_arg {
    const vm_program *p;
    struct snap want;
    int ok;
};

static void *thread_main(void *arg)
{
    struct thread_arg *t = arg;
    vm *v = asm_vm_new();
    t->ok = v != NULL;
    for (int i = 0; i < 200 && t->ok; i++) {
        utxo_vm_result r;
        if (vm_run(v, t->p, NULL, 0, NULL, 100000, &r) != UTXO_OK ||
            r.cycles != t->want.r.cycles || r.exit_code != t->want.r.exit_code ||
            vm_reg(v, T1) != t->want.x[T1])
            t->ok = 0;
    }
    vm_free(v);
    return NULL;
}

/* A self-modifying program (stores into its own first page) run by many
 * threads while others run a clean copy of the same code page content:
 * private patches never leak into the shared decoded tables. */
static vm_program *smc_program(void)
{
    asm_buf b = {0};
    asm_li(&b, T1, ADDI(S2, ZERO, 42));
    asm_li(&b, T2, ASM_BASE + 6 * 4);
    asm_emit(&b, SW(T1, T2, 0));
    asm_emit(&b, SW(T1, T2, 800));        /* a data word on the same page */
    asm_emit(&b, ADDI(S2, ZERO, 1));      /* slot 6: rewritten to s2 = 42 */
    asm_emit(&b, ADDI(A0, S2, 0));
    asm_halt(&b);
    vm_program *p = asm_program(&b);
    asm_free(&b);
    return p;
}

struct smc_arg {
    const vm_program *p;
    int ok;
};

static void *smc_thread(void *arg)
{
    struct smc_arg *t = arg;
    vm *v = asm_vm_new();
    t->ok = v != NULL;
    for (int i = 0; i < 300 && t->ok; i++) {
        utxo_vm_result r;
        if (vm_run(v, t->p, NULL, 0, NULL, 1000, &r) != UTXO_OK || r.exit_code != 42 ||
            r.cycles != 10 + UTXO_COST_HOSTCALL)
            t->ok = 0;
    }
    vm_free(v);
    return NULL;
}

START_TEST(self_modifying_threads)
{
    vm_program *p = smc_program();
    struct smc_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i].p = p;
        ck_assert_int_eq(pthread_create(&th[i], NULL, smc_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert(args[i].ok);
    }
    vm_program_free(p);
}
END_TEST

/* One program, decoded lazily, run by four threads at once. */
START_TEST(shared_program_threads)
{
    vm_program *p = loop_program(1000);
    vm *v = asm_vm_new();
    utxo_vm_result r = run_prog(v, p, 100000);
    vm_free(v);
    vm_program_free(p);
    p = loop_program(1000); /* fresh: nothing decoded yet */
    struct thread_arg args[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        args[i].p = p;
        args[i].want.r = r;
        args[i].want.x[T1] = 3000;
        ck_assert_int_eq(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ck_assert(args[i].ok);
    }
    vm_program_free(p);
}
END_TEST

static Suite *vm_run_suite(void)
{
    Suite *s = suite_create("vm_run");
    TCase *tc = tcase_create("run");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, exact_cycle_count);
    tcase_add_test(tc, budget_inside_long_run);
    tcase_add_test(tc, split_runs_match_whole_runs);
    tcase_add_test(tc, pause_edit_resume);
    tcase_add_test(tc, self_modifying_code);
    tcase_add_test(tc, self_modifying_other_page);
    tcase_add_test(tc, self_modifying_run_length);
    tcase_add_test(tc, self_modifying_in_place_patch);
    tcase_add_test(tc, data_on_code_page);
    tcase_add_test(tc, host_call_writes_code);
    tcase_add_test(tc, initial_state);
    tcase_add_test(tc, page_limit);
    tcase_add_test(tc, fetch_failures);
    tcase_add_test(tc, program_validation);
    tcase_add_test(tc, reuse_resets_memory);
    tcase_add_test(tc, reuse_resets_memory_after_big_run);
    tcase_add_test(tc, page_cost_metering);
    tcase_add_test(tc, consensus_page_cost);
    tcase_add_test(tc, shared_program_threads);
    tcase_add_test(tc, self_modifying_threads);
    tcase_add_test(tc, host_out_of_memory_is_no_verdict);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vm_run_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
