/*
 * wallet/db.c — the wallet's SQLite file (utxo/wallet.h): schema, creation
 * and opening, the passphrase (Argon2id + secretbox over the master seed),
 * and keys. Queries are in wallet/query.c, blocks come in through
 * wallet/sync.c (undone by wallet/undo.c), payments go out through
 * wallet/send.c. The schema and the encodings of the meta rows are tabled
 * in docs/WALLET.md.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sodium.h>
#include "wallet/wallet_int.h"
#include "utxo/codec.h"

#define WALLET_MAGIC "utxo.wallet"
#define KDF_BYTES (crypto_pwhash_SALTBYTES + 8 + 8 + 4)
#define BOX_BYTES (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + UTXO_SEED_BYTES)

static const char *const schema_sql =
    "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE keys(idx INTEGER PRIMARY KEY, pubkey BLOB NOT NULL,"
    " predicate_id BLOB NOT NULL UNIQUE);"
    "CREATE TABLE coins(position INTEGER PRIMARY KEY, txid BLOB NOT NULL,"
    " vout INTEGER NOT NULL, value INTEGER NOT NULL, predicate_id BLOB NOT NULL,"
    " datum BLOB NOT NULL, height INTEGER NOT NULL, leaf BLOB NOT NULL,"
    " key_idx INTEGER NOT NULL, UNIQUE(txid, vout));"
    "CREATE TABLE history(height INTEGER NOT NULL, seq INTEGER NOT NULL,"
    " txid BLOB NOT NULL, received INTEGER NOT NULL, spent INTEGER NOT NULL,"
    " PRIMARY KEY(height, seq));"
    "CREATE TABLE pending(txid BLOB NOT NULL, vout INTEGER NOT NULL,"
    " spent_by BLOB NOT NULL, PRIMARY KEY(txid, vout));"
    "CREATE TABLE undo(height INTEGER PRIMARY KEY, state BLOB NOT NULL, proof BLOB NOT NULL,"
    " spent BLOB NOT NULL);";

int wdb_fail(utxo_wallet *w, int err, const char *fmt, ...)
{
    va_list ap;

    if (w != NULL) {
        va_start(ap, fmt);
        vsnprintf(w->msg, sizeof w->msg, fmt, ap);
        va_end(ap);
    }
    return err;
}

int wdb_sqlfail(utxo_wallet *w, const char *what)
{
    return wdb_fail(w, UTXO_ERR_WALLET_DB, "%s: %s", what, w->db ? sqlite3_errmsg(w->db) : "no database");
}

int wdb_exec(utxo_wallet *w, const char *sql)
{
    if (sqlite3_exec(w->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, sql);
    return UTXO_OK;
}

int wdb_meta_get(utxo_wallet *w, const char *name, uint8_t **val, size_t *len)
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK, s;

    *val = NULL;
    *len = 0;
    if (sqlite3_prepare_v2(w->db, "SELECT value FROM meta WHERE name = ?1", -1, &st, NULL) !=
        SQLITE_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "not a wallet file: %s", sqlite3_errmsg(w->db));
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    s = sqlite3_step(st);
    if (s == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_BLOB) {
        size_t n = (size_t)sqlite3_column_bytes(st, 0);
        if ((*val = malloc(n ? n : 1)) == NULL) {
            rc = UTXO_ERR_NOMEM;
        } else {
            if (n > 0) /* an empty blob reads as NULL (found by fuzz_walletdb) */
                memcpy(*val, sqlite3_column_blob(st, 0), n);
            *len = n;
        }
    } else if (s == SQLITE_ROW || s == SQLITE_DONE) {
        rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "wallet file lacks its '%s' record", name);
    } else {
        rc = wdb_sqlfail(w, "reading the wallet's metadata");
    }
    sqlite3_finalize(st);
    return rc;
}

int wdb_meta_put(utxo_wallet *w, const char *name, const uint8_t *val, size_t len)
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK;

    if (sqlite3_prepare_v2(w->db, "INSERT OR REPLACE INTO meta(name, value) VALUES (?1, ?2)", -1,
                           &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "writing metadata");
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, len ? (const void *)val : (const void *)"", (int)len, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = wdb_sqlfail(w, "writing metadata");
    sqlite3_finalize(st);
    return rc;
}

static int cmp_id(const void *a, const void *b)
{
    return memcmp(((const wdb_id *)a)->id, ((const wdb_id *)b)->id, UTXO_HASH_BYTES);
}

int64_t wdb_find_id(const utxo_wallet *w, const uint8_t id[UTXO_HASH_BYTES])
{
    wdb_id key;
    const wdb_id *hit;

    if (w->n_keys == 0)
        return -1;
    memcpy(key.id, id, UTXO_HASH_BYTES);
    hit = bsearch(&key, w->ids, w->n_keys, sizeof *w->ids, cmp_id);
    return hit ? (int64_t)hit->index : -1;
}

int wdb_store_chain_state(utxo_wallet *w, const acc_proof *proof)
{
    uint8_t state[UTXO_VALIDATOR_STATE_MAX_BYTES], *pb = NULL;
    size_t sl = 0, pl = acc_proof_get_length(proof), pw = 0;
    int rc;

    if ((rc = utxo_validator_state_to_bytes(w->val, state, sizeof state, &sl)) != UTXO_OK)
        return wdb_fail(w, rc, "encoding the validator state");
    if ((pb = malloc(pl ? pl : 1)) == NULL)
        return UTXO_ERR_NOMEM;
    if ((rc = acc_proof_to_bytes(proof, pb, pl, &pw)) == UTXO_OK &&
        (rc = wdb_meta_put(w, "state", state, sl)) == UTXO_OK)
        rc = wdb_meta_put(w, "proof", pb, pw);
    free(pb);
    return rc;
}

int wdb_check_fresh(utxo_wallet *w)
{
    uint8_t mine[UTXO_VALIDATOR_STATE_MAX_BYTES], *stored = NULL;
    size_t ml = 0, sl = 0;
    int rc;

    if ((rc = utxo_validator_state_to_bytes(w->val, mine, sizeof mine, &ml)) != UTXO_OK ||
        (rc = wdb_meta_get(w, "state", &stored, &sl)) != UTXO_OK)
        return rc;
    if (sl != ml || memcmp(stored, mine, ml) != 0)
        rc = wdb_fail(w, UTXO_ERR_WALLET_CHAIN,
                      "the wallet file was changed by another handle: reopen it");
    free(stored);
    return rc;
}

int wdb_key_secret(const utxo_wallet *w, uint32_t index, uint8_t pk[UTXO_PUBKEY_BYTES],
                   uint8_t sk[UTXO_SECRETKEY_BYTES])
{
    if (w->master == NULL)
        return UTXO_ERR_WATCH_ONLY;
    return utxo_keypair_derive(pk, sk, w->master, index);
}

/* ---- the passphrase --------------------------------------------------------- */

static int kdf_key(uint8_t key[crypto_secretbox_KEYBYTES], const char *pass, const uint8_t *kdf)
{
    uint64_t ops = get_u64le(kdf + crypto_pwhash_SALTBYTES);
    uint64_t mem = get_u64le(kdf + crypto_pwhash_SALTBYTES + 8);
    uint32_t alg = get_u32le(kdf + crypto_pwhash_SALTBYTES + 16);

    /* a hostile file must not make us burn unbounded time or memory */
    if (alg != crypto_pwhash_ALG_ARGON2ID13 || ops < crypto_pwhash_OPSLIMIT_MIN ||
        ops > crypto_pwhash_OPSLIMIT_SENSITIVE || mem < crypto_pwhash_MEMLIMIT_MIN ||
        mem > crypto_pwhash_MEMLIMIT_SENSITIVE)
        return UTXO_ERR_WALLET_FORMAT;
    if (crypto_pwhash(key, crypto_secretbox_KEYBYTES, pass, strlen(pass), kdf, ops, (size_t)mem,
                      (int)alg) != 0)
        return UTXO_ERR_NOMEM;
    return UTXO_OK;
}

/* Encrypts w->master under pass with a fresh salt and nonce and stores both
 * records (in the caller's transaction). */
static int seal_seed(utxo_wallet *w, const char *pass)
{
    uint8_t kdf[KDF_BYTES], box[BOX_BYTES], key[crypto_secretbox_KEYBYTES];
    int rc;

    randombytes_buf(kdf, crypto_pwhash_SALTBYTES);
    put_u64le(kdf + crypto_pwhash_SALTBYTES, crypto_pwhash_OPSLIMIT_INTERACTIVE);
    put_u64le(kdf + crypto_pwhash_SALTBYTES + 8, crypto_pwhash_MEMLIMIT_INTERACTIVE);
    put_u32le(kdf + crypto_pwhash_SALTBYTES + 16, crypto_pwhash_ALG_ARGON2ID13);
    if ((rc = kdf_key(key, pass, kdf)) != UTXO_OK)
        goto done;
    randombytes_buf(box, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(box + crypto_secretbox_NONCEBYTES, w->master, UTXO_SEED_BYTES, box, key);
    if ((rc = wdb_meta_put(w, "kdf", kdf, sizeof kdf)) == UTXO_OK)
        rc = wdb_meta_put(w, "seed_box", box, sizeof box);
done:
    sodium_memzero(key, sizeof key);
    return rc;
}

/* Decrypts the master seed into w->master (sodium_malloc'd). */
static int unseal_seed(utxo_wallet *w, const char *pass)
{
    uint8_t *kdf = NULL, *box = NULL, key[crypto_secretbox_KEYBYTES];
    size_t kl, bl;
    int rc;

    if ((rc = wdb_meta_get(w, "kdf", &kdf, &kl)) != UTXO_OK ||
        (rc = wdb_meta_get(w, "seed_box", &box, &bl)) != UTXO_OK)
        goto done;
    if (kl != KDF_BYTES || bl != BOX_BYTES) {
        rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "key records have the wrong size");
        goto done;
    }
    if ((rc = kdf_key(key, pass, kdf)) != UTXO_OK) {
        wdb_fail(w, rc, "cannot derive the key from the passphrase (KDF limits out of range?)");
        goto done;
    }
    if ((w->master = sodium_malloc(UTXO_SEED_BYTES)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto done;
    }
    if (crypto_secretbox_open_easy(w->master, box + crypto_secretbox_NONCEBYTES,
                                   BOX_BYTES - crypto_secretbox_NONCEBYTES, box, key) != 0) {
        sodium_free(w->master);
        w->master = NULL;
        rc = wdb_fail(w, UTXO_ERR_PASSPHRASE, "wrong passphrase");
    }
done:
    sodium_memzero(key, sizeof key);
    free(kdf);
    free(box);
    return rc;
}

/* ---- loading ------------------------------------------------------------------ */

static int load_keys(utxo_wallet *w)
{
    sqlite3_stmt *st = NULL;
    uint32_t n = 0;
    int s, rc = UTXO_OK;

    w->n_keys = 0;
    if (sqlite3_prepare_v2(w->db, "SELECT idx, predicate_id FROM keys ORDER BY idx", -1, &st,
                           NULL) != SQLITE_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "no key table: %s", sqlite3_errmsg(w->db));
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        wdb_id *v;
        if (sqlite3_column_int64(st, 0) != (int64_t)n ||
            sqlite3_column_bytes(st, 1) != UTXO_HASH_BYTES) {
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "key %u is missing or malformed", n);
            break;
        }
        if ((v = realloc(w->ids, (n + 1) * sizeof *v)) == NULL) {
            rc = UTXO_ERR_NOMEM;
            break;
        }
        w->ids = v;
        memcpy(v[n].id, sqlite3_column_blob(st, 1), UTXO_HASH_BYTES);
        v[n].index = n;
        n++;
    }
    if (rc == UTXO_OK && s != SQLITE_DONE)
        rc = wdb_sqlfail(w, "reading keys");
    sqlite3_finalize(st);
    w->n_keys = n;
    if (n > 1)
        qsort(w->ids, n, sizeof *w->ids, cmp_id);
    return rc;
}

static void acc_state_of(const utxo_validator *v, acc_state *st)
{
    uint8_t roots[ACC_MAX_ROOTS][UTXO_HASH_BYTES];
    unsigned k = 0;

    acc_state_init(st);
    st->count = utxo_validator_leaf_count(v);
    (void)utxo_validator_roots(v, roots, ACC_MAX_ROOTS);
    for (int r = ACC_MAX_ROOTS - 1; r >= 0; r--)
        if ((st->count >> r) & 1)
            memcpy(st->roots[r], roots[k++], UTXO_HASH_BYTES);
}

void wdb_acc_state(const utxo_wallet *w, acc_state *st)
{
    acc_state_of(w->val, st);
}

/* Coins (positions, leaves) and the stored proof, which must prove exactly
 * those positions against the validator's leaf count. */
static int load_coins(utxo_wallet *w, wdb_chain *c)
{
    sqlite3_stmt *st = NULL;
    uint64_t *pos = NULL;
    uint8_t *pb = NULL;
    size_t n = 0, cap = 0, pl;
    int s, rc = UTXO_OK;

    if (sqlite3_prepare_v2(w->db, "SELECT position, leaf FROM coins ORDER BY position", -1, &st,
                           NULL) != SQLITE_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "no coin table: %s", sqlite3_errmsg(w->db));
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            size_t nc = cap ? 2 * cap : 64;
            uint64_t *np = realloc(pos, nc * sizeof *np);
            acc_hash *nl = np ? realloc(c->leaves, nc * sizeof *nl) : NULL;
            if (np)
                pos = np;
            if (nl == NULL) {
                rc = UTXO_ERR_NOMEM;
                break;
            }
            c->leaves = nl;
            cap = nc;
        }
        if (sqlite3_column_bytes(st, 1) != ACC_HASH_BYTES) {
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "coin leaf hash malformed");
            break;
        }
        pos[n] = (uint64_t)sqlite3_column_int64(st, 0);
        memcpy(c->leaves[n], sqlite3_column_blob(st, 1), ACC_HASH_BYTES);
        n++;
    }
    if (rc == UTXO_OK && s != SQLITE_DONE)
        rc = wdb_sqlfail(w, "reading coins");
    sqlite3_finalize(st);
    if (rc == UTXO_OK && (rc = wdb_meta_get(w, "proof", &pb, &pl)) == UTXO_OK) {
        if (acc_proof_from_bytes(&c->proof, pb, pl, utxo_validator_leaf_count(c->val), NULL) !=
            UTXO_OK)
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "stored accumulator proof is malformed");
        else if (c->proof.n_targets != n ||
                 (n > 0 && memcmp(c->proof.targets, pos, n * sizeof *pos) != 0))
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "stored proof does not match the coins");
    }
    free(pb);
    free(pos);
    return rc;
}

void wdb_chain_clear(wdb_chain *c)
{
    utxo_validator_free(c->val);
    c->val = NULL;
    acc_proof_clear(&c->proof);
    free(c->leaves);
    c->leaves = NULL;
}

int wdb_chain_read(utxo_wallet *w, wdb_chain *c, bool verify)
{
    uint8_t *b = NULL;
    size_t len;
    int rc;

    memset(c, 0, sizeof *c);
    acc_proof_init(&c->proof);
    if ((rc = wdb_meta_get(w, "state", &b, &len)) != UTXO_OK)
        return rc;
    rc = utxo_validator_from_state(&c->val, &w->params, b, len, 0, NULL);
    free(b);
    if (rc != UTXO_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "stored validator state: %s",
                        utxo_strerror(rc));
    rc = load_coins(w, c);
    if (rc == UTXO_OK && verify) {
        acc_state acc;
        acc_state_of(c->val, &acc);
        if (acc_stateless_verify(&acc, &c->proof, c->leaves, c->proof.n_targets) != UTXO_OK)
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT,
                          "stored proof does not verify against the stored roots");
    }
    if (rc != UTXO_OK)
        wdb_chain_clear(c);
    return rc;
}

void wdb_chain_install(utxo_wallet *w, wdb_chain *c)
{
    utxo_validator_free(w->val);
    acc_proof_clear(&w->proof);
    free(w->leaves);
    w->val = c->val;
    w->proof = c->proof;
    w->leaves = c->leaves;
    memset(c, 0, sizeof *c);
    acc_proof_init(&c->proof);
}

int wdb_reload(utxo_wallet *w)
{
    wdb_chain c;
    int rc;

    if ((rc = wdb_chain_read(w, &c, false)) == UTXO_OK)
        wdb_chain_install(w, &c);
    return rc;
}

/* Everything after the passphrase: parameters, keys, validator, coins. */
static int load(utxo_wallet *w)
{
    uint8_t *b = NULL;
    size_t len;
    int rc;

    if ((rc = wdb_meta_get(w, "params", &b, &len)) != UTXO_OK)
        return rc;
    rc = utxo_params_from_bytes(&w->params, b, len, NULL);
    free(b);
    if (rc != UTXO_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "stored chain parameters: %s",
                        utxo_strerror(rc));
    if ((rc = load_keys(w)) != UTXO_OK)
        return rc;
    return wdb_reload(w);
}

static int check_magic(utxo_wallet *w)
{
    uint8_t *b = NULL;
    size_t len;
    int rc;

    if ((rc = wdb_meta_get(w, "magic", &b, &len)) != UTXO_OK)
        return wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "not a utxo wallet file");
    if (len != sizeof WALLET_MAGIC - 1 || memcmp(b, WALLET_MAGIC, len) != 0)
        rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "not a utxo wallet file");
    free(b);
    if (rc == UTXO_OK && (rc = wdb_meta_get(w, "schema", &b, &len)) == UTXO_OK) {
        if (len != 4 || get_u32le(b) != UTXO_WALLET_SCHEMA_VERSION)
            rc = wdb_fail(w, UTXO_ERR_WALLET_FORMAT, "wallet schema version %u, expected %u",
                          len == 4 ? get_u32le(b) : 0, UTXO_WALLET_SCHEMA_VERSION);
        free(b);
    }
    return rc;
}

static utxo_wallet *wallet_alloc(void)
{
    utxo_wallet *w = calloc(1, sizeof *w);

    if (w != NULL)
        acc_proof_init(&w->proof);
    return w;
}

void utxo_wallet_close(utxo_wallet *w)
{
    if (w == NULL)
        return;
    if (w->master)
        sodium_free(w->master); /* wipes */
    sqlite3_close(w->db);
    utxo_validator_free(w->val);
    acc_proof_clear(&w->proof);
    free(w->leaves);
    free(w->ids);
    free(w);
}

int utxo_wallet_open(utxo_wallet **out, const char *path, const char *passphrase)
{
    utxo_wallet *w;
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL || path == NULL)
        return UTXO_ERR_ARG;
    if (utxo_init() != UTXO_OK)
        return UTXO_ERR_INTERNAL;
    if (access(path, F_OK) != 0)
        return UTXO_ERR_IO;
    if ((w = wallet_alloc()) == NULL)
        return UTXO_ERR_NOMEM;
    if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        rc = wdb_sqlfail(w, "opening the wallet");
        goto fail;
    }
    sqlite3_busy_timeout(w->db, 5000);
    /* nothing below writes before the passphrase is checked */
    if ((rc = check_magic(w)) != UTXO_OK)
        goto fail;
    if (passphrase != NULL && (rc = unseal_seed(w, passphrase)) != UTXO_OK)
        goto fail;
    if ((rc = load(w)) != UTXO_OK)
        goto fail;
    *out = w;
    return UTXO_OK;
fail:
    utxo_wallet_close(w);
    return rc;
}

static void remove_files(const char *path)
{
    char aux[4096];

    unlink(path);
    if (snprintf(aux, sizeof aux, "%s-wal", path) < (int)sizeof aux)
        unlink(aux);
    if (snprintf(aux, sizeof aux, "%s-shm", path) < (int)sizeof aux)
        unlink(aux);
}

/* Creates path as an empty file of mode 0600 whatever the umask (the
 * wallet holds the encrypted seed and a history that is nobody else's
 * business); SQLite then opens it as an empty database and gives its -wal
 * and -shm files the same mode. UTXO_ERR_WALLET_EXISTS when path exists. */
static int create_private(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, S_IRUSR | S_IWUSR);

    if (fd < 0)
        return errno == EEXIST ? UTXO_ERR_WALLET_EXISTS : UTXO_ERR_IO;
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) { /* a umask may have removed bits */
        close(fd);
        unlink(path);
        return UTXO_ERR_IO;
    }
    if (close(fd) != 0) {
        unlink(path);
        return UTXO_ERR_IO;
    }
    return UTXO_OK;
}

int utxo_wallet_create(utxo_wallet **out, const char *path, const utxo_params *p,
                       const char *passphrase, const uint8_t master[UTXO_SEED_BYTES])
{
    uint8_t pbytes[UTXO_PARAMS_BYTES], schema[4], state[UTXO_VALIDATOR_STATE_MAX_BYTES];
    utxo_validator *v0 = NULL;
    utxo_wallet *w = NULL;
    acc_proof empty;
    size_t sl = 0;
    bool made = false;
    int rc;

    if (out)
        *out = NULL;
    if (out == NULL || path == NULL || p == NULL || passphrase == NULL)
        return UTXO_ERR_ARG;
    if (utxo_init() != UTXO_OK)
        return UTXO_ERR_INTERNAL;
    if ((rc = create_private(path)) != UTXO_OK)
        return rc;
    made = true;
    if ((w = wallet_alloc()) == NULL || (w->master = sodium_malloc(UTXO_SEED_BYTES)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto fail;
    }
    if (master)
        memcpy(w->master, master, UTXO_SEED_BYTES);
    else
        randombytes_buf(w->master, UTXO_SEED_BYTES);
    if (sqlite3_open_v2(path, &w->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        rc = wdb_sqlfail(w, "creating the wallet");
        goto fail;
    }
    sqlite3_busy_timeout(w->db, 5000);
    if ((rc = wdb_exec(w, "PRAGMA journal_mode = WAL")) != UTXO_OK ||
        (rc = wdb_exec(w, "PRAGMA synchronous = FULL")) != UTXO_OK ||
        (rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        goto fail;
    if ((rc = wdb_exec(w, schema_sql)) != UTXO_OK)
        goto fail;
    utxo_params_to_bytes(pbytes, p);
    put_u32le(schema, UTXO_WALLET_SCHEMA_VERSION);
    if ((v0 = utxo_validator_new(p, 1)) == NULL) {
        rc = UTXO_ERR_NOMEM;
        goto fail;
    }
    acc_proof_init(&empty);
    {
        uint8_t pb[8];
        size_t pw = 0;
        if ((rc = utxo_validator_state_to_bytes(v0, state, sizeof state, &sl)) != UTXO_OK ||
            (rc = acc_proof_to_bytes(&empty, pb, sizeof pb, &pw)) != UTXO_OK ||
            (rc = wdb_meta_put(w, "magic", (const uint8_t *)WALLET_MAGIC,
                               sizeof WALLET_MAGIC - 1)) != UTXO_OK ||
            (rc = wdb_meta_put(w, "schema", schema, 4)) != UTXO_OK ||
            (rc = wdb_meta_put(w, "params", pbytes, sizeof pbytes)) != UTXO_OK ||
            (rc = wdb_meta_put(w, "state", state, sl)) != UTXO_OK ||
            (rc = wdb_meta_put(w, "proof", pb, pw)) != UTXO_OK ||
            (rc = seal_seed(w, passphrase)) != UTXO_OK)
            goto fail;
    }
    if ((rc = wdb_exec(w, "COMMIT")) != UTXO_OK)
        goto fail;
    if ((rc = load(w)) != UTXO_OK)
        goto fail;
    utxo_validator_free(v0);
    *out = w;
    return UTXO_OK;
fail:
    utxo_validator_free(v0);
    utxo_wallet_close(w);
    if (made)
        remove_files(path);
    return rc;
}

const char *utxo_wallet_errmsg(const utxo_wallet *w)
{
    return w ? w->msg : "";
}

void utxo_wallet_params(const utxo_wallet *w, utxo_params *p)
{
    if (w && p)
        *p = w->params;
}

bool utxo_wallet_unlocked(const utxo_wallet *w)
{
    return w != NULL && w->master != NULL;
}

int utxo_wallet_set_passphrase(utxo_wallet *w, const char *passphrase)
{
    int rc;

    if (!wdb_enter(w) || passphrase == NULL)
        return UTXO_ERR_ARG;
    if (w->master == NULL)
        return UTXO_ERR_WATCH_ONLY;
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    if ((rc = seal_seed(w, passphrase)) == UTXO_OK)
        rc = wdb_exec(w, "COMMIT");
    if (rc != UTXO_OK)
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}

/* ---- keys ---------------------------------------------------------------------- */

int utxo_wallet_new_key(utxo_wallet *w, uint32_t *index, uint8_t pk_out[UTXO_PUBKEY_BYTES])
{
    uint8_t pk[UTXO_PUBKEY_BYTES], sk[UTXO_SECRETKEY_BYTES], id[UTXO_HASH_BYTES];
    sqlite3_stmt *st = NULL;
    wdb_id *v;
    int rc;

    if (index)
        *index = 0;
    if (pk_out)
        memset(pk_out, 0, UTXO_PUBKEY_BYTES);
    if (!wdb_enter(w))
        return UTXO_ERR_ARG;
    if (w->n_keys == UINT32_MAX)
        return UTXO_ERR_TOO_LARGE;
    if ((rc = wdb_key_secret(w, w->n_keys, pk, sk)) != UTXO_OK)
        return wdb_fail(w, rc, "deriving a key needs the passphrase");
    sodium_memzero(sk, sizeof sk);
    if ((rc = utxo_p2pk_id(id, pk)) != UTXO_OK)
        return rc;
    if ((v = realloc(w->ids, (w->n_keys + 1) * sizeof *v)) == NULL)
        return UTXO_ERR_NOMEM;
    w->ids = v;
    if (sqlite3_prepare_v2(w->db, "INSERT INTO keys(idx, pubkey, predicate_id) VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "storing a key");
    sqlite3_bind_int64(st, 1, w->n_keys);
    sqlite3_bind_blob(st, 2, pk, sizeof pk, SQLITE_STATIC);
    sqlite3_bind_blob(st, 3, id, sizeof id, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = wdb_sqlfail(w, "storing a key");
    sqlite3_finalize(st);
    if (rc != UTXO_OK)
        return rc;
    memcpy(v[w->n_keys].id, id, UTXO_HASH_BYTES);
    v[w->n_keys].index = w->n_keys;
    w->n_keys++;
    qsort(w->ids, w->n_keys, sizeof *w->ids, cmp_id);
    if (index)
        *index = w->n_keys - 1;
    if (pk_out)
        memcpy(pk_out, pk, UTXO_PUBKEY_BYTES);
    return UTXO_OK;
}

uint32_t utxo_wallet_key_count(const utxo_wallet *w)
{
    return w ? w->n_keys : 0;
}

int utxo_wallet_address(const utxo_wallet *w, uint32_t index, char out[UTXO_ADDRESS_LEN + 1],
                        uint8_t pk[UTXO_PUBKEY_BYTES])
{
    sqlite3_stmt *st = NULL;
    int rc = UTXO_ERR_ARG;

    if (out)
        memset(out, 0, UTXO_ADDRESS_LEN + 1);
    if (pk)
        memset(pk, 0, UTXO_PUBKEY_BYTES);
    if (w == NULL || out == NULL || index >= w->n_keys)
        return UTXO_ERR_ARG;
    if (sqlite3_prepare_v2(w->db, "SELECT pubkey, predicate_id FROM keys WHERE idx = ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return UTXO_ERR_WALLET_DB;
    sqlite3_bind_int64(st, 1, index);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_bytes(st, 0) == UTXO_PUBKEY_BYTES &&
        sqlite3_column_bytes(st, 1) == UTXO_HASH_BYTES) {
        if (pk)
            memcpy(pk, sqlite3_column_blob(st, 0), UTXO_PUBKEY_BYTES);
        rc = utxo_address_encode(out, sqlite3_column_blob(st, 1));
    } else {
        rc = UTXO_ERR_WALLET_DB;
    }
    sqlite3_finalize(st);
    return rc;
}

/* ---- the seed, the chain, rescans ------------------------------------------------ */

int utxo_wallet_seed(const utxo_wallet *w, uint8_t master[UTXO_SEED_BYTES])
{
    if (master)
        sodium_memzero(master, UTXO_SEED_BYTES);
    if (w == NULL || master == NULL)
        return UTXO_ERR_ARG;
    if (w->master == NULL)
        return UTXO_ERR_WATCH_ONLY;
    memcpy(master, w->master, UTXO_SEED_BYTES);
    return UTXO_OK;
}

int utxo_wallet_set_chain(utxo_wallet *w, const utxo_params *p)
{
    uint8_t pbytes[UTXO_PARAMS_BYTES], state[UTXO_VALIDATOR_STATE_MAX_BYTES];
    utxo_validator *v0 = NULL;
    size_t sl = 0;
    int rc;

    if (!wdb_enter(w) || p == NULL)
        return UTXO_ERR_ARG;
    if (utxo_validator_next_height(w->val) != 0)
        return wdb_fail(w, UTXO_ERR_WALLET_CHAIN,
                        "the wallet has applied blocks of its chain already (next height %u)",
                        utxo_validator_next_height(w->val));
    if ((v0 = utxo_validator_new(p, 1)) == NULL)
        return UTXO_ERR_NOMEM;
    utxo_params_to_bytes(pbytes, p);
    if ((rc = utxo_validator_state_to_bytes(v0, state, sizeof state, &sl)) != UTXO_OK) {
        utxo_validator_free(v0);
        return rc;
    }
    utxo_validator_free(v0);
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    /* before genesis there is no coin, no proof target, no undo record:
     * the parameters and the empty validator state are all there is */
    if ((rc = wdb_check_fresh(w)) == UTXO_OK &&
        (rc = wdb_meta_put(w, "params", pbytes, sizeof pbytes)) == UTXO_OK &&
        (rc = wdb_meta_put(w, "state", state, sl)) == UTXO_OK)
        rc = wdb_exec(w, "COMMIT");
    if (rc != UTXO_OK) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        return rc;
    }
    w->params = *p;
    return wdb_reload(w);
}

/* Derives keys until there are `want`, inside the caller's transaction. */
static int derive_in_txn(utxo_wallet *w, uint64_t want)
{
    int rc = UTXO_OK;

    if (want > UINT32_MAX)
        return wdb_fail(w, UTXO_ERR_TOO_LARGE, "rescan: key index beyond 2^32");
    while (rc == UTXO_OK && w->n_keys < want)
        rc = utxo_wallet_new_key(w, NULL, NULL);
    return rc;
}

/* Derives keys until there are `want` (one SQL transaction; on failure the
 * keys are reloaded from the file, so memory and file agree). */
static int derive_up_to(utxo_wallet *w, uint64_t want)
{
    int rc;

    if (w->n_keys >= want)
        return UTXO_OK;
    if ((rc = wdb_exec(w, "BEGIN IMMEDIATE")) != UTXO_OK)
        return rc;
    if ((rc = derive_in_txn(w, want)) == UTXO_OK)
        rc = wdb_exec(w, "COMMIT");
    if (rc != UTXO_OK) {
        sqlite3_exec(w->db, "ROLLBACK", NULL, NULL, NULL);
        (void)load_keys(w);
    }
    return rc;
}

void wdb_keys_truncate(utxo_wallet *w, uint32_t n)
{
    uint32_t k = 0;

    if (w->n_keys <= n)
        return;
    for (uint32_t i = 0; i < w->n_keys; i++) /* keeps the order by id */
        if (w->ids[i].index < n)
            w->ids[k++] = w->ids[i];
    w->n_keys = k;
}

int utxo_wallet_rescan_begin(utxo_wallet *w, uint32_t gap)
{
    sqlite3_stmt *st = NULL;
    int64_t paid = 0;
    int rc;

    if (!wdb_enter(w) || gap == 0 || gap > UTXO_WALLET_GAP_MAX)
        return UTXO_ERR_ARG;
    if (w->master == NULL)
        return wdb_fail(w, UTXO_ERR_WATCH_ONLY, "a rescan derives keys: it needs the passphrase");
    if (sqlite3_prepare_v2(w->db, "SELECT coalesce(max(key_idx) + 1, 0) FROM coins", -1, &st,
                           NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "rescan");
    if (sqlite3_step(st) == SQLITE_ROW)
        paid = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    w->gap = gap;
    w->gap_base = w->n_keys;
    w->gap_paid = (uint32_t)(paid < 0 ? 0 : paid > UINT32_MAX ? UINT32_MAX : paid);
    if ((rc = derive_up_to(w, (uint64_t)w->gap_paid + gap)) != UTXO_OK)
        w->gap = 0;
    return rc;
}

int wdb_gap_extend(utxo_wallet *w, const utxo_block *b)
{
    bool more = true;
    int rc = UTXO_OK;

    if (w->gap == 0)
        return UTXO_OK;
    /* each round watches the keys the previous one derived: a block may pay
     * key k and key k + gap + 1 (found only once k is known to be used) */
    while (more && rc == UTXO_OK) {
        uint32_t before = w->gap_paid;
        for (uint32_t t = 0; t < b->n_txs; t++)
            for (uint32_t o = 0; o < b->txs[t]->n_outputs; o++) {
                int64_t k = wdb_find_id(w, b->txs[t]->outputs[o].predicate_id);
                if (k >= 0 && (uint64_t)k + 1 > w->gap_paid)
                    w->gap_paid = (uint32_t)k + 1;
            }
        more = w->gap_paid != before;
        if (more)
            rc = derive_in_txn(w, (uint64_t)w->gap_paid + w->gap);
    }
    return rc;
}

int utxo_wallet_rescan_end(utxo_wallet *w, uint32_t *n_keys)
{
    uint32_t keep;
    sqlite3_stmt *st = NULL;
    int rc = UTXO_OK;

    if (n_keys)
        *n_keys = 0;
    if (!wdb_enter(w))
        return UTXO_ERR_ARG;
    if (w->gap == 0)
        return wdb_fail(w, UTXO_ERR_ARG, "no rescan is running");
    /* the keys derived ahead and never paid go, so that the next address
     * follows the last used one and a later restore finds it within the gap */
    keep = w->gap_base > w->gap_paid ? w->gap_base : w->gap_paid;
    if (keep == 0)
        keep = 1;
    w->gap = 0;
    if (sqlite3_prepare_v2(w->db, "DELETE FROM keys WHERE idx >= ?1", -1, &st, NULL) != SQLITE_OK)
        return wdb_sqlfail(w, "ending the rescan");
    sqlite3_bind_int64(st, 1, keep);
    if (sqlite3_step(st) != SQLITE_DONE)
        rc = wdb_sqlfail(w, "ending the rescan");
    sqlite3_finalize(st);
    if (rc == UTXO_OK)
        rc = load_keys(w);
    if (rc == UTXO_OK && n_keys)
        *n_keys = w->n_keys;
    return rc;
}
