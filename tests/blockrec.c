/*
 * blockrec.c — splices block or proof files for the record-rule tests
 * (tests/records_cli.sh): writes OUT with the header of the first source
 * and the records named, in order. Not installed.
 *
 * usage: blockrec OUT SPEC...
 *   FILE:K   record K (from 0) of FILE (a block or proof file)
 *   junk:N   a record of N zero bytes: height 0 in its header, and no block
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "utxo.h"

/* Record k of path (its kind from the magic) into a new buffer. */
static int read_record(const char *path, long k, int *kind, utxo_params *p, uint8_t **rec,
                       size_t *len)
{
    utxo_chainfile *f = NULL;
    int rc = UTXO_ERR_ARG;

    for (int kd = UTXO_CHAINFILE_BLOCKS; kd <= UTXO_CHAINFILE_PROOFS && f == NULL; kd++)
        if (utxo_chainfile_open(&f, path, kd, p, NULL) == UTXO_OK)
            *kind = kd;
    if (f == NULL)
        return UTXO_ERR_FILE_FORMAT;
    for (long i = 0; i <= k; i++) {
        free(*rec);
        *rec = NULL;
        rc = utxo_chainfile_next(f, rec, len, NULL);
        if (rc == UTXO_OK && *rec == NULL)
            rc = UTXO_ERR_ARG; /* no such record */
        if (rc != UTXO_OK)
            break;
    }
    utxo_chainfile_close(f);
    return rc;
}

int main(int argc, char **argv)
{
    utxo_chainfile *out = NULL;
    utxo_params p;
    int kind = 0, rc = UTXO_OK;

    if (argc < 3) {
        fprintf(stderr, "usage: blockrec OUT FILE:K|junk:N...\n");
        return 2;
    }
    for (int i = 2; i < argc && rc == UTXO_OK; i++) {
        char *colon = strrchr(argv[i], ':'), *path;
        uint8_t *rec = NULL;
        size_t len = 0;
        long k;
        if (colon == NULL)
            return 2;
        k = atol(colon + 1);
        if (strncmp(argv[i], "junk:", 5) == 0) {
            len = (size_t)k;
            if (out == NULL || len == 0 || (rec = malloc(len)) == NULL)
                return 2;
            memset(rec, 0, len);
        } else {
            if ((path = strndup(argv[i], (size_t)(colon - argv[i]))) == NULL)
                return 2;
            rc = read_record(path, k, &kind, &p, &rec, &len);
            free(path);
            if (rc == UTXO_OK && out == NULL)
                rc = utxo_chainfile_create(&out, argv[1], kind, &p);
        }
        if (rc == UTXO_OK)
            rc = utxo_chainfile_append(out, rec, len);
        free(rec);
    }
    if (out != NULL && utxo_chainfile_close(out) != UTXO_OK && rc == UTXO_OK)
        rc = UTXO_ERR_IO;
    if (rc != UTXO_OK) {
        fprintf(stderr, "blockrec: %s\n", utxo_strerror(rc));
        return 1;
    }
    return 0;
}
