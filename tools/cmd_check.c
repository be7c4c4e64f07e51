/*
 * cmd_check.c — `utxo check --db STORE`: the store's integrity check
 * (utxo_store_check, src/sqlstore/check.c). Opens the store read-only
 * without its opening check, so that a store that refuses to open for the
 * other commands is still examined; prints each problem on a line of its
 * own and a summary. Exit 0 sound, 1 problems found, 2 usage or I/O.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "utxo/store.h"
#include "commands.h"
#include "util.h"

#define CHECK_UNDO_DEFAULT 100u

static void check_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo check --db FILE [--undo N] [--quiet]\n"
            "\n"
            "Checks the store FILE without writing to it: SQLite's integrity check;\n"
            "every block (it decodes, its stored hash, height, previous hash,\n"
            "sequencer signature, time); every stored proof bundle, verified against\n"
            "the accumulator before its block (walked from genesis) and leading to\n"
            "the recorded accumulator; the metadata (tip, digest, counts); every\n"
            "accumulator forest node against its children, the roots against the\n"
            "metadata; every unspent output row against its leaf in the forest; the\n"
            "undo records of the last N blocks against their blocks and bundles.\n"
            "Each problem is printed on a line of its own, saying what and where.\n"
            "\n"
            "  --db FILE   the store\n"
            "  --undo N    undo records of the last N blocks (default %u; 0: none)\n"
            "  --quiet     print the problems only, no summary\n"
            "\n"
            "Exit status: 0 the store is sound, 1 problems found, 2 usage or I/O.\n"
            "\n"
            "example:\n"
            "  utxo check --db node.db\n",
            CHECK_UNDO_DEFAULT);
}

static void print_problem(void *arg, const char *problem)
{
    (void)arg;
    printf("problem: %s\n", problem);
}

int cmd_check(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"undo", required_argument, NULL, 'u'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    uint64_t undo = CHECK_UNDO_DEFAULT, problems = 0;
    bool quiet = false;
    utxo_store *s = NULL;
    utxo_store_info info;
    char msg[600];
    int c, rc;
    cli cl = CLI_INIT("check", check_usage, "", longopts);

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status;
        case 'd': db = optarg; break;
        case 'u':
            if (!cli_u64(&cl, 0, UINT32_MAX, &undo))
                return EXIT_USAGE;
            break;
        case 'q': quiet = true; break;
        }
    }
    if ((rc = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return rc;
    if (db == NULL) {
        return usage_error(cl.cmd, "--db FILE is required");
    }
    rc = utxo_store_open(&s, db, NULL, UTXO_STORE_READONLY | UTXO_STORE_UNCHECKED, 1, msg,
                         sizeof msg);
    if (rc == UTXO_ERR_STORE_CORRUPT || rc == UTXO_ERR_STORE_SCHEMA ||
        rc == UTXO_ERR_FILE_FORMAT) {
        /* the store's own header or metadata: nothing further can be read */
        printf("problem: %s\n", msg);
        if (!quiet)
            printf("%s: 1 problem (the store cannot be opened)\n", db);
        return EXIT_INVALID;
    }
    if (rc != UTXO_OK) {
        if (strncmp(msg, db, strlen(db)) == 0)
            errorf("%s", msg);
        else
            errorf("%s: %s", db, msg[0] ? msg : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    rc = utxo_store_check(s, (uint32_t)undo, print_problem, NULL, &problems);
    if (rc != UTXO_OK && rc != UTXO_ERR_STORE_CORRUPT) {
        errorf("%s: check stopped: %s", db, utxo_store_errmsg(s));
        utxo_store_close(s);
        return EXIT_USAGE;
    }
    utxo_store_get_info(s, &info);
    if (!quiet) {
        if (problems == 0)
            printf("%s: sound: %u blocks and their bundles, %llu unspent outputs, %llu leaves, "
                   "undo of the last %llu blocks\n",
                   db, info.n_blocks, (unsigned long long)info.n_utxos,
                   (unsigned long long)info.leaf_count,
                   (unsigned long long)(undo < info.n_blocks ? undo : info.n_blocks));
        else
            printf("%s: %llu problem%s\n", db, (unsigned long long)problems,
                   problems == 1 ? "" : "s");
    }
    utxo_store_close(s);
    return problems == 0 ? EXIT_VALID : EXIT_INVALID;
}
