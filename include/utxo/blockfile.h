/*
 * utxo/blockfile.h — block files and proof files: a chain's blocks, or their
 * proof bundles, one record after another, in height order.
 *
 * Format (docs/STATELESS.md, "Block and proof files"; all integers
 * little-endian):
 *
 *   offset  size  meaning
 *   0       4     magic: "uxbk" (blocks) or "uxbp" (proof bundles)
 *   4       4     version (u32, 1)
 *   8       108   consensus parameters (docs/ENCODING.md): the file names its chain
 *   116     ...   records: u32 length (1 .. cap), then that many bytes
 *
 * A record of a block file is an encoded block (utxo_block_to_bytes); of a
 * proof file, the bundle of the block with the same record number
 * (utxo_bundle_to_bytes). Record lengths are capped (max_block_bytes of the
 * file's parameters for blocks, UTXO_BUNDLE_MAX_BYTES for bundles), so a
 * reader never allocates more than one record's cap; the file carries no
 * checksum: records are checked by strict decoding and by validation.
 *
 * Ownership: utxo_chainfile is an opaque handle; close it with
 * utxo_chainfile_close (NULL is a no-op). Records returned by
 * utxo_chainfile_next are new buffers the caller free()s.
 */
#ifndef UTXO_BLOCKFILE_H
#define UTXO_BLOCKFILE_H

#include "utxo/ledger.h"

#ifdef __cplusplus
extern "C" {
#endif

enum utxo_chainfile_kind {
    UTXO_CHAINFILE_BLOCKS = 1, /* magic "uxbk" */
    UTXO_CHAINFILE_PROOFS = 2  /* magic "uxbp" */
};

#define UTXO_CHAINFILE_VERSION 1u
/** Bytes before the first record: magic, version, parameters. */
#define UTXO_CHAINFILE_HEADER_BYTES (8u + UTXO_PARAMS_BYTES)
/** Largest record of a proof file. */
#define UTXO_BUNDLE_MAX_BYTES (256u << 20)

typedef struct utxo_chainfile utxo_chainfile;

/**
 * Starts writing path as a file of `kind` for chain p: the file header and
 * the records go to a temporary file beside path, which
 * utxo_chainfile_close renames over path (atomically: readers and crashes
 * see the old file or the whole new one; a failed or discarded write
 * leaves the old file untouched). Returns UTXO_OK, UTXO_ERR_ARG,
 * UTXO_ERR_IO (errno says why: EACCES, EROFS, ENOSPC...) or
 * UTXO_ERR_NOMEM; *out is NULL on error.
 */
UTXO_WARN_UNUSED int utxo_chainfile_create(utxo_chainfile **out, const char *path, int kind,
                                           const utxo_params *p);
/** Appends one record (rec[0..len), 1 <= len <= the kind's cap). */
UTXO_WARN_UNUSED int utxo_chainfile_append(utxo_chainfile *f, const uint8_t *rec, size_t len);

/**
 * Opens path for reading as a file of `kind`: checks the magic and version
 * (UTXO_ERR_FILE_FORMAT, UTXO_ERR_VERSION) and decodes the parameters into
 * *p (caller-owned; their decoding errors are returned as they are). On
 * error *out is NULL and *err_offset (may be NULL) holds the file offset of
 * the bad byte.
 */
UTXO_WARN_UNUSED int utxo_chainfile_open(utxo_chainfile **out, const char *path, int kind,
                                         utxo_params *p, size_t *err_offset);

/**
 * Reads the next record into a new buffer (*rec, free() it) of *len bytes;
 * *offset (may be NULL) receives the file offset of the record's length
 * field. At the end of the file: UTXO_OK with *rec NULL. Errors, with
 * *offset the offset of the record at fault: UTXO_ERR_TRUNCATED (the file
 * ends inside the record), UTXO_ERR_TOO_LARGE (length 0 or over the cap),
 * UTXO_ERR_IO, UTXO_ERR_NOMEM.
 */
UTXO_WARN_UNUSED int utxo_chainfile_next(utxo_chainfile *f, uint8_t **rec, size_t *len,
                                         uint64_t *offset);

/**
 * A check of a record's first bytes: prefix[0..have) of a record of len
 * bytes (have < len). Returns UTXO_OK when nothing is wrong yet, or the
 * error that makes the record unusable whatever follows.
 */
typedef int (*utxo_record_check)(const uint8_t *prefix, size_t have, size_t len, void *ud);

/**
 * Makes utxo_chainfile_next read records larger than 64 KiB incrementally:
 * 64 KiB first, then steps that double what it holds, calling check after
 * each step before reading on; a record the check refuses is returned as
 * that error (its bytes are not read further), so a hostile record costs
 * memory in proportion to the bytes that passed the check, not to its
 * declared length. check NULL: whole records again. For proof files,
 * utxo_bundle_check_prefix (utxo/stateless.h) is such a check.
 */
void utxo_chainfile_set_check(utxo_chainfile *f, utxo_record_check check, void *ud);

/** The file offset of the next record. */
uint64_t utxo_chainfile_tell(const utxo_chainfile *f);

/**
 * Closes f. For a writer, commits: flushes and syncs the temporary file,
 * renames it over the path and syncs the directory. UTXO_ERR_IO (errno
 * from the first failing step, e.g. ENOSPC for a full disk) if any write
 * or the commit failed: then the temporary file is removed and the path
 * keeps its previous content. f is freed in every case.
 */
int utxo_chainfile_close(utxo_chainfile *f);

/* The chain parameters in the header of a file open for reading
 * (utxo_chainfile_open gave the same); UTXO_ERR_ARG for a writer. */
int utxo_chainfile_params(const utxo_chainfile *f, utxo_params *p);

/**
 * Closes f without committing: a writer's temporary file is removed and
 * the path keeps its previous content (for a reader, as _close). errno is
 * preserved. NULL is a no-op.
 */
void utxo_chainfile_discard(utxo_chainfile *f);

#ifdef __cplusplus
}
#endif
#endif /* UTXO_BLOCKFILE_H */
