/*
 * test_codec.c — the enc/dec cursors and tagged hashing (src/utxo/codec.c):
 * varint round trips and canonical form, sticky errors with offsets, the
 * agreement of length, bytes and hash from one encoder, domain separation.
 */
#include "config.h"

#include "testutil.h"
#include "utxo/codec.h"

START_TEST(varint_round_trip)
{
    static const uint64_t vals[] = {0, 1, 127, 128, 255, 300, 16383, 16384, UINT32_MAX,
                                    (UINT64_C(1) << 56) - 1, UINT64_C(1) << 63, UINT64_MAX};
    uint8_t buf[16];

    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        enc e;
        dec d;
        enc_init(&e, buf, sizeof buf, NULL);
        enc_varint(&e, vals[i]);
        ck_assert_uint_eq(e.len, varint_len(vals[i]));
        dec_init(&d, buf, e.len);
        ck_assert_uint_eq(dec_varint(&d, UINT64_MAX), vals[i]);
        dec_end(&d);
        ck_assert_int_eq(d.err, UTXO_OK);
    }
}
END_TEST

START_TEST(varint_noncanonical)
{
    /* 0 written in two bytes; 1 written in three */
    static const uint8_t zero2[] = {0x80, 0x00}, one3[] = {0x81, 0x80, 0x00};
    /* 2^64 needs an 11th bit in the 10th byte */
    static const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    static const uint8_t trunc[] = {0x80, 0x80};
    dec d;

    dec_init(&d, zero2, sizeof zero2);
    dec_varint(&d, UINT64_MAX);
    ck_assert_int_eq(d.err, UTXO_ERR_NONCANONICAL);
    ck_assert_uint_eq(d.err_off, 0);
    dec_init(&d, one3, sizeof one3);
    dec_varint(&d, UINT64_MAX);
    ck_assert_int_eq(d.err, UTXO_ERR_NONCANONICAL);
    dec_init(&d, over, sizeof over);
    dec_varint(&d, UINT64_MAX);
    ck_assert_int_eq(d.err, UTXO_ERR_TOO_LARGE);
    dec_init(&d, trunc, sizeof trunc);
    dec_varint(&d, UINT64_MAX);
    ck_assert_int_eq(d.err, UTXO_ERR_TRUNCATED);
    ck_assert_uint_eq(d.err_off, 2);
}
END_TEST

START_TEST(varint_limit)
{
    uint8_t buf[4];
    enc e;
    dec d;

    enc_init(&e, buf, sizeof buf, NULL);
    enc_varint(&e, 1001);
    dec_init(&d, buf, e.len);
    ck_assert_uint_eq(dec_varint(&d, 1001), 1001);
    dec_init(&d, buf, e.len);
    ck_assert_uint_eq(dec_varint(&d, 1000), 0);
    ck_assert_int_eq(d.err, UTXO_ERR_TOO_LARGE);
}
END_TEST

START_TEST(sticky_error)
{
    static const uint8_t b[] = {1, 2, 3};
    dec d;
    size_t off = 99;

    dec_init(&d, b, sizeof b);
    ck_assert_uint_eq(dec_u16(&d), 0x0201);
    ck_assert_uint_eq(dec_u32(&d), 0); /* truncated at offset 3 */
    ck_assert_uint_eq(dec_u8(&d), 0);  /* later reads return zero */
    ck_assert_int_eq(dec_result(&d, &off), UTXO_ERR_TRUNCATED);
    ck_assert_uint_eq(off, 3);
    dec_init(&d, b, sizeof b);
    dec_u8(&d);
    dec_end(&d);
    ck_assert_int_eq(dec_result(&d, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, 1);
}
END_TEST

START_TEST(enc_count_bytes_hash_agree)
{
    uint8_t buf[64], h1[32], h2[32];
    hash_state st;
    enc e, c, h;

    enc_init(&e, buf, sizeof buf, NULL);
    enc_init(&c, NULL, 0, NULL);
    hash_init(&st, "utxo.test");
    enc_init(&h, NULL, 0, &st);
    for (int pass = 0; pass < 3; pass++) {
        enc *x = pass == 0 ? &e : pass == 1 ? &c : &h;
        enc_u8(x, 7);
        enc_u16(x, 0x1234);
        enc_u32(x, 0xdeadbeef);
        enc_u64(x, UINT64_C(0x0102030405060708));
        enc_blob(x, "hello", 5);
    }
    hash_final(&st, h1);
    ck_assert_uint_eq(e.len, c.len);
    ck_assert_uint_eq(e.len, h.len);
    ck_assert(enc_ok(&e));
    hash_tagged(h2, "utxo.test", buf, e.len);
    ck_assert_mem_eq(h1, h2, 32);
    /* little-endian on the wire */
    ck_assert_uint_eq(buf[1], 0x34);
    ck_assert_uint_eq(buf[3], 0xef);
    ck_assert_uint_eq(buf[7], 0x08);
}
END_TEST

START_TEST(enc_overflow_detected)
{
    uint8_t buf[3];
    enc e;

    enc_init(&e, buf, sizeof buf, NULL);
    enc_u32(&e, 1);
    ck_assert(!enc_ok(&e));
    ck_assert_uint_eq(e.len, 4);
}
END_TEST

START_TEST(domain_separation)
{
    uint8_t a[32], b[32], c[32];

    hash_tagged(a, "utxo.txid", "x", 1);
    hash_tagged(b, "utxo.wtxid", "x", 1);
    ck_assert(memcmp(a, b, 32) != 0);
    /* untagged BLAKE2b-256 differs from every tagged one */
    crypto_generichash(c, 32, (const uint8_t *)"x", 1, NULL, 0);
    ck_assert(memcmp(a, c, 32) != 0);
    /* golden: pins the personalisation scheme */
    hash_tagged(a, "utxo.txid", "", 0);
    ck_assert_hex_eq(a, 32, "572087a4f6179b4b37d4eeb1234139a1931ab87363a8ecec8b7c741793273966");
}
END_TEST

/* Prepared domains (hash_domain) give exactly hash_init's bytes, however
 * often they are used, for every length and for a reused state. */
static void obj_bytes(enc *e, const void *obj)
{
    enc_bytes(e, obj, 100);
}

START_TEST(prepared_domain_same_bytes)
{
    static hash_domain d = HASH_DOMAIN("utxo.test.dom");
    static hash_domain other = HASH_DOMAIN("utxo.test.x");
    uint8_t msg[300], a[32], b[32], want[32], got[32];
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = (uint8_t)(i * 7 + 1);
    memset(a, 0xA5, sizeof a);
    memset(b, 0x5A, sizeof b);
    for (int round = 0; round < 3; round++) {
        for (size_t n = 0; n <= sizeof msg; n += 37) {
            hash_tagged(want, "utxo.test.dom", msg, n);
            hash_tagged_dom(got, &d, msg, n);
            ck_assert_mem_eq(got, want, 32);
        }
        hash_pair(want, "utxo.test.dom", a, b);
        hash_pair_dom(got, &d, a, b);
        ck_assert_mem_eq(got, want, 32);
        enc_hash(want, "utxo.test.x", obj_bytes, msg);
        enc_hash_dom(got, &other, obj_bytes, msg);
        ck_assert_mem_eq(got, want, 32);
        hash_state st;
        hash_start(&st, &d);
        hash_update(&st, msg, 5);
        hash_final(&st, got);
        hash_tagged(want, "utxo.test.dom", msg, 5);
        ck_assert_mem_eq(got, want, 32);
    }
    /* and not another domain's */
    hash_tagged(want, "utxo.test.x", msg, 10);
    hash_tagged_dom(got, &d, msg, 10);
    ck_assert(memcmp(got, want, 32) != 0);
}
END_TEST

/* enc_to_new gives enc_to_bytes's bytes whatever its hint: none, short
 * (the second, exact pass), exact, generous. */
static void obj_n(enc *e, const void *obj)
{
    const size_t *n = obj;
    for (size_t i = 0; i < *n; i++)
        enc_u8(e, (uint8_t)(i * 13 + 5));
}

START_TEST(to_new_any_hint)
{
    static const size_t sizes[] = {0, 1, 63, 64, 65, 1000, 70000};
    static const size_t hints[] = {0, 1, 64, 999, 1000, 1001, 200000};

    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t n = sizes[i], w = 0, len = 1;
        uint8_t *want = malloc(n + 1), *got = NULL;
        ck_assert_ptr_nonnull(want);
        ck_assert_int_eq(enc_to_bytes(obj_n, &n, want, n + 1, &w), UTXO_OK);
        ck_assert_uint_eq(w, n);
        for (size_t h = 0; h < sizeof hints / sizeof hints[0]; h++) {
            ck_assert_int_eq(enc_to_new(obj_n, &n, hints[h], &got, &len), UTXO_OK);
            ck_assert_uint_eq(len, n);
            ck_assert_ptr_nonnull(got);
            ck_assert(n == 0 || memcmp(got, want, n) == 0);
            free(got);
        }
        free(want);
    }
}
END_TEST

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, varint_round_trip);
    tcase_add_test(tc, varint_noncanonical);
    tcase_add_test(tc, varint_limit);
    tcase_add_test(tc, sticky_error);
    tcase_add_test(tc, enc_count_bytes_hash_agree);
    tcase_add_test(tc, enc_overflow_detected);
    tcase_add_test(tc, domain_separation);
    tcase_add_test(tc, prepared_domain_same_bytes);
    tcase_add_test(tc, to_new_any_hint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(codec_suite());
}
