/*
 * bench_stateless.c — `utxo bench stateless`: the accumulator's costs for a
 * validator that holds only roots (docs/ACCUMULATOR.md, "Measured").
 *
 * For each forest size (10^4, 10^5, 10^6 leaves by default) a history is
 * simulated with the full forest: blocks append outputs and spend about 70%
 * as many, 60% of the spends recent (the last 5% of positions) and 40%
 * anywhere, so the forest has the holes a real one has. Then one block
 * spending --spend leaves (default 1,000) is proven:
 *   - mix=local:  half recent (the last 5% of positions, at least 4 x
 *                 --spend), half uniformly random live leaves;
 *   - mix=random: all uniformly random.
 * Printed per size: the validator's state bytes (goal <= 2,056), the batch
 * proof's bytes per spent input beside the same leaves proven one by one
 * (unbatched, same run) and beside Utreexo's published ~1 KB per input
 * unbatched at 2^28..2^31 leaves (a reference constant, not measured here);
 * and stateless verify+delete throughput as a ratio to raw BLAKE2b node
 * hashing of as many hashes as the verification computed: re-initialising
 * the personalised state per hash (hash_pair: ratio_to_raw_hash, the
 * field's old meaning) and copying the prepared one (hash_pair_dom, as the
 * accumulator hashes: ratio_to_prepared_hash).
 * Proof bytes count the accumulator proof only (positions + siblings); the
 * spent outputs' data travel in the block proof once whatever the batching.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "util.h"
#include "utxo/splitmix.h"
#include "witness/acc.h"

static hash_domain bench_node_dom = HASH_DOMAIN(TAG_ACCNODE);

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void leaf_of(acc_hash out, uint64_t pos)
{
    utxo_outpoint op;
    utxo_output o;

    memset(&op, 0, sizeof op);
    memset(&o, 0, sizeof o);
    put_u64le(op.txid, pos);
    op.index = (uint32_t)(pos & 3);
    o.value = 1000 + pos;
    acc_leaf_hash(out, &op, &o, (uint32_t)(pos / 1000), pos);
}

/*
 * Picks n_recent live positions among the last `window` and n_any anywhere,
 * distinct; marks them dead in live[]; writes them sorted to out. Returns
 * how many were found (fewer when the forest runs out of live leaves).
 */
static size_t pick(uint8_t *live, uint64_t count, uint64_t *rng, size_t n_recent, size_t n_any,
                   uint64_t window, uint64_t *out)
{
    size_t k = 0;

    if (window == 0 || window > count)
        window = count;
    for (size_t want = 0; want < n_recent + n_any && count > 0; want++) {
        for (int tries = 0; tries < 256; tries++) {
            uint64_t pos = want < n_recent ? count - 1 - splitmix64(rng) % window
                                           : splitmix64(rng) % count;
            if (live[pos]) {
                live[pos] = 0;
                out[k++] = pos;
                break;
            }
        }
    }
    qsort(out, k, sizeof *out, cmp_u64);
    return k;
}

typedef struct size_result {
    size_t spent;
    double batched, unbatched;   /* bytes per input */
} size_result;

/* Proves targets batched and one by one; bytes per input of each. */
static int measure_proof(const acc_forest *f, const uint64_t *t, size_t n, size_result *r,
                         acc_proof *batch_out)
{
    acc_proof p;
    uint64_t single = 0;
    int rc;

    r->spent = n;
    rc = acc_forest_prove(f, t, n, batch_out);
    if (rc != UTXO_OK)
        return rc;
    r->batched = (double)acc_proof_get_length(batch_out) / (double)(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        acc_proof_init(&p);
        rc = acc_forest_prove(f, &t[i], 1, &p);
        if (rc != UTXO_OK)
            return rc;
        single += acc_proof_get_length(&p);
        acc_proof_clear(&p);
    }
    r->unbatched = (double)single / (double)(n ? n : 1);
    return UTXO_OK;
}

static int run_size(uint64_t n_leaves, size_t spend, uint64_t seed)
{
    acc_forest *f = NULL;
    acc_state st, work;
    acc_proof local, random;
    uint8_t *live = NULL;
    uint64_t *t = NULL, rng = seed ^ n_leaves, per_block = n_leaves / 200, t0, build_ns,
             live_n = 0, hashes = 0, reps = 0, t_verify, t_raw, t_dom;
    acc_hash *leaves = NULL, a, b;
    size_result rl, rr;
    size_t nt, cap;
    int rc = EXIT_USAGE;
    volatile uint8_t sink = 0;

    acc_proof_init(&local);
    acc_proof_init(&random);
    if (per_block < 20)
        per_block = 20;
    cap = spend > per_block ? spend : per_block;
    live = calloc(n_leaves, 1);
    t = malloc(cap * sizeof *t);
    leaves = malloc(cap * sizeof *leaves);
    if (live == NULL || t == NULL || leaves == NULL || acc_forest_new(&f) != UTXO_OK) {
        errorf("bench stateless: out of memory");
        goto done;
    }
    /* history: append per_block, spend ~70% of that, 60% recent */
    t0 = clock_now_ns();
    while (acc_forest_count(f) < n_leaves) {
        uint64_t count = acc_forest_count(f), add = per_block;
        size_t ns = (size_t)(per_block * 7 / 10);
        if (add > n_leaves - count)
            add = n_leaves - count;
        nt = pick(live, count, &rng, ns * 6 / 10, ns - ns * 6 / 10, count / 20 + 1, t);
        if (acc_forest_delete(f, t, nt, NULL) != UTXO_OK)
            goto fail;
        for (uint64_t j = 0; j < add; j++) {
            leaf_of(a, count + j);
            if (acc_forest_add(f, a) != UTXO_OK)
                goto fail;
            live[count + j] = 1;
        }
    }
    build_ns = clock_now_ns() - t0;
    for (uint64_t i = 0; i < n_leaves; i++)
        live_n += live[i];
    if (acc_forest_state(f, &st) != UTXO_OK)
        goto fail;
    printf("bench stateless leaves=%llu live=%llu state_bytes=%zu state_goal_bytes=%u "
           "roots=%u build_s=%.2f\n",
           (unsigned long long)n_leaves, (unsigned long long)live_n, acc_state_get_length(&st),
           ACC_STATE_MAX_BYTES, acc_state_n_roots(&st), (double)build_ns / 1e9);

    /* mix=random first (restore its picks), then mix=local, which is kept */
    nt = pick(live, n_leaves, &rng, 0, spend, 0, t);
    if (measure_proof(f, t, nt, &rr, &random) != UTXO_OK)
        goto fail;
    for (size_t i = 0; i < nt; i++)
        live[t[i]] = 1;
    nt = pick(live, n_leaves, &rng, spend / 2, spend - spend / 2,
              n_leaves / 20 > spend * 4 ? n_leaves / 20 : spend * 4, t);
    if (measure_proof(f, t, nt, &rl, &local) != UTXO_OK)
        goto fail;
    printf("bench stateless leaves=%llu spent=%zu mix=local batched_bytes_per_input=%.1f "
           "unbatched_bytes_per_input=%.1f ratio_batched_to_unbatched=%.3f "
           "utreexo_unbatched_ref_bytes_per_input=1000\n",
           (unsigned long long)n_leaves, rl.spent, rl.batched, rl.unbatched,
           rl.batched / rl.unbatched);
    printf("bench stateless leaves=%llu spent=%zu mix=random batched_bytes_per_input=%.1f "
           "unbatched_bytes_per_input=%.1f ratio_batched_to_unbatched=%.3f\n",
           (unsigned long long)n_leaves, rr.spent, rr.batched, rr.unbatched,
           rr.batched / rr.unbatched);

    /* throughput: verify + delete of the local block, from the same roots */
    for (size_t i = 0; i < nt; i++)
        if (acc_forest_leaf(f, t[i], leaves[i]) != UTXO_OK)
            goto fail;
    t0 = clock_now_ns();
    do {
        uint64_t nh;
        work = st;
        if (acc_stateless_delete(&work, &local, leaves, nt, &nh) != UTXO_OK) {
            errorf("bench stateless: an honest proof did not verify");
            goto fail;
        }
        hashes += nh;
        reps++;
        sink ^= work.roots[0][0];
    } while (clock_now_ns() - t0 < 300000000u || reps < 3);
    t_verify = clock_now_ns() - t0;
    memset(a, 0x11, sizeof a);
    memset(b, 0x22, sizeof b);
    t0 = clock_now_ns();
    for (uint64_t i = 0; i < hashes; i++)
        hash_pair(a, TAG_ACCNODE, a, b);
    t_raw = clock_now_ns() - t0;
    sink ^= a[0];
    /* the same node hashes from the prepared personalised state (the
     * accumulator's own way since hash_domain): what re-initialising costs */
    t0 = clock_now_ns();
    for (uint64_t i = 0; i < hashes; i++)
        hash_pair_dom(a, &bench_node_dom, a, b);
    t_dom = clock_now_ns() - t0;
    sink ^= a[0];
    if (t_verify == 0)
        t_verify = 1;
    if (t_raw == 0)
        t_raw = 1;
    if (t_dom == 0)
        t_dom = 1;
    printf("bench stateless leaves=%llu spent=%zu verify_inputs_per_sec=%.0f "
           "node_hashes_per_input=%.1f raw_hashes_per_sec=%.0f ratio_to_raw_hash=%.3f "
           "prepared_hashes_per_sec=%.0f ratio_to_prepared_hash=%.3f\n",
           (unsigned long long)n_leaves, nt, (double)(reps * nt) * 1e9 / (double)t_verify,
           (double)hashes / (double)(reps * (nt ? nt : 1)), (double)hashes * 1e9 / (double)t_raw,
           (double)t_raw / (double)t_verify, (double)hashes * 1e9 / (double)t_dom,
           (double)t_dom / (double)t_verify);
    (void)sink;
    rc = EXIT_VALID;
    goto done;
fail:
    errorf("bench stateless: accumulator operation failed");
    rc = EXIT_INVALID;
done:
    acc_proof_clear(&local);
    acc_proof_clear(&random);
    acc_forest_free(f);
    free(live);
    free(t);
    free(leaves);
    return rc;
}

/* One leaf proven alone in a forest of 2^rows leaves with no deletion: the
 * shape Utreexo's ~1 KB figure describes, in this format. */
static void print_full_tree_reference(void)
{
    static const unsigned rows[] = {28, 31};

    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint64_t count = UINT64_C(1) << rows[i], pos = count / 3;
        size_t slots = 0;
        enc e;

        if (acc_proof_positions(count, &pos, 1, NULL, &slots) != UTXO_OK)
            return;
        enc_init(&e, NULL, 0, NULL);
        enc_varint(&e, 1);
        enc_varint(&e, pos);
        enc_varint(&e, slots);
        printf("bench stateless leaves=2^%u spent=1 mix=full_tree unbatched_bytes_per_input=%zu "
               "utreexo_unbatched_ref_bytes_per_input=1000\n",
               rows[i], e.len + (slots + 7) / 8 + slots * ACC_HASH_BYTES);
    }
}

static void stateless_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench stateless [--leaves N] [--spend K] [--seed S] [--threads N]\n"
               "                            [--blocks N] [--txs N] [--only acc|validator]\n"
               "\n"
               "The accumulator (state bytes, proof bytes per input, verify vs raw hashing\n"
               "at N leaves, default 1e4, 1e5 and 1e6) and the stateless validator\n"
               "(throughput vs bare Ed25519 on N threads, default one per CPU, at most 64;\n"
               "state bytes, peak memory).\n"
               "\nexample:\n  utxo bench stateless --leaves 100000 --only acc\n");
}

int bench_stateless(int argc, char **argv)
{
    uint64_t sizes[8] = {10000, 100000, 1000000}, spend = 1000, seed = 1;
    uint64_t threads = 0, vblocks = 160, vtxs = 50;
    size_t n_sizes = 3;
    bool acc = true, validator = true;
    int rc = EXIT_VALID;

    num_opt nums[] = {
        {"--spend", &spend, 1, 100000, false}, {"--seed", &seed, 0, UINT64_MAX, false},
        {"--leaves", &sizes[0], 100, 50000000, false}, {"--threads", &threads, 0, BENCH_ED_MAX_THREADS, false},
        {"--blocks", &vblocks, 16, 100000, false}, {"--txs", &vtxs, 1, 5000, false},
    };
    static const struct option opts[] = {
        {"spend", required_argument, NULL, CLI_NUM}, {"seed", required_argument, NULL, CLI_NUM},
        {"leaves", required_argument, NULL, CLI_NUM}, {"threads", required_argument, NULL, CLI_NUM},
        {"blocks", required_argument, NULL, CLI_NUM}, {"txs", required_argument, NULL, CLI_NUM},
        {"only", required_argument, NULL, 'o'},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench stateless", stateless_bench_usage, "", opts);
    int c;

    while ((c = cli_next(&cl, argc, argv)) != -1) {
        if (c == CLI_STOP)
            return cl.status;
        if (c == CLI_NUM && !cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
            return EXIT_USAGE;
        if (c == 'o') {
            if (strcmp(optarg, "acc") != 0 && strcmp(optarg, "validator") != 0)
                return usage_error(cl.cmd, "--only wants acc or validator, not '%s'", optarg);
            acc = strcmp(optarg, "acc") == 0;
            validator = !acc;
        }
    }
    if ((c = cli_operands(&cl, argc, argv, 0, 0, "")) != 0)
        return c;
    if (nums[2].set) /* one size instead of the default three */
        n_sizes = 1;
    for (size_t i = 0; i < n_sizes; i++)
        if (spend * 4 > sizes[i]) {
            errorf("bench stateless: --spend must be at most a quarter of the leaves");
            return EXIT_USAGE;
        }
    if (acc) {
        print_full_tree_reference();
        for (size_t i = 0; i < n_sizes && rc == EXIT_VALID; i++)
            rc = run_size(sizes[i], (size_t)spend, seed);
    }
    if (validator && rc == EXIT_VALID)
        rc = bench_stateless_validator((unsigned)threads, (uint32_t)vblocks, (uint32_t)vtxs);
    return rc;
}
