/*
 * wallet_cli.h — what the files of `utxo wallet` share: the parsed options,
 * opening the wallet (with the passphrase when asked), one-line usage
 * errors, and the subcommands that live in tools/cmd_wallet_ops.c.
 * tools/cmd_wallet.c parses, dispatches and holds the subcommands that
 * create wallets (new, restore, seed, bind) and sync.
 */
#ifndef UTXO_TOOLS_WALLET_CLI_H
#define UTXO_TOOLS_WALLET_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "utxo.h"

typedef struct wopts {
    const char *file, *chain, *proofs, *pass_file, *seed_file, *out, *db, *node;
    char **pos;      /* the arguments after FILE */
    int n_pos;
    int pass_fd, seed_fd; /* -1: not given */
    bool json, new_addr, all, coins, yes;
    bool progress; /* --progress: progress lines even when stderr is no terminal */
    uint64_t keys, gap;
} wopts;

/* "utxo: wallet: <message> (see utxo wallet --help)"; returns EXIT_USAGE. */
int wcli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Opens o->file, unlocked (the passphrase read as cmd_wallet.c says) when
 * unlock; 0 or an exit status after a message. */
int wcli_open(const wopts *o, bool unlock, utxo_wallet **w);
/* n bytes as hex on stdout. */
void wcli_print_hex(const uint8_t *p, size_t n);

/* tools/cmd_wallet_ops.c: the subcommands on an existing wallet */
int wallet_address(const wopts *o);
int wallet_balance(const wopts *o);
int wallet_history(const wopts *o);
int wallet_pending(const wopts *o);
int wallet_send(const wopts *o);
int wallet_abandon(const wopts *o);
int wallet_rollback(const wopts *o);

#endif /* UTXO_TOOLS_WALLET_CLI_H */
