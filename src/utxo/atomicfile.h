/*
 * atomicfile.h — replacing a file so that readers and crashes see either
 * the old file or the whole new one, never a mix or a truncation. Not
 * installed; used by the validator state file, block and proof files
 * written by `prove`/`gen`, and any other output of the library.
 *
 * How: the new content goes to a temporary file in the same directory
 * ("<path>.tmp.<pid>.<n>", created exclusively with the mode of the file it
 * replaces, else 0666 minus the umask as fopen would), which is flushed and
 * fsync()ed, then rename()d over path, and the directory is fsync()ed so
 * that the rename itself is durable. On any failure the temporary file is
 * removed and path is left as it was.
 *
 * Two kinds of path are not renamed over: a symbolic link to a regular
 * file has that file replaced beside it (the link stays a link), and an
 * existing file that is not a regular file (a device such as /dev/null or
 * /dev/stdout, a FIFO) is written in place, as a stream: renaming over it
 * would put a regular file where the device was. Such a write is not
 * atomic, and a failed one may have been partly written.
 *
 * Errors are truthful: every failure returns UTXO_ERR_IO with errno set by
 * the system call that failed (EACCES/EPERM permission denied, EROFS
 * read-only file system, ENOSPC/EDQUOT disk full, EFBIG file size limit,
 * ...), preserved across the cleanup, and afile_what() names the step
 * ("create", "write", "sync", "rename", "sync directory") for messages.
 */
#ifndef UTXO_SRC_ATOMICFILE_H
#define UTXO_SRC_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* A replacement being written (caller-owned struct; no allocation other
 * than the two path strings, released by afile_commit/afile_abort). */
typedef struct afile {
    FILE *fp;          /* write the content here (or through afile_write) */
    char *path;        /* the file to replace */
    char *tmp;         /* the temporary file */
    bool failed;       /* a write failed: commit will refuse */
    int err;           /* errno of the first failure */
    bool direct;       /* path is a device or FIFO written in place (tmp NULL) */
    int slot;          /* 1 + its entry among the pending temporary files, 0: none */
    const char *what;  /* the step that failed first */
} afile;

/* Starts replacing path: creates the temporary file. UTXO_OK, or
 * UTXO_ERR_IO (errno set) / UTXO_ERR_NOMEM, and then nothing exists to
 * clean up. */
int afile_begin(afile *a, const char *path);

/* As afile_begin, but the new file has exactly `mode` (0600 for a secret),
 * whatever the umask and the mode of the file it replaces. */
int afile_begin_mode(afile *a, const char *path, mode_t mode);

/* Appends n bytes (records the first failure; commit reports it). */
int afile_write(afile *a, const void *p, size_t n);

/* Flushes, syncs, closes, renames over the target and syncs the directory.
 * On failure the temporary file is removed, the target is unchanged and
 * errno holds the first failure's code. a is released in every case. */
int afile_commit(afile *a);

/* Gives up: removes the temporary file; the target is unchanged; errno is
 * preserved. a is released. Harmless on a zeroed or released afile. */
void afile_abort(afile *a);

/* The step that failed last ("write", "rename"...), for messages. */
const char *afile_what(const afile *a);

/* Words for the errno of a failed file operation, for messages: "read-only
 * file system", "permission denied", "no space left on device (disk full)",
 * "disk quota exceeded", "file too large (...)", "no such file or
 * directory", else strerror(e). */
const char *afile_errtext(int e);

/* Installs the file tmp, written by the caller and closed, as path:
 * fsync of tmp, rename over path, fsync of the directory. 0, or -1 with
 * errno of the step that failed (*what names it: "sync", "rename", "sync
 * directory"); tmp is left in place on failure. */
int afile_install(const char *tmp, const char *path, const char **what);

/* Replaces path with buf[0..len) in one call (begin, write, commit). */
int afile_write_all(const char *path, const void *buf, size_t len);

/* Removes every temporary file an afile of this process has open (begun,
 * not yet committed or aborted): async-signal-safe (unlink only), for the
 * handler of a signal that ends the process, so that an interrupted run
 * leaves neither half a file nor the temporary one. */
void afile_unlink_pending(void);

/* Removes the temporary files of path ("<path>.tmp.<pid>.<n>") that a
 * process no longer running left: a kill between afile_begin and the
 * rename leaves one, and a file rewritten again and again (the mempool
 * journal after every block) would gather them for ever. Returns how many
 * went. Best effort: a directory that cannot be read removes none. */
size_t afile_sweep(const char *path);

/* Writes all of p[0..n) to fd (retrying short writes and EINTR): 0, or
 * the errno of the failure (EIO for a write that wrote nothing). For the
 * files appended in place: the sequencer's block and proof files and the
 * mempool journal. */
int afile_write_fd(int fd, const void *p, size_t n);

#endif /* UTXO_SRC_ATOMICFILE_H */
