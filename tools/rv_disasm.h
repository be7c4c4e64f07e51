/*
 * rv_disasm.h — RV32IM disassembly of one instruction word (rv_disasm.c).
 */
#ifndef UTXO_TOOLS_RV_DISASM_H
#define UTXO_TOOLS_RV_DISASM_H

#include <stddef.h>
#include <stdint.h>

/* Writes the assembly text of instruction word w at address pc into out
 * (n bytes, always NUL-terminated). */
void rv_disasm(char *out, size_t n, uint32_t pc, uint32_t w);

#endif /* UTXO_TOOLS_RV_DISASM_H */
