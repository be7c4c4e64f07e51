/*
 * cmd_replay.c — `utxo replay BLOCKS --db FILE`: applies a block file
 * (utxo/blockfile.h) to a store, block by block, each in its own SQL
 * transaction, resuming after the store's tip. A block that fails
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
#include "store_util.h"
#include "util.h"
#include "utxo/clock.h"

static void replay_usage(FILE *f)
{
    fprintf(f,
            "usage: utxo replay BLOCKS --db FILE [--threads N] [--to HEIGHT] [--quiet] [--json]\n"
            "\n"
            "Applies the blocks of the block file BLOCKS to the store FILE (created\n"
            "for the file's chain when it does not exist), each block validated in\n"
            "full (sequencer signature, every predicate, the accumulator digest) and\n"
            "committed in its own transaction. A store that already holds part of the\n"
            "chain resumes after its tip (the file must hold the same blocks up to\n"
            "there). The first invalid block stops the replay: exit 1, with the\n"
            "height, the file offset, the transaction and input at fault and why.\n"
            "\n"
            "  --threads N   predicate threads (default: one per CPU)\n"
            "  --to HEIGHT   stop after the block at HEIGHT\n"
            "  --quiet       no progress display (shown on a terminal otherwise)\n"
            "  --json        print the summary as JSON\n"
            "\n"
            "example:\n"
            "  utxo replay chain.blocks --db node.db --threads 2\n");
}

typedef struct progress {
    bool on;
    double t0, last;
    uint64_t size, off0;
} progress;

static void progress_show(progress *pr, uint32_t height, uint64_t txs, uint64_t off, bool final)
{
    double t = clock_now_s(), el = t - pr->t0, rate, eta = 0;

    if (!pr->on || (!final && t - pr->last < 0.25))
        return;
    pr->last = t;
    rate = el > 0 ? (double)txs / el : 0;
    if (off > pr->off0 && pr->size > off)
        eta = el * (double)(pr->size - off) / (double)(off - pr->off0);
    fprintf(stderr, "\rreplay: block %u  %.0f tx/s  %3.0f%%  ETA %02u:%02u   ", height, rate,
            pr->size ? 100.0 * (double)off / (double)pr->size : 0.0, (unsigned)(eta / 60),
            (unsigned)eta % 60);
    if (final)
        fputc('\n', stderr);
}

int cmd_replay(int argc, char **argv)
{
    const char *blocks = NULL, *db = NULL;
    uint64_t threads = 0, to = UINT64_MAX;
    bool quiet = false, as_json = false;
    utxo_chainfile *cf = NULL;
    utxo_store *s = NULL;
    utxo_params p;
    utxo_store_info info;
    progress pr;
    uint64_t applied = 0, txs = 0, off = 0;
    uint32_t first = 0;
    size_t eoff = 0;
    double t0;
    int rc, ex = EXIT_USAGE;

    memset(&pr, 0, sizeof pr);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            replay_usage(stdout);
            return EXIT_VALID;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &threads) || threads > 1024) {
                errorf("replay: --threads wants a number from 0 to 1024");
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &to) || to > UINT32_MAX) {
                errorf("replay: --to wants a block height");
                return EXIT_USAGE;
            }
        } else if (strcmp(argv[i], "--quiet") == 0) {
            quiet = true;
        } else if (strcmp(argv[i], "--json") == 0) {
            as_json = true;
        } else if (argv[i][0] == '-' || blocks != NULL) {
            errorf("replay: unexpected argument '%s'", argv[i]);
            replay_usage(stderr);
            return EXIT_USAGE;
        } else {
            blocks = argv[i];
        }
    }
    if (blocks == NULL || db == NULL) {
        replay_usage(stderr);
        return EXIT_USAGE;
    }
    errno = 0;
    rc = utxo_chainfile_open(&cf, blocks, UTXO_CHAINFILE_BLOCKS, &p, &eoff);
    if (rc == UTXO_ERR_IO) {
        errorf("%s: %s", blocks, errno ? strerror(errno) : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if (rc != UTXO_OK) {
        errorf("%s: not a block file (offset %zu): %s", blocks, eoff, utxo_strerror(rc));
        return EXIT_INVALID;
    }
    if ((ex = store_cli_open(&s, db, &p, UTXO_STORE_CREATE, (unsigned)threads)) != EXIT_VALID)
        goto done;
    ex = EXIT_USAGE;
    utxo_store_get_info(s, &info);
    first = info.n_blocks;
    if (!quiet && isatty(2)) {
        FILE *f = fopen(blocks, "rb");
        pr.on = true;
        if (f != NULL && fseek(f, 0, SEEK_END) == 0)
            pr.size = (uint64_t)ftell(f);
        if (f != NULL)
            fclose(f);
    }
    t0 = pr.t0 = pr.last = clock_now_s();
    for (uint32_t h = 0;; h++) {
        uint8_t *rec = NULL;
        size_t len = 0;
        utxo_block *b = NULL;
        utxo_verdict vd;

        if (h > to)
            break;
        rc = utxo_chainfile_next(cf, &rec, &len, &off);
        if (rc != UTXO_OK) {
            errorf("%s: record %u at offset %llu: %s", blocks, h, (unsigned long long)off,
                   rc == UTXO_ERR_TRUNCATED ? "file ends inside the record (truncated)"
                                            : utxo_strerror(rc));
            ex = rc == UTXO_ERR_IO || rc == UTXO_ERR_NOMEM ? EXIT_USAGE : EXIT_INVALID;
            goto done;
        }
        if (rec == NULL)
            break;   /* end of file */
        if (h < info.n_blocks) {
            /* already in the store: the file must agree at the tip */
            utxo_header hd;
            uint8_t hash[UTXO_HASH_BYTES];
            if (h + 1 == info.n_blocks) {
                rc = utxo_header_from_bytes(&hd, rec, len < UTXO_HEADER_BYTES ? len : UTXO_HEADER_BYTES,
                                            &eoff);
                if (rc == UTXO_OK)
                    utxo_header_hash(&hd, hash);
                if (rc != UTXO_OK || memcmp(hash, info.tip_hash, UTXO_HASH_BYTES) != 0) {
                    errorf("%s: block %u (offset %llu) is not the store's block %u: the file and "
                           "%s hold different chains (see utxo rollback)",
                           blocks, h, (unsigned long long)off, h, db);
                    free(rec);
                    ex = EXIT_INVALID;
                    goto done;
                }
            }
            free(rec);
            continue;
        }
        rc = utxo_block_from_bytes(&b, rec, len, &p, &eoff);
        free(rec);
        if (rc != UTXO_OK) {
            errorf("%s: block %u at offset %llu does not decode: %s at file offset %llu", blocks, h,
                   (unsigned long long)off, utxo_strerror(rc),
                   (unsigned long long)(off + 4 + eoff));
            ex = EXIT_INVALID;
            goto done;
        }
        rc = utxo_store_apply_block(s, b, &vd);
        if (rc != UTXO_OK) {
            if (pr.on)
                fputc('\n', stderr);
            ex = store_cli_exit(rc);
            if (ex == EXIT_INVALID)
                errorf("%s: block %u (offset %llu) rejected: %s", blocks, h,
                       (unsigned long long)off, utxo_store_errmsg(s));
            else   /* storage, not the block: the store stays at its tip */
                errorf("%s: block %u (offset %llu) not applied: %s; the store keeps its "
                       "%u blocks, run again to resume", blocks, h, (unsigned long long)off,
                       utxo_store_errmsg(s), h);
            utxo_block_free(b);
            goto done;
        }
        txs += b->n_txs;
        applied++;
        utxo_block_free(b);
        progress_show(&pr, h, txs, utxo_chainfile_tell(cf), false);
    }
    {
        double el = clock_now_s() - t0;
        char hex[2 * UTXO_HASH_BYTES + 1], dig[2 * UTXO_HASH_BYTES + 1];
        if (applied > 0)
            progress_show(&pr, first + (uint32_t)applied - 1, txs, utxo_chainfile_tell(cf), true);
        utxo_store_get_info(s, &info);
        hex_encode(hex, info.tip_hash, UTXO_HASH_BYTES);
        hex_encode(dig, info.acc_digest, UTXO_HASH_BYTES);
        if (as_json) {
            json j;
            json_init(&j, stdout, true);
            json_begin_object(&j);
            json_key(&j, "applied");
            json_u64(&j, applied);
            json_key(&j, "txs");
            json_u64(&j, txs);
            json_key(&j, "seconds_ms");
            json_u64(&j, (uint64_t)(el * 1000));
            json_key(&j, "n_blocks");
            json_u64(&j, info.n_blocks);
            json_key(&j, "tip_hash");
            json_str(&j, hex);
            json_key(&j, "acc_digest");
            json_str(&j, dig);
            json_key(&j, "utxos");
            json_u64(&j, info.n_utxos);
            json_key(&j, "total_value");
            json_u64(&j, info.total_value);
            json_end_object(&j);
            if (json_finish(&j) != 0)
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
    utxo_store_close(s);
    utxo_chainfile_close(cf);
    return ex;
}
