/*
 * utxo_sdk.h — the freestanding SDK for predicate authors (RV32IM, clang).
 *
 * A predicate is a C file that defines
 *
 *     int predicate_main(const uint8_t *args, uint32_t len);
 *
 * and is linked with start.c (the entry point _start, memcpy, memset,
 * memcmp) and predicate.ld. _start calls predicate_main with the argument
 * bytes (mapped read-write at UTXO_ABI_ARGS_BASE) and halts with its return
 * value: 0 accepts the spend, anything else rejects it. The functions below
 * wrap the host calls of utxo/abi.h; each is one ECALL. Build flags and a
 * walk-through are in docs/PREDICATES.md.
 */
#ifndef UTXO_SDK_H
#define UTXO_SDK_H

#include <stddef.h>
#include <stdint.h>
#include "utxo/abi.h"

int predicate_main(const uint8_t *args, uint32_t len);

void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* ---- raw ECALLs ----------------------------------------------------------- */
static inline uint32_t utxo_ecall4(uint32_t num, uint32_t x0, uint32_t x1, uint32_t x2, uint32_t x3)
{
    register uint32_t a0 __asm__("a0") = x0;
    register uint32_t a1 __asm__("a1") = x1;
    register uint32_t a2 __asm__("a2") = x2;
    register uint32_t a3 __asm__("a3") = x3;
    register uint32_t a7 __asm__("a7") = num;

    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a2), "r"(a3), "r"(a7) : "memory");
    return a0;
}

#define UTXO_P(p) ((uint32_t)(uintptr_t)(p))

/* ---- control and arguments ---------------------------------------------- */
__attribute__((noreturn)) static inline void utxo_halt(uint32_t code)
{
    utxo_ecall4(UTXO_HC_HALT, code, 0, 0, 0);
    __builtin_unreachable();
}
static inline uint32_t utxo_args_len(void) { return utxo_ecall4(UTXO_HC_ARGS_LEN, 0, 0, 0, 0); }
static inline void utxo_args_read(void *dst, uint32_t off, uint32_t len)
{
    utxo_ecall4(UTXO_HC_ARGS_READ, UTXO_P(dst), off, len, 0);
}

/* ---- transaction -------------------------------------------------------- */
static inline void utxo_sighash(uint8_t out[32]) { utxo_ecall4(UTXO_HC_SIGHASH, UTXO_P(out), 0, 0, 0); }
static inline uint32_t utxo_input_index(void) { return utxo_ecall4(UTXO_HC_INPUT_INDEX, 0, 0, 0, 0); }
static inline uint32_t utxo_height(void) { return utxo_ecall4(UTXO_HC_HEIGHT, 0, 0, 0, 0); }
static inline uint32_t utxo_n_inputs(void) { return utxo_ecall4(UTXO_HC_COUNTS, 0, 0, 0, 0); }
static inline uint32_t utxo_n_outputs(void)
{
    register uint32_t a0 __asm__("a0") = 0;
    register uint32_t a1 __asm__("a1") = 0;
    register uint32_t a7 __asm__("a7") = UTXO_HC_COUNTS;

    __asm__ volatile("ecall" : "+r"(a0), "+r"(a1) : "r"(a7) : "memory");
    return a1;
}

/* Records of UTXO_HC_INPUT / UTXO_HC_OUTPUT (layouts in utxo/abi.h). */
typedef struct utxo_input_rec {
    uint8_t txid[32];
    uint8_t predicate_id[32];
    uint64_t value;
    uint32_t vout;
    uint32_t datum_len;
} utxo_input_rec;
typedef struct utxo_output_rec {
    uint8_t predicate_id[32];
    uint64_t value;
    uint32_t datum_len;
    uint32_t zero;
} utxo_output_rec;
_Static_assert(sizeof(utxo_input_rec) == UTXO_ABI_INPUT_BYTES, "input record layout");
_Static_assert(sizeof(utxo_output_rec) == UTXO_ABI_OUTPUT_BYTES, "output record layout");

static inline void utxo_input(uint32_t i, utxo_input_rec *out) { utxo_ecall4(UTXO_HC_INPUT, i, UTXO_P(out), 0, 0); }
static inline void utxo_output(uint32_t i, utxo_output_rec *out) { utxo_ecall4(UTXO_HC_OUTPUT, i, UTXO_P(out), 0, 0); }
static inline void utxo_input_datum(uint32_t i, void *dst, uint32_t off, uint32_t len)
{
    utxo_ecall4(UTXO_HC_INPUT_DATUM, i, UTXO_P(dst), off, len);
}
static inline void utxo_output_datum(uint32_t i, void *dst, uint32_t off, uint32_t len)
{
    utxo_ecall4(UTXO_HC_OUTPUT_DATUM, i, UTXO_P(dst), off, len);
}

/* ---- hashes and signatures --------------------------------------------- */
static inline void utxo_blake2b(uint8_t out[32], const void *p, uint32_t n)
{
    utxo_ecall4(UTXO_HC_BLAKE2B, UTXO_P(p), n, UTXO_P(out), 0);
}
static inline void utxo_sha256(uint8_t out[32], const void *p, uint32_t n)
{
    utxo_ecall4(UTXO_HC_SHA256, UTXO_P(p), n, UTXO_P(out), 0);
}
/* 0 when sig is pk's Ed25519 signature of msg, 1 otherwise. */
static inline uint32_t utxo_ed25519_verify(const uint8_t sig[64], const uint8_t pk[32], const void *msg,
                                           uint32_t n)
{
    return utxo_ecall4(UTXO_HC_ED25519, UTXO_P(sig), UTXO_P(pk), UTXO_P(msg), n);
}

/* ---- big integers (big-endian byte strings) ------------------------------- */
typedef struct utxo_big {
    uint32_t ptr, len;
} utxo_big;
#define UTXO_BIG(p, n) ((utxo_big){UTXO_P(p), (uint32_t)(n)})

/* out = base^exp mod mod */
static inline void utxo_big_modexp(utxo_big out, utxo_big base, utxo_big exp, utxo_big mod)
{
    utxo_big d[4] = {out, base, exp, mod};
    utxo_ecall4(UTXO_HC_BIG_MODEXP, UTXO_P(d), 0, 0, 0);
}
static inline void utxo_big_mul(utxo_big out, utxo_big a, utxo_big b)
{
    utxo_big d[3] = {out, a, b};
    utxo_ecall4(UTXO_HC_BIG_MUL, UTXO_P(d), 0, 0, 0);
}
static inline void utxo_big_divmod(utxo_big quot, utxo_big rem, utxo_big a, utxo_big b)
{
    utxo_big d[4] = {quot, rem, a, b};
    utxo_ecall4(UTXO_HC_BIG_DIVMOD, UTXO_P(d), 0, 0, 0);
}
/* -1, 0 or 1 as a < b, a == b, a > b */
static inline int utxo_big_cmp(utxo_big a, utxo_big b)
{
    return (int32_t)utxo_ecall4(UTXO_HC_BIG_CMP, a.ptr, a.len, b.ptr, b.len);
}

/* ---- debugging ------------------------------------------------------------ */
static inline void utxo_log(const void *p, uint32_t n) { utxo_ecall4(UTXO_HC_DEBUG_LOG, UTXO_P(p), n, 0, 0); }

/* Parameters of a standard predicate instance (part of its image). */
#define UTXO_PARAMS ((const uint8_t *)UTXO_ABI_PARAMS_BASE)

/* Little-endian loads that work at any alignment. */
static inline uint32_t utxo_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif /* UTXO_SDK_H */
