/*
 * stdwit.c — the standard predicates from C (utxo/standard.h): instance
 * images for the output side, argument bytes for the input side, a
 * recogniser for instance images and cycle budgets that suffice to spend
 * them, all read from the table of stdpred.c; the parameter and argument
 * layouts are those of src/predicates/std/NAME.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <gmp.h>
#include <sodium.h>
#include "utxo/keys.h"
#include "utxo/standard.h"
#include "utxo/predicate.h"
#include "utxo/abi.h"
#include "utxo/codec.h"
#include "predicates/image.h"
#include "predicates/stdpred.h"

/* Copies the instance of kind with params into the caller's buffer. */
static int std_image(uint8_t *out, size_t out_len, size_t *written, int kind,
                     const uint8_t *params, size_t plen)
{
    uint8_t *img = NULL;
    size_t len = 0;
    int rc;

    if (written)
        *written = 0;
    if (out != NULL) /* zeroed on every failure, as standard.h says */
        memset(out, 0, out_len);
    if (out == NULL || written == NULL)
        return UTXO_ERR_ARG;
    if ((rc = stdpred_instance(kind, params, plen, &img, &len)) != UTXO_OK)
        return rc;
    if (len > out_len) {
        rc = UTXO_ERR_ARG;
        goto done;
    }
    memcpy(out, img, len);
    *written = len;
done:
    free(img);
    return rc;
}

int utxo_std_p2pk_image(uint8_t *out, size_t out_len, size_t *written,
                        const uint8_t pk[UTXO_PUBKEY_BYTES])
{
    if (pk == NULL)
        return std_image(out, out_len, written, -1, NULL, 0);
    return std_image(out, out_len, written, UTXO_STD_P2PK, pk, UTXO_PUBKEY_BYTES);
}

int utxo_std_multisig_image(uint8_t *out, size_t out_len, size_t *written, unsigned m, unsigned n,
                            const uint8_t (*pks)[UTXO_PUBKEY_BYTES])
{
    uint8_t params[4 + UTXO_STD_MULTISIG_MAX_KEYS * UTXO_PUBKEY_BYTES];

    if (pks == NULL || m == 0 || m > n || n > UTXO_STD_MULTISIG_MAX_KEYS)
        return std_image(out, out_len, written, -1, NULL, 0);
    params[0] = (uint8_t)m;
    params[1] = (uint8_t)n;
    params[2] = params[3] = 0;
    memcpy(params + 4, pks, (size_t)n * UTXO_PUBKEY_BYTES);
    return std_image(out, out_len, written, UTXO_STD_MULTISIG, params, 4 + (size_t)n * 32);
}

int utxo_std_hashlock_image(uint8_t *out, size_t out_len, size_t *written,
                            const uint8_t hash[UTXO_HASH_BYTES])
{
    return std_image(out, out_len, written, hash ? UTXO_STD_HASHLOCK : -1, hash, UTXO_HASH_BYTES);
}

int utxo_std_timelock_image(uint8_t *out, size_t out_len, size_t *written,
                            const uint8_t pk[UTXO_PUBKEY_BYTES], uint32_t height)
{
    uint8_t params[36];

    if (pk == NULL)
        return std_image(out, out_len, written, -1, NULL, 0);
    memcpy(params, pk, 32);
    put_u32le(params + 32, height);
    return std_image(out, out_len, written, UTXO_STD_TIMELOCK, params, sizeof params);
}

int utxo_std_htlc_image(uint8_t *out, size_t out_len, size_t *written,
                        const uint8_t hash[UTXO_HASH_BYTES],
                        const uint8_t recipient[UTXO_PUBKEY_BYTES],
                        const uint8_t refund[UTXO_PUBKEY_BYTES], uint32_t height)
{
    uint8_t params[100];

    if (hash == NULL || recipient == NULL || refund == NULL)
        return std_image(out, out_len, written, -1, NULL, 0);
    memcpy(params, hash, 32);
    memcpy(params + 32, recipient, 32);
    memcpy(params + 64, refund, 32);
    put_u32le(params + 96, height);
    return std_image(out, out_len, written, UTXO_STD_HTLC, params, sizeof params);
}

int utxo_std_rsa_image(uint8_t *out, size_t out_len, size_t *written,
                       const uint8_t n[UTXO_RSA_BYTES])
{
    return std_image(out, out_len, written, n ? UTXO_STD_RSA : -1, n, UTXO_RSA_BYTES);
}

void utxo_std_secret_hash(uint8_t out[UTXO_HASH_BYTES], const uint8_t *secret, size_t len)
{
    crypto_generichash_blake2b(out, UTXO_HASH_BYTES, secret, len, NULL, 0);
}

int utxo_p2pk_id(uint8_t id[UTXO_HASH_BYTES], const uint8_t pk[UTXO_PUBKEY_BYTES])
{
    uint8_t img[UTXO_STD_IMAGE_MAX_BYTES];
    size_t len;
    int rc;

    if (id == NULL)
        return UTXO_ERR_ARG;
    memset(id, 0, UTXO_HASH_BYTES);
    if ((rc = utxo_std_p2pk_image(img, sizeof img, &len, pk)) != UTXO_OK)
        return rc;
    utxo_predicate_id(id, img, len);
    return UTXO_OK;
}

int utxo_std_identify(int *kind, uint8_t *params, size_t params_len, size_t *params_written,
                      const uint8_t *img, size_t img_len)
{
    const vm_segment *ps = NULL;
    img_view v;

    if (kind)
        *kind = UTXO_STD_NONE;
    if (params_written)
        *params_written = 0;
    if (kind == NULL || img == NULL || (params != NULL && params_written == NULL))
        return UTXO_ERR_ARG;
    if (params)
        memset(params, 0, params_len);
    if (img_len > UTXO_STD_IMAGE_MAX_BYTES || img_view_decode(&v, img, img_len, NULL) != UTXO_OK)
        return UTXO_ERR_NOT_STANDARD;
    for (uint32_t i = 0; i < v.n_segs; i++)
        if (v.segs[i].vaddr == UTXO_ABI_PARAMS_BASE)
            ps = &v.segs[i];
    if (ps == NULL)
        return UTXO_ERR_NOT_STANDARD;
    for (int k = 0; k < STDPRED_COUNT; k++) {
        uint8_t *inst = NULL;
        size_t len = 0;
        bool same;

        if (stdpred_instance(k, ps->data, ps->len, &inst, &len) != UTXO_OK)
            continue;
        same = len == img_len && memcmp(inst, img, len) == 0;
        free(inst);
        if (!same)
            continue;
        if (params) {
            if (ps->len > params_len)
                return UTXO_ERR_ARG;
            memcpy(params, ps->data, ps->len);
            *params_written = ps->len;
        }
        *kind = k;
        return UTXO_OK;
    }
    return UTXO_ERR_NOT_STANDARD;
}

/* The row's budget (stdpred.h): base, signatures, hashes of the secret. */
uint64_t utxo_std_budget(int kind, unsigned m, size_t secret_len)
{
    const stdpred_template *t = stdpred_get(kind);
    uint64_t sigs;

    if (t == NULL)
        return 0;
    sigs = t->sigs;
    if (t->sigs == STDPRED_SIGS_M) {
        if (m == 0 || m > UTXO_STD_MULTISIG_MAX_KEYS)
            return 0;
        sigs = m;
    }
    return t->budget_base + sigs * STDPRED_SIG_CYCLES +
           t->secret_hashes * stdpred_blake_cost(secret_len);
}

int utxo_std_multisig_args(uint8_t *out, size_t out_len, size_t *written, uint32_t present,
                           const uint8_t (*sigs)[UTXO_SIG_BYTES], unsigned n)
{
    size_t need = 4;

    if (written)
        *written = 0;
    if (out != NULL) /* zeroed on every failure, as standard.h says */
        memset(out, 0, out_len);
    if (out == NULL || written == NULL || n == 0 || n > UTXO_STD_MULTISIG_MAX_KEYS ||
        (present >> n) != 0 || (present != 0 && sigs == NULL))
        return UTXO_ERR_ARG;
    need += (size_t)__builtin_popcount(present) * UTXO_SIG_BYTES;
    if (out_len < need)
        return UTXO_ERR_ARG;
    put_u32le(out, present);
    for (unsigned i = 0, k = 4; i < n; i++)
        if ((present >> i) & 1) {
            memcpy(out + k, sigs[i], UTXO_SIG_BYTES);
            k += UTXO_SIG_BYTES;
        }
    *written = need;
    return UTXO_OK;
}

int utxo_std_multisig_args_parse(uint32_t *present, uint8_t (*sigs)[UTXO_SIG_BYTES], unsigned n,
                                 const uint8_t *args, size_t len)
{
    uint32_t bits;
    size_t k = 4;

    if (present)
        *present = 0;
    if (sigs != NULL && n <= UTXO_STD_MULTISIG_MAX_KEYS) /* zeroed on every failure */
        memset(sigs, 0, (size_t)n * UTXO_SIG_BYTES);
    if (present == NULL || sigs == NULL || n == 0 || n > UTXO_STD_MULTISIG_MAX_KEYS ||
        (args == NULL && len != 0))
        return UTXO_ERR_ARG;
    if (len < 4)
        return UTXO_ERR_ARG;
    bits = get_u32le(args);
    if ((bits >> n) != 0 || len != 4 + (size_t)__builtin_popcount(bits) * UTXO_SIG_BYTES)
        return UTXO_ERR_ARG;
    for (unsigned i = 0; i < n; i++)
        if ((bits >> i) & 1) {
            memcpy(sigs[i], args + k, UTXO_SIG_BYTES);
            k += UTXO_SIG_BYTES;
        }
    *present = bits;
    return UTXO_OK;
}

int utxo_std_htlc_claim_args(uint8_t *out, size_t out_len, size_t *written,
                             const uint8_t sig[UTXO_SIG_BYTES], const uint8_t *secret,
                             size_t secret_len)
{
    if (written)
        *written = 0;
    if (out != NULL) /* zeroed on every failure, as standard.h says */
        memset(out, 0, out_len);
    if (out == NULL || written == NULL || sig == NULL || (secret == NULL && secret_len != 0) ||
        secret_len > out_len || out_len - secret_len < 65)
        return UTXO_ERR_ARG;
    out[0] = 0;
    memcpy(out + 1, sig, UTXO_SIG_BYTES);
    if (secret_len)
        memcpy(out + 65, secret, secret_len);
    *written = 65 + secret_len;
    return UTXO_OK;
}

void utxo_std_htlc_refund_args(uint8_t out[UTXO_HTLC_REFUND_ARGS_BYTES],
                               const uint8_t sig[UTXO_SIG_BYTES])
{
    out[0] = 1;
    memcpy(out + 1, sig, UTXO_SIG_BYTES);
}

/* The PKCS#1 v1.5 encoded message of SHA-256(sighash), as an integer. */
static void rsa_encode(mpz_t mm, const uint8_t sighash[UTXO_HASH_BYTES])
{
    static const uint8_t digest_info[19] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                            0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                            0x01, 0x05, 0x00, 0x04, 0x20};
    uint8_t em[UTXO_RSA_BYTES];

    em[0] = 0;
    em[1] = 1;
    memset(em + 2, 0xff, UTXO_RSA_BYTES - 3 - sizeof digest_info - 32);
    em[UTXO_RSA_BYTES - 1 - sizeof digest_info - 32] = 0;
    memcpy(em + UTXO_RSA_BYTES - sizeof digest_info - 32, digest_info, sizeof digest_info);
    crypto_hash_sha256(em + UTXO_RSA_BYTES - 32, sighash, UTXO_HASH_BYTES);
    mpz_import(mm, UTXO_RSA_BYTES, 1, 1, 0, 0, em);
}

/* Wipes a secret integer's limbs before GMP frees them. */
static void mpz_wipe(mpz_t x)
{
    if (mpz_size(x) > 0)
        sodium_memzero(mpz_limbs_modify(x, (mp_size_t)mpz_size(x)),
                       mpz_size(x) * sizeof(mp_limb_t));
}

static void rsa_export(uint8_t sig[UTXO_RSA_BYTES], const mpz_t ms)
{
    size_t cnt = 0, need = (mpz_sizeinbase(ms, 2) + 7) / 8;

    if (mpz_sgn(ms) != 0)
        mpz_export(sig + UTXO_RSA_BYTES - need, &cnt, 1, 1, 0, 0, ms);
}

int utxo_std_rsa_sign(uint8_t sig[UTXO_RSA_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                      const uint8_t n[UTXO_RSA_BYTES], const uint8_t d[UTXO_RSA_BYTES])
{
    mpz_t mn, md, mm, ms;
    int rc = UTXO_OK;

    if (sig == NULL)
        return UTXO_ERR_ARG;
    memset(sig, 0, UTXO_RSA_BYTES);
    if (sighash == NULL || n == NULL || d == NULL ||
        stdpred_check_params(UTXO_STD_RSA, n, UTXO_RSA_BYTES) != UTXO_OK)
        return UTXO_ERR_ARG;
    mpz_inits(mn, md, mm, ms, NULL);
    mpz_import(mn, UTXO_RSA_BYTES, 1, 1, 0, 0, n);
    mpz_import(md, UTXO_RSA_BYTES, 1, 1, 0, 0, d);
    rsa_encode(mm, sighash);
    if (mpz_sgn(md) <= 0) {
        rc = UTXO_ERR_ARG;
        goto done;
    }
    mpz_powm_sec(ms, mm, md, mn); /* constant-time in d; n is odd (checked) */
    rsa_export(sig, ms);
done:
    mpz_wipe(md);
    mpz_clears(mn, md, mm, ms, NULL);
    return rc;
}

int stdpred_rsa_sign_crt(uint8_t sig[UTXO_RSA_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                         const uint8_t n[UTXO_RSA_BYTES], const uint8_t d[UTXO_RSA_BYTES],
                         const uint8_t p[UTXO_RSA_BYTES / 2], const uint8_t q[UTXO_RSA_BYTES / 2])
{
    mpz_t mn, md, mp, mq, mm, dp, dq, sp, sq, t;
    int rc = UTXO_OK;

    if (sig == NULL)
        return UTXO_ERR_ARG;
    memset(sig, 0, UTXO_RSA_BYTES);
    if (sighash == NULL || n == NULL || d == NULL || p == NULL || q == NULL ||
        stdpred_check_params(UTXO_STD_RSA, n, UTXO_RSA_BYTES) != UTXO_OK)
        return UTXO_ERR_ARG;
    mpz_inits(mn, md, mp, mq, mm, dp, dq, sp, sq, t, NULL);
    mpz_import(mn, UTXO_RSA_BYTES, 1, 1, 0, 0, n);
    mpz_import(md, UTXO_RSA_BYTES, 1, 1, 0, 0, d);
    mpz_import(mp, UTXO_RSA_BYTES / 2, 1, 1, 0, 0, p);
    mpz_import(mq, UTXO_RSA_BYTES / 2, 1, 1, 0, 0, q);
    rsa_encode(mm, sighash);
    mpz_mul(t, mp, mq);
    /* n = p q with distinct odd p, q; then d mod (p-1) and d mod (q-1) are
     * non-zero (e d = 1 mod lcm(p-1, q-1)) */
    if (mpz_sgn(md) <= 0 || mpz_cmp(t, mn) != 0 || mpz_cmp(mp, mq) == 0 || mpz_even_p(mp) ||
        mpz_even_p(mq)) {
        rc = UTXO_ERR_ARG;
        goto done;
    }
    mpz_sub_ui(t, mp, 1);
    mpz_mod(dp, md, t);
    mpz_sub_ui(t, mq, 1);
    mpz_mod(dq, md, t);
    if (mpz_sgn(dp) == 0 || mpz_sgn(dq) == 0 || mpz_invert(t, mq, mp) == 0) {
        rc = UTXO_ERR_ARG;
        goto done;
    }
    mpz_mod(sp, mm, mp);
    mpz_powm_sec(sp, sp, dp, mp);
    mpz_mod(sq, mm, mq);
    mpz_powm_sec(sq, sq, dq, mq);
    /* Garner: s = sq + q ((sp - sq) q^-1 mod p), which is m^d mod n */
    mpz_sub(sp, sp, sq);
    mpz_mul(sp, sp, t);
    mpz_mod(sp, sp, mp);
    mpz_mul(sp, sp, mq);
    mpz_add(sp, sp, sq);
    rsa_export(sig, sp);
done:
    mpz_wipe(md);
    mpz_wipe(mp);
    mpz_wipe(mq);
    mpz_wipe(dp);
    mpz_wipe(dq);
    mpz_wipe(sp);
    mpz_wipe(sq);
    mpz_wipe(t);
    mpz_clears(mn, md, mp, mq, mm, dp, dq, sp, sq, t, NULL);
    return rc;
}
