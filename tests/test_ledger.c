/*
 * test_ledger.c — the ledger (src/utxo): transactions, headers, blocks and
 * parameters. Round trips of random valid objects, rejection of every
 * truncation and of trailing bytes, of each limit + 1, of non-canonical
 * varints and unknown versions; the context-free rules (duplicates,
 * overflow, witnesses, cycles, coinbase, tx root, double spends); and golden
 * vectors that pin the byte format and the hashes.
 */
#include "config.h"

#include "testutil.h"
#include "utxo/ledger_int.h"

/* Derived by tests/vectors/encoding_ref.py, an independent implementation. */
#define GOLDEN_TXID "5875d8e0d2837f2ebb1d47bcf0d0ff8e50b6f93692ad715b6b11a638ddb1505d"
#define GOLDEN_WTXID "9d05fe0841650641d3cf96173f15948a11b76804ea55db7a2121c9f82276dbe5"
#define GOLDEN_SIGHASH "487cfb2237f2cfb83951e59a4540a50281a959835c3b5d1fff0c80831b082f72"
#define GOLDEN_TXROOT "688b7868dc18dcc9679000d61084b6be9b84fc0e0b53bca6e6e6e613ab8e5b32"
#define GOLDEN_BLOCKHASH "f8b13b99e8721c0c5c15dba6456e424a3cf5740bb3fc592f0d2f8a282bcf6ad0"
#define GOLDEN_TEMPLATE_TXID "c274fca1aaa2b96aa811459a12eb048ca03118a0d311efde17cc0496ab07ec70"
#define GOLDEN_TEMPLATE_WTXID "68e82d96a56848bac3591cb5e3c2dd57aba1145128592b656890066f0ce79211"
#define GOLDEN_REF_TXID "122b0452f1778b1442cda7e92d24b9df979c0f9f147982c2b791474f17210b91"
#define GOLDEN_REF_WTXID "72814287636452b8996299631334151a80db8257b58bb3870d72ec6cbcaf757e"
#define GOLDEN_CHAIN_ID "dded3e3f349a77df2ce76afb5a56097373b4f20d801c4db8de19a7aeb792604b"

/* ---- helpers ---------------------------------------------------------- */

static void assert_tx_eq(const utxo_tx *a, const utxo_tx *b)
{
    ck_assert_uint_eq(a->version, b->version);
    ck_assert_uint_eq(a->coinbase_height, b->coinbase_height);
    ck_assert_uint_eq(a->n_inputs, b->n_inputs);
    ck_assert_uint_eq(a->n_outputs, b->n_outputs);
    ck_assert_uint_eq(a->n_refs, b->n_refs);
    for (uint32_t k = 0; k < a->n_refs; k++)
        ck_assert_mem_eq(&a->refs[k], &b->refs[k], sizeof a->refs[k]);
    for (uint32_t i = 0; i < a->n_inputs; i++) {
        const utxo_input *x = &a->inputs[i], *y = &b->inputs[i];
        ck_assert_mem_eq(x->prevout.txid, y->prevout.txid, 32);
        ck_assert_uint_eq(x->prevout.index, y->prevout.index);
        ck_assert_uint_eq(x->witness.budget, y->witness.budget);
        ck_assert_uint_eq(x->witness.form, y->witness.form);
        ck_assert_uint_eq(x->witness.tmpl, y->witness.tmpl);
        ck_assert_uint_eq(x->witness.ref, y->witness.ref);
        ck_assert_uint_eq(x->witness.params_len, y->witness.params_len);
        if (x->witness.params_len)
            ck_assert_mem_eq(x->witness.params, y->witness.params, x->witness.params_len);
        ck_assert_uint_eq(x->witness.image_len, y->witness.image_len);
        ck_assert_uint_eq(x->witness.args_len, y->witness.args_len);
        if (x->witness.image_len)
            ck_assert_mem_eq(x->witness.image, y->witness.image, x->witness.image_len);
        if (x->witness.args_len)
            ck_assert_mem_eq(x->witness.args, y->witness.args, x->witness.args_len);
    }
    for (uint32_t i = 0; i < a->n_outputs; i++) {
        const utxo_output *x = &a->outputs[i], *y = &b->outputs[i];
        ck_assert_uint_eq(x->value, y->value);
        ck_assert_mem_eq(x->predicate_id, y->predicate_id, 32);
        ck_assert_uint_eq(x->datum_len, y->datum_len);
        if (x->datum_len)
            ck_assert_mem_eq(x->datum, y->datum, x->datum_len);
    }
}

static int decode_tx(const uint8_t *b, size_t n, const utxo_params *p, size_t *off)
{
    utxo_tx *tx = NULL;
    int rc = utxo_tx_from_bytes(&tx, b, n, p, off);

    if (rc != UTXO_OK)
        ck_assert_ptr_null(tx);
    utxo_tx_free(tx);
    return rc;
}

static utxo_tx *coinbase(uint32_t height, uint64_t value)
{
    uint8_t id[32];
    utxo_tx *tx = utxo_tx_new();

    memset(id, 0xcb, sizeof id);
    tx->coinbase_height = height;
    ck_assert_int_eq(utxo_tx_add_output(tx, value, id, NULL, 0), UTXO_OK);
    return tx;
}

/* A block at height h with a coinbase and `extra` random txs, tx root set. */
static utxo_block *random_block(uint64_t *s, uint32_t h, uint32_t extra)
{
    utxo_block *b = utxo_block_new();

    b->header.height = h;
    b->header.time = 1700000000 + h;
    rng_fill(s, b->header.prev_hash, 32);
    rng_fill(s, b->header.acc_digest, 32);
    ck_assert_int_eq(utxo_block_add_tx(b, coinbase(h, 50)), UTXO_OK);
    for (uint32_t i = 0; i < extra; i++)
        ck_assert_int_eq(utxo_block_add_tx(b, random_tx(s, 4, 4)), UTXO_OK);
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    return b;
}

static uint8_t *block_bytes(const utxo_block *b, size_t *len)
{
    size_t n = utxo_block_get_length(b), w;
    uint8_t *buf = malloc(n);

    ck_assert_int_eq(utxo_block_to_bytes(b, buf, n, &w), UTXO_OK);
    ck_assert_uint_eq(w, n);
    *len = n;
    return buf;
}

/* ---- transactions: encoding ------------------------------------------- */

START_TEST(tx_round_trip_random)
{
    uint64_t s = 1;

    for (int k = 0; k < 200; k++) {
        utxo_tx *tx = random_tx(&s, 5, 5), *back = NULL;
        size_t n, n2, off;
        uint8_t *b = tx_bytes(tx, &n), *b2;

        ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_OK);
        ck_assert_int_eq(utxo_tx_from_bytes(&back, b, n, NULL, &off), UTXO_OK);
        assert_tx_eq(tx, back);
        b2 = tx_bytes(back, &n2);
        ck_assert_uint_eq(n, n2);
        ck_assert_mem_eq(b, b2, n);
        /* the clone is equal too */
        utxo_tx *c = utxo_tx_clone(tx);
        assert_tx_eq(tx, c);
        utxo_tx_free(c);
        free(b);
        free(b2);
        utxo_tx_free(tx);
        utxo_tx_free(back);
    }
}
END_TEST

START_TEST(tx_coinbase_round_trip)
{
    utxo_tx *cb = coinbase(77, 1234), *back = NULL;
    size_t n;
    uint8_t *b = tx_bytes(cb, &n);

    ck_assert(utxo_tx_is_coinbase(cb));
    ck_assert_int_eq(utxo_tx_from_bytes(&back, b, n, NULL, NULL), UTXO_OK);
    ck_assert_uint_eq(back->coinbase_height, 77);
    assert_tx_eq(cb, back);
    ck_assert_int_eq(utxo_tx_check(cb, NULL, NULL), UTXO_OK);
    free(b);
    utxo_tx_free(cb);
    utxo_tx_free(back);
}
END_TEST

START_TEST(tx_every_truncation_rejected)
{
    uint64_t s = 2;

    for (int k = 0; k < 10; k++) {
        utxo_tx *tx = random_tx(&s, 3, 3);
        size_t n, off;
        uint8_t *b = tx_bytes(tx, &n);

        for (size_t cut = 0; cut < n; cut++) {
            int rc = decode_tx(b, cut, NULL, &off);
            ck_assert_msg(rc == UTXO_ERR_TRUNCATED, "cut %zu of %zu: %s", cut, n, utxo_strerror(rc));
            ck_assert_uint_le(off, cut);
        }
        free(b);
        utxo_tx_free(tx);
    }
}
END_TEST

START_TEST(tx_trailing_rejected)
{
    uint64_t s = 3;
    utxo_tx *tx = random_tx(&s, 2, 2);
    size_t n, off;
    uint8_t *b = tx_bytes(tx, &n), *b2 = malloc(n + 1);

    memcpy(b2, b, n);
    b2[n] = 0;
    ck_assert_int_eq(decode_tx(b2, n + 1, NULL, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, n);
    free(b);
    free(b2);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_bad_version_rejected)
{
    uint64_t s = 4;
    utxo_tx *tx = random_tx(&s, 1, 1);
    size_t n, off;
    uint8_t *b = tx_bytes(tx, &n);

    b[0] = 2;
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_ERR_VERSION);
    ck_assert_uint_eq(off, 0);
    free(b);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_noncanonical_varint_rejected)
{
    /* a tx with one input: re-encode the input count 1 as 0x81 0x00 */
    uint64_t s = 5;
    utxo_tx *tx = random_tx(&s, 1, 1);
    size_t n, off;
    uint8_t *b = tx_bytes(tx, &n), *b2 = malloc(n + 1);

    ck_assert_uint_eq(tx->n_inputs, 1);
    ck_assert_uint_eq(b[4], 1);
    memcpy(b2, b, 4);
    b2[4] = 0x81;
    b2[5] = 0x00;
    memcpy(b2 + 6, b + 5, n - 5);
    ck_assert_int_eq(decode_tx(b2, n + 1, NULL, &off), UTXO_ERR_NONCANONICAL);
    ck_assert_uint_eq(off, 4);
    free(b);
    free(b2);
    utxo_tx_free(tx);
}
END_TEST

/* A tx with one input and output whose sizes sit exactly at a limit, then
 * one over it: the first decodes, the second is TOO_LARGE. */
START_TEST(tx_limits_plus_one)
{
    utxo_params p;
    uint8_t id[32] = {1}, *big = calloc(1, 5000);
    utxo_outpoint op = {{2}, 0};

    utxo_params_default(&p);
    p.max_datum_bytes = 100;
    p.max_image_bytes = 200;
    p.max_args_bytes = 300;
    p.max_inputs = 3;
    p.max_outputs = 3;
    for (int which = 0; which < 5; which++) {
        for (int over = 0; over <= 1; over++) {
            utxo_tx *tx = utxo_tx_new();
            uint32_t dl = 100, il = 200, al = 300, ni = 3, no = 3;
            size_t n, off;
            uint8_t *b;

            if (which == 0) dl += (uint32_t)over;
            if (which == 1) il += (uint32_t)over;
            if (which == 2) al += (uint32_t)over;
            if (which == 3) ni += (uint32_t)over;
            if (which == 4) no += (uint32_t)over;
            for (uint32_t i = 0; i < ni; i++) {
                op.index = i;
                ck_assert_int_eq(utxo_tx_add_input(tx, &op, 10, big, il, big, al), UTXO_OK);
            }
            for (uint32_t i = 0; i < no; i++)
                ck_assert_int_eq(utxo_tx_add_output(tx, 1, id, big, dl), UTXO_OK);
            b = tx_bytes(tx, &n);
            ck_assert_int_eq(decode_tx(b, n, &p, &off), over ? UTXO_ERR_TOO_LARGE : UTXO_OK);
            if (over) {
                ck_assert_uint_gt(off, 0);
                ck_assert_int_ne(utxo_tx_check(tx, &p, NULL), UTXO_OK);
            } else {
                ck_assert_int_eq(utxo_tx_check(tx, &p, NULL), UTXO_OK);
            }
            free(b);
            utxo_tx_free(tx);
        }
    }
    free(big);
}
END_TEST

START_TEST(tx_size_limit)
{
    utxo_params p;
    uint64_t s = 6;
    utxo_tx *tx = random_tx(&s, 2, 2);
    size_t n, off;
    uint8_t *b = tx_bytes(tx, &n);

    utxo_params_default(&p);
    p.max_tx_bytes = (uint32_t)n;
    ck_assert_int_eq(decode_tx(b, n, &p, &off), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, &p, NULL), UTXO_OK);
    p.max_tx_bytes = (uint32_t)n - 1;
    ck_assert_int_eq(decode_tx(b, n, &p, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_int_eq(utxo_tx_check(tx, &p, NULL), UTXO_ERR_TX_SIZE);
    free(b);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_hostile_count_no_huge_alloc)
{
    /* version, then an input count of 1024 with nothing behind it */
    static const uint8_t b[] = {1, 0, 0, 0, 0x80, 0x08};
    size_t off;

    ck_assert_int_eq(decode_tx(b, sizeof b, NULL, &off), UTXO_ERR_TRUNCATED);
}
END_TEST

/* Witness forms (docs/ENCODING.md): an unknown form tag, a template index
 * outside the table, parameters over the decoder's bound are refused with
 * their codes at their offsets; the context-free rules say the same of a
 * struct made by hand. */
START_TEST(tx_witness_forms_strict)
{
    static const uint8_t params[32] = {7};
    utxo_outpoint op = {{3}, 1};
    uint8_t id[32] = {9}, sig[64] = {5}, *b, *big = calloc(1, UTXO_STD_PARAMS_MAX + 1);
    utxo_tx *tx = utxo_tx_new(), *back = NULL;
    size_t n, off;

    ck_assert_int_eq(utxo_tx_add_input_template(tx, &op, 26624, UTXO_STD_P2PK, params,
                                                sizeof params, sig, sizeof sig), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_OK);
    b = tx_bytes(tx, &n);
    /* version 4, count 1, no refs 1, outpoint 36, form at 42, template at 43 */
    ck_assert_uint_eq(b[42], UTXO_FORM_TEMPLATE);
    ck_assert_uint_eq(b[43], UTXO_STD_P2PK);
    ck_assert_int_eq(utxo_tx_from_bytes(&back, b, n, NULL, &off), UTXO_OK);
    assert_tx_eq(tx, back);
    utxo_tx_free(back);
    for (size_t k = 0; k < n; k++) /* every truncation */
        ck_assert_int_ne(decode_tx(b, k, NULL, &off), UTXO_OK);
    b[43] = UTXO_STD_KINDS;
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_ERR_TX_TEMPLATE);
    ck_assert_uint_eq(off, 43);
    b[43] = 0xff;
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_ERR_TX_TEMPLATE);
    b[43] = UTXO_STD_P2PK;
    for (unsigned f = 0; f < 256; f++) {
        if (f == UTXO_FORM_IMAGE || f == UTXO_FORM_TEMPLATE)
            continue;
        b[42] = (uint8_t)f;
        /* form 3 names reference 0 (the template byte) of a tx listing none */
        ck_assert_int_eq(decode_tx(b, n, NULL, &off),
                         f == UTXO_FORM_REF ? UTXO_ERR_TX_REF_INDEX : UTXO_ERR_TX_FORM);
        ck_assert_uint_eq(off, f == UTXO_FORM_REF ? 43 : 42);
    }
    /* the same spend as an image: another byte string, another txid */
    b[42] = UTXO_FORM_IMAGE;
    ck_assert_int_ne(decode_tx(b, n, NULL, &off), UTXO_OK); /* the bytes no longer line up */
    free(b);
    /* parameters: 1 .. UTXO_STD_PARAMS_MAX bytes */
    ck_assert_int_eq(utxo_tx_set_witness_template(tx, 0, 1, UTXO_STD_P2PK, big, 0, NULL, 0),
                     UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_tx_set_witness_template(tx, 0, 1, UTXO_STD_KINDS, big, 1, NULL, 0),
                     UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_tx_set_witness_template(tx, 0, 1, UTXO_STD_MULTISIG, big,
                                                  UTXO_STD_PARAMS_MAX, NULL, 0), UTXO_OK);
    b = tx_bytes(tx, &n);
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_OK);
    free(b);
    free(tx->inputs[0].witness.params); /* by hand: one byte over the bound */
    tx->inputs[0].witness.params = big;
    tx->inputs[0].witness.params_len = UTXO_STD_PARAMS_MAX + 1;
    big = NULL;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_ERR_TX_TEMPLATE_PARAMS);
    b = tx_bytes(tx, &n);
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_ERR_TOO_LARGE);
    free(b);
    tx->inputs[0].witness.tmpl = UTXO_STD_KINDS;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_ERR_TX_TEMPLATE);
    tx->inputs[0].witness.form = UTXO_FORM_REF; /* reference 0 of none */
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_ERR_TX_REF_INDEX);
    tx->inputs[0].witness.form = 4;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_ERR_TX_FORM);
    utxo_tx_free(tx);
}
END_TEST

/* txid and sighash commit to the form: the same key and signature as a
 * template spend and as an image spend are two transactions. */
START_TEST(tx_ids_commit_to_the_form)
{
    static const uint8_t params[32] = {7}, image[8] = {0x13, 5, 0, 0, 0x73, 0, 0, 0};
    utxo_outpoint op = {{3}, 1};
    uint8_t id[32] = {9}, sig[64] = {5}, t1[32], t2[32], t3[32], chain[32] = {1}, s1[32], s2[32];
    utxo_tx *tx = utxo_tx_new();

    ck_assert_int_eq(utxo_tx_add_input_template(tx, &op, 100, UTXO_STD_P2PK, params,
                                                sizeof params, sig, sizeof sig), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10, id, NULL, 0), UTXO_OK);
    utxo_tx_txid(tx, t1);
    utxo_tx_sighash(tx, chain, s1);
    ck_assert_int_eq(utxo_tx_set_witness_template(tx, 0, 100, UTXO_STD_TIMELOCK, params,
                                                  sizeof params, sig, sizeof sig), UTXO_OK);
    utxo_tx_txid(tx, t2);
    ck_assert(memcmp(t1, t2, 32) != 0); /* the template index is in the base */
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, 100, image, sizeof image, sig, sizeof sig),
                     UTXO_OK);
    utxo_tx_txid(tx, t3);
    utxo_tx_sighash(tx, chain, s2);
    ck_assert(memcmp(t1, t3, 32) != 0 && memcmp(t2, t3, 32) != 0);
    ck_assert(memcmp(s1, s2, 32) != 0);
    /* arguments are witness data: set_args keeps the txid */
    ck_assert_int_eq(utxo_tx_set_args(tx, 0, params, sizeof params), UTXO_OK);
    utxo_tx_txid(tx, t1);
    ck_assert_mem_eq(t1, t3, 32);
    ck_assert_uint_eq(tx->inputs[0].witness.form, UTXO_FORM_IMAGE);
    ck_assert_uint_eq(tx->inputs[0].witness.args_len, sizeof params);
    utxo_tx_free(tx);
}
END_TEST

/* ---- transactions: rules ---------------------------------------------- */

START_TEST(tx_duplicate_input)
{
    uint64_t s = 7;
    utxo_tx *tx = random_tx(&s, 1, 1);
    uint32_t bad = 99;
    uint8_t img[1] = {0};

    ck_assert_int_eq(utxo_tx_add_input(tx, &tx->inputs[0].prevout, 1, img, 1, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_DUP_INPUT);
    ck_assert_uint_eq(bad, tx->n_inputs - 1);
    /* same txid, other index: fine */
    tx->inputs[tx->n_inputs - 1].prevout.index ^= 1;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_OK);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_value_overflow)
{
    uint64_t s = 8;
    utxo_tx *tx = random_tx(&s, 1, 1);
    uint32_t bad;
    uint8_t id[32] = {0};

    tx->outputs[0].value = UTXO_MAX_MONEY;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_OK);
    tx->outputs[0].value = UTXO_MAX_MONEY + 1;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_VALUE);
    /* each value in range, the sum is not (CVE-2010-5139's shape) */
    tx->outputs[0].value = UTXO_MAX_MONEY;
    ck_assert_int_eq(utxo_tx_add_output(tx, 1, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_VALUE);
    ck_assert_uint_eq(bad, 1);
    /* values that would wrap a u64 */
    tx->outputs[0].value = UINT64_MAX;
    tx->outputs[1].value = 2;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_VALUE);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_witness_and_cycles)
{
    utxo_params p;
    uint64_t s = 9;
    utxo_tx *tx = random_tx(&s, 1, 1);
    uint8_t img[4] = {1, 2, 3, 4};
    uint32_t bad;

    utxo_params_default(&p);
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, 5, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_ERR_TX_WITNESS);
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, p.max_tx_cycles, img, 4, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_OK);
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, p.max_tx_cycles + 1, img, 4, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_ERR_TX_CYCLES);
    /* two budgets that wrap a u64 together */
    utxo_outpoint op = {{9}, 9};
    ck_assert_int_eq(utxo_tx_set_witness(tx, 0, UINT64_MAX, img, 4, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input(tx, &op, 2, img, 4, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_ERR_TX_CYCLES);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_structure_rules)
{
    uint64_t s = 10;
    utxo_tx *tx = random_tx(&s, 1, 1);
    utxo_params p;

    utxo_params_default(&p);
    /* no outputs */
    utxo_tx *t2 = utxo_tx_new();
    utxo_outpoint op = {{1}, 0};
    uint8_t img[1] = {7};
    ck_assert_int_eq(utxo_tx_add_input(t2, &op, 1, img, 1, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(t2, &p, NULL), UTXO_ERR_TX_NO_OUTPUTS);
    utxo_tx_free(t2);
    /* counts above params (built by API, not decoded) */
    p.max_outputs = 0;
    ck_assert_int_eq(utxo_tx_check(tx, &p, NULL), UTXO_ERR_TX_COUNT);
    utxo_params_default(&p);
    tx->version = 3;
    ck_assert_int_eq(utxo_tx_check(tx, &p, NULL), UTXO_ERR_VERSION);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_min_fee)
{
    utxo_params p;
    uint64_t s = 11;
    utxo_tx *tx = random_tx(&s, 1, 1);
    size_t n;

    utxo_params_default(&p);
    p.fee_per_byte = 3;
    p.fee_per_kcycle = 5;
    tx->inputs[0].witness.budget = 1025; /* 2 kcycles, rounded up */
    n = utxo_tx_get_length(tx, true); /* the budget is a varint: 1024 and 1025 take 2 bytes */
    ck_assert_uint_eq(utxo_tx_min_fee(tx, &p), 3 * n + 10);
    tx->inputs[0].witness.budget = 1024;
    ck_assert_uint_eq(utxo_tx_min_fee(tx, &p), 3 * n + 5);
    p.fee_per_byte = UINT64_MAX;
    ck_assert_uint_eq(utxo_tx_min_fee(tx, &p), UINT64_MAX);
    utxo_tx_free(tx);
}
END_TEST

START_TEST(tx_ids_cover_the_right_bytes)
{
    uint64_t s = 12;
    utxo_tx *tx = random_tx(&s, 2, 2);
    uint8_t txid[32], wtxid[32], sh[32], t2[32], w2[32], s2[32], chain[32] = {1}, chain2[32] = {2};

    utxo_tx_txid(tx, txid);
    utxo_tx_wtxid(tx, wtxid);
    utxo_tx_sighash(tx, chain, sh);
    /* a witness change moves the wtxid only */
    tx->inputs[0].witness.budget++;
    utxo_tx_txid(tx, t2);
    utxo_tx_wtxid(tx, w2);
    utxo_tx_sighash(tx, chain, s2);
    ck_assert_mem_eq(txid, t2, 32);
    ck_assert_mem_eq(sh, s2, 32);
    ck_assert(memcmp(wtxid, w2, 32) != 0);
    /* an output change moves all three */
    tx->outputs[0].value++;
    utxo_tx_txid(tx, t2);
    utxo_tx_sighash(tx, chain, s2);
    ck_assert(memcmp(txid, t2, 32) != 0);
    ck_assert(memcmp(sh, s2, 32) != 0);
    /* another chain: another sighash */
    utxo_tx_sighash(tx, chain2, sh);
    ck_assert(memcmp(sh, s2, 32) != 0);
    utxo_tx_free(tx);
}
END_TEST

/* tx_ids, the validators' one-encoding path, against the two hashes it
 * stands for, on transactions both under and over its stack buffer. */
START_TEST(tx_ids_match_txid_and_wtxid)
{
    uint64_t s = 77;
    unsigned small = 0, large = 0;

    for (int i = 0; i < 300; i++) {
        utxo_tx *tx = i == 0 ? coinbase(9, 50) : random_tx(&s, 8, 6);
        uint8_t t1[32], w1[32], t2[32], w2[32];
        uint64_t before = ledger_tx_hashes();
        size_t len = 0;

        tx_ids(tx, t1, w1, &len);
        ck_assert_uint_eq(ledger_tx_hashes() - before, 2);
        ck_assert_uint_eq(len, utxo_tx_get_length(tx, true));
        utxo_tx_txid(tx, t2);
        utxo_tx_wtxid(tx, w2);
        ck_assert_mem_eq(t1, t2, 32);
        ck_assert_mem_eq(w1, w2, 32);
        if (utxo_tx_get_length(tx, true) > 2048)
            large++;
        else
            small++;
        utxo_tx_free(tx);
    }
    ck_assert_uint_gt(small, 20);
    ck_assert_uint_gt(large, 20);
}
END_TEST

/* The validators' known-length paths against the ones that measure: the
 * block's length and bytes with each transaction's length given, the
 * minimum fee, and the transaction and block size limits at their edges,
 * with and without. */
START_TEST(known_lengths_same_answers)
{
    uint64_t s = 91;

    for (int i = 0; i < 40; i++) {
        utxo_block *b = random_block(&s, (uint32_t)i, (uint32_t)(i % 9));
        size_t *lens = malloc(b->n_txs * sizeof *lens), n, got_len = 0;
        uint8_t *want = block_bytes(b, &n), *got = NULL, id[32], wid[32];
        utxo_params p;
        block_pre pre = {NULL, NULL, NULL, NULL};
        uint32_t bt, bi, bt2, bi2;

        ck_assert_ptr_nonnull(lens);
        for (uint32_t t = 0; t < b->n_txs; t++) {
            tx_ids(b->txs[t], id, wid, &lens[t]);
            /* the size limit at the edge: the same verdict and index */
            utxo_params_default(&p);
            for (int d = 0; d <= 1; d++) {
                p.max_tx_bytes = lens[t] - (size_t)d;
                ck_assert_int_eq(tx_check_len(b->txs[t], &p, lens[t], &bi),
                                 utxo_tx_check(b->txs[t], &p, &bi2));
                ck_assert_uint_eq(bi, bi2);
            }
            p.fee_per_byte = 3 + (uint64_t)t;
            p.fee_per_kcycle = 7;
            ck_assert_uint_eq(tx_min_fee_len(b->txs[t], &p, lens[t]),
                              utxo_tx_min_fee(b->txs[t], &p));
            ck_assert_uint_eq(tx_min_fee_len(b->txs[t], &p, SIZE_MAX),
                              utxo_tx_min_fee(b->txs[t], &p));
        }
        ck_assert_uint_eq(block_length_lens(b, lens), n);
        ck_assert_uint_eq(block_length_lens(b, NULL), n);
        for (size_t hint = 0; hint <= n + 1; hint += n / 2 + 1) {
            ck_assert_int_eq(block_to_new(b, lens, hint, &got, &got_len), UTXO_OK);
            ck_assert_uint_eq(got_len, n);
            ck_assert_mem_eq(got, want, n);
            free(got);
        }
        utxo_params_default(&p);
        pre.len = lens;
        for (int d = 0; d <= 1; d++) {
            p.max_block_bytes = n - (size_t)d;
            int with = block_check_head(b, &p, &pre, &bt, &bi);
            int without = block_check_head(b, &p, NULL, &bt2, &bi2);
            ck_assert_int_eq(with, without);
            ck_assert_uint_eq(bt, bt2);
            ck_assert_uint_eq(bi, bi2);
            if (d == 1)
                ck_assert_int_eq(with, UTXO_ERR_BLOCK_SIZE);
        }
        free(want);
        free(lens);
        utxo_block_free(b);
    }
}
END_TEST

/* ---- headers, blocks --------------------------------------------------- */

START_TEST(header_round_trip_sign)
{
    uint64_t s = 13;
    utxo_header h, back;
    uint8_t b[UTXO_HEADER_BYTES], pk[32], sk[64];
    size_t off;

    memset(&h, 0, sizeof h);
    h.version = UTXO_HEADER_VERSION;
    h.height = 5;
    h.time = 99;
    rng_fill(&s, h.prev_hash, 32);
    crypto_sign_keypair(pk, sk);
    ck_assert_int_eq(utxo_header_sign(&h, sk), UTXO_OK);
    ck_assert_int_eq(utxo_header_verify(&h, pk), UTXO_OK);
    utxo_header_to_bytes(&h, b);
    ck_assert_int_eq(utxo_header_from_bytes(&back, b, sizeof b, &off), UTXO_OK);
    ck_assert_mem_eq(&h, &back, sizeof h - 0);
    for (size_t cut = 0; cut < sizeof b; cut++)
        ck_assert_int_eq(utxo_header_from_bytes(&back, b, cut, &off), UTXO_ERR_TRUNCATED);
    /* every byte of the signed part is covered by the signature */
    for (size_t i = 0; i < UTXO_HEADER_BYTES - UTXO_SIG_BYTES; i++) {
        b[i] ^= 0x01;
        if (utxo_header_from_bytes(&back, b, sizeof b, &off) == UTXO_OK)
            ck_assert_int_eq(utxo_header_verify(&back, pk), UTXO_ERR_BLOCK_SIG);
        b[i] ^= 0x01;
    }
    h.sig[0] ^= 1;
    ck_assert_int_eq(utxo_header_verify(&h, pk), UTXO_ERR_BLOCK_SIG);
}
END_TEST

START_TEST(block_round_trip_and_truncation)
{
    uint64_t s = 14;
    utxo_block *b = random_block(&s, 3, 4), *back = NULL;
    size_t n, n2, off;
    uint8_t *buf = block_bytes(b, &n), *buf2;

    ck_assert_int_eq(utxo_block_check(b, NULL, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, NULL, &off), UTXO_OK);
    ck_assert_uint_eq(back->n_txs, b->n_txs);
    for (uint32_t i = 0; i < b->n_txs; i++)
        assert_tx_eq(b->txs[i], back->txs[i]);
    buf2 = block_bytes(back, &n2);
    ck_assert_mem_eq(buf, buf2, n);
    utxo_block_free(back);
    for (size_t cut = 0; cut < n; cut++) {
        back = NULL;
        int rc = utxo_block_from_bytes(&back, buf, cut, NULL, &off);
        ck_assert_msg(rc == UTXO_ERR_TRUNCATED, "cut %zu: %s", cut, utxo_strerror(rc));
        ck_assert_ptr_null(back);
    }
    buf2 = realloc(buf2, n + 1);
    buf2[n] = 0;
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf2, n + 1, NULL, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, n);
    free(buf);
    free(buf2);
    utxo_block_free(b);
}
END_TEST

START_TEST(block_tx_length_mismatch)
{
    /* a declared tx length one byte longer than the tx: trailing inside */
    uint64_t s = 15;
    utxo_block *b = random_block(&s, 1, 0), *back = NULL;
    size_t n, off;
    uint8_t *buf = block_bytes(b, &n);
    size_t at = UTXO_HEADER_BYTES + 1; /* the coinbase's length varint */

    ck_assert_uint_lt(buf[at], 0x7f);
    buf = realloc(buf, n + 1);
    buf[at]++;
    buf[n] = 0;
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n + 1, NULL, &off), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(off, n);
    free(buf);
    utxo_block_free(b);
}
END_TEST

START_TEST(block_rules)
{
    uint64_t s = 16;
    utxo_block *b = random_block(&s, 8, 3);
    uint32_t bt, bi;
    utxo_tx *t;

    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_OK);
    /* wrong coinbase height */
    b->txs[0]->coinbase_height = 9;
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_HEIGHT);
    b->txs[0]->coinbase_height = 8;
    /* tx root */
    b->header.tx_root[5] ^= 1;
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_TX_ROOT);
    b->header.tx_root[5] ^= 1;
    /* a witness change breaks the tx root (it commits to wtxids) */
    b->txs[1]->inputs[0].witness.budget ^= 1;
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_TX_ROOT);
    b->txs[1]->inputs[0].witness.budget ^= 1;
    /* double spend across transactions */
    t = b->txs[3];
    utxo_outpoint keep = t->inputs[0].prevout;
    t->inputs[0].prevout = b->txs[1]->inputs[0].prevout;
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_DOUBLE_SPEND);
    ck_assert_uint_eq(bt, 3);
    ck_assert_uint_eq(bi, 0);
    t->inputs[0].prevout = keep;
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_OK);
    /* a bad tx inside reports its index */
    b->txs[2]->outputs[0].value = UTXO_MAX_MONEY + 1;
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_TX_VALUE);
    ck_assert_uint_eq(bt, 2);
    utxo_block_free(b);
}
END_TEST

START_TEST(block_coinbase_rules)
{
    uint64_t s = 17;
    utxo_block *b = utxo_block_new();
    uint32_t bt, bi;

    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_EMPTY);
    /* first tx not a coinbase */
    ck_assert_int_eq(utxo_block_add_tx(b, random_tx(&s, 1, 1)), UTXO_OK);
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_COINBASE);
    utxo_block_free(b);
    /* a second coinbase */
    b = random_block(&s, 2, 1);
    ck_assert_int_eq(utxo_block_add_tx(b, coinbase(2, 1)), UTXO_OK);
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_COINBASE);
    ck_assert_uint_eq(bt, 2);
    utxo_block_free(b);
    /* duplicate txid: the same tx twice */
    b = random_block(&s, 2, 1);
    ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(b->txs[1])), UTXO_OK);
    utxo_block_tx_root(b, b->header.tx_root);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_DUP_TXID);
    ck_assert_uint_eq(bt, 2);
    utxo_block_free(b);
}
END_TEST

START_TEST(block_limits)
{
    uint64_t s = 18;
    utxo_block *b = random_block(&s, 1, 3), *back = NULL;
    utxo_params p;
    size_t n, off;
    uint8_t *buf = block_bytes(b, &n);

    utxo_params_default(&p);
    p.max_block_txs = 4;
    ck_assert_int_eq(utxo_block_check(b, &p, NULL, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, &p, &off), UTXO_OK);
    utxo_block_free(back);
    p.max_block_txs = 3;
    ck_assert_int_eq(utxo_block_check(b, &p, NULL, NULL), UTXO_ERR_BLOCK_SIZE);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, &p, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(off, UTXO_HEADER_BYTES);
    utxo_params_default(&p);
    p.max_block_bytes = (uint32_t)n - 1;
    ck_assert_int_eq(utxo_block_check(b, &p, NULL, NULL), UTXO_ERR_BLOCK_SIZE);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, &p, &off), UTXO_ERR_TOO_LARGE);
    utxo_params_default(&p);
    p.max_block_cycles = 1;
    p.max_tx_cycles = 1;
    ck_assert_int_ne(utxo_block_check(b, &p, NULL, NULL), UTXO_OK);
    free(buf);
    utxo_block_free(b);
}
END_TEST

START_TEST(tx_root_shapes)
{
    /* roots of 1..9 txs are distinct, and appending a copy of the last tx
     * (the CVE-2012-2459 trick) changes the root */
    uint64_t s = 19;
    uint8_t roots[10][32];
    utxo_block *b = utxo_block_new();

    for (int n = 1; n <= 9; n++) {
        ck_assert_int_eq(utxo_block_add_tx(b, random_tx(&s, 1, 1)), UTXO_OK);
        ck_assert_int_eq(utxo_block_tx_root(b, roots[n]), UTXO_OK);
        for (int m = 1; m < n; m++)
            ck_assert(memcmp(roots[n], roots[m], 32) != 0);
    }
    ck_assert_int_eq(utxo_block_add_tx(b, utxo_tx_clone(b->txs[8])), UTXO_OK);
    ck_assert_int_eq(utxo_block_tx_root(b, roots[0]), UTXO_OK);
    ck_assert(memcmp(roots[0], roots[9], 32) != 0);
    utxo_block_free(b);
}
END_TEST

/* ---- parameters -------------------------------------------------------- */

START_TEST(params_round_trip)
{
    utxo_params p, back;
    uint8_t b[UTXO_PARAMS_BYTES];
    size_t off;

    utxo_params_default(&p);
    memset(p.sequencer_pk, 0x42, 32);
    utxo_params_chain_id(&p);
    utxo_params_to_bytes(b, &p);
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_OK);
    ck_assert_mem_eq(&p, &back, sizeof p);
    for (size_t cut = 0; cut < sizeof b; cut++)
        ck_assert_int_eq(utxo_params_from_bytes(&back, b, cut, &off), UTXO_ERR_TRUNCATED);
    /* each field moves the chain id; zeroed limits are refused */
    for (size_t i = 4; i < sizeof b; i++) {
        uint8_t save = b[i];
        b[i] ^= 0x01;
        if (utxo_params_from_bytes(&back, b, sizeof b, &off) == UTXO_OK)
            ck_assert(memcmp(back.chain_id, p.chain_id, 32) != 0);
        b[i] = save;
    }
    memset(b + 36, 0, 4); /* max_tx_bytes = 0 */
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(off, 36);
}
END_TEST

/* The caps of docs/ENCODING.md's parameter table, in its own numbers: each
 * limit is accepted at its cap and refused (13, at the field's offset) at
 * 0 and at cap + 1; the cycle limits have no cap but max_tx_cycles >= 1 and
 * max_block_cycles >= max_tx_cycles (refused at offset 76); max_tx_bytes >
 * max_block_bytes is refused at offset 36; the fees and the genesis time
 * take any value. */
START_TEST(params_caps_as_documented)
{
    static const struct {
        size_t off;
        uint32_t cap;
    } lim[] = {{36, 16u << 20}, {40, 256u << 20}, {44, 1u << 20}, {48, 65536},
               {52, 65536},     {56, 16u << 20},  {60, 16u << 20}, {64, 16u << 20}};
    utxo_params p, back;
    uint8_t b[UTXO_PARAMS_BYTES], d[UTXO_PARAMS_BYTES];
    size_t off;

    utxo_params_default(&p);
    utxo_params_to_bytes(d, &p);
    for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
        memcpy(b, d, sizeof b);
        put_u32le(b + 40, 256u << 20); /* room for max_tx_bytes at its cap */
        put_u32le(b + lim[k].off, lim[k].cap);
        ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_OK);
        for (int bad = 0; bad < 2; bad++) {
            put_u32le(b + lim[k].off, bad ? lim[k].cap + 1 : 0);
            ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_ERR_TOO_LARGE);
            ck_assert_uint_eq(off, lim[k].off);
        }
    }
    memcpy(b, d, sizeof b);
    put_u32le(b + 36, (8u << 20) + 1); /* max_tx_bytes > max_block_bytes */
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(off, 36);
    memcpy(b, d, sizeof b);
    put_u64le(b + 68, UINT64_MAX); /* cycles: no cap, but block >= tx */
    put_u64le(b + 76, UINT64_MAX);
    memset(b + 84, 0xff, 24); /* fees and genesis time: anything */
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_OK);
    put_u64le(b + 76, UINT64_MAX - 1);
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(off, 76);
    put_u64le(b + 68, 0);
    ck_assert_int_eq(utxo_params_from_bytes(&back, b, sizeof b, &off), UTXO_ERR_TOO_LARGE);
    ck_assert_uint_eq(off, 68);
}
END_TEST

/* ---- golden vectors ----------------------------------------------------
 * Fixed objects built without randomness; their bytes are committed in
 * tests/vectors and their hashes are pinned here. A change to the encoding
 * or to a hash domain fails this test: update both only on purpose.
 */

static utxo_tx *golden_tx(void)
{
    utxo_tx *tx = utxo_tx_new();
    utxo_outpoint op;
    uint8_t id[32], image[8] = {0x13, 0x05, 0x00, 0x00, 0x73, 0x00, 0x00, 0x00}, args[3] = {1, 2, 3};

    for (int i = 0; i < 32; i++) {
        op.txid[i] = (uint8_t)i;
        id[i] = (uint8_t)(0xff - i);
    }
    op.index = 1;
    ck_assert_int_eq(utxo_tx_add_input(tx, &op, 1000, image, sizeof image, args, sizeof args), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 4000, id, (const uint8_t *)"hi", 2), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 600, id, NULL, 0), UTXO_OK);
    return tx;
}

static void check_vector_file(const char *name, const uint8_t *b, size_t n)
{
    char path[512];
    FILE *f;
    uint8_t *want;
    size_t got;

    snprintf(path, sizeof path, "%s/%s", VECTORS_DIR, name);
    if (getenv("UTXO_WRITE_VECTORS") != NULL) {
        f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(b, 1, n, f), n);
        fclose(f);
    }
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "missing golden vector %s", path);
    want = malloc(n + 1);
    got = fread(want, 1, n + 1, f);
    fclose(f);
    ck_assert_uint_eq(got, n);
    ck_assert_mem_eq(want, b, n);
    free(want);
}

START_TEST(golden_tx_vector)
{
    utxo_tx *tx = golden_tx();
    uint8_t h[32], chain[32];
    size_t n;
    uint8_t *b = tx_bytes(tx, &n);

    check_vector_file("tx_simple.bin", b, n);
    utxo_tx_txid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_TXID);
    utxo_tx_wtxid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_WTXID);
    memset(chain, 0xc0, sizeof chain);
    utxo_tx_sighash(tx, chain, h);
    ck_assert_hex_eq(h, 32, GOLDEN_SIGHASH);
    free(b);
    utxo_tx_free(tx);
}
END_TEST

/* A pay-to-pubkey spend by template (witness form 2): template 0, key
 * aa..aa, signature 55..55, budget 26624 (tests/vectors/tx_template.bin). */
START_TEST(golden_template_vector)
{
    utxo_tx *tx = utxo_tx_new();
    utxo_outpoint op;
    uint8_t id[32], pk[32], sig[64], h[32];
    size_t n;
    uint8_t *b;

    for (int i = 0; i < 32; i++) {
        op.txid[i] = (uint8_t)i;
        id[i] = (uint8_t)(0xff - i);
    }
    op.index = 2;
    memset(pk, 0xaa, sizeof pk);
    memset(sig, 0x55, sizeof sig);
    ck_assert_int_eq(utxo_tx_add_input_template(tx, &op, 26624, UTXO_STD_P2PK, pk, sizeof pk, sig,
                                                sizeof sig), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 4000, id, NULL, 0), UTXO_OK);
    b = tx_bytes(tx, &n);
    check_vector_file("tx_template.bin", b, n);
    utxo_tx_txid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_TEMPLATE_TXID);
    utxo_tx_wtxid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_TEMPLATE_WTXID);
    free(b);
    utxo_tx_free(tx);
}
END_TEST

/* Two inputs spent by reference to one code output (witness form 3):
 * reference 0 is output 7 of txid cc..cc (tests/vectors/tx_ref.bin). */
START_TEST(golden_ref_vector)
{
    utxo_tx *tx = utxo_tx_new(), *back = NULL;
    utxo_outpoint op, code;
    uint8_t id[32], h[32], p2[2] = {1, 2}, a1 = 9;
    uint32_t k = 99, k2 = 99;
    size_t n, off;
    uint8_t *b;

    for (int i = 0; i < 32; i++) {
        op.txid[i] = (uint8_t)i;
        id[i] = (uint8_t)(0xff - i);
    }
    memset(code.txid, 0xcc, 32);
    code.index = 7;
    ck_assert_int_eq(utxo_tx_add_ref(tx, &code, &k), UTXO_OK);
    ck_assert_uint_eq(k, 0);
    op.index = 3;
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, 5000, k, p2, 2, &a1, 1), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_ref(tx, &code, &k2), UTXO_OK); /* listed once */
    ck_assert_uint_eq(k2, 0);
    ck_assert_uint_eq(tx->n_refs, 1);
    op.index = 4;
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, 70000, k, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, 1, 1, NULL, 0, NULL, 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_tx_add_output(tx, 4000, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, NULL), UTXO_OK);
    b = tx_bytes(tx, &n);
    check_vector_file("tx_ref.bin", b, n);
    utxo_tx_txid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_REF_TXID);
    utxo_tx_wtxid(tx, h);
    ck_assert_hex_eq(h, 32, GOLDEN_REF_WTXID);
    ck_assert_int_eq(utxo_tx_from_bytes(&back, b, n, NULL, &off), UTXO_OK);
    assert_tx_eq(tx, back);
    utxo_tx_free(back);
    for (size_t j = 0; j < n; j++) /* every truncation */
        ck_assert_int_ne(decode_tx(b, j, NULL, &off), UTXO_OK);
    /* version 4, 2 inputs 1, 1 ref 1, ref 36 (6..41), outpoint 36, form at 78, index at 79 */
    ck_assert_uint_eq(b[78], UTXO_FORM_REF);
    b[79] = 1; /* names reference 1 of one */
    ck_assert_int_eq(decode_tx(b, n, NULL, &off), UTXO_ERR_TX_REF_INDEX);
    ck_assert_uint_eq(off, 79);
    b[79] = 0x80; /* a varint that does not end where the index is */
    ck_assert_int_ne(decode_tx(b, n, NULL, &off), UTXO_OK);
    free(b);
    /* the reference list is in the base: txid and sighash commit to it */
    {
        uint8_t t1[32], t2[32];
        utxo_tx_txid(tx, t1);
        tx->refs[0].index = 8;
        utxo_tx_txid(tx, t2);
        ck_assert_mem_ne(t1, t2, 32);
    }
    utxo_tx_free(tx);
}
END_TEST

/* The rules of reference inputs (docs/ENCODING.md, "Reference inputs"). */
START_TEST(tx_ref_rules)
{
    utxo_outpoint op = {{3}, 1}, op2 = {{4}, 2}, code = {{5}, 0}, other = {{6}, 0};
    uint8_t id[32] = {9};
    uint32_t k, bad;
    utxo_tx *tx = utxo_tx_new(), *cb;

    ck_assert_int_eq(utxo_tx_add_ref(tx, &code, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op, 100, k, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(tx, 10, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_OK);
    /* a reference no witness names */
    ck_assert_int_eq(utxo_tx_add_ref(tx, &other, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_REF_UNUSED);
    ck_assert_uint_eq(bad, 1);
    /* the same outpoint listed twice (by hand: utxo_tx_add_ref lists once) */
    tx->refs[1] = code;
    ck_assert_int_eq(utxo_tx_add_input_ref(tx, &op2, 100, 1, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_REF_DUP);
    ck_assert_uint_eq(bad, 1);
    /* an outpoint both referenced and spent by the transaction */
    tx->refs[1] = op2;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_REF_SPENT);
    ck_assert_uint_eq(bad, 1);
    tx->refs[1] = other;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_OK);
    /* a witness naming a reference the tx does not list */
    tx->inputs[1].witness.ref = 2;
    ck_assert_int_eq(utxo_tx_check(tx, NULL, &bad), UTXO_ERR_TX_REF_INDEX);
    ck_assert_uint_eq(bad, 1);
    tx->inputs[1].witness.ref = 1;
    /* parameters over max_args_bytes */
    {
        utxo_params p;
        utxo_params_default(&p);
        p.max_args_bytes = 4;
        tx->inputs[0].witness.params = calloc(1, 5);
        tx->inputs[0].witness.params_len = 5;
        ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_ERR_TX_DATUM);
        ck_assert_uint_eq(bad, 0);
        /* more references than max_inputs */
        p.max_args_bytes = 64;
        p.max_inputs = 1;
        ck_assert_int_eq(utxo_tx_check(tx, &p, &bad), UTXO_ERR_TX_COUNT);
    }
    utxo_tx_free(tx);
    /* a coinbase lists none */
    cb = coinbase(1, 50);
    ck_assert_int_eq(utxo_tx_add_ref(cb, &code, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_check(cb, NULL, &bad), UTXO_ERR_NONCANONICAL);
    utxo_tx_free(cb);
}
END_TEST

/* Across a block: no reference to an output the block creates, none to an
 * output the block spends (before or after the reference). */
START_TEST(block_ref_rules)
{
    uint64_t s = 77;
    utxo_block *b = utxo_block_new();
    utxo_tx *spender, *reader;
    utxo_outpoint code = {{0x42}, 0}, op = {{0x43}, 0};
    uint8_t id[32] = {1}, txid[32];
    uint32_t k, bt, bi;

    b->header.version = UTXO_HEADER_VERSION;
    b->header.height = 5;
    ck_assert_int_eq(utxo_block_add_tx(b, coinbase(5, 0)), UTXO_OK);
    reader = utxo_tx_new();
    ck_assert_int_eq(utxo_tx_add_ref(reader, &code, &k), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_input_ref(reader, &op, 100, k, NULL, 0, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_tx_add_output(reader, 10, id, NULL, 0), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, reader), UTXO_OK);
    spender = random_tx(&s, 1, 1);
    ck_assert_int_eq(utxo_block_add_tx(b, spender), UTXO_OK);
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_OK);
    /* the later transaction spends the referenced output */
    spender->inputs[0].prevout = code;
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_REF_SPENT);
    ck_assert_uint_eq(bt, 1);
    ck_assert_uint_eq(bi, 0);
    /* the reference names an output of a transaction of the block */
    spender->inputs[0].prevout = op;
    spender->inputs[0].prevout.index = 1;
    utxo_tx_txid(spender, txid);
    memcpy(reader->refs[0].txid, txid, 32);
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_int_eq(utxo_block_check(b, NULL, &bt, &bi), UTXO_ERR_BLOCK_REF_NEW);
    ck_assert_uint_eq(bt, 1);
    utxo_block_free(b);
}
END_TEST

START_TEST(golden_block_and_params)
{
    utxo_block *b = utxo_block_new();
    utxo_params p;
    uint8_t h[32], pb[UTXO_PARAMS_BYTES];
    size_t n;
    uint8_t *buf;

    b->header.height = 1;
    b->header.time = 1700000000;
    memset(b->header.prev_hash, 0x11, 32);
    memset(b->header.acc_digest, 0x22, 32);
    ck_assert_int_eq(utxo_block_add_tx(b, coinbase(1, 50)), UTXO_OK);
    ck_assert_int_eq(utxo_block_add_tx(b, golden_tx()), UTXO_OK);
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_hex_eq(b->header.tx_root, 32, GOLDEN_TXROOT);
    utxo_header_hash(&b->header, h);
    ck_assert_hex_eq(h, 32, GOLDEN_BLOCKHASH);
    buf = block_bytes(b, &n);
    check_vector_file("block_simple.bin", buf, n);
    free(buf);
    utxo_block_free(b);

    utxo_params_default(&p);
    utxo_params_to_bytes(pb, &p);
    check_vector_file("params_default.bin", pb, sizeof pb);
    ck_assert_hex_eq(p.chain_id, 32, GOLDEN_CHAIN_ID);
}
END_TEST

/* A coinbase may pay nothing (docs/ENCODING.md, "Output-less coinbase"):
 * its 10-byte encoding is the smallest transaction, and a block holding
 * only it decodes (the per-transaction size guard counts 11 bytes: the
 * length byte and the 10) and passes the block rules; every truncation is
 * still refused. */
START_TEST(block_outputless_coinbase_only)
{
    utxo_block *b = utxo_block_new(), *back = NULL;
    utxo_tx *cb = utxo_tx_new();
    size_t n, off = 0;
    uint8_t *buf;

    cb->coinbase_height = 3;
    b->header.version = UTXO_HEADER_VERSION;
    b->header.height = 3;
    ck_assert_int_eq(utxo_block_add_tx(b, cb), UTXO_OK);
    ck_assert_int_eq(utxo_block_tx_root(b, b->header.tx_root), UTXO_OK);
    ck_assert_uint_eq(utxo_tx_get_length(cb, true), 10);
    ck_assert_int_eq(utxo_block_check(b, NULL, NULL, NULL), UTXO_OK);
    buf = block_bytes(b, &n);
    ck_assert_uint_eq(n, UTXO_HEADER_BYTES + 1 + 1 + 10);
    ck_assert_int_eq(utxo_block_from_bytes(&back, buf, n, NULL, &off), UTXO_OK);
    ck_assert_uint_eq(back->n_txs, 1);
    ck_assert_uint_eq(back->txs[0]->n_outputs, 0);
    utxo_block_free(back);
    for (size_t k = 0; k < n; k++) {
        ck_assert_int_ne(utxo_block_from_bytes(&back, buf, k, NULL, &off), UTXO_OK);
        ck_assert_ptr_null(back);
    }
    free(buf);
    utxo_block_free(b);
}
END_TEST

static Suite *ledger_suite(void)
{
    Suite *s = suite_create("ledger");
    TCase *tx = tcase_create("tx"), *blk = tcase_create("block"), *gold = tcase_create("golden");

    tcase_set_timeout(tx, 60);
    tcase_add_test(tx, tx_round_trip_random);
    tcase_add_test(tx, tx_coinbase_round_trip);
    tcase_add_test(tx, tx_every_truncation_rejected);
    tcase_add_test(tx, tx_trailing_rejected);
    tcase_add_test(tx, tx_bad_version_rejected);
    tcase_add_test(tx, tx_noncanonical_varint_rejected);
    tcase_add_test(tx, tx_limits_plus_one);
    tcase_add_test(tx, tx_size_limit);
    tcase_add_test(tx, tx_hostile_count_no_huge_alloc);
    tcase_add_test(tx, tx_duplicate_input);
    tcase_add_test(tx, tx_value_overflow);
    tcase_add_test(tx, tx_witness_and_cycles);
    tcase_add_test(tx, tx_structure_rules);
    tcase_add_test(tx, tx_min_fee);
    tcase_add_test(tx, tx_ids_cover_the_right_bytes);
    tcase_add_test(tx, tx_ids_match_txid_and_wtxid);
    tcase_add_test(tx, known_lengths_same_answers);
    tcase_add_test(tx, tx_witness_forms_strict);
    tcase_add_test(tx, tx_ids_commit_to_the_form);
    tcase_add_test(tx, tx_ref_rules);
    suite_add_tcase(s, tx);
    tcase_set_timeout(blk, 60);
    tcase_add_test(blk, header_round_trip_sign);
    tcase_add_test(blk, block_round_trip_and_truncation);
    tcase_add_test(blk, block_tx_length_mismatch);
    tcase_add_test(blk, block_rules);
    tcase_add_test(blk, block_ref_rules);
    tcase_add_test(blk, block_coinbase_rules);
    tcase_add_test(blk, block_outputless_coinbase_only);
    tcase_add_test(blk, block_limits);
    tcase_add_test(blk, tx_root_shapes);
    tcase_add_test(blk, params_round_trip);
    tcase_add_test(blk, params_caps_as_documented);
    suite_add_tcase(s, blk);
    tcase_add_test(gold, golden_tx_vector);
    tcase_add_test(gold, golden_template_vector);
    tcase_add_test(gold, golden_ref_vector);
    tcase_add_test(gold, golden_block_and_params);
    suite_add_tcase(s, gold);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(ledger_suite());
}
