/*
 * cmd_gen.c — `utxo gen --blocks N --seed S [--tx-per-block M] -o DIR`:
 * writes a deterministic, realistic history into a new chain directory
 * (src/chain/history.c, docs/CHAIN.md): the block file, its proof file
 * with segment receipts for the long runs, the sequencer key and
 * invalid.txs. The same options give the same bytes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "utxo.h"
#include "chain/chain.h"
#include "commands.h"
#include "json.h"
#include "progress.h"
#include "util.h"
#include "utxo/clock.h"

static void gen_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo gen -o DIR [--blocks N] [--seed S] [--tx-per-block M]\n"
            "                [--wallets W] [--long-every K] [--long-rounds R] [--po2 P]\n"
            "                [--threads T] [--quiet] [--json]\n"
            "\n"
            "Writes a deterministic history into the new chain directory DIR: the\n"
            "genesis allocating to W wallets whose keys derive from the seed, then\n"
            "blocks of M transactions made by the wallet builder and validated by the\n"
            "mempool: payments with change spending old, recent and same-block coins;\n"
            "every standard predicate (multisig, hash lock, time lock, HTLC claim and\n"
            "refund, RSA) created and spent; a long predicate run every K blocks\n"
            "whose segment receipts (2^P cycles each) go into the proof file. At the\n"
            "end DIR/invalid.txs lists transactions the mempool must reject, each\n"
            "with its reason. The same options give the same bytes.\n"
            "\n"
            "  -o DIR            the chain directory to create (must not hold a chain;\n"
            "                    a run that fails or is interrupted by SIGINT, SIGTERM\n"
            "                    or SIGHUP leaves none there)\n"
            "  --blocks N        blocks, genesis included (default 300)\n"
            "  --seed S          the seed naming the history (default 1)\n"
            "  --tx-per-block M  transactions per block (default 30)\n"
            "  --wallets W       wallets (default 64, at least 4)\n"
            "  --long-every K    a long run every K blocks (default 8, 0: none)\n"
            "  --long-rounds R   hash rounds of a long run (default 400)\n"
            "  --po2 P           segment size 2^P cycles (default 18, 16..24)\n"
            "  --threads T       predicate threads (default: one per CPU)\n"
            "  --quiet           no progress display (shown on a terminal otherwise)\n"
            "  --progress        progress lines on stderr even when it is not a terminal\n"
            "  --json            print the summary as JSON\n"
            "\n"
            "Files: DIR/blocks, DIR/proofs, DIR/sequencer.key (mode 0600),\n"
            "DIR/invalid.txs (docs/CHAIN.md).\n"
            "\n"
            "example:\n"
            "  utxo gen --blocks 100 --seed 7 -o chain\n"
            "  utxo verify --chain chain/blocks --proofs chain/proofs\n");
}

/* block h of n written: the one progress display; a caught signal stops
 * the run (gen_run then removes what it wrote) */
static int gen_progress(void *ud, uint32_t h, uint32_t n)
{
    progress_update(ud, (uint64_t)h + 1, (uint64_t)h + 1, n);
    return stop_signal() != 0;
}

int cmd_gen(int argc, char **argv)
{
    gen_opts o;
    gen_stats st;
    const char *dir = NULL;
    bool quiet = false, as_json = false, forced = false;
    progress pr;
    uint64_t blocks, seed, txs, wallets, every, rounds, po2, threads = 0;
    char msg[512];
    double t0, el;
    int rc;

    gen_opts_default(&o);
    blocks = o.blocks, seed = o.seed, txs = o.tx_per_block, wallets = o.n_wallets;
    every = o.long_every, rounds = o.long_rounds, po2 = o.po2;
    num_opt nums[] = {
        {"--blocks", &blocks, 1, 1000000, false}, {"--seed", &seed, 0, UINT64_MAX, false},
        {"--tx-per-block", &txs, 1, 5000, false}, {"--wallets", &wallets, 4, 100000, false},
        {"--long-every", &every, 0, UINT32_MAX, false},
        {"--long-rounds", &rounds, 1, 1000000, false},
        {"--po2", &po2, GEN_PO2_MIN, UTXO_SEG_PO2_MAX, false},
        {"--threads", &threads, 0, 1024, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM},
        {"seed", required_argument, NULL, CLI_NUM},
        {"tx-per-block", required_argument, NULL, CLI_NUM},
        {"wallets", required_argument, NULL, CLI_NUM},
        {"long-every", required_argument, NULL, CLI_NUM},
        {"long-rounds", required_argument, NULL, CLI_NUM},
        {"po2", required_argument, NULL, CLI_NUM},
        {"threads", required_argument, NULL, CLI_NUM},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("gen", gen_usage, "o:", opts);

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case CLI_NUM:
            if (!cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
                return EXIT_USAGE;
            break;
        case 'o': dir = optarg; break;
        case 'q': quiet = true; break;
        case 'j': as_json = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    if (dir == NULL)
        return usage_error(cl.cmd, "say where to write the chain with -o DIR");
    o.blocks = (uint32_t)blocks;
    o.seed = seed;
    o.tx_per_block = (uint32_t)txs;
    o.n_wallets = (uint32_t)wallets;
    o.long_every = (uint32_t)every;
    o.long_rounds = (uint32_t)rounds;
    o.po2 = (unsigned)po2;
    o.threads = (unsigned)threads;
    t0 = clock_now_s();
    stop_signals_catch();
    progress_begin(&pr, progress_mode(quiet, forced), "gen", "blocks");
    rc = gen_run(dir, &o, &st, gen_progress, &pr, msg, sizeof msg);
    progress_end(&pr, rc == UTXO_OK);
    el = clock_now_s() - t0;
    if (rc != UTXO_OK && stop_signal() != 0) {
        errorf("gen: interrupted by signal %d; nothing of the chain left in %s", stop_signal(),
               dir);
        return stop_signal_die();
    }
    if (rc != UTXO_OK) {
        errorf("%s", msg[0] ? msg : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if (as_json) {
        json j;
        jw_init(&j, stdout, true);
        jw_begin_object(&j);
        jw_key(&j, "dir");
        jw_str(&j, dir);
        jw_key(&j, "blocks");
        jw_u64(&j, st.blocks);
        jw_key(&j, "txs");
        jw_u64(&j, st.txs);
        jw_key(&j, "inputs");
        jw_u64(&j, st.inputs);
        jw_key(&j, "outputs");
        jw_u64(&j, st.outputs);
        jw_key(&j, "inputs_by_kind");
        jw_begin_object(&j);
        for (unsigned k = 0; k < GEN_KINDS; k++) {
            jw_key(&j, gen_kind_name(k));
            jw_u64(&j, st.by_kind[k]);
        }
        jw_end_object(&j);
        jw_key(&j, "same_block_spends");
        jw_u64(&j, st.same_block);
        jw_key(&j, "old_spends");
        jw_u64(&j, st.old_spends);
        jw_key(&j, "long_runs");
        jw_u64(&j, st.long_runs);
        jw_key(&j, "ref_spends");
        jw_u64(&j, st.ref_spends);
        jw_key(&j, "segments");
        jw_u64(&j, st.segments);
        jw_key(&j, "invalid_txs");
        jw_u64(&j, st.invalid);
        jw_key(&j, "tip");
        jw_hex(&j, st.tip, sizeof st.tip);
        jw_key(&j, "acc_digest");
        jw_hex(&j, st.acc_digest, sizeof st.acc_digest);
        jw_key(&j, "ms");
        jw_u64(&j, (uint64_t)(el * 1000));
        jw_end_object(&j);
        return jw_finish(&j) == 0 ? EXIT_VALID : EXIT_USAGE;
    }
    printf("wrote %u blocks (%llu txs, %llu inputs) to %s in %.2f s\n", st.blocks,
           (unsigned long long)st.txs, (unsigned long long)st.inputs, dir, el);
    printf("inputs by kind:");
    for (unsigned k = 0; k < GEN_KINDS; k++)
        printf(" %s=%llu", gen_kind_name(k), (unsigned long long)st.by_kind[k]);
    printf("\nsame-block spends %llu, spends of outputs 50+ blocks old %llu\n",
           (unsigned long long)st.same_block, (unsigned long long)st.old_spends);
    printf("long runs %llu in %llu segment receipts, %llu spent by reference to the code "
           "output\n",
           (unsigned long long)st.long_runs, (unsigned long long)st.segments,
           (unsigned long long)st.ref_spends);
    printf("invalid transactions %llu in %s/%s\n", (unsigned long long)st.invalid, dir,
           CHAIN_INVALID_FILE);
    {
        char hex[2 * UTXO_HASH_BYTES + 1];
        hex_encode(hex, st.tip, sizeof st.tip);
        printf("tip %u %s\n", st.blocks - 1, hex);
        hex_encode(hex, st.acc_digest, sizeof st.acc_digest);
        printf("accumulator digest %s\n", hex);
    }
    return EXIT_VALID;
}
