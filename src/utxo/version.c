/*
 * version.c — utxo_version() and utxo_init() (utxo/common.h): the
 * library's version string and its one initialisation call.
 */
#include "config.h"

#include <pthread.h>
#include <sodium.h>
#include "utxo/common.h"

const char *utxo_version(void)
{
    return PACKAGE_VERSION;
}

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = UTXO_ERR_INTERNAL;

static void init_run(void)
{
    /* sodium_init is itself thread-safe and idempotent (0: done now, 1:
     * already done, -1: failed); the once-guard makes utxo_init's own
     * result stable across threads as well */
    init_result = sodium_init() < 0 ? UTXO_ERR_INTERNAL : UTXO_OK;
}

int utxo_init(void)
{
    if (pthread_once(&init_once, init_run) != 0)
        return UTXO_ERR_INTERNAL;
    return init_result;
}
