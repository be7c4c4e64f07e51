/*
 * cmd_tx.c — `utxo tx`: decode a transaction to JSON, or check it against
 * the context-free rules.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "predicates/stdpred.h"
#include "commands.h"
#include "json.h"
#include "util.h"

static int tx_run(int argc, char **argv);

static const cli_sub tx_subs[] = {
    {"decode", tx_run, "print the transaction as JSON (ids, inputs, witnesses, outputs)"},
    {"check", tx_run, "apply the context-free rules (sizes, counts, duplicate inputs,\n"
                      "              value overflow, witnesses); exit 1 when one is broken"},
};

static void tx_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo tx decode [--hex] FILE|-\n"
            "       utxo tx check [--hex] [--json] [--chain BLOCKS] FILE|-\n"
            "\n");
    cli_list(f, "subcommands:", tx_subs, sizeof tx_subs / sizeof tx_subs[0]);
    fprintf(f,
            "\n"
            "FILE holds the canonical bytes (docs/ENCODING.md); with --hex it holds\n"
            "them as hexadecimal text. '-' reads standard input.\n"
            "check applies the limits of the chain whose block file is BLOCKS\n"
            "(--chain: the parameters in its header), in decoding too, as that\n"
            "chain's node does, else the default ones (docs/ENCODING.md).\n"
            "Exit status: 0 valid, 1 invalid, 2 usage or I/O.\n"
            "\n"
            "check --json prints one line: {\"valid\":true}, or {\"valid\":false,\n"
            "\"error\":CODE,\"reason\":TEXT,\"index\":N} with the rule's reason code and\n"
            "the output, input or reference at fault, or with \"offset\":N instead of\n"
            "\"index\" for bytes that do not decode (docs/ENCODING.md, \"Which code, in\n"
            "which order\").\n"
            "\n"
            "example:\n"
            "  utxo tx decode tests/vectors/tx_simple.bin\n"
            "  utxo tx check --chain chain.blocks --json spend.tx\n");
}

/* Loads and strictly decodes FILE (binary or --hex) within the limits of p;
 * prints a message that names the file and the failing byte offset on
 * error, and gives the decoder's code and offset in *err and *off
 * (EXIT_INVALID). */
static int load_tx(const char *path, bool hex, const utxo_params *p, utxo_tx **tx, int *err,
                   size_t *off_out)
{
    uint8_t *buf = NULL;
    size_t len = 0, raw_len = 0, off = 0;
    int rc;

    *tx = NULL;
    *err = UTXO_OK;
    *off_out = 0;
    if (hex) {
        char *text;
        if (read_text(path, UTXO_CAP_TX_BYTES * 2 + 2, "a hex string", &text, &raw_len) != 0)
            return EXIT_USAGE;
        /* tolerate trailing line ends in a hex file */
        while (raw_len > 0 && (text[raw_len - 1] == '\n' || text[raw_len - 1] == '\r'))
            text[--raw_len] = '\0';
        if (hex_decode(text, &buf, &len) != 0) {
            free(text);
            errorf("%s: not a hex string", path);
            return EXIT_USAGE;
        }
        free(text);
    } else if (read_file(path, UTXO_CAP_TX_BYTES * 2 + 2, &buf, &len) != 0) {
        return EXIT_USAGE;
    }
    rc = utxo_tx_from_bytes(tx, buf, len, p, &off);
    free(buf);
    if (rc != UTXO_OK) {
        errorf("%s: invalid transaction at byte %zu: %s", path, off, utxo_strerror(rc));
        *err = rc;
        *off_out = off;
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

/* tx check --json's document: valid, or the code, its text and where (the
 * index of the output, input or reference; for bytes that do not decode,
 * the offset of the failing byte instead). */
static void print_check_json(int err, const char *where, uint64_t at)
{
    json j;

    jw_init(&j, stdout, false);
    jw_begin_object(&j);
    jw_key(&j, "valid");
    jw_bool(&j, err == UTXO_OK);
    if (err != UTXO_OK) {
        jw_key(&j, "error");
        jw_i64(&j, err);
        jw_key(&j, "reason");
        jw_str(&j, utxo_strerror(err));
        jw_key(&j, where);
        jw_u64(&j, at);
    }
    jw_end_object(&j);
    jw_finish(&j);
}

static void print_tx_json(const utxo_tx *tx)
{
    uint8_t id[UTXO_HASH_BYTES];
    json j;

    jw_init(&j, stdout, true);
    jw_begin_object(&j);
    utxo_tx_txid(tx, id);
    jw_key(&j, "txid");
    jw_hex(&j, id, sizeof id);
    utxo_tx_wtxid(tx, id);
    jw_key(&j, "wtxid");
    jw_hex(&j, id, sizeof id);
    jw_key(&j, "version");
    jw_u64(&j, tx->version);
    jw_key(&j, "size");
    jw_u64(&j, utxo_tx_get_length(tx, true));
    jw_key(&j, "base_size");
    jw_u64(&j, utxo_tx_get_length(tx, false));
    jw_key(&j, "coinbase");
    jw_bool(&j, utxo_tx_is_coinbase(tx));
    if (utxo_tx_is_coinbase(tx)) {
        jw_key(&j, "coinbase_height");
        jw_u64(&j, tx->coinbase_height);
    }
    jw_key(&j, "inputs");
    jw_begin_array(&j);
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_input *in = &tx->inputs[i];
        jw_begin_object(&j);
        jw_key(&j, "txid");
        jw_hex(&j, in->prevout.txid, UTXO_HASH_BYTES);
        jw_key(&j, "index");
        jw_u64(&j, in->prevout.index);
        jw_key(&j, "budget");
        jw_u64(&j, in->witness.budget);
        /* the witness form (docs/ENCODING.md): the image, a template, or a
         * code output named by a reference input */
        jw_key(&j, "form");
        if (in->witness.form == UTXO_FORM_TEMPLATE) {
            const stdpred_template *t = stdpred_get(in->witness.tmpl);
            jw_str(&j, "template");
            jw_key(&j, "template");
            jw_str(&j, t ? t->name : "?");
            jw_key(&j, "params");
            jw_hex(&j, in->witness.params, in->witness.params_len);
        } else if (in->witness.form == UTXO_FORM_REF) {
            const utxo_outpoint *r = &tx->refs[in->witness.ref];
            jw_str(&j, "reference");
            jw_key(&j, "ref");
            jw_u64(&j, in->witness.ref);
            jw_key(&j, "code_txid");
            jw_hex(&j, r->txid, UTXO_HASH_BYTES);
            jw_key(&j, "code_index");
            jw_u64(&j, r->index);
            jw_key(&j, "params");
            jw_hex(&j, in->witness.params, in->witness.params_len);
        } else {
            jw_str(&j, "image");
            jw_key(&j, "image_bytes");
            jw_u64(&j, in->witness.image_len);
        }
        jw_key(&j, "args");
        jw_hex(&j, in->witness.args, in->witness.args_len);
        jw_end_object(&j);
    }
    jw_end_array(&j);
    if (tx->n_inputs > 0) {
        jw_key(&j, "refs"); /* reference inputs: outputs read, not spent */
        jw_begin_array(&j);
        for (uint32_t k = 0; k < tx->n_refs; k++) {
            jw_begin_object(&j);
            jw_key(&j, "txid");
            jw_hex(&j, tx->refs[k].txid, UTXO_HASH_BYTES);
            jw_key(&j, "index");
            jw_u64(&j, tx->refs[k].index);
            jw_end_object(&j);
        }
        jw_end_array(&j);
    }
    jw_key(&j, "outputs");
    jw_begin_array(&j);
    for (uint32_t i = 0; i < tx->n_outputs; i++) {
        const utxo_output *o = &tx->outputs[i];
        jw_begin_object(&j);
        jw_key(&j, "value");
        jw_u64(&j, o->value);
        jw_key(&j, "predicate_id");
        jw_hex(&j, o->predicate_id, UTXO_HASH_BYTES);
        jw_key(&j, "datum");
        jw_hex(&j, o->datum, o->datum_len);
        jw_end_object(&j);
    }
    jw_end_array(&j);
    jw_end_object(&j);
    jw_finish(&j);
}

/* tx decode|check: argv[0] says which. */
static int tx_run(int argc, char **argv)
{
    enum { OPT_HEX = 256, OPT_JSON, OPT_CHAIN };
    static const struct option opts[] = {
        {"hex", no_argument, NULL, OPT_HEX},
        {"json", no_argument, NULL, OPT_JSON},
        {"chain", required_argument, NULL, OPT_CHAIN},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    bool hex = false, as_json = false, decode = strcmp(argv[0], "decode") == 0;
    const char *path, *chain = NULL;
    cli cl = CLI_INIT(decode ? "tx decode" : "tx check", tx_usage, "", opts);
    utxo_params p;
    utxo_tx *tx = NULL;
    size_t off;
    int c, rc, derr;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case OPT_HEX: hex = true; break;
        case OPT_JSON: as_json = true; break;
        case OPT_CHAIN: chain = optarg; break;
        }
    }
    if (decode && (as_json || chain))
        /* decode prints JSON and applies no rule: nothing to take them */
        return usage_error("tx decode", "--%s is an option of tx check", as_json ? "json" : "chain");
    if ((rc = cli_operands(&cl, argc, argv, 1, 1, "FILE (- for standard input)")) != 0)
        return rc;
    utxo_params_default(&p);
    if (chain && (rc = chain_file_params("tx check", chain, &p)) != 0)
        return rc;
    path = argv[optind];
    rc = load_tx(path, hex, &p, &tx, &derr, &off); /* the chain's limits: a node's */
    if (rc == EXIT_INVALID && as_json) /* only check takes --json */
        print_check_json(derr, "offset", off);
    if (rc != EXIT_VALID)
        return rc;
    if (decode) {
        print_tx_json(tx);
    } else {
        uint32_t bad = 0;
        int err = utxo_tx_check(tx, &p, &bad);
        if (as_json) {
            print_check_json(err, "index", bad);
        } else if (err == UTXO_OK) {
            printf("valid\n");
        } else {
            printf("invalid: %s (index %u)\n", utxo_strerror(err), bad);
        }
        rc = err == UTXO_OK ? EXIT_VALID : EXIT_INVALID;
    }
    utxo_tx_free(tx);
    return rc;
}

int cmd_tx(int argc, char **argv)
{
    return cli_dispatch("tx", tx_usage, tx_subs, sizeof tx_subs / sizeof tx_subs[0], argc, argv);
}
