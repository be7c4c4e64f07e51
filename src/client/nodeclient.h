/*
 * client/nodeclient.h — a node's HTTP API from the client side (libcurl):
 * the chain's parameters, the tip, POST, and the /blocks stream cut into
 * block and proof bundle pairs, each decoded and handed to the caller, one
 * at a time (docs/API.md). Internal (prefix nc_): under `utxo follow` (a
 * stateless validator), the bridge role of `utxo node`, `utxo wallet
 * --node` and the public client (utxo/client.h).
 *
 * Failures: NC_ERR_REACH (2: the node could not be reached, or the
 * transfer failed) and NC_ERR_DATA (1: it answered something that is not
 * what the API says); the values are the `utxo` command's exit codes for
 * the same cases, so the commands return them as they are. c->err says
 * what happened; it is also handed to the reporter (nc_set_reporter)
 * unless c->quiet_errors.
 */
#ifndef UTXO_CLIENT_NODECLIENT_H
#define UTXO_CLIENT_NODECLIENT_H

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdint.h>
#include "utxo.h"

enum { NC_ERR_DATA = 1, NC_ERR_REACH = 2 };

/* Where failures are reported when a client is not quiet (process-wide;
 * NULL, the default: nowhere). The utxo command prints them. */
void nc_set_reporter(void (*fn)(const char *msg));

typedef struct membuf {
    uint8_t *p;
    size_t len, cap, max;
    int over;   /* the answer went past max: the transfer was abandoned */
} membuf;

/* A connection to one node. stop (may be NULL) aborts a transfer when it
 * becomes non-zero (checked about once a second, even on a stalled node).
 * It is atomic: another thread (a node's main thread) or a signal handler
 * sets it while the transfer runs (a lock-free atomic_int may be written
 * from a handler, C11 7.14.1.1). */
typedef struct nc_client {
    CURL *h;
    char base[4096];                /* URL without its trailing slashes */
    const atomic_int *stop;
    int quiet_errors;               /* 1: failures are not printed (the caller logs) */
    long timeout_s;                 /* the most one request but a /blocks stream may take
                                     * (nc_open: NC_TIMEOUT_S; /events adds its wait), and
                                     * one block with its bundle in a /blocks stream */
    uint64_t pair_deadline_ns;      /* nc_blocks: when the pair being received is late
                                     * (clock_now_ns; 0: no stream) */
    char err[512];                  /* the last failure, also when quiet */
} nc_client;

/* A request's whole time, by default: a node that trickles its answer (the
 * low-speed rule only catches one that stops) is given up after it. A
 * /blocks stream, of any length, is given up when one block with its
 * bundle takes longer, or when it stalls (60 s). */
#define NC_TIMEOUT_S 120L

/* 0, or NC_ERR_REACH after a message (bad URL, libcurl not starting).
 * agent: the User-Agent. */
int nc_open(nc_client *c, const char *url, const char *agent, const atomic_int *stop);
void nc_close(nc_client *c);

/* Copies a node's text (a JSON message) into out[out_len] with every byte
 * that is not printable ASCII shown as '?', so that what a node says can
 * neither forge lines in a log nor send escapes to a terminal; truncated
 * to fit, always terminated. Returns out. */
char *nc_printable(char *out, size_t out_len, const char *s);

/* GETs base+path into a new buffer of at most max bytes (free out->p);
 * 0 when the answer is 200, else NC_ERR_REACH with c->err set (the node's
 * JSON error message when it sent one; out->over when the answer was
 * longer than max). */
int nc_get(nc_client *c, const char *path, size_t max, membuf *out);

/* POSTs body[0..len) (application/octet-stream) to base+path; the answer,
 * whatever its status, into out (at most max bytes; free out->p) and
 * *status. 0, or NC_ERR_REACH when no answer came, or one longer than max
 * (out->over) (c->err). */
int nc_post(nc_client *c, const char *path, const uint8_t *body, size_t len, size_t max,
            long *status, membuf *out);

/* The node's parameters (/params): 0, NC_ERR_REACH (unreachable, c->err) or
 * NC_ERR_DATA (not parameters, c->err). */
int nc_params(nc_client *c, utxo_params *p);

/* The node's tip height from /status: >= 0, -1 for an empty chain, -2 on
 * failure (c->err). */
long long nc_tip(nc_client *c);

/* Waits for a tip above `after` (-1: above the tip when asked) with GET
 * /events, at most wait_s seconds. 0 when the node answered (a new tip or
 * not), -1 when it answered with an error (an older node without
 * /events: the caller then sleeps instead), -2 when no answer came (the
 * node went away, or the connection broke: c->err); nothing is printed. */
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
 * does not decode or that fn refused (c->err names the height and why),
 * or more than count pairs (none past count is handed to fn);
 * NC_FAILED: the transfer failed, ended early or took more than
 * c->timeout_s for one pair (c->err); NC_STOPPED: *stop.
 */
int nc_blocks(nc_client *c, const utxo_params *p, uint32_t from, uint32_t count,
              nc_pair_fn fn, void *ud, uint32_t *applied);

/*
 * The parser of a /blocks stream, apart from the transfer (nc_blocks runs
 * it on the body of a 200 answer; tests/fuzz/fuzz_stream feeds it hostile
 * bytes). The body is record pairs, each a block and its bundle with a
 * u32le length before each; every pair is decoded and handed to fn (height
 * from, from + 1, ...) as soon as it is whole. nc_stream_feed takes the
 * next k bytes (k <= CURL_MAX_WRITE_SIZE, as curl gives them): k, or 0
 * when the stream must end (invalid set, the reason
 * in c->err: a length past the chain's limits, a block or bundle that does
 * not decode, a bundle whose first bytes cannot begin one, fn refusing, a
 * byte past the `count` pairs asked for; or out of memory, invalid unset).
 * Memory held: the pair being received, never more than its bytes so far.
 * c needs no transfer (c->h may be NULL): only err and the pair deadline
 * are written.
 */
typedef struct nc_stream {
    nc_client *c;
    const utxo_params *p;
    nc_pair_fn fn;
    void *ud;
    membuf rec;        /* the record pair being received */
    uint32_t height;   /* of the next pair */
    uint32_t count;    /* the pairs asked for: a byte past them is no answer the API allows */
    uint32_t applied;  /* pairs handed to fn and taken */
    int invalid;
    long status;       /* the answer's HTTP status, read at its first bytes */
    membuf err;        /* the body of an answer other than 200 (at most 64 KiB) */
    size_t check_at;   /* bundle bytes at which its prefix is checked next */
} nc_stream;

void nc_stream_init(nc_stream *s, nc_client *c, const utxo_params *p, uint32_t from,
                    uint32_t count, nc_pair_fn fn, void *ud);
size_t nc_stream_feed(nc_stream *s, const char *data, size_t k);
void nc_stream_free(nc_stream *s);

#endif /* UTXO_CLIENT_NODECLIENT_H */
