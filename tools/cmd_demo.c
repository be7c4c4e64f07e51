/*
 * cmd_demo.c — `utxo demo`: the whole pipeline on an embedded default, in a
 * fresh data directory (SQLite, no server). Four stages, each timed:
 *   1. gen     a deterministic history (src/chain/history.c): the
 *              sequencer's block file and proofs, invalid.txs;
 *   2. replay  the block file into a store (node.db), every block validated
 *              in full, predicates on all cores;
 *   3. prove   each block's bundle read back from the store, the segment
 *              receipts of its long runs added, written as node.proofs and
 *              compared with the sequencer's proofs byte for byte;
 *   4. verify  a stateless validator from genesis over the block file and
 *              node.proofs, long runs checked through their receipts; its
 *              final accumulator must be the store's;
 *   5. mempool the generator's invalid transactions submitted to a mempool
 *              reopened on the chain: each must get its stated code.
 * Stages 2-4 are the library's pipelines (utxo/pipeline.h:
 * utxo_replay_file, utxo_prove_range, utxo_verify_files); this file draws
 * their progress and sums what their callbacks report.
 * Then a summary a person can read (or --json). Exit 0 when everything
 * verified and agreed, 1 when something did not, 2 on usage or I/O errors.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/blockfile.h"
#include "utxo/stateless.h"
#include "utxo/store.h"
#include "prover/blockproof.h"
#include "chain/chain.h"
#include "commands.h"
#include "json.h"
#include "progress.h"
#include "util.h"
#include "utxo/clock.h"

#define DEMO_BLOCKS 800u

static void demo_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo demo [--blocks N] [--tx-per-block M] [--seed S] [--dir DIR]\n"
            "                 [--keep] [--threads T] [--quiet] [--progress] [--json]\n"
            "\n"
            "Runs the whole pipeline in a fresh data directory and summarises it:\n"
            "  1. gen     a deterministic history of N blocks (default %u) of M\n"
            "             transactions (default 30): payments, every standard\n"
            "             predicate, long runs split into segments (utxo gen --help);\n"
            "  2. replay  the blocks into an SQLite store, each validated in full;\n"
            "  3. prove   each block's proof bundle from the store, with the segment\n"
            "             receipts of its long runs, compared with the sequencer's;\n"
            "  4. verify  a stateless validator from genesis, holding only the\n"
            "             accumulator roots, over the blocks and those proofs;\n"
            "  5. the generator's invalid transactions, each to be rejected with its\n"
            "     reason by a mempool reopened on the chain.\n"
            "The summary gives blocks, transactions, inputs, segments, the speed of\n"
            "each stage, the validator's state bytes, proof bytes per input, and\n"
            "whether everything verified and the stateless roots equal the store's.\n"
            "\n"
            "  --dir DIR   where to work (must not exist or be empty; kept afterwards);\n"
            "              default: a new directory under $TMPDIR, removed at the end,\n"
            "              also when interrupted (SIGINT, SIGTERM, SIGHUP), unless --keep\n"
            "  --keep      keep the temporary directory\n"
            "  --threads T predicate threads (default: one per CPU)\n"
            "  --quiet     no progress display (shown on a terminal otherwise)\n"
            "  --progress  progress lines on stderr even when it is not a terminal\n"
            "  --json      print the summary as JSON\n"
            "\n"
            "example:\n"
            "  utxo demo\n"
            "  utxo demo --blocks 2000 --dir demo && utxo utxos --db demo/node.db | head\n",
            DEMO_BLOCKS);
}

typedef struct demo {
    bool as_json;
    int pmode;   /* progress_mode */
    progress pr; /* the display of the running stage */
    unsigned threads;
    unsigned po2;
    char *chain_dir, *db, *proofs, *blocks, *seq_proofs;
    /* results */
    gen_stats g;
    double t_gen, t_replay, t_prove, t_verify, t_mempool;
    uint64_t mp_checked, mp_rejected, mp_mismatch;
    uint64_t txs, inputs, proven_inputs, segments, runs;
    uint64_t bundle_bytes, acc_proof_bytes, state_bytes;
    uint64_t store_utxos, store_bytes;
    uint32_t n_blocks;
    bool verified, roots_equal, proofs_equal, replay_ok;
    char fail[1024];
} demo;

/* Each stage has a display of its own; the previous one's final line is
 * written when the next begins. */
static void stage_begin(demo *d, const char *name)
{
    progress_end(&d->pr, true);
    progress_begin(&d->pr, d->pmode, name, "blocks");
}

/* block h of n done */
static void show(demo *d, uint32_t h, uint32_t n)
{
    progress_update(&d->pr, (uint64_t)h + 1, (uint64_t)h + 1, n);
}

/* SIGINT, SIGTERM or SIGHUP: the stages stop at their next block (their
 * callbacks poll stop_signal()) and the demo removes its temporary
 * directory before it dies of the signal (util.h). */
static int gen_cb(void *ud, uint32_t h, uint32_t n)
{
    show(ud, h, n);
    return stop_signal() != 0;
}

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

/* Stage 2: replay the block file into the store (utxo_replay_file). */
static int replay_cb(void *ud, const utxo_pipe_progress *pr)
{
    demo *d = ud;

    if (pr->event == UTXO_PIPE_APPLIED) {
        d->txs += pr->block->n_txs;
        for (uint32_t t = 0; t < pr->block->n_txs; t++)
            d->inputs += pr->block->txs[t]->n_inputs;
        d->n_blocks = pr->height + 1;
        show(d, pr->height, d->g.blocks);
    }
    return stop_signal() != 0;
}

static int stage_replay(demo *d, utxo_store **out)
{
    utxo_chainfile *cf = NULL;
    utxo_store *s = NULL;
    utxo_params p;
    utxo_sync_opts so;
    utxo_pipe_result res;
    size_t eoff = 0;
    char msg[256];
    double t0 = clock_now_s();
    int rc;

    stage_begin(d, "replay");
    if ((rc = utxo_chainfile_open(&cf, d->blocks, UTXO_CHAINFILE_BLOCKS, &p, &eoff)) != UTXO_OK) {
        snprintf(d->fail, sizeof d->fail, "%s: %s at offset %zu", d->blocks, utxo_strerror(rc),
                 eoff);
        return rc;
    }
    utxo_chainfile_close(cf);
    rc = utxo_store_open(&s, d->db, &p, UTXO_STORE_CREATE, d->threads, msg, sizeof msg);
    if (rc != UTXO_OK) {
        snprintf(d->fail, sizeof d->fail, "store %s: %s", d->db, msg);
        goto out;
    }
    memset(&so, 0, sizeof so);
    so.progress = replay_cb;
    so.ctx = d;
    if ((rc = utxo_replay_file(s, d->blocks, &so, &res)) != UTXO_OK)
        snprintf(d->fail, sizeof d->fail, "replay: %s", res.reason);
out:
    d->t_replay = clock_now_s() - t0;
    if (rc == UTXO_OK) {
        d->replay_ok = true;
        *out = s;
    } else {
        utxo_store_close(s);
    }
    return rc;
}

/* Stage 3: bundles from the store with receipts added (utxo_prove_range),
 * then compared with the sequencer's byte for byte. */
static int prove_cb(void *ud, const utxo_pipe_progress *pr)
{
    demo *d = ud;
    utxo_bundle_info bi;

    utxo_bundle_get_info(pr->bundle, &bi);
    d->bundle_bytes += utxo_bundle_get_length(pr->bundle);
    d->acc_proof_bytes += bi.proof_bytes;
    d->proven_inputs += bi.n_spent;
    show(d, pr->height, d->n_blocks);
    return stop_signal() != 0;
}

static bool same_files(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    bool same = fa != NULL && fb != NULL;
    int ca, cb;

    while (same) {
        ca = getc(fa);
        cb = getc(fb);
        same = ca == cb;
        if (ca == EOF || cb == EOF)
            break;
    }
    if (fa != NULL)
        fclose(fa);
    if (fb != NULL)
        fclose(fb);
    return same;
}

static int stage_prove(demo *d, utxo_store *s)
{
    utxo_prove_opts po;
    utxo_pipe_result res;
    double t0 = clock_now_s();
    int rc;

    stage_begin(d, "prove");
    memset(&po, 0, sizeof po);
    po.seg_po2 = d->po2;
    po.progress = prove_cb;
    po.ctx = d;
    rc = utxo_prove_range(s, 0, d->n_blocks, d->proofs, &po, &res);
    if (rc != UTXO_OK) {
        snprintf(d->fail, sizeof d->fail, "prove: %s", res.reason);
    } else {
        d->runs += res.runs;
        d->segments += res.segments;
        d->proofs_equal = same_files(d->proofs, d->seq_proofs);
    }
    d->t_prove = clock_now_s() - t0;
    return rc;
}

/* Stage 4: the stateless validator from genesis (utxo_verify_files). */
static int verify_cb(void *ud, const utxo_pipe_progress *pr)
{
    demo *d = ud;

    show(d, pr->height, d->n_blocks);
    return stop_signal() != 0;
}

static int stage_verify(demo *d, utxo_store *s)
{
    utxo_chainfile *bf = NULL;
    utxo_validator *v = NULL;
    utxo_verify_opts vo;
    utxo_pipe_result res;
    utxo_params p;
    uint8_t store_acc[8 + 64 * 32], *bstate = NULL;
    size_t eoff = 0, slen = 0, vlen;
    double t0 = clock_now_s();
    int rc;

    stage_begin(d, "verify");
    if ((rc = utxo_chainfile_open(&bf, d->blocks, UTXO_CHAINFILE_BLOCKS, &p, &eoff)) != UTXO_OK) {
        snprintf(d->fail, sizeof d->fail, "verify: cannot open %s: %s", d->blocks,
                 utxo_strerror(rc));
        goto out;
    }
    if ((v = utxo_validator_new(&p, d->threads)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto out;
    }
    memset(&vo, 0, sizeof vo);
    vo.progress = verify_cb;
    vo.ctx = d;
    if ((rc = utxo_verify_files(v, d->blocks, d->proofs, &vo, &res)) != UTXO_OK) {
        snprintf(d->fail, sizeof d->fail, "verify: %s", res.reason);
        goto out;
    }
    d->verified = res.applied == d->n_blocks;
    {
        utxo_store_info si;
        struct stat st;
        utxo_store_get_info(s, &si);
        d->store_utxos = si.n_utxos;
        char *wal = malloc(strlen(d->db) + 5);
        if (stat(d->db, &st) == 0)
            d->store_bytes = (uint64_t)st.st_size;
        if (wal != NULL) { /* until a checkpoint, part of the store is in its WAL */
            sprintf(wal, "%s-wal", d->db);
            if (stat(wal, &st) == 0)
                d->store_bytes += (uint64_t)st.st_size;
            free(wal);
        }
    }
    /* the validator's roots against the store's accumulator */
    vlen = utxo_validator_state_get_length(v);
    d->state_bytes = vlen;
    if ((rc = utxo_store_acc_state(s, store_acc, sizeof store_acc, &slen)) == UTXO_OK &&
        (bstate = malloc(vlen)) != NULL &&
        utxo_validator_state_to_bytes(v, bstate, vlen, &vlen) == UTXO_OK) {
        /* the state ends with the accumulator encoding (docs/STATELESS.md) */
        d->roots_equal = vlen >= slen && memcmp(bstate + vlen - slen, store_acc, slen) == 0;
    }
    if (rc == UTXO_OK && bstate == NULL)
        rc = UTXO_ERR_NOMEM;
out:
    free(bstate);
    utxo_validator_free(v);
    utxo_chainfile_close(bf);
    d->t_verify = clock_now_s() - t0;
    return rc;
}

/* Stage 5: the generator's invalid transactions against a mempool reopened
 * on the chain (re-sealed from the block file, no store): each must get the
 * code invalid.txs states. */
static int stage_mempool(demo *d)
{
    chain_seq *seq = NULL;
    char msg[512], *path = join(d->chain_dir, CHAIN_INVALID_FILE), *line = NULL;
    FILE *f = NULL;
    size_t cap = 0;
    double t0 = clock_now_s();
    int rc;

    stage_begin(d, "mempool");
    if (path == NULL)
        return UTXO_ERR_NOMEM;
    if ((rc = chain_seq_open(&seq, d->chain_dir, NULL, d->threads, 0, msg, sizeof msg))) {
        snprintf(d->fail, sizeof d->fail, "mempool: %s", msg);
        goto out;
    }
    if ((f = fopen(path, "r")) == NULL) {
        snprintf(d->fail, sizeof d->fail, "mempool: cannot open %s", path);
        rc = UTXO_ERR_IO;
        goto out;
    }
    while (getline(&line, &cap, f) > 0) {
        char *code = strtok(line, " \t\r\n"), *hex = strtok(NULL, " \t\r\n");
        uint8_t *bin = NULL;
        size_t bl = 0;
        utxo_tx *tx = NULL;
        int got;
        if (code == NULL || code[0] == '#')
            continue;
        if (hex == NULL || hex_decode(hex, &bin, &bl) != 0) {
            snprintf(d->fail, sizeof d->fail, "mempool: %s: a line without a transaction", path);
            rc = UTXO_ERR_FILE_FORMAT;
            goto out;
        }
        got = utxo_tx_from_bytes(&tx, bin, bl, chain_seq_params(seq), NULL);
        if (got == UTXO_OK)
            got = chain_seq_submit(seq, tx, NULL);
        d->mp_checked++;
        if (got == atoi(code) && got != UTXO_OK)
            d->mp_rejected++;
        else if (got != atoi(code))
            d->mp_mismatch++;
        utxo_tx_free(tx);
        free(bin);
    }
    rc = UTXO_OK;
out:
    free(line);
    if (f != NULL)
        fclose(f);
    chain_seq_close(seq, false);
    free(path);
    d->t_mempool = clock_now_s() - t0;
    return rc;
}

static double rate(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0;
}

static void print_summary(const demo *d, const char *dir, double total)
{
    bool ok = d->verified && d->roots_equal && d->proofs_equal && d->mp_mismatch == 0;

    printf("\nutxo demo: %u blocks in %s\n\n", d->n_blocks, dir);
    printf("  chain          %llu transactions, %llu inputs, %llu outputs\n",
           (unsigned long long)d->txs, (unsigned long long)d->inputs,
           (unsigned long long)d->g.outputs);
    printf("  inputs by kind ");
    for (unsigned k = 0; k < GEN_KINDS; k++)
        printf("%s%s %llu", k ? ", " : "", gen_kind_name(k), (unsigned long long)d->g.by_kind[k]);
    printf("\n  spends         %llu of outputs from the same block, %llu of outputs 50+ blocks old\n",
           (unsigned long long)d->g.same_block, (unsigned long long)d->g.old_spends);
    printf("  long runs      %llu, proven in %llu segment receipts\n", (unsigned long long)d->runs,
           (unsigned long long)d->segments);
    printf("  invalid txs    %llu of %llu rejected with the expected reason by a mempool reopened "
           "on the chain (%.2f s)\n\n",
           (unsigned long long)d->mp_rejected, (unsigned long long)d->g.invalid, d->t_mempool);
    printf("  stage     seconds      tx/s\n");
    printf("  gen       %7.2f  %8.0f   sequencer: mempool (full validation), blocks, signing\n",
           d->t_gen, rate(d->txs, d->t_gen));
    printf("  replay    %7.2f  %8.0f   SQLite store, every block validated in full\n",
           d->t_replay, rate(d->txs, d->t_replay));
    printf("  prove     %7.2f  %8.0f   bundles from the store + segment receipts\n", d->t_prove,
           rate(d->txs, d->t_prove));
    printf("  verify    %7.2f  %8.0f   stateless validator from genesis\n\n", d->t_verify,
           rate(d->txs, d->t_verify));
    printf("  validator state  %llu bytes (tip + accumulator roots); the store: %llu unspent "
           "outputs, with blocks, proofs and undo data, in %.1f MB\n",
           (unsigned long long)d->state_bytes, (unsigned long long)d->store_utxos,
           (double)d->store_bytes / 1e6);
    printf("  proof bytes      %.0f per input (whole bundles, receipts included), %.0f per proven "
           "input (accumulator proof only)\n",
           d->inputs ? (double)d->bundle_bytes / (double)d->inputs : 0.0,
           d->proven_inputs ? (double)d->acc_proof_bytes / (double)d->proven_inputs : 0.0);
    printf("  stateless roots  %s the store's\n", d->roots_equal ? "equal" : "DIFFER FROM");
    printf("  store's proofs   %s the sequencer's\n", d->proofs_equal ? "equal" : "DIFFER FROM");
    printf("\n  %s (%.1f s in all)\n", ok ? "everything verified" : "NOT VERIFIED", total);
}

static void print_json(const demo *d, const char *dir, double total)
{
    json j;

    jw_init(&j, stdout, true);
    jw_begin_object(&j);
    jw_key(&j, "dir");
    jw_str(&j, dir);
    jw_key(&j, "blocks");
    jw_u64(&j, d->n_blocks);
    jw_key(&j, "txs");
    jw_u64(&j, d->txs);
    jw_key(&j, "inputs");
    jw_u64(&j, d->inputs);
    jw_key(&j, "long_runs");
    jw_u64(&j, d->runs);
    jw_key(&j, "segments");
    jw_u64(&j, d->segments);
    jw_key(&j, "invalid_txs");
    jw_u64(&j, d->g.invalid);
    jw_key(&j, "invalid_rejected_as_expected");
    jw_u64(&j, d->mp_rejected);
    jw_key(&j, "mempool_mismatches");
    jw_u64(&j, d->mp_mismatch);
    jw_key(&j, "ms");
    jw_begin_object(&j);
    jw_key(&j, "gen");
    jw_u64(&j, (uint64_t)(d->t_gen * 1000));
    jw_key(&j, "replay");
    jw_u64(&j, (uint64_t)(d->t_replay * 1000));
    jw_key(&j, "prove");
    jw_u64(&j, (uint64_t)(d->t_prove * 1000));
    jw_key(&j, "verify");
    jw_u64(&j, (uint64_t)(d->t_verify * 1000));
    jw_key(&j, "mempool");
    jw_u64(&j, (uint64_t)(d->t_mempool * 1000));
    jw_key(&j, "total");
    jw_u64(&j, (uint64_t)(total * 1000));
    jw_end_object(&j);
    jw_key(&j, "state_bytes");
    jw_u64(&j, d->state_bytes);
    jw_key(&j, "store_utxos");
    jw_u64(&j, d->store_utxos);
    jw_key(&j, "store_bytes");
    jw_u64(&j, d->store_bytes);
    jw_key(&j, "bundle_bytes");
    jw_u64(&j, d->bundle_bytes);
    jw_key(&j, "acc_proof_bytes");
    jw_u64(&j, d->acc_proof_bytes);
    jw_key(&j, "proven_inputs");
    jw_u64(&j, d->proven_inputs);
    jw_key(&j, "verified");
    jw_bool(&j, d->verified);
    jw_key(&j, "roots_equal");
    jw_bool(&j, d->roots_equal);
    jw_key(&j, "proofs_equal");
    jw_bool(&j, d->proofs_equal);
    if (d->fail[0]) {
        jw_key(&j, "error");
        jw_str(&j, d->fail);
    }
    jw_end_object(&j);
    (void)jw_finish(&j);
}

int cmd_demo(int argc, char **argv)
{
    demo d;
    gen_opts o;
    const char *dir = NULL;
    char tmpl[4096], msg[512];
    bool keep = false, made_tmp = false, quiet = false, forced = false;
    uint64_t blocks = DEMO_BLOCKS, txs, seed, threads = 0;
    utxo_store *s = NULL;
    double t0;
    int rc, ex = EXIT_USAGE;

    memset(&d, 0, sizeof d);
    gen_opts_default(&o);
    txs = o.tx_per_block;
    seed = o.seed;
    num_opt nums[] = {
        {"--blocks", &blocks, 2, 1000000, false}, {"--tx-per-block", &txs, 1, 5000, false},
        {"--seed", &seed, 0, UINT64_MAX, false}, {"--threads", &threads, 0, 1024, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM},
        {"tx-per-block", required_argument, NULL, CLI_NUM},
        {"seed", required_argument, NULL, CLI_NUM},
        {"threads", required_argument, NULL, CLI_NUM},
        {"dir", required_argument, NULL, 'd'},
        {"keep", no_argument, NULL, 'k'},
        {"quiet", no_argument, NULL, 'q'},
        {"json", no_argument, NULL, 'j'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("demo", demo_usage, "", opts);
    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case CLI_NUM:
            if (!cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
                return EXIT_USAGE;
            break;
        case 'd': dir = optarg; break;
        case 'k': keep = true; break;
        case 'q':
            quiet = true;
            break;
        case CLI_PROGRESS: forced = true; break;
        case 'j': d.as_json = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    d.pmode = progress_mode(quiet, forced);
    stop_signals_catch();
    if (dir == NULL) {
        if (scratch_dir(tmpl, sizeof tmpl, "demo", "utxo-demo") != 0) {
            errorf("demo: or give it a directory with --dir");
            return EXIT_USAGE;
        }
        dir = tmpl;
        made_tmp = true;
    } else {
        if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
            errorf("demo: cannot create %s: %s", dir, strerror(errno));
            return EXIT_USAGE;
        }
        keep = true;
    }
    d.threads = (unsigned)threads;
    d.po2 = o.po2;
    d.chain_dir = join(dir, "chain");
    d.db = join(dir, "node.db");
    d.proofs = join(dir, "node.proofs");
    d.blocks = d.chain_dir ? join(d.chain_dir, CHAIN_BLOCKS_FILE) : NULL;
    d.seq_proofs = d.chain_dir ? join(d.chain_dir, CHAIN_PROOFS_FILE) : NULL;
    if (!d.chain_dir || !d.db || !d.proofs || !d.blocks || !d.seq_proofs) {
        errorf("demo: out of memory");
        goto done;
    }
    if (access(d.db, F_OK) == 0 || access(d.blocks, F_OK) == 0) {
        errorf("demo: %s already holds a demo: choose another --dir or remove it", dir);
        keep = true; /* never remove what we did not make */
        goto done;
    }
    o.blocks = (uint32_t)blocks;
    o.keep_partial = keep; /* --keep: also what an interrupted gen wrote */
    o.tx_per_block = (uint32_t)txs;
    o.seed = seed;
    o.threads = d.threads;
    t0 = clock_now_s();
    stage_begin(&d, "gen");
    rc = gen_run(d.chain_dir, &o, &d.g, gen_cb, &d, msg, sizeof msg);
    d.t_gen = clock_now_s() - t0;
    if (rc != UTXO_OK) {
        progress_end(&d.pr, false);
        if (stop_signal() != 0)
            errorf("demo: interrupted by signal %d; %s %s", stop_signal(),
                   made_tmp && !keep ? "removing" : "keeping", dir);
        else
            errorf("demo: %s", msg);
        goto done;
    }
    ex = EXIT_INVALID;
    rc = stage_replay(&d, &s);
    if (rc == UTXO_OK && stop_signal() == 0)
        rc = stage_prove(&d, s);
    if (rc == UTXO_OK && stop_signal() == 0)
        rc = stage_verify(&d, s);
    if (rc == UTXO_OK && stop_signal() == 0)
        rc = stage_mempool(&d);
    if (stop_signal() != 0) {
        progress_end(&d.pr, false);
        errorf("demo: interrupted by signal %d; %s %s", stop_signal(),
               made_tmp && !keep ? "removing" : "keeping", dir);
        goto done;
    }
    progress_end(&d.pr, rc == UTXO_OK);
    if (rc != UTXO_OK) {
        if (d.as_json)
            print_json(&d, dir, clock_now_s() - t0);
        errorf("demo: %s", d.fail);
        /* storage and I/O trouble is not an invalid chain */
        if (rc == UTXO_ERR_IO || rc == UTXO_ERR_NOMEM || (rc >= 250 && rc < 300))
            ex = EXIT_USAGE;
        goto done;
    }
    if (d.as_json)
        print_json(&d, dir, clock_now_s() - t0);
    else
        print_summary(&d, dir, clock_now_s() - t0);
    if (d.verified && d.roots_equal && d.proofs_equal && d.mp_mismatch == 0 &&
        d.mp_rejected == d.g.invalid)
        ex = EXIT_VALID;
    if (!d.as_json && keep)
        printf("  files kept in %s (chain/, node.db, node.proofs)\n", dir);
done:
    utxo_store_close(s);
    if (made_tmp && !keep)
        remove_tree(dir);
    free(d.chain_dir);
    free(d.db);
    free(d.proofs);
    free(d.blocks);
    free(d.seq_proofs);
    if (stop_signal() != 0)
        return stop_signal_die();
    return ex;
}
