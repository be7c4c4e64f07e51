/*
 * fuzz_bundle.c — libFuzzer target for the block proof bundle decoder and
 * the stateless validator behind it. Run:
 *   tests/fuzz/fuzz_bundle tests/fuzz/corpus/bundle
 *
 * Setup (once): a deterministic chain from the payment generator (genesis
 * plus three blocks of payments, some spending outputs of their own block);
 * a validator is brought to the tip before the last block, whose honest
 * bundle is the seed. The input is an encoded bundle. Beyond "no crash, no
 * leak" it asserts: what decodes re-encodes to the same bytes; applied with
 * the last block, it is either rejected with the validator's state bytes
 * unchanged, or accepted with exactly the state the honest bundle gives;
 * and the same input as the hint of utxo_validator_apply_ahead (checked
 * ahead while the block before it runs, on two threads, then taken by the
 * call for the last block) gives the same verdict and state. And the
 * proof files' record check (utxo_bundle_check_prefix) never refuses a
 * prefix of a record that decodes: eight prefixes of each such input pass.
 *
 * Built with -DBUNDLE_MAKE_SEEDS and no libFuzzer, it instead writes the
 * seed corpus (the honest bundles of the four blocks) into the directory
 * given as its argument.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"
#include "chain/workload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_BLOCKS 4

static utxo_params params;
static utxo_block *blocks[N_BLOCKS];
static utxo_bundle *bundles[N_BLOCKS];
static uint8_t pre_state[UTXO_VALIDATOR_STATE_MAX_BYTES], post_state[UTXO_VALIDATOR_STATE_MAX_BYTES];
static uint8_t pre2_state[UTXO_VALIDATOR_STATE_MAX_BYTES]; /* before the block before the last */
static size_t pre_len, post_len, pre2_len;

static void setup(void)
{
    bp_gen_opts o;
    bp_gen *g = NULL;
    utxo_validator *v;

    if (blocks[0] != NULL)
        return;
    bp_gen_opts_default(&o);
    o.txs_per_block = 3;
    o.max_inputs = 2;
    o.chain_pct = 40;
    o.seed = 99;
    if (sodium_init() < 0 || bp_gen_new(&g, &o, &params) != UTXO_OK)
        abort();
    for (int h = 0; h < N_BLOCKS; h++)
        if (bp_gen_next(g, &blocks[h], &bundles[h]) != UTXO_OK)
            abort();
    bp_gen_free(g);
    if ((v = utxo_validator_new(&params, 1)) == NULL)
        abort();
    for (int h = 0; h < N_BLOCKS - 1; h++) {
        if (h == N_BLOCKS - 2 &&
            utxo_validator_state_to_bytes(v, pre2_state, sizeof pre2_state, &pre2_len) != UTXO_OK)
            abort();
        if (utxo_validator_apply(v, blocks[h], bundles[h], NULL) != UTXO_OK)
            abort();
    }
    if (utxo_validator_state_to_bytes(v, pre_state, sizeof pre_state, &pre_len) != UTXO_OK ||
        utxo_validator_apply(v, blocks[N_BLOCKS - 1], bundles[N_BLOCKS - 1], NULL) != UTXO_OK ||
        utxo_validator_state_to_bytes(v, post_state, sizeof post_state, &post_len) != UTXO_OK)
        abort();
    utxo_validator_free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    utxo_bundle *b = NULL;
    utxo_validator *v = NULL;
    uint8_t *back = NULL, st[UTXO_VALIDATOR_STATE_MAX_BYTES], st2[UTXO_VALIDATOR_STATE_MAX_BYTES];
    size_t off, w, sl, sl2;
    utxo_verdict vd, vd2;
    int rc, rc2;

    setup();
    if (utxo_bundle_from_bytes(&b, data, size, &params, &off) != UTXO_OK) {
        if (b != NULL || off > size)
            abort();
        return 0;
    }
    for (size_t k = 0; k < 8; k++) /* no prefix of a good record is refused */
        if (utxo_bundle_check_prefix(data, size * k / 8, size, &params) != UTXO_OK)
            abort();
    back = malloc(size ? size : 1);
    if (back == NULL || utxo_bundle_get_length(b) != size ||
        utxo_bundle_to_bytes(b, back, size, &w) != UTXO_OK || w != size ||
        memcmp(back, data, size) != 0)
        abort();
    if (utxo_validator_from_state(&v, &params, pre_state, pre_len, 1, NULL) != UTXO_OK)
        abort();
    rc = utxo_validator_apply(v, blocks[N_BLOCKS - 1], b, &vd);
    if (utxo_validator_state_to_bytes(v, st, sizeof st, &sl) != UTXO_OK)
        abort();
    if (rc != UTXO_OK ? sl != pre_len || memcmp(st, pre_state, sl) != 0
                      : sl != post_len || memcmp(st, post_state, sl) != 0)
        abort();
    utxo_validator_free(v);
    /* the same bundle checked ahead, beside the block before it */
    if (utxo_validator_from_state(&v, &params, pre2_state, pre2_len, 2, NULL) != UTXO_OK ||
        utxo_validator_apply_ahead(v, blocks[N_BLOCKS - 2], bundles[N_BLOCKS - 2],
                                   blocks[N_BLOCKS - 1], b, NULL) != UTXO_OK)
        abort();
    rc2 = utxo_validator_apply_ahead(v, blocks[N_BLOCKS - 1], b, blocks[0], bundles[0], &vd2);
    if (rc2 != rc || vd2.tx != vd.tx || vd2.input != vd.input || vd2.fees != vd.fees ||
        vd2.cycles != vd.cycles ||
        utxo_validator_state_to_bytes(v, st2, sizeof st2, &sl2) != UTXO_OK || sl2 != sl ||
        memcmp(st2, st, sl) != 0)
        abort();
    utxo_validator_free(v);
    utxo_bundle_free(b);
    free(back);
    return 0;
}

#ifdef BUNDLE_MAKE_SEEDS
int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    setup();
    for (int h = 0; h < N_BLOCKS; h++) {
        size_t n = utxo_bundle_get_length(bundles[h]), w;
        uint8_t *buf = malloc(n);
        char path[1024];
        FILE *f;

        if (buf == NULL || utxo_bundle_to_bytes(bundles[h], buf, n, &w) != UTXO_OK)
            return 1;
        snprintf(path, sizeof path, "%s/block%d", argv[1], h);
        f = fopen(path, "wb");
        if (f == NULL || fwrite(buf, 1, w, f) != w || fclose(f) != 0)
            return 1;
        free(buf);
    }
    return 0;
}
#endif
