/*
 * cmd_wallet_ops.c — the `utxo wallet` subcommands on an existing wallet:
 * address, balance, history, pending, send, abandon, rollback (options and
 * opening: tools/cmd_wallet.c, tools/wallet_cli.h). Each is a thin layer
 * over utxo/wallet.h: check the arguments, call the library, print.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "utxo.h"
#include "json.h"
#include "util.h"
#include "wallet_cli.h"

int wallet_pending(const wopts *o)
{
    utxo_wallet_payment *pay = NULL;
    utxo_wallet *w = NULL;
    size_t n = 0;
    int ex;
    json j;

    if (o->n_pos != 0)
        return wcli_usage_error("pending: unexpected argument '%s'", o->pos[0]);
    if ((ex = wcli_open(o, false, &w)) != 0)
        return ex;
    if (utxo_wallet_payments(w, NULL, 0, &n) != UTXO_OK ||
        (n > 0 && ((pay = calloc(n, sizeof *pay)) == NULL ||
                   utxo_wallet_payments(w, pay, n, &n) != UTXO_OK))) {
        errorf("wallet: cannot list the pending payments: %s", utxo_wallet_errmsg(w));
        free(pay);
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    if (o->json) {
        jw_init(&j, stdout, false);
        jw_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        if (o->json) {
            jw_begin_object(&j);
            jw_key(&j, "txid");
            jw_hex(&j, pay[i].txid, UTXO_HASH_BYTES);
            jw_key(&j, "coins");
            jw_u64(&j, pay[i].n_coins);
            jw_key(&j, "value");
            jw_u64(&j, pay[i].value);
            jw_end_object(&j);
        } else {
            wcli_print_hex(pay[i].txid, UTXO_HASH_BYTES);
            printf(" coins %u value %llu\n", pay[i].n_coins, (unsigned long long)pay[i].value);
        }
    }
    if (o->json) {
        jw_end_array(&j);
        jw_finish(&j);
    }
    free(pay);
    utxo_wallet_close(w);
    return EXIT_VALID;
}

int wallet_address(const wopts *o)
{
    char addr[UTXO_ADDRESS_LEN + 1];
    utxo_wallet *w = NULL;
    uint32_t n, from;
    int ex, rc;

    if (o->n_pos != 0)
        return wcli_usage_error("address: unexpected argument '%s'", o->pos[0]);
    if ((ex = wcli_open(o, o->new_addr, &w)) != 0)
        return ex;
    if (o->new_addr && (rc = utxo_wallet_new_key(w, NULL, NULL)) != UTXO_OK) {
        errorf("wallet: %s", utxo_strerror(rc));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    n = utxo_wallet_key_count(w);
    if (n == 0) {
        errorf("wallet: no address yet (utxo wallet address FILE --new)");
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    from = o->all ? 0 : n - 1;
    json j;
    if (o->json) {
        jw_init(&j, stdout, false);
        jw_begin_array(&j);
    }
    for (uint32_t i = from; i < n; i++) {
        if (utxo_wallet_address(w, i, addr, NULL) != UTXO_OK)
            continue;
        if (o->json) {
            jw_begin_object(&j);
            jw_key(&j, "index");
            jw_u64(&j, i);
            jw_key(&j, "address");
            jw_str(&j, addr);
            jw_end_object(&j);
        } else if (o->all) {
            printf("%u %s\n", i, addr);
        } else {
            printf("%s\n", addr);
        }
    }
    if (o->json) {
        jw_end_array(&j);
        jw_finish(&j);
    }
    utxo_wallet_close(w);
    return EXIT_VALID;
}

int wallet_balance(const wopts *o)
{
    utxo_wallet *w = NULL;
    utxo_wallet_coin *coins = NULL;
    uint64_t value = 0, n = 0, pv = 0, pn = 0;
    size_t total = 0;
    int ex, rc;

    if (o->n_pos != 0)
        return wcli_usage_error("balance: unexpected argument '%s'", o->pos[0]);
    if ((ex = wcli_open(o, false, &w)) != 0)
        return ex;
    if ((rc = utxo_wallet_balance(w, &value, &n)) != UTXO_OK ||
        (rc = utxo_wallet_pending(w, &pv, &pn)) != UTXO_OK ||
        (o->coins && (rc = utxo_wallet_coins(w, NULL, 0, &total)) != UTXO_OK)) {
        errorf("wallet: %s: %s", utxo_strerror(rc), utxo_wallet_errmsg(w));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    if (o->coins && total > 0) {
        if ((coins = calloc(total, sizeof *coins)) == NULL ||
            utxo_wallet_coins(w, coins, total, &total) != UTXO_OK) {
            errorf("wallet: cannot list coins");
            free(coins);
            utxo_wallet_close(w);
            return EXIT_USAGE;
        }
    }
    if (o->json) {
        json j;
        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "balance");
        jw_u64(&j, value);
        jw_key(&j, "coins");
        jw_u64(&j, n);
        jw_key(&j, "next_height");
        jw_u64(&j, utxo_wallet_next_height(w));
        jw_key(&j, "pending");
        jw_u64(&j, pv);
        jw_key(&j, "pending_coins");
        jw_u64(&j, pn);
        if (o->coins) {
            jw_key(&j, "list");
            jw_begin_array(&j);
            for (size_t i = 0; i < total; i++) {
                jw_begin_object(&j);
                jw_key(&j, "txid");
                jw_hex(&j, coins[i].outpoint.txid, UTXO_HASH_BYTES);
                jw_key(&j, "index");
                jw_u64(&j, coins[i].outpoint.index);
                jw_key(&j, "value");
                jw_u64(&j, coins[i].value);
                jw_key(&j, "height");
                jw_u64(&j, coins[i].height);
                jw_key(&j, "position");
                jw_u64(&j, coins[i].position);
                jw_key(&j, "key");
                jw_u64(&j, coins[i].key_index);
                if (coins[i].datum_len > 0) {
                    uint8_t *d = malloc(coins[i].datum_len);
                    size_t dl = 0;
                    if (d != NULL && utxo_wallet_coin_datum(w, &coins[i].outpoint, d,
                                                            coins[i].datum_len, &dl) == UTXO_OK) {
                        jw_key(&j, "datum");
                        jw_hex(&j, d, dl);
                    }
                    free(d);
                }
                jw_end_object(&j);
            }
            jw_end_array(&j);
        }
        jw_end_object(&j);
        jw_finish(&j);
    } else {
        for (size_t i = 0; i < total; i++) {
            wcli_print_hex(coins[i].outpoint.txid, UTXO_HASH_BYTES);
            printf(":%u %llu height=%u position=%llu key=%u", coins[i].outpoint.index,
                   (unsigned long long)coins[i].value, coins[i].height,
                   (unsigned long long)coins[i].position, coins[i].key_index);
            if (coins[i].datum_len > 0)
                printf(" datum=%u bytes", coins[i].datum_len);
            printf("\n");
        }
        printf("balance %llu coins %llu next_height %u\n", (unsigned long long)value,
               (unsigned long long)n, utxo_wallet_next_height(w));
        if (pn > 0)
            printf("pending %llu in %llu coins reserved by payments not yet in a block\n",
                   (unsigned long long)pv, (unsigned long long)pn);
    }
    free(coins);
    utxo_wallet_close(w);
    return EXIT_VALID;
}

int wallet_history(const wopts *o)
{
    utxo_wallet *w = NULL;
    utxo_wallet_event *ev = NULL;
    size_t n = 0;
    int ex;
    json j;

    if (o->n_pos != 0)
        return wcli_usage_error("history: unexpected argument '%s'", o->pos[0]);
    if ((ex = wcli_open(o, false, &w)) != 0)
        return ex;
    if (utxo_wallet_history(w, NULL, 0, &n) != UTXO_OK ||
        (n > 0 && ((ev = calloc(n, sizeof *ev)) == NULL ||
                   utxo_wallet_history(w, ev, n, &n) != UTXO_OK))) {
        errorf("wallet: cannot read the history: %s", utxo_wallet_errmsg(w));
        free(ev);
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    if (o->json) {
        jw_init(&j, stdout, false);
        jw_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        if (o->json) {
            jw_begin_object(&j);
            jw_key(&j, "height");
            jw_u64(&j, ev[i].height);
            jw_key(&j, "txid");
            jw_hex(&j, ev[i].txid, UTXO_HASH_BYTES);
            jw_key(&j, "received");
            jw_u64(&j, ev[i].received);
            jw_key(&j, "spent");
            jw_u64(&j, ev[i].spent);
            jw_end_object(&j);
        } else {
            printf("%u ", ev[i].height);
            wcli_print_hex(ev[i].txid, UTXO_HASH_BYTES);
            printf(" +%llu -%llu\n", (unsigned long long)ev[i].received,
                   (unsigned long long)ev[i].spent);
        }
    }
    if (o->json) {
        jw_end_array(&j);
        jw_finish(&j);
    }
    free(ev);
    utxo_wallet_close(w);
    return EXIT_VALID;
}

/* Writes the transaction to standard output (checked to the last byte). */
static int write_stdout(const uint8_t *p, size_t len)
{
    if ((len > 0 && fwrite(p, 1, len, stdout) != len) || fflush(stdout) != 0) {
        errorf("wallet: cannot write the transaction to standard output: %s", strerror(errno));
        clearerr(stdout); /* said here: main() need not say it again */
        return -1;
    }
    return 0;
}

/* POSTs tx to the node at url: EXIT_VALID when the node took it, else
 * EXIT_INVALID (its verdict printed) or EXIT_USAGE (not reached). */
static int post_to_node(const char *url, const utxo_tx *tx)
{
    utxo_client *c = NULL;
    utxo_verdict vd;
    int rc = utxo_client_open(&c, url);

    if (rc != UTXO_OK) {
        errorf("wallet: --node %s: %s", url,
               rc == UTXO_ERR_ARG ? "the URL must start with http:// or https://"
                                  : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    rc = utxo_client_submit(c, tx, NULL, &vd);
    if (rc != UTXO_OK)
        errorf("wallet: %s: no coin was reserved", utxo_client_errmsg(c));
    utxo_client_close(c);
    if (rc == UTXO_OK)
        return EXIT_VALID;
    return rc == UTXO_ERR_CLIENT_REACH || rc == UTXO_ERR_CLIENT_ANSWER ? EXIT_USAGE
                                                                       : EXIT_INVALID;
}

int wallet_send(const wopts *o)
{
    uint8_t txid[UTXO_HASH_BYTES], *buf = NULL;
    utxo_wallet_recipient *to = NULL;
    utxo_wallet *w = NULL;
    utxo_tx *tx = NULL;
    uint64_t amount = 0, fee = 0;
    size_t len, wr = 0, n_to;
    bool to_stdout;
    FILE *info;
    int ex = EXIT_USAGE, rc;

    if (o->n_pos < 2 || o->n_pos % 2 != 0 || (o->out == NULL) == (o->node == NULL))
        return wcli_usage_error("send needs ADDRESS AMOUNT [ADDRESS AMOUNT ...] and -o TX "
                                "or --node URL");
    to_stdout = o->out != NULL && strcmp(o->out, "-") == 0;
    if (to_stdout && isatty(STDOUT_FILENO))
        return wcli_usage_error("-o -: standard output is a terminal; redirect it to a file "
                                "or a pipe");
    info = to_stdout ? stderr : stdout; /* the transaction owns stdout */
    n_to = (size_t)o->n_pos / 2;
    if ((to = calloc(n_to, sizeof *to)) == NULL) {
        errorf("wallet: out of memory");
        return EXIT_USAGE;
    }
    for (size_t r = 0; r < n_to; r++) {
        const char *addr = o->pos[2 * r], *value = o->pos[2 * r + 1];
        if ((rc = utxo_address_decode(to[r].predicate_id, addr)) != UTXO_OK) {
            errorf("wallet: '%s': %s", addr, utxo_strerror(rc));
            goto done;
        }
        if (!parse_u64(value, &to[r].value)) {
            errorf("wallet: amount '%s' is not a whole number of base units", value);
            goto done;
        }
        amount += to[r].value; /* the wallet refuses a sum above the supply */
    }
    if ((ex = wcli_open(o, true, &w)) != 0)
        goto done;
    /* built unreserved: the coins are reserved only once the transaction
     * is safely written, so a failed write leaves nothing reserved */
    rc = utxo_wallet_send_many(w, to, n_to, UTXO_WALLET_SEND_NO_RESERVE, &tx, &fee);
    if (rc != UTXO_OK) {
        errorf("wallet: payment refused: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w)
                                                                       : utxo_strerror(rc));
        ex = rc == UTXO_ERR_WALLET_DB || rc == UTXO_ERR_NOMEM ? EXIT_USAGE : EXIT_INVALID;
        goto done;
    }
    ex = EXIT_USAGE;
    len = utxo_tx_get_length(tx, true);
    if ((buf = malloc(len)) == NULL || utxo_tx_to_bytes(tx, buf, len, &wr) != UTXO_OK) {
        errorf("wallet: cannot encode the transaction");
        goto done;
    }
    if (o->node != NULL) {
        if ((ex = post_to_node(o->node, tx)) != EXIT_VALID)
            goto done;
        ex = EXIT_USAGE;
    } else if (to_stdout ? write_stdout(buf, wr) != 0 : write_file(o->out, buf, wr) != 0) {
        errorf("wallet: the transaction was not written: no coin was reserved");
        goto done;
    }
    utxo_tx_txid(tx, txid);
    if ((rc = utxo_wallet_reserve(w, tx)) != UTXO_OK) {
        char hex[2 * UTXO_HASH_BYTES + 1];
        hex_encode(hex, txid, UTXO_HASH_BYTES);
        errorf("wallet: transaction %s %s %s, but its coins could not be reserved: %s",
               hex, o->node ? "taken by" : "written to",
               o->node ? o->node : to_stdout ? "standard output" : o->out,
               utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
        goto done;
    }
    if (o->json) {
        json j;
        jw_init(&j, info, false);
        jw_begin_object(&j);
        jw_key(&j, "txid");
        jw_hex(&j, txid, UTXO_HASH_BYTES);
        jw_key(&j, "amount");
        jw_u64(&j, amount);
        jw_key(&j, "fee");
        jw_u64(&j, fee);
        jw_key(&j, "bytes");
        jw_u64(&j, wr);
        jw_key(&j, "inputs");
        jw_u64(&j, tx->n_inputs);
        jw_key(&j, "outputs");
        jw_u64(&j, tx->n_outputs);
        if (o->node) {
            jw_key(&j, "node");
            jw_str(&j, o->node);
        }
        jw_end_object(&j);
        jw_finish(&j);
    } else {
        fprintf(info, "txid ");
        for (size_t i = 0; i < UTXO_HASH_BYTES; i++)
            fprintf(info, "%02x", txid[i]);
        fprintf(info, "\nfee %llu, %zu bytes, %u inputs, %u outputs, %s %s\n",
                (unsigned long long)fee, wr, tx->n_inputs, tx->n_outputs,
                o->node ? "taken by the node" : "written to",
                o->node ? o->node : to_stdout ? "standard output" : o->out);
    }
    ex = EXIT_VALID;
done:
    free(to);
    free(buf);
    utxo_tx_free(tx);
    utxo_wallet_close(w);
    return ex;
}

int wallet_abandon(const wopts *o)
{
    utxo_wallet *w = NULL;
    uint8_t *txid = NULL;
    size_t len = 0;
    int ex, rc;

    if (o->n_pos != 1 || hex_decode(o->pos[0], &txid, &len) != 0 || len != UTXO_HASH_BYTES) {
        errorf("wallet: abandon needs a TXID of 64 hex digits");
        free(txid);
        return EXIT_USAGE;
    }
    if ((ex = wcli_open(o, false, &w)) != 0) {
        free(txid);
        return ex;
    }
    rc = utxo_wallet_abandon(w, txid);
    if (rc == UTXO_OK)
        printf("released the coins reserved by %s\n", o->pos[0]);
    else
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
    free(txid);
    utxo_wallet_close(w);
    return rc == UTXO_OK ? EXIT_VALID : rc == UTXO_ERR_ARG ? EXIT_INVALID : EXIT_USAGE;
}

int wallet_rollback(const wopts *o)
{
    utxo_wallet *w = NULL;
    uint64_t height, value = 0;
    int ex, rc;

    if (o->n_pos != 1 || !parse_u64(o->pos[0], &height) || height > UINT32_MAX) {
        errorf("wallet: rollback needs a HEIGHT");
        return EXIT_USAGE;
    }
    if ((ex = wcli_open(o, false, &w)) != 0)
        return ex;
    rc = utxo_wallet_rollback(w, (uint32_t)height);
    if (rc == UTXO_OK) {
        utxo_wallet_balance(w, &value, NULL);
        printf("next height %u, balance %llu\n", utxo_wallet_next_height(w),
               (unsigned long long)value);
    } else {
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
    }
    utxo_wallet_close(w);
    return rc == UTXO_OK ? EXIT_VALID : rc == UTXO_ERR_ARG || rc == UTXO_ERR_WALLET_CHAIN
                                            ? EXIT_INVALID
                                            : EXIT_USAGE;
}

