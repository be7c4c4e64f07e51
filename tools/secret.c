/*
 * secret.c — passphrases and seeds read from a file descriptor, a file or
 * the terminal without echo (secret.h). The terminal is /dev/tty, not
 * stdin, so a secret is asked for even when stdin or stdout is redirected,
 * and echo is switched off before the prompt is shown, so nothing typed
 * after the prompt can be echoed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>
#include "secret.h"
#include "util.h"

void secret_free(char *s)
{
    if (s != NULL)
        sodium_free(s); /* wipes */
}

/* Reads up to the first newline into a new guarded buffer; a NUL byte is
 * refused. */
static int read_line(int fd, const char *what, char **out)
{
    char *buf = sodium_malloc(SECRET_MAX_LINE + 1), c;
    size_t n = 0;
    ssize_t r;

    *out = NULL;
    if (buf == NULL) {
        errorf("%s: out of memory", what);
        return -1;
    }
    for (;;) {
        r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            errorf("%s: %s", what, strerror(errno));
            goto fail;
        }
        if (r == 0 || c == '\n')
            break;
        if (c == '\0') { /* the secret is used as a C string: it would end here */
            errorf("%s: a NUL byte in the line", what);
            goto fail;
        }
        if (n == SECRET_MAX_LINE) {
            errorf("%s: longer than %d bytes", what, SECRET_MAX_LINE);
            goto fail;
        }
        buf[n++] = c;
    }
    if (n > 0 && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    *out = buf;
    return 0;
fail:
    sodium_free(buf);
    return -1;
}

int secret_read_fd(int fd, const char *what, char **out)
{
    *out = NULL;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) {
        errorf("%s: not an open file descriptor", what);
        return -1;
    }
    return read_line(fd, what, out);
}

int secret_read_file(const char *path, char **out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    *out = NULL;
    if (fd < 0) {
        errorf("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    rc = read_line(fd, path, out);
    close(fd);
    return rc;
}

bool secret_have_tty(void)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);

    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* The terminal's settings while echo is off, for the signal handler. */
static int tty_fd = -1;
static struct termios tty_saved;

static void restore_and_die(int sig)
{
    if (tty_fd >= 0)
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved); /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void say(int fd, const char *s)
{
    size_t n = strlen(s);

    while (n > 0) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

int secret_read_tty(const char *prompt, char **out)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, old[3];
    struct termios t;
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC), rc;

    *out = NULL;
    if (fd < 0) {
        errorf("no terminal to ask on (/dev/tty: %s)", strerror(errno));
        return -1;
    }
    if (tcgetattr(fd, &tty_saved) != 0) {
        errorf("the terminal: %s", strerror(errno));
        close(fd);
        return -1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = restore_and_die;
    sigemptyset(&sa.sa_mask);
    tty_fd = fd;
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &sa, &old[i]);
    t = tty_saved;
    t.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK | ECHONL);
    t.c_lflag |= ICANON;
    if (tcsetattr(fd, TCSAFLUSH, &t) != 0) {
        errorf("cannot switch the terminal's echo off: %s", strerror(errno));
        rc = -1;
    } else {
        say(fd, prompt);
        rc = read_line(fd, "the terminal", out);
        say(fd, "\n");
        tcsetattr(fd, TCSAFLUSH, &tty_saved);
    }
    for (int i = 0; i < 3; i++)
        sigaction(sigs[i], &old[i], NULL);
    tty_fd = -1;
    close(fd);
    return rc;
}

bool secret_confirm_tty(const char *question)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    char *line = NULL;
    bool yes;

    if (fd < 0)
        return false;
    say(fd, question);
    yes = read_line(fd, "the terminal", &line) == 0 && (line[0] == 'y' || line[0] == 'Y');
    secret_free(line);
    close(fd);
    return yes;
}
