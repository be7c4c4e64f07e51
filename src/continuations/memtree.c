/*
 * memtree.c — the Merkle tree over guest memory pages and its multiproofs
 * (memtree.h; format and rationale in docs/CONTINUATIONS.md).
 *
 * The tree is sparse: 4096 chunks of 1024 pages (levels 0..10, heap-indexed,
 * allocated when a page in them first exists) under a dense top tree (levels
 * 10..22, 8191 nodes). A node that lies in a missing chunk is an empty
 * subtree. mt_commit rehashes only the dirty leaves and the distinct nodes
 * above them, level by level, so re-rooting after a segment costs one leaf
 * hash per changed page plus the union of their paths.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "continuations/memtree.h"

#define H UTXO_HASH_BYTES

static uint8_t empty_tab[MT_DEPTH + 1][H];
static pthread_once_t empty_once = PTHREAD_ONCE_INIT;

static void empty_init(void)
{
    memset(empty_tab[0], 0, H);
    for (unsigned l = 1; l <= MT_DEPTH; l++)
        mt_node_hash(empty_tab[l], empty_tab[l - 1], empty_tab[l - 1]);
}

const uint8_t *mt_empty(unsigned level)
{
    (void)pthread_once(&empty_once, empty_init);
    return empty_tab[level <= MT_DEPTH ? level : MT_DEPTH];
}

static hash_domain page_dom = HASH_DOMAIN("utxo.mem.page");
static hash_domain node_dom = HASH_DOMAIN("utxo.mem.node");

void mt_leaf(uint8_t out[H], const uint8_t page[MT_PAGE_BYTES])
{
    hash_tagged_dom(out, &page_dom, page, MT_PAGE_BYTES);
}

void mt_node_hash(uint8_t out[H], const uint8_t l[H], const uint8_t r[H])
{
    hash_pair_dom(out, &node_dom, l, r);
}

/* ---- the sparse tree --------------------------------------------------- */

typedef struct mt_chunk {
    uint8_t node[2 * MT_CHUNK_PAGES][H]; /* heap: [1024 + i] leaves, [2..1023] inner */
    uint8_t *page[MT_CHUNK_PAGES];       /* NULL: the page does not exist */
    uint8_t dirty[MT_CHUNK_PAGES];
} mt_chunk;

struct mt_tree {
    mt_chunk *chunk[MT_NUM_CHUNKS];
    uint8_t top[2 * MT_NUM_CHUNKS][H];   /* heap: [1] root, [4096 + c] chunk c */
    uint32_t *dirty;
    size_t n_dirty, cap_dirty;
    uint32_t count;
};

mt_tree *mt_new(void)
{
    mt_tree *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    for (unsigned l = MT_CHUNK_LEVELS; l <= MT_DEPTH; l++) {
        uint32_t first = 1u << (MT_DEPTH - l);
        for (uint32_t i = 0; i < first; i++)
            memcpy(t->top[first + i], mt_empty(l), H);
    }
    return t;
}

void mt_free(mt_tree *t)
{
    if (!t)
        return;
    for (uint32_t c = 0; c < MT_NUM_CHUNKS; c++) {
        mt_chunk *k = t->chunk[c];
        if (!k)
            continue;
        for (uint32_t i = 0; i < MT_CHUNK_PAGES; i++)
            free(k->page[i]);
        free(k);
    }
    free(t->dirty);
    free(t);
}

const uint8_t *mt_page(const mt_tree *t, uint32_t page)
{
    if (!t || page >= MT_NUM_PAGES)
        return NULL;
    const mt_chunk *k = t->chunk[page >> MT_CHUNK_LEVELS];
    return k ? k->page[page & (MT_CHUNK_PAGES - 1u)] : NULL;
}

static mt_chunk *chunk_new(void)
{
    mt_chunk *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    for (unsigned l = 0; l < MT_CHUNK_LEVELS; l++) {
        uint32_t first = 1u << (MT_CHUNK_LEVELS - l);
        for (uint32_t i = 0; i < first; i++)
            memcpy(k->node[first + i], mt_empty(l), H);
    }
    return k;
}

int mt_set_page(mt_tree *t, uint32_t page, const uint8_t data[MT_PAGE_BYTES])
{
    if (!t || !data || page >= MT_NUM_PAGES)
        return UTXO_ERR_ARG;
    uint32_t c = page >> MT_CHUNK_LEVELS, i = page & (MT_CHUNK_PAGES - 1u);
    mt_chunk *k = t->chunk[c];
    if (!k && (k = t->chunk[c] = chunk_new()) == NULL)
        return UTXO_ERR_NOMEM;
    if (!k->dirty[i] && t->n_dirty == t->cap_dirty) {
        size_t cap = t->cap_dirty ? 2 * t->cap_dirty : 256;
        uint32_t *d = realloc(t->dirty, cap * sizeof *d);
        if (!d)
            return UTXO_ERR_NOMEM;
        t->dirty = d;
        t->cap_dirty = cap;
    }
    if (!k->page[i]) {
        if ((k->page[i] = malloc(MT_PAGE_BYTES)) == NULL)
            return UTXO_ERR_NOMEM;
        t->count++;
    }
    memcpy(k->page[i], data, MT_PAGE_BYTES);
    if (!k->dirty[i]) {
        k->dirty[i] = 1;
        t->dirty[t->n_dirty++] = page;
    }
    return UTXO_OK;
}

/* Where node (level, index) lives; NULL for a node of a missing chunk. */
static uint8_t *node_at(const mt_tree *t, unsigned level, uint32_t index)
{
    if (level >= MT_CHUNK_LEVELS)
        return (uint8_t *)t->top[(1u << (MT_DEPTH - level)) + index];
    unsigned sh = MT_CHUNK_LEVELS - level;
    mt_chunk *k = t->chunk[index >> sh];
    return k ? k->node[(1u << sh) + (index & ((1u << sh) - 1u))] : NULL;
}

const uint8_t *mt_node(const mt_tree *t, unsigned level, uint32_t index)
{
    if (level > MT_DEPTH || index >= (MT_NUM_PAGES >> level))
        return mt_empty(0);
    const uint8_t *p = node_at(t, level, index);
    return p ? p : mt_empty(level);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int mt_commit(mt_tree *t)
{
    if (!t)
        return UTXO_ERR_ARG;
    size_t n = t->n_dirty;
    uint32_t *idx = t->dirty;
    if (n > 1)
        qsort(idx, n, sizeof *idx, cmp_u32);
    for (size_t j = 0; j < n; j++) {
        uint32_t p = idx[j];
        mt_chunk *k = t->chunk[p >> MT_CHUNK_LEVELS];
        uint32_t i = p & (MT_CHUNK_PAGES - 1u);
        mt_leaf(k->node[MT_CHUNK_PAGES + i], k->page[i]);
        k->dirty[i] = 0;
    }
    /* Distinct parents, level by level (idx stays sorted). */
    for (unsigned l = 1; l <= MT_DEPTH && n > 0; l++) {
        size_t m = 0;
        for (size_t j = 0; j < n; j++) {
            uint32_t pi = idx[j] >> 1;
            if (m > 0 && idx[m - 1] == pi)
                continue;
            idx[m++] = pi;
        }
        n = m;
        for (size_t j = 0; j < n; j++) {
            uint32_t pi = idx[j];
            mt_node_hash(node_at(t, l, pi), mt_node(t, l - 1, 2 * pi), mt_node(t, l - 1, 2 * pi + 1));
        }
    }
    t->n_dirty = 0;
    return UTXO_OK;
}

void mt_root(const mt_tree *t, uint8_t out[H])
{
    memcpy(out, t ? t->top[1] : mt_empty(MT_DEPTH), H);
}

uint32_t mt_count(const mt_tree *t)
{
    return t ? t->count : 0;
}

/* ---- multiproofs -------------------------------------------------------- */

size_t mt_proof_max(size_t n)
{
    return n == 0 ? 1 : n * MT_DEPTH;
}

/*
 * The one walk behind counting, writing and folding: positions pos[0..n)
 * (sorted, distinct) rise level by level; a node whose sibling is not in
 * the set needs that sibling from the proof. visit(level, sibling index)
 * is called for each, in proof order; idx is caller scratch for n entries.
 */
typedef void (*walk_fn)(void *ud, unsigned level, uint32_t sib);

static size_t walk(const uint32_t *pos, size_t n, uint32_t *idx, walk_fn visit, void *ud)
{
    size_t k = 0;
    if (n == 0) {
        if (visit)
            visit(ud, MT_DEPTH, 0);
        return 1;
    }
    if (idx != pos)
        memcpy(idx, pos, n * sizeof *idx);
    for (unsigned l = 0; l < MT_DEPTH; l++) {
        size_t m = 0;
        for (size_t i = 0; i < n;) {
            uint32_t cur = idx[i];
            if ((cur & 1u) == 0 && i + 1 < n && idx[i + 1] == cur + 1) {
                i += 2;
            } else {
                if (visit)
                    visit(ud, l, cur ^ 1u);
                k++;
                i++;
            }
            idx[m++] = cur >> 1;
        }
        n = m;
    }
    return k;
}

typedef struct lv_ud {
    uint8_t *levels;
    size_t k;
} lv_ud;

static void lv_visit(void *ud, unsigned level, uint32_t sib)
{
    lv_ud *u = ud;
    (void)sib;
    u->levels[u->k++] = (uint8_t)level;
}

size_t mt_proof_count(const uint32_t *pos, size_t n, uint8_t *levels)
{
    uint32_t *idx = n ? malloc(n * sizeof *idx) : NULL;
    lv_ud u = {levels, 0};
    size_t k;
    if (n && !idx)
        return SIZE_MAX;
    k = walk(pos, n, idx, levels ? lv_visit : NULL, &u);
    free(idx);
    return k;
}

typedef struct wr_ud {
    const mt_tree *t;
    uint8_t *bitmap;
    uint8_t *hashes;
    size_t k, nh;
} wr_ud;

static void wr_visit(void *ud, unsigned level, uint32_t sib)
{
    wr_ud *u = ud;
    const uint8_t *h = mt_node(u->t, level, sib);
    if (memcmp(h, mt_empty(level), H) == 0)
        u->bitmap[u->k / 8] |= (uint8_t)(1u << (u->k % 8));
    else
        memcpy(u->hashes + H * u->nh++, h, H);
    u->k++;
}

int mt_proof_write(enc *e, const mt_tree *t, const uint32_t *pos, size_t n)
{
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    uint8_t *bitmap = NULL, *hashes = NULL;
    wr_ud u = {t, NULL, NULL, 0, 0};
    size_t k;
    int rc = UTXO_ERR_NOMEM;

    if (!idx)
        goto out;
    k = walk(pos, n, idx, NULL, NULL); /* exact sibling count first */
    bitmap = calloc((k + 7) / 8 + 1, 1);
    hashes = malloc(k * H + 1);
    if (!bitmap || !hashes)
        goto out;
    u.bitmap = bitmap;
    u.hashes = hashes;
    (void)walk(pos, n, idx, wr_visit, &u);
    enc_bytes(e, bitmap, (u.k + 7) / 8);
    enc_bytes(e, hashes, u.nh * H);
    rc = UTXO_OK;
out:
    free(idx);
    free(bitmap);
    free(hashes);
    return rc;
}

/* Canonicality of a proof being read: a sent hash must not be the empty
 * subtree of its level. */
typedef struct rd_ud {
    const uint8_t *bm, *hs;
    size_t i, j, bad; /* bad: index of the first offending hash + 1, or 0 */
} rd_ud;

static void rd_visit(void *ud, unsigned level, uint32_t sib)
{
    rd_ud *u = ud;
    (void)sib;
    if (!((u->bm[u->i / 8] >> (u->i % 8)) & 1u)) {
        if (!u->bad && memcmp(u->hs + H * u->j, mt_empty(level), H) == 0)
            u->bad = u->j + 1;
        u->j++;
    }
    u->i++;
}

void mt_proof_read(dec *d, mt_proof *pr, const uint32_t *pos, size_t n)
{
    uint32_t *idx = NULL;
    size_t k, off, hoff, nh = 0;
    const uint8_t *bm, *hs;
    rd_ud u;

    memset(pr, 0, sizeof *pr);
    if (d->err)
        return;
    if ((idx = malloc((n ? n : 1) * sizeof *idx)) == NULL) {
        dec_fail(d, UTXO_ERR_NOMEM, d->off);
        return;
    }
    k = walk(pos, n, idx, NULL, NULL);
    off = d->off;
    if ((bm = dec_view(d, (k + 7) / 8)) == NULL)
        goto out;
    if (k % 8 && (bm[k / 8] >> (k % 8)) != 0) {
        dec_fail(d, UTXO_ERR_NONCANONICAL, off + k / 8);
        goto out;
    }
    for (size_t i = 0; i < k; i++)
        nh += !((bm[i / 8] >> (i % 8)) & 1u);
    if (nh > dec_left(d) / H) {
        dec_fail(d, UTXO_ERR_TRUNCATED, d->len);
        goto out;
    }
    hoff = d->off;
    if ((hs = dec_view(d, nh * H)) == NULL)
        goto out;
    u = (rd_ud){bm, hs, 0, 0, 0};
    (void)walk(pos, n, idx, rd_visit, &u);
    if (u.bad) {
        dec_fail(d, UTXO_ERR_NONCANONICAL, hoff + H * (u.bad - 1));
        goto out;
    }
    pr->k = k;
    pr->bitmap = bm;
    pr->hashes = hs;
    pr->n_hashes = nh;
out:
    free(idx);
}

size_t mt_proof_siblings(uint32_t *pos, size_t n)
{
    return walk(pos, n, pos, NULL, NULL);
}

size_t mt_fold_scratch(size_t n)
{
    return (n ? n : 1) * (sizeof(uint32_t) + H);
}

int mt_fold(uint8_t root[H], const mt_proof *pr, const uint32_t *pos, const uint8_t *leaves,
            size_t n, void *scratch)
{
    size_t si = 0, hi = 0;
#define SIBLING(level)                                                        \
    (((pr->bitmap[si / 8] >> (si % 8)) & 1u) ? (si++, mt_empty(level))         \
                                             : (si++, pr->hashes + H * hi++))
    if (n == 0) {
        if (pr->k != 1)
            return UTXO_ERR_INTERNAL;
        memcpy(root, SIBLING(MT_DEPTH), H);
        return UTXO_OK;
    }
    uint32_t *idx = scratch;
    uint8_t(*h)[H] = (uint8_t(*)[H])(idx + n);
    memcpy(idx, pos, n * sizeof *idx);
    memcpy(h, leaves, n * H);
    for (unsigned l = 0; l < MT_DEPTH; l++) {
        size_t m = 0;
        for (size_t i = 0; i < n;) {
            uint32_t cur = idx[i];
            uint8_t par[H];
            if ((cur & 1u) == 0 && i + 1 < n && idx[i + 1] == cur + 1) {
                mt_node_hash(par, h[i], h[i + 1]);
                i += 2;
            } else {
                if (si >= pr->k)
                    return UTXO_ERR_INTERNAL;
                const uint8_t *s = SIBLING(l);
                if (cur & 1u)
                    mt_node_hash(par, s, h[i]);
                else
                    mt_node_hash(par, h[i], s);
                i++;
            }
            idx[m] = cur >> 1;
            memcpy(h[m], par, H);
            m++;
        }
        n = m;
    }
#undef SIBLING
    if (si != pr->k || hi != pr->n_hashes)
        return UTXO_ERR_INTERNAL;
    memcpy(root, h[0], H);
    return UTXO_OK;
}
