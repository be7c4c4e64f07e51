/*
 * ratelimit.c — per-client allowances of refused work (ratelimit.h).
 */
#include "config.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "ratelimit.h"

typedef struct rl_slot {
    uint8_t key[9];  /* family byte, then the address or its /64 */
    uint8_t used;
    int64_t tokens;  /* may be negative: a debt */
    uint64_t at;     /* when tokens was last brought up to date */
} rl_slot;

struct rl_table {
    pthread_mutex_t mu;
    uint64_t rate, burst;
    unsigned char hkey[crypto_shorthash_KEYBYTES];
    uint8_t exempt[RL_EXEMPT_MAX][9];
    unsigned n_exempt;
    rl_slot s[RL_SLOTS];
};

rl_table *rl_new(uint64_t rate, uint64_t burst)
{
    rl_table *t;

    if (rate == 0 || burst == 0 || rate > RL_MAX_RATE || burst > RL_MAX_BURST ||
        (t = calloc(1, sizeof *t)) == NULL)
        return NULL;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        free(t);
        return NULL;
    }
    t->rate = rate;
    t->burst = burst;
    crypto_shorthash_keygen(t->hkey);
    return t;
}

void rl_free(rl_table *t)
{
    if (t == NULL)
        return;
    pthread_mutex_destroy(&t->mu);
    free(t);
}

/* The client's key: IPv4 address, or IPv6 /64 (an IPv4-mapped IPv6
 * address counts as the IPv4 one); anything else shares one key. */
static void client_key(const struct sockaddr *sa, uint8_t key[9])
{
    memset(key, 0, 9);
    if (sa == NULL)
        return;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        key[0] = 4;
        memcpy(key + 1, &in->sin_addr, 4);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            key[0] = 4;
            memcpy(key + 1, in6->sin6_addr.s6_addr + 12, 4);
        } else {
            key[0] = 6;
            memcpy(key + 1, in6->sin6_addr.s6_addr, 8);
        }
    }
}

/* Brings slot s's tokens up to time now (rate <= RL_MAX_RATE, burst
 * <= RL_MAX_BURST and a debt of at most RL_MAX_DEBT: nothing below
 * overflows). The time a part cycle would take is not spent: at moves on
 * by the time of the cycles added, so frequent calls lose nothing to
 * rounding. A debt is paid off at the rate like any other, however long
 * the client stays away. */
static void refill(const rl_table *t, rl_slot *s, uint64_t now)
{
    if (now <= s->at)
        return;
    uint64_t dt = now - s->at, secs = dt / 1000000000u;
    /* what fills the bucket from here: below 2^61 */
    uint64_t gap = (uint64_t)((int64_t)t->burst - s->tokens);
    if (secs > gap / t->rate + 1) {
        s->tokens = (int64_t)t->burst;
        s->at = now;
        return;
    }
    /* the part second in microseconds: below 2^20, times rate below 2^60 */
    uint64_t us = (dt % 1000000000u) / 1000u, part = us * t->rate / 1000000u;
    uint64_t add = secs * t->rate + part;
    if (s->tokens + (int64_t)add >= (int64_t)t->burst) {
        s->tokens = (int64_t)t->burst;
        s->at = now;
        return;
    }
    s->tokens += (int64_t)add;
    /* the microseconds those part cycles took, rounded up (part * 1e6
     * is below 2^60 too) */
    s->at += secs * 1000000000u + (part * 1000000u + t->rate - 1) / t->rate * 1000u;
}

/* The two slots of key: two different ones, always. (They could be one:
 * a newcomer whose two picks were a debtor's slot then took it whatever
 * the debtor owed, so a debt was forgotten about once in 4096^2 newcomers
 * per debtor; test_ratelimit failed on it once in CI.) */
static void slots_of_key(const rl_table *t, const uint8_t key[9], unsigned *ia, unsigned *ib)
{
    unsigned char h[crypto_shorthash_BYTES];
    uint64_t hv = 0;

    crypto_shorthash(h, key, 9, t->hkey);
    for (int i = 0; i < 8; i++)
        hv |= (uint64_t)h[i] << (8 * i);
    *ia = (unsigned)(hv % RL_SLOTS);
    *ib = (unsigned)((hv >> 32) % (RL_SLOTS - 1));
    if (*ib >= *ia)
        (*ib)++;
}

void rl_slots(const rl_table *t, const struct sockaddr *sa, unsigned *a, unsigned *b)
{
    uint8_t key[9];

    client_key(sa, key);
    slots_of_key(t, key, a, b);
}

/* Client sa's slot, brought up to now (a newcomer gets a full bucket),
 * or NULL for an exempted client. Under t->mu. */
static rl_slot *slot_of(rl_table *t, const struct sockaddr *sa, uint64_t now)
{
    uint8_t key[9];
    unsigned ia, ib;

    client_key(sa, key);
    for (unsigned i = 0; i < t->n_exempt; i++)
        if (memcmp(t->exempt[i], key, sizeof key) == 0)
            return NULL;
    slots_of_key(t, key, &ia, &ib);
    rl_slot *a = &t->s[ia], *b = &t->s[ib];
    if (a->used && memcmp(a->key, key, sizeof key) == 0) {
        refill(t, a, now);
        return a;
    }
    if (b->used && memcmp(b->key, key, sizeof key) == 0) {
        refill(t, b, now);
        return b;
    }
    /* a newcomer: a free slot, else the one whose client owes least */
    rl_slot *s = !a->used ? a : !b->used ? b : NULL;
    if (s == NULL) {
        refill(t, a, now);
        refill(t, b, now);
        s = a->tokens >= b->tokens ? a : b;
    }
    memcpy(s->key, key, sizeof key);
    s->used = 1;
    s->tokens = (int64_t)t->burst;
    s->at = now;
    return s;
}

int rl_exempt(rl_table *t, const struct sockaddr *sa)
{
    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->mu);
    int rc = -1;
    if (t->n_exempt < RL_EXEMPT_MAX) {
        client_key(sa, t->exempt[t->n_exempt++]);
        rc = 0;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

uint64_t rl_wait(rl_table *t, const struct sockaddr *sa, uint64_t now)
{
    uint64_t w = 0;

    if (t == NULL)
        return 0;
    pthread_mutex_lock(&t->mu);
    rl_slot *s = slot_of(t, sa, now);
    if (s != NULL && s->tokens <= 0) /* until the bucket is past zero, in whole seconds */
        w = ((uint64_t)-s->tokens) / t->rate + 1;
    pthread_mutex_unlock(&t->mu);
    return w;
}

void rl_charge(rl_table *t, const struct sockaddr *sa, uint64_t cycles, uint64_t now)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    rl_slot *s = slot_of(t, sa, now);
    if (s != NULL) {
        /* a debt of at most RL_MAX_DEBT: never wraps */
        uint64_t room = (uint64_t)(s->tokens + (int64_t)RL_MAX_DEBT);
        s->tokens -= (int64_t)(cycles < room ? cycles : room);
    }
    pthread_mutex_unlock(&t->mu);
}

void rl_refund(rl_table *t, const struct sockaddr *sa, uint64_t cycles, uint64_t now)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->mu);
    rl_slot *s = slot_of(t, sa, now);
    if (s != NULL) {
        /* up to a full bucket (tokens >= -RL_MAX_DEBT: no overflow) */
        uint64_t room = (uint64_t)((int64_t)t->burst - s->tokens);
        s->tokens += (int64_t)(cycles < room ? cycles : room);
    }
    pthread_mutex_unlock(&t->mu);
}
