/*
 * bytes.c — byte and halfword loads and stores (signed and unsigned), packed
 * structs, unaligned-free byte copies, string reversal and counting.
 */
#include "rt.h"

struct rec {
    int8_t b;
    uint8_t ub;
    int16_t h;
    uint16_t uh;
    int32_t w;
};

static struct rec recs[300];
static char text[1024];

uint32_t test_main(void)
{
    uint32_t s = 777, h = 2166136261u;
    for (int i = 0; i < 300; i++) {
        uint32_t r = rt_rand(&s);
        recs[i].b = (int8_t)r;
        recs[i].ub = (uint8_t)(r >> 8);
        recs[i].h = (int16_t)(r >> 3);
        recs[i].uh = (uint16_t)(r >> 13);
        recs[i].w = (int32_t)r;
    }
    int32_t sum = 0;
    for (int i = 0; i < 300; i++) {
        sum += recs[i].b * 3 + recs[i].ub - recs[i].h + recs[i].uh;
        sum ^= recs[i].w >> (recs[i].ub & 31);
        h = rt_mix(h, (uint32_t)sum);
        h = rt_mix(h, (uint32_t)(int32_t)recs[i].b);
        h = rt_mix(h, (uint32_t)(int32_t)recs[i].h);
    }
    for (int i = 0; i < 1023; i++)
        text[i] = (char)(' ' + rt_rand(&s) % 95);
    text[1023] = 0;
    /* reverse in place, 3 times, with different strides */
    for (int k = 1; k <= 3; k++) {
        for (int i = 0, j = 1022; i < j; i += k, j -= k) {
            char t = text[i]; text[i] = text[j]; text[j] = t;
        }
    }
    int counts[128] = {0};
    for (int i = 0; text[i]; i++)
        counts[(unsigned char)text[i] & 127]++;
    for (int i = 0; i < 128; i++)
        h = rt_mix(h, (uint32_t)counts[i]);
    memcpy(text + 1, text + 100, 500); /* odd offsets */
    memset(text + 3, 'x', 7);
    for (int i = 0; i < 1023; i += 5)
        h = rt_mix(h, (uint32_t)(int32_t)(signed char)text[i]);
    uint16_t *hp = (uint16_t *)(void *)(text + 2);
    for (int i = 0; i < 200; i++)
        hp[i] = (uint16_t)(hp[i] * 3 + i);
    for (int i = 0; i < 200; i++)
        h = rt_mix(h, (uint32_t)(int32_t)(int16_t)hp[i]);
    return h;
}
