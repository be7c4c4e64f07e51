/*
 * cmd_genesis.c — `utxo genesis -o DIR [--alloc ID:VALUE ...]`: creates a
 * chain directory (docs/CHAIN.md): the consensus parameters (limits, fee
 * rates, the chain id that follows from them), a new sequencer key in a
 * file of mode 0600 (printed only with --show-secret), and the block and
 * proof files holding the genesis block, whose coinbase pays the
 * allocations. `utxo verify`, `utxo replay` and `utxo sequence` read it.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "utxo.h"
#include "chain/chain.h"
#include "commands.h"
#include "json.h"
#include "util.h"

static void genesis_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo genesis -o DIR [--alloc ID:VALUE ...] [--key-file FILE]\n"
            "                    [--time T] [--fee-per-byte N] [--fee-per-kcycle N]\n"
            "                    [--max-block-bytes N] [--max-block-txs N]\n"
            "                    [--max-block-cycles N] [--max-tx-bytes N]\n"
            "                    [--max-tx-cycles N] [--show-secret] [--json]\n"
            "\n"
            "Creates the chain directory DIR: DIR/sequencer.key (a new random key,\n"
            "mode 0600; --key-file imports 64 hex digits instead), and DIR/blocks and\n"
            "DIR/proofs holding the genesis block. Its coinbase pays each allocation\n"
            "in order: ID is a predicate id (64 hex digits) or an address (utxo1...),\n"
            "VALUE base units; together at most 2,100,000,000,000,000. Without\n"
            "allocations the coinbase pays 0 to the sequencer. The limits and fee\n"
            "rates default to the standard parameters (docs/ENCODING.md); the chain\n"
            "id is the hash of them all, the sequencer key and --time included, and\n"
            "not of the allocations: every signature commits to it, so a key used\n"
            "for another chain needs another --time or limit here. The secret key\n"
            "is never printed unless --show-secret is given.\n"
            "\n"
            "example:\n"
            "  utxo genesis -o mychain \\\n"
            "    --alloc 5cb1c5ed6a4b3e0e8f1b0d2c9a7e6f5d4c3b2a19080706050403020100ffeedd:5000000000\n"
            "  utxo verify --chain mychain/blocks --proofs mychain/proofs\n"
            "  utxo replay mychain/blocks --db node.db && utxo utxos --db node.db\n");
}

/* ID:VALUE, ID hex or address. */
static bool parse_alloc(const char *s, chain_alloc *a)
{
    const char *colon = strrchr(s, ':');
    char id[128];
    size_t n;

    if (colon == NULL || (n = (size_t)(colon - s)) == 0 || n >= sizeof id ||
        !parse_u64(colon + 1, &a->value))
        return false;
    memcpy(id, s, n);
    id[n] = 0;
    return parse_id_or_address(id, a->id);
}

int cmd_genesis(int argc, char **argv)
{
    const char *dir = NULL, *key_file = NULL;
    chain_alloc *allocs = NULL;
    size_t n_alloc = 0;
    bool show = false, as_json = false;
    utxo_params p, out;
    uint8_t seed[32], enc_p[UTXO_PARAMS_BYTES], fee_id[UTXO_HASH_BYTES];
    uint64_t total = 0;
    char msg[512];
    int rc, ex = EXIT_USAGE;
    uint64_t v[8] = {0};
    num_opt nums[] = {
        {"--time", &v[0], 0, UINT64_MAX, false},
        {"--fee-per-byte", &v[1], 0, UINT64_MAX, false},
        {"--fee-per-kcycle", &v[2], 0, UINT64_MAX, false},
        {"--max-block-bytes", &v[3], 0, UINT64_MAX, false},
        {"--max-block-txs", &v[4], 0, UINT64_MAX, false},
        {"--max-block-cycles", &v[5], 0, UINT64_MAX, false},
        {"--max-tx-bytes", &v[6], 0, UINT64_MAX, false},
        {"--max-tx-cycles", &v[7], 0, UINT64_MAX, false},
    };
    static const struct option opts[] = {
        {"time", required_argument, NULL, CLI_NUM},
        {"fee-per-byte", required_argument, NULL, CLI_NUM},
        {"fee-per-kcycle", required_argument, NULL, CLI_NUM},
        {"max-block-bytes", required_argument, NULL, CLI_NUM},
        {"max-block-txs", required_argument, NULL, CLI_NUM},
        {"max-block-cycles", required_argument, NULL, CLI_NUM},
        {"max-tx-bytes", required_argument, NULL, CLI_NUM},
        {"max-tx-cycles", required_argument, NULL, CLI_NUM},
        {"output", required_argument, NULL, 'o'},
        {"alloc", required_argument, NULL, 'a'},
        {"key-file", required_argument, NULL, 'k'},
        {"show-secret", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        CLI_HELP_OPTION,
        {NULL, 0, NULL, 0},
    };
    cli cl = CLI_INIT("genesis", genesis_usage, "o:", opts);

    if ((allocs = calloc((size_t)argc, sizeof *allocs)) == NULL) {
        errorf("genesis: out of memory");
        return EXIT_USAGE;
    }
    while ((rc = cli_next(&cl, argc, argv)) != -1) {
        if (rc == CLI_STOP) {
            ex = cl.status;
            goto done;
        }
        if (rc == CLI_NUM) {
            if (!cli_num(&cl, nums, sizeof nums / sizeof nums[0]))
                goto done;
        } else if (rc == 'o') {
            dir = optarg;
        } else if (rc == 'a') {
            if (!parse_alloc(optarg, &allocs[n_alloc])) {
                usage_error(cl.cmd, "--alloc '%s': want ID:VALUE, ID a predicate id in hex or an "
                            "address (utxo1...), VALUE in base units", optarg);
                goto done;
            }
            if (allocs[n_alloc].value > UTXO_MAX_MONEY - total) {
                errorf("genesis: the allocations exceed the maximum supply %llu",
                       (unsigned long long)UTXO_MAX_MONEY);
                goto done;
            }
            total += allocs[n_alloc++].value;
        } else if (rc == 'k') {
            key_file = optarg;
        } else if (rc == 's') {
            show = true;
        } else if (rc == 'j') {
            as_json = true;
        }
    }
    if (cli_operands(&cl, argc, argv, 0, 0, "") != 0)
        goto done;
    if (dir == NULL) {
        usage_error(cl.cmd, "say where to create the chain with -o DIR");
        goto done;
    }
    utxo_params_default(&p);
    {
        uint64_t *dst64[] = {&p.genesis_time, &p.fee_per_byte, &p.fee_per_kcycle};
        uint32_t *dst32[] = {&p.max_block_bytes, &p.max_block_txs};
        for (int k = 0; k < 3; k++)
            if (nums[k].set)
                *dst64[k] = v[k];
        for (int k = 0; k < 2; k++)
            if (nums[3 + k].set) {
                if (v[3 + k] > UINT32_MAX) {
                    errorf("genesis: %s is too large", nums[3 + k].name);
                    goto done;
                }
                *dst32[k] = (uint32_t)v[3 + k];
            }
        if (nums[5].set)
            p.max_block_cycles = v[5];
        if (nums[6].set) {
            if (v[6] > UINT32_MAX) {
                errorf("genesis: --max-tx-bytes is too large");
                goto done;
            }
            p.max_tx_bytes = (uint32_t)v[6];
        }
        if (nums[7].set)
            p.max_tx_cycles = v[7];
    }
    /* the parameters must survive their own strict decoding */
    utxo_params_to_bytes(enc_p, &p);
    {
        utxo_params check;
        size_t off = 0;
        if ((rc = utxo_params_from_bytes(&check, enc_p, sizeof enc_p, &off)) != UTXO_OK) {
            errorf("genesis: these limits are not allowed (%s, parameter byte %zu): each must be "
                   "non-zero and within the caps of docs/ENCODING.md",
                   utxo_strerror(rc), off);
            goto done;
        }
    }
    if (key_file != NULL) {
        uint8_t *kb = NULL;
        size_t kl = 0, bin_len = 0;
        if (read_file(key_file, 256, &kb, &kl) != 0)
            goto done;
        rc = sodium_hex2bin(seed, 32, (const char *)kb, kl, "\n", &bin_len, NULL);
        sodium_memzero(kb, kl);
        free(kb);
        if (rc != 0 || bin_len != 32) {
            errorf("genesis: %s: want the key seed as 64 hex digits", key_file);
            goto done;
        }
    } else if (utxo_seed_random(seed) != UTXO_OK) {
        errorf("genesis: no randomness for the sequencer key");
        goto done;
    }
    rc = chain_genesis(dir, &p, seed, allocs, n_alloc, &out, msg, sizeof msg);
    if (rc != UTXO_OK) {
        errorf("genesis: %s", msg);
        goto done;
    }
    (void)utxo_p2pk_id(fee_id, out.sequencer_pk);
    if (as_json) {
        json j;
        jw_init(&j, stdout, true);
        jw_begin_object(&j);
        jw_key(&j, "dir");
        jw_str(&j, dir);
        jw_key(&j, "chain_id");
        jw_hex(&j, out.chain_id, UTXO_HASH_BYTES);
        jw_key(&j, "sequencer_pk");
        jw_hex(&j, out.sequencer_pk, UTXO_PUBKEY_BYTES);
        jw_key(&j, "fee_predicate_id");
        jw_hex(&j, fee_id, UTXO_HASH_BYTES);
        jw_key(&j, "allocations");
        jw_u64(&j, n_alloc);
        jw_key(&j, "allocated");
        jw_u64(&j, total);
        if (show) {
            jw_key(&j, "sequencer_key_seed");
            jw_hex(&j, seed, 32);
        }
        jw_end_object(&j);
        ex = jw_finish(&j) == 0 ? EXIT_VALID : EXIT_USAGE;
    } else {
        char hex[65], addr[UTXO_ADDRESS_LEN + 1];
        hex_encode(hex, out.chain_id, UTXO_HASH_BYTES);
        printf("created chain %s in %s\n", hex, dir);
        hex_encode(hex, out.sequencer_pk, UTXO_PUBKEY_BYTES);
        printf("sequencer key %s (secret in %s/%s, mode 0600)\n", hex, dir, CHAIN_KEY_FILE);
        if (utxo_address_encode(addr, fee_id) == UTXO_OK)
            printf("fees go to %s\n", addr);
        printf("genesis allocates %llu base units to %zu outputs\n", (unsigned long long)total,
               n_alloc);
        if (show) {
            hex_encode(hex, seed, 32);
            printf("sequencer key seed %s\n", hex);
            sodium_memzero(hex, sizeof hex);
        }
        ex = EXIT_VALID;
    }
done:
    sodium_memzero(seed, sizeof seed);
    free(allocs);
    return ex;
}
