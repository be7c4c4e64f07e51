/*
 * wallet_example.c — a small wallet program on the public API only: it
 * includes nothing of libutxo but <utxo.h> and builds with
 *
 *     cc wallet_example.c $(pkg-config --cflags --libs libutxo)
 *
 * It initialises the library (utxo_init) and checks that the library it
 * runs with is the one its headers describe (UTXO_VERSION_STRING), creates
 * a wallet file protected by a passphrase, derives two addresses, checks
 * that a mistyped address is refused, builds and signs a payment with the
 * transaction builder from a coin the first key owns, has the validator
 * check it, asks the wallet for a payment to two recipients (refused: the
 * wallet has no coin yet), backs up the seed and restores a second wallet
 * from it with a gap-limit rescan (same first address), moves a wallet
 * that has no block yet to another chain, and reopens the wallet (the
 * wrong passphrase fails, watch-only works). `make check` and `make distcheck` build and run
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

    CHECK(utxo_init(), UTXO_OK);
    printf("libutxo %s (headers %s)\n", utxo_version(), UTXO_VERSION_STRING);
    if (strcmp(utxo_version(), UTXO_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, headers %s: rebuild against the installed headers\n",
                utxo_version(), UTXO_VERSION_STRING);
        return 1;
    }
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

    /* the wallet pays two recipients in one transaction: refused here, it
     * holds no coin until it syncs a block paying it */
    {
        utxo_wallet_recipient to[2];
        utxo_tx *tx = NULL;
        size_t n_pending = 1;
        memset(to, 0, sizeof to);
        memcpy(to[0].predicate_id, id1, UTXO_HASH_BYTES);
        to[0].value = 250000;
        memcpy(to[1].predicate_id, id0, UTXO_HASH_BYTES);
        to[1].value = 40000;
        CHECK(utxo_wallet_send_many(w, to, 2, UTXO_WALLET_SEND_NO_RESERVE, &tx, NULL),
              UTXO_ERR_FUNDS);
        CHECK(utxo_wallet_payments(w, NULL, 0, &n_pending), UTXO_OK);
        if (tx != NULL || n_pending != 0)
            return 1;
    }

    /* backup and restore: the seed, a new wallet from it, a rescan */
    {
        char rpath[80], ra[UTXO_ADDRESS_LEN + 1];
        uint8_t backup[UTXO_SEED_BYTES];
        utxo_wallet *r = NULL;
        uint32_t n_keys = 0;
        CHECK(utxo_wallet_seed(w, backup), UTXO_OK);
        snprintf(rpath, sizeof rpath, "%s/restored.wallet", dir);
        CHECK(utxo_wallet_create(&r, rpath, &p, "another passphrase", backup), UTXO_OK);
        memset(backup, 0, sizeof backup);
        CHECK(utxo_wallet_rescan_begin(r, UTXO_WALLET_GAP_DEFAULT), UTXO_OK);
        /* ... utxo_wallet_apply_block for every block of the chain ... */
        CHECK(utxo_wallet_rescan_end(r, &n_keys), UTXO_OK);
        CHECK(utxo_wallet_address(r, 0, ra, NULL), UTXO_OK);
        printf("restored: %u key, address 0 %s\n", n_keys, ra);
        if (strcmp(ra, a0) != 0)
            return 1;
        /* no block yet: it may still move to another chain */
        p.max_tx_bytes /= 2;
        utxo_params_chain_id(&p);
        CHECK(utxo_wallet_set_chain(r, &p), UTXO_OK);
        utxo_wallet_close(r);
        unlink(rpath);
    }
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
