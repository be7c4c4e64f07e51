/*
 * cmd_sequence.c — `utxo sequence -d DIR [TX...]`: the sequencer of a chain
 * directory as a command. It opens the chain (key and block file), submits
 * transactions to the mempool (each validated in full against the UTXO set
 * and the transactions before it; rejected ones are reported with their
 * reason), seals the accepted ones into signed blocks by fee rate, and
 * appends them to the chain's files and optionally a store. With --check
 * nothing is written; with --expect each line of a --txs list states the
 * code it must get (the format of a generator's invalid.txs).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>
#include "utxo.h"
#include "chain/chain.h"
#include "commands.h"
#include "json.h"
#include "store_util.h"
#include "util.h"

static void sequence_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo sequence -d DIR [TXFILE...] [--txs LIST] [--expect] [--check]\n"
            "                     [--db FILE] [--blocks N] [--time T] [--po2 P]\n"
            "                     [--threads N] [--json]\n"
            "\n"
            "Submits transactions to the mempool of the chain in DIR, in order: each\n"
            "binary transaction file TXFILE (as `utxo wallet send -o` writes), then\n"
            "each line of LIST (\"HEX\", or \"CODE HEX WHAT...\" as in a generator's\n"
            "invalid.txs; # starts a comment). Each is validated against the UTXO set\n"
            "and the transactions accepted before it (every predicate runs): a\n"
            "conflict, a missing output, a bad witness or fee is reported with its\n"
            "reason. Then the accepted ones are sealed into blocks (highest fee rate\n"
            "first, parents before children, within the block limits), signed with\n"
            "DIR/sequencer.key and appended to DIR/blocks and DIR/proofs (and applied\n"
            "to the store FILE, which must hold the chain up to its tip).\n"
            "\n"
            "  -d, --dir DIR  the chain directory (as `utxo gen` or `utxo genesis` made it)\n"
            "  --check        validate only: the chain's files are left as they were\n"
            "                 (it still needs the chain to itself, as one sequencer)\n"
            "  --expect       each LIST line's CODE is the result it must get (0: accepted)\n"
            "  --blocks N     seal at least N blocks (default: as many as the mempool needs)\n"
            "  --time T       block time in seconds since the epoch (default: now)\n"
            "  --po2 P        segment receipts for long runs at 2^P cycles (default 18, 0: none)\n"
            "  --db FILE      also apply the sealed blocks to the store FILE\n"
            "  --threads N    predicate threads (default: one per CPU)\n"
            "  --json         print the results as JSON\n"
            "\n"
            "Exit 0 when every transaction was accepted (--expect: got its code),\n"
            "1 otherwise, 2 on usage or I/O errors.\n"
            "\n"
            "example:\n"
            "  utxo gen --blocks 20 -o chain\n"
            "  utxo sequence -d chain --txs chain/invalid.txs --expect --check\n"
            "  utxo sequence -d chain payment.tx\n");
}

typedef struct seq_run {
    chain_seq *s;
    bool expect, as_json;
    json *j;
    uint64_t accepted, rejected, mismatched;
} seq_run;

static void submit_one(seq_run *r, const utxo_tx *tx, int want, const char *where)
{
    utxo_verdict vd;
    uint8_t txid[UTXO_HASH_BYTES];
    char hex[2 * UTXO_HASH_BYTES + 1];
    int rc = chain_seq_submit(r->s, tx, &vd);

    utxo_tx_txid(tx, txid);
    hex_encode(hex, txid, sizeof txid);
    if (rc == UTXO_OK)
        r->accepted++;
    else
        r->rejected++;
    if (r->expect && rc != want)
        r->mismatched++;
    if (r->as_json) {
        jw_begin_object(r->j);
        jw_key(r->j, "source");
        jw_str(r->j, where);
        jw_key(r->j, "txid");
        jw_str(r->j, hex);
        jw_key(r->j, "code");
        jw_i64(r->j, rc);
        jw_key(r->j, "reason");
        jw_str(r->j, rc == UTXO_OK ? "accepted" : utxo_strerror(rc));
        jw_key(r->j, "input");
        jw_u64(r->j, vd.input);
        if (r->expect) {
            jw_key(r->j, "expected");
            jw_i64(r->j, want);
        }
        jw_end_object(r->j);
        return;
    }
    if (rc == UTXO_OK)
        printf("accepted %s (%s)\n", hex, where);
    else if (rc == UTXO_ERR_TX_REJECTED && vd.run_err != UTXO_OK)
        printf("rejected %s (%s): %s [%d], input %u: the predicate image does not decode: %s\n",
               hex, where, utxo_strerror(rc), rc, vd.input, utxo_strerror(vd.run_err));
    else if (rc == UTXO_ERR_TX_REJECTED && vd.vm.status == UTXO_VM_FAILED)
        printf("rejected %s (%s): %s [%d], input %u: the predicate failed: %s after %llu cycles\n",
               hex, where, utxo_strerror(rc), rc, vd.input, utxo_vm_fail_str(vd.vm.fail),
               (unsigned long long)vd.vm.cycles);
    else if (rc == UTXO_ERR_TX_REJECTED)
        printf("rejected %s (%s): %s [%d], input %u: the predicate exited with %u\n", hex, where,
               utxo_strerror(rc), rc, vd.input, vd.vm.exit_code);
    else
        printf("rejected %s (%s): %s [%d], input %u\n", hex, where, utxo_strerror(rc), rc,
               vd.input);
    if (r->expect && rc != want)
        printf("  MISMATCH: expected %d (%s)\n", want, want ? utxo_strerror(want) : "accepted");
}

/* The next line of f into *line (a buffer of *cap bytes, grown here; the
 * newline kept), at most max bytes: its length, -1 at the end of f, -2
 * when it is longer than max (so a file with no newline, /dev/zero, costs
 * max bytes, not all memory). */
static ssize_t bounded_line(FILE *f, char **line, size_t *cap, size_t max)
{
    size_t n = 0;
    int ch = EOF;

    while ((ch = getc(f)) != EOF) {
        if (n + 2 > *cap) {
            size_t nc = *cap < 256 ? 256 : *cap * 2;
            char *nl;
            if (n >= max)
                return -2;
            if (nc > max + 2)
                nc = max + 2;
            if ((nl = realloc(*line, nc)) == NULL)
                return -2;
            *line = nl;
            *cap = nc;
        }
        (*line)[n++] = (char)ch;
        if (ch == '\n')
            break;
    }
    if (n == 0)
        return -1;
    (*line)[n] = 0;
    return (ssize_t)n;
}

/* Submits every line of a list file; returns an exit code or -1 to go on. */
static int submit_list(seq_run *r, const char *path, const utxo_params *p)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    /* CODE, the hex of the largest transaction, and what it is */
    size_t max = 2 * (size_t)p->max_tx_bytes + 4096;
    ssize_t got;
    unsigned long no = 0;
    int ex = -1;

    if (f == NULL) {
        errorf("sequence: cannot open %s: %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    while (ex < 0 && (got = bounded_line(f, &line, &cap, max)) != -1) {
        if (got == -2) {
            errorf("sequence: %s line %lu: longer than %zu bytes (a transaction of at most %u "
                   "bytes in hex, and what it is)", path, no + 1, max, p->max_tx_bytes);
            ex = EXIT_USAGE;
            break;
        }
        char *tok = strtok(line, " \t\r\n"), *hex = tok, where[64];
        long want = 0;
        uint8_t *bin = NULL;
        size_t bl = 0, err_off = 0;
        utxo_tx *tx = NULL;
        int rc;
        no++;
        if (tok == NULL || tok[0] == '#')
            continue;
        if (strlen(tok) < 16) { /* CODE HEX ... */
            char *end;
            want = strtol(tok, &end, 10);
            hex = strtok(NULL, " \t\r\n");
            if (*end != 0 || hex == NULL) {
                errorf("sequence: %s line %lu: want HEX or CODE HEX", path, no);
                ex = EXIT_USAGE;
                break;
            }
        }
        if (hex_decode(hex, &bin, &bl) != 0) {
            errorf("sequence: %s line %lu: not hex", path, no);
            ex = EXIT_USAGE;
            break;
        }
        snprintf(where, sizeof where, "%s:%lu", path, no);
        rc = utxo_tx_from_bytes(&tx, bin, bl, p, &err_off);
        free(bin);
        if (rc != UTXO_OK) {
            /* refused before the mempool: counts as a rejection with the decoder's code */
            r->rejected++;
            if (r->expect && rc != want)
                r->mismatched++;
            if (r->as_json) {
                jw_begin_object(r->j);
                jw_key(r->j, "source");
                jw_str(r->j, where);
                jw_key(r->j, "code");
                jw_i64(r->j, rc);
                jw_key(r->j, "reason");
                jw_str(r->j, utxo_strerror(rc));
                jw_key(r->j, "byte");
                jw_u64(r->j, err_off);
                if (r->expect) {
                    jw_key(r->j, "expected");
                    jw_i64(r->j, want);
                }
                jw_end_object(r->j);
            } else {
                printf("rejected (%s): not a valid transaction encoding: %s [%d] at byte %zu\n",
                       where, utxo_strerror(rc), rc, err_off);
                if (r->expect && rc != want)
                    printf("  MISMATCH: expected %d (%s)\n", (int)want,
                           want ? utxo_strerror((int)want) : "accepted");
            }
            continue;
        }
        submit_one(r, tx, (int)want, where);
        utxo_tx_free(tx);
    }
    if (ex < 0 && ferror(f)) {
        errorf("sequence: cannot read %s: %s", path, strerror(errno));
        ex = EXIT_USAGE;
    }
    free(line);
    fclose(f);
    return ex;
}

int cmd_sequence(int argc, char **argv)
{
    const char *dir = NULL, *list = NULL, *db = NULL;
    const char **files = calloc((size_t)argc, sizeof *files);
    size_t n_files = 0;
    bool check = false, commit = false;
    uint64_t blocks = 0, t = (uint64_t)time(NULL), po2 = 18, threads = 0;
    seq_run r;
    json j;
    utxo_store *store = NULL;
    char msg[512];
    int rc, ex = EXIT_USAGE;

    static const struct option opts[] = {
        {"dir", required_argument, NULL, 'd'},
        {"txs", required_argument, NULL, 'x'},
        {"db", required_argument, NULL, 'D'},
        {"blocks", required_argument, NULL, 'b'},
        {"time", required_argument, NULL, 't'},
        {"po2", required_argument, NULL, 'p'},
        {"threads", required_argument, NULL, 'T'},
        {"check", no_argument, NULL, 'c'},
        {"expect", no_argument, NULL, 'e'},
        {"json", no_argument, NULL, 'j'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("sequence", sequence_usage, "d:", opts);

    memset(&r, 0, sizeof r);
    if (files == NULL)
        return EXIT_USAGE;
    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            ex = cl.status;
            goto done;
        case 'd': dir = optarg; break;
        case 'x': list = optarg; break;
        case 'D': db = optarg; break;
        case 'b':
            if (!cli_u64(&cl, 0, 1000000, &blocks))
                goto done;
            break;
        case 't':
            if (!cli_u64(&cl, 0, UINT64_MAX, &t))
                goto done;
            break;
        case 'p':
            if (!cli_u64(&cl, 0, UTXO_SEG_PO2_MAX, &po2))
                goto done;
            if (po2 != 0 && po2 < UTXO_SEG_PO2_MIN) {
                usage_error(cl.cmd, "--po2 wants 0 or %u..%u", UTXO_SEG_PO2_MIN, UTXO_SEG_PO2_MAX);
                goto done;
            }
            break;
        case 'T':
            if (!cli_u64(&cl, 0, 1024, &threads))
                goto done;
            break;
        case 'c': check = true; break;
        case 'e': r.expect = true; break;
        case 'j': r.as_json = true; break;
        }
    }
    for (int i = optind; i < argc; i++)
        files[n_files++] = argv[i];
    if (dir == NULL) {
        usage_error(cl.cmd, "name the chain directory with -d DIR");
        goto done;
    }
    if (db != NULL && !check) {
        if ((ex = store_cli_open(&store, db, NULL, 0, (unsigned)threads)) != EXIT_VALID)
            goto done;
        ex = EXIT_USAGE;
    }
    rc = chain_seq_open(&r.s, dir, store, (unsigned)threads, (unsigned)po2, msg, sizeof msg);
    if (rc != UTXO_OK) {
        errorf("sequence: %s", msg);
        /* a file that cannot be read whole is an I/O matter (as for verify);
         * blocks that do not follow are invalid */
        ex = rc == UTXO_ERR_IO || rc == UTXO_ERR_ARG || rc == UTXO_ERR_TRUNCATED ||
                     rc == UTXO_ERR_NOMEM || rc == UTXO_ERR_STORE_BUSY
                 ? EXIT_USAGE
                 : EXIT_INVALID;
        goto done;
    }
    if (store != NULL) {
        utxo_store_info info;
        utxo_store_get_info(store, &info);
        if (info.n_blocks != chain_seq_next_height(r.s) ||
            memcmp(info.tip_hash, bp_chain_tip_hash(chain_seq_chain(r.s)), UTXO_HASH_BYTES)) {
            errorf("sequence: the store %s holds %u blocks, the chain in %s %u (or another tip): "
                   "run `utxo replay %s/blocks --db %s` first",
                   db, info.n_blocks, dir, chain_seq_next_height(r.s), dir, db);
            goto done;
        }
    }
    if (r.as_json) {
        r.j = &j;
        jw_init(&j, stdout, true);
        jw_begin_object(&j);
        jw_key(&j, "submitted");
        jw_begin_array(&j);
    }
    for (size_t k = 0; k < n_files; k++) {
        uint8_t *bin = NULL;
        size_t bl = 0, err_off = 0;
        utxo_tx *tx = NULL;
        if (read_file(files[k], chain_seq_params(r.s)->max_tx_bytes, &bin, &bl) != 0)
            goto done;
        rc = utxo_tx_from_bytes(&tx, bin, bl, chain_seq_params(r.s), &err_off);
        free(bin);
        if (rc != UTXO_OK) {
            errorf("sequence: %s is not a transaction (%s at byte %zu)", files[k],
                   utxo_strerror(rc), err_off);
            ex = EXIT_INVALID;
            goto done;
        }
        submit_one(&r, tx, 0, files[k]);
        utxo_tx_free(tx);
    }
    if (list != NULL && (ex = submit_list(&r, list, chain_seq_params(r.s))) >= 0)
        goto done;
    ex = EXIT_USAGE;
    if (r.as_json)
        jw_end_array(&j);
    if (!check) {
        uint64_t sealed = 0;
        if (r.as_json) {
            jw_key(&j, "blocks");
            jw_begin_array(&j);
        }
        while (sealed < blocks || mp_count(chain_seq_mempool(r.s)) > 0) {
            chain_block_info info;
            char hex[2 * UTXO_HASH_BYTES + 1];
            if ((rc = chain_seq_seal(r.s, t, &info, msg, sizeof msg)) != UTXO_OK) {
                errorf("sequence: %s", msg);
                goto done;
            }
            sealed++;
            if (info.n_txs == 1 && mp_count(chain_seq_mempool(r.s)) > 0) {
                errorf("sequence: block %u took none of the %zu transactions left (internal "
                       "error: please report)", info.height, mp_count(chain_seq_mempool(r.s)));
                goto done;
            }
            hex_encode(hex, info.hash, sizeof info.hash);
            if (r.as_json) {
                jw_begin_object(&j);
                jw_key(&j, "height");
                jw_u64(&j, info.height);
                jw_key(&j, "hash");
                jw_str(&j, hex);
                jw_key(&j, "txs");
                jw_u64(&j, info.n_txs);
                jw_key(&j, "fees");
                jw_u64(&j, info.fees);
                jw_end_object(&j);
            } else {
                printf("sealed block %u %s: %u txs, %u inputs, fees %llu, %zu bytes\n",
                       info.height, hex, info.n_txs, info.n_inputs,
                       (unsigned long long)info.fees, info.block_bytes);
            }
        }
        if (r.as_json)
            jw_end_array(&j);
        commit = true;
    }
    if (r.as_json) {
        jw_key(&j, "accepted");
        jw_u64(&j, r.accepted);
        jw_key(&j, "rejected");
        jw_u64(&j, r.rejected);
        if (r.expect) {
            jw_key(&j, "mismatched");
            jw_u64(&j, r.mismatched);
        }
        jw_end_object(&j);
        if (jw_finish(&j) != 0)
            goto done;
    } else {
        printf("%llu accepted, %llu rejected", (unsigned long long)r.accepted,
               (unsigned long long)r.rejected);
        if (r.expect)
            printf(", %llu not as expected", (unsigned long long)r.mismatched);
        printf("%s\n", check ? " (checked only: nothing written)" : "");
    }
    ex = (r.expect ? r.mismatched == 0 : r.rejected == 0) ? EXIT_VALID : EXIT_INVALID;
done:
    if (r.s != NULL && chain_seq_close(r.s, commit) != UTXO_OK && ex == EXIT_VALID) {
        errorf("sequence: cannot replace the files in %s", dir);
        ex = EXIT_USAGE;
    }
    utxo_store_close(store);
    free(files);
    return ex;
}
