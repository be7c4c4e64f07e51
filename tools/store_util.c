/*
 * store_util.c — helpers shared by the store subcommands (store_util.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include "store_util.h"
#include "util.h"

int store_cli_open(utxo_store **s, const char *path, const utxo_params *params, unsigned flags,
                   unsigned threads)
{
    char msg[600];
    int rc = utxo_store_open(s, path, params, flags, threads, msg, sizeof msg);

    if (rc != UTXO_OK) {
        /* the library's messages mostly name the path already */
        if (msg[0] != '\0' && strncmp(msg, path, strlen(path)) == 0)
            errorf("%s", msg);
        else
            errorf("%s: %s", path, msg[0] ? msg : utxo_strerror(rc));
        return EXIT_USAGE;
    }
    return EXIT_VALID;
}

int store_cli_exit(int err)
{
    if (err == UTXO_OK)
        return EXIT_VALID;
    if ((err >= 10 && err < 150) || (err >= 200 && err < 250 && err != UTXO_ERR_FILE_CHAIN))
        return EXIT_INVALID;
    return EXIT_USAGE;
}
