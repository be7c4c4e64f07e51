/*
 * arith.c — every RV32IM ALU and M instruction over random and edge
 * operands, through inline assembly so the instructions' own semantics
 * (division by zero, overflow, shift amounts >= 32) are compared, not C's.
 */
#include "rt.h"

#define OP3(name, a, b) ({ uint32_t r_; __asm__(name " %0, %1, %2" : "=r"(r_) : "r"(a), "r"(b)); r_; })

static const uint32_t edge[] = {0, 1, 2, 31, 32, 33, 63, 0x7FFFFFFFu, 0x80000000u,
                                0x80000001u, 0xFFFFFFFFu, 0xFFFFFFFEu, 0x12345678u};

static uint32_t all_ops(uint32_t h, uint32_t a, uint32_t b)
{
    h = rt_mix(h, OP3("add", a, b));
    h = rt_mix(h, OP3("sub", a, b));
    h = rt_mix(h, OP3("sll", a, b));
    h = rt_mix(h, OP3("slt", a, b));
    h = rt_mix(h, OP3("sltu", a, b));
    h = rt_mix(h, OP3("xor", a, b));
    h = rt_mix(h, OP3("srl", a, b));
    h = rt_mix(h, OP3("sra", a, b));
    h = rt_mix(h, OP3("or", a, b));
    h = rt_mix(h, OP3("and", a, b));
    h = rt_mix(h, OP3("mul", a, b));
    h = rt_mix(h, OP3("mulh", a, b));
    h = rt_mix(h, OP3("mulhsu", a, b));
    h = rt_mix(h, OP3("mulhu", a, b));
    h = rt_mix(h, OP3("div", a, b));
    h = rt_mix(h, OP3("divu", a, b));
    h = rt_mix(h, OP3("rem", a, b));
    h = rt_mix(h, OP3("remu", a, b));
    return h;
}

uint32_t test_main(void)
{
    uint32_t h = 2166136261u, s = 0x9E3779B9u;
    for (unsigned i = 0; i < sizeof edge / sizeof edge[0]; i++)
        for (unsigned j = 0; j < sizeof edge / sizeof edge[0]; j++)
            h = all_ops(h, edge[i], edge[j]);
    for (int i = 0; i < 3000; i++) {
        uint32_t a = rt_rand(&s), b = rt_rand(&s);
        if (i & 1)
            b >>= (a & 31); /* small divisors too */
        h = all_ops(h, a, b);
        /* immediate forms */
        uint32_t r;
        __asm__("addi %0, %1, -2048" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("slti %0, %1, -1" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("sltiu %0, %1, -1" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("xori %0, %1, 0x7ff" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("ori %0, %1, -1366" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("andi %0, %1, 0x555" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("slli %0, %1, 31" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("srli %0, %1, 17" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("srai %0, %1, 29" : "=r"(r) : "r"(a)); h = rt_mix(h, r);
        __asm__("lui %0, 0xfffff" : "=r"(r)); h = rt_mix(h, r);
    }
    /* 64-bit arithmetic the compiler expands into mulhu/sltu chains */
    uint64_t acc = 1;
    for (int i = 0; i < 500; i++) {
        uint64_t x = ((uint64_t)rt_rand(&s) << 32) | rt_rand(&s);
        acc = acc * x + (acc >> 7) - (int64_t)x / 3 % 1;
        h = rt_mix(h, (uint32_t)acc);
        h = rt_mix(h, (uint32_t)(acc >> 32));
        int64_t sx = (int64_t)x;
        h = rt_mix(h, (uint32_t)(sx >> 40));
        h = rt_mix(h, (uint32_t)((uint64_t)x << (i & 63)));
    }
    return h;
}
