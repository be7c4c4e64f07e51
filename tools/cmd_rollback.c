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
            "usage: utxo rollback --db FILE --to HEIGHT\n"
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

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            rollback_usage(stdout);
            return EXIT_VALID;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            db = argv[++i];
        } else if (strcmp(argv[i], "--to") == 0 && i + 1 < argc) {
            if (!parse_u64(argv[++i], &to) || to > UINT32_MAX) {
                errorf("rollback: --to wants a block height");
                return EXIT_USAGE;
            }
        } else {
            errorf("rollback: unexpected argument '%s'", argv[i]);
            rollback_usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (db == NULL || to == UINT64_MAX) {
        rollback_usage(stderr);
        return EXIT_USAGE;
    }
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
