/*
 * store_util.h — what the store subcommands (replay, prove, utxos,
 * rollback) share: opening a store with a message that says what failed,
 * and mapping a library error to an exit code.
 */
#ifndef UTXO_TOOLS_STORE_UTIL_H
#define UTXO_TOOLS_STORE_UTIL_H

#include "utxo/store.h"

/*
 * Opens the store at path (flags and params as utxo_store_open). On error
 * prints "utxo: DB: message" and returns the exit code (2); else 0.
 */
int store_cli_open(utxo_store **s, const char *path, const utxo_params *params, unsigned flags,
                   unsigned threads);

/* Exit code for a library error: 1 for a rule or decoding failure (the
 * input is invalid), 2 for I/O, storage, usage. */
int store_cli_exit(int err);

#endif /* UTXO_TOOLS_STORE_UTIL_H */
