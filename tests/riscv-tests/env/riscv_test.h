/*
 * riscv_test.h — the riscv-tests environment for the predicate machine
 * (written for utxo; the official environments, riscv-test-env, run in
 * machine mode with CSRs and a tohost word, which a predicate has not).
 *
 * A test starts at _start (0x20000, tests/riscv-tests/link.ld) with every
 * register cleared and TESTNUM (gp) 0, runs in user mode UTXO_ROUNDS times
 * over, and ends with a host call HALT (a7 = 0): exit code 0 when every
 * case passed every time (RVTEST_PASS: the predicate accepts), else, at
 * the first case that fails, (TESTNUM << 1) | 1, the
 * riscv-tests convention, so a failure is never 0 and names its case
 * (RVTEST_FAIL). RVTEST_CODE_END is unimp, which the machine refuses as an
 * illegal instruction should a test run past its end.
 */
#ifndef UTXO_RISCV_TEST_H
#define UTXO_RISCV_TEST_H

#define RVTEST_RV64U \
    .macro init;     \
    .endm
#define RVTEST_RV32U \
    .macro init;     \
    .endm

#define TESTNUM gp

/* Rounds of the whole test: the first ones run on the interpreter (the
 * translating tier leaves a page's first pass and the first 4096 cycles of
 * an eager run to it), the later ones on the tier, so both execute every
 * case. The cases are idempotent: a round stores what the one before did. */
#define UTXO_ROUNDS 256

#define RVTEST_CODE_BEGIN                                                   \
    .pushsection .data;                                                     \
    .align 2;                                                               \
    utxo_rounds_done: .word 0;                                              \
    .popsection;                                                            \
    .text;                                                                  \
    .globl _start;                                                          \
    _start:                                                                 \
    li x1, 0; li x2, 0; li x3, 0; li x4, 0; li x5, 0; li x6, 0; li x7, 0;   \
    li x8, 0; li x9, 0; li x10, 0; li x11, 0; li x12, 0; li x13, 0;         \
    li x14, 0; li x15, 0; li x16, 0; li x17, 0; li x18, 0; li x19, 0;       \
    li x20, 0; li x21, 0; li x22, 0; li x23, 0; li x24, 0; li x25, 0;       \
    li x26, 0; li x27, 0; li x28, 0; li x29, 0; li x30, 0; li x31, 0;       \
    init;

#define RVTEST_CODE_END unimp

#define RVTEST_PASS                \
    fence;                         \
    la t0, utxo_rounds_done;       \
    lw t1, 0(t0);                  \
    addi t1, t1, 1;                \
    sw t1, 0(t0);                  \
    li t2, UTXO_ROUNDS;            \
    bgeu t1, t2, 1f;               \
    j _start;                      \
1:  li a0, 0;                      \
    li a7, 0;                      \
    ecall

#define RVTEST_FAIL             \
    fence;                      \
    slli a0, TESTNUM, 1;        \
    ori a0, a0, 1;              \
    li a7, 0;                   \
    ecall

#define EXTRA_DATA
#define RVTEST_DATA_BEGIN \
    EXTRA_DATA            \
    .align 4;             \
    .global begin_signature; \
    begin_signature:
#define RVTEST_DATA_END \
    .align 4;           \
    .global end_signature; \
    end_signature:

#endif
