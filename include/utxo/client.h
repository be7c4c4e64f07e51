/*
 * utxo/client.h — a small client of a utxo node's HTTP API (docs/API.md),
 * for wallet authors who do not want the command line: the node's chain
 * and tip, a transaction handed to it (POST /tx) with its verdict, and a
 * wallet synced from its /blocks stream (every block checked statelessly
 * against the wallet's roots, as `utxo wallet sync --node` does).
 *
 * Ownership: utxo_client is opaque, made by utxo_client_open and freed by
 * utxo_client_close. One client is used by one thread at a time (clients
 * in different threads are independent). Every call blocks until the node
 * answers (connect timeout 10 s; a transfer that stalls for 60 s fails, and
 * any request but a block stream fails after 120 s in all, however it
 * trickles; in a block stream, each block with its bundle must arrive
 * within 120 s and a second more per 64 KiB of it).
 *
 * Results: UTXO_OK; UTXO_ERR_CLIENT_REACH (no answer: refused connection,
 * timeout, cut transfer), UTXO_ERR_CLIENT_ANSWER (an answer the API does
 * not allow), UTXO_ERR_CLIENT_CHAIN (another chain than the caller's);
 * for utxo_client_submit, the node's own verdict code; for
 * utxo_client_sync_wallet, the wallet's verdict on an invalid block.
 * utxo_client_errmsg says what happened in one line.
 */
#ifndef UTXO_CLIENT_H
#define UTXO_CLIENT_H

#include "utxo/ledger.h"
#include "utxo/pipeline.h"
#include "utxo/validate.h"
#include "utxo/wallet.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct utxo_client utxo_client;

/** What GET /status says. */
typedef struct utxo_client_status {
    int64_t height;                        /* the tip's height; -1: no block yet */
    uint8_t tip[UTXO_HASH_BYTES];          /* the tip's header hash (zeros at -1) */
    uint8_t roots_digest[UTXO_HASH_BYTES]; /* the accumulator digest after the tip */
    uint8_t chain_id[UTXO_HASH_BYTES];
    uint64_t leaves;                       /* accumulator leaves ever added */
    uint64_t utxos;                        /* unspent outputs */
    uint64_t mempool;                      /* transactions waiting (0 but on a sequencer) */
    char role[16];                         /* "sequencer", "bridge" or "server" */
} utxo_client_status;

/**
 * A client of the node at url ("http://HOST:PORT" or https://, a path
 * prefix allowed; trailing slashes ignored). Nothing is sent yet.
 * UTXO_ERR_ARG for another URL (another scheme, no host, a port outside
 * 1..65535, a control character: what libcurl's URL parser refuses),
 * UTXO_ERR_NOMEM; *out is NULL on error.
 */
UTXO_WARN_UNUSED int utxo_client_open(utxo_client **out, const char *url);
/** Frees c; NULL is a no-op. */
void utxo_client_close(utxo_client *c);
/** The last call's failure in one line ("" after a success, and after a
 *  refusal of the call's own arguments: UTXO_ERR_ARG says it all); valid
 *  until the next call on c. */
const char *utxo_client_errmsg(const utxo_client *c);

/** The node's consensus parameters (GET /params) into *p. */
UTXO_WARN_UNUSED int utxo_client_params(utxo_client *c, utxo_params *p);

/** The node's status (GET /status) into *st. */
UTXO_WARN_UNUSED int utxo_client_get_status(utxo_client *c, utxo_client_status *st);

/**
 * Hands tx to the node (POST /tx). UTXO_OK when the node took it into its
 * mempool (a sequencer answers once the transaction is on disk; a bridge
 * relays its upstream's answer); *txid (may be NULL) receives the txid the
 * node names, tx's own (a 200 without one, or naming another transaction,
 * is UTXO_ERR_CLIENT_ANSWER either way). A
 * refusal (HTTP 400 or 413 with a verdict code a node can give: decoding,
 * transaction and block rules, predicate images, mempool) returns the
 * node's code (e.g. UTXO_ERR_TX_FEE, UTXO_ERR_MP_CONFLICT), with v->input
 * (v may be NULL) the input at fault and the node's message in
 * utxo_client_errmsg; any other code is UTXO_ERR_CLIENT_ANSWER. An answer 5xx (the node
 * could not record it, or a bridge's upstream did not answer) or 429 (this
 * client's allowance of refused work is spent: --client-cycles) is
 * UTXO_ERR_CLIENT_REACH: no verdict on the transaction.
 */
UTXO_WARN_UNUSED int utxo_client_submit(utxo_client *c, const utxo_tx *tx,
                                        uint8_t txid[UTXO_HASH_BYTES], utxo_verdict *v);

/**
 * Applies to wallet w the blocks the node holds above the wallet's tip
 * (GET /blocks in batches, up to the tip /status names when asked), each
 * with utxo_wallet_apply_block: the node's bundles are checked against
 * the wallet's roots, nothing is trusted. o (may be NULL): o->to stops
 * before that height; o->progress is called after each block
 * (UTXO_PIPE_APPLIED). res (may be NULL) gets the totals and, on error,
 * the height and reason. The wallet keeps every block applied before an
 * error. UTXO_ERR_CLIENT_CHAIN when the node serves another chain than
 * the wallet's.
 */
UTXO_WARN_UNUSED int utxo_client_sync_wallet(utxo_client *c, utxo_wallet *w,
                                             const utxo_sync_opts *o, utxo_pipe_result *res);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_CLIENT_H */
