/*
 * cmd_predicate.c — `utxo predicate`: build canonical images from ELF files,
 * print predicate ids, disassemble images, and run predicates.
 *
 *   utxo predicate build IN.elf -o OUT.img
 *   utxo predicate id IMG|ELF
 *   utxo predicate disasm IMG|ELF
 *   utxo predicate std [NAME PARAMS_HEX -o OUT.img]
 *   utxo predicate run IMG|ELF [--arg-hex HEX] [--budget N]
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

static void predicate_usage(FILE *f)
{
    fprintf(f,
            "usage: utxo predicate build IN.elf -o OUT.img\n"
            "       utxo predicate id IMG\n"
            "       utxo predicate disasm IMG\n"
            "       utxo predicate std [NAME PARAMS_HEX -o OUT.img]\n"
            "       utxo predicate run IMG [--arg-hex HEX] [--budget N]\n"
            "                          [--tx FILE --input N [--height H] [--chain-id HEX]]\n"
            "                          [--log] [--json]\n"
            "\n"
            "build   convert an RV32IM ELF executable to a canonical image; prints its id\n"
            "id      print the predicate id (BLAKE2b-256, tag utxo.predicate)\n"
            "disasm  list the image's segments, disassembling them as RV32IM\n"
            "std     list the standard templates, or build an instance of one from\n"
            "        its parameters (layouts in docs/PREDICATES.md); prints its id\n"
            "run     run the predicate; prints outcome, exit code and cycles\n"
            "\n"
            "IMG may also be an ELF executable (converted on the fly).\n"
            "run options:\n"
            "  --arg-hex HEX    argument bytes (default: none, or the input's witness args)\n"
            "  --budget N       cycle budget (default 100000000, or the input's budget)\n"
            "  --tx FILE        a canonical transaction: introspection host calls see it\n"
            "  --input N        which input of FILE runs (default 0)\n"
            "  --height H       block height seen by the predicate (default 0)\n"
            "  --chain-id HEX   chain id in the sighash (default: default parameters)\n"
            "  --log            print the predicate's debug log on stderr\n"
            "  --json           one JSON object on stdout\n"
            "The outputs spent by FILE are not known here: each has value 0 and no\n"
            "datum, and the running input's has the image's own predicate id.\n"
            "Exit status of run: 0 accepted, 1 rejected or failed, 2 usage or I/O.\n"
            "\n"
            "example:\n"
            "  utxo predicate build prog.elf -o prog.img && utxo predicate run prog.img --arg-hex 00\n");
}

static void print_id(const uint8_t *img, size_t len)
{
    uint8_t id[UTXO_HASH_BYTES];
    char hex[2 * UTXO_HASH_BYTES + 1];

    utxo_predicate_id(id, img, len);
    hex_encode(hex, id, sizeof id);
    printf("%s\n", hex);
}

static int do_build(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    uint8_t *img = NULL;
    size_t len = 0;
    int rc;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (in == NULL && argv[i][0] != '-')
            in = argv[i];
        else {
            predicate_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (in == NULL || out == NULL) {
        predicate_usage(stderr);
        return EXIT_USAGE;
    }
    if ((rc = load_image(in, FILE_MAX, &img, &len)) != EXIT_VALID)
        return rc;
    if (write_file(out, img, len) != 0) {
        free(img);
        return EXIT_USAGE;
    }
    print_id(img, len);
    free(img);
    return EXIT_VALID;
}

/* The one argument of `id` and `disasm`: an image (or ELF file) to load. */
static int load_image_arg(int argc, char **argv, uint8_t **img, size_t *len)
{
    *img = NULL;
    *len = 0;
    if (argc != 2) {
        predicate_usage(stderr);
        return EXIT_USAGE;
    }
    return load_image(argv[1], FILE_MAX, img, len);
}

static int do_id(int argc, char **argv)
{
    uint8_t *img;
    size_t len;
    int rc;

    if ((rc = load_image_arg(argc, argv, &img, &len)) != EXIT_VALID)
        return rc;
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

    if ((rc = load_image_arg(argc, argv, &img, &len)) != EXIT_VALID)
        return rc;
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

    if (argc == 1) {
        for (int k = 0; k < STDPRED_COUNT; k++) {
            const stdpred_template *row = stdpred_get(k);
            printf("%-9s %4zu bytes  ", row->name, row->image_len);
            print_id(row->image, row->image_len);
        }
        return EXIT_VALID;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (name == NULL)
            name = argv[i];
        else if (hex == NULL)
            hex = argv[i];
        else
            name = NULL, i = argc; /* too many: usage below */
    }
    if (name == NULL || hex == NULL || out == NULL) {
        predicate_usage(stderr);
        return EXIT_USAGE;
    }
    if ((t = stdpred_by_name(name)) != NULL)
        kind = t->kind;
    if (kind < 0) {
        errorf("predicate std: unknown template '%s' (see `utxo predicate std`)", name);
        return EXIT_USAGE;
    }
    if (hex_decode(hex, &params, &plen) != 0) {
        errorf("predicate std: parameters are not a hex string");
        return EXIT_USAGE;
    }
    rc = stdpred_instance(kind, params, plen, &img, &len);
    free(params);
    if (rc != UTXO_OK) {
        errorf("predicate std: not valid parameters for %s: %s (docs/PREDICATES.md)", name,
               t->params_doc);
        return EXIT_INVALID;
    }
    rc = write_file(out, img, len) == 0 ? EXIT_VALID : EXIT_USAGE;
    if (rc == EXIT_VALID)
        print_id(img, len);
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
    txopts to = {NULL, NULL, 0, 0};
    uint64_t budget = DEFAULT_BUDGET;
    bool have_budget = false, as_json = false, want_log = false;
    uint8_t *img = NULL, *args = NULL, *chain = NULL, id[UTXO_HASH_BYTES];
    size_t img_len = 0, args_len = 0;
    txenv te;
    utxo_vm_result res;
    int rc = EXIT_USAGE;

    memset(&te, 0, sizeof te);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (strcmp(a, "--arg-hex") == 0 && more)
            arg_hex = argv[++i];
        else if (strcmp(a, "--budget") == 0 && more && parse_u64(argv[i + 1], &budget))
            have_budget = true, i++;
        else if (txopts_parse(&to, argc, argv, &i, UINT32_MAX))
            continue;
        else if (strcmp(a, "--json") == 0)
            as_json = true;
        else if (strcmp(a, "--log") == 0)
            want_log = true;
        else if (img_path == NULL && (a[0] != '-' || strcmp(a, "-") == 0))
            img_path = a;
        else {
            errorf("predicate run: bad argument '%s'", a);
            predicate_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (img_path == NULL) {
        predicate_usage(stderr);
        return EXIT_USAGE;
    }
    if ((rc = load_image(img_path, FILE_MAX, &img, &img_len)) != EXIT_VALID)
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

        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "id");
        json_hex(&j, id, sizeof id);
        json_outcome(&j, &res, true);
        json_key(&j, "budget");
        json_u64(&j, budget);
        json_end_object(&j);
        json_finish(&j);
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
    if (argc < 2) {
        predicate_usage(stderr);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        predicate_usage(stdout);
        return EXIT_VALID;
    }
    if (strcmp(argv[1], "build") == 0)
        return do_build(argc - 1, argv + 1);
    if (strcmp(argv[1], "id") == 0)
        return do_id(argc - 1, argv + 1);
    if (strcmp(argv[1], "disasm") == 0)
        return do_disasm(argc - 1, argv + 1);
    if (strcmp(argv[1], "run") == 0)
        return do_run(argc - 1, argv + 1);
    if (strcmp(argv[1], "std") == 0)
        return do_std(argc - 1, argv + 1);
    errorf("predicate: unknown subcommand '%s'", argv[1]);
    predicate_usage(stderr);
    return EXIT_USAGE;
}
