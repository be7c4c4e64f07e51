/*
 * cmd_wallet.c — `utxo wallet new|address|balance|history|sync|send`: a
 * wallet file on the command line, built on the public API of
 * utxo/wallet.h and nothing else. The passphrase comes from the
 * environment variable UTXO_WALLET_PASSPHRASE or from --passphrase-file
 * (never from the command line, where other users could read it); only
 * new, address --new and send need it.
 *
 * Exit status: 0 ok; 1 an invalid block while syncing, or a payment the
 * wallet refuses (funds, dust, the validator's verdict); 2 usage, I/O,
 * wrong passphrase, a mistyped address, files of another chain.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "utxo.h"
#include "utxo/store.h"
#include "commands.h"
#include "json.h"
#include "util.h"

static void wallet_usage(FILE *f)
{
    fprintf(f,
            "usage: utxo wallet new FILE [--chain BLOCKS] [--restore-hex SEED] [--keys N] [--json]\n"
            "       utxo wallet address FILE [--new] [--all] [--json]\n"
            "       utxo wallet balance FILE [--coins] [--json]\n"
            "       utxo wallet history FILE [--json]\n"
            "       utxo wallet sync FILE --chain BLOCKS --proofs PROOFS [--json]\n"
            "       utxo wallet sync FILE --db NODE.db [--json]\n"
            "       utxo wallet send FILE ADDRESS AMOUNT -o TX [--json]\n"
            "       utxo wallet abandon FILE TXID\n"
            "       utxo wallet rollback FILE HEIGHT\n"
            "\n"
            "A wallet keeps its keys (derived from one master seed, encrypted with\n"
            "the passphrase), its coins and, for them, an accumulator proof kept\n"
            "fresh from the block proof files, so it can pay without a full node.\n"
            "\n"
            "  new       create FILE for the chain of BLOCKS (default: the default\n"
            "            parameters), from a fresh seed or a 64-hex-digit backup,\n"
            "            with N keys (default 1; a restored wallet needs as many\n"
            "            as the original derived); prints the first address\n"
            "  address   the newest address (--new: derive another; --all: every one)\n"
            "  balance   the balance, coin count and next height (--coins: list them)\n"
            "  history   one line per transaction: height txid received spent\n"
            "  sync      apply the blocks of BLOCKS / PROOFS (or of a full node's\n"
            "            store, --db, opened read-only) from the wallet's next height\n"
            "            on: each is validated statelessly first\n"
            "  send      pay AMOUNT base units to ADDRESS; writes the signed\n"
            "            transaction to TX and prints its txid and fee; its coins are\n"
            "            reserved (not chosen again) until a block spends them\n"
            "  abandon   release the coins reserved by the payment TXID\n"
            "  rollback  undo the blocks above HEIGHT (the chain was replaced; the\n"
            "            last 100 blocks can be undone), then sync the new ones\n"
            "\n"
            "The passphrase is read from $UTXO_WALLET_PASSPHRASE or from the first\n"
            "line of --passphrase-file FILE.\n"
            "Exit status: 0 ok, 1 invalid block or refused payment, 2 usage, I/O,\n"
            "wrong passphrase or mistyped address.\n"
            "\n"
            "examples:\n"
            "  UTXO_WALLET_PASSPHRASE=... utxo wallet new my.wallet --chain chain.blocks\n"
            "  utxo wallet sync my.wallet --chain chain.blocks --proofs chain.proofs\n"
            "  utxo wallet sync my.wallet --db node.db\n"
            "  utxo wallet balance my.wallet --json\n"
            "  UTXO_WALLET_PASSPHRASE=... utxo wallet send my.wallet utxo1q... 250000 -o pay.tx\n");
}

typedef struct wopts {
    const char *file, *chain, *proofs, *pass_file, *restore, *out, *db;
    const char *pos[2];
    int n_pos;
    bool json, new_addr, all, coins;
    uint64_t keys;
} wopts;

static int parse(int argc, char **argv, wopts *o)
{
    memset(o, 0, sizeof *o);
    o->keys = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            wallet_usage(stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            o->json = true;
        } else if (strcmp(a, "--new") == 0) {
            o->new_addr = true;
        } else if (strcmp(a, "--all") == 0) {
            o->all = true;
        } else if (strcmp(a, "--coins") == 0) {
            o->coins = true;
        } else if (strcmp(a, "--chain") == 0 && has) {
            o->chain = argv[++i];
        } else if (strcmp(a, "--proofs") == 0 && has) {
            o->proofs = argv[++i];
        } else if (strcmp(a, "--db") == 0 && has) {
            o->db = argv[++i];
        } else if (strcmp(a, "--passphrase-file") == 0 && has) {
            o->pass_file = argv[++i];
        } else if (strcmp(a, "--restore-hex") == 0 && has) {
            o->restore = argv[++i];
        } else if (strcmp(a, "--keys") == 0 && has) {
            if (!parse_u64(argv[++i], &o->keys) || o->keys == 0 || o->keys > 100000) {
                errorf("wallet: --keys needs 1..100000");
                return EXIT_USAGE;
            }
        } else if (strcmp(a, "-o") == 0 && has) {
            o->out = argv[++i];
        } else if (a[0] == '-' && a[1] != '\0') {
            errorf("wallet: unknown or incomplete option '%s'", a);
            return EXIT_USAGE;
        } else if (o->file == NULL) {
            o->file = a;
        } else if (o->n_pos < 2) {
            o->pos[o->n_pos++] = a;
        } else {
            errorf("wallet: unexpected argument '%s'", a);
            return EXIT_USAGE;
        }
    }
    if (o->file == NULL) {
        errorf("wallet: which wallet FILE?");
        wallet_usage(stderr);
        return EXIT_USAGE;
    }
    return 0;
}

/* The passphrase into a new sodium_malloc'd string (*out), or an error. */
static int get_passphrase(const wopts *o, char **out)
{
    const char *env = getenv("UTXO_WALLET_PASSPHRASE");
    uint8_t *buf = NULL;
    size_t len = 0, n;

    *out = NULL;
    if (o->pass_file != NULL) {
        if (read_file(o->pass_file, 4096, &buf, &len) != 0)
            return EXIT_USAGE;
        for (n = 0; n < len && buf[n] != '\n' && buf[n] != '\r'; n++)
            ;
    } else if (env != NULL) {
        n = strlen(env);
    } else {
        errorf("wallet: this needs the passphrase: set UTXO_WALLET_PASSPHRASE or use "
               "--passphrase-file FILE");
        return EXIT_USAGE;
    }
    if ((*out = sodium_malloc(n + 1)) == NULL) {
        free(buf);
        errorf("wallet: out of memory");
        return EXIT_USAGE;
    }
    memcpy(*out, o->pass_file ? (const char *)buf : env, n);
    (*out)[n] = '\0';
    if (buf) {
        sodium_memzero(buf, len);
        free(buf);
    }
    return 0;
}

static int open_wallet(const wopts *o, bool unlock, utxo_wallet **w)
{
    char *pass = NULL;
    int rc, ex;

    if (unlock && (ex = get_passphrase(o, &pass)) != 0)
        return ex;
    rc = utxo_wallet_open(w, o->file, pass);
    if (pass)
        sodium_free(pass);
    if (rc != UTXO_OK) {
        errorf("wallet: %s: %s", o->file, rc == UTXO_ERR_IO ? "no such wallet file" : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    return 0;
}

static void print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static int wallet_new(const wopts *o)
{
    uint8_t seed[UTXO_SEED_BYTES], *rs = NULL;
    char addr[UTXO_ADDRESS_LEN + 1], *pass = NULL;
    utxo_params p;
    utxo_wallet *w = NULL;
    size_t rl = 0;
    int rc, ex = EXIT_USAGE;

    utxo_params_default(&p);
    if (o->chain != NULL) {
        utxo_chainfile *cf = NULL;
        size_t off = 0;
        if ((rc = utxo_chainfile_open(&cf, o->chain, UTXO_CHAINFILE_BLOCKS, &p, &off)) != UTXO_OK) {
            errorf("wallet: %s: %s (offset %zu)", o->chain, utxo_strerror(rc), off);
            return EXIT_USAGE;
        }
        utxo_chainfile_close(cf);
    }
    if (o->restore != NULL) {
        if (hex_decode(o->restore, &rs, &rl) != 0 || rl != UTXO_SEED_BYTES) {
            errorf("wallet: --restore-hex needs 64 hex digits");
            free(rs);
            return EXIT_USAGE;
        }
        memcpy(seed, rs, sizeof seed);
        sodium_memzero(rs, rl);
        free(rs);
    }
    if ((ex = get_passphrase(o, &pass)) != 0)
        return ex;
    ex = EXIT_USAGE;
    rc = utxo_wallet_create(&w, o->file, &p, pass, o->restore ? seed : NULL);
    sodium_free(pass);
    sodium_memzero(seed, sizeof seed);
    if (rc != UTXO_OK) {
        errorf("wallet: cannot create %s: %s", o->file, utxo_strerror(rc));
        return EXIT_USAGE;
    }
    for (uint64_t k = 0; k < o->keys && rc == UTXO_OK; k++)
        rc = utxo_wallet_new_key(w, NULL, NULL);
    if (rc != UTXO_OK || (rc = utxo_wallet_address(w, 0, addr, NULL)) != UTXO_OK) {
        errorf("wallet: %s", utxo_strerror(rc));
        goto done;
    }
    if (o->json) {
        json j;
        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "file");
        json_str(&j, o->file);
        json_key(&j, "chain_id");
        json_hex(&j, p.chain_id, UTXO_HASH_BYTES);
        json_key(&j, "address");
        json_str(&j, addr);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("created %s for chain ", o->file);
        print_hex(p.chain_id, UTXO_HASH_BYTES);
        printf("\naddress %s\n", addr);
    }
    ex = EXIT_VALID;
done:
    utxo_wallet_close(w);
    return ex;
}

static int wallet_address(const wopts *o)
{
    char addr[UTXO_ADDRESS_LEN + 1];
    utxo_wallet *w = NULL;
    uint32_t n, from;
    int ex, rc;

    if ((ex = open_wallet(o, o->new_addr, &w)) != 0)
        return ex;
    if (o->new_addr && (rc = utxo_wallet_new_key(w, NULL, NULL)) != UTXO_OK) {
        errorf("wallet: %s", utxo_strerror(rc));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    n = utxo_wallet_key_count(w);
    if (n == 0) {
        errorf("wallet: no address yet (utxo wallet address FILE --new)");
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    from = o->all ? 0 : n - 1;
    json j;
    if (o->json) {
        json_init(&j, stdout, false);
        json_begin_array(&j);
    }
    for (uint32_t i = from; i < n; i++) {
        if (utxo_wallet_address(w, i, addr, NULL) != UTXO_OK)
            continue;
        if (o->json) {
            json_begin_object(&j);
            json_key(&j, "index");
            json_u64(&j, i);
            json_key(&j, "address");
            json_str(&j, addr);
            json_end_object(&j);
        } else if (o->all) {
            printf("%u %s\n", i, addr);
        } else {
            printf("%s\n", addr);
        }
    }
    if (o->json) {
        json_end_array(&j);
        json_finish(&j);
    }
    utxo_wallet_close(w);
    return EXIT_VALID;
}

static int wallet_balance(const wopts *o)
{
    utxo_wallet *w = NULL;
    utxo_wallet_coin *coins = NULL;
    uint64_t value = 0, n = 0, pv = 0, pn = 0;
    size_t total = 0;
    int ex, rc;

    if ((ex = open_wallet(o, false, &w)) != 0)
        return ex;
    if ((rc = utxo_wallet_balance(w, &value, &n)) != UTXO_OK ||
        (rc = utxo_wallet_pending(w, &pv, &pn)) != UTXO_OK ||
        (o->coins && (rc = utxo_wallet_coins(w, NULL, 0, &total)) != UTXO_OK)) {
        errorf("wallet: %s: %s", utxo_strerror(rc), utxo_wallet_errmsg(w));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    if (o->coins && total > 0) {
        if ((coins = calloc(total, sizeof *coins)) == NULL ||
            utxo_wallet_coins(w, coins, total, &total) != UTXO_OK) {
            errorf("wallet: cannot list coins");
            free(coins);
            utxo_wallet_close(w);
            return EXIT_USAGE;
        }
    }
    if (o->json) {
        json j;
        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "balance");
        json_u64(&j, value);
        json_key(&j, "coins");
        json_u64(&j, n);
        json_key(&j, "next_height");
        json_u64(&j, utxo_wallet_next_height(w));
        json_key(&j, "pending");
        json_u64(&j, pv);
        json_key(&j, "pending_coins");
        json_u64(&j, pn);
        if (o->coins) {
            json_key(&j, "list");
            json_begin_array(&j);
            for (size_t i = 0; i < total; i++) {
                json_begin_object(&j);
                json_key(&j, "txid");
                json_hex(&j, coins[i].outpoint.txid, UTXO_HASH_BYTES);
                json_key(&j, "index");
                json_u64(&j, coins[i].outpoint.index);
                json_key(&j, "value");
                json_u64(&j, coins[i].value);
                json_key(&j, "height");
                json_u64(&j, coins[i].height);
                json_key(&j, "position");
                json_u64(&j, coins[i].position);
                json_key(&j, "key");
                json_u64(&j, coins[i].key_index);
                json_end_object(&j);
            }
            json_end_array(&j);
        }
        json_end_object(&j);
        json_finish(&j);
    } else {
        for (size_t i = 0; i < total; i++) {
            print_hex(coins[i].outpoint.txid, UTXO_HASH_BYTES);
            printf(":%u %llu height=%u position=%llu key=%u\n", coins[i].outpoint.index,
                   (unsigned long long)coins[i].value, coins[i].height,
                   (unsigned long long)coins[i].position, coins[i].key_index);
        }
        printf("balance %llu coins %llu next_height %u\n", (unsigned long long)value,
               (unsigned long long)n, utxo_wallet_next_height(w));
        if (pn > 0)
            printf("pending %llu in %llu coins reserved by payments not yet in a block\n",
                   (unsigned long long)pv, (unsigned long long)pn);
    }
    free(coins);
    utxo_wallet_close(w);
    return EXIT_VALID;
}

static int wallet_history(const wopts *o)
{
    utxo_wallet *w = NULL;
    utxo_wallet_event *ev = NULL;
    size_t n = 0;
    int ex;
    json j;

    if ((ex = open_wallet(o, false, &w)) != 0)
        return ex;
    if (utxo_wallet_history(w, NULL, 0, &n) != UTXO_OK ||
        (n > 0 && ((ev = calloc(n, sizeof *ev)) == NULL ||
                   utxo_wallet_history(w, ev, n, &n) != UTXO_OK))) {
        errorf("wallet: cannot read the history: %s", utxo_wallet_errmsg(w));
        free(ev);
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    if (o->json) {
        json_init(&j, stdout, false);
        json_begin_array(&j);
    }
    for (size_t i = 0; i < n; i++) {
        if (o->json) {
            json_begin_object(&j);
            json_key(&j, "height");
            json_u64(&j, ev[i].height);
            json_key(&j, "txid");
            json_hex(&j, ev[i].txid, UTXO_HASH_BYTES);
            json_key(&j, "received");
            json_u64(&j, ev[i].received);
            json_key(&j, "spent");
            json_u64(&j, ev[i].spent);
            json_end_object(&j);
        } else {
            printf("%u ", ev[i].height);
            print_hex(ev[i].txid, UTXO_HASH_BYTES);
            printf(" +%llu -%llu\n", (unsigned long long)ev[i].received,
                   (unsigned long long)ev[i].spent);
        }
    }
    if (o->json) {
        json_end_array(&j);
        json_finish(&j);
    }
    free(ev);
    utxo_wallet_close(w);
    return EXIT_VALID;
}

static int open_chain(const char *path, int kind, const utxo_params *want, utxo_chainfile **f)
{
    utxo_params p;
    size_t off = 0;
    int rc = utxo_chainfile_open(f, path, kind, &p, &off);

    if (rc != UTXO_OK) {
        errorf("wallet: %s: %s (offset %zu)", path, utxo_strerror(rc), off);
        return EXIT_USAGE;
    }
    if (memcmp(p.chain_id, want->chain_id, UTXO_HASH_BYTES) != 0) {
        errorf("wallet: %s belongs to another chain than the wallet", path);
        utxo_chainfile_close(*f);
        *f = NULL;
        return EXIT_USAGE;
    }
    return 0;
}

static void sync_report(const wopts *o, utxo_wallet *w, uint32_t applied, uint32_t skipped)
{
    uint64_t value = 0, n = 0;

    utxo_wallet_balance(w, &value, &n);
    if (o->json) {
        json j;
        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "applied");
        json_u64(&j, applied);
        json_key(&j, "skipped");
        json_u64(&j, skipped);
        json_key(&j, "next_height");
        json_u64(&j, utxo_wallet_next_height(w));
        json_key(&j, "balance");
        json_u64(&j, value);
        json_key(&j, "coins");
        json_u64(&j, n);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("applied %u blocks (skipped %u already known), next height %u, balance %llu in "
               "%llu coins\n",
               applied, skipped, utxo_wallet_next_height(w), (unsigned long long)value,
               (unsigned long long)n);
    }
}

/* Blocks and bundles from a bridge node's store (read-only). */
static int wallet_sync_db(const wopts *o, utxo_wallet *w)
{
    utxo_store *st = NULL;
    utxo_store_info info;
    utxo_params p;
    char msg[256] = "";
    uint32_t applied = 0;
    int rc, ex = EXIT_VALID;

    utxo_wallet_params(w, &p);
    if ((rc = utxo_store_open(&st, o->db, &p, UTXO_STORE_READONLY, 1, msg, sizeof msg)) != UTXO_OK) {
        errorf("wallet: %s: %s", o->db, msg[0] ? msg : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    utxo_store_get_info(st, &info);
    for (uint32_t h = utxo_wallet_next_height(w); h < info.n_blocks; h++) {
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        uint8_t *bytes = NULL;
        size_t len = 0, eo = 0;
        utxo_verdict v;

        if ((rc = utxo_store_get_block(st, h, &blk, NULL, NULL)) != UTXO_OK ||
            (rc = utxo_store_get_bundle(st, h, &bytes, &len)) != UTXO_OK) {
            errorf("wallet: %s: block %u: %s", o->db, h, utxo_store_errmsg(st));
            ex = EXIT_USAGE;
        } else if ((rc = utxo_bundle_from_bytes(&bd, bytes, len, &p, &eo)) != UTXO_OK) {
            errorf("wallet: %s: bundle of block %u: %s (byte %zu)", o->db, h, utxo_strerror(rc), eo);
            ex = EXIT_INVALID;
        } else if ((rc = utxo_wallet_apply_block(w, blk, bd, &v)) != UTXO_OK) {
            errorf("wallet: block %u invalid: %s (tx %u, input %u)", h, utxo_strerror(rc), v.tx,
                   v.input);
            ex = rc == UTXO_ERR_WALLET_DB || rc == UTXO_ERR_NOMEM ? EXIT_USAGE : EXIT_INVALID;
        } else {
            applied++;
        }
        utxo_block_free(blk);
        utxo_bundle_free(bd);
        free(bytes);
        if (ex != EXIT_VALID)
            break;
    }
    utxo_store_close(st);
    if (ex == EXIT_VALID)
        sync_report(o, w, applied, 0);
    return ex;
}

static int wallet_sync(const wopts *o)
{
    utxo_chainfile *bf = NULL, *pf = NULL;
    utxo_wallet *w = NULL;
    utxo_params p;
    uint32_t applied = 0, skipped = 0;
    int ex;

    if (o->db != NULL ? o->chain != NULL || o->proofs != NULL
                      : o->chain == NULL || o->proofs == NULL) {
        errorf("wallet: sync needs --chain BLOCKS and --proofs PROOFS, or --db NODE.db");
        return EXIT_USAGE;
    }
    if ((ex = open_wallet(o, false, &w)) != 0)
        return ex;
    if (o->db != NULL) {
        ex = wallet_sync_db(o, w);
        utxo_wallet_close(w);
        return ex;
    }
    utxo_wallet_params(w, &p);
    if ((ex = open_chain(o->chain, UTXO_CHAINFILE_BLOCKS, &p, &bf)) != 0 ||
        (ex = open_chain(o->proofs, UTXO_CHAINFILE_PROOFS, &p, &pf)) != 0)
        goto done;
    for (;;) {
        uint8_t *brec = NULL, *prec = NULL;
        size_t blen = 0, plen = 0, eo = 0;
        uint64_t boff = 0, poff = 0;
        utxo_block *blk = NULL;
        utxo_bundle *bd = NULL;
        utxo_verdict v;
        int rc;

        if ((rc = utxo_chainfile_next(bf, &brec, &blen, &boff)) != UTXO_OK ||
            (rc = utxo_chainfile_next(pf, &prec, &plen, &poff)) != UTXO_OK) {
            errorf("wallet: reading the chain files: %s (offset %llu)", utxo_strerror(rc),
                   (unsigned long long)(brec ? poff : boff));
            free(brec);
            ex = EXIT_USAGE;
            goto done;
        }
        if (brec == NULL || prec == NULL) {
            bool uneven = (brec == NULL) != (prec == NULL);
            free(brec);
            free(prec);
            if (uneven) {
                errorf("wallet: %s and %s hold different numbers of records", o->chain, o->proofs);
                ex = EXIT_USAGE;
                goto done;
            }
            break;
        }
        rc = utxo_block_from_bytes(&blk, brec, blen, &p, &eo);
        if (rc == UTXO_OK && blk->header.height < utxo_wallet_next_height(w)) {
            skipped++; /* already applied */
        } else if (rc != UTXO_OK) {
            errorf("wallet: block record at offset %llu: %s (byte %zu)", (unsigned long long)boff,
                   utxo_strerror(rc), eo);
            ex = EXIT_INVALID;
        } else if ((rc = utxo_bundle_from_bytes(&bd, prec, plen, &p, &eo)) != UTXO_OK) {
            errorf("wallet: proof record at offset %llu: %s (byte %zu)", (unsigned long long)poff,
                   utxo_strerror(rc), eo);
            ex = EXIT_INVALID;
        } else if ((rc = utxo_wallet_apply_block(w, blk, bd, &v)) != UTXO_OK) {
            errorf("wallet: block %u invalid: %s (tx %u, input %u)%s%s", blk->header.height,
                   utxo_strerror(rc), v.tx, v.input, utxo_wallet_errmsg(w)[0] ? ": " : "",
                   utxo_wallet_errmsg(w));
            ex = rc == UTXO_ERR_WALLET_DB || rc == UTXO_ERR_NOMEM ? EXIT_USAGE : EXIT_INVALID;
        } else {
            applied++;
        }
        utxo_block_free(blk);
        utxo_bundle_free(bd);
        free(brec);
        free(prec);
        if (ex != 0)
            goto done;
    }
    sync_report(o, w, applied, skipped);
done:
    if (bf)
        utxo_chainfile_close(bf);
    if (pf)
        utxo_chainfile_close(pf);
    utxo_wallet_close(w);
    return ex;
}

static int wallet_send(const wopts *o)
{
    uint8_t to[UTXO_HASH_BYTES], txid[UTXO_HASH_BYTES], *buf = NULL;
    utxo_wallet *w = NULL;
    utxo_tx *tx = NULL;
    uint64_t amount, fee = 0;
    size_t len, wr = 0;
    int ex, rc;

    if (o->n_pos != 2 || o->out == NULL) {
        errorf("wallet: send needs ADDRESS AMOUNT -o TX");
        return EXIT_USAGE;
    }
    if ((rc = utxo_address_decode(to, o->pos[0])) != UTXO_OK) {
        errorf("wallet: '%s': %s", o->pos[0], utxo_strerror(rc));
        return EXIT_USAGE;
    }
    if (!parse_u64(o->pos[1], &amount)) {
        errorf("wallet: amount '%s' is not a whole number of base units", o->pos[1]);
        return EXIT_USAGE;
    }
    if ((ex = open_wallet(o, true, &w)) != 0)
        return ex;
    if ((rc = utxo_wallet_send(w, to, amount, &tx, &fee)) != UTXO_OK) {
        errorf("wallet: payment refused: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w)
                                                                       : utxo_strerror(rc));
        utxo_wallet_close(w);
        return rc == UTXO_ERR_WALLET_DB || rc == UTXO_ERR_NOMEM ? EXIT_USAGE : EXIT_INVALID;
    }
    len = utxo_tx_get_length(tx, true);
    ex = EXIT_USAGE;
    if ((buf = malloc(len)) == NULL || utxo_tx_to_bytes(tx, buf, len, &wr) != UTXO_OK ||
        write_file(o->out, buf, wr) != 0)
        goto done;
    utxo_tx_txid(tx, txid);
    if (o->json) {
        json j;
        json_init(&j, stdout, false);
        json_begin_object(&j);
        json_key(&j, "txid");
        json_hex(&j, txid, UTXO_HASH_BYTES);
        json_key(&j, "amount");
        json_u64(&j, amount);
        json_key(&j, "fee");
        json_u64(&j, fee);
        json_key(&j, "bytes");
        json_u64(&j, wr);
        json_key(&j, "inputs");
        json_u64(&j, tx->n_inputs);
        json_key(&j, "outputs");
        json_u64(&j, tx->n_outputs);
        json_end_object(&j);
        json_finish(&j);
    } else {
        printf("txid ");
        print_hex(txid, UTXO_HASH_BYTES);
        printf("\nfee %llu, %zu bytes, %u inputs, %u outputs, written to %s\n",
               (unsigned long long)fee, wr, tx->n_inputs, tx->n_outputs, o->out);
    }
    ex = EXIT_VALID;
done:
    free(buf);
    utxo_tx_free(tx);
    utxo_wallet_close(w);
    return ex;
}

static int wallet_abandon(const wopts *o)
{
    utxo_wallet *w = NULL;
    uint8_t *txid = NULL;
    size_t len = 0;
    int ex, rc;

    if (o->n_pos != 1 || hex_decode(o->pos[0], &txid, &len) != 0 || len != UTXO_HASH_BYTES) {
        errorf("wallet: abandon needs a TXID of 64 hex digits");
        free(txid);
        return EXIT_USAGE;
    }
    if ((ex = open_wallet(o, false, &w)) != 0) {
        free(txid);
        return ex;
    }
    rc = utxo_wallet_abandon(w, txid);
    if (rc == UTXO_OK)
        printf("released the coins reserved by %s\n", o->pos[0]);
    else
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
    free(txid);
    utxo_wallet_close(w);
    return rc == UTXO_OK ? EXIT_VALID : rc == UTXO_ERR_ARG ? EXIT_INVALID : EXIT_USAGE;
}

static int wallet_rollback(const wopts *o)
{
    utxo_wallet *w = NULL;
    uint64_t height, value = 0;
    int ex, rc;

    if (o->n_pos != 1 || !parse_u64(o->pos[0], &height) || height > UINT32_MAX) {
        errorf("wallet: rollback needs a HEIGHT");
        return EXIT_USAGE;
    }
    if ((ex = open_wallet(o, false, &w)) != 0)
        return ex;
    rc = utxo_wallet_rollback(w, (uint32_t)height);
    if (rc == UTXO_OK) {
        utxo_wallet_balance(w, &value, NULL);
        printf("next height %u, balance %llu\n", utxo_wallet_next_height(w),
               (unsigned long long)value);
    } else {
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
    }
    utxo_wallet_close(w);
    return rc == UTXO_OK ? EXIT_VALID : rc == UTXO_ERR_ARG || rc == UTXO_ERR_WALLET_CHAIN
                                            ? EXIT_INVALID
                                            : EXIT_USAGE;
}

int cmd_wallet(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    wopts o;
    int ex;

    if (sub == NULL || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
        strcmp(sub, "help") == 0) {
        wallet_usage(sub ? stdout : stderr);
        return sub ? EXIT_VALID : EXIT_USAGE;
    }
    if ((ex = parse(argc, argv, &o)) != 0)
        return ex < 0 ? EXIT_VALID : ex;
    if (strcmp(sub, "new") == 0)
        return wallet_new(&o);
    if (strcmp(sub, "address") == 0)
        return wallet_address(&o);
    if (strcmp(sub, "balance") == 0)
        return wallet_balance(&o);
    if (strcmp(sub, "history") == 0)
        return wallet_history(&o);
    if (strcmp(sub, "sync") == 0)
        return wallet_sync(&o);
    if (strcmp(sub, "send") == 0)
        return wallet_send(&o);
    if (strcmp(sub, "abandon") == 0)
        return wallet_abandon(&o);
    if (strcmp(sub, "rollback") == 0)
        return wallet_rollback(&o);
    errorf("wallet: unknown subcommand '%s'", sub);
    wallet_usage(stderr);
    return EXIT_USAGE;
}
