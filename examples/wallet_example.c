/*
 * wallet_example.c — a small wallet program on the public API only: it
 * includes nothing of libutxo but <utxo.h> and builds with
 *
 *     cc wallet_example.c $(pkg-config --cflags --libs libutxo)
 *
 * It creates a wallet file protected by a passphrase, derives two
 * addresses, checks that a mistyped address is refused, builds and signs a
 * payment with the transaction builder from a coin the first key owns, has
 * the validator check it, and reopens the wallet (the wrong passphrase
 * fails, watch-only works). `make check` and `make distcheck` build and run
 * it; `make installcheck` builds it again with pkg-config against the
 * installed library. Exit status 0 when every step did what it should.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utxo.h>

#define CHECK(expr, want)                                                              \
    do {                                                                               \
        int rc_ = (expr);                                                              \
        if (rc_ != (want)) {                                                           \
            fprintf(stderr, "%s:%d: %s: %s (wanted %s)\n", __FILE__, __LINE__, #expr,  \
                    utxo_strerror(rc_), utxo_strerror(want));                          \
            return 1;                                                                  \
        }                                                                              \
    } while (0)

int main(void)
{
    char dir[] = "/tmp/utxo-example-XXXXXX", path[64], a0[UTXO_ADDRESS_LEN + 1],
         a1[UTXO_ADDRESS_LEN + 1], typo[UTXO_ADDRESS_LEN + 1];
    uint8_t master[UTXO_SEED_BYTES] = {1, 2, 3}, pk[UTXO_PUBKEY_BYTES], sk[UTXO_SECRETKEY_BYTES];
    uint8_t id0[UTXO_HASH_BYTES], id1[UTXO_HASH_BYTES], img[UTXO_STD_IMAGE_MAX_BYTES];
    utxo_params p;
    utxo_wallet *w = NULL;
    utxo_builder *b;
    utxo_coin coin;
    utxo_verdict v;
    size_t img_len;
    uint64_t balance;

    printf("libutxo %s\n", utxo_version());
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof path, "%s/example.wallet", dir);
    utxo_params_default(&p);

    /* a wallet and two addresses */
    CHECK(utxo_wallet_create(&w, path, &p, "example passphrase", master), UTXO_OK);
    CHECK(utxo_wallet_new_key(w, NULL, pk), UTXO_OK);
    CHECK(utxo_wallet_new_key(w, NULL, NULL), UTXO_OK);
    CHECK(utxo_wallet_address(w, 0, a0, NULL), UTXO_OK);
    CHECK(utxo_wallet_address(w, 1, a1, NULL), UTXO_OK);
    printf("address 0 %s\naddress 1 %s\n", a0, a1);
    CHECK(utxo_address_decode(id0, a0), UTXO_OK);
    CHECK(utxo_address_decode(id1, a1), UTXO_OK);
    memcpy(typo, a1, sizeof typo);
    typo[20] = typo[20] == 'q' ? 'p' : 'q';
    CHECK(utxo_address_decode(id1, typo), UTXO_ERR_ADDRESS_CHECKSUM);
    CHECK(utxo_address_decode(id1, a1), UTXO_OK);

    /* a payment from a coin of key 0 to address 1, through the builder */
    CHECK(utxo_keypair_derive(pk, sk, master, 0), UTXO_OK);
    CHECK(utxo_std_p2pk_image(img, sizeof img, &img_len, pk), UTXO_OK);
    memset(&coin, 0, sizeof coin);
    memset(coin.outpoint.txid, 0xaa, UTXO_HASH_BYTES);
    coin.output.value = 1000000;
    memcpy(coin.output.predicate_id, id0, UTXO_HASH_BYTES);
    coin.image = img;
    coin.image_len = img_len;
    b = utxo_builder_new(&p, 1);
    if (b == NULL)
        return 1;
    CHECK(utxo_builder_add_coin(b, &coin), UTXO_OK);
    CHECK(utxo_builder_add_output(b, 250000, id1, NULL, 0), UTXO_OK);
    CHECK(utxo_builder_set_change(b, id0), UTXO_OK);
    CHECK(utxo_builder_finalize(b), UTXO_OK);
    CHECK(utxo_builder_check(b, &v), UTXO_ERR_UNSIGNED);
    CHECK(utxo_builder_sign(b, sk, NULL), UTXO_OK);
    CHECK(utxo_builder_check(b, &v), UTXO_OK);
    printf("payment: %zu bytes, fee %llu, change %llu, %llu cycles\n", utxo_builder_get_length(b),
           (unsigned long long)utxo_builder_fee(b), (unsigned long long)utxo_builder_change(b),
           (unsigned long long)v.cycles);
    utxo_builder_free(b);
    utxo_wallet_close(w);

    /* reopen: the wrong passphrase fails, watch-only reads */
    CHECK(utxo_wallet_open(&w, path, "wrong"), UTXO_ERR_PASSPHRASE);
    CHECK(utxo_wallet_open(&w, path, NULL), UTXO_OK);
    CHECK(utxo_wallet_balance(w, &balance, NULL), UTXO_OK);
    printf("watch-only: %u keys, balance %llu, next height %u\n", utxo_wallet_key_count(w),
           (unsigned long long)balance, utxo_wallet_next_height(w));
    CHECK(utxo_wallet_new_key(w, NULL, NULL), UTXO_ERR_WATCH_ONLY);
    utxo_wallet_close(w);

    unlink(path);
    rmdir(dir);
    printf("ok\n");
    return 0;
}
