/*
 * cmd_predicate.c — `utxo predicate`: build canonical images from ELF files,
 * print predicate ids, disassemble images, and run predicates.
 *
 *   utxo predicate build IN.elf -o OUT.img
 *   utxo predicate id IMG|ELF
 *   utxo predicate disasm IMG|ELF
 *   utxo predicate std [NAME PARAMS_HEX -o OUT.img]
 *   utxo predicate run IMG|ELF [--arg-hex HEX] [--budget N] [--no-jit]
 *                      [--tx FILE --input N [--height H] [--chain-id HEX]]
 *                      [--log] [--json]
 *
 * Wherever an image is read, a plain ELF executable is accepted too and
 * converted first (so a test program runs directly). run exits 0 only when
 * the predicate accepted, 1 when it rejected or failed, 2 on usage or I/O
 * errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/abi.h"
#include "commands.h"
#include "json.h"
#include "predicates/hostcall.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"
#include "rv_disasm.h"
#include "runctx.h"
#include "util.h"

#define FILE_MAX (64u << 20)
#define DEFAULT_BUDGET UINT64_C(100000000)

static int do_build(int argc, char **argv);
static int do_id(int argc, char **argv);
static int do_disasm(int argc, char **argv);
static int do_std(int argc, char **argv);
static int do_run(int argc, char **argv);

static const cli_sub predicate_subs[] = {
    {"build", do_build, "convert an RV32IM ELF executable to a canonical image; prints its id"},
    {"id", do_id, "print the predicate id (BLAKE2b-256, tag utxo.predicate)"},
    {"disasm", do_disasm, "list the image's segments, disassembling them as RV32IM"},
    {"std", do_std, "list the standard templates, or build an instance of one from its\n"
                    "              parameters (layouts in docs/PREDICATES.md); prints its id"},
    {"run", do_run, "run the predicate; prints outcome, exit code and cycles"},
};

static void predicate_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo predicate build IN.elf -o OUT.img\n"
            "       utxo predicate id IMG\n"
            "       utxo predicate disasm IMG\n"
            "       utxo predicate std [NAME PARAMS_HEX -o OUT.img]\n"
            "       utxo predicate run IMG [--arg-hex HEX] [--budget N]\n"
            "                          [--tx FILE --input N [--height H] [--chain-id HEX]]\n"
            "                          [--log] [--json] [--no-jit]\n"
            "\n");
    cli_list(f, "subcommands:", predicate_subs, sizeof predicate_subs / sizeof predicate_subs[0]);
    fprintf(f,
            "\n"
            "IMG may also be an ELF executable (converted on the fly); IN.elf and IMG\n"
            "may be - (standard input), OUT.img - (standard output).\n"
            "run options:\n"
            "  --arg-hex HEX    argument bytes (default: none, or the input's witness args)\n"
            "  --budget N       cycle budget (default 100000000, or the input's budget)\n"
            "  --tx FILE        a canonical transaction: introspection host calls see it\n"
            "  --input N        which input of FILE runs (default 0)\n"
            "  --height H       block height seen by the predicate (default 0)\n"
            "  --chain-id HEX   chain id in the sighash (default: default parameters)\n"
            "  --log            print the predicate's debug log on stderr\n"
            "  --json           one JSON object on stdout\n"
            "  --no-jit         interpreter only: no translating tier (same results)\n"
            "--input, --height and --chain-id need --tx.\n"
            "The outputs spent by FILE are not known here: each has value 0 and no\n"
            "datum, and the running input's has the image's own predicate id.\n"
            "Exit status of run: 0 accepted, 1 rejected or failed, 2 usage or I/O.\n"
            "\n"
            "example:\n"
            "  utxo predicate build prog.elf -o prog.img && utxo predicate run prog.img --arg-hex 00\n");
}

/* The predicate id of an image, on stdout, or on stderr when the image
 * itself went to stdout (-o -). */
static void print_id_to(FILE *f, const uint8_t *img, size_t len)
{
    uint8_t id[UTXO_HASH_BYTES];
    char hex[2 * UTXO_HASH_BYTES + 1];

    utxo_predicate_id(id, img, len);
    hex_encode(hex, id, sizeof id);
    fprintf(f, "%s\n", hex);
}

static void print_id(const uint8_t *img, size_t len)
{
    print_id_to(stdout, img, len);
}

static const struct option out_opts[] = {
    {"output", required_argument, NULL, 'o'},
    CLI_HELP_OPTION,
    {NULL, 0, NULL, 0},
};

/* The options of build and std (-o) and their operands: 0 or an exit status. */
static int parse_out(cli *cl, int argc, char **argv, const char **out)
{
    int c;

    *out = NULL;
    while ((c = cli_next(cl, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cl->status == EXIT_VALID ? -1 : cl->status;
        if (c == 'o')
            *out = optarg;
    }
    return 0;
}

static int do_build(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    uint8_t *img = NULL;
    size_t len = 0;
    int rc;

    cli cl = CLI_INIT("predicate build", predicate_usage, "o:", out_opts);

    if ((rc = parse_out(&cl, argc, argv, &out)) != 0)
        return rc < 0 ? EXIT_VALID : rc;
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "IN.elf")) != 0)
        return rc;
    in = argv[optind];
    if (out == NULL)
        return usage_error(cl.cmd, "-o OUT.img missing");
    if ((rc = load_image(in, FILE_MAX, &img, &len)) != EXIT_VALID)
        return rc;
    if (write_file(out, img, len) != 0) {
        free(img);
        return EXIT_USAGE;
    }
    print_id_to(strcmp(out, "-") == 0 ? stderr : stdout, img, len);
    free(img);
    return EXIT_VALID;
}

/* The one argument of `id` and `disasm`: an image (or ELF file) to load. */
static int load_image_arg(const char *cmd, int argc, char **argv, uint8_t **img, size_t *len)
{
    static const struct option opts[] = {CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
    cli cl = CLI_INIT(cmd, predicate_usage, "", opts);
    int c, rc;

    *img = NULL;
    *len = 0;
    while ((c = cli_next(&cl, argc, argv)) != -1)
        if (c == CLI_STOP)
            return cl.status == EXIT_VALID ? -1 : cl.status;
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "IMG")) != 0)
        return rc;
    return load_image(argv[optind], FILE_MAX, img, len);
}

static int do_id(int argc, char **argv)
{
    uint8_t *img;
    size_t len;
    int rc;

    if ((rc = load_image_arg("predicate id", argc, argv, &img, &len)) != EXIT_VALID)
        return rc < 0 ? EXIT_VALID : rc;
    print_id(img, len);
    free(img);
    return EXIT_VALID;
}

static int do_disasm(int argc, char **argv)
{
    uint8_t *img;
    size_t len;
    img_view v;
    int rc;

    if ((rc = load_image_arg("predicate disasm", argc, argv, &img, &len)) != EXIT_VALID)
        return rc < 0 ? EXIT_VALID : rc;
    if (img_view_decode(&v, img, len, NULL) != UTXO_OK) { /* validated by load_image */
        free(img);
        return EXIT_INVALID;
    }
    printf("# image %zu bytes, entry 0x%08x, %u segment(s), id ", len, v.entry, v.n_segs);
    print_id(img, len);
    for (uint32_t s = 0; s < v.n_segs; s++) {
        const vm_segment *g = &v.segs[s];
        bool params = g->vaddr == UTXO_ABI_PARAMS_BASE;

        printf("\n# segment %u: 0x%08x..0x%08x (%u bytes)%s\n", s, g->vaddr, g->vaddr + g->len,
               g->len, params ? " parameters" : "");
        for (uint32_t off = 0; off < g->len; off += 4) {
            uint32_t a = g->vaddr + off, w = 0, n = g->len - off < 4 ? g->len - off : 4;
            char text[96];

            for (uint32_t k = 0; k < n; k++)
                w |= (uint32_t)g->data[off + k] << (8 * k);
            if (params || n < 4 || a % 4 != 0)
                snprintf(text, sizeof text, ".word 0x%08x", w);
            else
                rv_disasm(text, sizeof text, a, w);
            printf("%08x%s %08x  %s\n", a, a == v.entry ? " <entry>" : "", w, text);
        }
    }
    free(img);
    return EXIT_VALID;
}

static int do_std(int argc, char **argv)
{
    const char *out = NULL, *name = NULL, *hex = NULL;
    const stdpred_template *t;
    uint8_t *params = NULL, *img = NULL;
    size_t plen = 0, len = 0;
    int kind = -1, rc;
    cli cl = CLI_INIT("predicate std", predicate_usage, "o:", out_opts);

    if ((rc = parse_out(&cl, argc, argv, &out)) != 0)
        return rc < 0 ? EXIT_VALID : rc;
    if (optind == argc && out == NULL) {
        for (int k = 0; k < STDPRED_COUNT; k++) {
            const stdpred_template *row = stdpred_get(k);
            printf("%-9s %4zu bytes  ", row->name, row->image_len);
            print_id(row->image, row->image_len);
        }
        return EXIT_VALID;
    }
    if ((rc = cli_operands(&cl, argc, argv, 2, 2, "NAME PARAMS_HEX")) != 0)
        return rc;
    name = argv[optind];
    hex = argv[optind + 1];
    if (out == NULL)
        return usage_error(cl.cmd, "-o OUT.img missing");
    if ((t = stdpred_by_name(name)) != NULL)
        kind = t->kind;
    if (kind < 0) {
        return usage_error(cl.cmd, "unknown template '%s' (`utxo predicate std` lists them)",
                           name);
    }
    if (hex_decode(hex, &params, &plen) != 0)
        return usage_error(cl.cmd, "parameters are not a hex string");
    rc = stdpred_instance(kind, params, plen, &img, &len);
    free(params);
    if (rc != UTXO_OK) {
        errorf("predicate std: not valid parameters for %s: %s (docs/PREDICATES.md)", name,
               t->params_doc);
        return EXIT_INVALID;
    }
    rc = write_file(out, img, len) == 0 ? EXIT_VALID : EXIT_USAGE;
    if (rc == EXIT_VALID)
        print_id_to(strcmp(out, "-") == 0 ? stderr : stdout, img, len);
    free(img);
    return rc;
}

static void log_to_stderr(void *ud, const uint8_t *p, size_t n)
{
    (void)ud;
    fprintf(stderr, "predicate log: ");
    for (size_t i = 0; i < n; i++)
        fputc(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.', stderr);
    fputc('\n', stderr);
}

static int do_run(int argc, char **argv)
{
    const char *img_path = NULL, *arg_hex = NULL;
    txopts to = {NULL, NULL, 0, 0, NULL};
    uint64_t budget = DEFAULT_BUDGET;
    bool have_budget = false, as_json = false, want_log = false;
    uint8_t *img = NULL, *args = NULL, *chain = NULL, id[UTXO_HASH_BYTES];
    size_t img_len = 0, args_len = 0;
    txenv te;
    utxo_vm_result res;
    int rc = EXIT_USAGE;

    enum { OPT_ARG_HEX = 256, OPT_BUDGET, OPT_JSON, OPT_LOG, OPT_NO_JIT };
    static const struct option opts[] = {
        {"arg-hex", required_argument, NULL, OPT_ARG_HEX},
        {"budget", required_argument, NULL, OPT_BUDGET},
        {"json", no_argument, NULL, OPT_JSON},
        {"log", no_argument, NULL, OPT_LOG},
        {"no-jit", no_argument, NULL, OPT_NO_JIT},
        TXOPTS_LONGOPTS,
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("predicate run", predicate_usage, "", opts);
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
        case OPT_JSON: as_json = true; break;
        case OPT_LOG: want_log = true; break;
        case OPT_NO_JIT:
            /* Machines made from here on read it (vm_jit_default). */
            setenv("UTXO_VM_JIT", "0", 1);
            break;
        default:
            if (txopts_opt(&to, &cl, c, UINT32_MAX) < 0)
                return EXIT_USAGE;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "IMG")) != 0 ||
        (rc = txopts_need_tx(&to, cl.cmd)) != 0)
        return rc;
    img_path = argv[optind];
    if ((rc = load_image(img_path, FILE_MAX, &img, &img_len)) != EXIT_VALID)
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
    if (want_log)
        hc_set_log(log_to_stderr, NULL);
    if (utxo_predicate_run(&res, img, img_len, args, args_len, to.tx_path ? &te.ctx : NULL,
                           budget) != UTXO_OK) {
        errorf("%s: cannot run the predicate", img_path);
        goto out;
    }
    hc_set_log(NULL, NULL);
    if (as_json) {
        json j;

        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "id");
        jw_hex(&j, id, sizeof id);
        json_outcome(&j, &res, true);
        jw_key(&j, "budget");
        jw_u64(&j, budget);
        jw_end_object(&j);
        jw_finish(&j);
    } else if (res.status == UTXO_VM_FAILED) {
        printf("failed reason=\"%s\" pc=0x%08x cycles=%llu\n", utxo_vm_fail_str(res.fail), res.pc,
               (unsigned long long)res.cycles);
    } else {
        printf("%s exit=%u cycles=%llu\n", outcome_str(res.status), res.exit_code,
               (unsigned long long)res.cycles);
    }
    rc = res.status == UTXO_VM_ACCEPTED ? EXIT_VALID : EXIT_INVALID;
out:
    free(img);
    free(args);
    free(chain);
    txenv_free(&te);
    return rc;
}

int cmd_predicate(int argc, char **argv)
{
    return cli_dispatch("predicate", predicate_usage, predicate_subs,
                        sizeof predicate_subs / sizeof predicate_subs[0], argc, argv);
}
