/*
 * cmd_segments.c — `utxo segments`: prove a predicate run into segment
 * receipts, verify a directory of them, or verify one receipt alone.
 *
 *   utxo segments prove IMG|ELF [--arg-hex HEX] [--budget N] [--po2 K]
 *                 [--page-limit N] [--tx FILE --input N [--height H]
 *                 [--chain-id HEX]] -o DIR [--json]
 *   utxo segments verify DIR [--threads N] [--json]
 *   utxo segments verify-one FILE [--tx FILE --input N [--height H]
 *                 [--chain-id HEX]] [--json]
 *
 * A proof directory holds seg-NNNNNN.rcpt (one receipt per segment, the
 * canonical encoding of docs/CONTINUATIONS.md), image (the canonical
 * predicate image), tx (a copy of --tx, if given) and manifest: text lines
 * "KEY VALUE" saying how to rebuild the run's context (format version,
 * predicate id, args hex, budget, page limit, po2, input, height, chain id,
 * segment count). The manifest only tells `verify` what to check against;
 * the receipts themselves are checked, never trusted.
 * Exit: 0 the run accepted (and, for verify, the receipts prove it), 1 a
 * proven outcome that is not acceptance or receipts that do not verify,
 * 2 usage or I/O.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo.h"
#include "utxo/segments.h"
#include "predicates/image.h"
#include "commands.h"
#include "bench.h"
#include "json.h"
#include "progress.h"
#include "runctx.h"
#include "util.h"

#define SEG_DEFAULT_BUDGET UINT64_C(100000000)

static int do_prove(int argc, char **argv);
static int do_verify(int argc, char **argv);
static int do_verify_one(int argc, char **argv);

static const cli_sub segments_subs[] = {
    {"prove", do_prove, "run a predicate, writing one receipt per segment into DIR"},
    {"verify", do_verify, "check every receipt of DIR and that they chain into the run"},
    {"verify-one", do_verify_one, "check one receipt alone (FILE, or - for standard input)"},
};

static void segments_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s segments prove IMG|ELF [--arg-hex HEX] [--budget N] [--po2 K]\n"
            "                         [--page-limit N] [--tx FILE --input N [--height H]\n"
            "                         [--chain-id HEX]] -o DIR [--json] [--quiet] [--progress]\n"
            "       %s segments verify DIR [--threads N] [--json] [--quiet] [--progress]\n"
            "       %s segments verify-one FILE [--tx FILE --input N [--height H]\n"
            "                         [--chain-id HEX]] [--json]\n"
            "\n",
            prog_name, prog_name, prog_name);
    cli_list(f, "subcommands:", segments_subs, sizeof segments_subs / sizeof segments_subs[0]);
    fprintf(f,
            "\n"
            "Splits a predicate run into segments of 2^K cycles (K 10..24, default 20)\n"
            "with one receipt each, and checks receipts by re-executing each segment\n"
            "over its memory witness: stateless and parallel, not succinct, not\n"
            "zero-knowledge (docs/CONTINUATIONS.md).\n"
            "  --budget N      cycle budget (default 100000000, or the input's with --tx)\n"
            "  --page-limit N  pages of 1 KiB the run may touch (default 16384)\n"
            "  --threads N     verify on N threads (default: one per CPU)\n"
            "  --progress      progress lines on stderr even when it is not a terminal\n"
            "                  (shown on a terminal otherwise, unless --quiet)\n"
            "Exit: 0 accepted (and verified), 1 not accepted or invalid receipts, 2 usage/I/O.\n"
            "\n"
            "example:\n"
            "  %s segments prove work.img --arg-hex 204e0000 --po2 20 -o proof\n"
            "  %s segments verify proof --threads 2\n"
            "  %s segments verify-one proof/seg-000003.rcpt\n",
            prog_name, prog_name, prog_name);
}

/* ---- prove ---------------------------------------------------------------- */

typedef struct sink_ud {
    const char *dir;
    uint32_t n;
    uint64_t bytes, witness_pages;
    int io_failed;
    progress pr; /* receipts written (the run's length is not known before) */
} sink_ud;

static int write_receipt(void *ud, utxo_receipt *r)
{
    sink_ud *s = ud;
    char path[4096];
    utxo_receipt_info info;
    size_t len;
    const uint8_t *b = utxo_receipt_bytes(r, &len);

    utxo_receipt_get_info(r, &info);
    snprintf(path, sizeof path, "%s/seg-%06u.rcpt", s->dir, s->n);
    if (write_file(path, b, len) != 0)
        s->io_failed = 1;
    s->n++;
    s->bytes += len;
    s->witness_pages += info.witness_pages;
    progress_update(&s->pr, s->n, 0, 0);
    utxo_receipt_free(r);
    return s->io_failed;
}

static void put_hex_line(FILE *f, const char *key, const uint8_t *p, size_t n)
{
    fprintf(f, "%s ", key);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", p[i]);
    fputc('\n', f);
}

static int do_prove(int argc, char **argv)
{
    const char *img_path = NULL, *arg_hex = NULL, *dir = NULL;
    txopts to = {NULL, NULL, 0, 0};
    uint64_t budget = SEG_DEFAULT_BUDGET, po2 = UTXO_SEG_PO2_DEFAULT,
             limit = UTXO_SEG_PAGE_LIMIT_DEFAULT;
    bool have_budget = false, as_json = false;
    uint8_t *img = NULL, *args = NULL, *chain = NULL, id[UTXO_HASH_BYTES];
    size_t img_len = 0, args_len = 0;
    txenv te;
    sink_ud s = {0};
    utxo_vm_result res;
    char path[4096], *mtext = NULL;
    size_t mlen = 0;
    FILE *mf;
    int rc = EXIT_USAGE, prc;
    uint64_t t0, t1;

    enum { OPT_ARG_HEX = 256, OPT_BUDGET, OPT_PO2, OPT_LIMIT, OPT_JSON };
    static const struct option opts[] = {
        {"arg-hex", required_argument, NULL, OPT_ARG_HEX},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"po2", required_argument, NULL, OPT_PO2},
        {"page-limit", required_argument, NULL, OPT_LIMIT},
        {"output", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        CLI_PROGRESS_OPTION,
        TXOPTS_LONGOPTS,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("segments prove", segments_usage, "o:", opts);
    bool quiet = false, forced = false;
    int c;

    memset(&te, 0, sizeof te);
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case OPT_ARG_HEX: arg_hex = optarg; break;
        case OPT_BUDGET:
            if (!cli_u64(&cl, 0, UINT64_MAX, &budget))
                return EXIT_USAGE;
            have_budget = true;
            break;
        case OPT_PO2:
            if (!cli_u64(&cl, UTXO_SEG_PO2_MIN, UTXO_SEG_PO2_MAX, &po2))
                return EXIT_USAGE;
            break;
        case OPT_LIMIT:
            if (!cli_u64(&cl, 1, UTXO_SEG_PAGE_LIMIT_MAX, &limit))
                return EXIT_USAGE;
            break;
        case 'o': dir = optarg; break;
        case OPT_JSON: as_json = true; break;
        case 'q': quiet = true; break;
        case CLI_PROGRESS: forced = true; break;
        default:
            if (txopts_opt(&to, &cl, c, UINT64_MAX) < 0)
                return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "IMG")) != 0)
        return rc;
    img_path = argv[optind];
    if (dir == NULL)
        return usage_error(cl.cmd, "-o DIR missing");
    /* an image that is not one is invalid data (1), as for `predicate run` */
    if ((rc = load_image(img_path, (size_t)16 << 20, &img, &img_len)) != EXIT_VALID)
        return rc;
    rc = EXIT_USAGE;
    utxo_predicate_id(id, img, img_len);
    if (arg_hex && hex_decode(arg_hex, &args, &args_len) != 0) {
        errorf("--arg-hex: not a hex string");
        goto out;
    }
    if (parse_chain_id(to.chain_hex, &chain) != 0)
        goto out;
    if (to.tx_path) {
        if (txenv_load(&te, to.tx_path, to.input, to.height, chain, id) != EXIT_VALID ||
            txenv_witness_defaults(&te, arg_hex != NULL, &args, &args_len, have_budget, &budget) !=
                EXIT_VALID)
            goto out;
    }
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        errorf("%s: %s", dir, strerror(errno));
        goto out;
    }
    snprintf(path, sizeof path, "%s/image", dir);
    if (write_file(path, img, img_len) != 0)
        goto out;
    if (to.tx_path) {
        snprintf(path, sizeof path, "%s/tx", dir);
        if (write_file(path, te.raw, te.raw_len) != 0)
            goto out;
    }
    s.dir = dir;
    progress_begin(&s.pr, progress_mode(quiet, forced), "segments prove", "segments");
    t0 = clock_now_ns();
    prc = utxo_segments_prove(&res, img, img_len, args, args_len, to.tx_path ? &te.ctx : NULL,
                              budget, (unsigned)po2, (uint32_t)limit, write_receipt, &s);
    t1 = clock_now_ns();
    progress_end(&s.pr, prc == UTXO_OK);
    if (prc != UTXO_OK) {
        errorf("%s: cannot prove the run: %s", img_path, s.io_failed ? "cannot write a receipt"
                                                                     : utxo_strerror(prc));
        rc = prc == UTXO_ERR_SEG_HOSTCALL ? EXIT_INVALID : EXIT_USAGE;
        goto out;
    }
    /* Receipts left by an earlier, longer proof into this directory would
     * extend the chain: remove them. */
    for (uint32_t i = s.n;; i++) {
        snprintf(path, sizeof path, "%s/seg-%06u.rcpt", dir, i);
        if (unlink(path) != 0)
            break;
    }
    /* the manifest is composed in memory and written atomically */
    snprintf(path, sizeof path, "%s/manifest", dir);
    if ((mf = open_memstream(&mtext, &mlen)) == NULL) {
        errorf("%s: %s", path, strerror(errno));
        goto out;
    }
    fprintf(mf, "utxo-segments 1\n");
    put_hex_line(mf, "predicate", id, sizeof id);
    put_hex_line(mf, "args", args, args_len);
    fprintf(mf, "budget %" PRIu64 "\npage_limit %" PRIu64 "\npo2 %" PRIu64 "\n", budget, limit, po2);
    fprintf(mf, "tx %s\ninput %" PRIu64 "\nheight %" PRIu64 "\n", to.tx_path ? "yes" : "no",
            to.input, to.height);
    if (chain)
        put_hex_line(mf, "chain_id", chain, UTXO_HASH_BYTES);
    fprintf(mf, "segments %u\n", s.n);
    if (fclose(mf) != 0) {
        errorf("%s: out of memory", path);
        goto out;
    }
    if (write_file(path, (const uint8_t *)mtext, mlen) != 0)
        goto out;
    if (as_json) {
        json j;
        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "id");
        json_hex(&j, id, sizeof id);
        json_outcome(&j, &res, false);
        json_key(&j, "po2");
        json_u64(&j, po2);
        json_key(&j, "segments");
        json_u64(&j, s.n);
        json_key(&j, "bytes");
        json_u64(&j, s.bytes);
        json_key(&j, "witness_pages");
        json_u64(&j, s.witness_pages);
        json_key(&j, "ms");
        json_u64(&j, (t1 - t0) / 1000000);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("proved %s%s%s cycles=%" PRIu64 " segments=%u bytes=%" PRIu64 " dir=%s\n",
               outcome_str(res.status), res.status == UTXO_VM_FAILED ? " reason=" : "",
               res.status == UTXO_VM_FAILED ? utxo_vm_fail_str(res.fail) : "", res.cycles, s.n,
               s.bytes, dir);
    }
    rc = res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    free(mtext);
    free(img);
    free(args);
    free(chain);
    txenv_free(&te);
    return rc;
}

/* ---- the manifest -------------------------------------------------------- */

typedef struct manifest {
    uint8_t id[UTXO_HASH_BYTES];
    uint8_t *args;
    size_t args_len;
    uint64_t budget, page_limit, po2, input, height, segments;
    bool tx, have_chain;
    uint8_t chain[UTXO_HASH_BYTES];
} manifest;

/* Strict: every key once, in this order, chain_id optional. */
static int manifest_read(manifest *m, const char *dir)
{
    static const char *const keys[] = {"utxo-segments", "predicate", "args", "budget",
                                       "page_limit", "po2", "tx", "input", "height",
                                       "chain_id", "segments"};
    char path[4096];
    uint8_t *raw = NULL, *hex = NULL;
    size_t len = 0, hex_len = 0, k = 0;
    int rc = EXIT_USAGE;

    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/manifest", dir);
    if (read_file(path, 1 << 22, &raw, &len) != 0)
        return EXIT_USAGE;
    char *text = malloc(len + 1);
    if (!text)
        goto out;
    memcpy(text, raw, len);
    text[len] = 0;
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n'), *sp;
        if (!nl)
            goto bad;
        *nl = 0;
        next = nl + 1;
        if ((sp = strchr(line, ' ')) == NULL)
            goto bad;
        *sp = 0;
        const char *val = sp + 1;
        while (k < sizeof keys / sizeof keys[0] && strcmp(line, keys[k]) != 0) {
            if (strcmp(keys[k], "chain_id") != 0)
                goto bad;
            k++;
        }
        if (k == sizeof keys / sizeof keys[0])
            goto bad;
        uint64_t *num = NULL;
        switch (k) {
        case 0: if (strcmp(val, "1") != 0) goto bad; break;
        case 1:
        case 9:
            if (hex_decode(val, &hex, &hex_len) != 0 || hex_len != UTXO_HASH_BYTES)
                goto bad;
            memcpy(k == 1 ? m->id : m->chain, hex, UTXO_HASH_BYTES);
            m->have_chain |= k == 9;
            free(hex);
            hex = NULL;
            break;
        case 2:
            if (hex_decode(val, &m->args, &m->args_len) != 0)
                goto bad;
            break;
        case 3: num = &m->budget; break;
        case 4: num = &m->page_limit; break;
        case 5: num = &m->po2; break;
        case 6:
            if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
                goto bad;
            m->tx = strcmp(val, "yes") == 0;
            break;
        case 7: num = &m->input; break;
        case 8: num = &m->height; break;
        case 10: num = &m->segments; break;
        }
        if (num && !parse_u64(val, num))
            goto bad;
        k++;
    }
    if (k != sizeof keys / sizeof keys[0])
        goto bad;
    rc = EXIT_VALID;
    goto out;
bad:
    errorf("%s: not a segments manifest (line of key %s)", path,
           k < sizeof keys / sizeof keys[0] ? keys[k] : "?");
out:
    free(text);
    free(raw);
    free(hex);
    return rc;
}

/* Reads a receipt file incrementally (utxo_receipt_read): a hostile file
 * is refused after its header and page numbers, never read whole. */
static int read_receipt(const char *path, utxo_receipt **r)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    size_t off = 0;
    int rc;

    *r = NULL;
    if (f == NULL) {
        errorf("cannot open %s: %s", path, strerror(errno));
        return EXIT_USAGE;
    }
    rc = utxo_receipt_read(r, f, &off);
    if (rc == UTXO_ERR_IO)
        errorf("cannot read %s: %s", path, strerror(errno));
    if (f != stdin)
        fclose(f);
    if (rc == UTXO_ERR_IO)
        return EXIT_USAGE;
    if (rc != UTXO_OK) {
        errorf("%s: not a receipt (byte %zu): %s", path, off, utxo_strerror(rc));
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

/* Opens the JSON object of a verification on stdout: keys valid and error
 * (null, or what vrc means). */
static void json_begin_verdict(json *j, int vrc)
{
    json_init(j, stdout, false);
    json_begin_object(j);
    json_key(j, "valid");
    json_bool(j, vrc == UTXO_OK);
    json_key(j, "error");
    if (vrc == UTXO_OK)
        json_null(j);
    else
        json_str(j, utxo_strerror(vrc));
}

/* The lazy loader of `segments verify`: receipt i is DIR/seg-i.rcpt, read
 * when a verifying thread gets to it, so memory holds one receipt per
 * thread. A file that does not decode makes the run invalid. */
typedef struct dir_loader {
    const char *dir;
    size_t n, loaded;      /* receipts in all, taken by the threads so far */
    pthread_mutex_t lock;  /* the threads share the display */
    progress pr;
} dir_loader;

static int load_receipt_file(void *ud, size_t i, utxo_receipt **out)
{
    dir_loader *dl = ud;
    char path[4096];
    FILE *f;
    int rc;

    *out = NULL;
    snprintf(path, sizeof path, "%s/seg-%06zu.rcpt", dl->dir, i);
    if ((f = fopen(path, "rb")) == NULL)
        return UTXO_ERR_IO;
    rc = utxo_receipt_read(out, f, NULL);
    fclose(f);
    pthread_mutex_lock(&dl->lock);
    dl->loaded++;
    progress_update(&dl->pr, dl->loaded, dl->loaded, dl->n);
    pthread_mutex_unlock(&dl->lock);
    return rc;
}

static int do_verify(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t threads = 0;
    bool as_json = false;
    manifest m;
    txenv te;
    uint8_t *img = NULL, id[UTXO_HASH_BYTES];
    size_t img_len = 0, n = 0;
    dir_loader dl;
    utxo_seg_run run;
    utxo_vm_result res;
    char path[4096];
    int rc = EXIT_USAGE, vrc;
    uint64_t t0, t1;

    enum { OPT_THREADS = 256, OPT_JSON };
    static const struct option opts[] = {
        {"threads", required_argument, NULL, OPT_THREADS},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    bool quiet = false, forced = false;
    cli cl = CLI_INIT("segments verify", segments_usage, "", opts);
    int c;

    memset(&te, 0, sizeof te);
    memset(&m, 0, sizeof m);
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case OPT_THREADS:
            if (!cli_u64(&cl, 0, 1024, &threads))
                return EXIT_USAGE;
            break;
        case OPT_JSON: as_json = true; break;
        case 'q': quiet = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return rc;
    rc = EXIT_USAGE;
    dir = argv[optind];
    if (manifest_read(&m, dir) != EXIT_VALID)
        goto out;
    snprintf(path, sizeof path, "%s/image", dir);
    if (read_file(path, UTXO_IMAGE_MAX_BYTES, &img, &img_len) != 0)
        goto out;
    utxo_predicate_id(id, img, img_len);
    if (memcmp(id, m.id, sizeof id) != 0) {
        errorf("%s: the image is not the manifest's predicate", path);
        rc = EXIT_INVALID;
        goto out;
    }
    if (m.tx) {
        snprintf(path, sizeof path, "%s/tx", dir);
        if (txenv_load(&te, path, m.input, m.height, m.have_chain ? m.chain : NULL, id) !=
            EXIT_VALID)
            goto out;
    }
    for (;;) { /* every seg-NNNNNN.rcpt from 0 up to the first missing one */
        struct stat st;
        snprintf(path, sizeof path, "%s/seg-%06zu.rcpt", dir, n);
        if (stat(path, &st) != 0)
            break;
        n++;
    }
    memset(&dl, 0, sizeof dl);
    dl.dir = dir;
    dl.n = n;
    pthread_mutex_init(&dl.lock, NULL);
    progress_begin(&dl.pr, progress_mode(quiet, forced), "segments verify", "segments");
    memset(&run, 0, sizeof run);
    run.img = img;
    run.img_len = img_len;
    run.args = m.args;
    run.args_len = m.args_len;
    run.ctx = m.tx ? &te.ctx : NULL;
    run.budget = m.budget;
    run.page_limit = (uint32_t)m.page_limit;
    run.n_receipts = n;
    run.load = load_receipt_file;
    run.load_ud = &dl;
    t0 = clock_now_ns();
    vrc = utxo_segments_verify_batch(&run, 1, (unsigned)threads);
    t1 = clock_now_ns();
    progress_end(&dl.pr, vrc == UTXO_OK && run.rc == UTXO_OK);
    pthread_mutex_destroy(&dl.lock);
    if (vrc == UTXO_OK)
        vrc = run.rc;
    if (vrc == UTXO_OK)
        res = run.res;
    if (vrc == UTXO_ERR_NOMEM || vrc == UTXO_ERR_ARG || vrc == UTXO_ERR_IO) {
        errorf("%s: cannot verify: %s", dir, utxo_strerror(vrc));
        goto out;
    }
    if (as_json) {
        json j;
        json_begin_verdict(&j, vrc);
        json_key(&j, "segments");
        json_u64(&j, n);
        if (vrc == UTXO_OK)
            json_outcome(&j, &res, true);
        json_key(&j, "ms");
        json_u64(&j, (t1 - t0) / 1000000);
        json_end_object(&j);
        json_finish(&j);
    } else if (vrc != UTXO_OK) {
        printf("invalid segments=%zu error=\"%s\"\n", n, utxo_strerror(vrc));
    } else {
        printf("valid %s%s%s exit=%u cycles=%" PRIu64 " segments=%zu\n", outcome_str(res.status),
               res.status == UTXO_VM_FAILED ? " reason=" : "",
               res.status == UTXO_VM_FAILED ? utxo_vm_fail_str(res.fail) : "", res.exit_code,
               res.cycles, n);
    }
    rc = vrc == UTXO_OK && res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    free(img);
    free(m.args);
    txenv_free(&te);
    return rc;
}

static int do_verify_one(int argc, char **argv)
{
    const char *file = NULL;
    txopts to = {NULL, NULL, 0, 0};
    bool as_json = false;
    uint8_t *chain = NULL;
    utxo_receipt *r = NULL;
    utxo_receipt_info info;
    utxo_receipt_check chk;
    txenv te;
    int rc = EXIT_USAGE, vrc;

    enum { OPT_JSON = 256 };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        TXOPTS_LONGOPTS,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("segments verify-one", segments_usage, "", opts);
    int c;

    memset(&te, 0, sizeof te);
    while ((c = cli_next(&cl, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cl.status;
        if (c == OPT_JSON)
            as_json = true;
        else if (txopts_opt(&to, &cl, c, UINT64_MAX) < 0)
            return EXIT_USAGE;
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "FILE")) != 0)
        return rc;
    rc = EXIT_USAGE;
    file = argv[optind];
    if (parse_chain_id(to.chain_hex, &chain) != 0)
        goto out;
    if ((rc = read_receipt(file, &r)) != EXIT_VALID)
        goto out;
    rc = EXIT_USAGE;
    utxo_receipt_get_info(r, &info);
    if (to.tx_path &&
        txenv_load(&te, to.tx_path, to.input, to.height, chain, info.predicate_id) != EXIT_VALID)
        goto out;
    vrc = utxo_receipt_verify(&chk, r, to.tx_path ? &te.ctx : NULL);
    if (vrc == UTXO_ERR_NOMEM || vrc == UTXO_ERR_ARG) {
        errorf("%s: cannot verify: %s", file, utxo_strerror(vrc));
        goto out;
    }
    if (as_json) {
        json j;
        json_begin_verdict(&j, vrc);
        json_key(&j, "index");
        json_u64(&j, info.index);
        json_key(&j, "po2");
        json_u64(&j, info.po2);
        json_key(&j, "final");
        json_bool(&j, info.final);
        json_key(&j, "witness_pages");
        json_u64(&j, info.witness_pages);
        json_key(&j, "bytes");
        json_u64(&j, info.bytes);
        if (vrc == UTXO_OK) {
            json_key(&j, "pre_digest");
            json_hex(&j, chk.pre_digest, UTXO_HASH_BYTES);
            json_key(&j, "post_digest");
            json_hex(&j, chk.post_digest, UTXO_HASH_BYTES);
            json_key(&j, "cycles_before");
            json_u64(&j, chk.cycles_before);
            json_key(&j, "cycles_after");
            json_u64(&j, chk.cycles_after);
            if (chk.final) {
                json_key(&j, "outcome");
                json_begin_object(&j);
                json_outcome(&j, &chk.outcome, true);
                json_end_object(&j);
            }
        }
        json_end_object(&j);
        json_finish(&j);
    } else if (vrc != UTXO_OK) {
        printf("invalid index=%u error=\"%s\"\n", info.index, utxo_strerror(vrc));
    } else {
        char pre[65], post[65];
        hex_encode(pre, chk.pre_digest, UTXO_HASH_BYTES);
        hex_encode(post, chk.post_digest, UTXO_HASH_BYTES);
        printf("valid index=%u cycles=%" PRIu64 "..%" PRIu64 " pre=%s post=%s%s%s\n", info.index,
               chk.cycles_before, chk.cycles_after, pre, post, chk.final ? " final=" : "",
               chk.final ? outcome_str(chk.outcome.status) : "");
    }
    rc = vrc == UTXO_OK ? EXIT_VALID : EXIT_INVALID;
out:
    utxo_receipt_free(r);
    free(chain);
    txenv_free(&te);
    return rc;
}

int cmd_segments(int argc, char **argv)
{
    return cli_dispatch("segments", segments_usage, segments_subs,
                        sizeof segments_subs / sizeof segments_subs[0], argc, argv);
}
