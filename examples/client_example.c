/*
 * client_example.c — a wallet that talks to a node, on the public API only
 * (<utxo.h>, the node client of utxo/client.h):
 *
 *     client_example URL WALLET ADDRESS AMOUNT
 *
 * The wallet file's passphrase comes from $UTXO_PASSPHRASE. It refuses a
 * URL that is not http(s), reads the node's status, syncs the wallet from
 * the node (every block checked against the wallet's roots), pays AMOUNT
 * to ADDRESS and hands the payment to the node (utxo_client_submit), then
 * reserves its coins; it hands the same payment again and checks that the
 * node refuses it with its own code (UTXO_ERR_MP_DUPLICATE, or
 * UTXO_ERR_TX_MISSING once a block took it). Prints "txid HEX" and exits 0
 * when every step did what it should. tests/sequencer_cli.sh runs it
 * against a sequencer and a bridge.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utxo.h>

#define CHECK(expr, want)                                                              \
    do {                                                                               \
        int rc_ = (expr);                                                              \
        if (rc_ != (want)) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s (wanted %s)%s%s\n", __FILE__, __LINE__,     \
                    #expr, utxo_strerror(rc_), utxo_strerror(want), c ? ": " : "",     \
                    c ? utxo_client_errmsg(c) : "");                                   \
            goto out;                                                                  \
        }                                                                              \
    } while (0)

int main(int argc, char **argv)
{
    utxo_client *c = NULL, *bad = NULL;
    utxo_wallet *w = NULL;
    utxo_tx *tx = NULL;
    utxo_client_status st;
    utxo_pipe_result res;
    utxo_verdict vd;
    uint8_t to[UTXO_HASH_BYTES], txid[UTXO_HASH_BYTES], mine[UTXO_HASH_BYTES];
    uint64_t amount, fee = 0, balance = 0;
    int ex = 1, rc;

    if (argc != 5) {
        fprintf(stderr, "usage: client_example URL WALLET ADDRESS AMOUNT\n");
        return 2;
    }
    amount = strtoull(argv[4], NULL, 10);
    CHECK(utxo_init(), UTXO_OK);
    CHECK(utxo_client_open(&bad, "ftp://example"), UTXO_ERR_ARG);
    CHECK(utxo_address_decode(to, argv[3]), UTXO_OK);
    CHECK(utxo_wallet_open(&w, argv[2], getenv("UTXO_PASSPHRASE")), UTXO_OK);
    CHECK(utxo_client_open(&c, argv[1]), UTXO_OK);
    CHECK(utxo_client_get_status(c, &st), UTXO_OK);
    printf("node: role %s, height %lld, mempool %llu\n", st.role, (long long)st.height,
           (unsigned long long)st.mempool);
    CHECK(utxo_client_sync_wallet(c, w, NULL, &res), UTXO_OK);
    CHECK(utxo_wallet_balance(w, &balance, NULL), UTXO_OK);
    printf("synced %llu blocks, balance %llu\n", (unsigned long long)res.applied,
           (unsigned long long)balance);
    {
        utxo_wallet_recipient r = {.value = amount};
        memcpy(r.predicate_id, to, UTXO_HASH_BYTES);
        CHECK(utxo_wallet_send_many(w, &r, 1, UTXO_WALLET_SEND_NO_RESERVE, &tx, &fee), UTXO_OK);
    }
    CHECK(utxo_client_submit(c, tx, txid, &vd), UTXO_OK);
    utxo_tx_txid(tx, mine);
    CHECK(memcmp(mine, txid, UTXO_HASH_BYTES) == 0, 1);
    CHECK(utxo_wallet_reserve(w, tx), UTXO_OK);
    rc = utxo_client_submit(c, tx, NULL, &vd);
    if (rc != UTXO_ERR_MP_DUPLICATE && rc != UTXO_ERR_TX_MISSING) {
        fprintf(stderr, "the same payment again: %s (wanted a refusal by the node)\n",
                utxo_strerror(rc));
        goto out;
    }
    printf("again: refused: %s\n", utxo_client_errmsg(c));
    printf("txid ");
    for (size_t i = 0; i < UTXO_HASH_BYTES; i++)
        printf("%02x", txid[i]);
    printf("\nfee %llu\n", (unsigned long long)fee);
    ex = 0;
out:
    utxo_tx_free(tx);
    utxo_client_close(bad);
    utxo_client_close(c);
    utxo_wallet_close(w);
    return ex;
}
