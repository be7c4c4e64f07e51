/*
 * rv_disasm.c — a one-instruction RV32IM disassembler for `utxo predicate
 * disasm`. It prints what the VM would execute: anything outside RV32IM
 * (compressed, CSR, atomics, floats) is shown as ".word" with "illegal".
 * Standard mnemonics and ABI register names, as in llvm-objdump.
 */
#include "config.h"

#include <stdio.h>
#include "rv_disasm.h"

static const char *const reg[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

static int32_t sext(uint32_t x, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    return (int32_t)((x ^ m) - m);
}

void rv_disasm(char *out, size_t n, uint32_t pc, uint32_t w)
{
    uint32_t op = w & 0x7f, rd = (w >> 7) & 31, f3 = (w >> 12) & 7, rs1 = (w >> 15) & 31;
    uint32_t rs2 = (w >> 20) & 31, f7 = w >> 25;
    int32_t imm_i = sext(w >> 20, 12);
    int32_t imm_s = sext(((w >> 25) << 5) | ((w >> 7) & 31), 12);
    int32_t imm_b = sext(((w >> 31) << 12) | (((w >> 7) & 1) << 11) | (((w >> 25) & 63) << 5) |
                             (((w >> 8) & 15) << 1), 13);
    int32_t imm_j = sext(((w >> 31) << 20) | (((w >> 12) & 255) << 12) | (((w >> 20) & 1) << 11) |
                             (((w >> 21) & 1023) << 1), 21);
    static const char *const br[8] = {"beq", "bne", NULL, NULL, "blt", "bge", "bltu", "bgeu"};
    static const char *const ld[8] = {"lb", "lh", "lw", NULL, "lbu", "lhu", NULL, NULL};
    static const char *const st[8] = {"sb", "sh", "sw", NULL, NULL, NULL, NULL, NULL};
    static const char *const alui[8] = {"addi", "slli", "slti", "sltiu", "xori", NULL, "ori", "andi"};
    static const char *const alu[8] = {"add", "sll", "slt", "sltu", "xor", "srl", "or", "and"};
    static const char *const mul[8] = {"mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"};

    switch (op) {
    case 0x37:
        snprintf(out, n, "lui %s, 0x%x", reg[rd], w >> 12);
        return;
    case 0x17:
        snprintf(out, n, "auipc %s, 0x%x", reg[rd], w >> 12);
        return;
    case 0x6f:
        snprintf(out, n, "jal %s, 0x%x", reg[rd], pc + (uint32_t)imm_j);
        return;
    case 0x67:
        if (f3 == 0) {
            snprintf(out, n, "jalr %s, %d(%s)", reg[rd], imm_i, reg[rs1]);
            return;
        }
        break;
    case 0x63:
        if (br[f3]) {
            snprintf(out, n, "%s %s, %s, 0x%x", br[f3], reg[rs1], reg[rs2], pc + (uint32_t)imm_b);
            return;
        }
        break;
    case 0x03:
        if (ld[f3]) {
            snprintf(out, n, "%s %s, %d(%s)", ld[f3], reg[rd], imm_i, reg[rs1]);
            return;
        }
        break;
    case 0x23:
        if (st[f3]) {
            snprintf(out, n, "%s %s, %d(%s)", st[f3], reg[rs2], imm_s, reg[rs1]);
            return;
        }
        break;
    case 0x13:
        if (f3 == 1 && f7 == 0) {
            snprintf(out, n, "slli %s, %s, %u", reg[rd], reg[rs1], rs2);
            return;
        }
        if (f3 == 5 && (f7 == 0 || f7 == 0x20)) {
            snprintf(out, n, "%s %s, %s, %u", f7 ? "srai" : "srli", reg[rd], reg[rs1], rs2);
            return;
        }
        if (alui[f3] && f3 != 1) {
            snprintf(out, n, "%s %s, %s, %d", alui[f3], reg[rd], reg[rs1], imm_i);
            return;
        }
        break;
    case 0x33:
        if (f7 == 0) {
            snprintf(out, n, "%s %s, %s, %s", alu[f3], reg[rd], reg[rs1], reg[rs2]);
            return;
        }
        if (f7 == 0x20 && (f3 == 0 || f3 == 5)) {
            snprintf(out, n, "%s %s, %s, %s", f3 ? "sra" : "sub", reg[rd], reg[rs1], reg[rs2]);
            return;
        }
        if (f7 == 1) {
            snprintf(out, n, "%s %s, %s, %s", mul[f3], reg[rd], reg[rs1], reg[rs2]);
            return;
        }
        break;
    case 0x0f:
        if (f3 == 0 || f3 == 1) {
            snprintf(out, n, "%s", f3 ? "fence.i" : "fence");
            return;
        }
        break;
    case 0x73:
        if (w == 0x00000073) {
            snprintf(out, n, "ecall");
            return;
        }
        if (w == 0x00100073) {
            snprintf(out, n, "ebreak");
            return;
        }
        break;
    default:
        break;
    }
    snprintf(out, n, ".word 0x%08x  # illegal", w);
}
