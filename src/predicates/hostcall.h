/*
 * hostcall.h — host-side hooks of the host calls (hostcall.c) that are not
 * part of the machine contract in vm.h.
 */
#ifndef UTXO_SRC_HOSTCALL_H
#define UTXO_SRC_HOSTCALL_H

#include <stddef.h>
#include <stdint.h>
#include "predicates/vm.h"

/* Receives the bytes of UTXO_HC_DEBUG_LOG (at most UTXO_ABI_DEBUG_MAX_BYTES). */
typedef utxo_log_fn hc_log_fn; /* utxo/predicate.h */

/*
 * Installs the debug-log sink of the calling thread (NULL: none, the
 * default). The log has no effect on the outcome or the cycle count.
 */
void hc_set_log(hc_log_fn fn, void *ud);

#endif /* UTXO_SRC_HOSTCALL_H */
