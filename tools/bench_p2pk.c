/*
 * bench_p2pk.c — the pay-to-pubkey line of `utxo bench vm`: the per-run
 * cost of spending a standard pay-to-pubkey output through the predicate VM
 * against a bare crypto_sign_verify_detached of the same signature, in the
 * same process.
 *
 *   bench vm workload=p2pk runs=N cycles=C vm_us=... verify_us=...
 *       ratio=... ratio_known_id=... fixed_us=... fixed_ratio=...
 *
 * vm_us is one utxo_predicate_run (predicate id hashed from the image,
 * cache lookup, machine load, the run with its Ed25519 host call); ratio =
 * vm_us / verify_us. ratio_known_id is the validator's path, which has
 * already hashed the image to compare it with the spent output's id and
 * passes it in (pred_run with an id). The three are timed run by run,
 * interleaved; best of `reps` rounds of P2PK_RUNS each. On a busy machine
 * the two ratios are noisy (the signature check dominates), so the fixed
 * cost of a run is measured alone too: fixed_us is a spend that stops
 * before the signature check, fixed_ratio = (verify + fixed) / verify.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "utxo.h"
#include "bench.h"
#include "predicates/pred_run.h"
#include "predicates/stdpred.h"
#include "util.h"

#define P2PK_RUNS 1000

int bench_vm_p2pk(int reps)
{
    uint8_t pk[32], sk[64], sig[64], seed[32], id[UTXO_HASH_BYTES];
    uint64_t best_vm = UINT64_MAX, best_id = UINT64_MAX, best_ref = UINT64_MAX;
    uint64_t best_fixed = UINT64_MAX, cycles;
    utxo_outpoint op;
    utxo_output spent;
    utxo_txctx ctx;
    utxo_vm_result r;
    uint8_t *img = NULL;
    size_t img_len = 0;
    utxo_tx *tx = NULL;
    int rc = EXIT_USAGE;

    memset(seed, 7, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    if (stdpred_instance(UTXO_STD_P2PK, pk, sizeof pk, &img, &img_len) != UTXO_OK ||
        (tx = utxo_tx_new()) == NULL)
        goto out;
    memset(&op, 0x42, sizeof op);
    memset(&spent, 0, sizeof spent);
    spent.value = 5000;
    utxo_predicate_id(spent.predicate_id, img, img_len);
    memcpy(id, spent.predicate_id, sizeof id);
    if (utxo_tx_add_input(tx, &op, 100000, img, (uint32_t)img_len, NULL, 0) != UTXO_OK ||
        utxo_tx_add_output(tx, 4000, spent.predicate_id, NULL, 0) != UTXO_OK)
        goto out;
    if (utxo_txctx_init(&ctx, tx, &spent, 0, id) != UTXO_OK) /* any chain id will do */
        goto out;
    crypto_sign_detached(sig, NULL, ctx.sighash, 32, sk);
    if (utxo_predicate_run(&r, img, img_len, sig, 64, &ctx, 100000) != UTXO_OK ||
        r.status != UTXO_VM_ACCEPTED) {
        errorf("bench vm: the pay-to-pubkey predicate did not accept");
        rc = EXIT_INVALID;
        goto out;
    }
    cycles = r.cycles;
    /* The three are interleaved run by run, so that a load change on a
     * shared machine hits all of them alike. */
    for (int k = 0; k < reps; k++) {
        uint64_t sum_vm = 0, sum_id = 0, sum_ref = 0;
        for (int i = 0; i < P2PK_RUNS; i++) {
            uint64_t t0 = clock_now_ns(), t1, t2, t3;
            if (utxo_predicate_run(&r, img, img_len, sig, 64, &ctx, 100000) != UTXO_OK ||
                r.status != UTXO_VM_ACCEPTED)
                goto bad;
            t1 = clock_now_ns();
            if (crypto_sign_verify_detached(sig, ctx.sighash, 32, pk) != 0)
                goto bad;
            t2 = clock_now_ns();
            if (pred_run(&r, id, img, img_len, sig, 64, &ctx, 100000, NULL) != UTXO_OK ||
                r.status != UTXO_VM_ACCEPTED)
                goto bad;
            t3 = clock_now_ns();
            sum_vm += t1 - t0;
            sum_ref += t2 - t1;
            sum_id += t3 - t2;
        }
        best_vm = sum_vm < best_vm ? sum_vm : best_vm;
        best_id = sum_id < best_id ? sum_id : best_id;
        best_ref = sum_ref < best_ref ? sum_ref : best_ref;
    }
    /* The fixed cost alone: the same spend with a 63-byte argument, which
     * the predicate rejects before the signature check (id hashing, cache,
     * load, a few instructions, one host call). */
    for (int k = 0; k < reps; k++) {
        uint64_t t0 = clock_now_ns(), t1;
        for (int i = 0; i < P2PK_RUNS; i++)
            if (utxo_predicate_run(&r, img, img_len, sig, 63, &ctx, 100000) != UTXO_OK ||
                r.status != UTXO_VM_REJECTED)
                goto bad;
        t1 = clock_now_ns();
        best_fixed = t1 - t0 < best_fixed ? t1 - t0 : best_fixed;
    }
    printf("bench vm workload=p2pk runs=%d cycles=%llu vm_us=%.2f verify_us=%.2f ratio=%.3f "
           "ratio_known_id=%.3f fixed_us=%.3f fixed_ratio=%.3f\n",
           P2PK_RUNS, (unsigned long long)cycles, best_vm / 1e3 / P2PK_RUNS,
           best_ref / 1e3 / P2PK_RUNS, (double)best_vm / (double)best_ref,
           (double)best_id / (double)best_ref, best_fixed / 1e3 / P2PK_RUNS,
           (double)(best_ref + best_fixed) / (double)best_ref);
    rc = EXIT_VALID;
    goto out;
bad:
    errorf("bench vm: a pay-to-pubkey run did not accept");
    rc = EXIT_INVALID;
out:
    free(img);
    utxo_tx_free(tx);
    return rc;
}
