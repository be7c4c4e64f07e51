/*
 * vm_work.c — the workloads of `utxo bench vm`, written once in plain C and
 * compiled twice: natively into the utxo command (the baseline) and for
 * RV32IM into the image in vm_work_img.h (regenerate with gen_vm_work.sh).
 * No libc: the RISC-V build is freestanding.
 *
 *   fib     recursive Fibonacci: calls, returns, stack traffic
 *   sieve   Eratosthenes over a byte array: loads, stores, branches
 *   memcpy  word copies between two 64 KiB buffers: load/store bandwidth
 *   sha256  SHA-256 compression over a 4 KiB buffer: ALU, rotates
 *   bytecode  a switch-based bytecode interpreter (a register machine
 *           running a hash loop): indirect jumps through a jump table
 *
 * vm_work(which, n) returns a checksum so neither build can skip the work;
 * both builds must return the same value (the bench checks it).
 */
#include <stdint.h>
#include "vm_work.h"

static uint32_t fib(uint32_t n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

#define SIEVE_MAX 262144u
static uint8_t sieve_buf[SIEVE_MAX];

static uint32_t sieve(uint32_t rounds)
{
    uint32_t count = 0;
    for (uint32_t r = 0; r < rounds; r++) {
        for (uint32_t i = 0; i < SIEVE_MAX; i++)
            sieve_buf[i] = 1;
        count = 0;
        for (uint32_t i = 2; i < SIEVE_MAX; i++) {
            if (!sieve_buf[i])
                continue;
            count++;
            for (uint32_t j = i + i; j < SIEVE_MAX; j += i)
                sieve_buf[j] = 0;
        }
    }
    return count;
}

#define COPY_WORDS 16384u /* 64 KiB */
static uint32_t copy_a[COPY_WORDS], copy_b[COPY_WORDS];

static void copy_words(uint32_t *restrict d, const uint32_t *restrict s, uint32_t n)
{
    for (uint32_t i = 0; i < n; i += 4) {
        uint32_t w0 = s[i], w1 = s[i + 1], w2 = s[i + 2], w3 = s[i + 3];
        d[i] = w0;
        d[i + 1] = w1;
        d[i + 2] = w2;
        d[i + 3] = w3;
    }
}

static uint32_t memcpy_heavy(uint32_t rounds)
{
    for (uint32_t i = 0; i < COPY_WORDS; i++)
        copy_a[i] = i * 2654435761u;
    for (uint32_t r = 0; r < rounds; r++) {
        copy_words(copy_b, copy_a, COPY_WORDS);
        copy_b[r % COPY_WORDS] ^= r;
        copy_words(copy_a, copy_b, COPY_WORDS);
    }
    uint32_t h = 0;
    for (uint32_t i = 0; i < COPY_WORDS; i++)
        h = (h ^ copy_a[i]) * 16777619u;
    return h;
}

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t st[8], const uint8_t *p)
{
    uint32_t w[64], a, b, c, d, e, f, g, h;
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    a = st[0]; b = st[1]; c = st[2]; d = st[3];
    e = st[4]; f = st[5]; g = st[6]; h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K256[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g; g = f; f = e; e = d + t1;
        d = c; c = b; b = a; a = t1 + t2;
    }
    st[0] += a; st[1] += b; st[2] += c; st[3] += d;
    st[4] += e; st[5] += f; st[6] += g; st[7] += h;
}

static uint8_t sha_buf[4096];

static uint32_t sha256_loop(uint32_t rounds)
{
    uint32_t st[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    for (uint32_t i = 0; i < sizeof sha_buf; i++)
        sha_buf[i] = (uint8_t)(i * 131u + 7u);
    for (uint32_t r = 0; r < rounds; r++)
        for (uint32_t off = 0; off < sizeof sha_buf; off += 64)
            sha256_block(st, sha_buf + off);
    return st[0] ^ st[7];
}

/* The bytecode machine: 8 registers, 4-byte instructions {op, a, b, c}. */
enum { BC_LI, BC_ADD, BC_XOR, BC_MUL, BC_SHR, BC_ADDI, BC_JNZ, BC_HALT };

/* r0 = loop counter (n * 1000 + 1), r1 = hash, r4 = multiplier, r2 scratch:
 *   loop: r2 = r1 >> 7; r1 = r1 ^ r2; r1 = r1 * r4; r1 = r1 + r0;
 *         r0 = r0 - 1; if r0 != 0 goto loop */
static const uint8_t bc_prog[] = {
    BC_LI, 4, 0x93, 0x01,     /* r4 = 0x193 */
    BC_SHR, 2, 1, 7,          /* 1: r2 = r1 >> 7 */
    BC_XOR, 1, 1, 2,          /* r1 ^= r2 */
    BC_MUL, 1, 1, 4,          /* r1 *= r4 */
    BC_ADD, 1, 1, 0,          /* r1 += r0 */
    BC_ADDI, 0, 0, 0xFF,      /* r0 -= 1 (c is a signed byte) */
    BC_JNZ, 0, 0xFA, 0,       /* if r0 goto 1 (b: signed delta, before the +1) */
    BC_HALT, 1, 0, 0,
};

static uint32_t bytecode(uint32_t n)
{
    uint32_t r[8] = {n * 1000u + 1u, 0x811C9DC5u, 0, 0, 0, 0, 0, 0};
    const uint8_t *pc = bc_prog;
    for (;;) {
        uint8_t op = pc[0], a = pc[1] & 7u, b = pc[2], c = pc[3];
        switch (op) {
        case BC_LI: r[a] = (uint32_t)b | (uint32_t)c << 8; break;
        case BC_ADD: r[a] = r[b & 7u] + r[c & 7u]; break;
        case BC_XOR: r[a] = r[b & 7u] ^ r[c & 7u]; break;
        case BC_MUL: r[a] = r[b & 7u] * r[c & 7u]; break;
        case BC_SHR: r[a] = r[b & 7u] >> (c & 31u); break;
        case BC_ADDI: r[a] = r[b & 7u] + (uint32_t)(int32_t)(int8_t)c; break;
        case BC_JNZ:
            if (r[a])
                pc += 4 * (int32_t)(int8_t)b;
            break;
        case BC_HALT: return r[a];
        default: return 0;
        }
        pc += 4;
    }
}

uint32_t vm_work(uint32_t which, uint32_t n)
{
    switch (which) {
    case VM_WORK_FIB: return fib(n);
    case VM_WORK_SIEVE: return sieve(n);
    case VM_WORK_MEMCPY: return memcpy_heavy(n);
    case VM_WORK_SHA256: return sha256_loop(n);
    case VM_WORK_BYTECODE: return bytecode(n);
    default: return 0;
    }
}

#if defined(__riscv)
/*
 * One ELF for both machines. Under the predicate machine (sp = 0x7FFFFFF0,
 * a1 = 0x80000000, docs/VM.md) a0/a1 are the argument bytes {which, n}
 * (u32 LE) and the checksum is the halt code. Under Linux (qemu-riscv32) the
 * stack holds argc and argv: `ELF WHICH N` prints the checksum as 8 hex
 * digits and exits 0.
 */
static uint32_t parse_u32(const char *s)
{
    uint32_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10u + (uint32_t)(*s++ - '0');
    return v;
}

static void linux_write(const char *p, uint32_t n)
{
    register uint32_t a0 __asm__("a0") = 1;
    register const char *a1 __asm__("a1") = p;
    register uint32_t a2 __asm__("a2") = n;
    register uint32_t a7 __asm__("a7") = 64; /* write */
    __asm__ volatile("ecall" : "+r"(a0) : "r"(a1), "r"(a2), "r"(a7) : "memory");
}

__attribute__((noreturn)) static void sys_exit(uint32_t nr, uint32_t code)
{
    register uint32_t a0 __asm__("a0") = code;
    register uint32_t a7 __asm__("a7") = nr; /* 0: UTXO_HC_HALT; 93: Linux exit */
    __asm__ volatile("ecall" : : "r"(a0), "r"(a7));
    __builtin_unreachable();
}

__attribute__((noreturn)) void vm_work_main(uint32_t len, const uint32_t *args,
                                            const uint32_t *sp);
__attribute__((noreturn)) void vm_work_main(uint32_t len, const uint32_t *args,
                                            const uint32_t *sp)
{
    if ((uint32_t)sp == 0x7FFFFFF0u && (uint32_t)args == 0x80000000u)
        sys_exit(0, len >= 8 ? vm_work(args[0], args[1]) : 0);
    uint32_t h = 0;
    if (sp[0] >= 3) {
        const char *const *argv = (const char *const *)(sp + 1);
        h = vm_work(parse_u32(argv[1]), parse_u32(argv[2]));
    }
    char buf[9];
    for (int i = 0; i < 8; i++) {
        uint32_t d = (h >> (28 - 4 * i)) & 15u;
        buf[i] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
    }
    buf[8] = '\n';
    linux_write(buf, 9);
    sys_exit(93, 0);
}

__attribute__((naked, used, section(".text.start"))) void _start(void);
__attribute__((naked, used, section(".text.start"))) void _start(void)
{
    __asm__ volatile("mv   a2, sp\n\t"
                     "andi sp, sp, -16\n\t"
                     "call vm_work_main\n\t"
                     "ebreak\n\t");
}
#endif
