/*
 * cmd_verify.c — `utxo verify`: a stateless validator on the command line.
 * It reads a block file and its proof file record by record (one block and
 * one bundle in memory at a time), validates each block holding only the
 * tip and the accumulator roots, and can save and resume that state, so a
 * laptop can check a long chain in pieces. Formats: docs/STATELESS.md.
 *
 * Exit status: 0 every block valid; 1 the first invalid block (a record
 * that does not decode counts as an invalid block), with the reason, the
 * transaction and the input; 2 usage, I/O, a truncated or corrupt file
 * (with the byte offset of the record), files or state of another chain.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo.h"
#include "bench.h"
#include "commands.h"
#include "json.h"
#include "util.h"

static void verify_usage(FILE *f)
{
    fprintf(f,
            "usage: utxo verify --chain BLOCKS --proofs PROOFS [--state FILE]\n"
            "                   [--threads N] [--max-blocks N] [--json] [--quiet]\n"
            "\n"
            "Validates the blocks of BLOCKS in order with their proof bundles from\n"
            "PROOFS, holding only the chain tip and the accumulator roots.\n"
            "\n"
            "  --state FILE    resume from FILE if it exists (blocks already covered\n"
            "                  are skipped), and write the state after the last valid\n"
            "                  block back to it (a few hundred bytes)\n"
            "  --threads N     threads running predicates (default: one per CPU)\n"
            "  --max-blocks N  stop after validating N blocks (then resume with --state)\n"
            "  --json          one JSON document on stdout instead of text\n"
            "  --quiet         no per-block lines\n"
            "\n"
            "Prints one line per block, then the tip, the accumulator roots and the\n"
            "state size. Progress goes to stderr when it is a terminal.\n"
            "Exit status: 0 all valid, 1 an invalid block (reason, tx and input are\n"
            "printed), 2 usage, I/O, truncated or corrupt file (with its offset).\n"
            "\n"
            "example:\n"
            "  utxo verify --chain chain.blocks --proofs chain.proofs --state node.state\n");
}

typedef struct verify_opts {
    const char *chain, *proofs, *state;
    unsigned threads;
    uint64_t max_blocks;
    bool json, quiet;
} verify_opts;

static int parse_args(int argc, char **argv, verify_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_blocks = UINT64_MAX;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        uint64_t v;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            verify_usage(stdout);
            return -1;
        } else if (strcmp(a, "--chain") == 0 && has) {
            o->chain = argv[++i];
        } else if (strcmp(a, "--proofs") == 0 && has) {
            o->proofs = argv[++i];
        } else if (strcmp(a, "--state") == 0 && has) {
            o->state = argv[++i];
        } else if (strcmp(a, "--threads") == 0 && has) {
            if (!parse_u64(argv[++i], &v) || v == 0 || v > 256) {
                errorf("verify: --threads needs 1..256");
                return EXIT_USAGE;
            }
            o->threads = (unsigned)v;
        } else if (strcmp(a, "--max-blocks") == 0 && has) {
            if (!parse_u64(argv[++i], &o->max_blocks)) {
                errorf("verify: --max-blocks needs a number");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--quiet") == 0) {
            o->quiet = true;
        } else {
            errorf("verify: unknown or incomplete option '%s'", a);
            verify_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (o->chain == NULL || o->proofs == NULL) {
        errorf("verify: --chain and --proofs are required");
        verify_usage(stderr);
        return EXIT_USAGE;
    }
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

/* Reads the state file if it exists; NULL validator when it does not. */
static int load_state(const verify_opts *o, const utxo_params *p, utxo_validator **v)
{
    uint8_t *buf = NULL;
    size_t len = 0, off = 0;
    struct stat sb;
    int rc;

    *v = NULL;
    if (o->state == NULL || (stat(o->state, &sb) != 0 && errno == ENOENT))
        return 0;
    if (read_file(o->state, UTXO_VALIDATOR_STATE_MAX_BYTES + 1, &buf, &len) != 0)
        return -1;
    rc = utxo_validator_from_state(v, p, buf, len, o->threads, &off);
    free(buf);
    if (rc != UTXO_OK) {
        errorf("%s: bad validator state: %s at offset %zu", o->state, utxo_strerror(rc), off);
        return -1;
    }
    return 0;
}

static int save_state(const char *path, const utxo_validator *v)
{
    uint8_t buf[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t n = 0;

    if (utxo_validator_state_to_bytes(v, buf, sizeof buf, &n) != UTXO_OK ||
        write_file(path, buf, n) != 0) {
        errorf("%s: cannot write the validator state", path);
        return -1;
    }
    return 0;
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
        json_begin_object(j);
        json_key(j, "height");
        json_u64(j, b->height);
        json_key(j, "hash");
        json_hex(j, b->hash, UTXO_HASH_BYTES);
        json_key(j, "txs");
        json_u64(j, b->txs);
        json_key(j, "inputs");
        json_u64(j, b->inputs);
        json_key(j, "proven");
        json_u64(j, b->proven);
        json_key(j, "fees");
        json_u64(j, b->fees);
        json_key(j, "cycles");
        json_u64(j, b->cycles);
        json_key(j, "leaves");
        json_u64(j, b->leaves);
        json_end_object(j);
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

static void report_invalid(invalid_info *inv, uint64_t record, uint64_t offset, uint32_t height,
                           const utxo_verdict *vd, const char *what)
{
    inv->set = true;
    inv->record = record;
    inv->offset = offset;
    inv->height = height;
    inv->vd = *vd;
    snprintf(inv->what, sizeof inv->what, "%s", what != NULL ? what : utxo_strerror(vd->err));
    errorf("block %u (record %llu at offset %llu) invalid: %s%s%s (code %d) tx %u input %u",
           height, (unsigned long long)record, (unsigned long long)offset,
           what != NULL ? what : "", what != NULL ? ": " : "", utxo_strerror(vd->err), vd->err,
           vd->tx, vd->input);
}

static void json_invalid(json *j, const invalid_info *inv)
{
    json_key(j, "invalid");
    if (!inv->set) {
        json_null(j);
        return;
    }
    json_begin_object(j);
    json_key(j, "record");
    json_u64(j, inv->record);
    json_key(j, "offset");
    json_u64(j, inv->offset);
    json_key(j, "height");
    json_u64(j, inv->height);
    json_key(j, "code");
    json_u64(j, (uint64_t)inv->vd.err);
    json_key(j, "reason");
    json_str(j, inv->what);
    json_key(j, "error");
    json_str(j, utxo_strerror(inv->vd.err));
    json_key(j, "tx");
    json_u64(j, inv->vd.tx);
    json_key(j, "input");
    json_u64(j, inv->vd.input);
    json_end_object(j);
}

/* This process's peak resident memory in KiB (Linux VmHWM), 0 if unknown. */
static uint64_t peak_rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned long long kib = 0;

    if (f == NULL)
        return 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %llu kB", &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static void print_summary(json *j, const verify_opts *o, const utxo_validator *v,
                          uint64_t validated, uint64_t skipped)
{
    uint8_t tip[UTXO_HASH_BYTES], digest[UTXO_HASH_BYTES], roots[64][UTXO_HASH_BYTES];
    unsigned n = utxo_validator_roots(v, roots, 64);
    uint32_t next = utxo_validator_next_height(v);
    char hex[2 * UTXO_HASH_BYTES + 1];

    utxo_validator_tip_hash(v, tip);
    utxo_validator_acc_digest(v, digest);
    if (o->json) {
        json_key(j, "validated");
        json_u64(j, validated);
        json_key(j, "skipped");
        json_u64(j, skipped);
        json_key(j, "next_height");
        json_u64(j, next);
        json_key(j, "tip_hash");
        json_hex(j, tip, UTXO_HASH_BYTES);
        json_key(j, "leaf_count");
        json_u64(j, utxo_validator_leaf_count(v));
        json_key(j, "acc_digest");
        json_hex(j, digest, UTXO_HASH_BYTES);
        json_key(j, "roots");
        json_begin_array(j);
        for (unsigned k = 0; k < n; k++)
            json_hex(j, roots[k], UTXO_HASH_BYTES);
        json_end_array(j);
        json_key(j, "state_bytes");
        json_u64(j, utxo_validator_state_get_length(v));
        json_key(j, "peak_rss_kib");
        json_u64(j, peak_rss_kib());
        return;
    }
    hex_encode(hex, tip, UTXO_HASH_BYTES);
    printf("validated=%llu skipped=%llu\n", (unsigned long long)validated,
           (unsigned long long)skipped);
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
    printf("peak_rss_kib=%llu\n", (unsigned long long)peak_rss_kib());
}

/* Header height of an encoded block, without decoding the rest. */
static bool peek_height(const uint8_t *rec, size_t len, uint32_t *h)
{
    if (len < 8)
        return false;
    *h = (uint32_t)rec[4] | (uint32_t)rec[5] << 8 | (uint32_t)rec[6] << 16 |
         (uint32_t)rec[7] << 24;
    return true;
}

int cmd_verify(int argc, char **argv)
{
    verify_opts o;
    utxo_params p, pp;
    utxo_chainfile *bf = NULL, *pf = NULL;
    utxo_validator *v = NULL;
    json j;
    uint64_t record = 0, validated = 0, skipped = 0, t_start = clock_now_ns(), t_last = 0;
    bool tty = isatty(STDERR_FILENO), stopped = false;
    invalid_info inv;
    int ret = EXIT_USAGE, rc;

    memset(&inv, 0, sizeof inv);
    rc = parse_args(argc, argv, &o);
    if (rc != 0)
        return rc < 0 ? EXIT_VALID : rc;
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
    json_init(&j, stdout, false);
    if (o.json) {
        json_begin_object(&j);
        json_key(&j, "blocks");
        json_begin_array(&j);
    }
    ret = EXIT_VALID;
    for (;; record++) {
        uint8_t *brec = NULL, *prec = NULL;
        size_t blen = 0, plen = 0, eo = 0;
        uint64_t boff = 0, poff = 0;
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        utxo_verdict vd;
        uint32_t height = 0;
        block_line line;

        rc = utxo_chainfile_next(bf, &brec, &blen, &boff);
        if (rc != UTXO_OK) {
            errorf("%s: record %llu at offset %llu: %s", o.chain, (unsigned long long)record,
                   (unsigned long long)boff, utxo_strerror(rc));
            ret = EXIT_USAGE;
            break;
        }
        rc = utxo_chainfile_next(pf, &prec, &plen, &poff);
        if (rc != UTXO_OK || (brec == NULL) != (prec == NULL)) {
            if (rc == UTXO_OK)
                errorf("%s has %s records than %s (record %llu)", o.proofs,
                       prec == NULL ? "fewer" : "more", o.chain, (unsigned long long)record);
            else
                errorf("%s: record %llu at offset %llu: %s", o.proofs, (unsigned long long)record,
                       (unsigned long long)poff, utxo_strerror(rc));
            free(brec);
            free(prec);
            /* framing and I/O: 2; a bundle the record check refused: invalid */
            ret = rc == UTXO_OK || rc == UTXO_ERR_IO || rc == UTXO_ERR_TRUNCATED ||
                          rc == UTXO_ERR_TOO_LARGE || rc == UTXO_ERR_NOMEM
                      ? EXIT_USAGE
                      : EXIT_INVALID;
            break;
        }
        if (brec == NULL)
            break; /* both files end here */
        if (peek_height(brec, blen, &height) && height < utxo_validator_next_height(v)) {
            skipped++; /* covered by the resumed state */
            free(brec);
            free(prec);
            continue;
        }
        if (validated >= o.max_blocks) {
            stopped = true;
            free(brec);
            free(prec);
            break;
        }
        memset(&vd, 0, sizeof vd);
        rc = utxo_block_from_bytes(&blk, brec, blen, &p, &eo);
        if (rc != UTXO_OK) {
            char what[80];
            vd.err = rc;
            snprintf(what, sizeof what, "block does not decode (byte %zu of the record)", eo);
            report_invalid(&inv, record, boff, height, &vd, what);
            ret = EXIT_INVALID;
        } else if ((rc = utxo_bundle_from_bytes(&bd, prec, plen, &p, &eo)) != UTXO_OK) {
            char what[80];
            vd.err = rc;
            snprintf(what, sizeof what, "proof bundle does not decode (byte %zu of the record)",
                     eo);
            report_invalid(&inv, record, poff, height, &vd, what);
            ret = EXIT_INVALID;
        } else if (utxo_validator_apply(v, blk, bd, &vd) != UTXO_OK) {
            report_invalid(&inv, record, boff, height, &vd, NULL);
            ret = EXIT_INVALID;
        } else {
            utxo_bundle_info info;
            memset(&line, 0, sizeof line);
            utxo_bundle_get_info(bd, &info);
            line.height = blk->header.height;
            line.txs = blk->n_txs;
            for (uint32_t t = 0; t < blk->n_txs; t++)
                line.inputs += blk->txs[t]->n_inputs;
            line.proven = info.n_spent;
            line.receipts = info.n_receipts;
            line.leaves = utxo_validator_leaf_count(v);
            line.fees = vd.fees;
            line.cycles = vd.cycles;
            utxo_validator_tip_hash(v, line.hash);
            print_block(&j, &o, &line);
            validated++;
        }
        utxo_block_free(blk);
        utxo_bundle_free(bd);
        free(brec);
        free(prec);
        if (ret != EXIT_VALID)
            break;
        if (tty && clock_now_ns() - t_last > 250000000u) {
            double s = (double)(clock_now_ns() - t_start) / 1e9;
            t_last = clock_now_ns();
            fprintf(stderr, "\rverify: height %u, %llu blocks, %.1f blocks/s ",
                    utxo_validator_next_height(v) - 1, (unsigned long long)validated,
                    s > 0 ? (double)validated / s : 0.0);
        }
    }
    if (tty && t_last != 0)
        fprintf(stderr, "\n");
    if (o.json) {
        json_end_array(&j);
        json_key(&j, "valid");
        json_bool(&j, ret == EXIT_VALID);
        json_key(&j, "stopped");
        json_bool(&j, stopped);
        json_invalid(&j, &inv);
    }
    print_summary(&j, &o, v, validated, skipped);
    if (o.json) {
        json_end_object(&j);
        if (json_finish(&j) != 0 && ret == EXIT_VALID)
            ret = EXIT_USAGE;
    }
    if (o.state != NULL && save_state(o.state, v) != 0 && ret == EXIT_VALID)
        ret = EXIT_USAGE;
done:
    utxo_validator_free(v);
    utxo_chainfile_close(bf);
    utxo_chainfile_close(pf);
    return ret;
}
