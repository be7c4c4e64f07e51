/*
 * cmd_wallet.c — `utxo wallet SUBCOMMAND FILE ...`: a wallet file on the
 * command line, built on the public API of utxo/wallet.h and nothing else.
 * Here: the options (getopt_long), the passphrase, the dispatch, and the
 * subcommands that make wallets (new, restore, seed, bind) or sync them;
 * the others are in tools/cmd_wallet_ops.c, secrets are read by
 * tools/secret.c.
 *
 * The passphrase comes from --passphrase-fd N, --passphrase-file FILE, the
 * environment variable UTXO_PASSPHRASE (UTXO_WALLET_PASSPHRASE is still
 * read), or else the terminal with echo off; never from the command line,
 * where other users could read it. Only the subcommands that derive keys,
 * sign or show the seed need it.
 *
 * Exit status: 0 ok; 1 an invalid block while syncing, or a payment the
 * wallet refuses (funds, dust, the validator's verdict); 2 usage, I/O,
 * wrong passphrase, a mistyped address, files of another chain.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "utxo.h"
#include "utxo/store.h"
#include "commands.h"
#include "json.h"
#include "progress.h"
#include "secret.h"
#include "util.h"
#include "wallet_cli.h"

static void wallet_usage(FILE *f)
{
    fprintf(f,
            "Usage: utxo wallet new FILE [--chain BLOCKS] [--keys N] [--json]\n"
            "       utxo wallet restore FILE --chain BLOCKS (--proofs PROOFS | --db NODE.db)\n"
            "                   [--gap N] [--seed-fd N | --seed-file FILE] [--json] [--progress]\n"
            "       utxo wallet seed FILE [--yes]\n"
            "       utxo wallet bind FILE --chain BLOCKS\n"
            "       utxo wallet address FILE [--new] [--all] [--json]\n"
            "       utxo wallet balance FILE [--coins] [--json]\n"
            "       utxo wallet history FILE [--json]\n"
            "       utxo wallet pending FILE [--json]\n"
            "       utxo wallet sync FILE --chain BLOCKS --proofs PROOFS [--json] [--progress]\n"
            "       utxo wallet sync FILE --db NODE.db [--json] [--progress]\n"
            "       utxo wallet sync FILE --node URL [--json] [--progress]\n"
            "       utxo wallet send FILE ADDRESS AMOUNT [ADDRESS AMOUNT ...] -o TX|- [--json]\n"
            "       utxo wallet send FILE ADDRESS AMOUNT [ADDRESS AMOUNT ...] --node URL [--json]\n"
            "       utxo wallet abandon FILE TXID\n"
            "       utxo wallet rollback FILE HEIGHT\n"
            "\n"
            "A wallet keeps its keys (derived from one master seed, encrypted with\n"
            "the passphrase), its coins and, for them, an accumulator proof kept\n"
            "fresh from the block proof files, so it can pay without a full node.\n"
            "The file is created with mode 0600.\n"
            "\n"
            "subcommands:\n"
            "  new       create FILE for the chain of BLOCKS (default: the default\n"
            "            parameters; `bind` moves it to a chain made later) from a\n"
            "            fresh seed, with N keys (default 1); prints the first address\n"
            "  restore   create FILE from a seed (`seed` printed it; read from the\n"
            "            terminal, --seed-fd or --seed-file) and rescan the chain: keys\n"
            "            are derived while payments to them are found, until N (--gap,\n"
            "            default 20) keys in a row were never paid\n"
            "  seed      show the master seed (64 hex digits): anyone who has it can\n"
            "            spend the coins; asks first unless --yes\n"
            "  bind      move a wallet that has not synced any block to the chain of\n"
            "            BLOCKS (e.g. one `utxo genesis --alloc` made to pay it)\n"
            "  address   the newest address (--new: derive another; --all: every one)\n"
            "  balance   the balance, coin count and next height (--coins: list them)\n"
            "  history   one line per transaction: height txid received spent\n"
            "  pending   the payments not yet in a block: txid, coins reserved, value\n"
            "  sync      apply the blocks of BLOCKS / PROOFS (or of a full node's\n"
            "            store, --db, opened read-only, or of a node over HTTP, --node\n"
            "            URL, up to its tip) from the wallet's next height\n"
            "            on: each is validated statelessly first. Records before\n"
            "            the wallet's tip must be the blocks it applied (they are\n"
            "            passed over and said so); any other record out of place is\n"
            "            an error naming it. Progress (blocks, rate, ETA) goes to\n"
            "            stderr when it is a terminal, or with --progress\n"
            "  send      pay each ADDRESS its AMOUNT (base units) in one transaction;\n"
            "            writes it to TX (- for standard output) and only then reserves\n"
            "            its coins (not chosen again until a block spends them or\n"
            "            `abandon` releases them); prints the txid and fee (on\n"
            "            standard error with -o -). With --node URL instead of -o,\n"
            "            posts it to the node (POST /tx) and reports its verdict: the\n"
            "            coins are reserved only when the node took it (exit 1 when\n"
            "            the node refuses it, 2 when the node cannot be reached)\n"
            "  abandon   release the coins reserved by the payment TXID\n"
            "  rollback  undo the blocks above HEIGHT (the chain was replaced; the\n"
            "            last 100 blocks can be undone), then sync the new ones\n"
            "\n"
            "The passphrase is read from the first line of --passphrase-fd N or\n"
            "--passphrase-file FILE, from $UTXO_PASSPHRASE, or else from the terminal\n"
            "(echo off; asked twice for a new wallet). Never give it as an argument.\n"
            "Exit status: 0 ok, 1 invalid block or refused payment, 2 usage, I/O,\n"
            "wrong passphrase or mistyped address.\n"
            "\n"
            "examples:\n"
            "  utxo wallet new my.wallet --chain chain.blocks\n"
            "  utxo wallet sync my.wallet --chain chain.blocks --proofs chain.proofs\n"
            "  utxo wallet sync my.wallet --db node.db\n"
            "  utxo wallet sync my.wallet --node http://127.0.0.1:8750\n"
            "  utxo wallet balance my.wallet --json\n"
            "  utxo wallet send my.wallet utxo1q... 250000 -o pay.tx\n"
            "  UTXO_PASSPHRASE=... utxo wallet seed my.wallet --yes >seed.txt\n"
            "  utxo wallet restore new.wallet --chain chain.blocks --db node.db --seed-file seed.txt\n");
}


enum {
    OPT_CHAIN = 256, OPT_PROOFS, OPT_DB, OPT_PASS_FILE, OPT_PASS_FD, OPT_SEED_FILE, OPT_SEED_FD,
    OPT_KEYS, OPT_GAP, OPT_JSON, OPT_NEW, OPT_ALL, OPT_COINS, OPT_YES, OPT_RESTORE_HEX, OPT_NODE
};

static const struct option wallet_options[] = {
    {"help", no_argument, NULL, 'h'},
    {"chain", required_argument, NULL, OPT_CHAIN},
    {"proofs", required_argument, NULL, OPT_PROOFS},
    {"db", required_argument, NULL, OPT_DB},
    {"node", required_argument, NULL, OPT_NODE},
    {"passphrase-file", required_argument, NULL, OPT_PASS_FILE},
    {"passphrase-fd", required_argument, NULL, OPT_PASS_FD},
    {"seed-file", required_argument, NULL, OPT_SEED_FILE},
    {"seed-fd", required_argument, NULL, OPT_SEED_FD},
    {"keys", required_argument, NULL, OPT_KEYS},
    {"gap", required_argument, NULL, OPT_GAP},
    {"json", no_argument, NULL, OPT_JSON},
    {"new", no_argument, NULL, OPT_NEW},
    {"all", no_argument, NULL, OPT_ALL},
    {"coins", no_argument, NULL, OPT_COINS},
    {"yes", no_argument, NULL, OPT_YES},
    {"restore-hex", required_argument, NULL, OPT_RESTORE_HEX},
    {"output", required_argument, NULL, 'o'},
    CLI_PROGRESS_OPTION,
    {NULL, 0, NULL, 0},
};

/* A usage error: one line and where to read more. */
int wcli_usage_error(const char *fmt, ...)
{
    char line[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    return usage_error("wallet", "%s", line);
}

static bool parse_fd(const char *s, int *fd)
{
    uint64_t v;

    if (!parse_u64(s, &v) || v > 1024)
        return false;
    *fd = (int)v;
    return true;
}

/* opt ("--chain", "-o") is one of the words of allowed, or a passphrase
 * option (every subcommand takes those). */
static bool opt_allowed(const char *allowed, const char *opt)
{
    size_t n = strlen(opt);

    if (strcmp(opt, "--passphrase-fd") == 0 || strcmp(opt, "--passphrase-file") == 0)
        return true;
    for (const char *p = allowed; (p = strstr(p, opt)) != NULL; p += n)
        if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0))
            return true;
    return false;
}

/* Parses argv[1..] (argv[1] is the subcommand, whose options are the words
 * of allowed): 0, -1 after --help, or an exit status. An option of another
 * subcommand is a usage error, not ignored. */
static int parse(int argc, char **argv, wopts *o, const char *allowed)
{
    cli cl = CLI_INIT("wallet", wallet_usage, "o:", wallet_options);
    uint64_t v;
    int c;

    memset(o, 0, sizeof *o);
    o->keys = 1;
    o->gap = UTXO_WALLET_GAP_DEFAULT;
    o->pass_fd = o->seed_fd = -1;
    /* argv + 1: the subcommand stands where getopt expects the program name */
    while ((c = cli_next(&cl, argc - 1, argv + 1)) != -1) {
        switch (c) {
        case CLI_STOP:
            return cl.status == EXIT_VALID ? -1 : cl.status;
        default:
            if (c != OPT_RESTORE_HEX && !opt_allowed(allowed, cl.opt))
                return wcli_usage_error("%s: %s is not an option of %s", argv[1], cl.opt,
                                        argv[1]);
            break;
        }
        switch (c) {
        case 'o': o->out = optarg; break;
        case OPT_CHAIN: o->chain = optarg; break;
        case OPT_PROOFS: o->proofs = optarg; break;
        case OPT_DB: o->db = optarg; break;
        case OPT_NODE: o->node = optarg; break;
        case OPT_PASS_FILE: o->pass_file = optarg; break;
        case OPT_SEED_FILE: o->seed_file = optarg; break;
        case OPT_JSON: o->json = true; break;
        case OPT_NEW: o->new_addr = true; break;
        case OPT_ALL: o->all = true; break;
        case OPT_COINS: o->coins = true; break;
        case OPT_YES: o->yes = true; break;
        case CLI_PROGRESS: o->progress = true; break;
        case OPT_PASS_FD:
            if (!parse_fd(optarg, &o->pass_fd))
                return wcli_usage_error("--passphrase-fd needs a file descriptor number, not '%s'",
                                   optarg);
            break;
        case OPT_SEED_FD:
            if (!parse_fd(optarg, &o->seed_fd))
                return wcli_usage_error("--seed-fd needs a file descriptor number, not '%s'", optarg);
            break;
        case OPT_KEYS:
            if (!cli_u64(&cl, 1, 100000, &v))
                return EXIT_USAGE;
            o->keys = v;
            break;
        case OPT_GAP:
            if (!cli_u64(&cl, 1, UTXO_WALLET_GAP_MAX, &v))
                return EXIT_USAGE;
            o->gap = v;
            break;
        case OPT_RESTORE_HEX:
            return wcli_usage_error("--restore-hex is gone: a seed on the command line can be read "
                               "by other users; use `utxo wallet restore` (seed from the "
                               "terminal, --seed-fd or --seed-file)");
        }
    }
    /* GNU getopt moved the operands behind the options */
    if (optind + 1 >= argc)
        return wcli_usage_error("which wallet FILE?");
    o->file = argv[optind + 1];
    o->pos = argv + optind + 2;
    o->n_pos = argc - optind - 2;
    return 0;
}

/* The passphrase into a new guarded string (*out): --passphrase-fd,
 * --passphrase-file, $UTXO_PASSPHRASE (or the older $UTXO_WALLET_PASSPHRASE),
 * or the terminal (asked twice when confirm). */
static int get_passphrase(const wopts *o, bool confirm, char **out)
{
    const char *env = getenv("UTXO_PASSPHRASE");
    char *again = NULL;
    int rc;

    *out = NULL;
    if (env == NULL)
        env = getenv("UTXO_WALLET_PASSPHRASE");
    if (o->pass_fd >= 0)
        return secret_read_fd(o->pass_fd, "--passphrase-fd", out) == 0 ? 0 : EXIT_USAGE;
    if (o->pass_file != NULL)
        return secret_read_file(o->pass_file, out) == 0 ? 0 : EXIT_USAGE;
    if (env != NULL) {
        size_t n = strlen(env);
        if ((*out = sodium_malloc(n + 1)) == NULL) {
            errorf("wallet: out of memory");
            return EXIT_USAGE;
        }
        memcpy(*out, env, n + 1);
        return 0;
    }
    if (!secret_have_tty()) {
        errorf("wallet: this needs the passphrase: --passphrase-fd N, --passphrase-file FILE, "
               "$UTXO_PASSPHRASE, or run it on a terminal");
        return EXIT_USAGE;
    }
    if (secret_read_tty(confirm ? "passphrase for the new wallet: " : "wallet passphrase: ",
                        out) != 0)
        return EXIT_USAGE;
    if (!confirm)
        return 0;
    if (secret_read_tty("the passphrase again: ", &again) != 0) {
        secret_free(*out);
        *out = NULL;
        return EXIT_USAGE;
    }
    rc = strcmp(*out, again) == 0 ? 0 : EXIT_USAGE;
    secret_free(again);
    if (rc != 0) {
        errorf("wallet: the two passphrases differ; nothing was created");
        secret_free(*out);
        *out = NULL;
    }
    return rc;
}

int wcli_open(const wopts *o, bool unlock, utxo_wallet **w)
{
    char *pass = NULL;
    int rc, ex;

    if (unlock && (ex = get_passphrase(o, false, &pass)) != 0)
        return ex;
    rc = utxo_wallet_open(w, o->file, pass);
    secret_free(pass);
    if (rc != UTXO_OK) {
        errorf("wallet: %s: %s", o->file, rc == UTXO_ERR_IO ? "no such wallet file" : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    return 0;
}

void wcli_print_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

/* Creates o->file for p from master (NULL: a fresh seed) with a passphrase
 * asked for twice on a terminal. */
static int create_wallet(const wopts *o, const utxo_params *p, const uint8_t *master,
                         utxo_wallet **w)
{
    char *pass = NULL;
    int rc, ex, err;

    *w = NULL;
    if ((ex = get_passphrase(o, true, &pass)) != 0)
        return ex;
    errno = 0;
    rc = utxo_wallet_create(w, o->file, p, pass, master);
    err = errno; /* UTXO_ERR_IO: why the file could not be made */
    secret_free(pass);
    if (rc != UTXO_OK) {
        errorf("wallet: cannot create %s: %s", o->file,
               rc == UTXO_ERR_IO && err != 0 ? strerror(err) : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    return 0;
}

static void print_created(const wopts *o, const utxo_params *p, const char *addr)
{
    if (o->json) {
        json j;
        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "file");
        jw_str(&j, o->file);
        jw_key(&j, "chain_id");
        jw_hex(&j, p->chain_id, UTXO_HASH_BYTES);
        jw_key(&j, "address");
        jw_str(&j, addr);
        jw_end_object(&j);
        jw_finish(&j);
    } else {
        printf("created %s for chain ", o->file);
        wcli_print_hex(p->chain_id, UTXO_HASH_BYTES);
        printf("\naddress %s\n", addr);
    }
}

static int wallet_new(const wopts *o)
{
    char addr[UTXO_ADDRESS_LEN + 1];
    utxo_params p;
    utxo_wallet *w = NULL;
    int rc = UTXO_OK, ex;

    if (o->n_pos != 0)
        return wcli_usage_error("new: unexpected argument '%s'", o->pos[0]);
    utxo_params_default(&p);
    if (o->chain != NULL && (ex = chain_file_params("wallet", o->chain, &p)) != 0)
        return ex;
    if ((ex = create_wallet(o, &p, NULL, &w)) != 0)
        return ex;
    ex = EXIT_USAGE;
    for (uint64_t k = 0; k < o->keys && rc == UTXO_OK; k++)
        rc = utxo_wallet_new_key(w, NULL, NULL);
    if (rc != UTXO_OK || (rc = utxo_wallet_address(w, 0, addr, NULL)) != UTXO_OK) {
        errorf("wallet: %s", utxo_strerror(rc));
        goto done;
    }
    print_created(o, &p, addr);
    ex = EXIT_VALID;
done:
    utxo_wallet_close(w);
    return ex;
}

/* The seed from --seed-fd, --seed-file or the terminal: 64 hex digits
 * (surrounding blanks ignored). */
static int read_seed(const wopts *o, uint8_t seed[UTXO_SEED_BYTES])
{
    char *line = NULL;
    const char *end = NULL;
    size_t len = 0;
    int rc;

    if (o->seed_fd >= 0)
        rc = secret_read_fd(o->seed_fd, "--seed-fd", &line);
    else if (o->seed_file != NULL)
        rc = secret_read_file(o->seed_file, &line);
    else if (secret_have_tty())
        rc = secret_read_tty("seed (64 hex digits): ", &line);
    else {
        errorf("wallet: restore needs the seed: --seed-fd N, --seed-file FILE, or run it on a "
               "terminal");
        return EXIT_USAGE;
    }
    if (rc != 0)
        return EXIT_USAGE;
    rc = sodium_hex2bin(seed, UTXO_SEED_BYTES, line, strlen(line), " \t", &len, &end);
    if (rc != 0 || len != UTXO_SEED_BYTES || end == NULL || strspn(end, " \t") != strlen(end)) {
        errorf("wallet: the seed is not 64 hex digits");
        sodium_memzero(seed, UTXO_SEED_BYTES);
        rc = EXIT_USAGE;
    }
    secret_free(line);
    return rc == 0 ? 0 : EXIT_USAGE;
}

static int sync_run(const wopts *o, utxo_wallet *w);

static int wallet_restore(const wopts *o)
{
    uint8_t seed[UTXO_SEED_BYTES];
    char addr[UTXO_ADDRESS_LEN + 1];
    utxo_params p;
    utxo_wallet *w = NULL;
    uint32_t n_keys = 0;
    int rc, ex;

    if (o->n_pos != 0)
        return wcli_usage_error("restore: unexpected argument '%s'", o->pos[0]);
    if (o->chain == NULL || (o->proofs == NULL) == (o->db == NULL))
        return wcli_usage_error("restore needs --chain BLOCKS and either --proofs PROOFS or "
                           "--db NODE.db");
    if ((ex = chain_file_params("wallet", o->chain, &p)) != 0 || (ex = read_seed(o, seed)) != 0)
        return ex;
    ex = create_wallet(o, &p, seed, &w);
    sodium_memzero(seed, sizeof seed);
    if (ex != 0)
        return ex;
    if ((rc = utxo_wallet_rescan_begin(w, (uint32_t)o->gap)) != UTXO_OK) {
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
        ex = EXIT_USAGE;
        goto done;
    }
    /* the rescan is a sync whose wallet derives keys ahead as it goes */
    ex = sync_run(o, w);
    if ((rc = utxo_wallet_rescan_end(w, &n_keys)) != UTXO_OK) {
        errorf("wallet: ending the rescan: %s", utxo_strerror(rc));
        ex = EXIT_USAGE;
    }
    if (ex == EXIT_VALID && !o->json && utxo_wallet_address(w, 0, addr, NULL) == UTXO_OK)
        printf("restored %s: %u keys in use (gap limit %llu), first address %s\n", o->file,
               n_keys, (unsigned long long)o->gap, addr);
done:
    utxo_wallet_close(w);
    return ex;
}

static int wallet_seed(const wopts *o)
{
    uint8_t seed[UTXO_SEED_BYTES];
    char hex[2 * UTXO_SEED_BYTES + 1];
    utxo_wallet *w = NULL;
    int ex, rc;

    if (o->n_pos != 0)
        return wcli_usage_error("seed: unexpected argument '%s'", o->pos[0]);
    if (!o->yes) {
        if (!secret_have_tty()) {
            errorf("wallet: seed: not on a terminal to confirm; add --yes to show the seed");
            return EXIT_USAGE;
        }
        if (!secret_confirm_tty("The seed gives whoever sees it every coin of this wallet.\n"
                                "Show it? [y/N] ")) {
            errorf("wallet: seed not shown");
            return EXIT_USAGE;
        }
    }
    if ((ex = wcli_open(o, true, &w)) != 0)
        return ex;
    if ((rc = utxo_wallet_seed(w, seed)) != UTXO_OK) {
        errorf("wallet: %s", utxo_strerror(rc));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    sodium_bin2hex(hex, sizeof hex, seed, sizeof seed);
    printf("%s\n", hex);
    sodium_memzero(seed, sizeof seed);
    sodium_memzero(hex, sizeof hex);
    utxo_wallet_close(w);
    return fflush(stdout) == 0 ? EXIT_VALID : EXIT_USAGE;
}

static int wallet_bind(const wopts *o)
{
    utxo_params p;
    utxo_wallet *w = NULL;
    int ex, rc;

    if (o->n_pos != 0)
        return wcli_usage_error("bind: unexpected argument '%s'", o->pos[0]);
    if (o->chain == NULL)
        return wcli_usage_error("bind needs --chain BLOCKS");
    if ((ex = chain_file_params("wallet", o->chain, &p)) != 0 || (ex = wcli_open(o, false, &w)) != 0)
        return ex;
    if ((rc = utxo_wallet_set_chain(w, &p)) != UTXO_OK) {
        errorf("wallet: %s", utxo_wallet_errmsg(w)[0] ? utxo_wallet_errmsg(w) : utxo_strerror(rc));
        utxo_wallet_close(w);
        return EXIT_USAGE;
    }
    printf("%s now follows chain ", o->file);
    wcli_print_hex(p.chain_id, UTXO_HASH_BYTES);
    printf("\n");
    utxo_wallet_close(w);
    return EXIT_VALID;
}

static void sync_report(const wopts *o, utxo_wallet *w, uint64_t applied, uint64_t passed)
{
    uint64_t value = 0, n = 0;

    utxo_wallet_balance(w, &value, &n);
    if (o->json) {
        json j;
        jw_init(&j, stdout, false);
        jw_begin_object(&j);
        jw_key(&j, "applied");
        jw_u64(&j, applied);
        jw_key(&j, "passed");
        jw_u64(&j, passed);
        jw_key(&j, "next_height");
        jw_u64(&j, utxo_wallet_next_height(w));
        jw_key(&j, "balance");
        jw_u64(&j, value);
        jw_key(&j, "coins");
        jw_u64(&j, n);
        jw_end_object(&j);
        jw_finish(&j);
    } else {
        printf("applied %llu blocks (passed over %llu already applied), next height %u, balance "
               "%llu in %llu coins\n",
               (unsigned long long)applied, (unsigned long long)passed,
               utxo_wallet_next_height(w), (unsigned long long)value, (unsigned long long)n);
    }
}

/* Says on stderr which records were passed over as already applied, one
 * line per run of consecutive records. */
typedef struct sync_ctx {
    progress pr;
    bool passing;
    uint64_t rec0, rec1;
    uint32_t h0, h1;
} sync_ctx;

static void sync_flush(sync_ctx *c)
{
    if (!c->passing)
        return;
    c->passing = false;
    progress_clear(&c->pr);
    if (c->rec0 == c->rec1)
        fprintf(stderr, "wallet: record %llu (block %u) is a block the wallet already applied: "
                "passed over\n", (unsigned long long)c->rec0, c->h0);
    else
        fprintf(stderr, "wallet: records %llu..%llu (blocks %u..%u) are the blocks the wallet "
                "already applied (they link to its tip): passed over\n",
                (unsigned long long)c->rec0, (unsigned long long)c->rec1, c->h0, c->h1);
}

static int sync_progress(void *ctx, const utxo_pipe_progress *pr)
{
    sync_ctx *c = ctx;

    if (pr->event != UTXO_PIPE_PASSED) {
        sync_flush(c);
    } else if (c->passing && pr->record == c->rec1 + 1) {
        c->rec1 = pr->record;
        c->h1 = pr->height;
    } else {
        sync_flush(c);
        c->passing = true;
        c->rec0 = c->rec1 = pr->record;
        c->h0 = c->h1 = pr->height;
    }
    if (pr->event == UTXO_PIPE_APPLIED)
        progress_update(&c->pr, pr->applied, pr->bytes_done, pr->bytes_total);
    return 0;
}

/* Applies the blocks of o->db (a bridge node's store, read-only), of a
 * node over HTTP (o->node: utxo_client_sync_wallet), or of o->chain and
 * o->proofs, to w: utxo_wallet_sync_store / _files do the work under the
 * record rule. */
static int sync_run(const wopts *o, utxo_wallet *w)
{
    utxo_store *st = NULL;
    utxo_params p;
    utxo_sync_opts so;
    utxo_pipe_result res;
    sync_ctx c;
    char msg[256] = "";
    int ex, rc;

    memset(&c, 0, sizeof c);
    memset(&so, 0, sizeof so);
    so.progress = sync_progress;
    so.ctx = &c;
    progress_begin(&c.pr, progress_mode(false, o->progress), "wallet sync", "blocks");
    if (o->db != NULL) {
        utxo_wallet_params(w, &p);
        rc = utxo_store_open(&st, o->db, &p, UTXO_STORE_READONLY, 1, msg, sizeof msg);
        if (rc != UTXO_OK) {
            errorf("wallet: %s: %s", o->db, msg[0] ? msg : utxo_strerror(rc));
            return EXIT_USAGE;
        }
        rc = utxo_wallet_sync_store(w, st, &so, &res);
        utxo_store_close(st);
    } else if (o->node != NULL) {
        utxo_client *cl = NULL;
        if ((rc = utxo_client_open(&cl, o->node)) != UTXO_OK) {
            progress_end(&c.pr, false);
            errorf("wallet: --node %s: %s", o->node,
                   rc == UTXO_ERR_ARG ? "the URL must start with http:// or https://"
                                      : utxo_strerror(rc));
            return EXIT_USAGE;
        }
        rc = utxo_client_sync_wallet(cl, w, &so, &res);
        utxo_client_close(cl);
    } else {
        rc = utxo_wallet_sync_files(w, o->chain, o->proofs, &so, &res);
    }
    sync_flush(&c);
    progress_end(&c.pr, rc == UTXO_OK);
    if (rc != UTXO_OK) {
        errorf("wallet: %s", res.reason);
        ex = res.invalid ? EXIT_INVALID : EXIT_USAGE;
    } else {
        sync_report(o, w, res.applied, res.passed);
        ex = EXIT_VALID;
    }
    return ex;
}

static int wallet_sync(const wopts *o)
{
    utxo_wallet *w = NULL;
    int ex;

    if (o->n_pos != 0)
        return wcli_usage_error("sync: unexpected argument '%s'", o->pos[0]);
    if ((o->db != NULL) + (o->node != NULL) > 1 ||
        ((o->db != NULL || o->node != NULL) ? o->chain != NULL || o->proofs != NULL
                                            : o->chain == NULL || o->proofs == NULL))
        return wcli_usage_error("sync needs --chain BLOCKS and --proofs PROOFS, --db NODE.db "
                                "or --node URL");
    if ((ex = wcli_open(o, false, &w)) != 0)
        return ex;
    ex = sync_run(o, w);
    utxo_wallet_close(w);
    return ex;
}

/* Each subcommand with the options it takes (besides --help and the
 * passphrase's), as wallet_usage lists them. */
static const struct {
    const char *name;
    int (*run)(const wopts *o);
    const char *opts;
} wallet_subs[] = {
    {"new", wallet_new, "--chain --keys --json"},
    {"restore", wallet_restore,
     "--chain --proofs --db --gap --seed-fd --seed-file --json --progress"},
    {"seed", wallet_seed, "--yes"},
    {"bind", wallet_bind, "--chain"},
    {"pending", wallet_pending, "--json"},
    {"address", wallet_address, "--new --all --json"},
    {"balance", wallet_balance, "--coins --json"},
    {"history", wallet_history, "--json"},
    {"sync", wallet_sync, "--chain --proofs --db --node --json --progress"},
    {"send", wallet_send, "-o --output --node --json"},
    {"abandon", wallet_abandon, ""},
    {"rollback", wallet_rollback, ""},
};

int cmd_wallet(int argc, char **argv)
{
    const char *sub = argc > 1 ? argv[1] : NULL;
    wopts o;
    int ex;

    if (sub == NULL)
        return wcli_usage_error("a subcommand is missing");
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        wallet_usage(stdout);
        return EXIT_VALID;
    }
    for (size_t i = 0; i < sizeof wallet_subs / sizeof wallet_subs[0]; i++) {
        if (strcmp(sub, wallet_subs[i].name) != 0)
            continue;
        if ((ex = parse(argc, argv, &o, wallet_subs[i].opts)) != 0)
            return ex < 0 ? EXIT_VALID : ex;
        return wallet_subs[i].run(&o);
    }
    return wcli_usage_error("unknown subcommand '%s'", sub);
}
