/*
 * test_stateless_codec.c — the bytes of stateless validation: the validator
 * state (resume mid-chain equals a straight run; strict decoding), proof
 * bundles (round trip, every truncation, duplicate targets, receipt
 * entries), block and proof files (round trip, every truncation names the
 * record's offset, wrong kind, bad lengths), and the worked example of
 * docs/STATELESS.md byte for byte.
 */
#include "config.h"

#include <unistd.h>
#include "stateless_testutil.h"

/* ---- encodings ------------------------------------------------------------- */

START_TEST(state_resume_and_strictness)
{
    world w;
    utxo_validator *a, *r = NULL;
    utxo_params other;
    uint8_t *sb, *fa, *fr;
    size_t sl, la, lr, eo;
    utxo_block *blocks[14];
    utxo_bundle *bundles[14];

    world_init(&w, 6, 3, 16);
    a = utxo_validator_new(&w.p, 1);
    /* pre-genesis state round trip */
    sb = state_bytes(a, &sl);
    ck_assert_uint_eq(sl, 89);
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, NULL), UTXO_OK);
    utxo_validator_free(r);
    free(sb);
    for (int h = 0; h < 14; h++) {
        ck_assert_int_eq(bp_gen_next(w.gen, &blocks[h], &bundles[h]), UTXO_OK);
        ck_assert_int_eq(utxo_validator_apply(a, blocks[h], bundles[h], NULL), UTXO_OK);
        if (h < 7)
            ck_assert_int_eq(utxo_validator_apply(w.v, blocks[h], bundles[h], NULL), UTXO_OK);
    }
    /* stop after 7 blocks, resume from the bytes, finish */
    sb = state_bytes(w.v, &sl);
    ck_assert_uint_eq(sl, 89 + 32 * (size_t)__builtin_popcountll(utxo_validator_leaf_count(w.v)));
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 2, NULL), UTXO_OK);
    for (int h = 7; h < 14; h++)
        ck_assert_int_eq(utxo_validator_apply(r, blocks[h], bundles[h], NULL), UTXO_OK);
    fa = state_bytes(a, &la);
    fr = state_bytes(r, &lr);
    ck_assert_uint_eq(la, lr);
    ck_assert_mem_eq(fa, fr, la);
    assert_roots_match(r, bp_gen_chain(w.gen));
    utxo_validator_free(r);
    /* strict: every truncation, a trailing byte, another chain, bad magic */
    for (size_t n = 0; n < sl; n++) {
        ck_assert_int_ne(utxo_validator_from_state(&r, &w.p, sb, n, 1, &eo), UTXO_OK);
        ck_assert_ptr_null(r);
    }
    sb = realloc(sb, sl + 1);
    sb[sl] = 0;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl + 1, 1, &eo), UTXO_ERR_TRAILING);
    ck_assert_uint_eq(eo, sl);
    other = w.p;
    other.max_datum_bytes--;
    utxo_params_chain_id(&other);
    ck_assert_int_eq(utxo_validator_from_state(&r, &other, sb, sl, 1, &eo), UTXO_ERR_FILE_CHAIN);
    sb[0] ^= 1;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_FILE_FORMAT);
    sb[0] ^= 1;
    sb[4] = 2;
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_VERSION);
    sb[4] = 1;
    /* height 0 with a tip: inconsistent */
    memset(sb + 37, 0, 4);
    ck_assert_int_eq(utxo_validator_from_state(&r, &w.p, sb, sl, 1, &eo), UTXO_ERR_STATE);
    free(sb);
    free(fa);
    free(fr);
    for (int h = 0; h < 14; h++) {
        utxo_block_free(blocks[h]);
        utxo_bundle_free(bundles[h]);
    }
    utxo_validator_free(a);
    world_free(&w);
}
END_TEST

START_TEST(bundle_encoding)
{
    world w;
    size_t checked = 0;

    world_init(&w, 8, 3, 17);
    for (int h = 0; h < 6; h++) {
        utxo_block *b;
        utxo_bundle *bd, *back;
        uint8_t *pb;
        size_t pl, eo;
        utxo_bundle_info info;

        step(&w, &b, &bd);
        pb = bundle_bytes(bd, &pl);
        ck_assert_uint_eq(pb[0], UTXO_BUNDLE_VERSION);
        ck_assert_int_eq(utxo_bundle_from_bytes(&back, pb, pl, &w.p, NULL), UTXO_OK);
        utxo_bundle_get_info(back, &info);
        ck_assert_uint_eq(info.n_spent, bd->n_spent);
        ck_assert_uint_eq(info.n_receipts, 0);
        ck_assert_mem_eq(info.block_hash, bd->block_hash, 32);
        utxo_bundle_free(back);
        for (size_t n = 0; n < pl; n++) {
            ck_assert_int_ne(utxo_bundle_from_bytes(&back, pb, n, &w.p, &eo), UTXO_OK);
            ck_assert_ptr_null(back);
            ck_assert_uint_le(eo, n);
            checked++;
        }
        pb = realloc(pb, pl + 1);
        pb[pl] = 0;
        ck_assert_int_eq(utxo_bundle_from_bytes(&back, pb, pl + 1, &w.p, &eo), UTXO_ERR_TRAILING);
        if (bd->n_spent >= 2) {
            /* two entries bound to one target */
            utxo_bundle *dup;
            uint8_t *db;
            size_t dl;
            uint32_t t1 = bd->spent[1].target;
            bd->spent[1].target = bd->spent[0].target;
            db = bundle_bytes(bd, &dl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&dup, db, dl, &w.p, &eo),
                             UTXO_ERR_NONCANONICAL);
            bd->spent[1].target = t1;
            free(db);
        }
        if (h == 5) {
            /* receipts: round trip; out of order, an empty chain, a damaged
             * receipt, truncations inside the receipts section */
            rlist l1, l2;
            uint8_t *rb;
            size_t rl, base = pl;
            utxo_bundle *x;
            work_receipts(&l1, 3, 10);
            work_receipts(&l2, 2, 10);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 1, 0, l1.r, l1.n), UTXO_OK);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 1, 0, l2.r, l2.n), UTXO_ERR_ARG);
            ck_assert_int_eq(bp_bundle_add_receipt(bd, 2, 0, l2.r, l2.n), UTXO_OK);
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_OK);
            utxo_bundle_get_info(x, &info);
            ck_assert_uint_eq(info.n_receipts, 2);
            ck_assert_uint_eq(x->receipts[0].n, l1.n);
            ck_assert_uint_eq(x->receipts[1].n, l2.n);
            utxo_bundle_free(x);
            for (size_t n = base - 1; n < rl; n += 97)
                ck_assert_int_ne(utxo_bundle_from_bytes(&x, rb, n, &w.p, &eo), UTXO_OK);
            rb[rl - 20] ^= 0x40; /* inside the last receipt: strict, canonical */
            if (utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo) == UTXO_OK) {
                uint8_t *re;
                size_t rel;
                re = bundle_bytes(x, &rel);
                ck_assert_uint_eq(rel, rl);
                ck_assert_mem_eq(re, rb, rl);
                free(re);
                utxo_bundle_free(x);
            }
            free(rb);
            bd->receipts[1].tx = 1;
            bd->receipts[1].input = 0;
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_ERR_NONCANONICAL);
            free(rb);
            bd->receipts[1].tx = 2;
            bd->receipts[1].n = 0;
            rb = bundle_bytes(bd, &rl);
            ck_assert_int_eq(utxo_bundle_from_bytes(&x, rb, rl, &w.p, &eo), UTXO_ERR_NONCANONICAL);
            bd->receipts[1].n = l2.n;
            free(rb);
        }
        free(pb);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    ck_assert_uint_gt(checked, 1000);
    /* unknown version */
    {
        uint8_t one[1] = {2};
        utxo_bundle *x;
        ck_assert_int_eq(utxo_bundle_from_bytes(&x, one, 1, &w.p, NULL), UTXO_ERR_VERSION);
    }
    world_free(&w);
}
END_TEST

START_TEST(block_and_proof_files)
{
    world w;
    char bpath[] = "/tmp/test_stateless_XXXXXX";
    char ppath[64];
    utxo_chainfile *bf, *pf;
    utxo_params p2;
    uint8_t *recs[5], *file = NULL;
    size_t lens[5], eo, flen = 0;
    uint64_t offs[5], off;
    int fd = mkstemp(bpath);

    ck_assert_int_ge(fd, 0);
    close(fd);
    snprintf(ppath, sizeof ppath, "%s.proofs", bpath);
    world_init(&w, 3, 2, 18);
    ck_assert_int_eq(utxo_chainfile_create(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &w.p), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&pf, ppath, UTXO_CHAINFILE_PROOFS, &w.p), UTXO_OK);
    for (int h = 0; h < 5; h++) {
        utxo_block *b;
        utxo_bundle *bd;
        uint8_t *pb;
        size_t pl;
        step(&w, &b, &bd);
        recs[h] = block_bytes(b, &lens[h]);
        offs[h] = utxo_chainfile_tell(bf);
        ck_assert_int_eq(utxo_chainfile_append(bf, recs[h], lens[h]), UTXO_OK);
        pb = bundle_bytes(bd, &pl);
        ck_assert_int_eq(utxo_chainfile_append(pf, pb, pl), UTXO_OK);
        free(pb);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    ck_assert_int_eq(utxo_chainfile_append(bf, recs[0], 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
    /* read back */
    ck_assert_int_eq(utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, NULL), UTXO_OK);
    ck_assert_mem_eq(p2.chain_id, w.p.chain_id, 32);
    for (int h = 0; h <= 5; h++) {
        uint8_t *r;
        size_t l;
        ck_assert_int_eq(utxo_chainfile_next(bf, &r, &l, &off), UTXO_OK);
        if (h == 5) {
            ck_assert_ptr_null(r);
            break;
        }
        ck_assert_uint_eq(off, offs[h]);
        ck_assert_uint_eq(l, lens[h]);
        ck_assert_mem_eq(r, recs[h], l);
        free(r);
    }
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    /* a proof file is not a block file */
    ck_assert_int_eq(utxo_chainfile_open(&bf, ppath, UTXO_CHAINFILE_BLOCKS, &p2, &eo),
                     UTXO_ERR_FILE_FORMAT);
    ck_assert_ptr_null(bf);
    /* every truncation: the header, or the record it cuts, is named */
    {
        FILE *f = fopen(bpath, "rb");
        ck_assert_ptr_nonnull(f);
        file = malloc(1 << 20);
        flen = fread(file, 1, 1 << 20, f);
        fclose(f);
    }
    for (size_t n = 0; n < flen; n += 7) {
        FILE *f = fopen(bpath, "wb");
        int rc;
        size_t got = 0;
        fwrite(file, 1, n, f);
        fclose(f);
        rc = utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, &eo);
        if (n < UTXO_CHAINFILE_HEADER_BYTES) {
            ck_assert_int_eq(rc, UTXO_ERR_TRUNCATED);
            ck_assert_uint_eq(eo, n);
            continue;
        }
        ck_assert_int_eq(rc, UTXO_OK);
        for (;;) {
            uint8_t *r;
            size_t l;
            rc = utxo_chainfile_next(bf, &r, &l, &off);
            if (rc != UTXO_OK || r == NULL)
                break;
            free(r);
            got++;
        }
        if (rc == UTXO_OK) {
            /* a clean end: exactly at a record boundary */
            ck_assert(got == 5 ? n == flen : n == offs[got]);
        } else {
            ck_assert_int_eq(rc, UTXO_ERR_TRUNCATED);
            ck_assert_uint_eq(off, offs[got]);
        }
        utxo_chainfile_close(bf);
    }
    /* a record length of 0 or over the cap */
    {
        FILE *f = fopen(bpath, "wb");
        uint8_t z[4] = {0, 0, 0, 0};
        fwrite(file, 1, UTXO_CHAINFILE_HEADER_BYTES, f);
        fwrite(z, 1, 4, f);
        fclose(f);
        ck_assert_int_eq(utxo_chainfile_open(&bf, bpath, UTXO_CHAINFILE_BLOCKS, &p2, &eo), UTXO_OK);
        {
            uint8_t *r;
            size_t l;
            ck_assert_int_eq(utxo_chainfile_next(bf, &r, &l, &off), UTXO_ERR_TOO_LARGE);
            ck_assert_uint_eq(off, UTXO_CHAINFILE_HEADER_BYTES);
        }
        utxo_chainfile_close(bf);
    }
    unlink(bpath);
    unlink(ppath);
    free(file);
    for (int h = 0; h < 5; h++)
        free(recs[h]);
    world_free(&w);
}
END_TEST

/* docs/STATELESS.md, "Worked example": the bundle of block 1, byte for byte. */
START_TEST(doc_worked_example)
{
    static const char want[] =
        "01"
        "82120bf28219ccc50d5b8d47e284cd801862d84b9b8dc4e4ddf7c861b4e6f500"
        "04"
        "01010200"
        "4710435c59e459d900a62a4dd0e92b0e6c7a16aabfd60799f01f93f29863cb31"
        "f3aa9b47f7c6901e7b9f20597a48597919921505c1452b193ae1f85a08dc92ac"
        "00000010a5d4e8000000"
        "85f3dc1f38983df10049e710a72e7894a87458ab34188e87e15a672723fa5bb7"
        "00"
        "00"
        "00";
    bp_gen_opts o;
    bp_gen *g;
    utxo_params p;
    utxo_block *b;
    utxo_bundle *bd;
    uint8_t *bytes;
    size_t len;
    char hex[2 * 147 + 1];

    bp_gen_opts_default(&o);
    o.genesis_coins = 4;
    o.n_wallets = 2;
    o.txs_per_block = 1;
    o.max_inputs = 1;
    o.chain_pct = 0;
    o.recent_pct = 0;
    o.seed = 5;
    ck_assert_int_eq(bp_gen_new(&g, &o, &p), UTXO_OK);
    for (int h = 0; h < 2; h++) {
        ck_assert_int_eq(bp_gen_next(g, &b, &bd), UTXO_OK);
        bytes = bundle_bytes(bd, &len);
        ck_assert_uint_eq(len, h == 0 ? 38 : 147);
        if (h == 1) {
            to_hex(hex, bytes, len);
            ck_assert_str_eq(hex, want);
        }
        free(bytes);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    bp_gen_free(g);
}
END_TEST

static Suite *stateless_codec_suite(void)
{
    Suite *s = suite_create("stateless_codec");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, state_resume_and_strictness);
    tcase_add_test(tc, bundle_encoding);
    tcase_add_test(tc, block_and_proof_files);
    tcase_add_test(tc, doc_worked_example);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    return run_suite(stateless_codec_suite());
}
