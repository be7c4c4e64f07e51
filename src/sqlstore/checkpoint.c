/*
 * checkpoint.c — WAL checkpoints off the block path.
 *
 * In WAL mode every committed page is written twice: appended to the WAL at
 * COMMIT, then copied into the database by a checkpoint. SQLite's automatic
 * checkpoint runs inside the COMMIT that crosses 1000 WAL pages, on the
 * writer's thread, so every sixteenth block or so paid for the copy and its
 * fsync while the next block waited. Here a writable store turns the
 * automatic checkpoint off and runs PASSIVE checkpoints on a thread of its
 * own with a second connection: a PASSIVE checkpoint copies what no reader
 * still needs and never blocks the writer. The writer's WAL hook wakes the
 * thread once the WAL holds STORE_CKPT_PAGES pages; if the WAL ever grows
 * past STORE_CKPT_FORCE pages (the thread cannot keep up, or a reader pins
 * old pages), the writer checkpoints itself as SQLite would; that
 * checkpoint finds most pages already copied, completes, and lets the next
 * transaction restart the WAL from its beginning. So during a long replay
 * the WAL file grows to about 16 MiB (1000 of the store's 16 KiB pages) and
 * is reused from there (a writer that restarted it more often paid most of
 * the copy again: measured).
 * Checkpoints are crash-safe: a kill at any moment leaves the WAL and the
 * database as SQLite's recovery expects.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include "sqlstore/store_int.h"

#define STORE_CKPT_PAGES 1000
#define STORE_CKPT_FORCE 16000

struct store_ckpt {
    sqlite3 *db;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool requested, stopping;
};

static void *ckpt_main(void *arg)
{
    store_ckpt *c = arg;

    pthread_mutex_lock(&c->mu);
    for (;;) {
        while (!c->requested && !c->stopping)
            pthread_cond_wait(&c->cv, &c->mu);
        if (c->stopping)
            break;
        c->requested = false;
        pthread_mutex_unlock(&c->mu);
        (void)sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

/* Called by SQLite after each commit on the writer's connection. */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    store_ckpt *c = arg;

    if (pages >= STORE_CKPT_FORCE) {
        (void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= STORE_CKPT_PAGES) {
        pthread_mutex_lock(&c->mu);
        c->requested = true;
        pthread_cond_signal(&c->cv);
        pthread_mutex_unlock(&c->mu);
    }
    return SQLITE_OK;
}

int store_ckpt_start(utxo_store *s, const char *path)
{
    store_ckpt *c = calloc(1, sizeof *c);

    if (c == NULL)
        return UTXO_ERR_NOMEM;
    if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return store_fail(s, UTXO_ERR_IO, "open the checkpoint connection");
    }
    /* A connection opens the WAL at its first read, and SQLite (3.40) checkpoints
     * nothing, returning SQLITE_OK, on a connection that has not opened it: so
     * read once here. Without this read the thread's checkpoints did nothing,
     * and the WAL grew to the writer's own checkpoint at 16,000 pages (256 MiB).
     * A read that fails: no thread, SQLite's automatic checkpoint stays on. */
    if (sqlite3_exec(c->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close(c->db);
        free(c);
        return UTXO_OK;
    }
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    if (pthread_create(&c->tid, NULL, ckpt_main, c) != 0) {
        /* no thread: SQLite's automatic checkpoint stays on */
        pthread_mutex_destroy(&c->mu);
        pthread_cond_destroy(&c->cv);
        sqlite3_close(c->db);
        free(c);
        return UTXO_OK;
    }
    s->ckpt = c;
    sqlite3_wal_hook(s->db, wal_hook, c);
    return UTXO_OK;
}

void store_ckpt_stop(utxo_store *s)
{
    store_ckpt *c = s->ckpt;

    if (c == NULL)
        return;
    sqlite3_wal_hook(s->db, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stopping = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->tid, NULL);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    sqlite3_close(c->db);
    free(c);
    s->ckpt = NULL;
}
