/*
 * chain/history_int.h — the history generator's state, shared by its three
 * files, which call each other downwards only: chain/history.c (the run and
 * its blocks) calls chain/invalid.c (genesis coins, the reserve coins and the
 * invalid transactions written to invalid.txs), both call chain/gencoin.c
 * (keys, coins, their images, transactions).
 * Prefix gen_. Not installed.
 */
#ifndef UTXO_SRC_CHAIN_GEN_INT_H
#define UTXO_SRC_CHAIN_GEN_INT_H

#include "chain/chain.h"
#include "utxo/builder.h"
#include "utxo/segments.h"

/* Input kinds (gen_stats.by_kind); also the coin kinds. */
enum gen_kind {
    GK_P2PK = 0,
    GK_MULTISIG = 1,      /* 2 of 3 */
    GK_HASHLOCK = 2,
    GK_TIMELOCK = 3,
    GK_HTLC_CLAIM = 4,    /* an HTLC the recipient claims with the secret */
    GK_HTLC_REFUND = 5,   /* an HTLC its sender takes back after the lock */
    GK_RSA = 6,
    GK_WORK = 7           /* the long-run predicate */
};

#define GEN_RSA_KEYS 2u
#define GEN_SECRET_BYTES 32u
#define GEN_WORK_ARGS 24u
#define GEN_IMAGE_MAX 4096u
#define GEN_ALLOC UINT64_C(1000000000000)        /* per genesis coin */
#define GEN_DUST UINT64_C(1000000)               /* smaller p2pk change is not reused */
#define GEN_SPECIAL_MIN UINT64_C(10000000)       /* least value locked in a special output */
#define GEN_GENESIS_TIME UINT64_C(1767225600)    /* 2026-01-01T00:00:00Z */
#define GEN_SEQ_KEY_INDEX 0x80000000u            /* sequencer: child seed of the master */

typedef struct gen_coin {
    utxo_outpoint op;
    uint64_t value;
    uint32_t kind;        /* enum gen_kind */
    uint32_t a, b;        /* owner (multisig: first of three keys; rsa: key); htlc: recipient, refund */
    uint32_t height;      /* block that made it */
    uint32_t ready;       /* the generator spends it from this height (UINT32_MAX: never) */
    uint32_t lock;        /* time lock / HTLC refund height */
    uint32_t secret;      /* hash-lock / HTLC secret number */
} gen_coin;

/* An output to make, and the coin it becomes. */
typedef struct gen_out {
    uint64_t value;
    uint8_t id[UTXO_HASH_BYTES];
    gen_coin coin;        /* kind and parameters (outpoint, value, height set on acceptance) */
    const uint8_t *datum; /* borrowed; a code output's image */
    uint32_t datum_len;
    bool code;            /* the code output (gen.code): not a coin the generator spends */
} gen_out;

typedef struct gen {
    gen_opts o;
    gen_stats *st;
    uint8_t master[32];
    utxo_params p;
    chain_seq *seq;
    uint8_t (*pk)[UTXO_PUBKEY_BYTES];
    uint8_t (*sk)[UTXO_SECRETKEY_BYTES];
    uint8_t (*id)[UTXO_HASH_BYTES];
    uint8_t rsa[GEN_RSA_KEYS][512];   /* n || d */
    uint8_t rsa_pq[GEN_RSA_KEYS][256]; /* p || q: signing by CRT */
    gen_coin *pay;                    /* p2pk coins, roughly in creation order */
    size_t n_pay, cap_pay;
    gen_coin *spec;                   /* other coins, in creation order */
    size_t n_spec, cap_spec;
    gen_coin reserve[6];              /* never spent: material for invalid.txs */
    size_t n_reserve;
    gen_coin spent_coin;              /* a coin spent in block 1 */
    /* the code output holding the long-run image (deployed in block 1):
     * later long runs are spent by reference to it (witness form 3) */
    bool have_code;
    utxo_outpoint code_op;
    utxo_output code_out;             /* datum: chain_work_img (static) */
    uint32_t code_height;
    uint64_t rng;
    uint64_t work_budget;
    uint64_t tip_next;                /* extra fee for the next gen_make_tx (then 0) */
    uint32_t next_secret, next_kind;
    uint32_t made[GEN_KINDS];         /* special coins made, per kind */
    chain_block_info last;
    /* a block's transactions, built one after another (each counting the
     * ones before it accepted) and submitted together before the seal,
     * so that their predicates run on all threads at once */
    bool batch;
    utxo_tx **queued;
    size_t n_queued, cap_queued;
} gen;

/* chain/gencoin.c: keys, coins, their images, transactions */
int gen_keys(gen *g);
uint64_t gen_rand(gen *g);
uint32_t gen_wallet(gen *g);
void gen_secret(const gen *g, uint32_t ix, uint8_t secret[GEN_SECRET_BYTES]);
void gen_work_args(const gen *g, uint8_t args[GEN_WORK_ARGS]);
int gen_coin_image(const gen *g, const gen_coin *c, uint8_t *img, size_t cap, size_t *len);
int gen_add_coin(gen *g, const gen_coin *c);
int gen_out_special(gen *g, gen_out *o, unsigned kind, uint64_t value, uint32_t height,
                    uint32_t ready);
int gen_make_tx(gen *g, const gen_coin *ins, size_t n_in, const gen_out *outs, size_t n_out,
                uint32_t change, bool submit, utxo_tx **out, utxo_verdict *vd);
/* Submits the transactions queued in batch mode (g->batch) to the mempool
 * together; a rejection is the generator's failure (msg says which). */
int gen_submit_queued(gen *g, char *msg, size_t msg_len);
void gen_drop_queued(gen *g);

/* chain/invalid.c */
int gen_genesis_coins(gen *g, const chain_alloc *allocs, uint32_t n);
int gen_measure_work(gen *g);
int gen_reserves(gen *g);
int gen_write_invalid(gen *g, const char *dir, char *msg, size_t msg_len);

#endif /* UTXO_SRC_CHAIN_GEN_INT_H */
