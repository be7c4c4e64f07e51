/*
 * utxo.c — the `utxo` command: dispatches to subcommands in the spirit of
 * git. Each subcommand lives in its own tools/cmd_*.c file and is listed in
 * the table below; `utxo --help` prints the table.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sodium.h>
#include "utxo.h"
#include "client/nodeclient.h"
#include "commands.h"
#include "util.h"

static const cli_sub commands[] = {
    {"demo", cmd_demo, "generate, replay, prove and verify a chain in a fresh directory (demo --help)"},
    {"genesis", cmd_genesis, "create a chain directory: parameters, sequencer key, allocations (genesis --help)"},
    {"gen", cmd_gen, "write a deterministic realistic history into a chain directory (gen --help)"},
    {"sequence", cmd_sequence, "submit transactions to a chain's mempool and seal blocks (sequence --help)"},
    {"tx", cmd_tx, "decode or check a transaction (tx decode FILE|-)"},
    {"predicate", cmd_predicate, "build, inspect and run predicate images (predicate run IMG)"},
    {"verify", cmd_verify, "validate a block file with its proofs holding only roots (verify --help)"},
    {"replay", cmd_replay, "apply a block file to a store, resuming at its tip (replay --help)"},
    {"prove", cmd_prove, "write a store's proof bundles as a proof file (prove --help)"},
    {"utxos", cmd_utxos, "list a store's unspent outputs, by predicate id (utxos --help)"},
    {"node", cmd_node, "serve a chain directory over HTTP: blocks, proofs, UTXOs (node --help)"},
    {"follow", cmd_follow, "validate a node's chain over HTTP holding only roots (follow --help)"},
    {"history", cmd_history, "a long history in block ranges: plan, run, linkup (history --help)"},
    {"rollback", cmd_rollback, "undo a store's blocks above a height (rollback --help)"},
    {"check", cmd_check, "check a store's integrity: blocks, bundles, forest, rows (check --help)"},
    {"wallet", cmd_wallet, "a wallet file: new, address, balance, sync, send (wallet --help)"},
    {"segments", cmd_segments, "prove a predicate run into segment receipts, verify them (segments --help)"},
    {"bench", cmd_bench, "run a benchmark and print `bench NAME FIELD=VALUE ...` lines"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo [--help] [--version] COMMAND [ARGS...]\n"
            "\n"
            "utxo is a stateless UTXO execution engine: transactions spend outputs\n"
            "guarded by RV32IM predicate programs.\n"
            "\n");
    cli_list(f, "commands:", commands, sizeof commands / sizeof commands[0]);
    fprintf(f,
            "\n"
            "Run `utxo COMMAND --help` for a command's options and an example.\n"
            "Every command takes --opt=value or --opt value, `--` to end the options,\n"
            "and `-` for standard input or output where it reads or writes a file.\n"
            "Exit status: 0 ok/valid, 1 invalid, 2 usage or I/O error.\n");
}

/* The node client's failures (follow, node --upstream, wallet --node), printed. */
static void report(const char *msg)
{
    errorf("%s", msg);
}

int main(int argc, char **argv)
{
    if (utxo_init() != UTXO_OK) {
        errorf("libsodium failed to initialise");
        return EXIT_USAGE;
    }
    nc_set_reporter(report);
    if (argc < 2) {
        errorf("a command is missing (see '%s --help')", prog_name);
        return EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return EXIT_VALID;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("utxo %s\n", utxo_version());
        return EXIT_VALID;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    errorf("unknown command '%s' (see '%s --help')", argv[1], prog_name);
    return EXIT_USAGE;
}
