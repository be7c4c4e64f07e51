/*
 * runctx.c — the transaction context and outcome reporting shared by the
 * subcommands that run a predicate (runctx.h).
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "runctx.h"
#include "util.h"

int txopts_opt(txopts *o, cli *c, int ch, uint64_t max_height)
{
    switch (ch) {
    case TXOPT_TX:
        o->tx_path = optarg;
        return 1;
    case TXOPT_CHAIN_ID:
        if (o->ctx_opt == NULL)
            o->ctx_opt = "--chain-id";
        o->chain_hex = optarg;
        return 1;
    case TXOPT_INPUT:
        if (o->ctx_opt == NULL)
            o->ctx_opt = "--input";
        return cli_u64(c, 0, UINT32_MAX, &o->input) ? 1 : -1;
    case TXOPT_HEIGHT:
        if (o->ctx_opt == NULL)
            o->ctx_opt = "--height";
        return cli_u64(c, 0, max_height, &o->height) ? 1 : -1;
    default:
        return 0;
    }
}

int txopts_need_tx(const txopts *o, const char *cmd)
{
    if (o->tx_path == NULL && o->ctx_opt != NULL)
        return usage_error(cmd, "%s describes the transaction of --tx FILE: it needs --tx",
                           o->ctx_opt);
    return 0;
}

int txenv_load(txenv *t, const char *tx_path, uint64_t input, uint64_t height,
               const uint8_t *chain, const uint8_t pred_id[UTXO_HASH_BYTES])
{
    utxo_params p;
    size_t off = 0;

    memset(t, 0, sizeof *t);
    if (read_file(tx_path, UTXO_CAP_TX_BYTES, &t->raw, &t->raw_len) != 0)
        return EXIT_USAGE;
    if (utxo_tx_from_bytes(&t->tx, t->raw, t->raw_len, NULL, &off) != UTXO_OK) {
        errorf("%s: invalid transaction at byte %zu", tx_path, off);
        return EXIT_USAGE;
    }
    if (input >= t->tx->n_inputs) {
        errorf("--input %" PRIu64 ": the transaction has %u input(s)", input, t->tx->n_inputs);
        return EXIT_USAGE;
    }
    if (height > UINT32_MAX) {
        errorf("--height %" PRIu64 ": block heights are at most %" PRIu32, height, UINT32_MAX);
        return EXIT_USAGE;
    }
    t->spent = calloc(t->tx->n_inputs, sizeof *t->spent);
    if (!t->spent) {
        errorf("out of memory");
        return EXIT_USAGE;
    }
    memcpy(t->spent[input].predicate_id, pred_id, UTXO_HASH_BYTES);
    utxo_params_default(&p);
    if (utxo_txctx_init(&t->ctx, t->tx, t->spent, (uint32_t)height, chain ? chain : p.chain_id) !=
        UTXO_OK)
        return EXIT_USAGE;
    t->ctx.input_index = (uint32_t)input;
    return EXIT_VALID;
}

int txenv_witness_defaults(const txenv *t, bool have_args, uint8_t **args, size_t *args_len,
                           bool have_budget, uint64_t *budget)
{
    const utxo_input *in = &t->tx->inputs[t->ctx.input_index];

    if (!have_args && in->witness.args_len > 0) {
        *args_len = in->witness.args_len;
        if ((*args = malloc(*args_len)) == NULL) {
            errorf("out of memory");
            return EXIT_USAGE;
        }
        memcpy(*args, in->witness.args, *args_len);
    }
    if (!have_budget)
        *budget = in->witness.budget;
    return EXIT_VALID;
}

void txenv_free(txenv *t)
{
    utxo_tx_free(t->tx);
    free(t->spent);
    free(t->raw);
    memset(t, 0, sizeof *t);
}

const char *outcome_str(int status)
{
    return status == UTXO_VM_ACCEPTED ? "accepted"
           : status == UTXO_VM_REJECTED ? "rejected"
                                        : "failed";
}

void json_outcome(json *j, const utxo_vm_result *res, bool with_pc)
{
    jw_key(j, "status");
    jw_str(j, outcome_str(res->status));
    jw_key(j, "exit_code");
    jw_u64(j, res->exit_code);
    jw_key(j, "fail");
    if (res->status == UTXO_VM_FAILED)
        jw_str(j, utxo_vm_fail_str(res->fail));
    else
        jw_null(j);
    if (with_pc) {
        jw_key(j, "pc");
        jw_u64(j, res->pc);
    }
    jw_key(j, "cycles");
    jw_u64(j, res->cycles);
}
