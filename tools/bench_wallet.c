/*
 * bench_wallet.c — `utxo bench wallet`: what keeping proofs fresh costs a
 * wallet (docs/WALLET.md).
 *
 * update: a forest of --leaves leaves (default 2^17) in which the wallet
 *   owns --coins random coins (default 100). Each of --blocks blocks
 *   (default 20) spends --spend random live leaves (default 500; one in
 *   ten blocks spends one of the wallet's coins) and appends as many, one
 *   of which pays the wallet. Per block the wallet carries its batch proof
 *   across with acc_proof_update from the block proof alone; the baseline
 *   is what a stateless validator does with the same block anyway
 *   (acc_stateless_apply: verify the block proof, delete, append).
 *   ratio = update time / validator time. Also: the wallet's batch proof
 *   bytes beside its coins proven one by one (same run).
 * sync: a small chain end to end (genesis paying the wallet, then blocks
 *   of payments to and from it, each checked by the predicates): the time
 *   of utxo_wallet_apply_block (stateless validation, proof update, one
 *   SQL transaction with fsync) beside utxo_validator_apply alone on the
 *   same blocks. ratio = wallet / validator.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "bench.h"
#include "util.h"
#include "utxo/splitmix.h"
#include "witness/acc.h"
#include "chain/chainbuild.h"

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void leaf_of(acc_hash out, uint64_t pos, uint64_t salt)
{
    uint8_t in[16];

    put_u64le(in, pos);
    put_u64le(in + 8, salt);
    crypto_generichash(out, ACC_HASH_BYTES, in, sizeof in, NULL, 0);
}

static bool contains(const uint64_t *v, size_t n, uint64_t x)
{
    return bsearch(&x, v, n, sizeof *v, cmp_u64) != NULL;
}

static int bench_update(uint64_t n_leaves, uint64_t n_coins, uint64_t n_blocks, uint64_t spend,
                        uint64_t seed)
{
    acc_forest *f = NULL;
    acc_proof mine, bp, np;
    acc_hash *mine_leaves = NULL, *bleaves = NULL, *adds = NULL, *nl = NULL;
    uint64_t *live = NULL, *tg = NULL, n_live = 0, t_upd = 0, t_val = 0, bytes_single = 0;
    uint64_t s = seed, batch_bytes = 0;
    int rc = UTXO_ERR_NOMEM;

    acc_proof_init(&mine);
    acc_proof_init(&bp);
    acc_proof_init(&np);
    live = malloc((n_leaves + n_blocks * spend) * sizeof *live);
    tg = malloc((spend + n_coins + n_blocks) * sizeof *tg);
    mine_leaves = malloc((n_coins + n_blocks) * sizeof *mine_leaves);
    nl = malloc((n_coins + n_blocks) * sizeof *nl);
    bleaves = malloc(spend * sizeof *bleaves);
    adds = malloc(spend * sizeof *adds);
    if (!live || !tg || !mine_leaves || !nl || !bleaves || !adds || acc_forest_new(&f) != UTXO_OK)
        goto done;
    for (uint64_t i = 0; i < n_leaves; i++) {
        acc_hash h;
        leaf_of(h, i, 0);
        if ((rc = acc_forest_add(f, h)) != UTXO_OK)
            goto done;
        live[n_live++] = i;
    }
    /* the wallet's coins: distinct random positions */
    size_t nm = 0;
    while (nm < n_coins) {
        uint64_t p = splitmix64(&s) % n_leaves;
        bool dup = false;
        for (size_t k = 0; k < nm; k++)
            dup |= tg[k] == p;
        if (!dup)
            tg[nm++] = p;
    }
    qsort(tg, nm, sizeof *tg, cmp_u64);
    if ((rc = acc_forest_prove(f, tg, nm, &mine)) != UTXO_OK)
        goto done;
    for (size_t k = 0; k < nm; k++)
        if ((rc = acc_forest_leaf(f, tg[k], mine_leaves[k])) != UTXO_OK)
            goto done;
    for (uint64_t blk = 0; blk < n_blocks; blk++) {
        acc_state st, st2;
        uint64_t count = acc_forest_count(f), watch, t0;
        size_t nt = 0;

        if ((rc = acc_forest_state(f, &st)) != UTXO_OK)
            goto done;
        if (blk % 10 == 9 && mine.n_targets > 0) { /* one of the wallet's coins */
            tg[nt++] = mine.targets[splitmix64(&s) % mine.n_targets];
            for (uint64_t j = 0; j < n_live; j++)
                if (live[j] == tg[0]) {
                    live[j] = live[--n_live];
                    break;
                }
        }
        while (nt < spend) {
            size_t k = splitmix64(&s) % n_live;
            uint64_t p = live[k];
            if (contains(mine.targets, mine.n_targets, p))
                continue;
            tg[nt++] = p;
            live[k] = live[--n_live];
        }
        qsort(tg, nt, sizeof *tg, cmp_u64);
        for (size_t k = 0; k < nt; k++)
            if ((rc = acc_forest_leaf(f, tg[k], bleaves[k])) != UTXO_OK)
                goto done;
        for (uint64_t j = 0; j < spend; j++) {
            leaf_of(adds[j], count + j, blk + 1);
            live[n_live++] = count + j;
        }
        acc_proof_clear(&bp);
        if ((rc = acc_forest_apply_block(f, tg, nt, adds, spend, &bp, NULL)) != UTXO_OK)
            goto done;
        watch = count + splitmix64(&s) % spend;
        /* the validator's part (baseline) */
        st2 = st;
        t0 = clock_now_ns();
        rc = acc_stateless_apply(&st2, &bp, bleaves, nt, adds, spend);
        t_val += clock_now_ns() - t0;
        if (rc != UTXO_OK)
            goto done;
        /* the wallet's part */
        t0 = clock_now_ns();
        rc = acc_proof_update(&np, nl, &mine, mine_leaves, mine.n_targets, &st, &bp, bleaves, nt,
                              adds, spend, &watch, 1);
        t_upd += clock_now_ns() - t0;
        if (rc != UTXO_OK)
            goto done;
        acc_proof_clear(&mine);
        mine = np;
        acc_proof_init(&np);
        memcpy(mine_leaves, nl, mine.n_targets * sizeof *nl);
    }
    /* bytes: the batch proof beside one proof per coin */
    batch_bytes = acc_proof_get_length(&mine);
    for (size_t k = 0; k < mine.n_targets; k++) {
        acc_proof one;
        acc_proof_init(&one);
        if ((rc = acc_forest_prove(f, &mine.targets[k], 1, &one)) != UTXO_OK)
            goto done;
        bytes_single += acc_proof_get_length(&one);
        acc_proof_clear(&one);
    }
    printf("bench wallet update leaves=%llu coins=%zu blocks=%llu spend=%llu "
           "update_us=%.1f validator_us=%.1f ratio=%.2f\n",
           (unsigned long long)n_leaves, mine.n_targets, (unsigned long long)n_blocks,
           (unsigned long long)spend, t_upd / 1e3 / (double)n_blocks,
           t_val / 1e3 / (double)n_blocks, t_val ? (double)t_upd / (double)t_val : 0.0);
    printf("bench wallet proof coins=%zu batch_bytes=%llu single_bytes=%llu ratio=%.2f\n",
           mine.n_targets, (unsigned long long)batch_bytes, (unsigned long long)bytes_single,
           bytes_single ? (double)batch_bytes / (double)bytes_single : 0.0);
    rc = UTXO_OK;
done:
    acc_proof_clear(&mine);
    acc_proof_clear(&bp);
    acc_proof_clear(&np);
    acc_forest_free(f);
    free(live);
    free(tg);
    free(mine_leaves);
    free(nl);
    free(bleaves);
    free(adds);
    return rc;
}

/* ---- end to end --------------------------------------------------------------- */

typedef struct party {
    uint8_t pk[32], sk[64], img[UTXO_STD_IMAGE_MAX_BYTES], id[32];
    size_t img_len;
    utxo_outpoint op[64];
    uint64_t val[64];
    size_t n;
} party;

/* A payment from party o's largest coin to id (change back to o). */
static utxo_tx *pay(const utxo_params *p, uint32_t height, party *o, const uint8_t id[32],
                    uint64_t amount, uint64_t *fee)
{
    utxo_builder *b = utxo_builder_new(p, height);
    utxo_tx *tx = NULL;

    for (size_t k = 0; b && k < o->n; k++) {
        utxo_coin c;
        memset(&c, 0, sizeof c);
        c.outpoint = o->op[k];
        c.output.value = o->val[k];
        memcpy(c.output.predicate_id, o->id, 32);
        c.image = o->img;
        c.image_len = o->img_len;
        utxo_builder_add_coin(b, &c);
    }
    if (b && utxo_builder_add_output(b, amount, id, NULL, 0) == UTXO_OK &&
        utxo_builder_set_change(b, o->id) == UTXO_OK && utxo_builder_finalize(b) == UTXO_OK &&
        utxo_builder_sign(b, o->sk, NULL) == UTXO_OK && utxo_builder_get_tx(b, &tx) == UTXO_OK)
        *fee = utxo_builder_fee(b);
    utxo_builder_free(b);
    return tx;
}

/* Records the coins of the parties after a block. */
static void track(party *ps, size_t np, const utxo_block *b)
{
    for (uint32_t t = 0; t < b->n_txs; t++) {
        const utxo_tx *tx = b->txs[t];
        uint8_t txid[32];
        for (uint32_t i = 0; i < tx->n_inputs; i++)
            for (size_t q = 0; q < np; q++)
                for (size_t k = 0; k < ps[q].n; k++)
                    if (memcmp(ps[q].op[k].txid, tx->inputs[i].prevout.txid, 32) == 0 &&
                        ps[q].op[k].index == tx->inputs[i].prevout.index) {
                        ps[q].n--;
                        ps[q].op[k] = ps[q].op[ps[q].n];
                        ps[q].val[k] = ps[q].val[ps[q].n];
                    }
        utxo_tx_txid(tx, txid);
        for (uint32_t o = 0; o < tx->n_outputs; o++)
            for (size_t q = 0; q < np; q++)
                if (memcmp(tx->outputs[o].predicate_id, ps[q].id, 32) == 0 && ps[q].n < 64) {
                    memcpy(ps[q].op[ps[q].n].txid, txid, 32);
                    ps[q].op[ps[q].n].index = o;
                    ps[q].val[ps[q].n++] = tx->outputs[o].value;
                }
    }
}

static int bench_sync(uint64_t n_blocks)
{
    uint8_t seed[32] = {0x5e}, sk[64], master[32] = {9}, wid[4][32];
    char dir[] = "/tmp/utxo-bench-wallet-XXXXXX", path[96];
    utxo_params p;
    bp_chain *c = NULL;
    utxo_validator *v = NULL;
    utxo_wallet *w = NULL;
    party ps[3];
    uint64_t t_w = 0, t_v = 0, bal = 0, coins = 0;
    int rc = UTXO_ERR_NOMEM;

    if (mkdtemp(dir) == NULL)
        return UTXO_ERR_IO;
    snprintf(path, sizeof path, "%s/bench.wallet", dir);
    utxo_params_default(&p);
    crypto_sign_seed_keypair(p.sequencer_pk, sk, seed);
    utxo_params_chain_id(&p);
    memset(ps, 0, sizeof ps);
    for (uint32_t i = 0; i < 3; i++) {
        uint8_t m[32] = {0x31};
        utxo_keypair_derive(ps[i].pk, ps[i].sk, m, i);
        utxo_std_p2pk_image(ps[i].img, sizeof ps[i].img, &ps[i].img_len, ps[i].pk);
        utxo_predicate_id(ps[i].id, ps[i].img, ps[i].img_len);
    }
    if ((rc = bp_chain_new(&c, &p, sk)) != UTXO_OK ||
        (rc = utxo_wallet_create(&w, path, &p, "bench", master)) != UTXO_OK)
        goto done;
    if ((v = utxo_validator_new(&p, 1)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    for (int k = 0; k < 4; k++) {
        char a[UTXO_ADDRESS_LEN + 1];
        if ((rc = utxo_wallet_new_key(w, NULL, NULL)) != UTXO_OK ||
            (rc = utxo_wallet_address(w, (uint32_t)k, a, NULL)) != UTXO_OK ||
            (rc = utxo_address_decode(wid[k], a)) != UTXO_OK)
            goto done;
    }
    for (uint64_t h = 0; h <= n_blocks; h++) {
        utxo_block *b = utxo_block_new();
        utxo_tx *cb = utxo_tx_new();
        utxo_bundle *bd = NULL;
        utxo_verdict vd;
        uint64_t fees = 0, fee = 0, t0;

        if (b == NULL || cb == NULL || utxo_block_add_tx(b, cb) != UTXO_OK) {
            utxo_tx_free(cb);
            utxo_block_free(b);
            rc = UTXO_ERR_NOMEM;
            goto done;
        }
        b->header.time = h;
        if (h == 0) {
            for (int k = 0; k < 16; k++)
                utxo_tx_add_output(cb, 1000000, wid[k % 4], NULL, 0);
            for (int k = 0; k < 30; k++)
                utxo_tx_add_output(cb, 5000000, ps[k % 3].id, NULL, 0);
        } else {
            utxo_tx *tx = NULL;
            if (utxo_wallet_send(w, ps[h % 3].id, 20000, &tx, &fee) == UTXO_OK) {
                utxo_block_add_tx(b, tx);
                fees += fee;
            }
            for (int q = 0; q < 3; q++) /* each party pays the wallet once */
                if ((tx = pay(&p, (uint32_t)h, &ps[q], wid[(h + (uint64_t)q) % 4], 30000 + h,
                              &fee)) != NULL) {
                    utxo_block_add_tx(b, tx);
                    fees += fee;
                }
            utxo_tx_add_output(cb, fees, ps[0].id, NULL, 0);
        }
        if ((rc = bp_chain_seal(c, b, &bd, NULL, NULL)) != UTXO_OK) {
            utxo_block_free(b);
            goto done;
        }
        track(ps, 3, b);
        t0 = clock_now_ns();
        rc = utxo_validator_apply(v, b, bd, &vd);
        t_v += h ? clock_now_ns() - t0 : 0;
        if (rc == UTXO_OK) {
            t0 = clock_now_ns();
            rc = utxo_wallet_apply_block(w, b, bd, &vd);
            t_w += h ? clock_now_ns() - t0 : 0;
        }
        utxo_bundle_free(bd);
        utxo_block_free(b);
        if (rc != UTXO_OK)
            goto done;
    }
    utxo_wallet_balance(w, &bal, &coins);
    printf("bench wallet sync blocks=%llu balance=%llu coins=%llu wallet_ms=%.2f validator_ms=%.2f "
           "ratio=%.2f\n",
           (unsigned long long)n_blocks, (unsigned long long)bal, (unsigned long long)coins,
           t_w / 1e6 / (double)n_blocks, t_v / 1e6 / (double)n_blocks,
           t_v ? (double)t_w / (double)t_v : 0.0);
    rc = UTXO_OK;
done:
    utxo_wallet_close(w);
    utxo_validator_free(v);
    bp_chain_free(c);
    unlink(path);
    {
        char aux[128];
        snprintf(aux, sizeof aux, "%s-wal", path);
        unlink(aux);
        snprintf(aux, sizeof aux, "%s-shm", path);
        unlink(aux);
    }
    rmdir(dir);
    return rc;
}

static void wallet_bench_usage(FILE *f)
{
    fprintf(f, "Usage: utxo bench wallet [--leaves N] [--coins K] [--blocks N] [--spend K]\n"
               "                         [--seed S] [--sync-blocks N]\n"
               "\n"
               "The wallet's proof update per block vs the validator's own work, and a\n"
               "wallet sync vs stateless validation of the same blocks.\n"
               "\nexample:\n  utxo bench wallet --leaves 100000 --blocks 10\n");
}

int bench_wallet(int argc, char **argv)
{
    uint64_t leaves = 1u << 17, coins = 100, blocks = 20, spend = 500, seed = 1, sync_blocks = 20;
    int rc;

    num_opt nums[] = {
        {"--leaves", &leaves, 0, UINT64_MAX, false}, {"--coins", &coins, 0, UINT64_MAX, false},
        {"--blocks", &blocks, 0, UINT64_MAX, false}, {"--spend", &spend, 0, UINT64_MAX, false},
        {"--seed", &seed, 0, UINT64_MAX, false}, {"--sync-blocks", &sync_blocks, 0, UINT64_MAX, false},
    };
    static const struct option opts[] = {
        {"leaves", required_argument, NULL, CLI_NUM}, {"coins", required_argument, NULL, CLI_NUM},
        {"blocks", required_argument, NULL, CLI_NUM}, {"spend", required_argument, NULL, CLI_NUM},
        {"seed", required_argument, NULL, CLI_NUM}, {"sync-blocks", required_argument, NULL, CLI_NUM},
        CLI_HELP_OPTION, {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("bench wallet", wallet_bench_usage, "", opts);

    if ((rc = cli_nums_only(&cl, argc, argv, nums, sizeof nums / sizeof nums[0], 0, 0, "")) >= 0)
        return rc;
    if (leaves < 1000 || leaves > 50000000 || coins == 0 || coins > 10000 || blocks == 0 ||
        blocks > 10000 || spend == 0 || spend * 4 > leaves || coins * 4 > leaves ||
        sync_blocks > 1000) {
        return usage_error(cl.cmd, "--leaves 1000..5e7, --coins 1..10000 and --spend at most a "
                           "quarter of the leaves, --blocks 1..10000, --sync-blocks 0..1000");
    }
    if ((rc = bench_update(leaves, coins, blocks, spend, seed)) != UTXO_OK) {
        errorf("bench wallet update: %s", utxo_strerror(rc));
        return EXIT_INVALID;
    }
    if (sync_blocks > 0 && (rc = bench_sync(sync_blocks)) != UTXO_OK) {
        errorf("bench wallet sync: %s", utxo_strerror(rc));
        return EXIT_INVALID;
    }
    return EXIT_VALID;
}
