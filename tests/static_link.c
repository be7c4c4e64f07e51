/*
 * static_link.c — a program that links libutxo.a (libtool -static) and
 * defines, for its own use, names that the library uses inside (hash_init,
 * enc_u32, img_encode, acc_leaf_hash). The archive makes its internals
 * local when it is built (Makefile.am), so this links and each call reaches
 * the right function; with the internals global it fails to link with
 * "multiple definition". It includes nothing of libutxo but <utxo.h>.
 */
#include <stdio.h>
#include <string.h>
#include <utxo.h>

/* The program's own functions, with the library's internal names. */
int hash_init(void);
int enc_u32(int x);
const char *img_encode(void);
extern int acc_leaf_hash;

int hash_init(void) { return 41; }
int enc_u32(int x) { return x + 1; }
const char *img_encode(void) { return "mine"; }
int acc_leaf_hash = 7;

int main(void)
{
    uint8_t id[UTXO_HASH_BYTES] = {1}, buf[256], txid[UTXO_HASH_BYTES], txid2[UTXO_HASH_BYTES];
    utxo_tx *tx = utxo_tx_new(), *back = NULL;
    size_t len = 0;
    int fail = 0;

    if (hash_init() != 41 || enc_u32(1) != 2 || strcmp(img_encode(), "mine") != 0 ||
        acc_leaf_hash != 7) {
        fprintf(stderr, "the program's own definitions were not the ones called\n");
        fail = 1;
    }
    /* the library still works inside: encode, strictly decode, same txid
     * (hashing and encoding run through its own hash_* and enc_*) */
    if (tx == NULL || utxo_tx_add_output(tx, 1000, id, NULL, 0) != UTXO_OK ||
        utxo_tx_to_bytes(tx, buf, sizeof buf, &len) != UTXO_OK ||
        utxo_tx_from_bytes(&back, buf, len, NULL, NULL) != UTXO_OK) {
        fprintf(stderr, "transaction round trip failed\n");
        fail = 1;
    } else {
        utxo_tx_txid(tx, txid);
        utxo_tx_txid(back, txid2);
        if (memcmp(txid, txid2, sizeof txid) != 0) {
            fprintf(stderr, "txid differs after the round trip\n");
            fail = 1;
        }
    }
    if (utxo_strerror(UTXO_ERR_ARG)[0] == '\0') {
        fprintf(stderr, "no message for UTXO_ERR_ARG\n");
        fail = 1;
    }
    utxo_tx_free(tx);
    utxo_tx_free(back);
    printf("static link: %s (libutxo %s)\n", fail ? "FAIL" : "ok", utxo_version());
    return fail;
}
