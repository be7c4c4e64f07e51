/*
 * test_vm_jit.c — the translating tier (vm_jit.c) against the interpreter
 * (vm_interp.c), the reference and fallback: the same programs on two
 * machines, one with the tier and one without, must end in the same state
 * to the bit: status, fail reason, exit code, pc, cycle count, every
 * register, every page touched and every byte of it.
 *
 * Programs: the random instruction streams of test_vm_diff.c (its
 * generator, included below), run with every budget around the exact
 * cycle count and under split runs (vm_run_until at random points); hand
 * made faults at every kind of instruction (misaligned and unmapped loads
 * and stores, illegal words, EBREAK, bad fetches, the memory limit); self
 * modifying code with and without FENCE.I (also behind a chained taken
 * branch to another page); programs with one id but other code run one
 * after another on one machine; x0 operands and offset-0 accesses, which the
 * tier emits in shorter forms; groups of accesses checked once, at every
 * alignment and offset around their page's end; long loops, so that the tier's chaining,
 * lookup stub and cycle checks are what runs.
 *
 * On hosts without the tier both machines interpret: the test still runs
 * and still passes.
 */
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-const-variable"
#endif
#define main vm_diff_main
int vm_diff_main(void);
#include "test_vm_diff.c"
#undef main
#include "predicates/vm_jit_int.h"
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif


/* Two machines: [0] interpreter, [1] translating tier. */
static vm *pair_new(int tier)
{
    vm *v = vm_new();
    ck_assert_ptr_nonnull(v);
    v->jit_on = tier && VM_JIT_HOST;
    v->jit_warmup = 0; /* translate from the first instruction */
    return v;
}

static void same_state(vm *a, const utxo_vm_result *ra, vm *b, const utxo_vm_result *rb,
                       const char *what, uint64_t seed, uint64_t budget)
{
    if (ra->status != rb->status || ra->fail != rb->fail || ra->exit_code != rb->exit_code ||
        ra->pc != rb->pc || ra->cycles != rb->cycles)
        ck_abort_msg("%s %llu budget %llu: interp status %d fail %d code %#x pc %#x cycles "
                     "%llu; jit %d %d %#x %#x %llu",
                     what, (unsigned long long)seed, (unsigned long long)budget, ra->status,
                     ra->fail, ra->exit_code, ra->pc, (unsigned long long)ra->cycles,
                     rb->status, rb->fail, rb->exit_code, rb->pc,
                     (unsigned long long)rb->cycles);
    for (unsigned i = 0; i < 32; i++)
        if (vm_reg(a, i) != vm_reg(b, i))
            ck_abort_msg("%s %llu budget %llu: x%u interp %#x jit %#x", what,
                         (unsigned long long)seed, (unsigned long long)budget, i, vm_reg(a, i),
                         vm_reg(b, i));
    uint32_t na = 0, nb = 0;
    const uint32_t *pa = vm_touched_pages(a, &na), *pb = vm_touched_pages(b, &nb);
    ck_assert_msg(na == nb, "%s %llu: %u pages vs %u", what, (unsigned long long)seed, na, nb);
    for (uint32_t i = 0; i < na; i++) {
        uint8_t x[VM_PAGE_BYTES], y[VM_PAGE_BYTES];
        ck_assert_uint_eq(pa[i], pb[i]);
        ck_assert_int_eq(vm_page_get(a, pa[i], x), 1);
        ck_assert_int_eq(vm_page_get(b, pa[i], y), 1);
        if (memcmp(x, y, sizeof x) != 0)
            ck_abort_msg("%s %llu budget %llu: page %#x differs", what,
                         (unsigned long long)seed, (unsigned long long)budget,
                         pa[i] << VM_PAGE_SHIFT);
    }
}

/* Runs p on both with `budget`, compares. */
static utxo_vm_result both(vm *vi, vm *vj, const vm_program *p, uint64_t budget,
                           const char *what, uint64_t seed)
{
    utxo_vm_result ri, rj;
    ck_assert_int_eq(vm_run(vi, p, NULL, 0, NULL, budget, &ri), UTXO_OK);
    ck_assert_int_eq(vm_run(vj, p, NULL, 0, NULL, budget, &rj), UTXO_OK);
    same_state(vi, &ri, vj, &rj, what, seed, budget);
    return ri;
}

/* Every budget in [exact - below, exact + 2], 0 and 1, and split runs. */
static void budgets_around(const vm_program *p, uint64_t below, const char *what,
                           uint64_t seed)
{
    vm *vi = pair_new(0), *vj = pair_new(1);
    const uint64_t big = 200000;
    uint64_t exact = both(vi, vj, p, big, what, seed).cycles;
    if (exact > 50000 && below > 20)
        below = 20; /* long runs: the edge only */
    for (uint64_t b = exact > below ? exact - below : 0; b <= exact + 2; b++)
        both(vi, vj, p, b, what, seed);
    both(vi, vj, p, 0, what, seed);
    both(vi, vj, p, 1, what, seed);
    for (unsigned k = 0; k < 3; k++) {
        utxo_vm_result ri, rj;
        ck_assert_int_eq(vm_load(vi, p, NULL, 0, NULL, big), UTXO_OK);
        ck_assert_int_eq(vm_load(vj, p, NULL, 0, NULL, big), UTXO_OK);
        uint64_t at = 0;
        int ci, cj;
        do {
            /* at most a few hundred pauses, the first ones one cycle apart */
            at += 1 + pick(k == 0 && at < 300 ? 3 : (uint32_t)(exact / 200u) + 50u);
            ci = vm_run_until(vi, at, &ri);
            cj = vm_run_until(vj, at, &rj);
            ck_assert_int_eq(ci, cj);
            same_state(vi, &ri, vj, &rj, what, seed, at);
        } while (ci == VM_RUN_PAUSED);
    }
    if (VM_JIT_HOST)
        ck_assert_ptr_nonnull(vj->jit); /* the tier did run */
    vm_free(vi);
    vm_free(vj);
}

static vm_program *prog_of(const uint32_t *code, const uint32_t *data)
{
    vm_segment segs[2] = {{CODE_BASE, CODE_WORDS * 4u, (const uint8_t *)code},
                          {DATA_BASE, VM_PAGE_BYTES, (const uint8_t *)data}};
    vm_image img;
    memset(&img, 0, sizeof img);
    img.entry = CODE_BASE;
    img.n_segs = 2;
    img.segs = segs;
    vm_program *p = NULL;
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
    return p;
}

START_TEST(random_programs_jit_vs_interp)
{
    static uint32_t code[CODE_WORDS], data[VM_PAGE_BYTES / 4];
    for (uint64_t seed = 1; seed <= 300; seed++) {
        rng_state = seed * 0x9E3779B97F4A7C15u + 7u;
        shapes_only = seed % 3 == 0;
        gen_program(code, data);
        vm_program *p = prog_of(code, data);
        budgets_around(p, seed <= 30 ? 400 : 20, "seed", seed);
        vm_program_free(p);
    }
    shapes_only = 0;
}
END_TEST

/* A code cache that holds only a few blocks: flushed again and again in
 * the middle of runs, with the same results. */
START_TEST(tiny_cache_jit_vs_interp)
{
    static uint32_t code[CODE_WORDS], data[VM_PAGE_BYTES / 4];
    size_t saved = vm_jit_cache_bytes;
    uint64_t flushes = 0;
    vm_jit_cache_bytes = (192u << 10) + 256u; /* a flush after ~256 bytes */
    for (uint64_t seed = 1; seed <= 40; seed++) {
        rng_state = seed * 0x9E3779B97F4A7C15u + 11u;
        gen_program(code, data);
        vm_program *p = prog_of(code, data);
        vm *vi = pair_new(0), *vj = pair_new(1);
        utxo_vm_result ri, rj;
        for (unsigned k = 0; k < 3; k++) {
            ck_assert_int_eq(vm_run(vi, p, NULL, 0, NULL, 200000, &ri), UTXO_OK);
            ck_assert_int_eq(vm_run(vj, p, NULL, 0, NULL, 200000, &rj), UTXO_OK);
            same_state(vi, &ri, vj, &rj, "tiny cache", seed, 200000);
        }
        flushes += vm_jit_flushes(vj);
        vm_free(vi);
        vm_free(vj);
        vm_program_free(p);
    }
    vm_jit_cache_bytes = saved;
    if (VM_JIT_HOST)
        ck_assert_uint_gt(flushes, 0);
}
END_TEST

/* A counted loop with loads, stores, calls and every ALU/M op, then a
 * fault or end of the kind given. */
static vm_program *loop_n_then(uint32_t n, unsigned kind)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, 5, n);          /* t0: counter */
    asm_li(&b, 8, DATA_BASE);  /* s0: data */
    asm_li(&b, 6, 0x12345678);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(5, 5, -1));
    asm_emit(&b, MUL(7, 6, 5));
    asm_emit(&b, MULH(28, 7, 6));
    asm_emit(&b, MULHSU(29, 7, 6));
    asm_emit(&b, MULHU(30, 7, 6));
    asm_emit(&b, DIV(10, 7, 5));
    asm_emit(&b, REM(11, 7, 5));
    asm_emit(&b, DIVU(12, 7, 0));
    asm_emit(&b, REMU(13, 7, 0));
    asm_emit(&b, SRA(14, 7, 5));
    asm_emit(&b, SLT(15, 7, 6));
    asm_emit(&b, SLTIU(16, 7, -5));
    asm_emit(&b, ANDI(18, 5, 63));
    asm_emit(&b, SLLI(18, 18, 2));
    asm_emit(&b, ADD(18, 18, 8));
    asm_emit(&b, SW(7, 18, 0));
    asm_emit(&b, SH(7, 18, 256));
    asm_emit(&b, SB(7, 18, 513));
    asm_emit(&b, LW(19, 18, 0));
    asm_emit(&b, LH(19, 18, 256));
    asm_emit(&b, LBU(19, 18, 513));
    asm_emit(&b, LB(19, 18, 513));
    asm_emit(&b, LHU(19, 18, 256));
    asm_emit(&b, XOR(6, 6, 19));
    asm_emit(&b, BNE(5, 0, (int32_t)(top - asm_pc(&b))));
    switch (kind) {
    case 0: asm_emit(&b, LW(10, 8, 2)); break;           /* misaligned load */
    case 1: asm_emit(&b, SH(10, 8, 1)); break;           /* misaligned store */
    case 2: asm_emit(&b, LW(10, 0, 16)); break;          /* low page load */
    case 3: asm_emit(&b, SW(10, 0, 16)); break;          /* low page store */
    case 4: asm_emit(&b, 0xFFFFFFFFu); break;            /* illegal */
    case 5: asm_emit(&b, EBREAK()); break;
    case 6: asm_emit(&b, JALR(0, 8, 2)); break;          /* misaligned fetch */
    case 7: asm_li(&b, 9, 0x40000000u); asm_emit(&b, JALR(1, 9, 0)); break; /* unmapped */
    case 8: /* fresh pages until the memory limit */
        asm_li(&b, 9, 0x10000000u);
        asm_emit(&b, SW(5, 9, 0));
        asm_emit(&b, ADDI(9, 9, 1024));
        asm_emit(&b, JAL(0, -8));
        break;
    default: break;
    }
    return asm_finish(&b);
}

/* budgets_around for program p (built, not NULL), then frees it. */
static void program_vs_interp(vm_program *p, uint64_t below, const char *what, uint64_t seed)
{
    ck_assert_ptr_nonnull(p);
    budgets_around(p, below, what, seed);
    vm_program_free(p);
}

static vm_program *loop_then(unsigned kind)
{
    return loop_n_then(300, kind);
}

START_TEST(faults_at_every_kind_jit_vs_interp)
{
    for (unsigned kind = 0; kind <= 9; kind++) {
        program_vs_interp(loop_then(kind), kind == 8 ? 3000 : 300, "fault kind", kind);
    }
}
END_TEST

/* A loop that rewrites an instruction of its own page each time round
 * (ADDI a0, a0, k with k the counter), with or without FENCE.I, and a
 * store into the loop's own run. */
START_TEST(self_modifying_code_jit_vs_interp)
{
    for (unsigned fence = 0; fence < 2; fence++) {
        asm_buf b;
        memset(&b, 0, sizeof b);
        asm_li(&b, 5, 40);
        asm_emit(&b, AUIPC(8, 0));                    /* s0 = this pc */
        uint32_t base = asm_pc(&b) - 4;
        uint32_t top = asm_pc(&b);
        asm_emit(&b, ADDI(5, 5, -1));
        asm_li(&b, 6, ADDI(10, 10, 0));
        asm_emit(&b, SLLI(7, 5, 20));
        asm_emit(&b, OR(6, 6, 7));
        uint32_t at_store = asm_pc(&b);
        asm_emit(&b, SW(6, 8, 0)); /* offset patched below */
        if (fence)
            asm_emit(&b, FENCE_I());
        uint32_t target = asm_pc(&b);
        asm_emit(&b, ADDI(10, 10, 0)); /* rewritten */
        asm_emit(&b, BNE(5, 0, (int32_t)(top - asm_pc(&b))));
        b.w[(at_store - ASM_BASE) / 4] = SW(6, 8, (int32_t)(target - base));
        asm_halt(&b);
        vm_program *p = asm_program(&b);
        asm_free(&b);
        budgets_around(p, 600, "smc fence", fence);
        vm_program_free(p);
    }
}
END_TEST

/* More live registers than host registers: a loop that updates 26 guest
 * registers (each used often enough in its run to be given a host register
 * by the block-local allocation), then stores to a fresh page, which
 * leaves native code every time round, with the registers still dirty in
 * host registers; then updates them again and ends with a fault of each
 * kind (kind 3: no fault, and a fresh page only the first time round,
 * so the loop goes round in native code through its back edge). A
 * register not written back on a side exit (or written back stale), or
 * not moved back at the back edge, shows as a different register or
 * stack page. */
static vm_program *many_regs_then(unsigned kind)
{
    static const uint8_t r[] = {1,  2,  3,  4,  6,  7,  10, 11, 12, 13, 14, 15, 16,
                                17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29};
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T0, 40);         /* counter */
    asm_li(&b, S0, DATA_BASE);  /* data */
    asm_li(&b, S1, FRESH_BASE); /* a fresh page each time round */
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    for (unsigned i = 0; i < sizeof r; i++) {
        asm_emit(&b, ADDI(r[i], r[i], (int32_t)r[i] * 3));
        asm_emit(&b, XOR(r[i], r[i], T0));
    }
    asm_emit(&b, SW(T0, S1, 0)); /* slow path: a side exit */
    asm_emit(&b, ADDI(S1, S1, kind == 3 ? 4 : 1024)); /* kind 3: the first time only */
    for (unsigned i = 0; i < sizeof r; i++) {
        asm_emit(&b, ADD(r[i], r[i], r[i]));
        asm_emit(&b, XORI(r[i], r[i], 0x55));
    }
    asm_emit(&b, SW(r[kind % sizeof r], S0, (int32_t)(4 * kind))); /* fast path */
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    switch (kind) {
    case 0: asm_emit(&b, LW(10, 8, 2)); break;  /* misaligned load */
    case 1: asm_emit(&b, SW(10, 0, 16)); break; /* low page store */
    case 2: asm_emit(&b, EBREAK()); break;
    default: break;
    }
    return asm_finish(&b);
}

/* Pins out of their host registers at exits: eight registers named most
 * in the image (words after the end that never run) are the pins; a loop
 * uses eight others enough to evict them all, then the pins again, which
 * come back in other host registers, then leaves native code at a store to
 * a fresh page (or goes round): each exit moves every pin home. */
static vm_program *pins_moved(void)
{
    static const uint8_t pin[] = {10, 11, 12, 13, 14, 15, 16, 17};
    static const uint8_t other[] = {18, 19, 20, 21, 22, 23, 24, 25};
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T0, 40);
    asm_li(&b, S1, FRESH_BASE);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    for (unsigned r = 0; r < 4; r++)
        for (unsigned i = 0; i < 8; i++)
            asm_emit(&b, ADDI(other[i], other[(i + r) % 8], (int32_t)(i + r)));
    for (unsigned r = 0; r < 4; r++)
        for (unsigned i = 7; i < 8; i--)
            asm_emit(&b, XOR(pin[i], pin[(i + r + 1) % 8], other[i]));
    asm_emit(&b, SW(T0, S1, 0)); /* fresh page: a side exit */
    asm_emit(&b, ADDI(S1, S1, 1024));
    asm_emit(&b, ADD(pin[0], pin[0], T0));
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    asm_halt(&b);
    for (unsigned r = 0; r < 40; r++) /* never run: only counted */
        for (unsigned i = 0; i < 8; i++)
            asm_emit(&b, ADD(pin[i], pin[i], pin[i]));
    vm_program *p = asm_program(&b);
    asm_free(&b);
    return p;
}

/* Loops on themselves, which keep their registers in host registers from
 * one time round to the next (the state the first translation pass had at
 * the back edge), shaped like SHA-256's (a big-endian word load loop, the
 * message schedule): the allocation at the back edge differs from the
 * loop's, so the back edge moves registers; stores to a fresh page leave
 * native code in the middle. */
static vm_program *loops_kept(void)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, S3, DATA_BASE + 1u);
    asm_li(&b, T4, FRESH_BASE);
    asm_li(&b, T5, 64 * 4);
    asm_li(&b, A1, 0);
    uint32_t l1 = asm_pc(&b);
    asm_emit(&b, ADD(A4, S3, A1));
    asm_emit(&b, LB(T0, A4, -1));
    asm_emit(&b, LBU(S5, A4, 0));
    asm_emit(&b, SLLI(T0, T0, 24));
    asm_emit(&b, LBU(22, A4, 1));
    asm_emit(&b, SLLI(S5, S5, 16));
    asm_emit(&b, LBU(A4, A4, 2));
    asm_emit(&b, OR(T0, S5, T0));
    asm_emit(&b, SLLI(S5, 22, 8));
    asm_emit(&b, OR(T0, T0, S5));
    asm_emit(&b, OR(A4, T0, A4));
    asm_emit(&b, ADD(T0, T4, A1));
    asm_emit(&b, ADDI(A1, A1, 4));
    asm_emit(&b, SW(A4, T0, 0));
    asm_emit(&b, BNE(A1, T5, (int32_t)(l1 - asm_pc(&b))));
    asm_li(&b, 22, 0);       /* s6: index */
    asm_li(&b, 31, 48 * 4);  /* t6: end */
    uint32_t l2 = asm_pc(&b);
    asm_emit(&b, ADD(A1, T4, 22));
    asm_emit(&b, LW(T0, A1, 36));
    asm_emit(&b, LW(23, A1, 4));
    asm_emit(&b, ADD(A4, T0, A4));
    asm_emit(&b, SRLI(T0, 23, 7));
    asm_emit(&b, SLLI(24, 23, 25));
    asm_emit(&b, OR(T0, 24, T0));
    asm_emit(&b, SRLI(24, 23, 18));
    asm_emit(&b, SLLI(25, 23, 14));
    asm_emit(&b, OR(24, 25, 24));
    asm_emit(&b, LW(25, A1, 56));
    asm_emit(&b, XOR(T0, T0, 24));
    asm_emit(&b, SRLI(24, 25, 17));
    asm_emit(&b, SLLI(26, 25, 15));
    asm_emit(&b, OR(24, 26, 24));
    asm_emit(&b, SRLI(25, 25, 10));
    asm_emit(&b, XOR(24, 24, 25));
    asm_emit(&b, ADD(A4, A4, T0));
    asm_emit(&b, ADD(A4, A4, 24));
    asm_emit(&b, ADDI(22, 22, 4));
    asm_emit(&b, SW(A4, A1, 64));
    asm_emit(&b, ADDI(A4, 23, 0));
    asm_emit(&b, BNE(22, 31, (int32_t)(l2 - asm_pc(&b))));
    return asm_finish(&b);
}

START_TEST(many_registers_jit_vs_interp)
{
    program_vs_interp(loops_kept(), 400, "loops kept", 0);
    for (unsigned kind = 0; kind <= 3; kind++)
        program_vs_interp(many_regs_then(kind), 400, "many registers", kind);
    program_vs_interp(pins_moved(), 400, "pins moved", 0);
}
END_TEST

/* Rotates (srli, slli, or, in either order), which the tier emits as one
 * rotate plus only the temporaries that can be seen: overwritten before
 * any read (not computed), read later, live at a load that leaves native
 * code on its last round (misaligned), live at a store to a fresh page
 * (a side exit every round), live at the run's end (the page end), the
 * rotate's source as its destination; and shift pairs that are not
 * rotates. */
static vm_program *rotates_then(unsigned kind)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T0, 30);
    asm_li(&b, S0, DATA_BASE);
    asm_li(&b, S1, FRESH_BASE);
    asm_li(&b, S2, 0x9E3779B9u);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, SRLI(A0, S2, 7));
    asm_emit(&b, SLLI(A1, S2, 25));
    asm_emit(&b, OR(A0, A1, A0));    /* a1 dead: overwritten below */
    asm_emit(&b, SLLI(A1, S2, 13));  /* slli first */
    asm_emit(&b, SRLI(A2, S2, 19));
    asm_emit(&b, OR(A3, A2, A1));    /* a1 read below, a2 dead */
    asm_emit(&b, XOR(A0, A0, A1));
    asm_emit(&b, ADDI(A2, T0, 5));
    asm_emit(&b, SRLI(A4, S2, 3));
    asm_emit(&b, SLLI(A5, S2, 29));
    asm_emit(&b, OR(A6, A4, A5));    /* a4, a5 live at the store's exit */
    asm_emit(&b, SW(A3, S1, 0));     /* fresh page: a side exit */
    asm_emit(&b, ADDI(S1, S1, 1024));
    asm_emit(&b, ADDI(A4, A6, 1));
    asm_emit(&b, ADDI(A5, A0, 1));
    asm_emit(&b, SRLI(T1, S2, 11));
    asm_emit(&b, SLLI(T2, S2, 21));
    asm_emit(&b, OR(S2, T2, T1));    /* into its source; t1, t2 live at the load */
    asm_emit(&b, ANDI(T3, T0, 1));
    asm_emit(&b, SLTIU(T3, T3, kind == 0 ? 1 : 0)); /* kind 0: 1 on the last round */
    asm_emit(&b, ADD(T3, T3, S0));
    asm_emit(&b, LW(T1, T3, 0));     /* misaligned when t0 = 0 (if kind 0) */
    asm_emit(&b, SRLI(T2, A0, 5));
    asm_emit(&b, SLLI(T4, A0, 27));
    asm_emit(&b, OR(T5, T4, T2));
    asm_emit(&b, SRLI(A7, A3, 4));   /* not a rotate: 4 + 27 */
    asm_emit(&b, SLLI(S3, A3, 27));
    asm_emit(&b, OR(S4, S3, A7));
    asm_emit(&b, ADD(S2, S2, T5));
    while (asm_pc(&b) != ASM_BASE + VM_PAGE_BYTES - 12u)
        asm_emit(&b, ADDI(T6, T6, 1));
    asm_emit(&b, SRLI(T2, A0, 9));   /* t2, t4 live at the run's end: the page's */
    asm_emit(&b, SLLI(T4, A0, 23));
    asm_emit(&b, OR(S5, T2, T4));
    asm_emit(&b, ADD(S2, S2, S5));
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    if (kind == 1)
        asm_emit(&b, EBREAK());
    return asm_finish(&b);
}

START_TEST(rotates_jit_vs_interp)
{
    for (unsigned kind = 0; kind <= 1; kind++)
        program_vs_interp(rotates_then(kind), 600, "rotates", kind);
}
END_TEST

/* x0 as an operand, which the tier emits in shorter forms: a branch
 * against x0 on either side (test r, r, the condition turned round when x0
 * is the first operand), a store of x0 (an immediate store) of each width,
 * and loads and stores at offset 0 (the base's own host register as the
 * address). The values compared run over 0, 1, -1, INT_MIN, INT_MAX, 2 and
 * -2, so that every condition is taken and not taken, and on the edge
 * (a value of 0) where strict and non-strict conditions differ. Each
 * branch not taken adds its own bit to a0, which is stored every round;
 * the stores of x0 clear bytes just written with a pattern. `kind` 1
 * makes the first store of x0 each round the first touch of a page (a
 * side exit: the interpreter stores it) and the others follow there. */
static vm_program *zero_operands_then(unsigned kind)
{
    static const uint32_t vals[] = {0, 1, UINT32_MAX, 0x80000000u, 0x7fffffffu, 2, 0xfffffffeu};
    const unsigned nv = sizeof vals / sizeof vals[0];
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, S1, FRESH_BASE);
    for (unsigned i = 0; i < nv; i++) {
        asm_li(&b, T1, vals[i]);
        asm_emit(&b, SW(T1, S1, (int32_t)(4 * i)));
    }
    asm_li(&b, S0, DATA_BASE);
    asm_li(&b, S2, FRESH_BASE + 64u);  /* a0 each round */
    asm_li(&b, S3, FRESH_BASE + 4096u); /* kind 1: a fresh page each round */
    asm_li(&b, T4, 0xa5a5a5a5u);
    asm_li(&b, T0, 3 * nv);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_li(&b, T2, nv);
    asm_emit(&b, REMU(T1, T0, T2));
    asm_emit(&b, SLLI(T1, T1, 2));
    asm_emit(&b, ADD(T3, S1, T1));
    asm_emit(&b, LW(A1, T3, 0));      /* offset 0 */
    asm_emit(&b, ADDI(A0, 0, 0));
    static uint32_t (*const br[])(uint32_t, uint32_t, int32_t) = {BEQ, BNE, BLT, BGE,
                                                                   BLTU, BGEU};
    for (unsigned i = 0; i < 12; i++) {
        uint32_t l = i & 1 ? ZERO : A1, r = i & 1 ? A1 : ZERO;
        asm_emit(&b, br[i / 2](l, r, 8)); /* taken: skip the add */
        asm_emit(&b, ORI(A0, A0, (int32_t)(1u << i)));
    }
    asm_emit(&b, BEQ(ZERO, ZERO, 8)); /* always taken */
    asm_emit(&b, ORI(A0, A0, 1 << 12));
    asm_emit(&b, BGEU(A1, ZERO, 8));  /* always taken */
    asm_emit(&b, ORI(A0, A0, 1 << 13));
    asm_emit(&b, BLTU(A1, ZERO, 8));  /* never taken */
    asm_emit(&b, ORI(A0, A0, 1 << 14));
    asm_emit(&b, SW(A0, S2, 0));
    asm_emit(&b, ADDI(S2, S2, 4));
    uint32_t zb = kind ? S3 : S0;
    if (!kind)
        for (int32_t w = 0; w < 24; w += 4)
            asm_emit(&b, SW(T4, S0, w)); /* not zero: the stores of x0 must clear */
    asm_emit(&b, SB(ZERO, zb, 0));    /* offset 0; kind 1: the page's first touch */
    asm_emit(&b, SH(ZERO, zb, 10));
    asm_emit(&b, SB(ZERO, zb, 5));
    asm_emit(&b, SW(ZERO, zb, 16));
    asm_emit(&b, SW(A1, zb, 20));
    asm_emit(&b, LBU(A2, zb, 0));     /* offset 0, after the stores */
    asm_emit(&b, LW(A4, zb, 20));
    asm_emit(&b, XOR(A3, A3, A4));
    asm_emit(&b, ADD(A3, A3, A2));
    asm_emit(&b, ADDI(S0, S0, 24));
    if (kind)
        asm_emit(&b, ADDI(S3, S3, VM_PAGE_BYTES));
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    return asm_finish(&b);
}

/* Loads and stores at offset 0 off bases that are the registers the
 * program names most, so that the pins (and every host register) hold
 * bases: each access must use its own base's host register. The data
 * page is first filled with each word's own address; then each round
 * every base loads its word (its own address back: a load from another
 * word leaves the base pointing there), stores the previous base there,
 * clears its low byte with a store of x0 (nonzero before: no other word
 * gets that byte cleared) and loads it back; so an access through the
 * wrong host register shows in a register or in the page at the end. */
static vm_program *zero_offsets(void)
{
    static const uint8_t r[] = {T1, T2, T3, A2, A5, A6, A7, S4, S5, 22, 23};
    const unsigned n = sizeof r;
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, S0, DATA_BASE);
    asm_li(&b, T4, DATA_BASE + VM_PAGE_BYTES);
    asm_emit(&b, SW(S0, S0, 0));
    asm_emit(&b, ADDI(S0, S0, 4));
    asm_emit(&b, BNE(S0, T4, -8));
    asm_li(&b, S0, DATA_BASE);
    asm_li(&b, T0, 10);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    asm_emit(&b, ADDI(r[0], S0, 4));
    for (unsigned i = 1; i < n; i++)
        asm_emit(&b, ADDI(r[i], r[i - 1], 8));
    for (unsigned i = 0; i < n; i++) {
        unsigned k = (i + n - 1) % n;
        asm_emit(&b, LW(r[i], r[i], 0));
        asm_emit(&b, SW(r[k], r[i], 0));
        asm_emit(&b, SB(ZERO, r[i], 0));
        asm_emit(&b, LW(r[i], r[i], 0));
    }
    asm_emit(&b, ADDI(S0, S0, 96));
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    return asm_finish(&b);
}

START_TEST(zero_operands_jit_vs_interp)
{
    for (unsigned kind = 0; kind <= 1; kind++)
        program_vs_interp(zero_operands_then(kind), 400, "x0 operands", kind);
    program_vs_interp(zero_offsets(), 400, "offset 0", 0);
}
END_TEST

/* Closes a loop counted down in t0 back to top, halts, and builds the
 * program (asm_buf freed). */
static vm_program *counted_loop_end(asm_buf *b, uint32_t top)
{
    asm_emit(b, ADDI(T0, T0, -1));
    asm_emit(b, BNE(T0, 0, (int32_t)(top - asm_pc(b))));
    return asm_finish(b);
}

/* Groups of accesses the tier checks once (vm_jit.c, group_len): `count`
 * accesses of op off one base, offsets rising or falling by the access
 * size, their lowest byte at page + x. The page is made writable first, in a block of its own (its first touch leaves the tier), so the
 * loop's block meets the group first in native code; the page after it is
 * never touched before: a group that reaches into it must leave the tier
 * there (the interpreter charges the page), one that is misaligned must
 * fault, and one that fits must run natively, each as the interpreter
 * does it. */
static vm_program *group_at(uint32_t (*op)(uint32_t, uint32_t, int32_t), int32_t size,
                            unsigned count, int falling, uint32_t page, uint32_t x)
{
    uint32_t at = page + x;
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T1, page);
    asm_li(&b, T2, 0x8899AABBu);
    asm_emit(&b, SW(T2, T1, 0)); /* the page: fresh, now writable */
    asm_li(&b, S0, at + (falling ? (uint32_t)(size * (int32_t)(count - 1)) : 0u));
    asm_li(&b, T0, 3);
    asm_emit(&b, BEQ(ZERO, ZERO, 4)); /* ends the block */
    uint32_t top = asm_pc(&b);
    for (unsigned k = 0; k < count; k++) {
        int32_t off = (falling ? -1 : 1) * size * (int32_t)k;
        /* loads into a0.., stores of t2 */
        asm_emit(&b, op == SB || op == SH || op == SW ? op(T2, S0, off) : op(A0 + k, S0, off));
    }
    return counted_loop_end(&b, top);
}

START_TEST(group_edges_jit_vs_interp)
{
    static const struct {
        uint32_t (*op)(uint32_t, uint32_t, int32_t);
        int32_t size;
    } ops[] = {{LW, 4}, {SW, 4}, {LH, 2}, {LHU, 2}, {SH, 2}, {LB, 1}, {LBU, 1}, {SB, 1}};
    /* pages with address bit 10 clear and set (the test masks the page's
     * own offset bits, no more) */
    static const uint32_t pages[] = {0x00100000u, 0x00100400u};
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++)
        for (unsigned count = 2; count <= 4; count++)
            for (unsigned v = 0; v < 4; v++) {
                int falling = v & 1;
                uint32_t page = pages[v >> 1];
                /* highest byte - lowest byte of the group */
                uint32_t span = (uint32_t)ops[o].size * count - 1u;
                uint32_t last_fit = VM_PAGE_BYTES - 1u - span;
                uint64_t seed = o * 100u + count * 10u + v;
                for (uint32_t x = last_fit - 6; x <= last_fit + 5; x++)
                    program_vs_interp(group_at(ops[o].op, ops[o].size, count, falling, page, x),
                                      3, "group near the page end", seed * 10000u + x);
                for (uint32_t x = 0; x <= 5; x++)
                    program_vs_interp(group_at(ops[o].op, ops[o].size, count, falling, page, x),
                                      3, "group at the page start", seed * 10000u + x);
            }
}
END_TEST

/* A loop that adds `step` to a0 2000 times, then halts with a0. */
static vm_program *sum_loop(int32_t step)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T0, 2000);
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(A0, A0, step));
    return counted_loop_end(&b, top);
}

/* Programs made with the same id (asm_program leaves it zero) but other
 * code, one after another on the same machine: each must run its own
 * code, not the translations of the one before (the cache is keyed by the
 * program object; keyed by the id, the second ran the first's loop). The
 * last one is made after the first is freed, so it may get its address. */
START_TEST(programs_with_one_id_jit_vs_interp)
{
    vm_program *a = sum_loop(1), *b = sum_loop(2);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_mem_eq(a->id, b->id, sizeof a->id);
    vm *vi = pair_new(0), *vj = pair_new(1);
    for (uint64_t k = 0; k < 3; k++) {
        both(vi, vj, a, 200000, "one id, first", k);
        ck_assert_uint_eq(vm_reg(vj, A0), 2000);
        both(vi, vj, b, 200000, "one id, second", k);
        ck_assert_uint_eq(vm_reg(vj, A0), 4000);
    }
    vm_program_free(a);
    vm_program *c = sum_loop(3);
    ck_assert_ptr_nonnull(c);
    both(vi, vj, c, 200000, "one id, third", 0);
    ck_assert_uint_eq(vm_reg(vj, A0), 6000);
    both(vi, vj, b, 200000, "one id, second again", 0);
    vm_program_free(b);
    vm_program_free(c);
    vm_free(vi);
    vm_free(vj);
}
END_TEST

/* Blocks strung across a page end and a direct jump: a short loop whose
 * run goes on over the end of page 0 into page 1 and jumps back within
 * page 0, with (`smc`, from the 11th round on) a store that rewrites an
 * instruction of page 1 the block has translated (the run starts with a
 * hop through page 1, so that page 1 is a code page when the loop is
 * translated): page 1 is then the machine's own, and the block, entered
 * again at the split runs' pauses, must stop at its test of page 1, not
 * run the stale copy (caught when that test is left out). */
static vm_program *merged_then(unsigned smc)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_emit(&b, 0); /* jal x0, hop (on page 1, so that page 1 is a code page) */
    while (asm_pc(&b) < ASM_BASE + VM_PAGE_BYTES - 72u)
        asm_emit(&b, EBREAK());
    uint32_t start = asm_pc(&b);
    asm_li(&b, T0, 60);
    asm_li(&b, A0, 1);
    asm_li(&b, S1, ASM_BASE + VM_PAGE_BYTES + 8u); /* the word rewritten, page 1 */
    asm_li(&b, S0, FRESH_BASE);
    asm_li(&b, T2, ADDI(A0, A0, 0));
    asm_li(&b, T5, ASM_BASE + VM_PAGE_BYTES + 8u - FRESH_BASE);
    uint32_t to_top = asm_pc(&b);
    asm_emit(&b, 0);                     /* jal x0, top */
    uint32_t back = asm_pc(&b);          /* from page 1 */
    asm_emit(&b, 0);                     /* bne t0, x0, top */
    uint32_t to_end = asm_pc(&b);
    asm_emit(&b, 0);                     /* jal x0, end */
    uint32_t top = asm_pc(&b);
    ck_assert_uint_eq(top, ASM_BASE + VM_PAGE_BYTES - 12u);
    asm_emit(&b, ADDI(T0, T0, -1));      /* the last three words of page 0 */
    asm_emit(&b, XOR(A1, A1, A0));
    asm_emit(&b, ADDI(A3, A3, 7));
    asm_emit(&b, SLLI(T1, T0, 20));      /* page 1 */
    asm_emit(&b, OR(T1, T1, T2));
    asm_emit(&b, ADDI(A0, A0, 0));       /* rewritten to add t0 (smc) */
    asm_emit(&b, SLTIU(T3, T0, 50));     /* from the 11th round on (smc): */
    asm_emit(&b, SUB(T3, 0, T3));
    asm_emit(&b, AND(T3, T3, T5));
    asm_emit(&b, ADD(T3, T3, S0));       /* s1 (the code) instead of s0 */
    asm_emit(&b, SW(T1, smc ? T3 : S0, 0));
    asm_emit(&b, ADD(A4, A4, A0));
    asm_emit(&b, JAL(0, (int32_t)(back - asm_pc(&b))));
    uint32_t end = asm_pc(&b);
    asm_halt(&b);
    b.w[0] = JAL(0, (int32_t)(asm_pc(&b) - ASM_BASE));
    asm_emit(&b, JAL(0, (int32_t)(start - asm_pc(&b)))); /* hop */
    b.w[(to_top - ASM_BASE) / 4] = JAL(0, (int32_t)(top - to_top));
    b.w[(back - ASM_BASE) / 4] = BNE(T0, 0, (int32_t)(top - back));
    b.w[(to_end - ASM_BASE) / 4] = JAL(0, (int32_t)(end - to_end));
    vm_program *p = asm_program(&b);
    asm_free(&b);
    return p;
}

/* A chain across pages: the loop's taken branch goes to a block on the
 * next page that was not translated when the branch was; its jump is
 * re-pointed at that block's full entry, whose page test must still run
 * every round: from the 11th round on (`smc`) the loop rewrites an
 * instruction of that page, which is then the machine's own, and the old
 * translation must not run (caught when the chain goes to the inner
 * entry, past the test). */
static vm_program *chain_smc_then(unsigned smc)
{
    asm_buf b;
    memset(&b, 0, sizeof b);
    asm_li(&b, T0, 30);
    asm_li(&b, S1, ASM_BASE + VM_PAGE_BYTES);
    asm_li(&b, T2, ADDI(A0, A0, 100));
    uint32_t top = asm_pc(&b);
    asm_emit(&b, ADDI(T0, T0, -1));
    uint32_t to_q = asm_pc(&b);
    asm_emit(&b, 0);                  /* beq x0, x0, q */
    uint32_t back = asm_pc(&b);
    asm_emit(&b, SLTIU(T3, T0, smc ? 20 : 0)); /* 1 from the 11th round on (smc) */
    asm_emit(&b, BEQ(T3, 0, 8));
    asm_emit(&b, SW(T2, S1, 0));      /* rewrite q's first word */
    asm_emit(&b, ADD(A1, A1, A0));
    asm_emit(&b, BNE(T0, 0, (int32_t)(top - asm_pc(&b))));
    asm_halt(&b);
    while (asm_pc(&b) < ASM_BASE + VM_PAGE_BYTES)
        asm_emit(&b, EBREAK());
    uint32_t q = asm_pc(&b);          /* page 1 */
    asm_emit(&b, ADDI(A0, A0, 1));
    asm_emit(&b, JAL(0, (int32_t)(back - asm_pc(&b))));
    b.w[(to_q - ASM_BASE) / 4] = BEQ(0, 0, (int32_t)(q - to_q));
    vm_program *p = asm_program(&b);
    asm_free(&b);
    return p;
}

START_TEST(merged_blocks_jit_vs_interp)
{
    for (unsigned smc = 0; smc <= 1; smc++)
        program_vs_interp(merged_then(smc), 600, "merged blocks, smc", smc);
    for (unsigned smc = 0; smc <= 1; smc++)
        program_vs_interp(chain_smc_then(smc), 400, "chain across pages, smc", smc);
}
END_TEST

/* The default warm-up: a run shorter than VM_JIT_WARMUP never sets the
 * tier up; a longer one is interpreted up to it, then translated, with the
 * same results at every budget and stop point around the switch. */
START_TEST(warmup_then_translate)
{
    vm *vi = pair_new(0), *vj = pair_new(1), *vs = pair_new(1);
    vj->jit_warmup = vs->jit_warmup = VM_JIT_WARMUP;
    vm_program *shortp = loop_then(9), *longp = loop_n_then(30000, 9);
    ck_assert_ptr_nonnull(shortp);
    ck_assert_ptr_nonnull(longp);

    uint64_t exact = both(vi, vs, shortp, 200000, "warmup short", 0).cycles;
    ck_assert_uint_lt(exact, VM_JIT_WARMUP);
    ck_assert_ptr_null(vs->jit); /* no cache, no translation */

    const uint64_t big = UINT64_C(10000000);
    exact = both(vi, vj, longp, big, "warmup long", 0).cycles;
    ck_assert_uint_gt(exact, VM_JIT_WARMUP + 100000u);
    if (VM_JIT_HOST)
        ck_assert_ptr_nonnull(vj->jit); /* translated after the warm-up */
    for (uint64_t b = exact - 5; b <= exact + 1; b++)
        both(vi, vj, longp, b, "warmup long, budget", 0);
    for (uint64_t b = VM_JIT_WARMUP - 3; b <= VM_JIT_WARMUP + 3; b++)
        both(vi, vj, longp, b, "warmup edge, budget", 0);
    utxo_vm_result ri, rj;
    ck_assert_int_eq(vm_load(vi, longp, NULL, 0, NULL, big), UTXO_OK);
    ck_assert_int_eq(vm_load(vj, longp, NULL, 0, NULL, big), UTXO_OK);
    uint64_t at = VM_JIT_WARMUP - 2;
    int ci, cj;
    do {
        ci = vm_run_until(vi, at, &ri);
        cj = vm_run_until(vj, at, &rj);
        ck_assert_int_eq(ci, cj);
        same_state(vi, &ri, vj, &rj, "warmup split", 0, at);
        at += at < VM_JIT_WARMUP + 2 ? 1 : 100003;
    } while (ci == VM_RUN_PAUSED);
    vm_program_free(shortp);
    vm_program_free(longp);
    vm_free(vi);
    vm_free(vj);
    vm_free(vs);
}
END_TEST

/* Two blocks of 255 adds whose pcs are 64 KiB apart, so that they take
 * one entry of the tier's direct-mapped table, each jumping to the other:
 * without a bound, each jump evicted the other block and translated it
 * again (1e8 cycles took 161 s against 0.1 s interpreted). A run has at
 * most VM_JIT_CREDIT0 + cycles / VM_JIT_CREDIT instructions translated,
 * and the results are the interpreter's. */
START_TEST(colliding_blocks_translation_bounded)
{
    static uint32_t a[5], blk_a[256], b[256];
    const uint32_t pa = CODE_BASE + 0x400u, pb = pa + 0x10000u; /* 2^14 table entries */
    uint32_t n = 0;
    a[n++] = LUI(8, pa >> 12);
    a[n++] = ADDI(8, 8, (int32_t)(pa & 0xfffu));
    a[n++] = LUI(9, pb >> 12);
    a[n++] = ADDI(9, 9, (int32_t)(pb & 0xfffu));
    a[n++] = JALR(0, 8, 0);
    for (uint32_t k = 0; k < 255; k++) { /* 20 registers: allocation has work */
        uint32_t rd = 10 + k % 20, rs = 10 + (k * 7 + 3) % 20;
        blk_a[k] = b[k] = ADD(rd, rd, rs);
    }
    blk_a[255] = JALR(0, 9, 0);
    b[255] = JALR(0, 8, 0);
    vm_segment segs[3] = {{CODE_BASE, 5 * 4u, (const uint8_t *)a},
                          {pa, 256 * 4u, (const uint8_t *)blk_a},
                          {pb, 256 * 4u, (const uint8_t *)b}};
    vm_image img;
    memset(&img, 0, sizeof img);
    img.entry = CODE_BASE;
    img.n_segs = 3;
    img.segs = segs;
    vm_program *p = NULL;
    ck_assert_int_eq(vm_program_new(&p, &img), UTXO_OK);
    vm *vi = pair_new(0), *vj = pair_new(1);
    const uint64_t budget = 4000000;
    utxo_vm_result r = both(vi, vj, p, budget, "colliding blocks", 0);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_OUT_OF_CYCLES);
#if VM_JIT_HOST
    _Static_assert(VM_JIT_TAB_SIZE << 2 == 0x10000u, "pa and pb share a table entry");
    ck_assert_ptr_nonnull(vj->jit);
    ck_assert_uint_gt(vj->jit_insns, 0);
    ck_assert_uint_le(vj->jit_insns, VM_JIT_CREDIT0 + budget / VM_JIT_CREDIT + 256u);
#endif
    for (uint64_t bud = 1000000; bud <= 1000003; bud++)
        both(vi, vj, p, bud, "colliding blocks, budget", 0);
    vm_program_free(p);
    vm_free(vi);
    vm_free(vj);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("vm_jit");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 900);
    tcase_add_test(tc, random_programs_jit_vs_interp);
    tcase_add_test(tc, zero_operands_jit_vs_interp);
    tcase_add_test(tc, group_edges_jit_vs_interp);
    tcase_add_test(tc, programs_with_one_id_jit_vs_interp);
    tcase_add_test(tc, faults_at_every_kind_jit_vs_interp);
    tcase_add_test(tc, self_modifying_code_jit_vs_interp);
    tcase_add_test(tc, many_registers_jit_vs_interp);
    tcase_add_test(tc, rotates_jit_vs_interp);
    tcase_add_test(tc, merged_blocks_jit_vs_interp);
    tcase_add_test(tc, tiny_cache_jit_vs_interp);
    tcase_add_test(tc, warmup_then_translate);
    tcase_add_test(tc, colliding_blocks_translation_bounded);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
