/*
 * test_vm.c — the RV32IM instruction set of the predicate machine
 * (src/predicates/vm*.c), instruction by instruction, from the RISC-V
 * unprivileged specification: every ALU and M operation against a reference
 * written from the spec's text over edge operands, the spec's M-extension
 * corner cases as literal values, loads and stores (sign extension, byte
 * order, alignment, the null guard), branches (taken and not, signed and
 * unsigned, within a page and across pages), JAL/JALR links and targets, x0,
 * FENCE, EBREAK and a list of encodings that must be illegal.
 * Metering, memory, coherence and split runs are in test_vm_run.c.
 */
#include "config.h"

#include "testutil.h"
#include "vm_asm.h"
#include "predicates/vm_internal.h"

static vm *V;

static vm *the_vm(void)
{
    if (!V)
        V = asm_vm_new();
    ck_assert_ptr_nonnull(V);
    return V;
}

/* Runs the buffer (after appending a halt) and returns the result. */
static utxo_vm_result run_buf(asm_buf *b, uint64_t budget)
{
    utxo_vm_result r;
    vm_program *p;

    asm_halt(b);
    p = asm_program(b);
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(vm_run(the_vm(), p, NULL, 0, NULL, budget, &r), UTXO_OK);
    vm_program_free(p);
    return r;
}

/* ---- reference semantics, from the specification's prose ------------- */
static uint32_t ref_op(int op, uint32_t a, uint32_t b)
{
    int32_t sa = (int32_t)a, sb = (int32_t)b;
    uint32_t sh = b & 31u;
    switch (op) {
    case 0: return a + b;                                 /* ADD */
    case 1: return a - b;                                 /* SUB */
    case 2: return a << sh;                               /* SLL: low 5 bits of rs2 */
    case 3: return sa < sb;                               /* SLT */
    case 4: return a < b;                                 /* SLTU */
    case 5: return a ^ b;                                 /* XOR */
    case 6: return a >> sh;                               /* SRL */
    case 7: /* SRA: copies of the sign bit shifted in */
        return sh == 0 ? a : (a >> sh) | ((a & 0x80000000u) ? ~(0xFFFFFFFFu >> sh) : 0u);
    case 8: return a | b;                                 /* OR */
    case 9: return a & b;                                 /* AND */
    case 10: return (uint32_t)((uint64_t)a * b);         /* MUL */
    case 11: case 12: case 13: {
        /* MULH, MULHSU, MULHU: the upper word of the 64-bit product of the
         * operands read as signed/unsigned: build it from the unsigned
         * product and subtract the sign corrections (two's complement). */
        uint64_t p = (uint64_t)a * (uint64_t)b;
        uint32_t hi = (uint32_t)(p >> 32);
        int a_signed = op == 11 || op == 12, b_signed = op == 11;
        if (a_signed && (a >> 31))
            hi -= b;
        if (b_signed && (b >> 31))
            hi -= a;
        return hi;
    }
    case 14: /* DIV: rounds toward zero; /0 = -1; overflow = dividend */
        if (b == 0) return 0xFFFFFFFFu;
        if (a == 0x80000000u && b == 0xFFFFFFFFu) return a;
        {
            uint32_t ua = (sa < 0) ? 0u - a : a, ub = (sb < 0) ? 0u - b : b;
            uint32_t q = ua / ub;
            return ((sa < 0) != (sb < 0)) ? 0u - q : q;
        }
    case 15: return b == 0 ? 0xFFFFFFFFu : a / b;        /* DIVU */
    case 16: /* REM: sign of the dividend; %0 = dividend; overflow = 0 */
        if (b == 0) return a;
        if (a == 0x80000000u && b == 0xFFFFFFFFu) return 0;
        {
            uint32_t ua = (sa < 0) ? 0u - a : a, ub = (sb < 0) ? 0u - b : b;
            uint32_t r = ua % ub;
            return sa < 0 ? 0u - r : r;
        }
    case 17: return b == 0 ? a : a % b;                   /* REMU */
    }
    ck_abort_msg("bad op");
    return 0;
}

static uint32_t (*const r_enc[18])(uint32_t, uint32_t, uint32_t) = {
    ADD, SUB, SLL, SLT, SLTU, XOR, SRL, SRA, OR, AND,
    MUL, MULH, MULHSU, MULHU, DIV, DIVU, REM, REMU};
static const char *const r_name[18] = {
    "add", "sub", "sll", "slt", "sltu", "xor", "srl", "sra", "or", "and",
    "mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"};

static const uint32_t edge[] = {0, 1, 2, 3, 7, 31, 32, 33, 0x7FF, 0x800, 0xFFFF, 0x12345678,
                                0x7FFFFFFF, 0x80000000u, 0x80000001u, 0xFFFFFFFEu,
                                0xFFFFFFFFu, 0xDEADBEEFu};
#define N_EDGE (sizeof edge / sizeof edge[0])

/* Every register-register op over every pair of edge operands, with the
 * operands in different registers and also with rd == rs1 == rs2 shapes. */
START_TEST(alu_register_ops)
{
    for (int op = 0; op < 18; op++) {
        for (size_t i = 0; i < N_EDGE; i++) {
            for (size_t j = 0; j < N_EDGE; j++) {
                asm_buf b = {0};
                asm_li(&b, T1, edge[i]);
                asm_li(&b, T2, edge[j]);
                asm_emit(&b, r_enc[op](S2, T1, T2));
                asm_emit(&b, r_enc[op](T1, T1, T2)); /* rd == rs1 */
                asm_li(&b, T3, edge[i]);
                asm_emit(&b, r_enc[op](T4, T3, T3)); /* rs1 == rs2 */
                utxo_vm_result r = run_buf(&b, 1000);
                ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
                uint32_t want = ref_op(op, edge[i], edge[j]);
                ck_assert_msg(vm_reg(V, S2) == want, "%s(%#x, %#x) = %#x, want %#x",
                              r_name[op], edge[i], edge[j], vm_reg(V, S2), want);
                ck_assert_uint_eq(vm_reg(V, T1), want);
                ck_assert_uint_eq(vm_reg(V, T4), ref_op(op, edge[i], edge[i]));
                asm_free(&b);
            }
        }
    }
}
END_TEST

/* The M extension's table of special cases (spec section "Division
 * Operations") and product high words, as literal values. */
START_TEST(m_extension_corners)
{
    static const struct { int op; uint32_t a, b, want; } t[] = {
        {14, 7, 0, 0xFFFFFFFFu},           /* DIV x/0 = -1 */
        {14, 0x80000000u, 0, 0xFFFFFFFFu},
        {15, 7, 0, 0xFFFFFFFFu},           /* DIVU x/0 = 2^32-1 */
        {16, 7, 0, 7},                     /* REM x%0 = x */
        {16, 0xFFFFFFF9u, 0, 0xFFFFFFF9u},
        {17, 7, 0, 7},                     /* REMU x%0 = x */
        {14, 0x80000000u, 0xFFFFFFFFu, 0x80000000u}, /* DIV overflow */
        {16, 0x80000000u, 0xFFFFFFFFu, 0},           /* REM overflow */
        {14, 0xFFFFFFF9u, 2, 0xFFFFFFFDu}, /* -7/2 = -3 (toward zero) */
        {16, 0xFFFFFFF9u, 2, 0xFFFFFFFFu}, /* -7%2 = -1 (sign of dividend) */
        {14, 7, 0xFFFFFFFEu, 0xFFFFFFFDu}, /* 7/-2 = -3 */
        {16, 7, 0xFFFFFFFEu, 1},           /* 7%-2 = 1 */
        {15, 0xFFFFFFF9u, 2, 0x7FFFFFFCu},
        {17, 0xFFFFFFF9u, 2, 1},
        {11, 0x80000000u, 0x80000000u, 0x40000000u}, /* MULH (-2^31)^2 */
        {11, 0xFFFFFFFFu, 0xFFFFFFFFu, 0},           /* MULH -1*-1 = 1 */
        {11, 0xFFFFFFFFu, 1, 0xFFFFFFFFu},           /* MULH -1*1 = -1 */
        {13, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFEu}, /* MULHU */
        {12, 0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, /* MULHSU -1*(2^32-1) */
        {12, 0x80000000u, 0xFFFFFFFFu, 0x80000000u}, /* -2^31*(2^32-1) */
        {12, 2, 0x80000000u, 1},                     /* 2*2^31 = 2^32 */
        {12, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x7FFFFFFEu},
        {10, 0xFFFFFFFFu, 0xFFFFFFFFu, 1},           /* MUL low word */
        {10, 0x10000u, 0x10000u, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        asm_buf b = {0};
        asm_li(&b, A2, t[i].a);
        asm_li(&b, A3, t[i].b);
        asm_emit(&b, r_enc[t[i].op](A4, A2, A3));
        run_buf(&b, 100);
        ck_assert_msg(vm_reg(V, A4) == t[i].want, "%s(%#x, %#x) = %#x, want %#x",
                      r_name[t[i].op], t[i].a, t[i].b, vm_reg(V, A4), t[i].want);
        ck_assert_uint_eq(ref_op(t[i].op, t[i].a, t[i].b), t[i].want);
        asm_free(&b);
    }
}
END_TEST

START_TEST(alu_immediate_ops)
{
    static const int32_t imms[] = {0, 1, -1, 2, 5, 0x7FF, -0x800, 0x555, -0x556, 31};
    for (size_t i = 0; i < N_EDGE; i++) {
        for (size_t j = 0; j < sizeof imms / sizeof imms[0]; j++) {
            uint32_t a = edge[i];
            int32_t k = imms[j];
            asm_buf b = {0};
            asm_li(&b, T0, a);
            asm_emit(&b, ADDI(S2, T0, k));
            asm_emit(&b, SLTI(S3, T0, k));
            asm_emit(&b, SLTIU(A2, T0, k));
            asm_emit(&b, XORI(A3, T0, k));
            asm_emit(&b, ORI(A4, T0, k));
            asm_emit(&b, ANDI(A5, T0, k));
            run_buf(&b, 100);
            uint32_t ku = (uint32_t)k; /* sign-extended immediate */
            ck_assert_uint_eq(vm_reg(V, S2), a + ku);
            ck_assert_uint_eq(vm_reg(V, S3), (int32_t)a < k);
            ck_assert_uint_eq(vm_reg(V, A2), a < ku); /* SLTIU compares with sext(imm) */
            ck_assert_uint_eq(vm_reg(V, A3), a ^ ku);
            ck_assert_uint_eq(vm_reg(V, A4), a | ku);
            ck_assert_uint_eq(vm_reg(V, A5), a & ku);
            asm_free(&b);
        }
        for (uint32_t sh = 0; sh < 32; sh++) {
            asm_buf b = {0};
            asm_li(&b, T0, edge[i]);
            asm_emit(&b, SLLI(S2, T0, sh));
            asm_emit(&b, SRLI(S3, T0, sh));
            asm_emit(&b, SRAI(A2, T0, sh));
            run_buf(&b, 100);
            ck_assert_uint_eq(vm_reg(V, S2), ref_op(2, edge[i], sh));
            ck_assert_uint_eq(vm_reg(V, S3), ref_op(6, edge[i], sh));
            ck_assert_uint_eq(vm_reg(V, A2), ref_op(7, edge[i], sh));
            asm_free(&b);
        }
    }
    /* SEQZ / NOT / MV idioms. */
    asm_buf b = {0};
    asm_emit(&b, SLTIU(S2, ZERO, 1));     /* seqz of 0 */
    asm_emit(&b, XORI(S3, ZERO, -1));     /* not 0 */
    run_buf(&b, 100);
    ck_assert_uint_eq(vm_reg(V, S2), 1);
    ck_assert_uint_eq(vm_reg(V, S3), 0xFFFFFFFFu);
    asm_free(&b);
}
END_TEST

START_TEST(lui_auipc)
{
    asm_buf b = {0};
    asm_emit(&b, LUI(S2, 0xFFFFF));
    asm_emit(&b, LUI(S3, 0x12345));
    asm_emit(&b, AUIPC(A2, 0));            /* pc of this instruction */
    asm_emit(&b, AUIPC(A3, 0xFFFFF));      /* pc - 4096 */
    asm_emit(&b, AUIPC(A4, 0x80000));      /* pc + 2^31 (wraps) */
    run_buf(&b, 100);
    ck_assert_uint_eq(vm_reg(V, S2), 0xFFFFF000u);
    ck_assert_uint_eq(vm_reg(V, S3), 0x12345000u);
    ck_assert_uint_eq(vm_reg(V, A2), ASM_BASE + 8);
    ck_assert_uint_eq(vm_reg(V, A3), ASM_BASE + 12 - 4096);
    ck_assert_uint_eq(vm_reg(V, A4), ASM_BASE + 16 + 0x80000000u);
    asm_free(&b);
}
END_TEST

START_TEST(loads_and_stores)
{
    const uint32_t d = 0x00300000u; /* a data page nobody touched yet */
    asm_buf b = {0};
    asm_li(&b, S0, d);
    asm_li(&b, T0, 0x8899AABBu);
    asm_emit(&b, SW(T0, S0, 0));
    asm_emit(&b, LB(S2, S0, 0));   /* 0xBB -> sign-extended */
    asm_emit(&b, LBU(S3, S0, 0));
    asm_emit(&b, LB(A2, S0, 3));   /* 0x88 */
    asm_emit(&b, LH(A3, S0, 2));   /* 0x8899 */
    asm_emit(&b, LHU(A4, S0, 2));
    asm_emit(&b, LW(A5, S0, 0));
    asm_li(&b, T1, 0x1234567Fu);
    asm_emit(&b, SB(T1, S0, 4));   /* stores take the low bits of rs2 */
    asm_emit(&b, SH(T1, S0, 6));
    asm_emit(&b, LW(A6, S0, 4));
    asm_emit(&b, LB(T3, S0, 4));   /* 0x7F: positive */
    asm_emit(&b, LW(T4, S0, 8));   /* never written: zero */
    asm_emit(&b, ADDI(S1, S0, 2047));
    asm_emit(&b, LBU(T5, S1, -2047)); /* negative offsets */
    asm_emit(&b, SW(T0, S0, -4));  /* previous page, fresh */
    asm_emit(&b, LW(T6, S0, -4));
    utxo_vm_result r = run_buf(&b, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(V, S2), 0xFFFFFFBBu);
    ck_assert_uint_eq(vm_reg(V, S3), 0xBBu);
    ck_assert_uint_eq(vm_reg(V, A2), 0xFFFFFF88u);
    ck_assert_uint_eq(vm_reg(V, A3), 0xFFFF8899u);
    ck_assert_uint_eq(vm_reg(V, A4), 0x8899u);
    ck_assert_uint_eq(vm_reg(V, A5), 0x8899AABBu);
    ck_assert_uint_eq(vm_reg(V, A6), 0x567F007Fu);
    ck_assert_uint_eq(vm_reg(V, T3), 0x7Fu);
    ck_assert_uint_eq(vm_reg(V, T4), 0);
    ck_assert_uint_eq(vm_reg(V, T5), 0xBBu);
    ck_assert_uint_eq(vm_reg(V, T6), 0x8899AABBu);
    /* Little-endian in memory, as the host sees it. */
    uint8_t mem[4];
    ck_assert_int_eq(vm_mem_read(V, d, mem, 4), 0);
    ck_assert_uint_eq(mem[0], 0xBB);
    ck_assert_uint_eq(mem[3], 0x88);
    asm_free(&b);
}
END_TEST

/* Misaligned halfword/word accesses fail (docs/VM.md: the rule is "fail"),
 * as does any access below VM_LOW_UNMAPPED; the pc is the faulting one. */
START_TEST(bad_accesses)
{
    static const struct { uint32_t addr; int kind; } t[] = {
        {0x00300001u, 1}, {0x00300002u, 2}, {0x00300003u, 2}, {0x00300001u, 3},
        {0x00300003u, 4}, {0x00300001u, 5}, {0x00300002u, 6},
        {0x00000000u, 0}, {0x0000FFFCu, 2}, {0x0000FFFFu, 7}, {0x00000010u, 5},
        {0xFFFFFFFFu, 2}, {0xFFFFFFFEu, 6},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        asm_buf b = {0};
        asm_li(&b, S0, t[i].addr);
        uint32_t at = asm_pc(&b);
        switch (t[i].kind) {
        case 0: asm_emit(&b, LB(S2, S0, 0)); break;
        case 1: asm_emit(&b, LH(S2, S0, 0)); break;
        case 2: asm_emit(&b, LW(S2, S0, 0)); break;
        case 3: asm_emit(&b, LHU(S2, S0, 0)); break;
        case 4: asm_emit(&b, SH(S2, S0, 0)); break;
        case 5: asm_emit(&b, SW(S2, S0, 0)); break;
        case 6: asm_emit(&b, SW(S2, S0, 0)); break;
        case 7: asm_emit(&b, SB(S2, S0, 0)); break;
        }
        asm_emit(&b, ADDI(A0, ZERO, 0));
        utxo_vm_result r = run_buf(&b, 1000);
        ck_assert_msg(r.status == UTXO_VM_FAILED && r.fail == UTXO_VM_FAIL_BAD_ACCESS,
                      "case %zu: status %d fail %d", i, r.status, r.fail);
        ck_assert_uint_eq(r.pc, at);
        ck_assert_uint_eq(r.cycles, 3); /* li (2) + the faulting access */
        asm_free(&b);
    }
    /* The top of the address space is fine when aligned. */
    asm_buf b = {0};
    asm_li(&b, S0, 0xFFFFFFFCu);
    asm_li(&b, T0, 0xCAFEF00Du);
    asm_emit(&b, SW(T0, S0, 0));
    asm_emit(&b, LW(S2, S0, 0));
    asm_emit(&b, LBU(S3, S0, 3));
    utxo_vm_result r = run_buf(&b, 1000);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(V, S2), 0xCAFEF00Du);
    ck_assert_uint_eq(vm_reg(V, S3), 0xCAu);
    asm_free(&b);
}
END_TEST

/* Each branch taken and not taken, signed vs unsigned orders. */
START_TEST(branches)
{
    static const struct { uint32_t a, b; } pairs[] = {
        {0, 0}, {1, 2}, {2, 1}, {0xFFFFFFFFu, 1}, {1, 0xFFFFFFFFu},
        {0x80000000u, 0x7FFFFFFFu}, {0x7FFFFFFFu, 0x80000000u}, {5, 5}};
    uint32_t (*const enc[6])(uint32_t, uint32_t, int32_t) = {BEQ, BNE, BLT, BGE, BLTU, BGEU};
    for (int k = 0; k < 6; k++) {
        for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
            uint32_t a = pairs[i].a, c = pairs[i].b;
            int want;
            switch (k) {
            case 0: want = a == c; break;
            case 1: want = a != c; break;
            case 2: want = (int32_t)a < (int32_t)c; break;
            case 3: want = (int32_t)a >= (int32_t)c; break;
            case 4: want = a < c; break;
            default: want = a >= c; break;
            }
            /* forward: skip one instruction that sets S2 */
            asm_buf b = {0};
            asm_li(&b, T0, a);
            asm_li(&b, T1, c);
            asm_emit(&b, enc[k](T0, T1, 8));
            asm_emit(&b, ADDI(S2, ZERO, 1));     /* not-taken path */
            run_buf(&b, 100);
            ck_assert_msg(vm_reg(V, S2) == (uint32_t)!want, "op %d %#x %#x", k, a, c);
            asm_free(&b);
            /* backward: a taken branch jumps back over the exit once */
            b = (asm_buf){0};
            asm_li(&b, T0, a);
            asm_li(&b, T1, c);
            asm_emit(&b, JAL(ZERO, 12));         /* to the branch */
            asm_emit(&b, ADDI(S2, ZERO, 7));     /* target of the branch */
            asm_emit(&b, JAL(ZERO, 8));          /* to the exit */
            asm_emit(&b, enc[k](T0, T1, -8));
            run_buf(&b, 100);
            ck_assert_uint_eq(vm_reg(V, S2), want ? 7u : 0u);
            asm_free(&b);
        }
    }
}
END_TEST

/* Branches and jumps whose target is on another page. */
START_TEST(far_control_transfers)
{
    asm_buf b = {0};
    /* page 0: branch forward 2 KiB, to page 2 */
    asm_emit(&b, ADDI(T0, ZERO, 1));
    asm_emit(&b, BNE(T0, ZERO, 2048 - 4));
    while (b.n < 512)
        asm_emit(&b, EBREAK());
    /* page 2 (slot 512): jal back to page 1, slot 300 */
    asm_emit(&b, ADDI(S2, S2, 1));
    asm_emit(&b, JAL(RA, (300 - 513) * 4));
    while (b.n < 600)
        asm_emit(&b, EBREAK());
    asm_emit(&b, ADDI(S3, S3, 1)); /* slot 600: return point */
    asm_halt(&b);
    while (b.n < 300)
        asm_emit(&b, EBREAK());
    b.w[300] = ADDI(A2, RA, 0);            /* link = address of slot 514 */
    b.w[301] = JALR(ZERO, RA, (600 - 514) * 4 + 1); /* bit 0 is cleared */
    vm_program *p = asm_program(&b);
    utxo_vm_result r;
    ck_assert_int_eq(vm_run(the_vm(), p, NULL, 0, NULL, 1000, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(V, S2), 1);
    ck_assert_uint_eq(vm_reg(V, S3), 1);
    ck_assert_uint_eq(vm_reg(V, A2), ASM_BASE + 514 * 4);
    ck_assert_uint_eq(r.cycles, 2 + 2 + 2 + 1 + 2 + UTXO_COST_HOSTCALL);
    vm_program_free(p);
    asm_free(&b);
}
END_TEST

START_TEST(jal_jalr)
{
    asm_buf b = {0};
    asm_emit(&b, JAL(RA, 8));              /* 0: ra = base + 4 */
    asm_emit(&b, EBREAK());
    asm_emit(&b, AUIPC(T0, 0));            /* 8 */
    asm_emit(&b, JALR(T0, T0, 12));        /* 12: rd == rs1: target uses old t0 */
    asm_emit(&b, EBREAK());
    asm_emit(&b, JAL(ZERO, 4));            /* 20: rd = x0, no link */
    asm_emit(&b, ADDI(S2, ZERO, 9));       /* 24 */
    run_buf(&b, 100);
    ck_assert_uint_eq(vm_reg(V, RA), ASM_BASE + 4);
    ck_assert_uint_eq(vm_reg(V, T0), ASM_BASE + 16);
    ck_assert_uint_eq(vm_reg(V, S2), 9);
    ck_assert_uint_eq(vm_reg(V, ZERO), 0);
    asm_free(&b);

    /* JALR to a target with bit 1 set: instruction-address-misaligned. */
    b = (asm_buf){0};
    asm_li(&b, T0, ASM_BASE + 2);
    asm_emit(&b, JALR(RA, T0, 0));
    utxo_vm_result r = run_buf(&b, 100);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_FETCH);
    ck_assert_uint_eq(r.pc, ASM_BASE + 2);
    ck_assert_uint_eq(r.cycles, 3);
    asm_free(&b);

    /* A branch with a 2-byte offset (legal encoding, misaligned target). */
    b = (asm_buf){0};
    asm_emit(&b, BEQ(ZERO, ZERO, 6));
    r = run_buf(&b, 100);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_FETCH);
    ck_assert_uint_eq(r.pc, ASM_BASE + 6);
    asm_free(&b);
}
END_TEST

/* Writes to x0 are ignored; reads give 0. A load into x0 still faults. */
START_TEST(x0_is_zero)
{
    asm_buf b = {0};
    asm_emit(&b, ADDI(ZERO, ZERO, 5));
    asm_emit(&b, LUI(ZERO, 0x12345));
    asm_emit(&b, AUIPC(ZERO, 1));
    asm_emit(&b, JAL(ZERO, 4));
    asm_li(&b, T0, 0x00300000u);
    asm_emit(&b, SW(T0, T0, 0));
    asm_emit(&b, LW(ZERO, T0, 0));
    asm_emit(&b, MUL(ZERO, T0, T0));
    asm_emit(&b, ADD(S2, ZERO, ZERO));
    asm_emit(&b, ADDI(S3, ZERO, 0));
    run_buf(&b, 100);
    ck_assert_uint_eq(vm_reg(V, ZERO), 0);
    ck_assert_uint_eq(vm_reg(V, S2), 0);
    ck_assert_uint_eq(vm_reg(V, S3), 0);
    vm_set_reg(V, 0, 77);
    ck_assert_uint_eq(vm_reg(V, 0), 0);
    asm_free(&b);

    b = (asm_buf){0};
    asm_emit(&b, LW(ZERO, ZERO, 0));
    utxo_vm_result r = run_buf(&b, 100);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_ACCESS);
    asm_free(&b);
}
END_TEST

START_TEST(fence_ebreak)
{
    asm_buf b = {0};
    asm_emit(&b, FENCE());
    asm_emit(&b, 0x8330000Fu); /* FENCE.TSO */
    asm_emit(&b, 0x0000000Fu); /* FENCE with every field 0 */
    asm_emit(&b, 0xFFFF8F8Fu); /* FENCE with rd, rs1, fm all ones: still FENCE */
    asm_emit(&b, FENCE_I());
    asm_emit(&b, 0xFFFF9F8Fu); /* FENCE.I with its reserved fields set */
    asm_emit(&b, ADDI(S2, ZERO, 3));
    utxo_vm_result r = run_buf(&b, 100);
    ck_assert_int_eq(r.status, UTXO_VM_ACCEPTED);
    ck_assert_uint_eq(vm_reg(V, S2), 3);
    ck_assert_uint_eq(r.cycles, 7 + 2 + UTXO_COST_HOSTCALL);
    asm_free(&b);

    b = (asm_buf){0};
    asm_emit(&b, ADDI(S2, ZERO, 3));
    asm_emit(&b, EBREAK());
    r = run_buf(&b, 100);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_EBREAK);
    ck_assert_uint_eq(r.pc, ASM_BASE + 4);
    ck_assert_uint_eq(r.cycles, 2);
    asm_free(&b);
}
END_TEST

/* Encodings outside RV32IM: each fails ILLEGAL at its own pc. */
START_TEST(illegal_encodings)
{
    static const uint32_t bad[] = {
        0x00000000u,            /* all zero: defined illegal */
        0xFFFFFFFFu,            /* all ones */
        0x00004501u,            /* c.li a0, 0 (compressed) */
        0x00000001u,            /* c.nop */
        0x34011173u,            /* csrrw sp, mscratch, sp */
        0xC0002573u,            /* rdcycle a0 (csrrs) */
        0x30200073u,            /* mret */
        0x10500073u,            /* wfi */
        0x00001073u,            /* csrrw zero, 0, zero */
        0x00200073u,            /* uret/other imm */
        0x000000F3u,            /* ecall with rd != 0 */
        0x100525AFu,            /* lr.w a1, (a0) (A) */
        0x00052507u,            /* flw (F) */
        0x00B50553u,            /* fadd.s (F) */
        0x02051513u,            /* slli a0, a0, 32 (shamt[5] set: reserved) */
        0x42055513u,            /* srai with imm[10] = 0 but bit 30..25 = 0100001 */
        0x40051513u,            /* slli with funct7 0100000 */
        0x04B50533u,            /* funct7 0000010 add */
        0x40B51533u,            /* sub-like funct7 on sll */
        0x40B57533u,            /* funct7 0100000 on and */
        0x00053503u,            /* ld (RV64) funct3 3 */
        0x00056503u,            /* lwu (RV64) funct3 6 */
        0x00A53023u,            /* sd (RV64) funct3 3 */
        0x00A52063u | (2u << 12), /* branch funct3 2 */
        0x00A53063u,            /* branch funct3 3 */
        0x00051567u,            /* jalr funct3 1 */
        0x0000200Fu,            /* misc-mem funct3 2 */
        0x0000001Bu,            /* addiw (RV64 OP-IMM-32) */
        0x0000003Bu,            /* addw (RV64 OP-32) */
        0x0000007Fu,            /* reserved major opcode (>32-bit form) */
        0x0000005Bu,            /* custom-2 */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        asm_buf b = {0};
        asm_emit(&b, ADDI(S2, ZERO, 1));
        asm_emit(&b, bad[i]);
        utxo_vm_result r = run_buf(&b, 100);
        ck_assert_msg(r.status == UTXO_VM_FAILED && r.fail == UTXO_VM_FAIL_ILLEGAL,
                      "word %#x: status %d fail %d", bad[i], r.status, r.fail);
        ck_assert_uint_eq(r.pc, ASM_BASE + 4);
        ck_assert_uint_eq(r.cycles, 2);
        asm_free(&b);
    }
}
END_TEST

/* The decoder against an independent mask/match table of every RV32IM
 * (+ FENCE, FENCE.I, ECALL, EBREAK) encoding, in the style of the
 * riscv-opcodes tables: a word is legal exactly when one entry matches,
 * and then it decodes to that entry's operation family. Random words,
 * biased so that about half hit a legal major opcode. */
struct enc_entry {
    uint32_t mask, match;
    uint8_t op, op_far; /* expected decoded op (far variant for jumps/branches) */
};

static const struct enc_entry rv32im[] = {
    {0x0000007fu, 0x00000037u, VM_OP_LI, VM_OP_LI},          /* lui */
    {0x0000007fu, 0x00000017u, VM_OP_LI, VM_OP_LI},          /* auipc */
    {0x0000007fu, 0x0000006fu, VM_OP_JAL, VM_OP_JAL_FAR},    /* jal */
    {0x0000707fu, 0x00000067u, VM_OP_JALR, VM_OP_JALR},      /* jalr */
    {0x0000707fu, 0x00000063u, VM_OP_BEQ, VM_OP_BEQ_FAR},
    {0x0000707fu, 0x00001063u, VM_OP_BNE, VM_OP_BNE_FAR},
    {0x0000707fu, 0x00004063u, VM_OP_BLT, VM_OP_BLT_FAR},
    {0x0000707fu, 0x00005063u, VM_OP_BGE, VM_OP_BGE_FAR},
    {0x0000707fu, 0x00006063u, VM_OP_BLTU, VM_OP_BLTU_FAR},
    {0x0000707fu, 0x00007063u, VM_OP_BGEU, VM_OP_BGEU_FAR},
    {0x0000707fu, 0x00000003u, VM_OP_LB, VM_OP_LB},
    {0x0000707fu, 0x00001003u, VM_OP_LH, VM_OP_LH},
    {0x0000707fu, 0x00002003u, VM_OP_LW, VM_OP_LW},
    {0x0000707fu, 0x00004003u, VM_OP_LBU, VM_OP_LBU},
    {0x0000707fu, 0x00005003u, VM_OP_LHU, VM_OP_LHU},
    {0x0000707fu, 0x00000023u, VM_OP_SB, VM_OP_SB},
    {0x0000707fu, 0x00001023u, VM_OP_SH, VM_OP_SH},
    {0x0000707fu, 0x00002023u, VM_OP_SW, VM_OP_SW},
    {0x0000707fu, 0x00000013u, VM_OP_ADDI, VM_OP_ADDI},
    {0x0000707fu, 0x00002013u, VM_OP_SLTI, VM_OP_SLTI},
    {0x0000707fu, 0x00003013u, VM_OP_SLTIU, VM_OP_SLTIU},
    {0x0000707fu, 0x00004013u, VM_OP_XORI, VM_OP_XORI},
    {0x0000707fu, 0x00006013u, VM_OP_ORI, VM_OP_ORI},
    {0x0000707fu, 0x00007013u, VM_OP_ANDI, VM_OP_ANDI},
    {0xfe00707fu, 0x00001013u, VM_OP_SLLI, VM_OP_SLLI},
    {0xfe00707fu, 0x00005013u, VM_OP_SRLI, VM_OP_SRLI},
    {0xfe00707fu, 0x40005013u, VM_OP_SRAI, VM_OP_SRAI},
    {0xfe00707fu, 0x00000033u, VM_OP_ADD, VM_OP_ADD},
    {0xfe00707fu, 0x40000033u, VM_OP_SUB, VM_OP_SUB},
    {0xfe00707fu, 0x00001033u, VM_OP_SLL, VM_OP_SLL},
    {0xfe00707fu, 0x00002033u, VM_OP_SLT, VM_OP_SLT},
    {0xfe00707fu, 0x00003033u, VM_OP_SLTU, VM_OP_SLTU},
    {0xfe00707fu, 0x00004033u, VM_OP_XOR, VM_OP_XOR},
    {0xfe00707fu, 0x00005033u, VM_OP_SRL, VM_OP_SRL},
    {0xfe00707fu, 0x40005033u, VM_OP_SRA, VM_OP_SRA},
    {0xfe00707fu, 0x00006033u, VM_OP_OR, VM_OP_OR},
    {0xfe00707fu, 0x00007033u, VM_OP_AND, VM_OP_AND},
    {0xfe00707fu, 0x02000033u, VM_OP_MUL, VM_OP_MUL},
    {0xfe00707fu, 0x02001033u, VM_OP_MULH, VM_OP_MULH},
    {0xfe00707fu, 0x02002033u, VM_OP_MULHSU, VM_OP_MULHSU},
    {0xfe00707fu, 0x02003033u, VM_OP_MULHU, VM_OP_MULHU},
    {0xfe00707fu, 0x02004033u, VM_OP_DIV, VM_OP_DIV},
    {0xfe00707fu, 0x02005033u, VM_OP_DIVU, VM_OP_DIVU},
    {0xfe00707fu, 0x02006033u, VM_OP_REM, VM_OP_REM},
    {0xfe00707fu, 0x02007033u, VM_OP_REMU, VM_OP_REMU},
    {0x0000707fu, 0x0000000fu, VM_OP_FENCE, VM_OP_FENCE},
    {0x0000707fu, 0x0000100fu, VM_OP_FENCE_I, VM_OP_FENCE_I},
    {0xffffffffu, 0x00000073u, VM_OP_ECALL, VM_OP_ECALL},
    {0xffffffffu, 0x00100073u, VM_OP_EBREAK, VM_OP_EBREAK},
};

START_TEST(decoder_matches_encoding_table)
{
    static const uint8_t majors[] = {0x03, 0x0f, 0x13, 0x17, 0x23, 0x33, 0x37,
                                     0x63, 0x67, 0x6f, 0x73};
    static const uint32_t f7s[] = {0x00, 0x20, 0x01, 0x21, 0x02, 0x40, 0x7f};
    static vm_dpage d;
    uint8_t page[VM_PAGE_BYTES];
    uint64_t s = 77;
    size_t legal = 0;

    for (int round = 0; round < 2000; round++) {
        for (unsigned i = 0; i < VM_PAGE_INSNS; i++) {
            uint32_t w = (uint32_t)rng_next(&s);
            switch (rng_next(&s) % 4) {
            case 0: break;                                            /* any word */
            case 1: w = (w & ~0x7fu) | majors[rng_next(&s) % sizeof majors]; break;
            case 2: w = (w & 0x01ffff80u) | majors[rng_next(&s) % sizeof majors] |
                        f7s[rng_next(&s) % 7] << 25; break;
            default: /* near-misses of system words */
                w = (rng_next(&s) & 1) ? (0x00000073u | (1u << (rng_next(&s) % 32)))
                                       : (0x00100073u ^ (1u << (rng_next(&s) % 32)));
                break;
            }
            page[4 * i] = (uint8_t)w;
            page[4 * i + 1] = (uint8_t)(w >> 8);
            page[4 * i + 2] = (uint8_t)(w >> 16);
            page[4 * i + 3] = (uint8_t)(w >> 24);
        }
        vm_decode_page(&d, 0x00020000u, page);
        for (unsigned i = 0; i < VM_PAGE_INSNS; i++) {
            uint32_t w = vm_le32(page + 4 * i);
            const struct enc_entry *hit = NULL;
            int hits = 0;
            for (size_t k = 0; k < sizeof rv32im / sizeof rv32im[0]; k++)
                if ((w & rv32im[k].mask) == rv32im[k].match) {
                    hit = &rv32im[k];
                    hits++;
                }
            ck_assert_int_le(hits, 1);
            uint8_t op = d.ins[i].op;
            if (!hit) {
                ck_assert_msg(op == VM_OP_ILLEGAL, "word %#010x decoded as op %u", w, op);
                continue;
            }
            legal++;
            ck_assert_msg(op == hit->op || op == hit->op_far,
                          "word %#010x: op %u, want %u", w, op, hit->op);
            ck_assert_uint_eq(d.ins[i].pc, 0x00020000u + 4 * i);
            ck_assert_uint_ne(d.ins[i].rd, 0); /* x0 writes go to the sink */
        }
    }
    ck_assert_uint_gt(legal, 120000); /* the bias reached the legal space */
}
END_TEST

/* Unknown host calls fail the run; the ECALL itself counts one cycle. */
START_TEST(bad_hostcall)
{
    asm_buf b = {0};
    asm_emit(&b, ADDI(A7, ZERO, 999));
    asm_emit(&b, ECALL());
    vm_program *p = asm_program(&b);
    utxo_vm_result r;
    ck_assert_int_eq(vm_run(the_vm(), p, NULL, 0, NULL, 100, &r), UTXO_OK);
    ck_assert_int_eq(r.status, UTXO_VM_FAILED);
    ck_assert_int_eq(r.fail, UTXO_VM_FAIL_BAD_HOSTCALL);
    ck_assert_uint_eq(r.pc, ASM_BASE + 4);
    vm_program_free(p);
    asm_free(&b);
    ck_assert_str_eq(utxo_vm_fail_str(UTXO_VM_FAIL_BAD_FETCH), "bad instruction fetch");
    ck_assert_str_eq(utxo_vm_fail_str(12345), "unknown failure");
}
END_TEST

static Suite *vm_suite(void)
{
    Suite *s = suite_create("vm_isa");
    TCase *tc = tcase_create("isa");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, alu_register_ops);
    tcase_add_test(tc, m_extension_corners);
    tcase_add_test(tc, alu_immediate_ops);
    tcase_add_test(tc, lui_auipc);
    tcase_add_test(tc, loads_and_stores);
    tcase_add_test(tc, bad_accesses);
    tcase_add_test(tc, branches);
    tcase_add_test(tc, far_control_transfers);
    tcase_add_test(tc, jal_jalr);
    tcase_add_test(tc, x0_is_zero);
    tcase_add_test(tc, fence_ebreak);
    tcase_add_test(tc, illegal_encodings);
    tcase_add_test(tc, bad_hostcall);
    tcase_add_test(tc, decoder_matches_encoding_table);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(vm_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    vm_free(V);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
