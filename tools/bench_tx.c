/*
 * bench_tx.c — `utxo bench tx`: what compact spends save (docs/ENCODING.md,
 * "Witness forms"). All figures are byte counts of the canonical encoding
 * (exact, not timed) except the last line, which times the one new piece
 * of per-input work against the work it sits beside.
 *
 *   bench tx kind=K form=F input_bytes=N witness_bytes=N
 *       one line per standard kind (p2pk, multisig 2-of-3, htlc claim with
 *       a 32-byte secret, rsa) and form (full = the image travels, form 1;
 *       compact = template index + parameters, form 2; reference = a code
 *       output holding the template, named by a reference input, + the
 *       parameters, form 3). input_bytes is what one more such input adds
 *       to a transaction (outpoint, form, template or reference number,
 *       budget, image or parameters, arguments; a second reference spend
 *       shares the first one's listing); witness_bytes its witness part.
 *   bench tx shape=1in2out|2in2out kind=p2pk form=F tx_bytes=N
 *   bench tx history avg_tx_bytes_full=X avg_tx_bytes=Y shrink=X/Y
 *       bundle_bytes_per_block_full=A bundle_bytes_per_block=B
 *       the generator's history (utxo gen, every transaction kind, coinbases
 *       included) made twice from one seed: with images, and as the
 *       builder makes it by default (standard predicates by template, the
 *       long runs by reference to a code output deployed in block 1);
 *       bundle bytes = the proof file's records per block (a block's
 *       bundle carries each referenced code output once).
 *   bench tx instance kind=p2pk build_and_hash_ns=... ed25519_verify_ns=... ratio=...
 *       building a pay-to-pubkey instance from its template and hashing it
 *       (what the validator does for a form-2 input instead of hashing the
 *       image it was sent) against one Ed25519 verify, interleaved.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "bench.h"
#include "chain/chain.h"
#include "predicates/stdpred.h"
#include "util.h"

#define SECRET_BYTES 32u

/* One spend of a standard kind: its template parameters and arguments. */
struct spend {
    const char *name;
    int kind;
    uint8_t params[4 + 3 * UTXO_PUBKEY_BYTES > UTXO_RSA_BYTES ? 4 + 3 * UTXO_PUBKEY_BYTES
                                                              : UTXO_RSA_BYTES];
    size_t params_len;
    size_t args_len;
    uint64_t budget;
};

static void make_spends(struct spend s[4])
{
    memset(s, 0, 4 * sizeof *s);
    s[0] = (struct spend){.name = "p2pk", .kind = UTXO_STD_P2PK, .params_len = 32,
                          .args_len = UTXO_SIG_BYTES};
    s[1] = (struct spend){.name = "multisig", .kind = UTXO_STD_MULTISIG, .params_len = 4 + 96,
                          .args_len = 4 + 2 * UTXO_SIG_BYTES};
    s[1].params[0] = 2;
    s[1].params[1] = 3;
    s[2] = (struct spend){.name = "htlc", .kind = UTXO_STD_HTLC, .params_len = 100,
                          .args_len = 1 + UTXO_SIG_BYTES + SECRET_BYTES};
    s[3] = (struct spend){.name = "rsa", .kind = UTXO_STD_RSA, .params_len = UTXO_RSA_BYTES,
                          .args_len = UTXO_RSA_BYTES};
    for (int k = 0; k < 4; k++) {
        uint8_t *p = s[k].params + (s[k].kind == UTXO_STD_MULTISIG ? 4 : 0);
        size_t n = s[k].params_len - (s[k].kind == UTXO_STD_MULTISIG ? 4 : 0);
        for (size_t i = 0; i < n; i++)
            p[i] = (uint8_t)(0x11 * (k + 1) + i); /* keys, hashes: any bytes */
    }
    s[3].params[0] |= 0x80; /* a 2048-bit odd modulus */
    s[3].params[UTXO_RSA_BYTES - 1] |= 1;
    s[0].budget = utxo_std_budget(UTXO_STD_P2PK, 1, 0);
    s[1].budget = utxo_std_budget(UTXO_STD_MULTISIG, 2, 0);
    s[2].budget = utxo_std_budget(UTXO_STD_HTLC, 1, SECRET_BYTES);
    s[3].budget = utxo_std_budget(UTXO_STD_RSA, 0, 0);
}

/* The forms measured: 0 full (an image, witness form 1), 1 compact (a
 * template, form 2), 2 reference (form 3: the template in a code output's
 * datum, named by a reference input all inputs share). */
static const char *const form_names[] = {"full", "compact", "reference"};

/* Adds n inputs spending s in the given form, and n_out outputs. */
static int add_spends(utxo_tx *tx, const struct spend *s, int form, unsigned n, unsigned n_out)
{
    uint8_t args[UTXO_RSA_BYTES], id[UTXO_HASH_BYTES];
    uint8_t *img = NULL;
    size_t img_len = 0;
    int rc;

    memset(args, 0x5a, sizeof args);
    memset(id, 0x77, sizeof id);
    if ((rc = stdpred_instance(s->kind, s->params, s->params_len, &img, &img_len)) != UTXO_OK)
        return rc;
    for (unsigned i = 0; i < n && rc == UTXO_OK; i++) {
        utxo_outpoint op, code;
        uint32_t k;
        memset(op.txid, 0x42, sizeof op.txid);
        op.index = i;
        memset(code.txid, 0x43, sizeof code.txid);
        code.index = 0;
        if (form == 2 && (rc = utxo_tx_add_ref(tx, &code, &k)) == UTXO_OK)
            rc = utxo_tx_add_input_ref(tx, &op, s->budget, k, s->params, (uint32_t)s->params_len,
                                       args, (uint32_t)s->args_len);
        else if (form == 1)
            rc = utxo_tx_add_input_template(tx, &op, s->budget, (unsigned)s->kind, s->params,
                                            (uint32_t)s->params_len, args, (uint32_t)s->args_len);
        else if (form == 0)
            rc = utxo_tx_add_input(tx, &op, s->budget, img, (uint32_t)img_len, args,
                                   (uint32_t)s->args_len);
    }
    for (unsigned j = 0; j < n_out && rc == UTXO_OK; j++)
        rc = utxo_tx_add_output(tx, 1000 + j, id, NULL, 0);
    free(img);
    return rc;
}

/* Bytes a transaction of n inputs of s and 1 output has, with and without witnesses. */
static int tx_len(const struct spend *s, int form, unsigned n, unsigned n_out, size_t *full,
                  size_t *base)
{
    utxo_tx *tx = utxo_tx_new();
    int rc = tx ? add_spends(tx, s, form, n, n_out) : UTXO_ERR_NOMEM;

    if (rc == UTXO_OK) {
        *full = utxo_tx_get_length(tx, true);
        *base = utxo_tx_get_length(tx, false);
    }
    utxo_tx_free(tx);
    return rc;
}

static int kind_lines(void)
{
    struct spend s[4];
    size_t f1, b1, f2, b2;

    make_spends(s);
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < 3; c++) {
            /* what a second input adds: the count stays one byte, and a
             * second reference spend shares the first one's listing */
            if (tx_len(&s[k], c, 1, 1, &f1, &b1) != UTXO_OK ||
                tx_len(&s[k], c, 2, 1, &f2, &b2) != UTXO_OK)
                return EXIT_INVALID;
            printf("bench tx kind=%s form=%s input_bytes=%zu witness_bytes=%zu\n", s[k].name,
                   form_names[c], f2 - f1, (f2 - b2) - (f1 - b1));
        }
    for (unsigned n = 1; n <= 2; n++)
        for (int c = 0; c < 3; c++) {
            if (tx_len(&s[0], c, n, 2, &f1, &b1) != UTXO_OK)
                return EXIT_INVALID;
            printf("bench tx shape=%uin2out kind=p2pk form=%s tx_bytes=%zu\n", n,
                   form_names[c], f1);
        }
    return EXIT_VALID;
}

/* Removes the chain directory gen_run made. */
static void remove_chain(const char *dir)
{
    static const char *const names[] = {CHAIN_BLOCKS_FILE, CHAIN_PROOFS_FILE, CHAIN_KEY_FILE,
                                        CHAIN_INVALID_FILE};
    char path[PATH_MAX];

    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Transactions, their bytes, blocks and bundle bytes of a generated history. */
struct hist {
    uint64_t txs, tx_bytes, blocks, bundle_bytes;
};

static int read_records(const char *dir, const char *name, int kind, struct hist *h)
{
    utxo_chainfile *f = NULL;
    utxo_params p;
    char path[PATH_MAX];
    uint8_t *rec;
    size_t len;
    int rc;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    if ((rc = utxo_chainfile_open(&f, path, kind, &p, NULL)) != UTXO_OK)
        return rc;
    while ((rc = utxo_chainfile_next(f, &rec, &len, NULL)) == UTXO_OK && rec != NULL) {
        if (kind == UTXO_CHAINFILE_PROOFS) {
            h->bundle_bytes += len;
        } else {
            utxo_block *b = NULL;
            rc = utxo_block_from_bytes(&b, rec, len, &p, NULL);
            for (uint32_t t = 0; rc == UTXO_OK && t < b->n_txs; t++)
                h->tx_bytes += utxo_tx_get_length(b->txs[t], true);
            if (rc == UTXO_OK) {
                h->txs += b->n_txs;
                h->blocks++;
            }
            utxo_block_free(b);
        }
        free(rec);
        if (rc != UTXO_OK)
            break;
    }
    (void)utxo_chainfile_close(f);
    return rc;
}

static int history(const gen_opts *base, bool full, struct hist *h)
{
    char dir[PATH_MAX / 4], sub[PATH_MAX / 2], msg[256];
    gen_opts o = *base;
    gen_stats st;
    int rc;

    memset(h, 0, sizeof *h);
    if (scratch_dir(dir, sizeof dir, "bench tx", "utxo-bench-tx") != 0)
        return UTXO_ERR_IO;
    snprintf(sub, sizeof sub, "%s/chain", dir); /* gen_run makes the chain directory */
    o.full_images = full;
    rc = gen_run(sub, &o, &st, NULL, NULL, msg, sizeof msg);
    if (rc != UTXO_OK)
        errorf("bench tx: %s", msg);
    if (rc == UTXO_OK)
        rc = read_records(sub, CHAIN_BLOCKS_FILE, UTXO_CHAINFILE_BLOCKS, h);
    if (rc == UTXO_OK)
        rc = read_records(sub, CHAIN_PROOFS_FILE, UTXO_CHAINFILE_PROOFS, h);
    remove_chain(sub);
    rmdir(dir);
    return rc;
}

static int history_line(uint32_t blocks)
{
    struct hist full, compact;
    gen_opts o;
    double xf, xc;

    gen_opts_default(&o);
    o.blocks = blocks;
    o.threads = 1;
    if (history(&o, true, &full) != UTXO_OK || history(&o, false, &compact) != UTXO_OK ||
        full.txs == 0 || compact.txs == 0 || full.blocks == 0 || compact.blocks == 0)
        return EXIT_INVALID;
    xf = (double)full.tx_bytes / (double)full.txs;
    xc = (double)compact.tx_bytes / (double)compact.txs;
    printf("bench tx history blocks=%u txs=%llu avg_tx_bytes_full=%.1f avg_tx_bytes=%.1f "
           "shrink=%.2f bundle_bytes_per_block_full=%.0f bundle_bytes_per_block=%.0f\n",
           blocks, (unsigned long long)compact.txs, xf, xc, xf / xc,
           (double)full.bundle_bytes / (double)full.blocks,
           (double)compact.bundle_bytes / (double)compact.blocks);
    return EXIT_VALID;
}

/* Building + hashing a p2pk instance vs one Ed25519 verify, interleaved. */
static int instance_line(int rounds)
{
    uint8_t pk[32], sk[64], sig[64], msg[32], id[UTXO_HASH_BYTES];
    utxo_witness w;
    uint64_t best_build = UINT64_MAX, best_verify = UINT64_MAX;
    const int n = 2000;

    crypto_sign_keypair(pk, sk);
    memset(msg, 3, sizeof msg);
    crypto_sign_detached(sig, NULL, msg, sizeof msg, sk);
    memset(&w, 0, sizeof w);
    w.form = UTXO_FORM_TEMPLATE;
    w.tmpl = UTXO_STD_P2PK;
    w.params = pk;
    w.params_len = sizeof pk;
    for (int r = 0; r < rounds; r++) {
        uint64_t tb = 0, tv = 0;
        for (int i = 0; i < n; i++) {
            const uint8_t *img;
            size_t len;
            uint8_t *owned;
            uint64_t t0 = clock_now_ns(), t1, t2;
            if (stdpred_witness_image(&w, NULL, 0, &img, &len, &owned) != UTXO_OK)
                return EXIT_INVALID;
            utxo_predicate_id(id, img, len);
            free(owned);
            t1 = clock_now_ns();
            if (crypto_sign_verify_detached(sig, msg, sizeof msg, pk) != 0)
                return EXIT_INVALID;
            t2 = clock_now_ns();
            tb += t1 - t0;
            tv += t2 - t1;
        }
        if (tb < best_build)
            best_build = tb;
        if (tv < best_verify)
            best_verify = tv;
    }
    printf("bench tx instance kind=p2pk build_and_hash_ns=%.0f ed25519_verify_ns=%.0f "
           "ratio=%.3f\n",
           (double)best_build / n, (double)best_verify / n,
           (double)best_build / (double)best_verify);
    return EXIT_VALID;
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench tx [--blocks N] [--rounds R]\n"
               "\n"
               "Witness and transaction bytes of each standard kind in full (image) and\n"
               "compact (template) form, the generated history's average transaction and\n"
               "proof bundle bytes per block both ways (N blocks, default 40), and building\n"
               "a pay-to-pubkey instance from its template against one Ed25519 verify\n"
               "(the least of R rounds, default 5).\n");
}

int bench_tx(int argc, char **argv)
{
    uint64_t blocks = 40, rounds = 5;
    num_opt nums[] = {
        {"--blocks", &blocks, 2, 100000, false},
        {"--rounds", &rounds, 1, 1000, false},
    };
    static const struct option opts[] = {
        {"blocks", required_argument, NULL, CLI_NUM},
        {"rounds", required_argument, NULL, CLI_NUM},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench tx", usage, "", opts);
    int rc;

    if ((rc = cli_nums_only(&cl, argc, argv, nums, sizeof nums / sizeof nums[0], 0, 0, "")) >= 0)
        return rc;
    if ((rc = kind_lines()) != EXIT_VALID)
        return rc;
    if ((rc = history_line((uint32_t)blocks)) != EXIT_VALID)
        return rc;
    return instance_line((int)rounds);
}
