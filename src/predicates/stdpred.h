/*
 * stdpred.h — the standard predicates: ONE table (stdpred.c) holds
 * everything the code knows of each kind: its stable number (enum
 * utxo_std_kind, utxo/standard.h), its name, its committed template image
 * (built from src/predicates/std/NAME.c, embedded from std/templates.h),
 * the layout of its parameters and of a spend's arguments, the cycle budget
 * a spend needs, and its documentation. The instance images, the
 * recogniser and the budgets of utxo/standard.h (stdwit.c), the builder, the
 * generators and `utxo predicate std` all read it; a new kind is one row
 * (and its NAME in STDPRED_NAMES of local.mk, in the same order).
 *
 * An instance image is the template's segments plus one parameter segment
 * at UTXO_ABI_PARAMS_BASE holding the kind's parameters (keys, hashes,
 * heights, a modulus), so the parameters are bound to the predicate id: a
 * pay-to-pubkey id is an address. docs/PREDICATES.md, section 5, explains
 * the layouts and the exit codes.
 */
#ifndef UTXO_SRC_STDPRED_H
#define UTXO_SRC_STDPRED_H

#include <stddef.h>
#include <stdint.h>
#include "utxo/standard.h"

#define STDPRED_COUNT 6 /* rows of the table: kinds 0 .. 5 of enum utxo_std_kind */
_Static_assert(STDPRED_COUNT == UTXO_STD_KINDS, "the consensus table has UTXO_STD_KINDS rows");
#define STDPRED_MULTISIG_MAX_KEYS UTXO_STD_MULTISIG_MAX_KEYS
#define STDPRED_SIGS_M 0xffu /* stdpred_template.sigs: m signatures (multisig) */

/* One standard kind. */
typedef struct stdpred_template {
    int kind;             /* enum utxo_std_kind: also the row's index */
    const char *name;     /* "p2pk": std/NAME.c, std/NAME.img, `utxo predicate std NAME` */
    const uint8_t *image; /* committed canonical template image */
    size_t image_len;
    /* parameters: exactly params_len bytes (0: any length params_ok takes),
     * and params_ok (NULL: none) for what a length cannot say */
    uint32_t params_len;
    int (*params_ok)(const uint8_t *p, size_t len);
    /* a spend's arguments: args_len bytes when fixed (0: they vary) */
    uint32_t args_len;
    /* a sufficient budget: budget_base + sigs x STDPRED_SIG_CYCLES +
     * secret_hashes x the BLAKE2b cost of the secret (utxo_std_budget) */
    uint32_t budget_base;
    uint8_t sigs;          /* Ed25519 checks in a spend, or STDPRED_SIGS_M */
    uint8_t secret_hashes; /* BLAKE2b runs over the secret */
    /* documentation: the layouts (docs/PREDICATES.md) and what it locks */
    const char *params_doc;
    const char *args_doc;
    const char *doc;
} stdpred_template;

/* The cycles budgeted per signature check and for the code around the host
 * calls (utxo_std_budget; the measurements are in stdpred.c). */
#define STDPRED_SIG_CYCLES 22528u
#define STDPRED_BASE_CYCLES 4096u

/* The row of a kind, or NULL for an unknown kind. Static storage. */
const stdpred_template *stdpred_get(int kind);

/* The row named name, or NULL. */
const stdpred_template *stdpred_by_name(const char *name);

/* UTXO_OK when params[0..len) are well-formed parameters of kind, else
 * UTXO_ERR_ARG. */
int stdpred_check_params(int kind, const uint8_t *params, size_t len);

/*
 * Builds the instance image of kind with params (checked as above) into a
 * new buffer (*img of *img_len bytes, free()). Returns UTXO_OK, UTXO_ERR_ARG
 * or UTXO_ERR_NOMEM.
 */
int stdpred_instance(int kind, const uint8_t *params, size_t len, uint8_t **img, size_t *img_len);

/*
 * The image an input's witness presents (docs/ENCODING.md, "Witness
 * forms"): for UTXO_FORM_IMAGE its own bytes (*img borrowed from w,
 * *owned = NULL); for UTXO_FORM_TEMPLATE the instance of its template with
 * its parameters, and for UTXO_FORM_REF the instance of the image held in
 * the datum of refs[w->ref] with its parameters (the datum itself, borrowed,
 * when there are none), built into a new buffer (*img = *owned, free()).
 * refs: the transaction's reference inputs' outputs (n_refs of them; NULL
 * when unknown). Returns UTXO_OK, UTXO_ERR_TX_TEMPLATE (no such template),
 * UTXO_ERR_TX_TEMPLATE_PARAMS (parameters of the wrong length or layout),
 * UTXO_ERR_TX_REF_MISSING (no such reference output), UTXO_ERR_TX_REF_CODE
 * (its datum is no image, or has no room for the parameters),
 * UTXO_ERR_TX_FORM or UTXO_ERR_NOMEM. The caller still checks that the
 * image hashes to the spent predicate id.
 */
int stdpred_witness_image(const utxo_witness *w, const utxo_output *refs, uint32_t n_refs,
                          const uint8_t **img, size_t *len, uint8_t **owned);

/*
 * utxo_std_rsa_sign with the factors of n (p, q: 128 bytes each,
 * big-endian, n = p q) known: the same signature bytes (m^d mod n) by the
 * Chinese remainder theorem, about four times faster. For the generator,
 * which knows its keys' factors. UTXO_ERR_ARG when p q != n.
 */
int stdpred_rsa_sign_crt(uint8_t sig[UTXO_RSA_BYTES], const uint8_t sighash[UTXO_HASH_BYTES],
                         const uint8_t n[UTXO_RSA_BYTES], const uint8_t d[UTXO_RSA_BYTES],
                         const uint8_t p[UTXO_RSA_BYTES / 2], const uint8_t q[UTXO_RSA_BYTES / 2]);

/* Host-call cost of BLAKE2b over len bytes (docs/PREDICATES.md). */
uint64_t stdpred_blake_cost(size_t len);

#endif /* UTXO_SRC_STDPRED_H */
