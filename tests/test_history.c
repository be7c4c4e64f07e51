/*
 * test_history.c — the range result file of utxo/history.h
 * (docs/RANGES.md) read as hostile input: a round trip gives the same
 * bytes; every byte flipped, every truncation and a trailing byte are
 * refused; a result of another chain, a valid verdict with a reason, an end
 * state whose digest or tip disagrees with the header, and a file larger
 * than any result (refused before it is read) each get their code. Link-up
 * of a generated plan takes why NULL or of no length, and checks each
 * range's previous hash (zeros for range 0). A missing argument of the
 * plan, manifest and link-up calls is UTXO_ERR_ARG, not a crash.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/history.h"
#include "utxo/blockfile.h"
#include "chain/chain.h"
#include "chain/workload.h"

static utxo_params P;

/* An invalid-verdict result over [0, 5) that ends at the genesis state. */
static void make_result(utxo_range_result *r)
{
    utxo_validator *v = utxo_validator_new(&P, 1);
    size_t n = 0;

    ck_assert_ptr_nonnull(v);
    memset(r, 0, sizeof *r);
    memcpy(r->chain_id, P.chain_id, UTXO_HASH_BYTES);
    r->from = 0;
    r->to = 5;
    ck_assert_int_eq(utxo_validator_state_to_bytes(v, r->end_state, sizeof r->end_state, &n),
                     UTXO_OK);
    r->state_len = (uint32_t)n;
    utxo_range_state_digest(r->end_state, n, r->end_digest);
    memcpy(r->start_digest, r->end_digest, UTXO_HASH_BYTES);
    utxo_validator_tip_hash(v, r->last_hash);
    memcpy(r->prev_hash, r->last_hash, UTXO_HASH_BYTES);
    r->verdict = UTXO_ERR_TRUNCATED;
    strcpy(r->reason, "the files end before the range does");
    r->reason_len = (uint16_t)strlen(r->reason);
    utxo_validator_free(v);
}

static size_t encode(const utxo_range_result *r, uint8_t *buf, size_t cap)
{
    size_t n = 0;

    ck_assert_int_eq(utxo_range_result_to_bytes(r, buf, cap, &n), UTXO_OK);
    ck_assert_uint_eq(n, utxo_range_result_get_length(r));
    return n;
}

START_TEST(round_trip)
{
    utxo_range_result r, back;
    uint8_t a[UTXO_RANGE_RESULT_MAX_BYTES], b[UTXO_RANGE_RESULT_MAX_BYTES];
    size_t n, m;

    make_result(&r);
    n = encode(&r, a, sizeof a);
    ck_assert_uint_eq(n, 254u + r.state_len + r.reason_len);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, NULL), UTXO_OK);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, NULL, a, n, NULL), UTXO_OK);
    m = encode(&back, b, sizeof b);
    ck_assert_uint_eq(m, n);
    ck_assert_mem_eq(a, b, n);
    ck_assert_str_eq(back.reason, r.reason);
    ck_assert_uint_eq(back.verdict, UTXO_ERR_TRUNCATED);
    /* a short buffer is refused, nothing written past it */
    ck_assert_int_eq(utxo_range_result_to_bytes(&r, b, n - 1, &m), UTXO_ERR_ARG);
}
END_TEST

START_TEST(every_flip_cut_and_trailing_byte)
{
    utxo_range_result r, back;
    uint8_t a[UTXO_RANGE_RESULT_MAX_BYTES + 1];
    size_t n;

    make_result(&r);
    n = encode(&r, a, sizeof a);
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            a[i] ^= (uint8_t)(1u << bit);
            ck_assert_msg(utxo_range_result_from_bytes(&back, &P, a, n, NULL) != UTXO_OK,
                          "byte %zu bit %d flipped was accepted", i, bit);
            a[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t k = 0; k < n; k++)
        ck_assert_msg(utxo_range_result_from_bytes(&back, &P, a, k, NULL) != UTXO_OK,
                      "cut to %zu bytes accepted", k);
    a[n] = 0;
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n + 1, NULL), UTXO_ERR_TRAILING);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, NULL), UTXO_OK);
}
END_TEST

START_TEST(rules_past_the_checksum)
{
    utxo_range_result r, back;
    uint8_t a[UTXO_RANGE_RESULT_MAX_BYTES];
    utxo_params q = P;
    size_t n, off = 0;

    /* another chain */
    make_result(&r);
    n = encode(&r, a, sizeof a);
    q.max_block_txs = P.max_block_txs - 1;
    utxo_params_chain_id(&q);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &q, a, n, &off), UTXO_ERR_FILE_CHAIN);
    ck_assert_uint_eq(off, 8);
    /* a valid verdict with a reason */
    r.verdict = 0;
    n = encode(&r, a, sizeof a);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, NULL), UTXO_ERR_NONCANONICAL);
    /* an end state digest that is not the state's */
    make_result(&r);
    r.end_digest[0] ^= 1;
    n = encode(&r, a, sizeof a);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, &off), UTXO_ERR_STATE);
    ck_assert_uint_eq(off, 144);
    /* a last hash that is not the state's tip */
    make_result(&r);
    r.last_hash[0] ^= 1;
    n = encode(&r, a, sizeof a);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, &off), UTXO_ERR_STATE);
    /* blocks counted past the state's height */
    make_result(&r);
    r.blocks = 1;
    n = encode(&r, a, sizeof a);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, NULL), UTXO_ERR_STATE);
    /* a reason byte that is not printable */
    make_result(&r);
    r.reason[3] = '\n';
    n = encode(&r, a, sizeof a);
    ck_assert_int_eq(utxo_range_result_from_bytes(&back, &P, a, n, &off), UTXO_ERR_NONCANONICAL);
    ck_assert_uint_eq(off, 222 + 3);
}
END_TEST

START_TEST(files)
{
    char dir[] = "/tmp/test_history.XXXXXX", path[128], why[160];
    utxo_range_result r, back;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/r", dir);
    make_result(&r);
    ck_assert_int_eq(utxo_range_result_write(&r, path), UTXO_OK);
    ck_assert_int_eq(utxo_range_result_read(&back, &P, path, why, sizeof why), UTXO_OK);
    ck_assert_uint_eq(back.state_len, r.state_len);
    /* larger than any result: refused before it is read */
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 1L << 30, SEEK_SET), 0);
    ck_assert_int_eq(fputc(0, f), 0);
    fclose(f);
    ck_assert_int_eq(utxo_range_result_read(&back, &P, path, why, sizeof why), UTXO_ERR_TOO_LARGE);
    ck_assert_ptr_nonnull(strstr(why, "more than a range result holds"));
    unlink(path);
    ck_assert_int_eq(utxo_range_result_read(&back, &P, path, why, sizeof why), UTXO_ERR_IO);
    ck_assert_ptr_nonnull(strstr(why, "No such file"));
    rmdir(dir);
}
END_TEST


/* ---- a plan: link-up ------------------------------------------------------- */

#define PLAN_BLOCKS 6
#define PLAN_RANGES 2

static char plan_root[32], plan_dir[64];
static utxo_params GP; /* the generated chain's parameters */

static char *in_plan(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];

    snprintf(p, 256, "%s/%s", plan_dir, name);
    return p;
}

static char *range_path(uint32_t i, const char *ext)
{
    char name[32];

    utxo_range_file_name(name, sizeof name, i, ext);
    return in_plan(name);
}

/* A generated chain of PLAN_BLOCKS blocks, replayed into a store, cut into
 * PLAN_RANGES ranges, each verified: a plan that links up. */
static void make_plan(void)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_chainfile *bf = NULL, *pf = NULL;
    utxo_store *s = NULL;
    utxo_sync_opts so;
    utxo_pipe_result res;
    utxo_history_plan pl;
    utxo_history_linkup_result lr;
    char why[400], chain[128], proofs[128], db[128];
    const char *root = plan_root;

    strcpy(plan_root, "/tmp/test_history.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(plan_root));
    snprintf(plan_dir, sizeof plan_dir, "%s/plan", root);
    snprintf(chain, sizeof chain, "%s/c.blocks", root);
    snprintf(proofs, sizeof proofs, "%s/c.proofs", root);
    snprintf(db, sizeof db, "%s/n.db", root);
    bp_gen_opts_default(&o);
    o.txs_per_block = 3;
    ck_assert_int_eq(bp_gen_new(&g, &o, &GP), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&bf, chain, UTXO_CHAINFILE_BLOCKS, &GP), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_create(&pf, proofs, UTXO_CHAINFILE_PROOFS, &GP), UTXO_OK);
    for (int h = 0; h < PLAN_BLOCKS; h++) {
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        ck_assert_int_eq(bp_gen_next(g, &blk, &bd), UTXO_OK);
        ck_assert_int_eq(chain_append_block(bf, pf, blk, bd, NULL, NULL), UTXO_OK);
        utxo_block_free(blk);
        utxo_bundle_free(bd);
    }
    ck_assert_int_eq(utxo_chainfile_close(bf), UTXO_OK);
    ck_assert_int_eq(utxo_chainfile_close(pf), UTXO_OK);
    bp_gen_free(g);
    ck_assert_int_eq(utxo_store_open(&s, db, &GP, UTXO_STORE_CREATE, 1, why, sizeof why),
                     UTXO_OK);
    memset(&so, 0, sizeof so);
    ck_assert_int_eq(utxo_replay_file(s, chain, &so, &res), UTXO_OK);
    ck_assert_int_eq(utxo_history_plan_make(s, PLAN_RANGES, plan_dir, &pl, why, sizeof why),
                     UTXO_OK);
    utxo_store_close(s);
    for (uint32_t i = 0; i < pl.k; i++) {
        utxo_range_result r;
        ck_assert_int_eq(utxo_range_verify(range_path(i, "state"), pl.ranges[i].from,
                                           pl.ranges[i].to, range_path(i, "blocks"),
                                           range_path(i, "proofs"), 1, &r, &res),
                         UTXO_OK);
        ck_assert_uint_eq(r.verdict, 0);
        ck_assert_int_eq(utxo_range_result_write(&r, range_path(i, "result")), UTXO_OK);
    }
    utxo_history_plan_free(&pl);
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, sizeof why), UTXO_OK);
    ck_assert_uint_eq(lr.blocks, PLAN_BLOCKS);
}

static void remove_plan(void)
{
    char cmd[64];

    snprintf(cmd, sizeof cmd, "rm -rf %s", plan_root);
    ck_assert_int_eq(system(cmd), 0);
}

/* why may be NULL, or of no length: a missing result is said in neither
 * (the code and failed_range are the answer), and nothing is written. */
START_TEST(linkup_why_optional)
{
    utxo_history_linkup_result lr;
    char why[160], before[160];

    make_plan();
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, NULL, 0), UTXO_OK);
    ck_assert_int_eq(unlink(range_path(1, "result")), 0);
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, NULL, 0), UTXO_ERR_IO);
    ck_assert_uint_eq(lr.failed_range, 1);
    ck_assert(!lr.manifest_bad);
    /* a buffer of no length is not touched (not even read) */
    memset(why, 'Z', sizeof why);
    memcpy(why, "untouched", 10);
    memcpy(before, why, sizeof why);
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, 0), UTXO_ERR_IO);
    ck_assert_mem_eq(why, before, sizeof why);
    /* a short buffer gets the start of the line, terminated */
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, 12), UTXO_ERR_IO);
    ck_assert_str_eq(why, "range 1 (he");
    ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, sizeof why), UTXO_ERR_IO);
    ck_assert_msg(strstr(why, "range-001.result: no such file (not run?)") != NULL, "%s", why);
    ck_assert(lr.no_result && !lr.manifest_bad && !lr.invalid);
    ck_assert_uint_eq(lr.failed_range, 1);
    remove_plan();
}
END_TEST

/* Range 0's previous hash is the genesis state's, zeros (docs/RANGES.md,
 * "Link-up" 2): a result saying otherwise does not link, whatever else in
 * it is right. Range 1's is range 0's last hash. */
START_TEST(linkup_prev_hash)
{
    utxo_history_linkup_result lr;
    utxo_range_result r, keep;
    char why[400];

    make_plan();
    for (uint32_t i = 0; i < PLAN_RANGES; i++) {
        ck_assert_int_eq(utxo_range_result_read(&r, &GP, range_path(i, "result"), why,
                                                sizeof why),
                         UTXO_OK);
        keep = r;
        r.prev_hash[UTXO_HASH_BYTES - 1] ^= 1;
        ck_assert_int_eq(utxo_range_result_write(&r, range_path(i, "result")), UTXO_OK);
        ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, sizeof why), UTXO_ERR_STATE);
        ck_assert_uint_eq(lr.failed_range, i);
        ck_assert_msg(strstr(why, i == 0 ? "range 0: its previous hash is not zeros"
                                         : "range 1: its first block does not follow range 0's")
                          != NULL, "%s", why);
        ck_assert_int_eq(utxo_range_result_write(&keep, range_path(i, "result")), UTXO_OK);
        ck_assert_int_eq(utxo_history_linkup(plan_dir, &lr, why, sizeof why), UTXO_OK);
    }
    remove_plan();
}
END_TEST

/* Missing arguments are refused with UTXO_ERR_ARG (and why says so), as
 * everywhere else in the library, not dereferenced; a length of nothing
 * is 0 and a file name without its kind is empty. */
START_TEST(null_arguments)
{
    utxo_history_plan pl;
    utxo_history_linkup_result lr;
    utxo_params p;
    char why[64], name[32];

    ck_assert_uint_eq(utxo_range_result_get_length(NULL), 0);
    ck_assert_int_eq(utxo_history_manifest_read(NULL, &p, "/nonexistent", why, sizeof why),
                     UTXO_ERR_ARG);
    ck_assert_str_eq(why, utxo_strerror(UTXO_ERR_ARG));
    ck_assert_int_eq(utxo_history_manifest_read(&pl, NULL, "/nonexistent", NULL, 0), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_history_manifest_read(&pl, &p, NULL, why, sizeof why), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_history_plan_make(NULL, 1, "/nonexistent", &pl, why, sizeof why),
                     UTXO_ERR_ARG);
    ck_assert_str_eq(why, utxo_strerror(UTXO_ERR_ARG));
    ck_assert_int_eq(utxo_history_linkup(NULL, &lr, why, sizeof why), UTXO_ERR_ARG);
    ck_assert_int_eq(utxo_history_linkup("/nonexistent", NULL, why, sizeof why), UTXO_ERR_ARG);
    utxo_range_file_name(name, sizeof name, 3, NULL);
    ck_assert_str_eq(name, "");
    utxo_range_file_name(NULL, 0, 3, "state");
    utxo_range_file_name(name, sizeof name, 3, "state");
    ck_assert_str_eq(name, "range-003.state");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("history");
    TCase *tc = tcase_create("result");

    utxo_params_default(&P);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, every_flip_cut_and_trailing_byte);
    tcase_add_test(tc, rules_past_the_checksum);
    tcase_add_test(tc, files);
    tcase_add_test(tc, null_arguments);
    suite_add_tcase(s, tc);
    tc = tcase_create("linkup");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, linkup_why_optional);
    tcase_add_test(tc, linkup_prev_hash);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
