/*
 * nodeclient.h — the HTTP side of following a node (libcurl): the chain's
 * parameters, the tip, and the /blocks stream cut into block and proof
 * bundle pairs, each decoded and handed to the caller, one at a time
 * (docs/API.md). Shared by `utxo follow` (a stateless validator) and the
 * bridge role of `utxo node` (a full node following another one).
 */
#ifndef UTXO_TOOLS_NODECLIENT_H
#define UTXO_TOOLS_NODECLIENT_H

#include <curl/curl.h>
#include <signal.h>
#include <stdint.h>
#include "utxo.h"

typedef struct membuf {
    uint8_t *p;
    size_t len, cap, max;
} membuf;

/* A connection to one node. stop (may be NULL) aborts a transfer when it
 * becomes non-zero (checked about once a second, even on a stalled node). */
typedef struct nc_client {
    CURL *h;
    char base[4096];                /* URL without its trailing slashes */
    volatile sig_atomic_t *stop;
    int quiet_errors;               /* 1: failures are not printed (the caller logs) */
    char err[512];                  /* the last failure, also when quiet */
} nc_client;

/* 0, or EXIT_USAGE after a message (bad URL, libcurl not starting).
 * agent: the User-Agent. */
int nc_open(nc_client *c, const char *url, const char *agent, volatile sig_atomic_t *stop);
void nc_close(nc_client *c);

/* GETs base+path into a new buffer of at most max bytes (free out->p);
 * 0 when the answer is 200, else EXIT_USAGE with c->err set (the node's
 * JSON error message when it sent one). */
int nc_get(nc_client *c, const char *path, size_t max, membuf *out);

/* POSTs body[0..len) (application/octet-stream) to base+path; the answer,
 * whatever its status, into out (at most max bytes; free out->p) and
 * *status. 0, or EXIT_USAGE when no answer came (c->err). */
int nc_post(nc_client *c, const char *path, const uint8_t *body, size_t len, size_t max,
            long *status, membuf *out);

/* The node's parameters (/params): 0, EXIT_USAGE (unreachable, c->err) or
 * EXIT_INVALID (not parameters, c->err). */
int nc_params(nc_client *c, utxo_params *p);

/* The node's tip height from /status: >= 0, -1 for an empty chain, -2 on
 * failure (c->err). */
long long nc_tip(nc_client *c);

/* Waits for a tip above `after` (-1: above the tip when asked) with GET
 * /events, at most wait_s seconds. 0 when the node answered (a new tip or
 * not), -1 when it cannot (an older node without /events, or a failure:
 * the caller then sleeps instead); nothing is printed. */
int nc_wait_tip(nc_client *c, long long after, unsigned wait_s);

/* Receives each block of a /blocks stream with its proof bundle (both
 * decoded; borrowed for the call) and the raw bundle bytes. Return 0 to go
 * on, or non-zero to stop (the block was refused: write why to err). */
typedef int (*nc_pair_fn)(void *ud, uint32_t height, const utxo_block *b, const utxo_bundle *bu,
                          const uint8_t *bundle_bytes, size_t bundle_len, char *err,
                          size_t err_len);

/* Writes the refusal of the block at height, "the WHO served an invalid
 * block at height H: REASON (tx T, input I)", into err (for nc_pair_fn). */
void nc_refused(char *err, size_t err_len, const char *who, uint32_t height, int rc,
                const utxo_verdict *vd);

/* Result of one nc_blocks request. */
enum { NC_OK = 0, NC_INVALID = 1, NC_FAILED = 2, NC_STOPPED = 3 };

/*
 * GETs /blocks?from=from&count=count and hands each pair to fn as it
 * arrives, holding one pair at a time (bounded by the chain's block size
 * and UTXO_BUNDLE_MAX_BYTES). *applied gets the pairs fn accepted.
 * NC_OK: all count pairs taken; NC_INVALID: the node served data that
 * does not decode or that fn refused (c->err names the height and why);
 * NC_FAILED: the transfer failed or ended early (c->err); NC_STOPPED: *stop.
 */
int nc_blocks(nc_client *c, const utxo_params *p, uint32_t from, uint32_t count,
              nc_pair_fn fn, void *ud, uint32_t *applied);

#endif /* UTXO_TOOLS_NODECLIENT_H */
