/*
 * utxo.c — the `utxo` command: dispatches to subcommands in the spirit of
 * git. Each subcommand lives in its own tools/cmd_*.c file and is listed in
 * the table below; `utxo --help` prints the table.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "client/nodeclient.h"
#include "commands.h"
#include "util.h"
#include "utxo/atomicfile.h"

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

/*
 * Descriptors 0, 1 and 2 open before anything else is: a command started
 * with one closed (`utxo gen 2>&-`, a daemon's supervisor) would otherwise
 * open a file of its own there, and its messages and progress lines, or
 * its output, would be written into that file (a block file, a state
 * file). A closed one gets /dev/null opened the wrong way round (read-only
 * for 1 and 2, write-only for 0), as gnulib's stdopen does, so that using
 * it still fails as it would have. Returns -1 when one cannot be opened.
 */
static bool stdout_closed;

static int std_fds_open(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
            continue;
        stdout_closed |= fd == STDOUT_FILENO;
        int got = open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
        if (got != fd) {
            if (got >= 0)
                close(got);
            return -1;
        }
    }
    return 0;
}

/*
 * The exit status once standard output is flushed: a command's output
 * that could not be written whole (a full disk, a descriptor not open for
 * writing) is an I/O error, said on stderr, never exit 0 or a verdict the
 * reader did not get. A broken pipe does not get here: SIGPIPE ends the
 * process, as it ends cat.
 */
static int stdout_flushed(int rc)
{
    int e = fflush(stdout) != 0 ? errno : 0;

    if (e == 0 && !ferror(stdout))
        return rc;
    errorf("cannot write standard output: %s",
           stdout_closed ? "it is closed" : e != 0 ? strerror(e) : "a write to it failed");
    return rc == EXIT_VALID || rc == EXIT_INVALID ? EXIT_USAGE : rc;
}

/* SIGINT, SIGTERM, SIGHUP for a command that catches none of its own:
 * the temporary file of an output being written goes (the output itself
 * was never renamed into place), then the process dies of the signal. */
static void on_fatal_signal(int sig)
{
    afile_unlink_pending();
    (void)signal(sig, SIG_DFL);
    (void)raise(sig);
}

static int run(int argc, char **argv)
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

int main(int argc, char **argv)
{
    if (std_fds_open() != 0)
        return EXIT_USAGE; /* no stderr to say so on */
    signals_catch(on_fatal_signal, 0, true);
    return stdout_flushed(run(argc, argv));
}
