/*
 * runctx.h — what the subcommands that run a predicate share (`utxo
 * predicate run`, `utxo segments prove|verify|verify-one`): the transaction
 * context built from a --tx file, and the names and JSON fields of a run's
 * outcome.
 */
#ifndef UTXO_TOOLS_RUNCTX_H
#define UTXO_TOOLS_RUNCTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "utxo.h"
#include "json.h"
#include "util.h"

/* The options naming a transaction context: --tx FILE, --input N,
 * --height H, --chain-id HEX (NULL or 0 when not given); ctx_opt names the
 * first of the last three given ("--height"), NULL when none was. */
typedef struct txopts {
    const char *tx_path, *chain_hex;
    uint64_t input, height;
    const char *ctx_opt;
} txopts;

/* Those options in a getopt_long table (util.h's cli). */
enum { TXOPT_TX = 0x1000, TXOPT_INPUT, TXOPT_HEIGHT, TXOPT_CHAIN_ID };
#define TXOPTS_LONGOPTS                                                                            \
    {"tx", required_argument, NULL, TXOPT_TX}, {"input", required_argument, NULL, TXOPT_INPUT},    \
        {"height", required_argument, NULL, TXOPT_HEIGHT},                                         \
        {"chain-id", required_argument, NULL, TXOPT_CHAIN_ID}

/*
 * If ch (from cli_next) is one of those options, stores optarg (--input
 * and --height as a decimal number, the height at most max_height) and
 * returns 1; returns 0 when it is none of them, and -1 after a usage
 * error (c->status is EXIT_USAGE).
 */
int txopts_opt(txopts *o, cli *c, int ch, uint64_t max_height);

/*
 * After parsing: --input, --height and --chain-id describe the --tx
 * transaction, so without --tx they would be ignored silently. Returns 0,
 * or EXIT_USAGE after a usage error of cmd naming the option.
 */
int txopts_need_tx(const txopts *o, const char *cmd);

/* A transaction read from a file and the context of one of its inputs. */
typedef struct txenv {
    utxo_tx *tx;
    utxo_output *spent;
    utxo_txctx ctx;
    uint8_t *raw;     /* the file's bytes */
    size_t raw_len;
} txenv;

/*
 * Reads tx_path and builds the context of input `input` at `height`: the
 * spent outputs are unknown here, so each is zero except the running
 * input's predicate id, pred_id. chain: 32 bytes, or NULL for the default
 * parameters' chain id. Returns EXIT_VALID, or EXIT_USAGE after a message;
 * either way release t with txenv_free.
 */
int txenv_load(txenv *t, const char *tx_path, uint64_t input, uint64_t height,
               const uint8_t *chain, const uint8_t pred_id[UTXO_HASH_BYTES]);

/*
 * What the running input's witness supplies when the command line did not:
 * unless have_args, a copy of its argument bytes (a new buffer in *args,
 * free() it; *args stays NULL when it has none); unless have_budget, its
 * budget. Returns EXIT_VALID, or EXIT_USAGE when out of memory.
 */
int txenv_witness_defaults(const txenv *t, bool have_args, uint8_t **args, size_t *args_len,
                           bool have_budget, uint64_t *budget);

/* Releases what txenv_load built and zeroes t; a zeroed t is harmless. */
void txenv_free(txenv *t);

/* "accepted", "rejected" or "failed". */
const char *outcome_str(int status);

/* The keys status, exit_code, fail (null unless failed), pc (when
 * with_pc) and cycles. */
void json_outcome(json *j, const utxo_vm_result *res, bool with_pc);

#endif /* UTXO_TOOLS_RUNCTX_H */
