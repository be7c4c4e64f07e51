/*
 * cmd_verify.c — `utxo verify`: a stateless validator on the command line.
 * The work is utxo_verify_files (utxo/pipeline.h): the block file and its
 * proof file record by record, each block validated holding only the tip
 * and the accumulator roots, the state saved atomically and resumed, so a
 * laptop can check a long chain in pieces. This file parses the options,
 * loads the state, calls it and reports (per-block lines through the
 * progress callback, which also polls the SIGINT/SIGTERM flag). Formats:
 * docs/STATELESS.md.
 *
 * Exit status: 0 every block valid; 1 the first invalid block (a record
 * that does not decode counts as an invalid block), with the reason, the
 * transaction and the input; 2 usage, I/O, a truncated or corrupt file
 * (with the byte offset of the record), files or state of another chain,
 * a damaged state file; 128 + the signal when interrupted (state saved).
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo.h"
#include "bench.h"
#include "commands.h"
#include "json.h"
#include "progress.h"
#include "util.h"

static void verify_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo verify --chain BLOCKS --proofs PROOFS [--state FILE]\n"
            "                   [--save-every N] [--threads N] [--max-blocks N]\n"
            "                   [--json] [--quiet]\n"
            "\n"
            "Validates the blocks of BLOCKS in order with their proof bundles from\n"
            "PROOFS, holding only the chain tip and the accumulator roots.\n"
            "\n"
            "  --state FILE    resume from FILE if it exists (a damaged one is refused),\n"
            "                  and save the state there (a few hundred bytes, with a\n"
            "                  checksum, replaced atomically) every --save-every blocks,\n"
            "                  on Ctrl-C/SIGTERM and at the end. Records the state\n"
            "                  already accepted must link to its tip: they are passed\n"
            "                  over (and said so on stderr), never skipped unchecked\n"
            "  --save-every N  blocks between two saves of the state (default 100)\n"
            "  --threads N     threads running predicates (default: one per CPU)\n"
            "  --max-blocks N  stop after validating N blocks (then resume with --state)\n"
            "  --json          one JSON document on stdout instead of text\n"
            "  --quiet         no per-block lines, no progress display\n"
            "  --progress      progress lines on stderr even when it is not a terminal\n"
            "\n"
            "Prints one line per block, then the tip, the accumulator roots and the\n"
            "state size. Progress (blocks, rate, ETA) goes to stderr when it is a\n"
            "terminal, or with --progress.\n"
            "Every record must be the block due at its place: a junk record, an old\n"
            "block or another block at an accepted height is an error naming the\n"
            "record, its offset and its height.\n"
            "Exit status: 0 all valid, 1 an invalid block or record (reason, tx and\n"
            "input are printed), 2 usage, I/O, truncated or corrupt file or state\n"
            "(with its offset), 130/143 interrupted by SIGINT/SIGTERM (state saved).\n"
            "\n"
            "A range (docs/RANGES.md): --from-state FILE --range A:B verifies the\n"
            "blocks A..B-1 from the validator state file FILE (its next height must be\n"
            "A) and writes the result file RESULT (-o; replaced atomically): the start\n"
            "and end state digests, the end state, the first block's previous hash,\n"
            "the last block's hash, counts and the verdict. It holds no time or path:\n"
            "the same range gives the same bytes anywhere. `utxo history linkup`\n"
            "joins the results. A range takes --threads and no other option.\n"
            "Exit status: 0 valid, 1 invalid (result written, naming the block\n"
            "and why), 2 usage or I/O (no result written).\n"
            "\n"
            "example:\n"
            "  utxo verify --chain chain.blocks --proofs chain.proofs --state node.state\n"
            "  utxo verify --from-state plan/range-003.state --range 750:1000 \\\n"
            "      plan/range-003.blocks plan/range-003.proofs -o plan/range-003.result\n");
}

typedef struct verify_opts {
    const char *chain, *proofs, *state;
    const char *from_state, *range, *output; /* range mode (cmd_verify_range.c) */
    unsigned threads;
    uint64_t max_blocks;
    uint32_t save_every;
    bool json, quiet, progress;
} verify_opts;

/* The options: 0, -1 after --help, or an exit status after a usage error. */
static int parse_args(int argc, char **argv, verify_opts *o)
{
    static const struct option opts[] = {
        {"chain", required_argument, NULL, 'c'},
        {"proofs", required_argument, NULL, 'p'},
        {"state", required_argument, NULL, 's'},
        {"threads", required_argument, NULL, 't'},
        {"max-blocks", required_argument, NULL, 'm'},
        {"save-every", required_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        {"quiet", no_argument, NULL, 'q'},
        {"from-state", required_argument, NULL, 'F'},
        {"range", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("verify", verify_usage, "o:", opts);
    uint64_t v;
    int c;

    memset(o, 0, sizeof *o);
    o->max_blocks = UINT64_MAX;
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status == EXIT_VALID ? -1 : cl.status;
        case 'c': o->chain = optarg; break;
        case 'p': o->proofs = optarg; break;
        case 's': o->state = optarg; break;
        case 't':
            if (!cli_u64(&cl, 1, 256, &v))
                return EXIT_USAGE;
            o->threads = (unsigned)v;
            break;
        case 'm':
            if (!cli_u64(&cl, 0, UINT64_MAX, &o->max_blocks))
                return EXIT_USAGE;
            break;
        case 'e':
            if (!cli_u64(&cl, 1, UINT32_MAX, &v))
                return EXIT_USAGE;
            o->save_every = (uint32_t)v;
            break;
        case 'j': o->json = true; break;
        case 'q': o->quiet = true; break;
        case CLI_PROGRESS: o->progress = true; break;
        case 'F': o->from_state = optarg; break;
        case 'r': o->range = optarg; break;
        case 'o': o->output = optarg; break;
        }
    }
    if (o->range != NULL || o->from_state != NULL || o->output != NULL) {
        /* range mode: BLOCKS PROOFS as operands (or --chain/--proofs) */
        if ((c = cli_operands(&cl, argc, argv, 0, 2, "[BLOCKS PROOFS]")) != 0)
            return c;
        if (optind + 2 == argc && o->chain == NULL && o->proofs == NULL) {
            o->chain = argv[optind];
            o->proofs = argv[optind + 1];
        } else if (optind != argc) {
            return usage_error(cl.cmd, "give BLOCKS and PROOFS either as operands or with "
                                       "--chain and --proofs");
        }
        if (o->range == NULL || o->from_state == NULL || o->output == NULL)
            return usage_error(cl.cmd, "a range needs --from-state, --range and -o together");
        if (o->chain == NULL || o->proofs == NULL)
            return usage_error(cl.cmd, "a range needs its BLOCKS and PROOFS files");
        /* what a range does not do is refused, not ignored: it saves no
         * state, stops at B only, prints no per-block lines or progress */
        if (o->state != NULL || o->max_blocks != UINT64_MAX || o->json || o->save_every != 0 ||
            o->quiet || o->progress)
            return usage_error(cl.cmd, "--state, --save-every, --max-blocks, --json, --quiet and "
                                       "--progress are not for a range");
        return 0;
    }
    if ((c = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return c;
    if (o->chain == NULL || o->proofs == NULL)
        return usage_error(cl.cmd, "--chain and --proofs are required");
    return 0;
}

/* Opens one file and names it in any error. */
static int open_file(utxo_chainfile **f, const char *path, int kind, utxo_params *p)
{
    size_t off = 0;
    int rc = utxo_chainfile_open(f, path, kind, p, &off);

    if (rc == UTXO_ERR_IO)
        errorf("%s: %s", path, strerror(errno));
    else if (rc != UTXO_OK)
        errorf("%s: not a valid %s file: %s at offset %zu", path,
               kind == UTXO_CHAINFILE_BLOCKS ? "block" : "proof", utxo_strerror(rc), off);
    return rc == UTXO_OK ? 0 : -1;
}

/* Reads the state file if it exists (a damaged one is refused, never
 * replaced); NULL validator when it does not exist. */
static int load_state(const verify_opts *o, const utxo_params *p, utxo_validator **v)
{
    char why[256];
    int rc;

    *v = NULL;
    if (o->state == NULL)
        return 0;
    errno = 0;
    rc = utxo_validator_load(v, p, o->state, o->threads, why, sizeof why);
    if (rc == UTXO_ERR_IO && errno == ENOENT)
        return 0;
    if (rc != UTXO_OK) {
        errorf("%s: bad validator state: %s", o->state, why);
        return -1;
    }
    return 0;
}

/* SIGINT/SIGTERM only set this flag; the pipeline polls it through the
 * progress callback, saves the state and returns. */
static volatile sig_atomic_t verify_interrupted;

static void on_signal(int sig)
{
    verify_interrupted = sig;
}

static void catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    /* restarted reads: a signal must stop the run at a block boundary, not
     * surface as an I/O error of the file being read */
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* What one block looked like, for the per-block line. */
typedef struct block_line {
    uint32_t height, txs, inputs, proven, receipts;
    uint64_t leaves, fees, cycles;
    uint8_t hash[UTXO_HASH_BYTES];
} block_line;

static void print_block(json *j, const verify_opts *o, const block_line *b)
{
    char hex[2 * UTXO_HASH_BYTES + 1];

    if (o->quiet)
        return;
    if (o->json) {
        jw_begin_object(j);
        jw_key(j, "height");
        jw_u64(j, b->height);
        jw_key(j, "hash");
        jw_hex(j, b->hash, UTXO_HASH_BYTES);
        jw_key(j, "txs");
        jw_u64(j, b->txs);
        jw_key(j, "inputs");
        jw_u64(j, b->inputs);
        jw_key(j, "proven");
        jw_u64(j, b->proven);
        jw_key(j, "fees");
        jw_u64(j, b->fees);
        jw_key(j, "cycles");
        jw_u64(j, b->cycles);
        jw_key(j, "leaves");
        jw_u64(j, b->leaves);
        jw_end_object(j);
        return;
    }
    hex_encode(hex, b->hash, UTXO_HASH_BYTES);
    printf("block %u valid txs=%u inputs=%u proven=%u fees=%llu cycles=%llu leaves=%llu hash=%s\n",
           b->height, b->txs, b->inputs, b->proven, (unsigned long long)b->fees,
           (unsigned long long)b->cycles, (unsigned long long)b->leaves, hex);
}

/* The first invalid block: reported on stderr at once, and as an
 * "invalid" object after the "blocks" array with --json. */
typedef struct invalid_info {
    bool set;
    uint64_t record, offset;
    uint32_t height;
    utxo_verdict vd;
    char what[96];
} invalid_info;

static void json_invalid(json *j, const invalid_info *inv)
{
    jw_key(j, "invalid");
    if (!inv->set) {
        jw_null(j);
        return;
    }
    jw_begin_object(j);
    jw_key(j, "record");
    jw_u64(j, inv->record);
    jw_key(j, "offset");
    jw_u64(j, inv->offset);
    jw_key(j, "height");
    jw_u64(j, inv->height);
    jw_key(j, "code");
    jw_u64(j, (uint64_t)inv->vd.err);
    jw_key(j, "reason");
    jw_str(j, inv->what);
    jw_key(j, "error");
    jw_str(j, utxo_strerror(inv->vd.err));
    jw_key(j, "tx");
    jw_u64(j, inv->vd.tx);
    jw_key(j, "input");
    jw_u64(j, inv->vd.input);
    jw_end_object(j);
}

static void print_summary(json *j, const verify_opts *o, const utxo_validator *v,
                          uint64_t validated, uint64_t passed)
{
    uint8_t tip[UTXO_HASH_BYTES], digest[UTXO_HASH_BYTES], roots[64][UTXO_HASH_BYTES];
    unsigned n = utxo_validator_roots(v, roots, 64);
    uint32_t next = utxo_validator_next_height(v);
    char hex[2 * UTXO_HASH_BYTES + 1];

    utxo_validator_tip_hash(v, tip);
    utxo_validator_acc_digest(v, digest);
    if (o->json) {
        jw_key(j, "validated");
        jw_u64(j, validated);
        jw_key(j, "passed");
        jw_u64(j, passed);
        jw_key(j, "next_height");
        jw_u64(j, next);
        jw_key(j, "tip_hash");
        jw_hex(j, tip, UTXO_HASH_BYTES);
        jw_key(j, "leaf_count");
        jw_u64(j, utxo_validator_leaf_count(v));
        jw_key(j, "acc_digest");
        jw_hex(j, digest, UTXO_HASH_BYTES);
        jw_key(j, "roots");
        jw_begin_array(j);
        for (unsigned k = 0; k < n; k++)
            jw_hex(j, roots[k], UTXO_HASH_BYTES);
        jw_end_array(j);
        jw_key(j, "state_bytes");
        jw_u64(j, utxo_validator_state_get_length(v));
        jw_key(j, "peak_rss_kib");
        jw_u64(j, proc_peak_rss_kib(0));
        return;
    }
    hex_encode(hex, tip, UTXO_HASH_BYTES);
    printf("validated=%llu passed=%llu\n", (unsigned long long)validated,
           (unsigned long long)passed);
    if (next == 0)
        printf("tip none (before genesis)\n");
    else
        printf("tip height=%u hash=%s\n", next - 1, hex);
    hex_encode(hex, digest, UTXO_HASH_BYTES);
    printf("accumulator leaves=%llu roots=%u digest=%s\n",
           (unsigned long long)utxo_validator_leaf_count(v), n, hex);
    for (unsigned k = 0; k < n; k++) {
        hex_encode(hex, roots[k], UTXO_HASH_BYTES);
        printf("root %u %s\n", k, hex);
    }
    printf("state_bytes=%zu\n", utxo_validator_state_get_length(v));
    printf("peak_rss_kib=%llu\n", (unsigned long long)proc_peak_rss_kib(0));
}

/* What the progress callback needs. */
typedef struct verify_ctx {
    const verify_opts *o;
    utxo_validator *v;
    json *j;
    progress pr;
    bool lines_on_tty; /* per-block lines on a terminal stdout */
    /* a run of records passed over, announced once on stderr */
    bool passing;
    uint64_t pass_rec0, pass_rec1;
    uint32_t pass_h0, pass_h1;
} verify_ctx;

static void flush_passed(verify_ctx *c)
{
    if (!c->passing)
        return;
    c->passing = false;
    progress_clear(&c->pr);
    if (c->pass_rec0 == c->pass_rec1)
        fprintf(stderr, "verify: record %llu (block %u) is the block the state already accepted: "
                "passed over\n", (unsigned long long)c->pass_rec0, c->pass_h0);
    else
        fprintf(stderr, "verify: records %llu..%llu (blocks %u..%u) are the blocks the state "
                "already accepted (they link to its tip): passed over\n",
                (unsigned long long)c->pass_rec0, (unsigned long long)c->pass_rec1, c->pass_h0,
                c->pass_h1);
}

static int verify_progress(void *ctx, const utxo_pipe_progress *pr)
{
    verify_ctx *c = ctx;

    if (pr->event == UTXO_PIPE_PASSED) {
        if (c->passing && pr->record == c->pass_rec1 + 1) {
            c->pass_rec1 = pr->record;
            c->pass_h1 = pr->height;
        } else {
            flush_passed(c);
            c->passing = true;
            c->pass_rec0 = c->pass_rec1 = pr->record;
            c->pass_h0 = c->pass_h1 = pr->height;
        }
    } else if (pr->event == UTXO_PIPE_APPLIED) {
        utxo_bundle_info info;
        block_line line;
        const utxo_block *blk = pr->block;

        flush_passed(c);
        memset(&line, 0, sizeof line);
        utxo_bundle_get_info(pr->bundle, &info);
        line.height = blk->header.height;
        line.txs = blk->n_txs;
        for (uint32_t t = 0; t < blk->n_txs; t++)
            line.inputs += blk->txs[t]->n_inputs;
        line.proven = info.n_spent;
        line.receipts = info.n_receipts;
        line.leaves = utxo_validator_leaf_count(c->v);
        line.fees = pr->verdict->fees;
        line.cycles = pr->verdict->cycles;
        utxo_validator_tip_hash(c->v, line.hash);
        if (c->lines_on_tty)
            progress_clear(&c->pr); /* the block line goes to the same terminal */
        print_block(c->j, c->o, &line);
    }
    if (pr->event == UTXO_PIPE_APPLIED)
        progress_update(&c->pr, pr->applied, pr->bytes_done, pr->bytes_total);
    return verify_interrupted != 0;
}

int cmd_verify(int argc, char **argv)
{
    verify_opts o;
    utxo_params p, pp;
    utxo_chainfile *bf = NULL, *pf = NULL;
    utxo_validator *v = NULL;
    utxo_verify_opts vo;
    utxo_pipe_result res;
    verify_ctx c;
    json j;
    invalid_info inv;
    int ret = EXIT_USAGE, rc;

    memset(&inv, 0, sizeof inv);
    memset(&c, 0, sizeof c);
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? EXIT_VALID : rc;
    if (o.range != NULL)
        return verify_range(o.from_state, o.range, o.chain, o.proofs, o.output, o.threads);
    /* the files' chain, for the state; the pipeline reads them itself */
    if (open_file(&bf, o.chain, UTXO_CHAINFILE_BLOCKS, &p) != 0 ||
        open_file(&pf, o.proofs, UTXO_CHAINFILE_PROOFS, &pp) != 0)
        goto done;
    if (memcmp(p.chain_id, pp.chain_id, UTXO_HASH_BYTES) != 0) {
        errorf("%s and %s belong to different chains", o.chain, o.proofs);
        goto done;
    }
    /* a hostile proof record is refused after the bytes that show it */
    utxo_chainfile_set_check(pf, utxo_bundle_check_prefix, &pp);
    if (load_state(&o, &p, &v) != 0)
        goto done;
    if (v == NULL && (v = utxo_validator_new(&p, o.threads)) == NULL) {
        errorf("out of memory");
        goto done;
    }
    jw_init(&j, stdout, false);
    if (o.json) {
        jw_begin_object(&j);
        jw_key(&j, "blocks");
        jw_begin_array(&j);
    }
    c.o = &o;
    c.v = v;
    c.j = &j;
    progress_begin(&c.pr, progress_mode(o.quiet, o.progress), "verify", "blocks");
    c.lines_on_tty = !o.quiet && isatty(STDOUT_FILENO);
    memset(&vo, 0, sizeof vo);
    vo.max_blocks = o.max_blocks == UINT64_MAX ? 0 : o.max_blocks;
    vo.state_path = o.state;
    vo.save_every = o.save_every;
    vo.progress = verify_progress;
    vo.ctx = &c;
    catch_signals();
    if (o.max_blocks == 0) { /* nothing to apply */
        memset(&res, 0, sizeof res);
        res.stopped = true;
        rc = UTXO_OK;
    } else {
        rc = utxo_verify_files(v, o.chain, o.proofs, &vo, &res);
    }
    flush_passed(&c);
    progress_end(&c.pr, rc == UTXO_OK);
    if (rc == UTXO_OK) {
        ret = EXIT_VALID;
        if (verify_interrupted)
            errorf("verify: interrupted after %llu blocks%s", (unsigned long long)res.applied,
                   o.state != NULL ? "; the state is saved, run again to resume" : "");
    } else if (res.invalid) {
        ret = EXIT_INVALID;
        inv.set = true;
        inv.record = res.record;
        inv.offset = res.offset;
        inv.height = res.height;
        inv.vd = res.verdict;
        inv.vd.err = rc;
        snprintf(inv.what, sizeof inv.what, "%s", utxo_strerror(rc));
        errorf("%s", res.reason);
    } else if (res.file == UTXO_PIPE_STATE && o.state != NULL) {
        ret = EXIT_USAGE; /* "cannot save the state: why": which file */
        errorf("%s: %s", o.state, res.reason);
    } else {
        ret = EXIT_USAGE;
        errorf("%s", res.reason);
    }
    if (o.json) {
        jw_end_array(&j);
        jw_key(&j, "valid");
        jw_bool(&j, ret == EXIT_VALID);
        jw_key(&j, "stopped");
        jw_bool(&j, res.stopped);
        json_invalid(&j, &inv);
    }
    print_summary(&j, &o, v, res.applied, res.passed);
    if (o.json) {
        jw_end_object(&j);
        if (jw_finish(&j) != 0 && ret == EXIT_VALID)
            ret = EXIT_USAGE;
    }
    if (verify_interrupted && ret == EXIT_VALID)
        ret = 128 + (int)verify_interrupted;
done:
    utxo_validator_free(v);
    utxo_chainfile_close(bf);
    utxo_chainfile_close(pf);
    return ret;
}
