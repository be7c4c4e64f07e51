/*
 * util.h — small helpers shared by the utxo subcommands: reading files or
 * stdin with a size cap, predicate images (or ELF files), hex conversion,
 * and uniform error messages.
 */
#ifndef UTXO_TOOLS_UTIL_H
#define UTXO_TOOLS_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "utxo.h"

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
/* read_file for a text read as a C string: *text (free() it) ends with a
 * NUL after its *len bytes. A NUL byte in the file would end the string
 * there and hide what follows: it is refused ("PATH: not WHAT (a NUL byte
 * at offset N)"). 0, or -1 after a message. */
int read_text(const char *path, size_t max, const char *what, char **text, size_t *len);
/* Writes len bytes to path atomically (src/utxo/atomicfile.h): a temporary
 * file beside it, synced, then renamed over path, and the directory
 * synced; the mode of the file replaced, else 0666 less the umask. On
 * failure (message printed, naming path and the reason: read-only file
 * system, permission denied, disk full...) path is unchanged. A device or
 * FIFO at path (/dev/null, /dev/stdout) is written in place, a symbolic
 * link's file is replaced; "-" writes the bytes to standard output. */
int write_file(const char *path, const uint8_t *p, size_t len);

/* Little-endian integers of `bytes` bytes (1..8) at a cursor that moves
 * past them: the fixed-width fields of the tools' own small file formats
 * and of the node's record streams. */
void le_put(uint8_t **p, uint64_t v, unsigned bytes);
uint64_t le_get(const uint8_t **p, unsigned bytes);

/* Removes a directory this run created (mkdtemp) and all in it: depth
 * first, symbolic links not followed, errors ignored. */
void remove_tree(const char *dir);

/* Decodes a hex string (even length, [0-9a-fA-F]) into a new buffer. */
int hex_decode(const char *hex, uint8_t **out, size_t *len);
/* Writes 2n+1 characters (with NUL) to out. */
void hex_encode(char *out, const uint8_t *p, size_t n);

/* Parses a whole decimal u64 ("12", no sign, no junk); false on error. */
bool parse_u64(const char *s, uint64_t *v);

/* A height, count, index or port in its one spelling: the len bytes at s
 * are 1 to 10 decimal digits, no sign, no leading zero, < 2^32. */
bool parse_dec_u32(const char *s, size_t len, uint32_t *out);

/* "TXID:INDEX": 64 hex digits, a colon, an index as parse_dec_u32 takes it
 * (so one outpoint has one spelling); false otherwise. */
bool parse_outpoint(const char *s, utxo_outpoint *op);

/* A predicate id given as 64 hex digits or as an address (utxo1...),
 * into id; false when s is neither. */
bool parse_id_or_address(const char *s, uint8_t id[UTXO_HASH_BYTES]);

/* A numeric option of a subcommand: NAME N with min <= N <= max. */
typedef struct num_opt {
    const char *name;
    uint64_t *v;
    uint64_t min, max;
    bool set; /* out: the option was given */
} num_opt;


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
 * *chain is a new 32-byte buffer (free() it). Returns -1 after a usage
 * error of command cmd when hex is not 64 hex digits.
 */
int parse_chain_id(const char *cmd, const char *hex, uint8_t **chain);

/*
 * The chain parameters in the header of the block file path (*p): 0, or
 * EXIT_USAGE after a message of command cmd naming the file, the cause and
 * the offset.
 */
int chain_file_params(const char *cmd, const char *path, utxo_params *p);

/* ---- the command line of every command (getopt_long) -------------------
 *
 * Conventions: options anywhere among the operands, `--opt=value` or
 * `--opt value`, `--` ends the options, `-` names standard input/output
 * where a file is read/written; `-h`/`--help` prints the command's help on
 * stdout and exits 0; a usage error is ONE line on stderr,
 *   utxo: verify: unknown option '--bogus' (see 'utxo verify --help')
 * and exit 2. A command parses like this:
 *
 *   static const struct option opts[] = {
 *       {"db", required_argument, NULL, 'd'}, CLI_HELP_OPTION, {NULL, 0, NULL, 0}};
 *   cli cl = CLI_INIT("replay", replay_usage, "o:", opts);
 *   while ((c = cli_next(&cl, argc, argv)) != -1) {
 *       switch (c) {
 *       case 'd': db = optarg; break;
 *       case 't': if (!cli_u64(&cl, 1, 256, &threads)) return EXIT_USAGE; break;
 *       case CLI_STOP: return cl.status; // help printed (0) or a usage error (2)
 *       }
 *   }
 *   // the operands: argv[optind..argc)
 *
 * argv[0] is the command's name (as main passes argv + 1 to a command).
 */
typedef struct cli {
    const char *cmd;               /* "verify", "predicate run": in messages and the hint */
    void (*help)(FILE *f);         /* prints the full help (with a "Usage:" line) */
    const char *shortopts;         /* getopt_long's, without ':' and 'h' (added here) */
    const struct option *longopts; /* list CLI_HELP_OPTION in it */
    const char *opt;               /* out: the option just returned, "--db" or "-o" */
    int status;                    /* out: the exit status after CLI_STOP */
    bool started;
} cli;

#define CLI_HELP_OPTION {"help", no_argument, NULL, 'h'}
/* --progress of the long commands: progress lines on stderr even when it
 * is not a terminal (tools/progress.h). */
#define CLI_PROGRESS 0x2001
#define CLI_PROGRESS_OPTION {"progress", no_argument, NULL, CLI_PROGRESS}
#define CLI_INIT(cmd, help, shortopts, longopts) {(cmd), (help), (shortopts), (longopts), NULL, 0, false}
/* cli_next: help printed or usage error reported; return cl.status. */
#define CLI_STOP (-2)

/* The next option (its val, optarg set as getopt_long sets it), -1 after
 * the last one (operands from optind on), or CLI_STOP after printing the
 * help (status EXIT_VALID) or a one-line usage error (status EXIT_USAGE)
 * for an unknown option or a missing value. */
int cli_next(cli *c, int argc, char **argv);
/* optarg as a whole decimal number in min..max into *v; false after the
 * usage error "--threads wants a number from 1 to 256, not 'x'". */
bool cli_u64(cli *c, uint64_t min, uint64_t max, uint64_t *v);
/* Prints "utxo: CMD: <message> (see 'utxo CMD --help')" on stderr, one
 * line, and returns EXIT_USAGE. */
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The val of the numeric options of a num_opt table in the getopt_long
 * table: {"blocks", required_argument, NULL, CLI_NUM}. */
#define CLI_NUM 0x2000
/* cli_next returned CLI_NUM: parses optarg into the entry of opts[0..n)
 * named c->opt ("--blocks"), marks it set and returns true; false after the
 * usage error "--blocks wants a number from MIN to MAX, not 'x'" (a refused
 * value leaves *v and set as they were) or when none is named so. */
bool cli_num(cli *c, num_opt *opts, size_t n);
/* The whole command line of a command whose options are all numeric
 * (nums[0..n)) and that takes min..max operands (what names them): -1 to
 * go on, or the exit status to return (--help, a usage error). */
int cli_nums_only(cli *c, int argc, char **argv, num_opt *nums, size_t n, int min, int max,
                  const char *what);
/* usage_error unless argv[optind..argc) holds min..max operands. */
int cli_operands(const cli *c, int argc, char **argv, int min, int max, const char *what);

/* A command made of subcommands (`predicate build`, `bench vm`...). */
typedef struct cli_sub {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *summary;               /* one line for the list */
} cli_sub;

/* Runs the subcommand argv[1] of cmd: `cmd --help` (or -h, help) prints
 * help on stdout and returns EXIT_VALID; a missing or unknown one is a
 * usage error. */
int cli_dispatch(const char *cmd, void (*help)(FILE *f), const cli_sub *subs, size_t n, int argc,
                 char **argv);
/* The list of subcommands under a header ("subcommands:"), one
 * "  NAME  summary" line each: `utxo CMD --help` prints it and
 * tests/cli_help.sh enumerates the commands from it. */
void cli_list(FILE *f, const char *header, const cli_sub *subs, size_t n);

/* ---- stopping a long command at a boundary (SIGINT, SIGTERM, SIGHUP) ----
 *
 * A command that must not leave half its output (demo, gen) catches the
 * three with stop_signals_catch(); the handler only notes the signal. Its
 * callbacks poll stop_signal() and stop the run at the next block; once
 * it has removed what it wrote, it ends with stop_signal_die(), dying of
 * the signal as the shell expects of an interrupted command. */
void stop_signals_catch(void);
/* Sets handler (with sigaction flags) for SIGINT, SIGTERM and SIGHUP; with
 * keep_ignored, a signal ignored when the process started (nohup, a
 * background job) stays so. */
void signals_catch(void (*handler)(int), int flags, bool keep_ignored);
/* The signal caught, 0 when none was. */
int stop_signal(void);
/* Dies of the caught signal (default action); returns 128 + the signal
 * in case it does not kill. */
int stop_signal_die(void);

/* The peak resident memory (Linux VmHWM) of process pid (0: this one) in
 * KiB; 0 when it cannot be read. */
uint64_t proc_peak_rss_kib(long pid);

/* Makes a fresh scratch directory $TMPDIR/NAME.XXXXXX (TMPDIR unset or
 * empty: /tmp) with mkdtemp, its path into out[0..n). 0, or -1 after a
 * message "WHO: cannot create a directory under T: why". */
int scratch_dir(char *out, size_t n, const char *who, const char *name);

/*
 * Takes flock(2) on DIR/.lock, exclusive or shared, without waiting, for a
 * command that writes DIR: the descriptor to keep open while it writes;
 * -1 after a message "WHO: DIR: another process is writing there (DIR/.lock
 * is locked)" or naming why DIR/.lock cannot be opened; -2 when the file
 * system has no locks, or there is no DIR (nothing is refused there).
 */
int dir_lock(const char *who, const char *dir, bool exclusive);

#endif /* UTXO_TOOLS_UTIL_H */
