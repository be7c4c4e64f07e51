/*
 * testutil.h — helpers shared by the Check suites: a deterministic PRNG
 * (splitmix64: the same seed gives the same objects on every machine),
 * random valid ledger objects, and hex comparison.
 */
#ifndef UTXO_TESTS_TESTUTIL_H
#define UTXO_TESTS_TESTUTIL_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/splitmix.h"

static inline uint64_t rng_next(uint64_t *s)
{
    return splitmix64(s);
}

static inline uint32_t rng_below(uint64_t *s, uint32_t n)
{
    return n == 0 ? 0 : (uint32_t)(rng_next(s) % n);
}

static inline void rng_fill(uint64_t *s, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rng_next(s);
}

/* A random transaction that passes utxo_tx_check under default params. */
static inline utxo_tx *random_tx(uint64_t *s, uint32_t max_in, uint32_t max_out)
{
    utxo_tx *tx = utxo_tx_new();
    uint32_t n_in = 1 + rng_below(s, max_in);
    uint32_t n_out = 1 + rng_below(s, max_out);
    uint8_t buf[604], id[UTXO_HASH_BYTES];

    ck_assert_ptr_nonnull(tx);
    for (uint32_t i = 0; i < n_in; i++) {
        utxo_outpoint op;
        uint32_t il = 1 + rng_below(s, 300), al = rng_below(s, 200);
        rng_fill(s, op.txid, sizeof op.txid);
        op.index = (uint32_t)rng_next(s);
        rng_fill(s, buf, il + al);
        if (buf[0] % 4 == 0 && (rng_fill(s, buf + il + al, 2), 1)) /* a quarter: form 2 */
            ck_assert_int_eq(utxo_tx_add_input_template(tx, &op, rng_next(s) % 1000000,
                                                        buf[1] % UTXO_STD_KINDS, buf + 2, il,
                                                        buf + il + 2, al), UTXO_OK);
        else if (buf[0] % 4 == 1) { /* a quarter: form 3, sometimes sharing a reference */
            utxo_outpoint code;
            uint32_t k = 0;
            rng_fill(s, code.txid, sizeof code.txid);
            code.index = (uint32_t)rng_next(s);
            if (tx->n_refs == 0 || buf[1] % 2)
                ck_assert_int_eq(utxo_tx_add_ref(tx, &code, &k), UTXO_OK);
            ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, rng_next(s) % 1000000, k, buf,
                                                   il - 1, buf + il, al), UTXO_OK);
        } else
            ck_assert_int_eq(utxo_tx_add_input(tx, &op, rng_next(s) % 1000000, buf, il, buf + il, al), UTXO_OK);
    }
    for (uint32_t i = 0; i < n_out; i++) {
        uint32_t dl = rng_below(s, 3) == 0 ? 0 : rng_below(s, 100);
        rng_fill(s, id, sizeof id);
        rng_fill(s, buf, dl);
        ck_assert_int_eq(utxo_tx_add_output(tx, rng_next(s) % (UTXO_MAX_MONEY / 2048), id, buf, dl),
                         UTXO_OK);
    }
    return tx;
}

/* Encodes tx into a new buffer. */
static inline uint8_t *tx_bytes(const utxo_tx *tx, size_t *len)
{
    size_t n = utxo_tx_get_length(tx, true), w = 0;
    uint8_t *b = malloc(n);

    ck_assert_ptr_nonnull(b);
    ck_assert_int_eq(utxo_tx_to_bytes(tx, b, n, &w), UTXO_OK);
    ck_assert_uint_eq(w, n);
    *len = n;
    return b;
}

static inline void to_hex(char *out, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
}

#define ck_assert_hex_eq(bytes, n, hexstr)                                   \
    do {                                                                     \
        char _h[2 * (n) + 1];                                                \
        to_hex(_h, (bytes), (n));                                            \
        ck_assert_str_eq(_h, (hexstr));                                      \
    } while (0)

/* Runs a suite; returns the process exit code (0 when every test passed). */
static inline int run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* UTXO_TESTS_TESTUTIL_H */
