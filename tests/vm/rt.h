/*
 * rt.h — runtime of the machine's differential test programs (tests/vm/NAME.c).
 * Each program defines `uint32_t test_main(void)` returning a checksum of
 * everything it computed; rt.c's _start runs it and reports the checksum
 * in whichever world it finds itself:
 *   - under the predicate machine (sp == VM_STACK_TOP and a1 ==
 *     VM_ARGS_BASE at entry): halt (host call 0) with exit code = checksum;
 *   - under qemu-riscv32 (Linux user mode): write the checksum as 8 hex
 *     digits and a newline to stdout, then exit(0).
 * test_vm_qemu.c compares the two.
 */
#ifndef UTXO_TESTS_VM_RT_H
#define UTXO_TESTS_VM_RT_H

#include <stddef.h>
#include <stdint.h>

uint32_t test_main(void);

/* A reproducible pseudo-random stream (xorshift32). */
static inline uint32_t rt_rand(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

/* Mixes v into the checksum h (FNV-1a over the 4 bytes). */
static inline uint32_t rt_mix(uint32_t h, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        h = (h ^ ((v >> (8 * i)) & 0xFFu)) * 16777619u;
    return h;
}

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);

#endif
