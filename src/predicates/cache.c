/*
 * cache.c — decoded-program cache shared by every thread (see cache.h).
 *
 * Locking: one mutex guards both tables and every reference count. Decoding
 * (the expensive part) runs outside the lock; when two threads miss on the
 * same id at once, the first to insert wins and the other frees its copy.
 * Eviction picks the least recently used way of the set. Memory is bounded
 * by (PC_INST_SETS + PC_CODE_SETS) * PC_WAYS entries plus those in use.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "utxo/abi.h"
#include "predicates/cache.h"
#include "predicates/image.h"

typedef struct pc_code {
    uint8_t key[UTXO_HASH_BYTES];
    vm_program *prog;
    unsigned refs;
    uint64_t used;
} pc_code;

struct pc_entry {
    uint8_t key[UTXO_HASH_BYTES];
    pc_code *code;
    uint8_t *params;
    uint32_t params_len;
    unsigned refs;
    uint64_t used;
};

static pthread_mutex_t pc_lock = PTHREAD_MUTEX_INITIALIZER;
static pc_entry *inst_tab[PC_INST_SETS][PC_WAYS];
static pc_code *code_tab[PC_CODE_SETS][PC_WAYS];
static uint64_t pc_clock;
static pc_stats stats;

static unsigned set_of(const uint8_t key[UTXO_HASH_BYTES], unsigned sets)
{
    return ((unsigned)key[0] | (unsigned)key[1] << 8) % sets;
}

/* ---- reference counting (called with the lock held) ------------------- */

static void code_unref(pc_code *c)
{
    if (c && --c->refs == 0) {
        vm_program_free(c->prog);
        free(c);
    }
}

static void inst_unref(pc_entry *e)
{
    if (e && --e->refs == 0) {
        code_unref(e->code);
        free(e->params);
        free(e);
    }
}

/* ---- table operations (lock held) ------------------------------------- */

static pc_entry *inst_find(const uint8_t id[UTXO_HASH_BYTES])
{
    pc_entry **set = inst_tab[set_of(id, PC_INST_SETS)];

    for (unsigned w = 0; w < PC_WAYS; w++)
        if (set[w] && memcmp(set[w]->key, id, UTXO_HASH_BYTES) == 0)
            return set[w];
    return NULL;
}

static pc_code *code_find(const uint8_t key[UTXO_HASH_BYTES])
{
    pc_code **set = code_tab[set_of(key, PC_CODE_SETS)];

    for (unsigned w = 0; w < PC_WAYS; w++)
        if (set[w] && memcmp(set[w]->key, key, UTXO_HASH_BYTES) == 0)
            return set[w];
    return NULL;
}

/* Installs e (the table takes one reference). */
static void inst_insert(pc_entry *e)
{
    pc_entry **set = inst_tab[set_of(e->key, PC_INST_SETS)];
    unsigned victim = 0;

    for (unsigned w = 0; w < PC_WAYS; w++) {
        if (set[w] == NULL) {
            victim = w;
            break;
        }
        if (set[w]->used < set[victim]->used)
            victim = w;
    }
    inst_unref(set[victim]);
    e->refs++;
    set[victim] = e;
}

static void code_insert(pc_code *c)
{
    pc_code **set = code_tab[set_of(c->key, PC_CODE_SETS)];
    unsigned victim = 0;

    for (unsigned w = 0; w < PC_WAYS; w++) {
        if (set[w] == NULL) {
            victim = w;
            break;
        }
        if (set[w]->used < set[victim]->used)
            victim = w;
    }
    code_unref(set[victim]);
    c->refs++;
    set[victim] = c;
}

/* ---- building entries (no lock) ---------------------------------------- */

/* A vm_program from the image's segments minus the parameter segment. */
static int build_code(pc_code **out, const uint8_t key[UTXO_HASH_BYTES], const img_view *v,
                      const vm_segment *params)
{
    vm_segment segs[UTXO_IMAGE_MAX_SEGMENTS];
    vm_image im;
    pc_code *c;
    uint32_t n = 0;
    int rc;

    *out = NULL;
    for (uint32_t i = 0; i < v->n_segs; i++)
        if (&v->segs[i] != params)
            segs[n++] = v->segs[i];
    memset(&im, 0, sizeof im);
    memcpy(im.id, key, UTXO_HASH_BYTES);
    im.entry = v->entry;
    im.n_segs = n;
    im.segs = segs;
    c = calloc(1, sizeof *c);
    if (c == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(c->key, key, UTXO_HASH_BYTES);
    rc = vm_program_new(&c->prog, &im);
    if (rc != UTXO_OK) {
        free(c);
        return rc;
    }
    *out = c;
    return UTXO_OK;
}

int pc_get(pc_entry **out, const uint8_t id[UTXO_HASH_BYTES], const uint8_t *img, size_t len,
           size_t *err_off)
{
    uint8_t code_key[UTXO_HASH_BYTES];
    const vm_segment *params;
    pc_entry *e = NULL, *found;
    pc_code *c = NULL, *cfound;
    img_view v;
    int rc;

    *out = NULL;
    if (err_off)
        *err_off = 0;
    pthread_mutex_lock(&pc_lock);
    e = inst_find(id);
    if (e) {
        e->refs++;
        e->used = ++pc_clock;
        stats.hits++;
        pthread_mutex_unlock(&pc_lock);
        *out = e;
        return UTXO_OK;
    }
    stats.misses++;
    pthread_mutex_unlock(&pc_lock);

    rc = img_view_decode(&v, img, len, err_off);
    if (rc != UTXO_OK)
        return rc;
    img_code_id(code_key, &v, &params);
    e = calloc(1, sizeof *e);
    if (e == NULL)
        return UTXO_ERR_NOMEM;
    memcpy(e->key, id, UTXO_HASH_BYTES);
    e->refs = 1; /* the caller's */
    if (params) {
        e->params = malloc(params->len);
        if (e->params == NULL) {
            free(e);
            return UTXO_ERR_NOMEM;
        }
        memcpy(e->params, params->data, params->len);
        e->params_len = params->len;
    }

    pthread_mutex_lock(&pc_lock);
    cfound = code_find(code_key);
    if (cfound) {
        cfound->refs++;
        cfound->used = ++pc_clock;
        stats.code_hits++;
    }
    pthread_mutex_unlock(&pc_lock);
    if (cfound == NULL) {
        rc = build_code(&c, code_key, &v, params);
        if (rc != UTXO_OK) {
            free(e->params);
            free(e);
            return rc;
        }
        c->refs = 1; /* the instance's */
    }

    pthread_mutex_lock(&pc_lock);
    if (cfound == NULL) {
        stats.programs++;
        cfound = code_find(code_key);
        if (cfound) { /* another thread won the race: use its program */
            cfound->refs++;
            c->refs = 0;
            vm_program_free(c->prog);
            free(c);
        } else {
            cfound = c;
            code_insert(c);
        }
        cfound->used = ++pc_clock;
    }
    e->code = cfound;
    found = inst_find(id);
    if (found) {
        found->refs++;
        found->used = ++pc_clock;
        inst_unref(e);
        e = found;
    } else {
        e->used = ++pc_clock;
        inst_insert(e);
    }
    pthread_mutex_unlock(&pc_lock);
    *out = e;
    return UTXO_OK;
}

void pc_put(pc_entry *e)
{
    if (e == NULL)
        return;
    pthread_mutex_lock(&pc_lock);
    inst_unref(e);
    pthread_mutex_unlock(&pc_lock);
}

const vm_program *pc_program(const pc_entry *e)
{
    return e->code->prog;
}

const uint8_t *pc_params(const pc_entry *e, uint32_t *len)
{
    *len = e->params_len;
    return e->params;
}

void pc_get_stats(pc_stats *s)
{
    pthread_mutex_lock(&pc_lock);
    *s = stats;
    pthread_mutex_unlock(&pc_lock);
}

void pc_clear(void)
{
    pthread_mutex_lock(&pc_lock);
    for (unsigned s = 0; s < PC_INST_SETS; s++)
        for (unsigned w = 0; w < PC_WAYS; w++) {
            inst_unref(inst_tab[s][w]);
            inst_tab[s][w] = NULL;
        }
    for (unsigned s = 0; s < PC_CODE_SETS; s++)
        for (unsigned w = 0; w < PC_WAYS; w++) {
            code_unref(code_tab[s][w]);
            code_tab[s][w] = NULL;
        }
    pthread_mutex_unlock(&pc_lock);
}
