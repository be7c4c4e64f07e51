/*
 * test_keys.c — keys and addresses (src/utxo/keys.c, address.c): Ed25519
 * key pairs from seeds (RFC 8032 vector), the derivation scheme (child seeds
 * computed independently with Python's hashlib.blake2b and pinned), address
 * vectors (computed with the BIP-350 reference algorithm in Python and
 * pinned), every single-character change of an address rejected, wrong
 * prefix, length, version, padding and plain-Bech32 checksums rejected.
 */
#include "config.h"

#include <sodium.h>
#include "testutil.h"

static void unhex(uint8_t *out, const char *hex, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

START_TEST(keypair_rfc8032)
{
    /* RFC 8032 section 7.1, TEST 1 */
    uint8_t seed[32], pk[32], sk[64];

    unhex(seed, "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", 32);
    ck_assert_int_eq(utxo_keypair_from_seed(pk, sk, seed), UTXO_OK);
    ck_assert_hex_eq(pk, 32, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    ck_assert_mem_eq(sk, seed, 32);
    ck_assert_mem_eq(sk + 32, pk, 32);
    ck_assert_int_eq(utxo_keypair_from_seed(NULL, sk, seed), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_keypair_from_seed(pk, sk, NULL), UTXO_ERR_ARG);
    for (int i = 0; i < 32; i++)
        ck_assert_uint_eq(pk[i], 0); /* outputs cleared on failure */
}
END_TEST

START_TEST(derive_vectors)
{
    /* master = 00 01 .. 1f; children from Python:
     * hashlib.blake2b(i.to_bytes(4,'little'), digest_size=32, key=master,
     *                 person=b"utxo.derive.v1");
     * public keys: libsodium crypto_sign_seed_keypair of each child */
    static const struct {
        uint32_t index;
        const char *child;
        const char *pk;
    } v[] = {
        {0, "2f31b0fd28612c1eaa8b816877cfa7f71d6d2d5dfa7722afc519bab39d89d071",
         "dcf1e6e2cf67f26edc137299f5f71d105c5bb09c3d2d55d12e6da25b18f72e1f"},
        {1, "9b2063d28be9b61238b06d088bea3685327da082170f75713fe2eac915d7b17e",
         "87927421aede1d024d0eecdbbb6f6bf2284eb62a52c09b03958ec33ed1280c35"},
        {2, "406c4bbd88250e6361fb0c1c0dc44488c34efbed8e0a6243846f6082bdac19b5",
         "1212c8e46bc2a0b5a1adbd10b3de7edd4a7e27194ca4fc2d14a935229e244de4"},
        {0xffffffffu, "7ba825d216d929f2525b268430531db75544f34bdcd7ccb0668f62e75ae5fb68",
         "ac50ea099121c591210563d8cdbaa961c7f87a09d166e84b7a403af2fbaa9482"},
    };
    uint8_t master[32], child[32], pk[32], sk[64], pk2[32], sk2[64];

    for (int i = 0; i < 32; i++)
        master[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        ck_assert_int_eq(utxo_seed_derive(child, master, v[i].index), UTXO_OK);
        ck_assert_hex_eq(child, 32, v[i].child);
        ck_assert_int_eq(utxo_keypair_derive(pk, sk, master, v[i].index), UTXO_OK);
        ck_assert_hex_eq(pk, 32, v[i].pk);
        ck_assert_int_eq(utxo_keypair_from_seed(pk2, sk2, child), UTXO_OK);
        ck_assert_mem_eq(pk, pk2, 32);
        ck_assert_mem_eq(sk, sk2, 64);
    }
    ck_assert_int_eq(utxo_seed_derive(child, NULL, 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_seed_derive(NULL, master, 0), UTXO_ERR_ARG);
}
END_TEST

START_TEST(derive_distinct)
{
    uint8_t master[32] = {7}, a[32], b[32];
    char seen[64][65];

    /* 64 children, pairwise distinct; a different master gives others */
    for (uint32_t i = 0; i < 64; i++) {
        ck_assert_int_eq(utxo_seed_derive(a, master, i), UTXO_OK);
        to_hex(seen[i], a, 32);
        for (uint32_t j = 0; j < i; j++)
            ck_assert_str_ne(seen[i], seen[j]);
    }
    ck_assert_int_eq(utxo_seed_derive(a, master, 5), UTXO_OK);
    master[31] ^= 1;
    ck_assert_int_eq(utxo_seed_derive(b, master, 5), UTXO_OK);
    ck_assert_mem_ne(a, b, 32);
}
END_TEST

START_TEST(sign_sighash)
{
    uint8_t seed[32] = {1}, pk[32], sk[64], msg[32] = {9}, sig[64];

    ck_assert_int_eq(utxo_keypair_from_seed(pk, sk, seed), UTXO_OK);
    ck_assert_int_eq(utxo_sign_sighash(sig, msg, sk), UTXO_OK);
    ck_assert_int_eq(crypto_sign_verify_detached(sig, msg, 32, pk), 0);
    msg[0] ^= 1;
    ck_assert_int_ne(crypto_sign_verify_detached(sig, msg, 32, pk), 0);
    ck_assert_int_eq(utxo_seed_random(seed), UTXO_OK);
}
END_TEST

/* addresses: BIP-350 reference algorithm (Python), pinned */
#define ADDR_ZERO "utxo1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq78cnrg"
#define ADDR_11 "utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs9j57fx"
/* the p2pk address of the key 11..11 (its id is pinned in docs/PREDICATES.md) */
#define ADDR_P2PK11 "utxo1qfh09jyx5tckl0xk3z042w73wyrnns4hpk3xg9szn8efr79emu3vq8380qf"

START_TEST(address_vectors)
{
    uint8_t id[32], back[32], pk[32];
    char a[UTXO_ADDRESS_LEN + 1], up[UTXO_ADDRESS_LEN + 1];

    memset(id, 0, 32);
    ck_assert_int_eq(utxo_address_encode(a, id), UTXO_OK);
    ck_assert_str_eq(a, ADDR_ZERO);
    memset(id, 0x11, 32);
    ck_assert_int_eq(utxo_address_encode(a, id), UTXO_OK);
    ck_assert_str_eq(a, ADDR_11);
    ck_assert_uint_eq(strlen(a), UTXO_ADDRESS_LEN);
    ck_assert_int_eq(utxo_address_decode(back, a), UTXO_OK);
    ck_assert_mem_eq(back, id, 32);
    /* all uppercase is the same address */
    for (size_t i = 0; i <= UTXO_ADDRESS_LEN; i++)
        up[i] = (char)(a[i] >= 'a' && a[i] <= 'z' ? a[i] - 32 : a[i]);
    ck_assert_int_eq(utxo_address_decode(back, up), UTXO_OK);
    ck_assert_mem_eq(back, id, 32);
    memset(pk, 0x11, 32);
    ck_assert_int_eq(utxo_address_from_pubkey(a, pk), UTXO_OK);
    ck_assert_str_eq(a, ADDR_P2PK11);
    ck_assert_int_eq(utxo_address_decode(back, a), UTXO_OK);
    ck_assert_hex_eq(back, 32, "4dde5910d45e2df79ad113eaa77a2e20e73856e1b44c82c0533e523f173be458");
    ck_assert_int_eq(utxo_p2pk_id(id, pk), UTXO_OK);
    ck_assert_mem_eq(back, id, 32);
}
END_TEST

START_TEST(address_roundtrip_random)
{
    uint64_t s = 42;
    uint8_t id[32], back[32];
    char a[UTXO_ADDRESS_LEN + 1];

    for (int i = 0; i < 2000; i++) {
        rng_fill(&s, id, 32);
        ck_assert_int_eq(utxo_address_encode(a, id), UTXO_OK);
        ck_assert_int_eq(utxo_address_decode(back, a), UTXO_OK);
        ck_assert_mem_eq(back, id, 32);
    }
}
END_TEST

/* Every position, every other printable character: rejected, id zeroed. */
START_TEST(address_single_char_changes)
{
    const char *addrs[] = {ADDR_ZERO, ADDR_11, ADDR_P2PK11};
    uint8_t id[32];
    unsigned tried = 0, checksum = 0;

    for (size_t k = 0; k < 3; k++) {
        for (size_t pos = 0; pos < UTXO_ADDRESS_LEN; pos++) {
            for (int c = 33; c <= 126; c++) {
                char a[UTXO_ADDRESS_LEN + 1];
                int rc;
                if (c == addrs[k][pos])
                    continue;
                memcpy(a, addrs[k], sizeof a);
                a[pos] = (char)c;
                memset(id, 0xee, 32);
                rc = utxo_address_decode(id, a);
                ck_assert_msg(rc == UTXO_ERR_ADDRESS_CHECKSUM || rc == UTXO_ERR_ADDRESS_FORMAT,
                              "%s accepted (rc %d)", a, rc);
                for (int i = 0; i < 32; i++)
                    ck_assert_uint_eq(id[i], 0);
                tried++;
                checksum += rc == UTXO_ERR_ADDRESS_CHECKSUM;
            }
        }
    }
    ck_assert_uint_eq(tried, 3 * UTXO_ADDRESS_LEN * 93);
    /* the substitutions inside the data part that stay in the alphabet are
     * caught by the checksum itself: 59 positions x 31 letters per address */
    ck_assert_uint_eq(checksum, 3 * 59 * 31);
}
END_TEST

START_TEST(address_transpositions)
{
    uint8_t id[32];

    for (size_t pos = 0; pos + 1 < UTXO_ADDRESS_LEN; pos++) {
        char a[UTXO_ADDRESS_LEN + 1];
        memcpy(a, ADDR_P2PK11, sizeof a);
        if (a[pos] == a[pos + 1])
            continue;
        char t = a[pos];
        a[pos] = a[pos + 1];
        a[pos + 1] = t;
        ck_assert_int_ne(utxo_address_decode(id, a), UTXO_OK);
    }
}
END_TEST

START_TEST(address_bad_forms)
{
    uint8_t id[32];
    char a[UTXO_ADDRESS_LEN + 2];

    /* valid Bech32m, but another prefix / length / version / padding */
    ck_assert_int_eq(utxo_address_decode(id, "utxa1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygst7ydwl"),
                     UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, "utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zylcy64j"),
                     UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, "utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zjpypdm"),
                     UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, "utxo1pzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygs6eym5c"),
                     UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, "utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3cyqt55"),
                     UTXO_ERR_ADDRESS_FORMAT);
    /* the same data with a Bech32 (not Bech32m) checksum */
    ck_assert_int_eq(utxo_address_decode(id, "utxo1qzyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygsswyjvy"),
                     UTXO_ERR_ADDRESS_CHECKSUM);
    /* truncation, extension, mixed case, empty */
    memcpy(a, ADDR_11, UTXO_ADDRESS_LEN + 1);
    a[UTXO_ADDRESS_LEN - 1] = '\0';
    ck_assert_int_eq(utxo_address_decode(id, a), UTXO_ERR_ADDRESS_FORMAT);
    memcpy(a, ADDR_11, UTXO_ADDRESS_LEN);
    a[UTXO_ADDRESS_LEN] = 'q';
    a[UTXO_ADDRESS_LEN + 1] = '\0';
    ck_assert_int_eq(utxo_address_decode(id, a), UTXO_ERR_ADDRESS_FORMAT);
    memcpy(a, ADDR_11, UTXO_ADDRESS_LEN + 1);
    a[0] = 'U';
    ck_assert_int_eq(utxo_address_decode(id, a), UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, ""), UTXO_ERR_ADDRESS_FORMAT);
    ck_assert_int_eq(utxo_address_decode(id, NULL), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_address_decode(NULL, ADDR_11), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_address_encode(NULL, id), UTXO_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("keys");
    TCase *tc = tcase_create("keys");
    SRunner *sr;
    int failed;

    if (sodium_init() < 0)
        return 1;
    tcase_add_test(tc, keypair_rfc8032);
    tcase_add_test(tc, derive_vectors);
    tcase_add_test(tc, derive_distinct);
    tcase_add_test(tc, sign_sighash);
    tcase_add_test(tc, address_vectors);
    tcase_add_test(tc, address_roundtrip_random);
    tcase_add_test(tc, address_single_char_changes);
    tcase_add_test(tc, address_transpositions);
    tcase_add_test(tc, address_bad_forms);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
