/*
 * bench_history.c — `utxo bench history`: a generated history verified in
 * K block ranges as parallel processes (`utxo history run`: one
 * `utxo verify --range` process per range, --jobs at a time, then link-up)
 * beside one sequential stateless verification of the same blocks and
 * proofs with one predicate thread (what each range process uses), in the
 * same run (docs/RANGES.md).
 *
 *   bench history blocks=N ranges=K speedup=S linkup_share=F jobs=J
 *       seq_ms=.. par_ms=.. linkup_us=.. speedup_goal=1.8
 *
 * speedup = sequential time / (ranges run + link-up), whole processes and
 * their start-up included; linkup_share = link-up time / that total. For
 * comparison the same files are also verified in one process with J
 * predicate threads (seq_threads_ms, speedup_vs_threads = that time / the
 * ranges' time): what ranges add on one box over in-process threads.
 * The arms run interleaved --repeat times and each one's least time
 * counts (repeat=R on the line). The
 * plan (cut, start states, range files) is made before the timing, as a
 * node would serve it; its time is printed apart (plan_ms).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/history.h"
#include "bench.h"
#include "chain/chain.h"
#include "commands.h"
#include "util.h"

static void history_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench history [--blocks N] [--tx-per-block M] [--ranges K] [--jobs J]\n"
               "                          [--repeat R]\n"
               "\n"
               "Generates a history (default 2000 blocks of 20 transactions), cuts it\n"
               "into K ranges (default 8) and verifies them as J parallel processes\n"
               "(default: one per CPU) with the link-up, beside one sequential\n"
               "verification of the same files with one predicate thread (and, for\n"
               "comparison, with J predicate threads in one process), the three\n"
               "interleaved R times (default 3), the least time of each counting.\n"
               "Works in a directory under $TMPDIR (default /tmp), removed at the end.\n"
               "Prints `bench history blocks=N ranges=K speedup=S linkup_share=F ...`.\n"
               "\nexample:\n  utxo bench history --blocks 1000 --ranges 8\n");
}

int bench_history(int argc, char **argv)
{
    uint64_t blocks = 2000, txs = 20, ranges = 8, jobs = 0, repeat = 3;
    num_opt nums[] = {
        {"--blocks", &blocks, 2, 1000000, false}, {"--tx-per-block", &txs, 1, 5000, false},
        {"--ranges", &ranges, 1, 100000, false}, {"--jobs", &jobs, 1, 1024, false},
        {"--repeat", &repeat, 1, 100, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM}, {"tx-per-block", required_argument, NULL, CLI_NUM},
        {"ranges", required_argument, NULL, CLI_NUM}, {"jobs", required_argument, NULL, CLI_NUM},
        {"repeat", required_argument, NULL, CLI_NUM}, CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench history", history_bench_usage, "", opts);
    char dir[4096], path[4][4200], msg[512];
    gen_opts o;
    gen_stats st;
    utxo_store *s = NULL;
    utxo_params p;
    utxo_sync_opts so;
    utxo_verify_opts vo;
    utxo_pipe_result res;
    utxo_history_plan pl;
    utxo_history_linkup_result lr;
    utxo_validator *v = NULL;
    uint64_t t0, t_plan;
    uint64_t seq = UINT64_MAX, seqt = UINT64_MAX, par = UINT64_MAX, lu = 0;
    int rc, ex = EXIT_USAGE;

    if ((rc = cli_nums_only(&cl, argc, argv, nums, sizeof nums / sizeof nums[0], 0, 0, "")) >= 0)
        return rc;
    if (ranges > blocks)
        return usage_error(cl.cmd, "--ranges must not exceed --blocks");
    if (jobs == 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        jobs = cpus > 0 ? (uint64_t)cpus : 1;
    }
    /* a scratch directory for the history and the plan, removed at the end */
    if (scratch_dir(dir, sizeof dir, "bench history", "utxo-bench-history") != 0)
        return EXIT_USAGE;
    snprintf(path[0], sizeof path[0], "%s/chain", dir);
    snprintf(path[1], sizeof path[1], "%s/chain/blocks", dir);
    snprintf(path[2], sizeof path[2], "%s/chain/proofs", dir);
    snprintf(path[3], sizeof path[3], "%s/plan", dir);
    gen_opts_default(&o);
    o.blocks = (uint32_t)blocks;
    o.tx_per_block = (uint32_t)txs;
    if ((rc = gen_run(path[0], &o, &st, NULL, NULL, msg, sizeof msg)) != UTXO_OK) {
        errorf("bench history: %s", msg);
        goto out;
    }
    {
        char db[4200];
        size_t eo = 0;
        utxo_chainfile *cf = NULL;
        snprintf(db, sizeof db, "%s/node.db", dir);
        if ((rc = utxo_chainfile_open(&cf, path[1], UTXO_CHAINFILE_BLOCKS, &p, &eo)) != UTXO_OK)
            goto fail;
        (void)utxo_chainfile_close(cf);
        if ((rc = utxo_store_open(&s, db, &p, UTXO_STORE_CREATE, 0, msg, sizeof msg)) != UTXO_OK)
            goto fail;
        memset(&so, 0, sizeof so);
        if ((rc = utxo_replay_file(s, path[1], &so, &res)) != UTXO_OK)
            goto fail;
    }
    t0 = clock_now_ns();
    rc = utxo_history_plan_make(s, (uint32_t)ranges, path[3], &pl, msg, sizeof msg);
    t_plan = clock_now_ns() - t0;
    utxo_store_close(s);
    s = NULL;
    if (rc != UTXO_OK)
        goto fail;
    utxo_history_plan_free(&pl);
    /* Three arms, interleaved, each timed `repeat` times; the best (least)
     * time of each arm counts, which discounts a noisy neighbour equally
     * for all. */
    memset(&vo, 0, sizeof vo);
    for (uint64_t r = 0; r < repeat; r++) {
        uint64_t a, b, c, d;
        /* one sequential verification, one predicate thread */
        for (int arm = 0; arm < 2; arm++) {
            if ((v = utxo_validator_new(&p, arm == 0 ? 1u : (unsigned)jobs)) == NULL) {
                rc = UTXO_ERR_NOMEM;
                goto fail;
            }
            a = clock_now_ns();
            rc = utxo_verify_files(v, path[1], path[2], &vo, &res);
            b = clock_now_ns();
            utxo_validator_free(v);
            v = NULL;
            if (rc != UTXO_OK)
                goto fail;
            uint64_t *best = arm == 0 ? &seq : &seqt; /* 1: one process, J threads */
            if (b - a < *best)
                *best = b - a;
        }
        /* the ranges as processes, then the link-up */
        a = clock_now_ns();
        if (history_run_ranges(path[3], (unsigned)jobs) != 0) {
            rc = UTXO_ERR_IO;
            goto fail;
        }
        c = clock_now_ns();
        rc = utxo_history_linkup(path[3], &lr, msg, sizeof msg);
        d = clock_now_ns();
        if (rc != UTXO_OK)
            goto fail;
        if (lr.blocks != blocks || memcmp(lr.tip_hash, st.tip, UTXO_HASH_BYTES) != 0) {
            errorf("bench history: the linked-up ranges do not end at the generated tip");
            ex = EXIT_INVALID;
            goto out;
        }
        if (d - a < par) {
            par = d - a;
            lu = d - c;
        }
    }
    printf("bench history blocks=%llu ranges=%llu speedup=%.3f linkup_share=%.5f jobs=%llu "
           "seq_ms=%.1f par_ms=%.1f linkup_us=%.1f plan_ms=%.1f txs=%llu "
           "seq_threads_ms=%.1f speedup_vs_threads=%.3f repeat=%llu speedup_goal=1.8\n",
           (unsigned long long)blocks, (unsigned long long)ranges, (double)seq / (double)par,
           (double)lu / (double)par, (unsigned long long)jobs, (double)seq / 1e6,
           (double)par / 1e6, (double)lu / 1e3, (double)t_plan / 1e6, (unsigned long long)lr.txs,
           (double)seqt / 1e6, (double)seqt / (double)par, (unsigned long long)repeat);
    ex = EXIT_VALID;
    goto out;
fail:
    errorf("bench history: %s", msg[0] ? msg : utxo_strerror(rc));
    ex = rc == UTXO_ERR_IO ? EXIT_USAGE : EXIT_INVALID;
out:
    utxo_validator_free(v);
    utxo_store_close(s);
    remove_tree(dir);
    return ex;
}
