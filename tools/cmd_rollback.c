/*
 * cmd_rollback.c — `utxo rollback --db FILE --to H`: undoes the blocks
 * above height H with the store's undo data, in one transaction (a reorg's
 * first half; replaying the other branch is the second).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/store.h"
#include "commands.h"
#include "store_util.h"
#include "util.h"

static void rollback_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo rollback --db FILE --to HEIGHT\n"
            "\n"
            "Undoes every block above HEIGHT (HEIGHT stays the tip): the outputs they\n"
            "created leave the UTXO set, the outputs they spent come back, the\n"
            "accumulator forest, blocks, undo data and bundles return to what a\n"
            "replay up to HEIGHT gives. All blocks in one transaction: a crash leaves\n"
            "either the old tip or the new one.\n"
            "\n"
            "example:\n"
            "  utxo rollback --db node.db --to 100\n");
}

int cmd_rollback(int argc, char **argv)
{
    const char *db = NULL;
    uint64_t to = UINT64_MAX;
    utxo_store *s = NULL;
    utxo_store_info before, after;
    char hex[65];
    int rc, ex;
    static const struct option opts[] = {
        {"db", required_argument, NULL, 'd'},
        {"to", required_argument, NULL, 't'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("rollback", rollback_usage, "", opts);

    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        switch (rc) {
        case CLI_STOP:
            return cl.status;
        case 'd': db = optarg; break;
        case 't':
            if (!cli_u64(&cl, 0, UINT32_MAX, &to))
                return EXIT_USAGE;
            break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    if (db == NULL || to == UINT64_MAX)
        return usage_error(cl.cmd, "%s missing", db == NULL ? "--db FILE" : "--to HEIGHT");
    if ((ex = store_cli_open(&s, db, NULL, 0, 1)) != EXIT_VALID)
        return ex;
    utxo_store_get_info(s, &before);
    rc = utxo_store_rollback(s, (uint32_t)to);
    if (rc != UTXO_OK) {
        errorf("%s: %s", db, utxo_store_errmsg(s));
        utxo_store_close(s);
        return EXIT_USAGE;
    }
    utxo_store_get_info(s, &after);
    hex_encode(hex, after.tip_hash, 32);
    printf("rolled back %u blocks; tip %u %s, %llu utxos\n", before.n_blocks - after.n_blocks,
           after.n_blocks - 1, hex, (unsigned long long)after.n_utxos);
    utxo_store_close(s);
    return EXIT_VALID;
}
