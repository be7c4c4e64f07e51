/*
 * fuzz_accproof.c — libFuzzer target for the accumulator's batch-proof
 * decoder and stateless verifier. Run:
 *   tests/fuzz/fuzz_accproof tests/fuzz/corpus/accproof
 *
 * The input is an encoded proof, decoded against a fixed forest (300
 * leaves, some deleted) built once. Beyond "no crash, no leak" it asserts:
 * what decodes re-encodes to the same bytes; verification with the real
 * leaf hashes either fails and leaves the state untouched, or succeeds only
 * for live leaves and then yields exactly the roots that the forest's own
 * proof yields (a proof may differ from the forest's, never its result).
 *
 * Built with -DACCPROOF_MAKE_SEEDS and no libFuzzer, it instead writes the
 * seed corpus (honest proofs of a few target sets) into the directory given
 * as its argument.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "witness/acc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_LEAVES 300u

static acc_forest *forest;
static acc_state state;
static acc_hash original[N_LEAVES];

static void setup(void)
{
    utxo_output o;

    if (forest != NULL)
        return;
    if (sodium_init() < 0 || acc_forest_new(&forest) != UTXO_OK)
        abort();
    acc_state_init(&state);
    memset(&o, 0, sizeof o);
    for (uint64_t i = 0; i < N_LEAVES; i++) {
        utxo_outpoint op;
        memset(op.txid, (int)(i & 0xff), sizeof op.txid);
        op.index = (uint32_t)i;
        o.value = i * 1000;
        acc_leaf_hash(original[i], &op, &o, (uint32_t)(i / 10), i);
        if (acc_forest_add(forest, original[i]) != UTXO_OK)
            abort();
    }
    /* delete every leaf whose position is 3 mod 7, and 20..35 whole */
    for (uint64_t i = 0; i < N_LEAVES; i++)
        if (i % 7 == 3 || (i >= 20 && i < 36))
            if (acc_forest_delete(forest, &i, 1, NULL) != UTXO_OK)
                abort();
    if (acc_forest_state(forest, &state) != UTXO_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    acc_proof p, honest;
    acc_state s, h;
    acc_hash *leaves = NULL;
    uint8_t *back = NULL;
    size_t off, w;
    int rc;

    setup();
    acc_proof_init(&p);
    acc_proof_init(&honest);
    if (acc_proof_from_bytes(&p, data, size, state.count, &off) != UTXO_OK)
        return 0;
    back = malloc(size ? size : 1);
    if (back == NULL || acc_proof_to_bytes(&p, back, size, &w) != UTXO_OK || w != size ||
        memcmp(back, data, size) != 0)
        abort();
    leaves = malloc((p.n_targets ? p.n_targets : 1) * sizeof *leaves);
    if (leaves == NULL)
        abort();
    for (size_t i = 0; i < p.n_targets; i++)
        memcpy(leaves[i], original[p.targets[i]], ACC_HASH_BYTES);
    s = state;
    rc = acc_stateless_delete(&s, &p, leaves, p.n_targets, NULL);
    if (rc != UTXO_OK) {
        if (memcmp(&s, &state, sizeof s) != 0)
            abort();
        goto done;
    }
    /* accepted: every target must be live, and the result must be right */
    if (acc_forest_prove(forest, p.targets, p.n_targets, &honest) != UTXO_OK)
        abort();
    h = state;
    if (acc_stateless_delete(&h, &honest, leaves, p.n_targets, NULL) != UTXO_OK ||
        !acc_state_equal(&h, &s))
        abort();
done:
    acc_proof_clear(&p);
    acc_proof_clear(&honest);
    free(leaves);
    free(back);
    return 0;
}

#ifdef ACCPROOF_MAKE_SEEDS
int main(int argc, char **argv)
{
    static const uint64_t sets[][6] = {
        {0, 0, 0, 0, 0, 0}, {1, 0, 0, 0, 0, 0}, {2, 1, 2, 0, 0, 0},
        {4, 0, 1, 2, 4, 0}, {3, 40, 41, 299, 0, 0}, {5, 19, 36, 37, 100, 256},
    };
    static const size_t counts[] = {0, 1, 2, 4, 3, 5};

    if (argc != 2)
        return 2;
    setup();
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        acc_proof p;
        uint8_t buf[4096];
        size_t w;
        char path[1024];
        FILE *f;

        acc_proof_init(&p);
        if (acc_forest_prove(forest, &sets[k][1], counts[k], &p) != UTXO_OK ||
            acc_proof_to_bytes(&p, buf, sizeof buf, &w) != UTXO_OK)
            return 1;
        snprintf(path, sizeof path, "%s/seed%zu", argv[1], k);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, w, f) != w || fclose(f) != 0)
            return 1;
        acc_proof_clear(&p);
    }
    return 0;
}
#endif
