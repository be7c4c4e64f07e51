/*
 * calls.c — indirect calls through a function table, a dense switch (jump
 * table: JALR to a computed address), deep recursion (Ackermann) and a
 * computed-goto style state machine.
 */
#include "rt.h"

typedef uint32_t (*fn)(uint32_t, uint32_t);
static uint32_t f0(uint32_t a, uint32_t b) { return a + b; }
static uint32_t f1(uint32_t a, uint32_t b) { return a ^ (b << 3); }
static uint32_t f2(uint32_t a, uint32_t b) { return a * b + 1; }
static uint32_t f3(uint32_t a, uint32_t b) { return (a >> 5) | (b << 27); }
static fn volatile table[4] = {f0, f1, f2, f3};

static uint32_t ack(uint32_t m, uint32_t n)
{
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

__attribute__((noinline)) static uint32_t dense(uint32_t k, uint32_t x)
{
    switch (k % 12) {
    case 0: return x + 7;
    case 1: return x * 3;
    case 2: return x ^ 0x5555;
    case 3: return x >> 3;
    case 4: return x - 99;
    case 5: return ~x;
    case 6: return x << 9;
    case 7: return x | 0x100;
    case 8: return x & 0xF0F0;
    case 9: return x * x;
    case 10: return (uint32_t)((int32_t)x >> 4);
    default: return x + k;
    }
}

uint32_t test_main(void)
{
    uint32_t s = 4242, h = 2166136261u, x = 1;
    for (int i = 0; i < 5000; i++) {
        uint32_t r = rt_rand(&s);
        x = table[r & 3](x, r);
        x = dense(r >> 8, x);
        h = rt_mix(h, x);
    }
    h = rt_mix(h, ack(2, 300));
    h = rt_mix(h, ack(3, 5));
    return h;
}
