/*
 * atomicfile.c — whole-file replacement: temporary file in the same
 * directory, fsync, rename, fsync of the directory (atomicfile.h). The
 * rename is what makes the switch atomic on POSIX file systems; the two
 * syncs make it durable (content before the name, the name before we
 * report success).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "utxo/atomicfile.h"
#include "utxo/common.h"

static atomic_uint afile_counter;

/* The temporary files open now, for afile_unlink_pending: a slot is free
 * (0), being filled (1) or holds a path (2). Fixed storage: a signal
 * handler reads it, so nothing here is allocated or freed. A file begun
 * while every slot is taken is not listed (a signal then leaves it). */
#define PENDING_SLOTS 32
#define PENDING_PATH 4096
static atomic_int pending_state[PENDING_SLOTS];
static char pending_path[PENDING_SLOTS][PENDING_PATH];

static int pending_add(const char *tmp)
{
    size_t n = strlen(tmp);

    if (n >= PENDING_PATH)
        return 0;
    for (int i = 0; i < PENDING_SLOTS; i++) {
        int free_slot = 0;
        if (atomic_compare_exchange_strong(&pending_state[i], &free_slot, 1)) {
            memcpy(pending_path[i], tmp, n + 1);
            atomic_store(&pending_state[i], 2);
            return i + 1;
        }
    }
    return 0;
}

void afile_unlink_pending(void)
{
    for (int i = 0; i < PENDING_SLOTS; i++)
        if (atomic_load(&pending_state[i]) == 2)
            (void)unlink(pending_path[i]);
}

/* The pid of a temporary file's name: rest is what follows "<base>.tmp.",
 * "<pid>.<n>" in decimal; 0 when it is not that. */
static long tmp_pid(const char *rest)
{
    char *end;
    long pid;

    if (*rest < '0' || *rest > '9')
        return 0;
    pid = strtol(rest, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9')
        return 0;
    (void)strtoul(end + 1, &end, 10);
    return *end == '\0' && pid > 0 ? pid : 0;
}

size_t afile_sweep(const char *path)
{
    const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
    char *dir = slash == NULL ? strdup(".") : slash == path ? strdup("/")
                                                            : strndup(path, (size_t)(slash - path));
    size_t n = strlen(base), gone = 0;
    struct dirent *e;
    DIR *d;

    if (dir == NULL || (d = opendir(dir)) == NULL) {
        free(dir);
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        long pid;
        if (strncmp(e->d_name, base, n) != 0 || strncmp(e->d_name + n, ".tmp.", 5) != 0 ||
            (pid = tmp_pid(e->d_name + n + 5)) == 0)
            continue;
        /* a live process's file (its rename may come), and ours, stay */
        bool alive = pid <= INT_MAX && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
        if (alive || pid == (long)getpid())
            continue;
        char *full = malloc(strlen(dir) + strlen(e->d_name) + 2);
        if (full == NULL)
            break;
        sprintf(full, "%s/%s", dir, e->d_name);
        if (unlink(full) == 0)
            gone++;
        free(full);
    }
    closedir(d);
    free(dir);
    return gone;
}

/* Records the first failure (errno and step); returns UTXO_ERR_IO. */
static int afile_fail(afile *a, const char *what)
{
    if (!a->failed) {
        a->failed = true;
        a->err = errno != 0 ? errno : EIO;
        a->what = what;
    }
    return UTXO_ERR_IO;
}

static void afile_release(afile *a)
{
    if (a->slot > 0)
        atomic_store(&pending_state[a->slot - 1], 0);
    a->slot = 0;
    free(a->path);
    free(a->tmp);
    a->path = a->tmp = NULL;
    a->fp = NULL;
}

/* A device or FIFO at path (stat said so): opened for writing in place. */
static int afile_begin_direct(afile *a, const char *path)
{
    int fd, e;

    a->direct = true;
    if ((a->path = strdup(path)) == NULL)
        return UTXO_ERR_NOMEM;
    if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 || (a->fp = fdopen(fd, "wb")) == NULL) {
        e = errno;
        if (fd >= 0)
            close(fd);
        a->what = "open";
        afile_release(a);
        errno = e;
        return UTXO_ERR_IO;
    }
    return UTXO_OK;
}

/* afile_begin, afile_begin_mode: force 0 keeps an existing file's mode */
static int afile_begin_as(afile *a, const char *path, mode_t force)
{
    struct stat sb, lsb;
    mode_t mode = force ? force : 0666; /* else the umask applies, as for fopen(path, "w") */
    size_t n;
    int fd;

    memset(a, 0, sizeof *a);
    if (path == NULL || path[0] == '\0') {
        errno = EINVAL;
        return UTXO_ERR_ARG;
    }
    if (stat(path, &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            errno = EISDIR;
            a->what = "create";
            return UTXO_ERR_IO;
        }
        if (!S_ISREG(sb.st_mode))
            return afile_begin_direct(a, path);
        if (force == 0)
            mode = sb.st_mode & 07777;
        /* a link to a regular file: replace the file it names, keep the link */
        if (lstat(path, &lsb) == 0 && S_ISLNK(lsb.st_mode))
            a->path = realpath(path, NULL);
    }
    if (a->path == NULL && (a->path = strdup(path)) == NULL)
        return UTXO_ERR_NOMEM;
    path = a->path;
    n = strlen(path) + 48;
    if ((a->tmp = malloc(n)) == NULL) {
        afile_release(a);
        return UTXO_ERR_NOMEM;
    }
    snprintf(a->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(),
             atomic_fetch_add(&afile_counter, 1u));
    fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0)
        a->slot = pending_add(a->tmp);
    if (fd < 0) {
        int e = errno;
        a->what = "create";
        afile_release(a);
        errno = e;
        return UTXO_ERR_IO;
    }
    /* an existing file keeps its mode even under a stricter umask; a
     * forced one is exact */
    if (force != 0 || stat(path, &sb) == 0)
        (void)fchmod(fd, mode);
    if ((a->fp = fdopen(fd, "wb")) == NULL) {
        int e = errno;
        close(fd);
        unlink(a->tmp);
        a->what = "create";
        afile_release(a);
        errno = e;
        return UTXO_ERR_IO;
    }
    return UTXO_OK;
}

int afile_begin(afile *a, const char *path)
{
    return afile_begin_as(a, path, 0);
}

int afile_begin_mode(afile *a, const char *path, mode_t mode)
{
    return afile_begin_as(a, path, mode & 07777 ? mode & 07777 : 0600);
}

int afile_write(afile *a, const void *p, size_t n)
{
    if (a->fp == NULL)
        return UTXO_ERR_ARG;
    if (a->failed)
        return UTXO_ERR_IO;
    if (n > 0 && fwrite(p, 1, n, a->fp) != n)
        return afile_fail(a, "write");
    return UTXO_OK;
}

/* fsync of the directory holding path, so that a rename into it lasts. */
static int sync_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd, rc = 0;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return -1;
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    if (fd < 0)
        return -1;
    /* some file systems cannot sync a directory: that is no failure */
    if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
        rc = -1;
    close(fd);
    return rc;
}

int afile_install(const char *tmp, const char *path, const char **what)
{
    int fd = open(tmp, O_RDONLY | O_CLOEXEC), e;

    *what = "sync";
    if (fd < 0)
        return -1;
    if (fsync(fd) != 0) {
        e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    *what = "rename";
    if (rename(tmp, path) != 0)
        return -1;
    *what = "sync directory";
    return sync_dir(path);
}

int afile_commit(afile *a)
{
    int rc = UTXO_OK, e;

    if (a->fp == NULL) {
        afile_release(a);
        errno = EINVAL;
        return UTXO_ERR_ARG;
    }
    if (!a->failed && fflush(a->fp) != 0)
        afile_fail(a, "write");
    /* a device or a pipe may not sync (EINVAL): written is all it can be */
    if (!a->failed && fsync(fileno(a->fp)) != 0 && !(a->direct && errno == EINVAL))
        afile_fail(a, "sync");
    if (fclose(a->fp) != 0 && !a->failed)
        afile_fail(a, "write");
    a->fp = NULL;
    if (a->direct) {
        rc = a->failed ? UTXO_ERR_IO : UTXO_OK;
        e = a->err;
        afile_release(a);
        if (rc != UTXO_OK)
            errno = e;
        return rc;
    }
    if (!a->failed && rename(a->tmp, a->path) != 0)
        afile_fail(a, "rename");
    if (a->failed) {
        unlink(a->tmp);
        rc = UTXO_ERR_IO;
    } else if (sync_dir(a->path) != 0) {
        /* renamed already: the new content is in place but may not survive
         * a crash; still a failure to report */
        afile_fail(a, "sync directory");
        rc = UTXO_ERR_IO;
    }
    e = a->err;
    afile_release(a);
    if (rc != UTXO_OK)
        errno = e;
    return rc;
}

void afile_abort(afile *a)
{
    int e = errno;

    if (a->fp != NULL) {
        fclose(a->fp);
        a->fp = NULL;
    }
    if (a->tmp != NULL)
        unlink(a->tmp);
    afile_release(a);
    errno = e;
}

const char *afile_what(const afile *a)
{
    return a->what != NULL ? a->what : "write";
}

const char *afile_errtext(int e)
{
    switch (e) {
    case EROFS:
        return "read-only file system";
    case EACCES:
    case EPERM:
        return "permission denied";
    case ENOSPC:
        return "no space left on device (disk full)";
#ifdef EDQUOT
    case EDQUOT:
        return "disk quota exceeded";
#endif
    case EFBIG:
        return "file too large (the file size limit is reached)";
    case ENOENT:
        return "no such file or directory";
    default:
        return strerror(e);
    }
}

int afile_write_all(const char *path, const void *buf, size_t len)
{
    afile a;
    int rc = afile_begin(&a, path);

    if (rc != UTXO_OK)
        return rc;
    (void)afile_write(&a, buf, len);
    return afile_commit(&a);
}

int afile_write_fd(int fd, const void *p, size_t n)
{
    const unsigned char *q = p;

    while (n > 0) {
        ssize_t w = write(fd, q, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        q += w;
        n -= (size_t)w;
    }
    return 0;
}
