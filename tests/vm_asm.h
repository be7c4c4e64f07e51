/*
 * vm_asm.h — a tiny RV32IM assembler for the machine's tests: one function
 * per instruction that returns its 32-bit word (encodings from the RISC-V
 * unprivileged specification, chapter 2 and chapter 7 "M"), a growable
 * program buffer, and helpers that turn the buffer into a program and run it.
 * Needs no RISC-V toolchain.
 */
#ifndef UTXO_TESTS_VM_ASM_H
#define UTXO_TESTS_VM_ASM_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "predicates/vm.h"
#include "utxo/abi.h"

/* ABI register numbers. */
enum { ZERO = 0, RA = 1, SP = 2, GP = 3, TP = 4, T0 = 5, T1 = 6, T2 = 7, S0 = 8, S1 = 9,
       A0 = 10, A1 = 11, A2 = 12, A3 = 13, A4 = 14, A5 = 15, A6 = 16, A7 = 17,
       S2 = 18, S3 = 19, S4 = 20, S5 = 21, T3 = 28, T4 = 29, T5 = 30, T6 = 31 };

/* Code is placed here by asm_program(). */
#define ASM_BASE 0x00020000u

static inline uint32_t enc_r(uint32_t f7, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op)
{
    return f7 << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | f3 << 12 | (rd & 31) << 7 | op;
}
static inline uint32_t enc_i(int32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd, uint32_t op)
{
    return ((uint32_t)imm & 0xFFFu) << 20 | (rs1 & 31) << 15 | f3 << 12 | (rd & 31) << 7 | op;
}
static inline uint32_t enc_s(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3, uint32_t op)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 5) & 0x7Fu) << 25 | (rs2 & 31) << 20 | (rs1 & 31) << 15 | f3 << 12 |
           (u & 31u) << 7 | op;
}
static inline uint32_t enc_b(int32_t imm, uint32_t rs2, uint32_t rs1, uint32_t f3)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 12) & 1u) << 31 | ((u >> 5) & 0x3Fu) << 25 | (rs2 & 31) << 20 |
           (rs1 & 31) << 15 | f3 << 12 | ((u >> 1) & 0xFu) << 8 | ((u >> 11) & 1u) << 7 | 0x63u;
}
static inline uint32_t enc_u(uint32_t imm20, uint32_t rd, uint32_t op)
{
    return imm20 << 12 | (rd & 31) << 7 | op;
}
static inline uint32_t enc_j(int32_t imm, uint32_t rd)
{
    uint32_t u = (uint32_t)imm;
    return ((u >> 20) & 1u) << 31 | ((u >> 1) & 0x3FFu) << 21 | ((u >> 11) & 1u) << 20 |
           ((u >> 12) & 0xFFu) << 12 | (rd & 31) << 7 | 0x6Fu;
}

/* RV32I */
static inline uint32_t LUI(uint32_t rd, uint32_t imm20) { return enc_u(imm20, rd, 0x37); }
static inline uint32_t AUIPC(uint32_t rd, uint32_t imm20) { return enc_u(imm20, rd, 0x17); }
static inline uint32_t JAL(uint32_t rd, int32_t off) { return enc_j(off, rd); }
static inline uint32_t JALR(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, 0x67); }
static inline uint32_t BEQ(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 0); }
static inline uint32_t BNE(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 1); }
static inline uint32_t BLT(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 4); }
static inline uint32_t BGE(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 5); }
static inline uint32_t BLTU(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 6); }
static inline uint32_t BGEU(uint32_t a, uint32_t b, int32_t off) { return enc_b(off, b, a, 7); }
static inline uint32_t LB(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, 0x03); }
static inline uint32_t LH(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 1, rd, 0x03); }
static inline uint32_t LW(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 2, rd, 0x03); }
static inline uint32_t LBU(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 4, rd, 0x03); }
static inline uint32_t LHU(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 5, rd, 0x03); }
static inline uint32_t SB(uint32_t rs2, uint32_t rs1, int32_t imm) { return enc_s(imm, rs2, rs1, 0, 0x23); }
static inline uint32_t SH(uint32_t rs2, uint32_t rs1, int32_t imm) { return enc_s(imm, rs2, rs1, 1, 0x23); }
static inline uint32_t SW(uint32_t rs2, uint32_t rs1, int32_t imm) { return enc_s(imm, rs2, rs1, 2, 0x23); }
static inline uint32_t ADDI(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 0, rd, 0x13); }
static inline uint32_t SLTI(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 2, rd, 0x13); }
static inline uint32_t SLTIU(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 3, rd, 0x13); }
static inline uint32_t XORI(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 4, rd, 0x13); }
static inline uint32_t ORI(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 6, rd, 0x13); }
static inline uint32_t ANDI(uint32_t rd, uint32_t rs1, int32_t imm) { return enc_i(imm, rs1, 7, rd, 0x13); }
static inline uint32_t SLLI(uint32_t rd, uint32_t rs1, uint32_t sh) { return enc_r(0, sh, rs1, 1, rd, 0x13); }
static inline uint32_t SRLI(uint32_t rd, uint32_t rs1, uint32_t sh) { return enc_r(0, sh, rs1, 5, rd, 0x13); }
static inline uint32_t SRAI(uint32_t rd, uint32_t rs1, uint32_t sh) { return enc_r(0x20, sh, rs1, 5, rd, 0x13); }
#define RV_R(name, f7, f3) \
    static inline uint32_t name(uint32_t rd, uint32_t a, uint32_t b) { return enc_r(f7, b, a, f3, rd, 0x33); }
RV_R(ADD, 0, 0) RV_R(SUB, 0x20, 0) RV_R(SLL, 0, 1) RV_R(SLT, 0, 2) RV_R(SLTU, 0, 3)
RV_R(XOR, 0, 4) RV_R(SRL, 0, 5) RV_R(SRA, 0x20, 5) RV_R(OR, 0, 6) RV_R(AND, 0, 7)
RV_R(MUL, 1, 0) RV_R(MULH, 1, 1) RV_R(MULHSU, 1, 2) RV_R(MULHU, 1, 3)
RV_R(DIV, 1, 4) RV_R(DIVU, 1, 5) RV_R(REM, 1, 6) RV_R(REMU, 1, 7)
#undef RV_R
static inline uint32_t FENCE(void) { return 0x0FF0000Fu; }
static inline uint32_t FENCE_I(void) { return 0x0000100Fu; }
static inline uint32_t ECALL(void) { return 0x00000073u; }
static inline uint32_t EBREAK(void) { return 0x00100073u; }

/* ---- program buffer --------------------------------------------------- */
typedef struct asm_buf {
    uint32_t *w;
    uint32_t n, cap;
} asm_buf;

static inline void asm_emit(asm_buf *b, uint32_t word)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? 2 * b->cap : 64;
        b->w = realloc(b->w, b->cap * sizeof *b->w);
        if (!b->w)
            abort();
    }
    b->w[b->n++] = word;
}
/* Address of the next instruction. */
static inline uint32_t asm_pc(const asm_buf *b) { return ASM_BASE + 4 * b->n; }
/* rd = value, always two words (LUI + ADDI) so offsets are predictable. */
static inline void asm_li(asm_buf *b, uint32_t rd, uint32_t value)
{
    uint32_t hi = (value + 0x800u) >> 12;
    asm_emit(b, LUI(rd, hi & 0xFFFFFu));
    asm_emit(b, ADDI(rd, rd, (int32_t)(value << 20) >> 20));
}
/* halt(a0): a7 = 0; ecall. */
static inline void asm_halt(asm_buf *b)
{
    asm_emit(b, ADDI(A7, ZERO, UTXO_HC_HALT));
    asm_emit(b, ECALL());
}
static inline void asm_free(asm_buf *b)
{
    free(b->w);
    memset(b, 0, sizeof *b);
}

/* A machine with page cost 0, whatever the build's default: the tests count
 * instructions exactly (the page cost has its own test). */
static inline vm *asm_vm_new(void)
{
    vm *v = vm_new();
    if (v)
        vm_set_page_cost(v, 0);
    return v;
}

/* bytes[0 .. 4n) = the words as the guest stores them (little-endian,
 * whatever the host's byte order). */
static inline void asm_words_le(uint8_t *bytes, const uint32_t *words, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        bytes[4 * i] = (uint8_t)words[i];
        bytes[4 * i + 1] = (uint8_t)(words[i] >> 8);
        bytes[4 * i + 2] = (uint8_t)(words[i] >> 16);
        bytes[4 * i + 3] = (uint8_t)(words[i] >> 24);
    }
}

/* A program with one segment holding the words at `base`, entry `entry`. */
static inline vm_program *asm_program_at(const uint32_t *words, uint32_t n, uint32_t base,
                                         uint32_t entry)
{
    uint8_t *bytes = malloc(4u * n + 1);
    vm_segment seg;
    vm_image img;
    vm_program *p = NULL;

    if (!bytes)
        abort();
    asm_words_le(bytes, words, n);
    memset(&img, 0, sizeof img);
    seg.vaddr = base;
    seg.len = 4u * n;
    seg.data = bytes;
    img.entry = entry;
    img.n_segs = 1;
    img.segs = &seg;
    if (vm_program_new(&p, &img) != UTXO_OK)
        p = NULL;
    free(bytes);
    return p;
}
static inline vm_program *asm_program(const asm_buf *b)
{
    return asm_program_at(b->w, b->n, ASM_BASE, ASM_BASE);
}
/* Ends b with halt(a0) and builds its program (NULL if refused); b is
 * freed. */
static inline vm_program *asm_finish(asm_buf *b)
{
    asm_halt(b);
    vm_program *p = asm_program(b);
    asm_free(b);
    return p;
}

#endif /* UTXO_TESTS_VM_ASM_H */
