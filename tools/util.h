/*
 * util.h — small helpers shared by the utxo subcommands: reading files or
 * stdin with a size cap, predicate images (or ELF files), hex conversion,
 * and uniform error messages.
 */
#ifndef UTXO_TOOLS_UTIL_H
#define UTXO_TOOLS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Exit codes of every subcommand. */
#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2   /* bad arguments, or an I/O error */

/* The program name for messages ("utxo"). */
extern const char *prog_name;

/* "utxo: <message>\n" on stderr. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Reads a whole file ("-" means standard input) into a new buffer (*out,
 * free() it) of *len bytes. Fails (returns -1 after printing a message that
 * names the path) on I/O errors or when the file exceeds max bytes.
 */
int read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* Writes len bytes to path atomically: a temporary file beside it, synced,
 * then renamed over path, and the directory synced; mode 0644 less the
 * umask. On failure (message printed, naming path and the reason: read-only
 * file system, permission denied, disk full...) path is unchanged. */
int write_file(const char *path, const uint8_t *p, size_t len);
/* Words for the errno of a failed file operation ("read-only file
 * system", "permission denied", "no space left on device (disk full)"...). */
const char *io_errtext(int e);

/* Decodes a hex string (even length, [0-9a-fA-F]) into a new buffer. */
int hex_decode(const char *hex, uint8_t **out, size_t *len);
/* Writes 2n+1 characters (with NUL) to out. */
void hex_encode(char *out, const uint8_t *p, size_t n);

/* Parses a whole decimal u64 ("12", no sign, no junk); false on error. */
bool parse_u64(const char *s, uint64_t *v);

/* A numeric option of a subcommand: NAME N with min <= N <= max. */
typedef struct num_opt {
    const char *name;
    uint64_t *v;
    uint64_t min, max;
    bool set; /* out: the option was given */
} num_opt;

/*
 * If argv[*i] is the name of one of opts[0..n): parses argv[*i + 1] into
 * its *v, marks it set, leaves *i on the value and returns 1. Returns 0
 * when argv[*i] names none of them, and -1 after the message "CMD: NAME
 * wants a whole number" (or "... a number from MIN to MAX" when the range
 * is narrower) when the value is missing, not a number or out of range;
 * a refused value leaves *v and set as they were.
 */
int parse_num_opt(const char *cmd, num_opt *opts, size_t n, int argc, char **argv, int *i);

/*
 * Reads a predicate image from path (at most max bytes), or an ELF
 * executable there converted to one. On success *img is a new buffer
 * (free() it) of *len bytes and the result is EXIT_VALID; otherwise *img
 * is NULL and the result is EXIT_USAGE (I/O) or EXIT_INVALID (not a valid
 * image or usable ELF file), after a message naming the path.
 */
int load_image(const char *path, size_t max, uint8_t **img, size_t *len);

/*
 * Decodes the value of --chain-id: hex NULL leaves *chain NULL; otherwise
 * *chain is a new 32-byte buffer (free() it). Returns -1 after a message
 * when hex is not 64 hex digits.
 */
int parse_chain_id(const char *hex, uint8_t **chain);

#endif /* UTXO_TOOLS_UTIL_H */
