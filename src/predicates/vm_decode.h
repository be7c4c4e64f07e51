/*
 * vm_decode.h — RV32IM instruction word layout and field extraction.
 *
 * The six base formats (RISC-V Unprivileged ISA, chapter 2), bit 31 left:
 *
 *        31      25 24   20 19   15 14  12 11        7 6      0
 *   R   | funct7   |  rs2  |  rs1  |funct3|    rd     | opcode |
 *   I   |     imm[11:0]    |  rs1  |funct3|    rd     | opcode |
 *   S   | imm[11:5]|  rs2  |  rs1  |funct3| imm[4:0]  | opcode |
 *   B   |i12|10:5  |  rs2  |  rs1  |funct3|4:1 |i11   | opcode |
 *   U   |            imm[31:12]           |    rd     | opcode |
 *   J   |i20|  imm[10:1]  |i11| imm[19:12] |    rd     | opcode |
 *
 * Every immediate is sign-extended from its top bit (instruction bit 31).
 * opcode[1:0] is 0b11 for every 32-bit instruction; anything else is a
 * compressed (16-bit) encoding, which this machine does not implement.
 *
 * The macros take a uint32_t instruction word and return uint32_t fields;
 * the IMM_* macros return the sign-extended immediate as int32_t.
 */
#ifndef UTXO_SRC_VM_DECODE_H
#define UTXO_SRC_VM_DECODE_H

#include <stdint.h>

#define RV_OPCODE(w) ((w) & 0x7Fu)
#define RV_RD(w) (((w) >> 7) & 0x1Fu)
#define RV_FUNCT3(w) (((w) >> 12) & 0x7u)
#define RV_RS1(w) (((w) >> 15) & 0x1Fu)
#define RV_RS2(w) (((w) >> 20) & 0x1Fu)
#define RV_FUNCT7(w) ((w) >> 25)

/* Arithmetic shift of the word right by 20 keeps the sign: the I-type imm. */
static inline int32_t rv_sext(uint32_t v, unsigned bits)
{
    uint32_t m = 1u << (bits - 1);
    return (int32_t)((v ^ m) - m);
}
#define RV_IMM_I(w) rv_sext((w) >> 20, 12)
#define RV_IMM_S(w) rv_sext((((w) >> 25) << 5) | (((w) >> 7) & 0x1Fu), 12)
#define RV_IMM_B(w)                                                         \
    rv_sext((((w) >> 31) << 12) | ((((w) >> 7) & 1u) << 11) |               \
                ((((w) >> 25) & 0x3Fu) << 5) | ((((w) >> 8) & 0xFu) << 1),  \
            13)
#define RV_IMM_U(w) ((int32_t)((w) & 0xFFFFF000u))
#define RV_IMM_J(w)                                                         \
    rv_sext((((w) >> 31) << 20) | ((((w) >> 12) & 0xFFu) << 12) |           \
                ((((w) >> 20) & 1u) << 11) | ((((w) >> 21) & 0x3FFu) << 1), \
            21)

/* Major opcodes (instruction bits 6..0). */
enum rv_major {
    RV_LOAD = 0x03,     /* LB LH LW LBU LHU */
    RV_MISC_MEM = 0x0F, /* FENCE (funct3 0), FENCE.I (funct3 1) */
    RV_OP_IMM = 0x13,   /* ADDI SLTI SLTIU XORI ORI ANDI SLLI SRLI SRAI */
    RV_AUIPC = 0x17,
    RV_STORE = 0x23,    /* SB SH SW */
    RV_OP = 0x33,       /* register-register ALU, M extension (funct7 1) */
    RV_LUI = 0x37,
    RV_BRANCH = 0x63,   /* BEQ BNE BLT BGE BLTU BGEU */
    RV_JALR = 0x67,
    RV_JAL = 0x6F,
    RV_SYSTEM = 0x73    /* ECALL 0x00000073, EBREAK 0x00100073; CSRs illegal */
};

#define RV_WORD_ECALL 0x00000073u
#define RV_WORD_EBREAK 0x00100073u

#endif /* UTXO_SRC_VM_DECODE_H */
