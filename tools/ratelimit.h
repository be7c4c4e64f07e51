/*
 * ratelimit.h — what each client of a node may cost it in refused work
 * (docs/API.md, "Refused work"). A refused transaction pays nothing for
 * the cycles its predicates took, so each client address has an allowance
 * of cycles, a token bucket: it holds at most `burst`, fills at `rate` per
 * second, and each refusal takes the transaction's declared budgets (and a
 * flat RL_BASE for the decoding and the lookups). A client in debt is
 * answered 429 until the bucket fills past zero. Accepted transactions pay
 * fees and take nothing: the node charges a transaction when it takes it
 * in and refunds it when it is accepted, so the transactions of a client
 * still being judged count against its allowance (a check at arrival and
 * a charge at the verdict let any number of them in at once).
 *
 * Clients are keyed by IPv4 address, or by the /64 of an IPv6 address (a
 * host gets a /64 for nothing). The table is bounded (RL_SLOTS): each
 * address has two different slots (a keyed hash, so no client picks its
 * slots), and a newcomer takes the one of them whose client owes least.
 * An attacker with many addresses is not stopped by any per-client limit,
 * and may push others' debts out; the table only keeps one address from
 * taking the node's CPU. Thread-safe. Times are monotonic nanoseconds,
 * passed in (the tests step them).
 */
#ifndef UTXO_TOOLS_RATELIMIT_H
#define UTXO_TOOLS_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

#define RL_SLOTS 4096u
#define RL_BASE (UINT64_C(1) << 16) /* cycles each refusal costs besides its budgets */
#define RL_MAX_RATE (UINT64_C(1) << 40)
#define RL_MAX_BURST (UINT64_C(1) << 50)
#define RL_MAX_DEBT (UINT64_C(1) << 60) /* a debt stops growing there */
#define RL_EXEMPT_MAX 64u /* clients exempted (rl_exempt) */

typedef struct rl_table rl_table;

/* A table giving each client `rate` cycles a second, at most `burst`
 * saved (1 .. RL_MAX_RATE, 1 .. RL_MAX_BURST); NULL when out of range or
 * out of memory. */
rl_table *rl_new(uint64_t rate, uint64_t burst);
void rl_free(rl_table *t);
/* Seconds until client sa may be served (0: now), at time now. */
uint64_t rl_wait(rl_table *t, const struct sockaddr *sa, uint64_t now);
/* Takes `cycles` from client sa's allowance, at time now. */
void rl_charge(rl_table *t, const struct sockaddr *sa, uint64_t cycles, uint64_t now);
/* Gives `cycles` back to client sa's allowance (taken by rl_charge for
 * work that was not refused after all), up to a full bucket. */
void rl_refund(rl_table *t, const struct sockaddr *sa, uint64_t cycles, uint64_t now);
/* Client sa (its key: the address, or an IPv6 address's /64) is never
 * limited nor charged: a bridge, whose refusals are its many clients'.
 * 0, or -1 when RL_EXEMPT_MAX are exempted already. */
int rl_exempt(rl_table *t, const struct sockaddr *sa);
/* The two slots (0 .. RL_SLOTS - 1, never equal) client sa may take in
 * t: for the tests. */
void rl_slots(const rl_table *t, const struct sockaddr *sa, unsigned *a, unsigned *b);

#endif /* UTXO_TOOLS_RATELIMIT_H */
