/*
 * crc.c — CRC-32 bit by bit and by table, Adler-32, and a tiny LFSR: shifts,
 * masks, xors and table loads.
 */
#include "rt.h"

static uint32_t crc_table[256];

uint32_t test_main(void)
{
    static uint8_t buf[4096];
    uint32_t s = 99, h = 2166136261u;
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
    for (int i = 0; i < 4096; i++)
        buf[i] = (uint8_t)rt_rand(&s);
    uint32_t c1 = 0xFFFFFFFFu, c2 = 0xFFFFFFFFu;
    for (int i = 0; i < 4096; i++) {
        c1 = crc_table[(c1 ^ buf[i]) & 0xFF] ^ (c1 >> 8);
        c2 ^= buf[i];
        for (int k = 0; k < 8; k++)
            c2 = (c2 >> 1) ^ (0xEDB88320u & (0u - (c2 & 1)));
    }
    h = rt_mix(h, ~c1);
    h = rt_mix(h, ~c2);
    uint32_t a = 1, b = 0;
    for (int i = 0; i < 4096; i++) {
        a = (a + buf[i]) % 65521u;
        b = (b + a) % 65521u;
    }
    h = rt_mix(h, (b << 16) | a);
    uint16_t lfsr = 0xACE1u;
    for (int i = 0; i < 10000; i++) {
        unsigned bit = ((lfsr >> 0) ^ (lfsr >> 2) ^ (lfsr >> 3) ^ (lfsr >> 5)) & 1u;
        lfsr = (uint16_t)((lfsr >> 1) | (bit << 15));
    }
    h = rt_mix(h, lfsr);
    return h;
}
