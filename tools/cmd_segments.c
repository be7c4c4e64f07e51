/*
 * cmd_segments.c — `utxo segments`: prove a predicate run into segment
 * receipts, verify a directory of them, or verify one receipt alone.
 *
 *   utxo segments prove IMG|ELF [--arg-hex HEX] [--budget N] [--po2 K]
 *                 [--page-limit N] [--tx FILE --input N [--height H]
 *                 [--chain-id HEX]] -o DIR [--json]
 *   utxo segments split IMG|ELF [the run options of prove] --every S -o DIR
 *   utxo segments prove-group DIR --group I/G
 *   utxo segments verify DIR [--threads N] [--json]
 *   utxo segments verify-one FILE [--tx FILE --input N [--height H]
 *                 [--chain-id HEX]] [--json]
 *
 * A proof directory holds seg-NNNNNN.rcpt (one receipt per segment, the
 * canonical encoding of docs/CONTINUATIONS.md), image (the canonical
 * predicate image), tx (a copy of --tx, if given) and manifest: text lines
 * "KEY VALUE" saying how to rebuild the run's context (format version,
 * predicate id, args hex, budget, page limit, po2, input, height, chain id,
 * segment count). `split` writes the same directory with a checkpoint
 * group-IIIIII.ckpt at the start of every S segments instead of receipts,
 * and `prove-group` proves one group from its checkpoint (on any machine
 * that sees DIR). The manifest only tells `verify` what to check against;
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
#include <sodium.h>
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
static int do_split(int argc, char **argv);
static int do_prove_group(int argc, char **argv);
static int prove_or_split(int argc, char **argv, bool split);
static int do_verify(int argc, char **argv);
static int do_verify_one(int argc, char **argv);
static int do_jobs(int argc, char **argv);
static int do_linkup(int argc, char **argv);

static const cli_sub segments_subs[] = {
    {"prove", do_prove, "run a predicate, writing one receipt per segment into DIR"},
    {"split", do_split, "run a predicate once, writing a checkpoint per group of segments"},
    {"prove-group", do_prove_group, "prove one group of a split DIR from its checkpoint"},
    {"verify", do_verify, "check every receipt of DIR and that they chain into the run"},
    {"verify-one", do_verify_one, "check one receipt alone (FILE, or - for standard input)"},
    {"jobs", do_jobs, "print one 'segments verify --group' command per group of DIR"},
    {"linkup", do_linkup, "check that DIR's group results chain into the whole run"},
};

static void segments_usage(FILE *f)
{
    fprintf(f,
            "Usage: %s segments prove IMG|ELF [--arg-hex HEX] [--budget N] [--po2 K]\n"
            "                         [--page-limit N] [--tx FILE --input N [--height H]\n"
            "                         [--chain-id HEX]] -o DIR [--json] [--quiet] [--progress]\n"
            "       %s segments split IMG|ELF [run options as for prove] --every S -o DIR\n"
            "       %s segments prove-group DIR --group I/G\n"
            "       %s segments verify DIR [--threads N] [--json] [--quiet] [--progress]\n"
            "       %s segments verify DIR --group I/G [-o RESULT] [--threads N]\n"
            "       %s segments verify-one FILE [--tx FILE --input N [--height H]\n"
            "                         [--chain-id HEX]] [--json]\n"
            "       %s segments jobs DIR --groups G [--threads N] [--command PATH]\n"
            "       %s segments jobs DIR --prove [--command PATH]\n"
            "       %s segments linkup DIR\n"
            "\n",
            prog_name, prog_name, prog_name, prog_name, prog_name, prog_name, prog_name,
            prog_name, prog_name);
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
            "  --every S       split: a checkpoint every S segments, one group each;\n"
            "                  'prove-group DIR --group I/G' proves group I anywhere\n"
            "  --group I/G     verify only group I (from 0) of G equal groups of DIR's\n"
            "                  receipts and write its result (default DIR/group-III.result);\n"
            "                  'linkup DIR' then joins the G results (docs/CONTINUATIONS.md)\n"
            "  --progress      progress lines on stderr even when it is not a terminal\n"
            "                  (shown on a terminal otherwise, unless --quiet)\n"
            "prove and split remove DIR's manifest first and write it last; one of them\n"
            "writes DIR at a time, and prove-group only beside other groups (DIR/.lock).\n"
            "Exit: 0 accepted (and verified), 1 not accepted or invalid receipts, 2 usage/I/O.\n"
            "\n"
            "example:\n"
            "  %s segments prove work.img --arg-hex 204e0000 --po2 20 -o proof\n"
            "  %s segments verify proof --threads 2\n"
            "  %s segments verify-one proof/seg-000003.rcpt\n"
            "  %s segments jobs proof --groups 8 | parallel -j 2 && %s segments linkup proof\n"
            "  %s segments split work.img --arg-hex 204e0000 --every 8 -o proof\n"
            "  %s segments jobs proof --prove | parallel -j 2 && %s segments verify proof\n",
            prog_name, prog_name, prog_name, prog_name, prog_name, prog_name, prog_name,
            prog_name);
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

/* Checkpoints of `segments split`: DIR/group-IIIIII.ckpt, I = segment / every. */
typedef struct ckpt_ud {
    const char *dir;
    uint32_t every, groups;
    uint64_t bytes;
    int io_failed;
    progress pr;
} ckpt_ud;

static void ckpt_path(char *out, size_t n, const char *dir, uint32_t group)
{
    snprintf(out, n, "%s/group-%06u.ckpt", dir, group);
}

static int write_ckpt(void *ud, uint32_t segment, const uint8_t *bytes, size_t len)
{
    ckpt_ud *s = ud;
    char path[4096];

    ckpt_path(path, sizeof path, s->dir, segment / s->every);
    if (write_file(path, bytes, len) != 0)
        s->io_failed = 1;
    s->groups++;
    s->bytes += len;
    progress_update(&s->pr, s->groups, 0, 0);
    return s->io_failed;
}

/* The longest DIR whose file names (DIR/seg-NNNNNN.rcpt, up to ten digits;
 * DIR/group-NNNNNN.result) fit the 4096-byte paths built here: a longer
 * one is refused, never cut (cut paths would name one file for many). */
#define SEG_DIR_MAX (4096u - 40u)
static bool dir_fits(const char *cmd, const char *dir)
{
    if (strlen(dir) <= SEG_DIR_MAX)
        return true;
    usage_error(cmd, "DIR: the path is longer than %u bytes", SEG_DIR_MAX);
    return false;
}

/* Removes DIR/seg-NNNNNN.rcpt from `from` up to the first missing one:
 * receipts of an earlier, longer or other proof would extend the chain. */
static void remove_receipts(const char *dir, uint32_t from)
{
    char path[4096];
    for (uint32_t i = from;; i++) {
        snprintf(path, sizeof path, "%s/seg-%06u.rcpt", dir, i);
        if (unlink(path) != 0)
            break;
    }
}

static int do_prove(int argc, char **argv)
{
    return prove_or_split(argc, argv, false);
}

static int do_split(int argc, char **argv)
{
    return prove_or_split(argc, argv, true);
}

/* `segments prove` (split false) and `segments split` (true): the same run
 * options and directory; split writes checkpoints instead of receipts. */
static int prove_or_split(int argc, char **argv, bool split)
{
    const char *img_path = NULL, *arg_hex = NULL, *dir = NULL;
    txopts to = {NULL, NULL, 0, 0, NULL};
    uint64_t budget = SEG_DEFAULT_BUDGET, po2 = UTXO_SEG_PO2_DEFAULT,
             limit = UTXO_SEG_PAGE_LIMIT_DEFAULT, every = 0;
    bool have_budget = false, as_json = false;
    uint8_t *img = NULL, *args = NULL, *chain = NULL, id[UTXO_HASH_BYTES];
    size_t img_len = 0, args_len = 0;
    txenv te;
    sink_ud s = {0};
    ckpt_ud ck = {0};
    uint32_t n_segments = 0;
    utxo_vm_result res;
    char path[4096], *mtext = NULL;
    size_t mlen = 0;
    FILE *mf;
    int rc = EXIT_USAGE, prc, lock = -2;
    uint64_t t0, t1;

    enum { OPT_ARG_HEX = 256, OPT_BUDGET, OPT_PO2, OPT_LIMIT, OPT_JSON, OPT_EVERY };
    static const struct option opts[] = {
        {"arg-hex", required_argument, NULL, OPT_ARG_HEX},
        {"every", required_argument, NULL, OPT_EVERY},
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
    cli cl = CLI_INIT(split ? "segments split" : "segments prove", segments_usage, "o:", opts);
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
        case OPT_EVERY:
            if (!split)
                return usage_error(cl.cmd, "--every belongs to 'segments split'");
            if (!cli_u64(&cl, 1, UINT32_MAX, &every))
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
    if (!dir_fits(cl.cmd, dir))
        return EXIT_USAGE;
    if (split && every == 0)
        return usage_error(cl.cmd, "--every S (segments per group) is required");
    /* an image that is not one is invalid data (1), as for `predicate run` */
    if ((rc = load_image(img_path, (size_t)16 << 20, &img, &img_len)) != EXIT_VALID)
        return rc;
    rc = EXIT_USAGE;
    utxo_predicate_id(id, img, img_len);
    if (arg_hex && hex_decode(arg_hex, &args, &args_len) != 0) {
        usage_error(cl.cmd, "--arg-hex: not a hex string");
        goto out;
    }
    if (parse_chain_id(cl.cmd, to.chain_hex, &chain) != 0)
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
    /* prove and split rewrite DIR (exclusive); prove-group writes its own
     * receipts beside other groups' (shared): DIR/.lock */
    if ((lock = dir_lock(cl.cmd, dir, true)) == -1)
        goto out;
    /* what was there is no longer a whole proof: without its manifest, a
     * run that fails half way leaves nothing that reads as one */
    snprintf(path, sizeof path, "%s/manifest", dir);
    if (unlink(path) != 0 && errno != ENOENT) {
        errorf("%s: %s", path, strerror(errno));
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
    t0 = clock_now_ns();
    if (split) {
        ck.dir = dir;
        ck.every = (uint32_t)every;
        progress_begin(&ck.pr, progress_mode(quiet, forced), "segments split", "groups");
        prc = utxo_segments_split(&res, &n_segments, img, img_len, args, args_len,
                                  to.tx_path ? &te.ctx : NULL, budget, (unsigned)po2,
                                  (uint32_t)limit, (uint32_t)every, write_ckpt, &ck);
        progress_end(&ck.pr, prc == UTXO_OK);
    } else {
        s.dir = dir;
        progress_begin(&s.pr, progress_mode(quiet, forced), "segments prove", "segments");
        prc = utxo_segments_prove(&res, img, img_len, args, args_len,
                                  to.tx_path ? &te.ctx : NULL, budget, (unsigned)po2,
                                  (uint32_t)limit, write_receipt, &s);
        progress_end(&s.pr, prc == UTXO_OK);
        n_segments = s.n;
    }
    t1 = clock_now_ns();
    if (prc != UTXO_OK) {
        errorf("%s: cannot %s the run: %s", img_path, split ? "split" : "prove",
               s.io_failed || ck.io_failed ? "cannot write a file" : utxo_strerror(prc));
        rc = prc == UTXO_ERR_SEG_HOSTCALL ? EXIT_INVALID : EXIT_USAGE;
        goto out;
    }
    if (split) {
        /* the receipts and checkpoints of an earlier split or proof are
         * not of this one */
        remove_receipts(dir, 0);
        for (uint32_t i = ck.groups;; i++) {
            ckpt_path(path, sizeof path, dir, i);
            if (unlink(path) != 0)
                break;
        }
    } else {
        remove_receipts(dir, s.n);
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
    fprintf(mf, "segments %u\n", n_segments);
    if (fclose(mf) != 0) {
        errorf("%s: out of memory", path);
        goto out;
    }
    if (write_file(path, (const uint8_t *)mtext, mlen) != 0)
        goto out;
    if (as_json) {
        json j;
        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "id");
        jw_hex(&j, id, sizeof id);
        json_outcome(&j, &res, false);
        jw_key(&j, "po2");
        jw_u64(&j, po2);
        jw_key(&j, "segments");
        jw_u64(&j, n_segments);
        if (split) {
            jw_key(&j, "groups");
            jw_u64(&j, ck.groups);
            jw_key(&j, "every");
            jw_u64(&j, every);
        }
        jw_key(&j, "bytes");
        jw_u64(&j, split ? ck.bytes : s.bytes);
        if (!split) {
            jw_key(&j, "witness_pages");
            jw_u64(&j, s.witness_pages);
        }
        jw_key(&j, "ms");
        jw_u64(&j, (t1 - t0) / 1000000);
        jw_end_object(&j);
        jw_finish(&j);
    } else {
        printf("%s %s%s%s cycles=%" PRIu64 " segments=%u", split ? "split" : "proved",
               outcome_str(res.status), res.status == UTXO_VM_FAILED ? " reason=" : "",
               res.status == UTXO_VM_FAILED ? utxo_vm_fail_str(res.fail) : "", res.cycles,
               n_segments);
        if (split)
            printf(" groups=%u every=%" PRIu64, ck.groups, every);
        printf(" bytes=%" PRIu64 " dir=%s\n", split ? ck.bytes : s.bytes, dir);
    }
    rc = res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    if (lock >= 0)
        close(lock);
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
    uint8_t *hex = NULL;
    size_t len = 0, hex_len = 0, k = 0;
    int rc = EXIT_USAGE;

    memset(m, 0, sizeof *m);
    snprintf(path, sizeof path, "%s/manifest", dir);
    char *text;
    if (read_text(path, 1 << 22, "a segments manifest", &text, &len) != 0)
        return EXIT_USAGE;
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
        uint64_t *num = NULL, lo = 0, hi = UINT64_MAX;
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
        case 4: num = &m->page_limit, hi = UTXO_SEG_PAGE_LIMIT_MAX; break;
        case 5: num = &m->po2, lo = UTXO_SEG_PO2_MIN, hi = UTXO_SEG_PO2_MAX; break;
        case 6:
            if (strcmp(val, "yes") != 0 && strcmp(val, "no") != 0)
                goto bad;
            m->tx = strcmp(val, "yes") == 0;
            break;
        case 7: num = &m->input, hi = UINT32_MAX; break;
        case 8: num = &m->height, hi = UINT32_MAX; break;
        case 10: num = &m->segments; break;
        }
        /* every number within what its field can be: none is cut to fit */
        if (num && (!parse_u64(val, num) || *num < lo || *num > hi))
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
    jw_init(j, stdout, false);
    jw_begin_object(j);
    jw_key(j, "valid");
    jw_bool(j, vrc == UTXO_OK);
    jw_key(j, "error");
    if (vrc == UTXO_OK)
        jw_null(j);
    else
        jw_str(j, utxo_strerror(vrc));
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

/* ---- groups: one run's receipts verified in G jobs, then linked up ------- */

/* Most groups a run is cut into (each a job of its own). */
#define SEG_GROUPS_MAX 100000u
#define SGR_MAGIC "UTXOSGR1"
/* magic 8, version 4, run key 32, groups 4, group 4, segments 8, first 8,
 * count 8, verdict 4, po2 4, pre 32, post 32, cycles before 8, after 8,
 * final 1, status 1, fail 4, exit code 4, cycles 8, checksum 32 */
#define SGR_BODY (8 + 4 + 32 + 4 + 4 + 8 + 8 + 8 + 4 + 4 + 32 + 32 + 8 + 8 + 1 + 1 + 4 + 4 + 8)
#define SGR_BYTES (SGR_BODY + 32)

/* A group result file (docs/CONTINUATIONS.md, "Groups"). */
typedef struct sgr {
    uint8_t run_key[UTXO_HASH_BYTES];
    uint32_t groups, group;
    uint64_t segments, first, count;
    uint32_t verdict;                 /* 0 valid, else the utxo_err code */
    utxo_seg_group g;
} sgr;

/* "I/G" with 0 <= I < G <= SEG_GROUPS_MAX. */
static bool parse_group(const char *s, uint32_t *i, uint32_t *g)
{
    char a[32];
    const char *slash = strchr(s, '/');
    uint64_t x, y;
    if (!slash || (size_t)(slash - s) >= sizeof a)
        return false;
    memcpy(a, s, (size_t)(slash - s));
    a[slash - s] = 0;
    if (!parse_u64(a, &x) || !parse_u64(slash + 1, &y) || y == 0 || y > SEG_GROUPS_MAX || x >= y)
        return false;
    *i = (uint32_t)x;
    *g = (uint32_t)y;
    return true;
}

/* Group i of g over n receipts: [n*i/g, n*(i+1)/g). */
static void group_span(uint64_t n, uint32_t i, uint32_t g, uint64_t *first, uint64_t *count)
{
    uint64_t a = n * i / g, b = n * ((uint64_t)i + 1) / g;
    *first = a;
    *count = b - a;
}

static void putb(uint8_t **p, const uint8_t *b, size_t n)
{
    memcpy(*p, b, n);
    *p += n;
}

static void sgr_encode(uint8_t out[SGR_BYTES], const sgr *r)
{
    uint8_t *p = out;
    const utxo_seg_group *g = &r->g;
    putb(&p, (const uint8_t *)SGR_MAGIC, 8);
    le_put(&p, 1, 4);
    putb(&p, r->run_key, UTXO_HASH_BYTES);
    le_put(&p, r->groups, 4);
    le_put(&p, r->group, 4);
    le_put(&p, r->segments, 8);
    le_put(&p, r->first, 8);
    le_put(&p, r->count, 8);
    le_put(&p, r->verdict, 4);
    le_put(&p, g->po2, 4);
    putb(&p, g->pre_digest, UTXO_HASH_BYTES);
    putb(&p, g->post_digest, UTXO_HASH_BYTES);
    le_put(&p, g->cycles_before, 8);
    le_put(&p, g->cycles_after, 8);
    le_put(&p, (uint64_t)g->final, 1);
    le_put(&p, (uint64_t)g->res.status, 1);
    le_put(&p, (uint64_t)g->res.fail, 4);
    le_put(&p, g->res.exit_code, 4);
    le_put(&p, g->res.cycles, 8);
    crypto_generichash(p, UTXO_HASH_BYTES, out, SGR_BODY, NULL, 0);
}

/* Strict: size, magic, version, checksum, and fields in range. */
static bool sgr_decode(sgr *r, const uint8_t *b, size_t len)
{
    uint8_t sum[UTXO_HASH_BYTES];
    const uint8_t *p = b + 12;
    utxo_seg_group *g = &r->g;

    memset(r, 0, sizeof *r);
    if (len != SGR_BYTES || memcmp(b, SGR_MAGIC, 8) != 0 || b[8] != 1 || b[9] || b[10] || b[11])
        return false;
    crypto_generichash(sum, sizeof sum, b, SGR_BODY, NULL, 0);
    if (sodium_memcmp(sum, b + SGR_BODY, sizeof sum) != 0)
        return false;
    memcpy(r->run_key, p, UTXO_HASH_BYTES);
    p += UTXO_HASH_BYTES;
    r->groups = (uint32_t)le_get(&p, 4);
    r->group = (uint32_t)le_get(&p, 4);
    r->segments = le_get(&p, 8);
    r->first = le_get(&p, 8);
    r->count = le_get(&p, 8);
    r->verdict = (uint32_t)le_get(&p, 4);
    g->po2 = (unsigned)le_get(&p, 4);
    memcpy(g->pre_digest, p, UTXO_HASH_BYTES);
    p += UTXO_HASH_BYTES;
    memcpy(g->post_digest, p, UTXO_HASH_BYTES);
    p += UTXO_HASH_BYTES;
    g->cycles_before = le_get(&p, 8);
    g->cycles_after = le_get(&p, 8);
    g->final = (int)le_get(&p, 1);
    g->res.status = (int)le_get(&p, 1);
    g->res.fail = (int)le_get(&p, 4);
    g->res.exit_code = (uint32_t)le_get(&p, 4);
    g->res.cycles = le_get(&p, 8);
    g->first = (size_t)r->first;
    g->count = (size_t)r->count;
    return r->groups >= 1 && r->groups <= SEG_GROUPS_MAX && r->group < r->groups &&
           g->final <= 1 && r->first <= r->segments && r->count <= r->segments - r->first;
}

/* The run a proof directory describes, for group jobs and link-up: the
 * manifest read strictly, the image checked against it, the transaction
 * context, and the run key: BLAKE2b-256 over the manifest, image and tx
 * files (each length-prefixed), which every group result carries. */
typedef struct seg_dir {
    manifest m;
    txenv te;
    uint8_t *img;
    size_t img_len;
    uint8_t run_key[UTXO_HASH_BYTES];
} seg_dir;

static void seg_dir_free(seg_dir *d)
{
    free(d->img);
    free(d->m.args);
    txenv_free(&d->te);
}

static void key_part(crypto_generichash_state *h, const uint8_t *p, size_t n)
{
    uint8_t len[8], *q = len;
    le_put(&q, n, 8);
    crypto_generichash_update(h, len, sizeof len);
    if (n)
        crypto_generichash_update(h, p, n);
}

/* EXIT_VALID, or EXIT_USAGE / EXIT_INVALID after a message. */
static int seg_dir_open(seg_dir *d, const char *dir)
{
    char path[4096];
    uint8_t id[UTXO_HASH_BYTES], *mraw = NULL;
    size_t mlen = 0;
    crypto_generichash_state h;

    memset(d, 0, sizeof *d);
    if (manifest_read(&d->m, dir) != EXIT_VALID)
        return EXIT_USAGE;
    snprintf(path, sizeof path, "%s/image", dir);
    if (read_file(path, UTXO_IMAGE_MAX_BYTES, &d->img, &d->img_len) != 0)
        return EXIT_USAGE;
    utxo_predicate_id(id, d->img, d->img_len);
    if (memcmp(id, d->m.id, sizeof id) != 0) {
        errorf("%s: the image is not the manifest's predicate", path);
        return EXIT_INVALID;
    }
    if (d->m.tx) {
        snprintf(path, sizeof path, "%s/tx", dir);
        if (txenv_load(&d->te, path, d->m.input, d->m.height, d->m.have_chain ? d->m.chain : NULL,
                       id) != EXIT_VALID)
            return EXIT_USAGE;
    }
    if (d->m.segments > UINT32_MAX) {
        errorf("%s/manifest: %" PRIu64 " segments is more than a run can have", dir, d->m.segments);
        return EXIT_USAGE;
    }
    snprintf(path, sizeof path, "%s/manifest", dir);
    if (read_file(path, 1 << 22, &mraw, &mlen) != 0)
        return EXIT_USAGE;
    crypto_generichash_init(&h, (const uint8_t *)"utxo segments run", 17, UTXO_HASH_BYTES);
    key_part(&h, mraw, mlen);
    key_part(&h, d->img, d->img_len);
    key_part(&h, d->m.tx ? d->te.raw : NULL, d->m.tx ? d->te.raw_len : 0);
    crypto_generichash_final(&h, d->run_key, UTXO_HASH_BYTES);
    free(mraw);
    return EXIT_VALID;
}

static void default_result_path(char *out, size_t n, const char *dir, uint32_t i)
{
    snprintf(out, n, "%s/group-%06u.result", dir, i);
}

/* `segments verify DIR --group I/G [-o RESULT]`. */
static int verify_group(const char *dir, uint32_t group, uint32_t groups, const char *out_path,
                        unsigned threads)
{
    seg_dir d;
    dir_loader dl;
    utxo_seg_run run;
    sgr r;
    uint8_t bytes[SGR_BYTES];
    char path[4096];
    int rc, vrc;

    if ((rc = seg_dir_open(&d, dir)) != EXIT_VALID)
        goto out;
    rc = EXIT_USAGE;
    if (groups > (d.m.segments ? d.m.segments : 1)) {
        errorf("%s: %u groups of %" PRIu64 " receipts: at most one group per receipt", dir,
               groups, d.m.segments);
        goto out;
    }
    memset(&r, 0, sizeof r);
    memcpy(r.run_key, d.run_key, sizeof r.run_key);
    r.groups = groups;
    r.group = group;
    r.segments = d.m.segments;
    group_span(d.m.segments, group, groups, &r.first, &r.count);
    /* the manifest's count is a claim: every receipt file of the group is
     * there before anything is allocated per receipt */
    for (uint64_t k = r.first; k < r.first + r.count; k++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/seg-%06" PRIu64 ".rcpt", dir, k);
        if (stat(path, &st) != 0) {
            errorf("%s: cannot verify group %u/%u: %s: %s (the manifest says %" PRIu64
                   " receipts)", dir, group, groups, path, strerror(errno), d.m.segments);
            goto out;
        }
    }
    memset(&dl, 0, sizeof dl);
    dl.dir = dir;
    dl.n = (size_t)r.count;
    pthread_mutex_init(&dl.lock, NULL);
    progress_begin(&dl.pr, progress_mode(true, false), "segments verify", "segments");
    memset(&run, 0, sizeof run);
    run.img = d.img;
    run.img_len = d.img_len;
    run.args = d.m.args;
    run.args_len = d.m.args_len;
    run.ctx = d.m.tx ? &d.te.ctx : NULL;
    run.budget = d.m.budget;
    run.page_limit = (uint32_t)d.m.page_limit;
    run.n_receipts = (size_t)d.m.segments;
    run.load = load_receipt_file;
    run.load_ud = &dl;
    vrc = utxo_segments_verify_group(&r.g, &run, (size_t)r.first, (size_t)r.count, threads);
    pthread_mutex_destroy(&dl.lock);
    if (vrc == UTXO_OK)
        vrc = run.rc;
    if (vrc == UTXO_ERR_NOMEM || vrc == UTXO_ERR_ARG || vrc == UTXO_ERR_IO) {
        errorf("%s: cannot verify group %u/%u: %s%s", dir, group, groups, utxo_strerror(vrc),
               vrc == UTXO_ERR_IO ? " (a receipt file is missing or unreadable)" : "");
        goto out;
    }
    r.verdict = (uint32_t)vrc;
    sgr_encode(bytes, &r);
    if (!out_path) {
        default_result_path(path, sizeof path, dir, group);
        out_path = path;
    }
    if (write_file(out_path, bytes, sizeof bytes) != 0)
        goto out;
    if (vrc != UTXO_OK)
        printf("invalid group=%u/%u segments=%" PRIu64 "..%" PRIu64 " error=\"%s\"\n", group,
               groups, r.first, r.first + r.count - 1, utxo_strerror(vrc));
    else
        printf("valid group=%u/%u segments=%" PRIu64 "..%" PRIu64 " cycles=%" PRIu64 "..%" PRIu64
               "%s%s\n", group, groups, r.first, r.first + r.count - (r.count > 0),
               r.g.cycles_before, r.g.cycles_after, r.g.final ? " final=" : "",
               r.g.final ? outcome_str(r.g.res.status) : "");
    rc = vrc == UTXO_OK ? EXIT_VALID : EXIT_INVALID;
out:
    seg_dir_free(&d);
    return rc;
}

/* ---- prove-group: one group of a split run, on any machine --------------- */

/* Reads DIR/group-I.ckpt (bounded by the run's page limit) and checks it
 * is group I of the split DIR's manifest describes: *g_out groups of span
 * segments. EXIT_VALID, or EXIT_USAGE / EXIT_INVALID after a message. */
static int read_ckpt(const seg_dir *d, const char *dir, uint32_t group, uint8_t **raw,
                     size_t *len, utxo_checkpoint_info *info, uint32_t *g_out)
{
    char path[4096];
    size_t off = 0, max = UTXO_CKPT_BYTES(d->m.page_limit);
    int vrc;

    ckpt_path(path, sizeof path, dir, group);
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        errorf("%s: no checkpoint for group %u: run 'segments split ... -o %s' first", path,
               group, dir);
        return EXIT_USAGE;
    }
    if (read_file(path, max, raw, len) != 0)
        return EXIT_USAGE;
    if ((vrc = utxo_checkpoint_info_get(info, *raw, *len, &off)) != UTXO_OK) {
        errorf("%s: not a checkpoint (byte %zu): %s", path, off, utxo_strerror(vrc));
        return EXIT_INVALID;
    }
    *g_out = (uint32_t)((d->m.segments + info->span - 1) / info->span);
    if ((uint64_t)info->segment != (uint64_t)group * info->span || group >= *g_out) {
        errorf("%s: checkpoint of segment %u (span %u), not of group %u of this split", path,
               info->segment, info->span, group);
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

static void prove_group_usage(FILE *f)
{
    fprintf(f, "Usage: %s segments prove-group DIR --group I/G [--quiet] [--progress]\n"
               "\n"
               "Proves group I of the G groups of a run that 'segments split ... -o DIR'\n"
               "cut, from its checkpoint DIR/group-IIIIII.ckpt alone, writing the\n"
               "group's receipts DIR/seg-NNNNNN.rcpt: byte for byte those 'segments\n"
               "prove' writes. When every group is proven, 'segments verify DIR' (or\n"
               "'segments jobs DIR --groups G' and 'segments linkup DIR') checks them.\n"
               "G must be the split's (segments jobs DIR --prove prints the commands).\n"
               "A checkpoint is not trusted: a wrong one gives receipts that do not chain.\n"
               "Exit: 0 proven (the last group: and the run accepted), 1 the last group\n"
               "proves another outcome, or a checkpoint of another run or split; 2 usage/I/O.\n"
               "\nexample:\n"
               "  %s segments split work.img --arg-hex 204e0000 --every 16 -o proof\n"
               "  %s segments jobs proof --prove | parallel -j 2\n"
               "  %s segments verify proof\n",
            prog_name, prog_name, prog_name, prog_name);
}

static int do_prove_group(int argc, char **argv)
{
    static const struct option opts[] = {
        {"group", required_argument, NULL, 'g'},
        {"quiet", no_argument, NULL, 'q'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("segments prove-group", prove_group_usage, "q", opts);
    uint32_t group = 0, groups = 0, split_groups = 0;
    bool quiet = false, forced = false;
    utxo_checkpoint_info info;
    utxo_vm_result res;
    uint8_t *raw = NULL;
    size_t len = 0, off = 0;
    sink_ud s = {0};
    seg_dir d;
    int rc, prc, fin = 0, lock = -2;

    memset(&d, 0, sizeof d);
    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case 'g':
            if (!parse_group(optarg, &group, &groups))
                return usage_error(cl.cmd, "--group wants I/G with 0 <= I < G <= %u",
                                   SEG_GROUPS_MAX);
            break;
        case 'q': quiet = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return rc;
    if (groups == 0)
        return usage_error(cl.cmd, "--group I/G is required");
    const char *dir = argv[optind];
    if (!dir_fits(cl.cmd, dir))
        return EXIT_USAGE;
    if ((lock = dir_lock(cl.cmd, dir, false)) == -1)
        return EXIT_USAGE;
    if ((rc = seg_dir_open(&d, dir)) != EXIT_VALID)
        goto out;
    if ((rc = read_ckpt(&d, dir, group, &raw, &len, &info, &split_groups)) != EXIT_VALID)
        goto out;
    rc = EXIT_INVALID;
    if (split_groups != groups) {
        errorf("%s: the split made %u groups of %u segments, not %u", dir, split_groups,
               info.span, groups);
        goto out;
    }
    s.dir = dir;
    s.n = info.segment;
    progress_begin(&s.pr, progress_mode(quiet, forced), "segments prove-group", "segments");
    prc = utxo_segments_prove_from(&res, &fin, raw, len, &off, d.img, d.img_len, d.m.args,
                                   d.m.args_len, d.m.tx ? &d.te.ctx : NULL, d.m.budget,
                                   (unsigned)d.m.po2, (uint32_t)d.m.page_limit, write_receipt, &s);
    progress_end(&s.pr, prc == UTXO_OK);
    if (prc != UTXO_OK) {
        if (s.io_failed || prc == UTXO_ERR_NOMEM || prc == UTXO_ERR_IO)
            rc = EXIT_USAGE;
        errorf("%s: cannot prove group %u/%u: %s", dir, group, groups,
               s.io_failed ? "cannot write a receipt"
               : prc == UTXO_ERR_SEG_RUN ? "the checkpoint is of another run"
                                         : utxo_strerror(prc));
        goto out;
    }
    uint64_t expect = group + 1 == groups ? d.m.segments : (uint64_t)s.n;
    if (s.n != expect || fin != (group + 1 == groups)) {
        errorf("%s: group %u/%u %s at segment %u, but the split's run has %" PRIu64
               " segments: the checkpoint is not of this split", dir, group, groups,
               fin ? "ended the run" : "stopped", s.n, d.m.segments);
        goto out;
    }
    printf("proved group=%u/%u segments=%u..%u bytes=%" PRIu64, group, groups, info.segment,
           s.n - 1, s.bytes);
    if (fin)
        printf(" final=%s%s%s cycles=%" PRIu64, outcome_str(res.status),
               res.status == UTXO_VM_FAILED ? " reason=" : "",
               res.status == UTXO_VM_FAILED ? utxo_vm_fail_str(res.fail) : "", res.cycles);
    putchar('\n');
    rc = !fin || res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    if (lock >= 0)
        close(lock);
    free(raw);
    seg_dir_free(&d);
    return rc;
}

static void jobs_usage(FILE *f)
{
    fprintf(f, "Usage: %s segments jobs DIR --groups G [--threads N] [--command PATH]\n"
               "       %s segments jobs DIR --prove [--command PATH]\n"
               "\n"
               "Prints G command lines, one per group of DIR's receipts:\n"
               "  PATH segments verify DIR --group I/G --threads N\n"
               "(PATH default utxo, N default 1), for GNU parallel (one job per\n"
               "line) or a Slurm job array (task I runs line I+1); then\n"
               "'utxo segments linkup DIR'. With --prove, for a DIR that 'segments\n"
               "split' wrote, one line per checkpoint instead:\n"
               "  PATH segments prove-group DIR --group I/G\n"
               "Give DIR as every machine sees it (printed quoted for sh, after ./ when\n"
               "it starts with a dash).\n"
               "\nexample:\n"
               "  %s segments jobs proof --prove | parallel -j 2\n"
               "  %s segments jobs proof --groups 8 | parallel -j 2\n"
               "  %s segments linkup proof\n",
            prog_name, prog_name, prog_name, prog_name, prog_name);
}

/* Single-quotes s for sh. */
static void put_quoted(const char *s)
{
    putchar('\'');
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", stdout);
        else
            putchar(*s);
    putchar('\'');
}

/* DIR as an operand of the printed command: quoted, and after "./" when it
 * starts with a dash, which the command would parse as options. */
static void put_dir(const char *dir)
{
    if (dir[0] == '-')
        fputs("./", stdout);
    put_quoted(dir);
}

/* `segments jobs DIR --prove`: one prove-group line per checkpoint. */
static int prove_jobs(const char *cmd, const char *dir, const char *command, bool have_groups)
{
    utxo_checkpoint_info info;
    uint8_t *raw = NULL;
    size_t len = 0;
    uint32_t groups = 0;
    seg_dir d;
    int rc;

    if (have_groups)
        return usage_error(cmd, "--groups is for verify jobs: with --prove the split decided G");
    if ((rc = seg_dir_open(&d, dir)) == EXIT_VALID && d.m.segments > 0 &&
        (rc = read_ckpt(&d, dir, 0, &raw, &len, &info, &groups)) == EXIT_VALID) {
        for (uint32_t i = 0; i < groups; i++) {
            put_quoted(command);
            fputs(" segments prove-group ", stdout);
            put_dir(dir);
            printf(" --group %u/%u\n", i, groups);
        }
        rc = fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
    }
    free(raw);
    seg_dir_free(&d);
    return rc;
}

static int do_jobs(int argc, char **argv)
{
    uint64_t groups = 0, threads = 1;
    num_opt nums[] = {
        {"--groups", &groups, 1, SEG_GROUPS_MAX, false},
        {"--threads", &threads, 1, 1024, false},
    };
    static const struct option opts[] = {
        {"groups", required_argument, NULL, CLI_NUM},
        {"threads", required_argument, NULL, CLI_NUM},
        {"command", required_argument, NULL, 'c'},
        {"prove", no_argument, NULL, 'p'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("segments jobs", jobs_usage, "", opts);
    const char *command = "utxo";
    bool prove = false;
    manifest m;
    int rc;

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        if (rc == CLI_STOP)
            return cl.status;
        if (rc == 'c')
            command = optarg;
        if (rc == 'p')
            prove = true;
        if (rc == CLI_NUM && !cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
            return EXIT_USAGE;
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return rc;
    if (!dir_fits(cl.cmd, argv[optind]))
        return EXIT_USAGE;
    if (prove)
        return prove_jobs(cl.cmd, argv[optind], command, groups != 0);
    if (groups == 0)
        return usage_error(cl.cmd, "--groups G is required");
    if (manifest_read(&m, argv[optind]) != EXIT_VALID)
        return EXIT_USAGE;
    free(m.args);
    if (groups > (m.segments ? m.segments : 1)) {
        errorf("%s: %" PRIu64 " groups of %" PRIu64 " receipts: at most one group per receipt",
               argv[optind], groups, m.segments);
        return EXIT_USAGE;
    }
    for (uint64_t i = 0; i < groups; i++) {
        put_quoted(command);
        fputs(" segments verify ", stdout);
        put_dir(argv[optind]);
        printf(" --group %" PRIu64 "/%" PRIu64 " --threads %" PRIu64 "\n", i, groups, threads);
    }
    return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}

static void linkup_usage(FILE *f)
{
    fprintf(f, "Usage: %s segments linkup DIR\n"
               "\n"
               "Joins the group results of DIR (group-III.result, written by\n"
               "'segments verify DIR --group I/G'): every group valid, of this run,\n"
               "each starting where the one before it ended, the last one ending the\n"
               "run. Prints the run's proven outcome like 'segments verify'. The\n"
               "result files are trusted: their checksum catches damage, not forgery.\n"
               "Exit: 0 accepted, 1 a group invalid, damaged, foreign or out of line,\n"
               "or a proven outcome other than acceptance; 2 usage/I/O (a group's\n"
               "result missing or unreadable: no verdict).\n"
               "\nexample:\n  %s segments linkup proof\n",
            prog_name, prog_name);
}

static int do_linkup(int argc, char **argv)
{
    static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    cli cl = CLI_INIT("segments linkup", linkup_usage, "", opts);
    seg_dir d;
    sgr r, prev;
    char path[4096];
    uint8_t *raw = NULL;
    size_t len = 0;
    uint32_t groups = 0;
    int rc;

    while ((rc = cli_next(&cl, argc, argv)) != -1)
        if (rc == CLI_STOP)
            return cl.status;
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return rc;
    const char *dir = argv[optind];
    if (!dir_fits(cl.cmd, dir))
        return EXIT_USAGE;
    if ((rc = seg_dir_open(&d, dir)) != EXIT_VALID)
        goto out;
    rc = EXIT_INVALID;
    memset(&prev, 0, sizeof prev);
    for (uint32_t i = 0; i == 0 || i < groups; i++) {
        uint64_t first, count;
        default_result_path(path, sizeof path, dir, i);
        if (access(path, F_OK) != 0 && errno == ENOENT) {
            errorf("group %u: no result (%s): run 'segments verify %s --group %u/%u'", i, path,
                   dir, i, groups ? groups : 1);
            rc = EXIT_USAGE; /* no verdict, as for a result that cannot be read */
            goto out;
        }
        free(raw);
        raw = NULL;
        if (read_file(path, SGR_BYTES + 1, &raw, &len) != 0) {
            rc = EXIT_USAGE;
            goto out;
        }
        if (!sgr_decode(&r, raw, len)) {
            errorf("group %u: %s is not a group result (damaged or another format)", i, path);
            goto out;
        }
        if (i == 0)
            groups = r.groups;
        if (memcmp(r.run_key, d.run_key, sizeof r.run_key) != 0) {
            errorf("group %u: %s is a result of another run", i, path);
            goto out;
        }
        group_span(d.m.segments, i, groups, &first, &count);
        if (r.groups != groups || r.group != i || r.segments != d.m.segments || r.first != first ||
            r.count != count) {
            errorf("group %u: %s is group %u/%u, not group %u/%u of these %" PRIu64 " receipts",
                   i, path, r.group, r.groups, i, groups, d.m.segments);
            goto out;
        }
        if (r.verdict != 0) {
            errorf("group %u (segments %" PRIu64 "..%" PRIu64 "): invalid: %s", i, first,
                   first + count - 1, utxo_strerror((int)r.verdict));
            goto out;
        }
        if (i > 0 && (memcmp(r.g.pre_digest, prev.g.post_digest, UTXO_HASH_BYTES) != 0 ||
                      r.g.po2 != prev.g.po2 || r.g.cycles_before != prev.g.cycles_after)) {
            errorf("group %u (segments %" PRIu64 "..%" PRIu64 "): does not start where group %u "
                   "ended", i, first, first + count - 1, i - 1);
            goto out;
        }
        if (r.g.final != (i + 1 == groups)) {
            errorf("group %u: %s", i, r.g.final ? "ends the run before the last group"
                                                : "the last group does not end the run");
            goto out;
        }
        prev = r;
    }
    printf("valid %s%s%s exit=%u cycles=%" PRIu64 " segments=%" PRIu64 " groups=%u\n",
           outcome_str(prev.g.res.status), prev.g.res.status == UTXO_VM_FAILED ? " reason=" : "",
           prev.g.res.status == UTXO_VM_FAILED ? utxo_vm_fail_str(prev.g.res.fail) : "",
           prev.g.res.exit_code, prev.g.res.cycles, d.m.segments, groups);
    rc = prev.g.res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    free(raw);
    seg_dir_free(&d);
    return rc;
}

static int do_verify(int argc, char **argv)
{
    const char *dir = NULL, *out_path = NULL;
    uint32_t group = 0, groups = 0;
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

    enum { OPT_THREADS = 256, OPT_JSON, OPT_GROUP };
    static const struct option opts[] = {
        {"threads", required_argument, NULL, OPT_THREADS},
        {"json", no_argument, NULL, OPT_JSON},
        {"group", required_argument, NULL, OPT_GROUP},
        {"output", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        CLI_PROGRESS_OPTION,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    bool quiet = false, forced = false;
    cli cl = CLI_INIT("segments verify", segments_usage, "o:", opts);
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
        case OPT_GROUP:
            if (!parse_group(optarg, &group, &groups))
                return usage_error(cl.cmd, "--group wants I/G with 0 <= I < G <= %u",
                                   SEG_GROUPS_MAX);
            break;
        case 'o': out_path = optarg; break;
        case 'q': quiet = true; break;
        case CLI_PROGRESS: forced = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "DIR")) != 0)
        return rc;
    if (out_path && groups == 0)
        return usage_error(cl.cmd, "-o names a group result: it needs --group I/G");
    if (groups && as_json)
        return usage_error(cl.cmd, "--json is not available with --group (the result file is the output)");
    rc = EXIT_USAGE;
    dir = argv[optind];
    if (!dir_fits(cl.cmd, dir))
        return EXIT_USAGE;
    if (groups)
        return verify_group(dir, group, groups, out_path, (unsigned)threads);
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
        jw_key(&j, "segments");
        jw_u64(&j, n);
        if (vrc == UTXO_OK)
            json_outcome(&j, &res, true);
        jw_key(&j, "ms");
        jw_u64(&j, (t1 - t0) / 1000000);
        jw_end_object(&j);
        jw_finish(&j);
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
    txopts to = {NULL, NULL, 0, 0, NULL};
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
    if (parse_chain_id(cl.cmd, to.chain_hex, &chain) != 0)
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
        jw_key(&j, "index");
        jw_u64(&j, info.index);
        jw_key(&j, "po2");
        jw_u64(&j, info.po2);
        jw_key(&j, "final");
        jw_bool(&j, info.final);
        jw_key(&j, "witness_pages");
        jw_u64(&j, info.witness_pages);
        jw_key(&j, "bytes");
        jw_u64(&j, info.bytes);
        if (vrc == UTXO_OK) {
            jw_key(&j, "pre_digest");
            jw_hex(&j, chk.pre_digest, UTXO_HASH_BYTES);
            jw_key(&j, "post_digest");
            jw_hex(&j, chk.post_digest, UTXO_HASH_BYTES);
            jw_key(&j, "cycles_before");
            jw_u64(&j, chk.cycles_before);
            jw_key(&j, "cycles_after");
            jw_u64(&j, chk.cycles_after);
            if (chk.final) {
                jw_key(&j, "outcome");
                jw_begin_object(&j);
                json_outcome(&j, &chk.outcome, true);
                jw_end_object(&j);
            }
        }
        jw_end_object(&j);
        jw_finish(&j);
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
