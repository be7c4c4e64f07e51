/*
 * util.h — small helpers shared by the utxo subcommands: reading files or
 * stdin with a size cap, hex conversion, and uniform error messages.
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
/* Writes len bytes to path atomically (temporary file + rename), mode 0644. */
int write_file(const char *path, const uint8_t *p, size_t len);

/* Decodes a hex string (even length, [0-9a-fA-F]) into a new buffer. */
int hex_decode(const char *hex, uint8_t **out, size_t *len);
/* Writes 2n+1 characters (with NUL) to out. */
void hex_encode(char *out, const uint8_t *p, size_t n);

/* Parses a whole decimal u64 ("12", no sign, no junk); false on error. */
bool parse_u64(const char *s, uint64_t *v);

#endif /* UTXO_TOOLS_UTIL_H */
