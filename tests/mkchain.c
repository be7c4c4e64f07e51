/*
 * mkchain.c — writes a test chain for tests/verify_cli.sh: a block file and
 * its proof file (docs/STATELESS.md) made by the deterministic payment
 * generator (src/chain/workload.c): a genesis allocating to pay-to-pubkey
 * wallets, then blocks of signed payments. Not installed.
 *
 * usage: mkchain BLOCKS PROOFS N_BLOCKS [TXS_PER_BLOCK [SEED]]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include "utxo.h"
#include "chain/chain.h"
#include "chain/workload.h"

int main(int argc, char **argv)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_params p;
    utxo_chainfile *bf = NULL, *pf = NULL;
    long n;
    int rc;

    if (sodium_init() < 0 || argc < 4 || (n = atol(argv[3])) <= 0) {
        fprintf(stderr, "usage: mkchain BLOCKS PROOFS N_BLOCKS [TXS_PER_BLOCK [SEED]]\n");
        return 2;
    }
    bp_gen_opts_default(&o);
    if (argc > 4)
        o.txs_per_block = (uint32_t)atol(argv[4]);
    if (argc > 5)
        o.seed = (uint64_t)atoll(argv[5]);
    rc = bp_gen_new(&g, &o, &p);
    if (rc == UTXO_OK)
        rc = utxo_chainfile_create(&bf, argv[1], UTXO_CHAINFILE_BLOCKS, &p);
    if (rc == UTXO_OK)
        rc = utxo_chainfile_create(&pf, argv[2], UTXO_CHAINFILE_PROOFS, &p);
    for (long h = 0; rc == UTXO_OK && h < n; h++) {
        utxo_block *b = NULL;
        utxo_bundle *bd = NULL;
        rc = bp_gen_next(g, &b, &bd);
        if (rc == UTXO_OK)
            rc = chain_append_block(bf, pf, b, bd, NULL, NULL);
        utxo_block_free(b);
        utxo_bundle_free(bd);
    }
    if (utxo_chainfile_close(bf) != UTXO_OK || utxo_chainfile_close(pf) != UTXO_OK)
        rc = rc ? rc : UTXO_ERR_IO;
    bp_gen_free(g);
    if (rc != UTXO_OK) {
        fprintf(stderr, "mkchain: %s\n", utxo_strerror(rc));
        return 1;
    }
    return 0;
}
