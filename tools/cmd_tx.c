/*
 * cmd_tx.c — `utxo tx`: decode a transaction to JSON, or check it against
 * the context-free rules.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "commands.h"
#include "json.h"
#include "util.h"

static void tx_usage(FILE *f)
{
    fprintf(f,
            "usage: utxo tx decode [--hex] FILE|-\n"
            "       utxo tx check [--hex] [--json] FILE|-\n"
            "\n"
            "decode  print the transaction as JSON (ids, inputs, witnesses, outputs)\n"
            "check   apply the context-free rules (sizes, counts, duplicate inputs,\n"
            "        value overflow, witnesses); exit 1 when one is broken\n"
            "\n"
            "FILE holds the canonical bytes (docs/ENCODING.md); with --hex it holds\n"
            "them as hexadecimal text. '-' reads standard input.\n"
            "\n"
            "example:\n"
            "  utxo tx decode tests/vectors/tx_simple.bin\n");
}

/* Loads and strictly decodes FILE (binary or --hex); prints a message that
 * names the file and the failing byte offset on error. */
static int load_tx(const char *path, bool hex, utxo_tx **tx)
{
    uint8_t *buf = NULL, *raw = NULL;
    size_t len = 0, raw_len = 0, off = 0;
    int rc;

    *tx = NULL;
    if (read_file(path, UTXO_CAP_TX_BYTES * 2 + 2, &raw, &raw_len) != 0)
        return EXIT_USAGE;
    if (hex) {
        /* tolerate one trailing newline in a hex file */
        while (raw_len > 0 && (raw[raw_len - 1] == '\n' || raw[raw_len - 1] == '\r'))
            raw_len--;
        char *text = malloc(raw_len + 1);
        if (text == NULL) {
            free(raw);
            errorf("out of memory");
            return EXIT_USAGE;
        }
        memcpy(text, raw, raw_len);
        text[raw_len] = '\0';
        free(raw);
        if (hex_decode(text, &buf, &len) != 0) {
            free(text);
            errorf("%s: not a hex string", path);
            return EXIT_USAGE;
        }
        free(text);
    } else {
        buf = raw;
        len = raw_len;
    }
    rc = utxo_tx_from_bytes(tx, buf, len, NULL, &off);
    free(buf);
    if (rc != UTXO_OK) {
        errorf("%s: invalid transaction at byte %zu: %s", path, off, utxo_strerror(rc));
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}

static void print_tx_json(const utxo_tx *tx)
{
    uint8_t id[UTXO_HASH_BYTES];
    json j;

    json_init(&j, stdout, true);
    json_begin_object(&j);
    utxo_tx_txid(tx, id);
    json_key(&j, "txid");
    json_hex(&j, id, sizeof id);
    utxo_tx_wtxid(tx, id);
    json_key(&j, "wtxid");
    json_hex(&j, id, sizeof id);
    json_key(&j, "version");
    json_u64(&j, tx->version);
    json_key(&j, "size");
    json_u64(&j, utxo_tx_get_length(tx, true));
    json_key(&j, "base_size");
    json_u64(&j, utxo_tx_get_length(tx, false));
    json_key(&j, "coinbase");
    json_bool(&j, utxo_tx_is_coinbase(tx));
    if (utxo_tx_is_coinbase(tx)) {
        json_key(&j, "coinbase_height");
        json_u64(&j, tx->coinbase_height);
    }
    json_key(&j, "inputs");
    json_begin_array(&j);
    for (uint32_t i = 0; i < tx->n_inputs; i++) {
        const utxo_input *in = &tx->inputs[i];
        json_begin_object(&j);
        json_key(&j, "txid");
        json_hex(&j, in->prevout.txid, UTXO_HASH_BYTES);
        json_key(&j, "index");
        json_u64(&j, in->prevout.index);
        json_key(&j, "budget");
        json_u64(&j, in->witness.budget);
        json_key(&j, "image_bytes");
        json_u64(&j, in->witness.image_len);
        json_key(&j, "args");
        json_hex(&j, in->witness.args, in->witness.args_len);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_key(&j, "outputs");
    json_begin_array(&j);
    for (uint32_t i = 0; i < tx->n_outputs; i++) {
        const utxo_output *o = &tx->outputs[i];
        json_begin_object(&j);
        json_key(&j, "value");
        json_u64(&j, o->value);
        json_key(&j, "predicate_id");
        json_hex(&j, o->predicate_id, UTXO_HASH_BYTES);
        json_key(&j, "datum");
        json_hex(&j, o->datum, o->datum_len);
        json_end_object(&j);
    }
    json_end_array(&j);
    json_end_object(&j);
    json_finish(&j);
}

int cmd_tx(int argc, char **argv)
{
    bool hex = false, as_json = false;
    const char *sub, *path = NULL;
    utxo_tx *tx = NULL;
    int rc;

    if (argc < 2) {
        tx_usage(stderr);
        return EXIT_USAGE;
    }
    sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
        tx_usage(stdout);
        return EXIT_VALID;
    }
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--hex") == 0)
            hex = true;
        else if (strcmp(argv[i], "--json") == 0)
            as_json = true;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            tx_usage(stdout);
            return EXIT_VALID;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            errorf("tx: unknown option '%s'", argv[i]);
            tx_usage(stderr);
            return EXIT_USAGE;
        } else if (path == NULL)
            path = argv[i];
        else {
            errorf("tx: more than one FILE");
            tx_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (path == NULL || (strcmp(sub, "decode") != 0 && strcmp(sub, "check") != 0)) {
        if (path == NULL)
            errorf("tx: FILE missing (use - for standard input)");
        else
            errorf("tx: unknown subcommand '%s'", sub);
        tx_usage(stderr);
        return EXIT_USAGE;
    }
    rc = load_tx(path, hex, &tx);
    if (rc != EXIT_VALID)
        return rc;
    if (strcmp(sub, "decode") == 0) {
        print_tx_json(tx);
    } else {
        uint32_t bad = 0;
        int err = utxo_tx_check(tx, NULL, &bad);
        if (as_json) {
            json j;
            json_init(&j, stdout, false);
            json_begin_object(&j);
            json_key(&j, "valid");
            json_bool(&j, err == UTXO_OK);
            if (err != UTXO_OK) {
                json_key(&j, "error");
                json_i64(&j, err);
                json_key(&j, "reason");
                json_str(&j, utxo_strerror(err));
                json_key(&j, "index");
                json_u64(&j, bad);
            }
            json_end_object(&j);
            json_finish(&j);
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
