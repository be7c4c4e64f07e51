/*
 * cmd_utxos.c — `utxo utxos --db FILE [--predicate ID|ADDRESS] [--json]`: lists the
 * unspent outputs a store holds, all of them or those of one predicate id
 * (a wallet's address), with their count and total value; or looks one
 * outpoint up (--outpoint TXID:INDEX).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/store.h"
#include "commands.h"
#include "json.h"
#include "store_util.h"
#include "util.h"

static void utxos_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo utxos --db FILE [--predicate ID|ADDRESS | --outpoint TXID:INDEX]\n"
            "                  [--summary] [--json]\n"
            "\n"
            "Lists the store's unspent outputs in outpoint order, one per line:\n"
            "  TXID:INDEX VALUE PREDICATE_ID HEIGHT POSITION [DATUM_HEX]\n"
            "then a line `total COUNT VALUE`. --predicate keeps the outputs of one\n"
            "predicate id, given as 64 hex digits or as an address (utxo1...),\n"
            "through the store's index;\n"
            "--outpoint TXID:INDEX looks one output up (exit 1 when it is not unspent);\n"
            "--summary prints the total only; --json prints one JSON document.\n"
            "\n"
            "example:\n"
            "  utxo utxos --db node.db --predicate 6f1c...e2 --json\n");
}

typedef struct list_ctx {
    json *j;       /* NULL: text */
    bool summary;
} list_ctx;

static int print_one(void *arg, const utxo_store_utxo *u)
{
    list_ctx *c = arg;
    char txid[65], id[65];
    char *datum;

    if (c->summary)
        return 0;
    hex_encode(txid, u->outpoint.txid, 32);
    hex_encode(id, u->output.predicate_id, 32);
    if (c->j != NULL) {
        jw_begin_object(c->j);
        jw_key(c->j, "txid");
        jw_str(c->j, txid);
        jw_key(c->j, "index");
        jw_u64(c->j, u->outpoint.index);
        jw_key(c->j, "value");
        jw_u64(c->j, u->output.value);
        jw_key(c->j, "predicate_id");
        jw_str(c->j, id);
        jw_key(c->j, "height");
        jw_u64(c->j, u->height);
        jw_key(c->j, "position");
        jw_u64(c->j, u->position);
        jw_key(c->j, "datum");
        jw_hex(c->j, u->output.datum, u->output.datum_len);
        jw_end_object(c->j);
        return 0;
    }
    datum = malloc(2 * (size_t)u->output.datum_len + 1);
    if (datum == NULL)
        return 1;
    hex_encode(datum, u->output.datum, u->output.datum_len);
    printf("%s:%u %llu %s %u %llu%s%s\n", txid, u->outpoint.index,
           (unsigned long long)u->output.value, id, u->height, (unsigned long long)u->position,
           u->output.datum_len ? " " : "", datum);
    free(datum);
    return 0;
}

int cmd_utxos(int argc, char **argv)
{
    const char *db = NULL, *pred_hex = NULL, *outpoint = NULL;
    bool as_json = false, summary = false;
    uint8_t pred_id[UTXO_HASH_BYTES], *pred = NULL;
    utxo_store *s = NULL;
    uint64_t count = 0, total = 0;
    list_ctx c;
    utxo_outpoint op;
    json j;
    int rc, ex = EXIT_USAGE;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"predicate", required_argument, NULL, 'p'},
        {"outpoint", required_argument, NULL, 'o'},
        {"json", no_argument, NULL, 'j'},
        {"summary", no_argument, NULL, 's'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("utxos", utxos_usage, "", opts);

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case 'd': db = optarg; break;
        case 'p': pred_hex = optarg; break;
        case 'o': outpoint = optarg; break;
        case 'j': as_json = true; break;
        case 's': summary = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    if (db == NULL)
        return usage_error(cl.cmd, "--db FILE missing");
    if (pred_hex != NULL && !parse_id_or_address(pred_hex, pred_id))
        return usage_error(cl.cmd, "--predicate wants a predicate id (64 hex digits) or an "
                                   "address (utxo1...)");
    if (pred_hex != NULL)
        pred = pred_id;
    if (outpoint != NULL && pred_hex != NULL) {
        errorf("utxos: --outpoint and --predicate exclude each other");
        return EXIT_USAGE;
    }
    if (outpoint != NULL && !parse_outpoint(outpoint, &op)) {
        errorf("utxos: --outpoint wants TXID:INDEX (64 hex digits, a colon, a decimal index without leading zeros)");
        return EXIT_USAGE;
    }
    if ((ex = store_cli_open(&s, db, NULL, UTXO_STORE_READONLY, 1)) != EXIT_VALID)
        goto done;
    ex = EXIT_USAGE;
    c.j = as_json ? &j : NULL;
    c.summary = summary;
    if (outpoint != NULL) {
        utxo_store_utxo u;
        rc = utxo_store_get_utxo(s, &op, &u);
        if (rc == UTXO_ERR_STORE_NOT_FOUND) {
            errorf("%s: %s is not an unspent output", db, outpoint);
            ex = EXIT_INVALID;
            goto done;
        }
        if (rc != UTXO_OK) {
            errorf("%s: %s", db, utxo_store_errmsg(s));
            goto done;
        }
        c.summary = false;
        if (as_json)
            jw_init(&j, stdout, false);
        rc = print_one(&c, &u);
        free(u.output.datum);
        if (rc != 0 || (as_json && jw_finish(&j) != 0))
            goto done;
        if (as_json)
            putchar('\n');
        ex = EXIT_VALID;
        goto done;
    }
    if (as_json) {
        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "utxos");
        jw_begin_array(&j);
    }
    rc = utxo_store_each_utxo(s, pred, print_one, &c, &count, &total);
    if (rc != UTXO_OK) {
        errorf("%s: %s", db, utxo_store_errmsg(s));
        goto done;
    }
    if (as_json) {
        jw_end_array(&j);
        jw_key(&j, "count");
        jw_u64(&j, count);
        jw_key(&j, "total_value");
        jw_u64(&j, total);
        jw_end_object(&j);
        if (jw_finish(&j) != 0)
            goto done;
        putchar('\n');
    } else {
        printf("total %llu %llu\n", (unsigned long long)count, (unsigned long long)total);
    }
    ex = EXIT_VALID;
done:
    utxo_store_close(s);
    return ex;
}
