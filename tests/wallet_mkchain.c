/*
 * wallet_mkchain.c — writes a small chain for tests/wallet_cli.sh: a block
 * file and its proof file whose genesis pays an address twice (the first
 * output carries the 2-byte datum "hi"), then
 * N_EMPTY blocks holding only a coinbase, then one block per transaction
 * file given (each a payment made by `utxo wallet send`). The chain is
 * deterministic, so running it again with more transactions extends the
 * same chain. Not installed.
 *
 * usage: wallet_mkchain BLOCKS PROOFS N_EMPTY ADDRESS [TX_FILE...]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "utxo.h"
#include "chain/chain.h"
#include "chain/chainbuild.h"

static utxo_tx *read_tx(const char *path, const utxo_params *p)
{
    uint8_t buf[1 << 16];
    utxo_tx *tx = NULL;
    FILE *f = fopen(path, "rb");
    size_t n;

    if (f == NULL)
        return NULL;
    n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    if (utxo_tx_from_bytes(&tx, buf, n, p, NULL) != UTXO_OK)
        return NULL;
    return tx;
}

int main(int argc, char **argv)
{
    uint8_t seed[32], sk[64], to[32], other[32] = {0x0e};
    utxo_params p;
    bp_chain *c = NULL;
    utxo_chainfile *bf = NULL, *pf = NULL;
    int rc = UTXO_OK, n_empty;

    if (sodium_init() < 0 || argc < 5 || (n_empty = atoi(argv[3])) < 0 ||
        utxo_address_decode(to, argv[4]) != UTXO_OK) {
        fprintf(stderr, "usage: wallet_mkchain BLOCKS PROOFS N_EMPTY ADDRESS [TX_FILE...]\n");
        return 2;
    }
    utxo_params_default(&p);
    memset(seed, 0x5e, sizeof seed);
    crypto_sign_seed_keypair(p.sequencer_pk, sk, seed);
    utxo_params_chain_id(&p);
    if ((rc = bp_chain_new(&c, &p, sk)) != UTXO_OK ||
        (rc = utxo_chainfile_create(&bf, argv[1], UTXO_CHAINFILE_BLOCKS, &p)) != UTXO_OK ||
        (rc = utxo_chainfile_create(&pf, argv[2], UTXO_CHAINFILE_PROOFS, &p)) != UTXO_OK)
        goto done;
    for (int k = -1; rc == UTXO_OK && k < n_empty + argc - 5; k++) {
        utxo_block *b = utxo_block_new();
        utxo_tx *cb = utxo_tx_new(), *tx = NULL;
        utxo_bundle *bd = NULL;
        uint64_t fee = 0;

        b->header.time = p.genesis_time + (uint64_t)(k + 1);
        utxo_block_add_tx(b, cb);
        if (k < 0) { /* genesis */
            utxo_tx_add_output(cb, 1000000, to, (const uint8_t *)"hi", 2); /* a datum */
            utxo_tx_add_output(cb, 2500000, to, NULL, 0);
            utxo_tx_add_output(cb, 5000000, other, NULL, 0);
        } else if (k >= n_empty) {
            uint64_t in = 0, out = 0;
            if ((tx = read_tx(argv[5 + k - n_empty], &p)) == NULL) {
                fprintf(stderr, "wallet_mkchain: cannot read %s\n", argv[5 + k - n_empty]);
                rc = UTXO_ERR_IO;
            }
            for (uint32_t i = 0; tx && i < tx->n_inputs; i++) {
                const utxo_output *o;
                uint32_t h;
                uint64_t pos;
                if (bp_chain_find(c, &tx->inputs[i].prevout, &o, &h, &pos) == UTXO_OK)
                    in += o->value;
            }
            for (uint32_t i = 0; tx && i < tx->n_outputs; i++)
                out += tx->outputs[i].value;
            fee = in > out ? in - out : 0;
            if (tx)
                utxo_block_add_tx(b, tx);
            utxo_tx_add_output(cb, fee, other, NULL, 0);
        } else {
            utxo_tx_add_output(cb, 0, other, NULL, 0);
        }
        if (rc == UTXO_OK && (rc = bp_chain_seal(c, b, &bd, NULL, NULL)) == UTXO_OK)
            rc = chain_append_block(bf, pf, b, bd, NULL, NULL);
        utxo_bundle_free(bd);
        utxo_block_free(b);
    }
done:
    if (bf && utxo_chainfile_close(bf) != UTXO_OK && rc == UTXO_OK)
        rc = UTXO_ERR_IO;
    if (pf && utxo_chainfile_close(pf) != UTXO_OK && rc == UTXO_OK)
        rc = UTXO_ERR_IO;
    bp_chain_free(c);
    if (rc != UTXO_OK) {
        fprintf(stderr, "wallet_mkchain: %s\n", utxo_strerror(rc));
        return 1;
    }
    return 0;
}
