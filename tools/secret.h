/*
 * secret.h — reading secrets (passphrases, seeds) for the utxo command:
 * from a file descriptor, from a file, or from the terminal with echo off.
 * Never from the command line, where other users can read them (ps,
 * /proc/PID/cmdline). Every string returned is sodium_malloc'd (guarded,
 * wiped on free): release it with secret_free.
 */
#ifndef UTXO_TOOLS_SECRET_H
#define UTXO_TOOLS_SECRET_H

#include <stdbool.h>

/* The longest secret line read (bytes, newline excluded). */
#define SECRET_MAX_LINE 1024

/* The first line of what fd holds (read up to the first newline or end of
 * file; the newline and a CR before it are dropped), into *out. Returns 0,
 * or -1 after a message naming what (e.g. "--passphrase-fd 3"): also for a
 * NUL byte in the line, where a C string would end and hide the rest. */
int secret_read_fd(int fd, const char *what, char **out);
/* The first line of the file at path. */
int secret_read_file(const char *path, char **out);
/* True when the process has a controlling terminal to ask on. */
bool secret_have_tty(void);
/* Prints prompt on the terminal (/dev/tty) and reads one line with echo
 * off (restored afterwards, also on SIGINT/SIGTERM/SIGHUP). Returns 0, or
 * -1 after a message when there is no terminal or reading fails. */
int secret_read_tty(const char *prompt, char **out);
/* Asks question on the terminal; true for an answer starting with y or Y. */
bool secret_confirm_tty(const char *question);
/* Wipes and frees s; NULL is a no-op. */
void secret_free(char *s);

#endif /* UTXO_TOOLS_SECRET_H */
