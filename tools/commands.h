/*
 * commands.h — the subcommands of the utxo command. Each takes the
 * arguments after its name (argv[0] is the subcommand name) and returns the
 * process exit code: 0 ok/valid, 1 invalid, 2 usage or I/O error.
 */
#ifndef UTXO_TOOLS_COMMANDS_H
#define UTXO_TOOLS_COMMANDS_H

int cmd_tx(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_predicate(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_history(int argc, char **argv);
/* the HTTP node (tools/cmd_node.c, docs/API.md) */
int cmd_node(int argc, char **argv);
/* the light client (tools/cmd_follow.c) */
int cmd_follow(int argc, char **argv);
/* Verifies every range of the plan in dir as `utxo verify --range`
 * processes, jobs at a time (cmd_history.c): the number of ranges that
 * could not be started, or -1 when the manifest cannot be read. */
int history_run_ranges(const char *dir, unsigned jobs);
/* verify --from-state FILE --range A:B BLOCKS PROOFS -o RESULT
 * (cmd_verify_range.c): the exit status */
int verify_range(const char *state, const char *range, const char *blocks, const char *proofs,
                 const char *output, unsigned threads);

/* the store (tools/cmd_replay.c, cmd_prove.c, cmd_utxos.c, cmd_rollback.c,
 * cmd_check.c) */
int cmd_replay(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_utxos(int argc, char **argv);
int cmd_rollback(int argc, char **argv);

/* the wallet (tools/cmd_wallet.c) */
int cmd_wallet(int argc, char **argv);
/* continuations (tools/cmd_segments.c): segments prove|verify|verify-one */
int cmd_segments(int argc, char **argv);

/* the chain (tools/cmd_genesis.c, cmd_gen.c, cmd_demo.c, cmd_sequence.c) */
int cmd_genesis(int argc, char **argv);
int cmd_gen(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_sequence(int argc, char **argv);

#endif /* UTXO_TOOLS_COMMANDS_H */
