/*
 * cmd_replay.c — `utxo replay BLOCKS --db FILE`: applies a block file
 * (utxo/blockfile.h) to a store, block by block, each in its own SQL
 * transaction, resuming after the store's tip. The work is
 * utxo_replay_file (utxo/pipeline.h), under the record rule shared with
 * verify and wallet sync: the records below the store's tip must link to
 * it (passed over, said so on stderr), anything else out of place is an
 * error naming the record. A block that fails
 * validation stops the replay (the store keeps every block before it; no
 * later block can be valid, since each names its predecessor); a corrupted
 * or truncated file stops it with the file offset of the bad record.
 * Progress (blocks, tx/s, ETA from the bytes left) goes to stderr when it
 * is a terminal.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/blockfile.h"
#include "utxo/store.h"
#include "commands.h"
#include "json.h"
#include "progress.h"
#include "store_util.h"
#include "util.h"
#include "utxo/clock.h"

static void replay_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo replay BLOCKS --db FILE [--threads N] [--to HEIGHT] [--quiet] [--json]\n"
            "\n"
            "Applies the blocks of the block file BLOCKS to the store FILE (created\n"
            "for the file's chain when it does not exist), each block validated in\n"
            "full (sequencer signature, every predicate, the accumulator digest) and\n"
            "applied whole or not at all; blocks are committed in groups of up to 16\n"
            "(at least once a second, and before each read from a pipe), so an\n"
            "interruption loses at most the open group. A store that already holds part of the\n"
            "chain resumes after its tip (the file must hold the same blocks up to\n"
            "there: they must link to the store's tip, and are passed over). A record\n"
            "out of place (junk, an old block, another block at a stored height) or\n"
            "the first invalid block stops the replay: exit 1, with the height, the\n"
            "file offset, the transaction and input at fault and why. A file that\n"
            "ends inside a record, or that is no block file, is exit 2 (a damaged\n"
            "file, not an invalid block, as in verify), the blocks before it kept.\n"
            "\n"
            "  --threads N   predicate threads (default: one per CPU)\n"
            "  --to HEIGHT   stop after the block at HEIGHT\n"
            "  --quiet       no progress display (shown on a terminal otherwise)\n"
            "  --progress    progress lines on stderr even when it is not a terminal\n"
            "  --json        print the summary as JSON\n"
            "\n"
            "example:\n"
            "  utxo replay chain.blocks --db node.db --threads 2\n");
}

/* The progress callback: counts transactions, draws the progress line and
 * says on stderr which records were passed over as already in the store. */
typedef struct replay_ctx {
    progress *pr;
    uint64_t txs;
    bool passing;
    uint64_t rec0, rec1;
    uint32_t h0, h1;
} replay_ctx;

static void replay_flush(replay_ctx *c)
{
    if (!c->passing)
        return;
    c->passing = false;
    progress_clear(c->pr);
    fprintf(stderr, "replay: record%s %llu..%llu (blocks %u..%u) already in the store (they link "
            "to its tip): passed over\n", c->rec0 == c->rec1 ? "" : "s",
            (unsigned long long)c->rec0, (unsigned long long)c->rec1, c->h0, c->h1);
}

static int replay_progress(void *ctx, const utxo_pipe_progress *p)
{
    replay_ctx *c = ctx;

    if (p->event == UTXO_PIPE_PASSED) {
        if (c->passing && p->record == c->rec1 + 1) {
            c->rec1 = p->record;
            c->h1 = p->height;
        } else {
            replay_flush(c);
            c->passing = true;
            c->rec0 = c->rec1 = p->record;
            c->h0 = c->h1 = p->height;
        }
        return 0;
    }
    replay_flush(c);
    if (p->event == UTXO_PIPE_APPLIED) {
        c->txs += p->block->n_txs;
        progress_update(c->pr, c->txs, p->bytes_done, p->bytes_total);
    }
    return 0;
}

int cmd_replay(int argc, char **argv)
{
    const char *blocks = NULL, *db = NULL;
    uint64_t threads = 0, to = UINT64_MAX;
    bool quiet = false, as_json = false, forced = false;
    utxo_chainfile *cf = NULL;
    utxo_store *s = NULL;
    utxo_params p;
    utxo_store_info info;
    progress pr;
    replay_ctx rp;
    utxo_sync_opts ro;
    utxo_pipe_result res;
    uint64_t applied = 0, txs = 0;
    size_t eoff = 0;
    double t0;
    int rc, ex = EXIT_USAGE, c;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"threads", required_argument, NULL, 't'},
        {"to", required_argument, NULL, 'T'},
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("replay", replay_usage, "", opts);

    memset(&rp, 0, sizeof rp);
    rp.pr = &pr;
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case 'd': db = optarg; break;
        case 't':
            if (!cli_u64(&cl, 0, 1024, &threads))
                return EXIT_USAGE;
            break;
        case 'T':
            if (!cli_u64(&cl, 0, UINT32_MAX, &to))
                return EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        case 'j': as_json = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "BLOCKS")) != 0)
        return rc;
    blocks = argv[optind];
    if (db == NULL)
        return usage_error(cl.cmd, "--db FILE missing");
    errno = 0;
    rc = utxo_chainfile_open(&cf, blocks, UTXO_CHAINFILE_BLOCKS, &p, &eoff);
    if (rc == UTXO_ERR_IO) {
        errorf("%s: %s", blocks, errno ? strerror(errno) : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if (rc != UTXO_OK) {
        errorf("%s: not a block file (offset %zu): %s", blocks, eoff, utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if ((ex = store_cli_open(&s, db, &p, UTXO_STORE_CREATE, (unsigned)threads)) != EXIT_VALID)
        goto done;
    ex = EXIT_USAGE;
    utxo_store_get_info(s, &info);
    memset(&ro, 0, sizeof ro);
    ro.to = to == UINT64_MAX ? 0 : (uint32_t)(to + 1);
    ro.progress = replay_progress;
    ro.ctx = &rp;
    ro.blocks_file = cf;   /* read on from here: a pipe cannot be opened twice */
    progress_begin(&pr, progress_mode(quiet, forced), "replay", "txs");
    t0 = clock_now_s();
    rc = utxo_replay_file(s, blocks, &ro, &res);
    replay_flush(&rp);
    progress_end(&pr, rc == UTXO_OK);
    if (rc != UTXO_OK) {
        /* a torn file, not a block that decodes short of what it claims
         * (also TRUNCATED, but a verdict: res.invalid) */
        bool torn = !res.invalid && res.file == UTXO_PIPE_BLOCKS && res.err == UTXO_ERR_TRUNCATED;
        if (torn)
            errorf("%s: record %llu at offset %llu: file ends inside the record (truncated)",
                   blocks, (unsigned long long)res.record, (unsigned long long)res.offset);
        else
            errorf("%s", res.reason);
        /* a torn file is damage, as in verify: 2 */
        ex = !torn && (res.invalid || store_cli_exit(rc) == EXIT_INVALID) ? EXIT_INVALID
                                                                           : EXIT_USAGE;
        goto done;
    }
    applied = res.applied;
    txs = rp.txs;
    {
        double el = clock_now_s() - t0;
        char hex[2 * UTXO_HASH_BYTES + 1], dig[2 * UTXO_HASH_BYTES + 1];
        utxo_store_get_info(s, &info);
        hex_encode(hex, info.tip_hash, UTXO_HASH_BYTES);
        hex_encode(dig, info.acc_digest, UTXO_HASH_BYTES);
        if (as_json) {
            json j;
            jw_init(&j, stdout, true);
            jw_begin_object(&j);
            jw_key(&j, "applied");
            jw_u64(&j, applied);
            jw_key(&j, "txs");
            jw_u64(&j, txs);
            jw_key(&j, "seconds_ms");
            jw_u64(&j, (uint64_t)(el * 1000));
            jw_key(&j, "n_blocks");
            jw_u64(&j, info.n_blocks);
            jw_key(&j, "tip_hash");
            jw_str(&j, hex);
            jw_key(&j, "acc_digest");
            jw_str(&j, dig);
            jw_key(&j, "utxos");
            jw_u64(&j, info.n_utxos);
            jw_key(&j, "total_value");
            jw_u64(&j, info.total_value);
            jw_end_object(&j);
            if (jw_finish(&j) != 0)
                goto done;
        } else {
            printf("applied %llu blocks (%llu txs) in %.2f s, %.0f tx/s\n",
                   (unsigned long long)applied, (unsigned long long)txs, el,
                   el > 0 ? (double)txs / el : 0.0);
            if (info.n_blocks > 0)
                printf("tip %u %s\n", info.n_blocks - 1, hex);
            printf("accumulator digest %s (%llu leaves)\n", dig,
                   (unsigned long long)info.leaf_count);
            printf("utxos %llu total value %llu\n", (unsigned long long)info.n_utxos,
                   (unsigned long long)info.total_value);
        }
    }
    ex = EXIT_VALID;
done:
    replay_flush(&rp);
    utxo_store_close(s);
    utxo_chainfile_close(cf);
    return ex;
}
