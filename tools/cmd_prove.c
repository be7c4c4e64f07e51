/*
 * cmd_prove.c — `utxo prove --db FILE --from H --to H -o PROOFS`: writes the
 * proof bundles the store made for blocks H..H as a proof file
 * (utxo/blockfile.h), the input `utxo verify` reads beside the block file;
 * optionally the same blocks as a block file (--blocks), so a slice of the
 * chain travels with its proofs. Record k of each file is block from + k.
 * With --segments PO2 each bundle gets the segment receipts of its long
 * predicate runs (chain_receipts_add: only inputs whose budget exceeds
 * 2^PO2 cycles are proven again, split into segments of that size).
 * The work is utxo_prove_range (utxo/pipeline.h); the output files are
 * replaced atomically, so a failed run leaves the previous ones intact.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/blockfile.h"
#include "utxo/segments.h"
#include "utxo/store.h"
#include "commands.h"
#include "store_util.h"
#include "progress.h"
#include "util.h"

static void prove_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo prove --db FILE [--from H] [--to H] -o PROOFS [--blocks BLOCKS]\n"
            "                  [--segments PO2] [--quiet] [--progress]\n"
            "\n"
            "Writes the proof bundles of the blocks at heights from..to (default: the\n"
            "whole chain the store holds) to the proof file PROOFS, record k being\n"
            "the bundle of block from+k: the file `utxo verify --proofs` reads. With\n"
            "--blocks, writes those blocks as a block file too. Each bundle was made\n"
            "when the block was applied (the accumulator proof against the roots\n"
            "before it, and the spent outputs); it is read back, not recomputed.\n"
            "--segments PO2 (10..24) adds to each bundle the segment receipts of the\n"
            "predicate runs longer than 2^PO2 cycles, so that a stateless validator\n"
            "checks them segment by segment instead of running them whole (except\n"
            "a run with a host call larger than a segment, with arguments over\n"
            "1 MiB, or whose receipts would make the bundle too large: validators\n"
            "run those whole).\n"
            "Progress (blocks, rate, ETA) goes to stderr when it is a terminal, or\n"
            "with --progress; --quiet shows none.\n"
            "PROOFS (and BLOCKS) are replaced atomically: a run that fails (disk full,\n"
            "permission, an unreadable block) leaves the previous files as they were.\n"
            "\n"
            "example:\n"
            "  utxo prove --db node.db -o chain.proofs\n"
            "  utxo verify --chain chain.blocks --proofs chain.proofs\n");
}

/* The progress callback: one display, blocks proven of the range. */
static int prove_progress(void *ctx, const utxo_pipe_progress *p)
{
    if (p->event == UTXO_PIPE_APPLIED)
        progress_update(ctx, p->applied, p->bytes_done, p->bytes_total);
    return 0;
}

int cmd_prove(int argc, char **argv)
{
    const char *db = NULL, *out = NULL, *blocks_out = NULL;
    uint64_t from = 0, to = UINT64_MAX, po2 = 0, runs = 0, segs = 0;
    utxo_store *s = NULL;
    utxo_store_info info;
    utxo_prove_opts po;
    utxo_pipe_result res;
    uint64_t bytes = 0;
    int ex = EXIT_USAGE, c, rc;
    bool quiet = false, forced = false;
    progress pr;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"output", required_argument, NULL, 'o'},
        {"blocks", required_argument, NULL, 'b'},
        {"segments", required_argument, NULL, 's'},
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"quiet", no_argument, NULL, 'q'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("prove", prove_usage, "o:", opts);

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case 'd': db = optarg; break;
        case 'o': out = optarg; break;
        case 'b': blocks_out = optarg; break;
        case 's':
            if (!cli_u64(&cl, UTXO_SEG_PO2_MIN, UTXO_SEG_PO2_MAX, &po2))
                return EXIT_USAGE;
            break;
        case 'f':
            if (!cli_u64(&cl, 0, UINT32_MAX, &from))
                return EXIT_USAGE;
            break;
        case 't':
            if (!cli_u64(&cl, 0, UINT32_MAX, &to))
                return EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((ex = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return ex;
    if (db == NULL || out == NULL)
        return usage_error(cl.cmd, "%s missing", db == NULL ? "--db FILE" : "-o PROOFS");
    if ((ex = store_cli_open(&s, db, NULL, UTXO_STORE_READONLY, 1)) != EXIT_VALID)
        return ex;
    ex = EXIT_USAGE;
    utxo_store_get_info(s, &info);
    if (info.n_blocks == 0) {
        errorf("%s: the store holds no block", db);
        goto done;
    }
    if (to == UINT64_MAX)
        to = info.n_blocks - 1;
    if (from > to || to >= info.n_blocks) {
        errorf("prove: heights %llu..%llu are outside the store's 0..%u",
               (unsigned long long)from, (unsigned long long)to, info.n_blocks - 1);
        goto done;
    }
    memset(&po, 0, sizeof po);
    po.blocks_path = blocks_out;
    po.seg_po2 = (unsigned)po2;
    po.progress = prove_progress;
    po.ctx = &pr;
    progress_begin(&pr, progress_mode(quiet, forced), "prove", "blocks");
    rc = utxo_prove_range(s, (uint32_t)from, (uint32_t)to + 1, out, &po, &res);
    progress_end(&pr, rc == UTXO_OK);
    if (rc != UTXO_OK) {
        errorf("%s", res.reason);
        ex = res.invalid ? EXIT_INVALID : EXIT_USAGE;
        goto done;
    }
    bytes = res.bytes;
    runs = res.runs;
    segs = res.segments;
    printf("wrote %llu bundles (blocks %llu..%llu, %llu bytes) to %s\n",
           (unsigned long long)(to - from + 1), (unsigned long long)from, (unsigned long long)to,
           (unsigned long long)bytes, out);
    if (po2 != 0)
        printf("segment receipts: %llu runs, %llu segments of 2^%llu cycles\n",
               (unsigned long long)runs, (unsigned long long)segs, (unsigned long long)po2);
    ex = EXIT_VALID;
done:
    utxo_store_close(s);
    return ex;
}
