/*
 * test_client.c — the C client's contract (include/utxo/client.h) against
 * what a node may answer: utxo_client_open refuses URLs that cannot name a
 * node (no host, a port that is no port, control characters) with
 * UTXO_ERR_ARG, and utxo_client_submit, against a canned server on
 * 127.0.0.1 (a thread here, one answer per connection), returns a node's
 * refusal code only for a 400 or 413 carrying a verdict a node can give;
 * every other answer, a 200 without a txid or naming another transaction
 * included, is UTXO_ERR_CLIENT_ANSWER, whether or not the caller asks for
 * the txid;
 * the node's message reaches utxo_client_errmsg as printable ASCII.
 * Whatever proxy the environment names is not used (main).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>
#include "testutil.h"
#include "utxo/client.h"

START_TEST(open_refuses_urls_that_name_no_node)
{
    static const char *const bad[] = {
        "http://",           "http:///",         "http://h:99999", "http://h:abc",
        "http://h:0",        "http://h\r\nX: y", "ftp://h/",       "h:8080",
        "http://h:-1",       "",
    };
    static const char *const good[] = {"http://127.0.0.1:1", "https://example.org/",
                                       "http://[::1]:8080", "http://node.example:65535/x"};
    utxo_client *c = (utxo_client *)1;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(utxo_client_open(&c, bad[i]) == UTXO_ERR_ARG, "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(c);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(utxo_client_open(&c, good[i]) == UTXO_OK, "refused \"%s\"", good[i]);
        utxo_client_close(c);
    }
}
END_TEST

/* utxo_client_errmsg is the last call's: a call refused for its arguments
 * after one that failed to reach the node leaves "", not the old reason. */
START_TEST(errmsg_is_the_last_calls)
{
    utxo_client *c = NULL;
    utxo_params p;
    utxo_client_status st;

    ck_assert_int_eq(utxo_client_open(&c, "http://127.0.0.1:1"), UTXO_OK);
    ck_assert_int_eq(utxo_client_params(c, &p), UTXO_ERR_CLIENT_REACH);
    ck_assert_str_ne(utxo_client_errmsg(c), "");
    ck_assert_int_eq(utxo_client_get_status(c, NULL), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_client_errmsg(c), "");
    ck_assert_int_eq(utxo_client_get_status(c, &st), UTXO_ERR_CLIENT_REACH);
    ck_assert_int_eq(utxo_client_submit(c, NULL, NULL, NULL), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_client_errmsg(c), "");
    ck_assert_int_eq(utxo_client_get_status(c, &st), UTXO_ERR_CLIENT_REACH);
    ck_assert_int_eq(utxo_client_params(c, NULL), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_client_errmsg(c), "");
    ck_assert_int_eq(utxo_client_get_status(c, &st), UTXO_ERR_CLIENT_REACH);
    ck_assert_int_eq(utxo_client_sync_wallet(c, NULL, NULL, NULL), UTXO_ERR_ARG);
    ck_assert_str_eq(utxo_client_errmsg(c), "");
    utxo_client_close(c);
}
END_TEST

/* ---- a canned node ------------------------------------------------------- */

typedef struct canned {
    int fd;
    const char *status_line; /* "400 Bad Request" */
    const char *body;
} canned;

/* Serves one connection: reads the request (headers and Content-Length
 * bytes), answers with the canned status and body, closes. */
static void *serve_one(void *arg)
{
    canned *k = arg;
    int c = accept(k->fd, NULL, NULL);
    char buf[65536];
    size_t got = 0;
    long want = -1;

    if (c < 0)
        return NULL;
    for (;;) {
        ssize_t n = read(c, buf + got, sizeof buf - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = 0;
        char *end = strstr(buf, "\r\n\r\n");
        if (end != NULL && want < 0) {
            char *cl = strcasestr(buf, "Content-Length:");
            want = (long)(end + 4 - buf) + (cl ? strtol(cl + 15, NULL, 10) : 0);
        }
        if (want >= 0 && (long)got >= want)
            break;
    }
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      k->status_line, strlen(k->body));
    ck_assert_int_eq(write(c, head, (size_t)hl), hl);
    ck_assert_int_eq(write(c, k->body, strlen(k->body)), (ssize_t)strlen(k->body));
    close(c);
    return NULL;
}

static char last_errmsg[512]; /* utxo_client_errmsg after the last submit_to */

/* The transaction submit_to sends (free it). */
static utxo_tx *canned_tx(void)
{
    uint8_t id[UTXO_HASH_BYTES] = {1};
    utxo_tx *tx = utxo_tx_new();

    ck_assert_ptr_nonnull(tx);
    ck_assert_int_eq(utxo_tx_add_output(tx, 5, id, NULL, 0), UTXO_OK);
    return tx;
}

/* Submits a transaction to a node that answers status_line and body;
 * returns the result, with the txid (when want_txid) and verdict. */
static int submit_to(const char *status_line, const char *body, int want_txid,
                     uint8_t txid[UTXO_HASH_BYTES], utxo_verdict *v)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    canned k = {socket(AF_INET, SOCK_STREAM, 0), status_line, body};
    pthread_t t;
    char url[64];
    utxo_client *c = NULL;
    utxo_tx *tx = canned_tx();

    ck_assert_int_ge(k.fd, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(k.fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(k.fd, 1), 0);
    ck_assert_int_eq(getsockname(k.fd, (struct sockaddr *)&a, &al), 0);
    ck_assert_int_eq(pthread_create(&t, NULL, serve_one, &k), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%u", ntohs(a.sin_port));
    ck_assert_int_eq(utxo_client_open(&c, url), UTXO_OK);
    int rc = utxo_client_submit(c, tx, want_txid ? txid : NULL, v);
    ck_assert_ptr_nonnull(utxo_client_errmsg(c));
    snprintf(last_errmsg, sizeof last_errmsg, "%s", utxo_client_errmsg(c));
    utxo_client_close(c);
    utxo_tx_free(tx);
    pthread_join(t, NULL);
    close(k.fd);
    return rc;
}

START_TEST(submit_takes_only_answers_a_node_can_give)
{
    static const char hex[] = "\"0101010101010101010101010101010101010101010101010101010101010101\"";
    static const struct {
        const char *status, *body;
        int rc;
    } cases[] = {
        /* refusals a node gives: the node's code */
        {"400 Bad Request", "{\"code\":39,\"message\":\"fee\",\"input\":1}", UTXO_ERR_TX_FEE},
        {"400 Bad Request", "{\"code\":350,\"message\":\"conflict\"}", UTXO_ERR_MP_CONFLICT},
        {"400 Bad Request", "{\"code\":10,\"message\":\"not a transaction\"}", UTXO_ERR_TRUNCATED},
        {"413 Content Too Large", "{\"code\":13,\"message\":\"big\"}", UTXO_ERR_TOO_LARGE},
        /* not an answer the API allows (each was returned as the node's
         * verdict, or as success, before) */
        {"400 Bad Request", "{\"code\":999,\"message\":\"x\"}", UTXO_ERR_CLIENT_ANSWER},
        {"400 Bad Request", "{\"code\":1,\"message\":\"x\"}", UTXO_ERR_CLIENT_ANSWER},
        {"400 Bad Request", "{\"code\":401,\"message\":\"x\"}", UTXO_ERR_CLIENT_ANSWER},
        {"409 Conflict", "{\"code\":303,\"message\":\"x\",\"input\":7}", UTXO_ERR_CLIENT_ANSWER},
        {"201 Created", "{\"code\":39,\"message\":\"x\"}", UTXO_ERR_CLIENT_ANSWER},
        {"200 OK", "not json at all", UTXO_ERR_CLIENT_ANSWER},
        {"200 OK", "{\"txid\":\"0101\"}", UTXO_ERR_CLIENT_ANSWER},
        {"503 Service Unavailable", "{\"code\":3,\"message\":\"busy\"}", UTXO_ERR_CLIENT_REACH},
        {"429 Too Many Requests", "{\"code\":0,\"message\":\"later\"}", UTXO_ERR_CLIENT_REACH},
    };
    uint8_t txid[UTXO_HASH_BYTES];
    utxo_verdict v;
    char ok[128];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        for (int want = 0; want <= 1; want++) {
            int rc = submit_to(cases[i].status, cases[i].body, want, txid, &v);
            ck_assert_msg(rc == cases[i].rc, "%s %s (txid %s): %d, wanted %d", cases[i].status,
                          cases[i].body, want ? "asked" : "not asked", rc, cases[i].rc);
            if (i == 0)
                ck_assert_uint_eq(v.input, 1);
        }
    /* a 200 naming another transaction (a proxy's answer to another POST)
     * took some other transaction, not this one */
    snprintf(ok, sizeof ok, "{\"txid\":%s,\"mempool\":1}", hex);
    for (int want = 0; want <= 1; want++)
        ck_assert_int_eq(submit_to("200 OK", ok, want, txid, &v), UTXO_ERR_CLIENT_ANSWER);
    utxo_tx *tx = canned_tx();
    uint8_t own[UTXO_HASH_BYTES];
    char own_hex[2 * UTXO_HASH_BYTES + 1];
    utxo_tx_txid(tx, own);
    utxo_tx_free(tx);
    sodium_bin2hex(own_hex, sizeof own_hex, own, sizeof own);
    snprintf(ok, sizeof ok, "{\"txid\":\"%s\",\"mempool\":1}", own_hex);
    for (int want = 0; want <= 1; want++) {
        memset(txid, 0, sizeof txid);
        ck_assert_int_eq(submit_to("200 OK", ok, want, txid, &v), UTXO_OK);
        ck_assert_int_eq(memcmp(txid, want ? own : (uint8_t[UTXO_HASH_BYTES]){0}, sizeof txid), 0);
    }
}
END_TEST

/* A node's message reaches the caller's errmsg (which a program prints
 * or logs) as printable ASCII: no line break to forge a log line, no
 * terminal escape. */
START_TEST(submit_shows_a_nodes_message_printable)
{
    static const char *const bodies[] = {
        "{\"code\":39,\"message\":\"fee\\n2026-12-06T00:00:00Z info forged\\u001b[31m\"}",
        "{\"code\":3,\"message\":\"busy\\r\\nforged \\u00e9\"}",
    };
    static const char *const status[] = {"400 Bad Request", "503 Service Unavailable"};
    static const char *const want[] = {"fee?2026-12-06T00:00:00Z info forged?[31m",
                                       "busy??forged ??"};
    uint8_t txid[UTXO_HASH_BYTES];
    utxo_verdict v;

    for (size_t i = 0; i < 2; i++) {
        submit_to(status[i], bodies[i], 0, txid, &v);
        ck_assert_msg(strstr(last_errmsg, want[i]) != NULL, "errmsg: %s", last_errmsg);
        for (const char *p = last_errmsg; *p; p++)
            ck_assert_msg((unsigned char)*p >= 0x20 && (unsigned char)*p <= 0x7e,
                          "byte 0x%02x in: %s", (unsigned char)*p, last_errmsg);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("client");
    TCase *tc = tcase_create("core");
    if (utxo_init() != UTXO_OK)
        return 1;
    /* The canned node is on 127.0.0.1: a proxy named by the environment
     * (libcurl reads these three for http://) took the requests elsewhere,
     * and serve_one then waited for them until the test timed out. */
    unsetenv("http_proxy");
    unsetenv("ALL_PROXY");
    unsetenv("all_proxy");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, open_refuses_urls_that_name_no_node);
    tcase_add_test(tc, errmsg_is_the_last_calls);
    tcase_add_test(tc, submit_takes_only_answers_a_node_can_give);
    tcase_add_test(tc, submit_shows_a_nodes_message_printable);
    suite_add_tcase(s, tc);
    return run_suite(s);
}
