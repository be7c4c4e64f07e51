/*
 * test_builder.c — standard predicates from C and the transaction builder
 * (src/predicates/stdwit.c, src/wallet/builder.c): instance images and their recognition,
 * the exact fee (size and cycle price of the final transaction) under two
 * fee schedules, change and the dust threshold on both sides of the
 * boundary, overflow and insufficient funds, coin selection order, signed
 * transactions accepted by the validator (utxo_verifier_tx, independently
 * of the builder) and tampered ones rejected, a 2-of-3 multisig signed by
 * two parties separately and merged, and every standard predicate spent
 * through the builder within its planned budget.
 */
#include "config.h"

#include <gmp.h>
#include <sodium.h>
#include "testutil.h"
#include "predicates/stdpred.h"

typedef struct party {
    uint8_t pk[32], sk[64], img[UTXO_STD_IMAGE_MAX_BYTES], id[32];
    size_t img_len;
} party;

static void party_init(party *p, uint32_t i)
{
    static const uint8_t master[32] = {0xab, 0xcd};

    ck_assert_int_eq(utxo_keypair_derive(p->pk, p->sk, master, i), UTXO_OK);
    ck_assert_int_eq(utxo_std_p2pk_image(p->img, sizeof p->img, &p->img_len, p->pk), UTXO_OK);
    utxo_predicate_id(p->id, p->img, p->img_len);
}

/* A coin of value guarded by image (borrowed), at outpoint (tag.., idx). */
static utxo_coin coin_of(const uint8_t *img, size_t img_len, uint8_t tag, uint32_t idx,
                         uint64_t value)
{
    utxo_coin c;

    memset(&c, 0, sizeof c);
    memset(c.outpoint.txid, tag, 32);
    c.outpoint.index = idx;
    c.output.value = value;
    utxo_predicate_id(c.output.predicate_id, img, img_len);
    c.image = img;
    c.image_len = img_len;
    return c;
}

/* The validator's own verdict on tx spending coins[0..n). */
static int validate(const utxo_params *p, const utxo_tx *tx, const utxo_coin *coins, size_t n,
                    uint32_t height, utxo_verdict *v)
{
    utxo_output spent[8];
    utxo_verifier *ver = utxo_verifier_new(p, 1);
    int rc;

    ck_assert_ptr_nonnull(ver);
    ck_assert_uint_le(n, 8);
    for (size_t i = 0; i < n; i++)
        spent[i] = coins[i].output;
    rc = utxo_verifier_tx(ver, tx, spent, height, v);
    utxo_verifier_free(ver);
    return rc;
}

START_TEST(std_images_identify)
{
    uint8_t img[UTXO_STD_IMAGE_MAX_BYTES], params[600], pks[3][32], h[32], n[256];
    size_t len, pl;
    party a, b;
    int kind;

    party_init(&a, 0);
    party_init(&b, 1);
    memcpy(pks[0], a.pk, 32);
    memcpy(pks[1], b.pk, 32);
    memset(pks[2], 7, 32);
    utxo_std_secret_hash(h, (const uint8_t *)"secret", 6);
    memset(n, 0xc5, sizeof n); /* top bit set, odd */
    struct {
        int kind;
        int rc;
        size_t plen;
    } cases[6];
    ck_assert_int_eq(utxo_std_p2pk_image(img, sizeof img, &len, a.pk), UTXO_OK);
    ck_assert_uint_eq(len, 302);
    ck_assert_int_eq(utxo_std_identify(&kind, params, sizeof params, &pl, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_P2PK);
    ck_assert_uint_eq(pl, 32);
    ck_assert_mem_eq(params, a.pk, 32);
    (void)cases;
    ck_assert_int_eq(utxo_std_multisig_image(img, sizeof img, &len, 2, 3, (const uint8_t(*)[32])pks),
                     UTXO_OK);
    ck_assert_int_eq(utxo_std_identify(&kind, params, sizeof params, &pl, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_MULTISIG);
    ck_assert_uint_eq(pl, 4 + 96);
    ck_assert_uint_eq(params[0], 2);
    ck_assert_uint_eq(params[1], 3);
    /* the largest parameters, 16 keys: UTXO_STD_PARAMS_MAX suffices, one
     * byte fewer than they take is refused (standard.h) */
    {
        uint8_t many[16][32], big[UTXO_STD_PARAMS_MAX];
        memset(many, 3, sizeof many);
        ck_assert_int_eq(utxo_std_multisig_image(img, sizeof img, &len, 16, 16,
                                                 (const uint8_t(*)[32])many),
                         UTXO_OK);
        ck_assert_int_eq(utxo_std_identify(&kind, big, sizeof big, &pl, img, len), UTXO_OK);
        ck_assert_uint_eq(pl, 516);
        ck_assert_int_eq(utxo_std_identify(&kind, big, 515, &pl, img, len), UTXO_ERR_ARG);
        ck_assert_int_eq(kind, UTXO_STD_NONE);
        ck_assert_uint_eq(pl, 0);
    }
    ck_assert_int_eq(utxo_std_hashlock_image(img, sizeof img, &len, h), UTXO_OK);
    ck_assert_int_eq(utxo_std_identify(&kind, NULL, 0, NULL, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_HASHLOCK);
    ck_assert_int_eq(utxo_std_timelock_image(img, sizeof img, &len, a.pk, 77), UTXO_OK);
    ck_assert_int_eq(utxo_std_identify(&kind, params, sizeof params, &pl, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_TIMELOCK);
    ck_assert_uint_eq(params[32], 77);
    ck_assert_int_eq(utxo_std_htlc_image(img, sizeof img, &len, h, a.pk, b.pk, 9), UTXO_OK);
    ck_assert_int_eq(utxo_std_identify(&kind, NULL, 0, NULL, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_HTLC);
    ck_assert_int_eq(utxo_std_rsa_image(img, sizeof img, &len, n), UTXO_OK);
    ck_assert_int_eq(utxo_std_identify(&kind, NULL, 0, NULL, img, len), UTXO_OK);
    ck_assert_int_eq(kind, UTXO_STD_RSA);
    /* one changed code byte: not standard any more */
    img[len - 300] ^= 1;
    ck_assert_int_eq(utxo_std_identify(&kind, NULL, 0, NULL, img, len), UTXO_ERR_NOT_STANDARD);
    ck_assert_int_eq(kind, UTXO_STD_NONE);
    /* bad parameters */
    ck_assert_int_eq(utxo_std_multisig_image(img, sizeof img, &len, 4, 3, (const uint8_t(*)[32])pks),
                     UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_std_multisig_image(img, sizeof img, &len, 0, 3, (const uint8_t(*)[32])pks),
                     UTXO_ERR_ARG);
    n[255] &= 0xfe; /* even modulus */
    ck_assert_int_eq(utxo_std_rsa_image(img, sizeof img, &len, n), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_std_p2pk_image(img, 100, &len, a.pk), UTXO_ERR_ARG);
    ck_assert_uint_eq(len, 0);
    /* no place for the length: refused, and the buffer zeroed all the same */
    memset(img, 0xee, sizeof img);
    ck_assert_int_eq(utxo_std_p2pk_image(img, sizeof img, NULL, a.pk), UTXO_ERR_ARG);
    for (size_t i = 0; i < sizeof img; i++)
        ck_assert_uint_eq(img[i], 0);
}
END_TEST

START_TEST(multisig_args_layout)
{
    uint8_t sigs[16][64], back[16][64], args[4 + 16 * 64];
    uint32_t present;
    size_t len;

    for (int i = 0; i < 16; i++)
        memset(sigs[i], i + 1, 64);
    ck_assert_int_eq(utxo_std_multisig_args(args, sizeof args, &len, 0x5, (const uint8_t(*)[64])sigs, 3),
                     UTXO_OK);
    ck_assert_uint_eq(len, 4 + 128);
    ck_assert_uint_eq(args[0], 5);
    ck_assert_uint_eq(args[4], 1);
    ck_assert_uint_eq(args[4 + 64], 3);
    ck_assert_int_eq(utxo_std_multisig_args_parse(&present, back, 3, args, len), UTXO_OK);
    ck_assert_uint_eq(present, 5);
    ck_assert_mem_eq(back[0], sigs[0], 64);
    ck_assert_mem_eq(back[2], sigs[2], 64);
    ck_assert_int_eq(utxo_std_multisig_args_parse(&present, back, 3, args, len - 1), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_std_multisig_args_parse(&present, back, 2, args, len), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_std_multisig_args(args, sizeof args, &len, 0x8, (const uint8_t(*)[64])sigs, 3),
                     UTXO_ERR_ARG);
    /* every failure zeroes the output, as standard.h says (a present bit
     * past n, n = 0, and for the htlc claim a buffer too short, left it as
     * it was) */
    static const uint8_t zero[4 + 16 * 64];
    memset(args, 0xa5, sizeof args);
    ck_assert_int_eq(utxo_std_multisig_args(args, sizeof args, &len, 0x8, (const uint8_t(*)[64])sigs, 2),
                     UTXO_ERR_ARG);
    ck_assert_mem_eq(args, zero, sizeof args);
    memset(args, 0xa5, sizeof args);
    ck_assert_int_eq(utxo_std_multisig_args(args, sizeof args, &len, 0, (const uint8_t(*)[64])sigs, 0),
                     UTXO_ERR_ARG);
    ck_assert_mem_eq(args, zero, sizeof args);
    memset(args, 0xa5, sizeof args);
    ck_assert_int_eq(utxo_std_htlc_claim_args(args, 60, &len, sigs[0], sigs[1], 32), UTXO_ERR_ARG);
    ck_assert_mem_eq(args, zero, 60);
    ck_assert_uint_eq(len, 0);
    /* parsing: the n signatures are zeroed on every failure too (with no
     * place for the bitmap, or no argument bytes behind a length) */
    ck_assert_int_eq(utxo_std_multisig_args(args, sizeof args, &len, 0x5, (const uint8_t(*)[64])sigs, 3),
                     UTXO_OK);
    memset(back, 0xa5, sizeof back);
    ck_assert_int_eq(utxo_std_multisig_args_parse(NULL, back, 3, args, len), UTXO_ERR_ARG);
    ck_assert_mem_eq(back, zero, 3 * 64);
    memset(back, 0xa5, sizeof back);
    ck_assert_int_eq(utxo_std_multisig_args_parse(&present, back, 3, NULL, len), UTXO_ERR_ARG);
    ck_assert_mem_eq(back, zero, 3 * 64);
    ck_assert_uint_eq(present, 0);
}
END_TEST

/* One p2pk coin, a payment and change: the fee is exactly the final
 * transaction's minimum fee, under the default and a steeper schedule. */
START_TEST(exact_fee_and_change)
{
    for (int sched = 0; sched < 2; sched++) {
        utxo_params p;
        utxo_builder *b;
        party a, c;
        utxo_coin coin;
        utxo_verdict v;
        const utxo_tx *tx;
        uint64_t fee, len;

        utxo_params_default(&p);
        if (sched) {
            p.fee_per_byte = 3;
            p.fee_per_kcycle = 5;
            utxo_params_chain_id(&p);
        }
        party_init(&a, 0);
        party_init(&c, 1);
        coin = coin_of(a.img, a.img_len, 1, 0, 1000000);
        b = utxo_builder_new(&p, 10);
        ck_assert_ptr_nonnull(b);
        ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_builder_add_output(b, 100000, c.id, NULL, 0), UTXO_OK);
        ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
        ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
        ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_ERR_UNSIGNED);
        ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_ERR_BUILDER_STATE);
        ck_assert_int_eq(utxo_builder_sign(b, c.sk, NULL), UTXO_ERR_NO_KEY);
        ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_OK);
        tx = utxo_builder_tx(b);
        fee = utxo_builder_fee(b);
        len = utxo_tx_get_length(tx, true);
        /* size price + ceil(26624 / 1024) = 26 kcycles of budget */
        ck_assert_uint_eq(tx->inputs[0].witness.budget, 26624);
        ck_assert_uint_eq(fee, len * p.fee_per_byte + 26 * p.fee_per_kcycle);
        ck_assert_uint_eq(fee, utxo_tx_min_fee(tx, &p));
        ck_assert_uint_eq(v.fees, fee);
        ck_assert_uint_eq(tx->n_outputs, 2);
        ck_assert_uint_eq(tx->outputs[0].value, 100000);
        ck_assert_uint_eq(tx->outputs[1].value, 1000000 - 100000 - fee);
        ck_assert_uint_eq(utxo_builder_change(b), 1000000 - 100000 - fee);
        ck_assert_mem_eq(tx->outputs[1].predicate_id, a.id, 32);
        /* the validator, independently, agrees */
        ck_assert_int_eq(validate(&p, tx, &coin, 1, 10, &v), UTXO_OK);
        ck_assert_uint_eq(v.fees, fee);
        ck_assert_uint_eq(utxo_builder_get_length(b), len);
        utxo_builder_free(b);
    }
    utxo_builder_free(NULL);
}
END_TEST

START_TEST(dust_rule)
{
    utxo_params p;
    utxo_builder *b;
    party a, c;
    utxo_coin coin;
    uint64_t d, fee_c;
    const utxo_tx *tx;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    d = utxo_dust_threshold(&p);
    /* a p2pk input: 36 + 8 + 2 + 302 + 1 + 64 = 413 bytes, 26 kcycles */
    ck_assert_uint_eq(d, 413 + 26);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_output(b, d - 1, c.id, NULL, 0), UTXO_ERR_DUST);
    ck_assert_int_eq(utxo_builder_add_output(b, 0, c.id, NULL, 0), UTXO_ERR_DUST);
    ck_assert_int_eq(utxo_builder_add_output(b, d, c.id, NULL, 0), UTXO_OK);
    utxo_builder_free(b);

    /* the fee with a change output, from a large coin */
    coin = coin_of(a.img, a.img_len, 2, 0, 10000000);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    fee_c = utxo_builder_fee(b);
    utxo_builder_free(b);

    /* change of exactly d: paid */
    coin = coin_of(a.img, a.img_len, 2, 0, 50000 + fee_c + d);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_uint_eq(utxo_builder_change(b), d);
    ck_assert_uint_eq(utxo_builder_fee(b), fee_c);
    ck_assert_uint_eq(utxo_builder_tx(b)->n_outputs, 2);
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, NULL), UTXO_OK);
    utxo_builder_free(b);

    /* change of d - 1: left to the fee, no change output */
    coin = coin_of(a.img, a.img_len, 2, 0, 50000 + fee_c + d - 1);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    tx = utxo_builder_tx(b);
    ck_assert_uint_eq(utxo_builder_change(b), 0);
    ck_assert_uint_eq(tx->n_outputs, 1);
    ck_assert_uint_eq(utxo_builder_fee(b), fee_c + d - 1);
    ck_assert_uint_gt(utxo_builder_fee(b), utxo_tx_min_fee(tx, &p));
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, NULL), UTXO_OK);
    utxo_builder_free(b);

    /* no change id: excess below dust is fee; from dust on it is refused */
    coin = coin_of(a.img, a.img_len, 2, 0, 50000 + fee_c + d - 1);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    utxo_builder_free(b);
    coin = coin_of(a.img, a.img_len, 2, 0, 50000 + fee_c + d);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_BUILDER_STATE);
    utxo_builder_free(b);
}
END_TEST

/* With max_outputs = 1 a change output never fits: excess below dust goes
 * to the fee, more is refused with the count rule's error. */
START_TEST(no_room_for_change)
{
    utxo_params p;
    utxo_builder *b;
    party a, c;
    utxo_coin coin;
    uint64_t fee;

    utxo_params_default(&p);
    p.max_outputs = 1;
    utxo_params_chain_id(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    coin = coin_of(a.img, a.img_len, 7, 0, 1000000);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 500000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_TX_COUNT);
    utxo_builder_free(b);
    /* the same payment sized to leave 100 (< dust) over the fee */
    b = utxo_builder_new(&p, 0);
    coin.output.value = 2000000;
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 1000000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_TX_COUNT);
    utxo_builder_free(b);
    /* learn the fee without change: FUNDS reports the fee it needed */
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_output(b, 1000000, c.id, NULL, 0), UTXO_OK);
    coin.output.value = 1000000;
    ck_assert_int_eq(utxo_builder_add_coin(b, &coin), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_FUNDS);
    fee = utxo_builder_fee(b);
    utxo_builder_free(b);
    /* 100 over that fee: below dust, left to the fee */
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_output(b, 1000000, c.id, NULL, 0), UTXO_OK);
    coin.output.value = 1000000 + fee + 100;
    ck_assert_int_eq(utxo_builder_add_coin(b, &coin), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_uint_eq(utxo_builder_fee(b), fee + 100);
    ck_assert_uint_eq(utxo_builder_change(b), 0);
    ck_assert_uint_eq(utxo_builder_tx(b)->n_outputs, 1);
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, NULL), UTXO_OK);
    utxo_builder_free(b);
}
END_TEST

START_TEST(overflow_and_funds)
{
    utxo_params p;
    utxo_builder *b;
    party a, c;
    utxo_coin big, one, small;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_output(b, UTXO_MAX_MONEY + 1, c.id, NULL, 0), UTXO_ERR_TX_VALUE);
    ck_assert_int_eq(utxo_builder_add_output(b, UTXO_MAX_MONEY / 2 + 1, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, UTXO_MAX_MONEY / 2 + 1, c.id, NULL, 0),
                     UTXO_ERR_TX_VALUE);
    ck_assert_int_eq(utxo_builder_add_output(b, UINT64_MAX, c.id, NULL, 0), UTXO_ERR_TX_VALUE);
    big = coin_of(a.img, a.img_len, 3, 0, UTXO_MAX_MONEY);
    one = coin_of(a.img, a.img_len, 3, 1, 1);
    ck_assert_int_eq(utxo_builder_add_input(b, &big, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_input(b, &big, NULL), UTXO_ERR_TX_DUP_INPUT);
    ck_assert_int_eq(utxo_builder_add_input(b, &one, NULL), UTXO_ERR_TX_VALUE);
    big.output.value = UTXO_MAX_MONEY + 1;
    big.outpoint.index = 9;
    ck_assert_int_eq(utxo_builder_add_coin(b, &big), UTXO_ERR_TX_VALUE);
    utxo_builder_free(b);

    /* not enough: FUNDS, with the fee the attempt needed */
    small = coin_of(a.img, a.img_len, 4, 0, 5000);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_coin(b, &small), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 4900, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_FUNDS);
    ck_assert_uint_gt(utxo_builder_fee(b), 100);
    utxo_builder_free(b);
    /* no output, no input */
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_TX_NO_OUTPUTS);
    ck_assert_int_eq(utxo_builder_add_output(b, 4900, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_TX_NO_INPUTS);
    utxo_builder_free(b);
    /* the wrong image for a coin */
    small.image = c.img;
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &small, NULL), UTXO_ERR_ARG);
    utxo_builder_free(b);
}
END_TEST

START_TEST(coin_selection)
{
    static const uint64_t vals[6] = {30000, 50000, 10000, 50000, 20000, 7000};
    utxo_params p;
    utxo_builder *b;
    utxo_coin coins[6];
    party a, c;
    const utxo_tx *tx;
    utxo_verdict v;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    b = utxo_builder_new(&p, 0);
    for (int i = 0; i < 6; i++) {
        coins[i] = coin_of(a.img, a.img_len, (uint8_t)(10 + i), (uint32_t)i, vals[i]);
        ck_assert_int_eq(utxo_builder_add_coin(b, &coins[i]), UTXO_OK);
    }
    ck_assert_int_eq(utxo_builder_add_coin(b, &coins[2]), UTXO_ERR_TX_DUP_INPUT);
    /* a candidate is refused as an input too, at once (it used to be taken
     * and the duplicate found only by finalize, as TX_DUP_INPUT) */
    ck_assert_int_eq(utxo_builder_add_input(b, &coins[2], NULL), UTXO_ERR_TX_DUP_INPUT);
    /* 100,000 + fee needs the two 50,000 coins and the 30,000 one */
    ck_assert_int_eq(utxo_builder_add_output(b, 100000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    tx = utxo_builder_tx(b);
    ck_assert_uint_eq(tx->n_inputs, 3);
    /* largest first, ties by outpoint: tag 11 before tag 13, then 30,000 */
    ck_assert_uint_eq(tx->inputs[0].prevout.txid[0], 11);
    ck_assert_uint_eq(tx->inputs[1].prevout.txid[0], 13);
    ck_assert_uint_eq(tx->inputs[2].prevout.txid[0], 10);
    ck_assert_uint_eq(utxo_builder_change(b), 130000 - 100000 - utxo_builder_fee(b));
    {
        unsigned n = 0;
        ck_assert_int_eq(utxo_builder_sign(b, a.sk, &n), UTXO_OK);
        ck_assert_uint_eq(n, 3);
    }
    /* the fee was fixed before the signatures existed and fits them exactly */
    tx = utxo_builder_tx(b);
    ck_assert_uint_eq(utxo_builder_fee(b), utxo_tx_get_length(tx, true) + 3 * 26);
    ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_OK);
    {
        utxo_coin used[3] = {coins[1], coins[3], coins[0]};
        ck_assert_int_eq(validate(&p, utxo_builder_tx(b), used, 3, 0, &v), UTXO_OK);
    }
    utxo_builder_free(b);
}
END_TEST

/* A candidate as the selection should see it. */
typedef struct cand_ref {
    uint64_t value;
    utxo_outpoint op;
} cand_ref;

static int cmp_cand_ref(const void *pa, const void *pb)
{
    const cand_ref *a = pa, *b = pb;
    int c;

    if (a->value != b->value)
        return a->value > b->value ? -1 : 1;
    if ((c = memcmp(a->op.txid, b->op.txid, 32)) != 0)
        return c;
    return a->op.index < b->op.index ? -1 : a->op.index > b->op.index;
}

/* Thousands of candidates, offered in a scrambled order with many equal
 * values and outpoints sharing their txid, some not eligible (a time lock
 * not yet open, a hash lock): the builder takes them in the documented
 * order (value down, then txid bytes, then index), computed here with
 * qsort, and refuses every outpoint offered again, as a candidate or as an
 * input. */
START_TEST(coin_selection_many)
{
    enum { N = 4000 };
    static const uint64_t vals[4] = {2000, 5000, 5000, 9000};
    uint8_t lock_img[UTXO_STD_IMAGE_MAX_BYTES], hl_img[UTXO_STD_IMAGE_MAX_BYTES], h[32] = {7};
    size_t lock_len = 0, hl_len = 0, n_exp = 0;
    utxo_params p;
    utxo_builder *b;
    utxo_coin *coins = calloc(N, sizeof *coins);
    cand_ref *exp = calloc(N, sizeof *exp);
    party a, c;
    const utxo_tx *tx;
    uint64_t want = 0, s = 0x9e3779b97f4a7c15ull;

    ck_assert_ptr_nonnull(coins);
    ck_assert_ptr_nonnull(exp);
    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    ck_assert_int_eq(utxo_std_timelock_image(lock_img, sizeof lock_img, &lock_len, a.pk, 50),
                     UTXO_OK);
    ck_assert_int_eq(utxo_std_hashlock_image(hl_img, sizeof hl_img, &hl_len, h), UTXO_OK);
    b = utxo_builder_new(&p, 10);
    ck_assert_ptr_nonnull(b);
    for (uint32_t i = 0; i < N; i++) {
        /* a permutation of 0..N-1 (N is even, 1999 odd and prime to it) */
        uint32_t k = (i * 1999u) % N;
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        if (k % 10 == 3)
            coins[i] = coin_of(lock_img, lock_len, (uint8_t)(k % 7), k, vals[s % 4]);
        else if (k % 10 == 7)
            coins[i] = coin_of(hl_img, hl_len, (uint8_t)(k % 7), k, vals[s % 4]);
        else {
            coins[i] = coin_of(a.img, a.img_len, (uint8_t)(k % 7), k % 600, vals[s % 4]);
            coins[i].outpoint.txid[31] = (uint8_t)(k / 600); /* same prefix, other txid */
            exp[n_exp].value = coins[i].output.value;
            exp[n_exp++].op = coins[i].outpoint;
        }
        ck_assert_int_eq(utxo_builder_add_coin(b, &coins[i]), UTXO_OK);
    }
    for (uint32_t i = 0; i < N; i++) {
        ck_assert_int_eq(utxo_builder_add_coin(b, &coins[i]), UTXO_ERR_TX_DUP_INPUT);
        ck_assert_int_eq(utxo_builder_add_input(b, &coins[i], NULL), UTXO_ERR_TX_DUP_INPUT);
    }
    qsort(exp, n_exp, sizeof *exp, cmp_cand_ref);
    /* the 60 largest cover this, the first 50 do not (with the fee) */
    for (size_t i = 0; i < 50; i++)
        want += exp[i].value;
    ck_assert_int_eq(utxo_builder_add_output(b, want, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    tx = utxo_builder_tx(b);
    ck_assert_uint_gt(tx->n_inputs, 50);
    ck_assert_uint_lt(tx->n_inputs, 60);
    for (uint32_t i = 0; i < tx->n_inputs; i++)
        ck_assert_msg(memcmp(&tx->inputs[i].prevout, &exp[i].op, sizeof exp[i].op) == 0,
                      "input %u is not the %u-th candidate in order", i, i);
    utxo_builder_free(b);
    free(coins);
    free(exp);
}
END_TEST

START_TEST(signed_accepted_tampered_rejected)
{
    utxo_params p;
    utxo_builder *b;
    party a, c;
    utxo_coin coin;
    utxo_tx *tx = NULL;
    utxo_verdict v;
    uint8_t buf[4096];
    size_t w = 0;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    coin = coin_of(a.img, a.img_len, 5, 3, 777777);
    b = utxo_builder_new(&p, 3);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 5000, c.id, (const uint8_t *)"memo", 4), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_to_bytes(b, buf, sizeof buf, &w), UTXO_ERR_BUILDER_STATE);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_BUILDER_STATE);
    ck_assert_int_eq(utxo_builder_get_tx(b, &tx), UTXO_ERR_UNSIGNED);
    ck_assert_ptr_null(tx);
    ck_assert(!utxo_builder_complete(b));
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
    ck_assert(utxo_builder_complete(b));
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_ERR_NO_KEY); /* nothing left */
    ck_assert_int_eq(utxo_builder_to_bytes(b, buf, sizeof buf, &w), UTXO_OK);
    ck_assert_uint_eq(w, utxo_builder_get_length(b));
    ck_assert_int_eq(utxo_tx_from_bytes(&tx, buf, w, &p, NULL), UTXO_OK);
    ck_assert_int_eq(validate(&p, tx, &coin, 1, 3, &v), UTXO_OK);
    /* a flipped signature bit: the validator rejects, at input 0, exit 2 */
    tx->inputs[0].witness.args[5] ^= 0x10;
    ck_assert_int_eq(validate(&p, tx, &coin, 1, 3, &v), UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(v.input, 0);
    ck_assert_uint_eq(v.vm.exit_code, 2);
    /* ... and so does the builder when handed those arguments */
    ck_assert_int_eq(utxo_builder_merge(b, tx), UTXO_OK); /* complete: nothing taken */
    utxo_tx_free(tx);
    /* the same signature on another chain is worthless */
    {
        utxo_params q = p;
        q.genesis_time = 1;
        utxo_params_chain_id(&q);
        ck_assert_int_eq(utxo_tx_from_bytes(&tx, buf, w, &p, NULL), UTXO_OK);
        ck_assert_int_eq(validate(&q, tx, &coin, 1, 3, &v), UTXO_ERR_TX_REJECTED);
        utxo_tx_free(tx);
    }
    utxo_builder_free(b);
}
END_TEST

/* A 2-of-3 multisig coin: the coordinator finalizes, two parties each sign
 * their own copy from the serialized transaction, the coordinator merges. */
START_TEST(multisig_2of3_separate_signers)
{
    uint8_t pks[3][32], img[UTXO_STD_IMAGE_MAX_BYTES], buf[8192], mid[32];
    utxo_params p;
    party k[3], dest;
    utxo_builder *coord, *s1, *s2, *s0;
    utxo_tx *unsigned_tx, *part1, *part2, *part0, *t;
    utxo_coin coin;
    utxo_verdict v;
    size_t il, w;
    unsigned n;

    utxo_params_default(&p);
    for (uint32_t i = 0; i < 3; i++) {
        party_init(&k[i], 20 + i);
        memcpy(pks[i], k[i].pk, 32);
    }
    party_init(&dest, 5);
    ck_assert_int_eq(utxo_std_multisig_image(img, sizeof img, &il, 2, 3, (const uint8_t(*)[32])pks),
                     UTXO_OK);
    utxo_predicate_id(mid, img, il);
    coin = coin_of(img, il, 6, 0, 900000);
    coord = utxo_builder_new(&p, 1);
    ck_assert_int_eq(utxo_builder_add_input(coord, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(coord, 250000, dest.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(coord, mid), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(coord), UTXO_OK);
    /* budget for two signatures; fee counts 4 + 2 x 64 argument bytes */
    ck_assert_uint_eq(utxo_builder_tx(coord)->inputs[0].witness.budget, 4096 + 2 * 22528);
    ck_assert_int_eq(utxo_tx_to_bytes(utxo_builder_tx(coord), buf, sizeof buf, &w), UTXO_OK);
    ck_assert_int_eq(utxo_tx_from_bytes(&unsigned_tx, buf, w, &p, NULL), UTXO_OK);

    /* party 1 and party 2, each alone */
    ck_assert_int_eq(utxo_builder_from_tx(&s1, &p, 1, unsigned_tx, &coin, 1), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(s1, k[1].sk, &n), UTXO_OK);
    ck_assert_uint_eq(n, 1);
    ck_assert(!utxo_builder_complete(s1));
    ck_assert_int_eq(utxo_builder_check(s1, &v), UTXO_ERR_UNSIGNED);
    part1 = utxo_tx_clone(utxo_builder_tx(s1));
    ck_assert_uint_eq(part1->inputs[0].witness.args_len, 4 + 64);
    ck_assert_int_eq(utxo_builder_from_tx(&s2, &p, 1, unsigned_tx, &coin, 1), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(s2, k[2].sk, &n), UTXO_OK);
    part2 = utxo_tx_clone(utxo_builder_tx(s2));
    ck_assert_int_eq(utxo_builder_from_tx(&s0, &p, 1, unsigned_tx, &coin, 1), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(s0, k[0].sk, &n), UTXO_OK);
    part0 = utxo_tx_clone(utxo_builder_tx(s0));
    ck_assert_int_eq(utxo_builder_sign(s0, dest.sk, &n), UTXO_ERR_NO_KEY);

    /* a forged partial signature is refused */
    t = utxo_tx_clone(part1);
    t->inputs[0].witness.args[10] ^= 1;
    ck_assert_int_eq(utxo_builder_merge(coord, t), UTXO_ERR_SIGNATURE);
    utxo_tx_free(t);
    /* another transaction is refused */
    t = utxo_tx_clone(part1);
    t->outputs[0].value++;
    ck_assert_int_eq(utxo_builder_merge(coord, t), UTXO_ERR_MISMATCH);
    utxo_tx_free(t);

    ck_assert_int_eq(utxo_builder_merge(coord, part1), UTXO_OK);
    ck_assert(!utxo_builder_complete(coord));
    ck_assert_int_eq(utxo_builder_merge(coord, part2), UTXO_OK);
    ck_assert(utxo_builder_complete(coord));
    /* the third signature is not needed and not taken */
    ck_assert_int_eq(utxo_builder_merge(coord, part0), UTXO_OK);
    ck_assert_uint_eq(utxo_builder_tx(coord)->inputs[0].witness.args[0], 0x6);
    ck_assert_int_eq(utxo_builder_check(coord, &v), UTXO_OK);
    ck_assert_uint_le(v.cycles, utxo_std_budget(UTXO_STD_MULTISIG, 2, 0));
    printf("multisig 2-of-3 spend: %llu cycles\n", (unsigned long long)v.cycles);
    ck_assert_int_eq(validate(&p, utxo_builder_tx(coord), &coin, 1, 1, &v), UTXO_OK);
    /* and the parties 0 + 1 would have done as well */
    ck_assert_int_eq(utxo_builder_merge(s1, part0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(s1, &v), UTXO_OK);
    ck_assert_uint_eq(utxo_builder_tx(s1)->inputs[0].witness.args[0], 0x3);

    utxo_tx_free(unsigned_tx);
    utxo_tx_free(part0);
    utxo_tx_free(part1);
    utxo_tx_free(part2);
    utxo_builder_free(s0);
    utxo_builder_free(s1);
    utxo_builder_free(s2);
    utxo_builder_free(coord);
}
END_TEST

/* Spends coin (explicit input) paying 10,000 to dest; fn prepares input 0
 * and signs; returns the check's result and the cycles. */
typedef void (*prep_fn)(utxo_builder *b, void *arg);

static int spend_one(const utxo_params *p, uint32_t height, const utxo_coin *coin, prep_fn before,
                     prep_fn after, void *arg, uint64_t *cycles, uint64_t *budget)
{
    party dest;
    utxo_builder *b = utxo_builder_new(p, height);
    utxo_verdict v;
    int rc;

    party_init(&dest, 9);
    ck_assert_int_eq(utxo_builder_add_input(b, coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 10000, dest.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, dest.id), UTXO_OK);
    if (before)
        before(b, arg);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    if (after)
        after(b, arg);
    rc = utxo_builder_check(b, &v);
    *cycles = rc == UTXO_OK ? v.cycles : v.vm.exit_code;
    *budget = utxo_builder_tx(b)->inputs[0].witness.budget;
    if (rc == UTXO_OK)
        ck_assert_int_eq(validate(p, utxo_builder_tx(b), coin, 1, height, &v), UTXO_OK);
    utxo_builder_free(b);
    return rc;
}

struct sig_arg {
    const uint8_t *sk;
    const uint8_t *secret;
    size_t secret_len;
    bool refund;
};

static void prep_secret(utxo_builder *b, void *arg)
{
    struct sig_arg *a = arg;
    uint8_t wrong[3] = {1, 2, 3};

    ck_assert_int_eq(utxo_builder_set_secret(b, 0, wrong, 3), UTXO_ERR_ARG);
    if (a->refund)
        ck_assert_int_eq(utxo_builder_set_refund(b, 0), UTXO_OK);
    else
        ck_assert_int_eq(utxo_builder_set_secret(b, 0, a->secret, a->secret_len), UTXO_OK);
}

static void prep_sign(utxo_builder *b, void *arg)
{
    struct sig_arg *a = arg;

    if (a->sk)
        ck_assert_int_eq(utxo_builder_sign(b, a->sk, NULL), UTXO_OK);
}

START_TEST(every_standard_predicate)
{
    static const uint8_t secret[40] = "the secret of the hash-locked coin.....";
    uint8_t img[UTXO_STD_IMAGE_MAX_BYTES], h[32];
    utxo_params p;
    party a, r;
    utxo_coin coin;
    size_t il;
    uint64_t cyc, bud;
    struct sig_arg arg;

    utxo_params_default(&p);
    party_init(&a, 1);
    party_init(&r, 2);
    utxo_std_secret_hash(h, secret, sizeof secret);

    /* p2pk */
    coin = coin_of(a.img, a.img_len, 30, 0, 100000);
    arg = (struct sig_arg){a.sk, NULL, 0, false};
    ck_assert_int_eq(spend_one(&p, 0, &coin, NULL, prep_sign, &arg, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);
    printf("p2pk: %llu cycles, budget %llu\n", (unsigned long long)cyc, (unsigned long long)bud);

    /* time lock at height 50: refused by the validator below, accepted from 50 */
    ck_assert_int_eq(utxo_std_timelock_image(img, sizeof img, &il, a.pk, 50), UTXO_OK);
    coin = coin_of(img, il, 31, 0, 100000);
    ck_assert_int_eq(spend_one(&p, 49, &coin, NULL, prep_sign, &arg, &cyc, &bud),
                     UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(cyc, 4); /* exit code 4: height below H */
    ck_assert_int_eq(spend_one(&p, 50, &coin, NULL, prep_sign, &arg, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);

    /* hash lock: the secret alone */
    ck_assert_int_eq(utxo_std_hashlock_image(img, sizeof img, &il, h), UTXO_OK);
    coin = coin_of(img, il, 32, 0, 100000);
    arg = (struct sig_arg){NULL, secret, sizeof secret, false};
    ck_assert_int_eq(spend_one(&p, 0, &coin, prep_secret, NULL, &arg, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);
    printf("hashlock: %llu cycles, budget %llu\n", (unsigned long long)cyc, (unsigned long long)bud);

    /* HTLC: claim by r with the secret; refund by a from height 60 */
    ck_assert_int_eq(utxo_std_htlc_image(img, sizeof img, &il, h, r.pk, a.pk, 60), UTXO_OK);
    coin = coin_of(img, il, 33, 0, 100000);
    arg = (struct sig_arg){r.sk, secret, sizeof secret, false};
    ck_assert_int_eq(spend_one(&p, 0, &coin, prep_secret, prep_sign, &arg, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);
    printf("htlc claim: %llu cycles, budget %llu\n", (unsigned long long)cyc, (unsigned long long)bud);
    arg = (struct sig_arg){a.sk, NULL, 0, true};
    ck_assert_int_eq(spend_one(&p, 59, &coin, prep_secret, prep_sign, &arg, &cyc, &bud),
                     UTXO_ERR_TX_REJECTED);
    ck_assert_uint_eq(cyc, 4);
    ck_assert_int_eq(spend_one(&p, 60, &coin, prep_secret, prep_sign, &arg, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);
}
END_TEST

static void be_export(uint8_t *out, size_t len, const mpz_t x)
{
    size_t need = (mpz_sizeinbase(x, 2) + 7) / 8, w;

    memset(out, 0, len);
    mpz_export(out + len - need, &w, 1, 1, 0, 0, x);
}

static void prep_rsa(utxo_builder *b, void *arg)
{
    const uint8_t *nd = arg;
    uint8_t sh[32], sig[256];

    ck_assert_int_eq(utxo_builder_check(b, NULL), UTXO_ERR_UNSIGNED);
    ck_assert_int_eq(utxo_builder_sighash(b, sh), UTXO_OK);
    ck_assert_int_eq(utxo_std_rsa_sign(sig, sh, nd, nd + 256), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_args(b, 0, sig, 255), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_builder_set_args(b, 0, sig, 256), UTXO_OK);
}

START_TEST(rsa_through_builder)
{
    uint8_t nd[512], img[UTXO_STD_IMAGE_MAX_BYTES];
    gmp_randstate_t rs;
    mpz_t pp, q, n, e, d, phi, t;
    utxo_params p;
    utxo_coin coin;
    size_t il;
    uint64_t cyc, bud;

    gmp_randinit_default(rs);
    gmp_randseed_ui(rs, 8);
    mpz_inits(pp, q, n, e, d, phi, t, NULL);
    mpz_set_ui(e, 65537);
    do {
        mpz_urandomb(pp, rs, 1024);
        mpz_setbit(pp, 1023);
        mpz_setbit(pp, 1022);
        mpz_nextprime(pp, pp);
        mpz_urandomb(q, rs, 1024);
        mpz_setbit(q, 1023);
        mpz_setbit(q, 1022);
        mpz_nextprime(q, q);
        mpz_mul(n, pp, q);
        mpz_sub_ui(t, pp, 1);
        mpz_sub_ui(phi, q, 1);
        mpz_mul(phi, phi, t);
    } while (mpz_sizeinbase(n, 2) != 2048 || mpz_invert(d, e, phi) == 0);
    be_export(nd, 256, n);
    be_export(nd + 256, 256, d);
    mpz_clears(pp, q, n, e, d, phi, t, NULL);
    gmp_randclear(rs);

    utxo_params_default(&p);
    ck_assert_int_eq(utxo_std_rsa_image(img, sizeof img, &il, nd), UTXO_OK);
    coin = coin_of(img, il, 40, 0, 100000);
    ck_assert_int_eq(spend_one(&p, 0, &coin, NULL, prep_rsa, nd, &cyc, &bud), UTXO_OK);
    ck_assert_uint_le(cyc, bud);
    printf("rsa: %llu cycles, budget %llu\n", (unsigned long long)cyc, (unsigned long long)bud);
}
END_TEST

/* A predicate that is not a standard instance: the always-accepting image
 * of docs/PREDICATES.md's worked example. Its plan (argument length and
 * budget) must be declared before finalize; its arguments come raw. */
START_TEST(custom_predicate_plan)
{
    static const uint8_t img[42] = {0x55, 0x54, 0x58, 0x50, 0x01, 0x02, 0x00, 0x00, 0x02, 0x00,
                                    0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
                                    0x13, 0x05, 0x00, 0x00, 0x93, 0x08, 0x00, 0x00, 0x73, 0x00,
                                    0x00, 0x00};
    utxo_params p;
    utxo_builder *b;
    utxo_coin coin;
    utxo_verdict v;
    party a, c;
    int kind;
    const utxo_tx *tx;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    ck_assert_int_eq(utxo_std_identify(&kind, NULL, 0, NULL, img, sizeof img), UTXO_ERR_NOT_STANDARD);
    coin = coin_of(img, sizeof img, 50, 0, 100000);
    b = utxo_builder_new(&p, 0);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 50000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_ERR_BUILDER_STATE); /* no plan */
    ck_assert_int_eq(utxo_builder_set_args(b, 0, (const uint8_t *)"abc", 3), UTXO_ERR_BUILDER_STATE);
    ck_assert_int_eq(utxo_builder_set_plan(b, 0, 3, 1000), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_ERR_UNSIGNED);
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_ERR_NO_KEY);
    ck_assert_int_eq(utxo_builder_set_args(b, 0, (const uint8_t *)"ab", 2), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_builder_set_args(b, 0, (const uint8_t *)"abc", 3), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_OK);
    tx = utxo_builder_tx(b);
    ck_assert_uint_eq(tx->inputs[0].witness.budget, 1000);
    ck_assert_uint_eq(tx->inputs[0].witness.args_len, 3);
    /* 1000 cycles: one kcycle */
    ck_assert_uint_eq(utxo_builder_fee(b), utxo_tx_get_length(tx, true) + 1);
    ck_assert_int_eq(validate(&p, tx, &coin, 1, 0, &v), UTXO_OK);
    utxo_builder_free(b);
}
END_TEST

/* Witness form 3: the custom image above (no parameters) and the
 * pay-to-pubkey template with a key as parameters, each read from a code
 * output's datum (docs/ENCODING.md). */
START_TEST(spend_by_reference_to_code)
{
    static const uint8_t img[42] = {0x55, 0x54, 0x58, 0x50, 0x01, 0x02, 0x00, 0x00, 0x02, 0x00,
                                    0x00, 0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00,
                                    0x02, 0x00, 0x0c, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
                                    0x13, 0x05, 0x00, 0x00, 0x93, 0x08, 0x00, 0x00, 0x73, 0x00,
                                    0x00, 0x00};
    const stdpred_template *t = stdpred_get(UTXO_STD_P2PK);
    utxo_params p;
    utxo_builder *b;
    utxo_coin coin, pcoin;
    utxo_outpoint code_op = {{0x60}, 3}, tmpl_op = {{0x61}, 0};
    utxo_output code, tmpl, junk;
    utxo_verdict v;
    utxo_verifier *ver;
    party a, c;
    const utxo_tx *tx;
    uint8_t one = 1;

    utxo_params_default(&p);
    party_init(&a, 0);
    party_init(&c, 1);
    memset(&code, 0, sizeof code);
    code.value = 1000;
    memcpy(code.predicate_id, a.id, 32);
    code.datum = (uint8_t *)img;
    code.datum_len = sizeof img;
    tmpl = code;
    tmpl.datum = (uint8_t *)t->image;
    tmpl.datum_len = (uint32_t)t->image_len;
    junk = code;
    junk.datum = (uint8_t *)"not an image";
    junk.datum_len = 12;
    coin = coin_of(img, sizeof img, 50, 0, 100000);
    pcoin = coin_of(a.img, a.img_len, 51, 0, 100000);

    b = utxo_builder_new(&p, 7);
    ck_assert_int_eq(utxo_builder_add_input(b, &coin, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_input(b, &pcoin, NULL), UTXO_OK);
    /* refused: no room for parameters (the image's segment reaches past
     * UTXO_ABI_PARAMS_BASE), no image, the input itself, another image */
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &code_op, &code, &one, 1), UTXO_ERR_TX_REF_CODE);
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &code_op, &junk, &one, 1), UTXO_ERR_TX_REF_CODE);
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &code_op, &junk, NULL, 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &coin.outpoint, &code, NULL, 0),
                     UTXO_ERR_TX_REF_SPENT);
    ck_assert_int_eq(utxo_builder_use_code(b, 1, &tmpl_op, &tmpl, a.pk, 31), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_builder_use_code(b, 2, &code_op, &code, NULL, 0), UTXO_ERR_ARG);
    /* accepted */
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &code_op, &code, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_use_code(b, 1, &tmpl_op, &tmpl, a.pk, 32), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_plan(b, 0, 3, 1000), UTXO_OK);
    ck_assert_int_eq(utxo_builder_add_output(b, 150000, c.id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_builder_set_change(b, a.id), UTXO_OK);
    ck_assert_int_eq(utxo_builder_finalize(b), UTXO_OK);
    ck_assert_int_eq(utxo_builder_use_code(b, 0, &code_op, &code, NULL, 0),
                     UTXO_ERR_BUILDER_STATE);
    ck_assert_int_eq(utxo_builder_set_args(b, 0, (const uint8_t *)"abc", 3), UTXO_OK);
    ck_assert_int_eq(utxo_builder_sign(b, a.sk, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_builder_check(b, &v), UTXO_OK);
    tx = utxo_builder_tx(b);
    ck_assert_uint_eq(tx->n_refs, 2);
    ck_assert_uint_eq(tx->inputs[0].witness.form, UTXO_FORM_REF);
    ck_assert_uint_eq(tx->inputs[1].witness.form, UTXO_FORM_REF);
    ck_assert_uint_eq(tx->inputs[0].witness.params_len, 0);
    ck_assert_uint_eq(tx->inputs[1].witness.params_len, 32);
    ck_assert_mem_eq(&tx->refs[tx->inputs[1].witness.ref], &tmpl_op, sizeof tmpl_op);
    /* the validator needs the code outputs: without them the spends fail */
    ck_assert_int_eq(validate(&p, tx, (utxo_coin[]){coin, pcoin}, 2, 7, &v),
                     UTXO_ERR_TX_REF_MISSING);
    ver = utxo_verifier_new(&p, 1);
    {
        utxo_output spent[2] = {coin.output, pcoin.output}, refs[2];
        refs[tx->inputs[0].witness.ref] = code;
        refs[tx->inputs[1].witness.ref] = tmpl;
        ck_assert_int_eq(utxo_verifier_tx_refs(ver, tx, spent, refs, 7, &v), UTXO_OK);
        /* another code output under the same outpoint: another image, another id */
        refs[tx->inputs[0].witness.ref] = tmpl;
        ck_assert_int_eq(utxo_verifier_tx_refs(ver, tx, spent, refs, 7, &v),
                         UTXO_ERR_TX_PREDICATE_ID);
        ck_assert_uint_eq(v.input, 0);
    }
    utxo_verifier_free(ver);
    utxo_builder_free(b);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("builder");
    TCase *tc = tcase_create("builder");

    if (sodium_init() < 0)
        return 1;
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, std_images_identify);
    tcase_add_test(tc, multisig_args_layout);
    tcase_add_test(tc, exact_fee_and_change);
    tcase_add_test(tc, dust_rule);
    tcase_add_test(tc, overflow_and_funds);
    tcase_add_test(tc, no_room_for_change);
    tcase_add_test(tc, coin_selection);
    tcase_add_test(tc, coin_selection_many);
    tcase_add_test(tc, signed_accepted_tampered_rejected);
    tcase_add_test(tc, multisig_2of3_separate_signers);
    tcase_add_test(tc, every_standard_predicate);
    tcase_add_test(tc, rsa_through_builder);
    tcase_add_test(tc, custom_predicate_plan);
    tcase_add_test(tc, spend_by_reference_to_code);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
