#!/bin/sh
# store_faults.sh — the store under a second writer and under file-system
# faults:
#  - the writer lock: while one `utxo replay` holds a store (fed through a
#    FIFO, so it stays open), a second replay exits 2 with "store busy (held
#    by pid N)", N the holder's pid, and changes nothing; readers (utxos,
#    prove, check) keep working meanwhile; once the holder is gone a writer
#    opens again;
#  - disk full: a replay under a file size limit (ulimit -f, SIGXFSZ
#    ignored) stops with exit 2 saying so (not "rejected", not "corrupt",
#    naming the group of blocks whose commit failed),
#    the store is sound at a block boundary, and the next replay resumes to
#    the same store as an uninterrupted one; on a small tmpfs (where mount
#    works) the same with "no space left on device";
#  - a read-only file system (a tmpfs remounted read-only, where mount
#    works) and a directory without write permission (as an unprivileged
#    user: directly, or through setpriv when the test runs as root): a
#    writer exits 2 naming the reason; read-only commands work on a store
#    whose write-ahead log is empty; with committed blocks in the log
#    (a hot WAL) they exit 2 saying exactly that instead of SQLite's
#    "unable to open database file";
#  - outputs (here `predicate std -o`) are written to a temporary file and
#    renamed: past the file size limit the previous file stays as it was.
# A sub-case that this machine cannot set up is reported with its reason.
set -u
. "${top_srcdir:-.}/tests/lib.sh"
MKCHAIN="${top_builddir:-.}/tests/mkchain"
SQL="${top_builddir:-.}/tests/store_sql"
DUMP="${top_builddir:-.}/tests/store_dump"
UTXO=$(cd "$(dirname "$UTXO")" && pwd)/$(basename "$UTXO")
mnt=""
cleanup() {
    [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
    [ -n "${hold:-}" ] && kill "$hold" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 60 12 11 || { echo "mkchain failed" >&2; exit 1; }
expect 0 "reference replay" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/ref.db" --quiet
grep '^accumulator digest' "$tmp/out" >"$tmp/ref.digest"
"$UTXO" utxos --db "$tmp/ref.db" --summary >"$tmp/ref.summary"

# ---- the writer lock --------------------------------------------------------
mkfifo "$tmp/fifo"
"$UTXO" replay "$tmp/fifo" --db "$tmp/w.db" --quiet >"$tmp/w.out" 2>"$tmp/w.err" &
wpid=$!
hold=""
exec 3>"$tmp/fifo"
cat "$tmp/c.blocks" >&3
# the holder has applied every block and waits for more input, lock held
i=0
while [ $i -lt 400 ]; do
    if [ "$(cat "$tmp/w.db.lock" 2>/dev/null)" = "$wpid" ] &&
       "$UTXO" utxos --db "$tmp/w.db" --summary 2>/dev/null | cmp -s - "$tmp/ref.summary"; then
        break
    fi
    sleep 0.05
    i=$((i + 1))
done
[ $i -lt 400 ] && ok || bad "the holding replay did not get to its tip (lock file: $(cat "$tmp/w.db.lock" 2>/dev/null))"
# the holder at rest: two dumps a moment apart agree (it may still be
# finishing its last block's writes when the summary first matches)
"$DUMP" "$tmp/w.db" >"$tmp/w.before"
i=0
while [ $i -lt 100 ]; do
    sleep 0.1
    "$DUMP" "$tmp/w.db" >"$tmp/w.again"
    cmp -s "$tmp/w.before" "$tmp/w.again" && break
    mv "$tmp/w.again" "$tmp/w.before"
    i=$((i + 1))
done
expect 2 "a second writer" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/w.db" --quiet
grep -q "store busy (held by pid $wpid)" "$tmp/err" && ok || bad "second writer message: $(cat "$tmp/err")"
expect 2 "a second writer (rollback)" -- "$UTXO" rollback --db "$tmp/w.db" --to 3
grep -q "store busy (held by pid $wpid)" "$tmp/err" && ok || bad "rollback message: $(cat "$tmp/err")"
"$DUMP" "$tmp/w.db" >"$tmp/w.after"
cmp -s "$tmp/w.before" "$tmp/w.after" && ok || bad "the refused writers changed the store"
# readers meanwhile
expect 0 "utxos beside the writer" -- "$UTXO" utxos --db "$tmp/w.db" --summary
expect 0 "prove beside the writer" -- "$UTXO" prove --db "$tmp/w.db" -o "$tmp/w.proofs"
cmp -s "$tmp/w.proofs" "$tmp/c.proofs" && ok || bad "prove beside the writer differs"
expect 0 "check beside the writer" -- "$UTXO" check --db "$tmp/w.db"
exec 3>&-
reap "$wpid" 60 "the holding replay after the end of its FIFO"
[ $? -eq 0 ] && ok || bad "the holding replay failed: $(cat "$tmp/w.err")"
expect 0 "a writer after the holder is gone" -- "$UTXO" rollback --db "$tmp/w.db" --to 20

# a writer of a store that does not exist leaves nothing behind
expect 2 "rollback of a missing store" -- "$UTXO" rollback --db "$tmp/missing.db" --to 1
grep -q "missing.db: no such file or directory" "$tmp/err" && ok || bad "missing store message: $(cat "$tmp/err")"
[ -e "$tmp/missing.db.lock" ] && bad "a lock file was left beside a missing store" || ok

# a creation killed part way (SIGXFSZ at a file size limit below the new
# schema's size, not ignored): no store is left, not part of one (before,
# a file with the first page, and a log or a hot journal that a read-only
# open could not roll back); the next writer creates the store whole
(
    ulimit -f 64   # 32 KiB in 512-byte blocks: the empty schema takes more
    exec "$UTXO" replay "$tmp/c.blocks" --db "$tmp/k.db" --quiet
) >/dev/null 2>&1
[ -e "$tmp/k.db" ] && bad "a creation killed part way left $tmp/k.db: $(ls -l "$tmp"/k.db*)" || ok
expect 2 "prove of a store whose creation was killed" -- "$UTXO" prove --db "$tmp/k.db" -o "$tmp/k.proofs"
grep -q "k.db: no such file or directory" "$tmp/err" && ok || bad "the killed creation: $(cat "$tmp/err")"
expect 0 "a writer after a killed creation" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/k.db" --quiet
grep '^accumulator digest' "$tmp/out" | cmp -s - "$tmp/ref.digest" && ok || bad "the store after a killed creation differs"
ls "$tmp"/k.db.new* >/dev/null 2>&1 && bad "the killed creation's files are still there" || ok

# ---- disk full: a file size limit ------------------------------------------
(
    trap '' XFSZ
    ulimit -f 1000   # 512-byte blocks in sh (dash): the replay stops part way
    exec "$UTXO" replay "$tmp/c.blocks" --db "$tmp/f.db" --quiet
) >"$tmp/out" 2>"$tmp/err"
got=$?
[ $got -eq 2 ] && ok || bad "replay past the file size limit: exit $got, wanted 2"
grep -q "not applied: .*file too large" "$tmp/err" && ok || bad "file size limit message: $(cat "$tmp/err")"
# the group of blocks the failed commit lost is named (the store is at the one before)
grep -Eq "blocks? [0-9]+(-[0-9]+)? (was|were) not committed" "$tmp/err" && ok ||
    bad "the lost group is not named: $(cat "$tmp/err")"
grep -qi "corrupt\|rejected" "$tmp/err" && bad "a full disk was called corrupt/rejected: $(cat "$tmp/err")" || ok
expect 0 "the store after the limit is sound" -- "$UTXO" check --db "$tmp/f.db"
grep -q "sound: 60 blocks" "$tmp/out" && bad "the size limit did not stop the replay (make the chain larger)" || ok
expect 0 "resume after the limit" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/f.db" --quiet
grep '^accumulator digest' "$tmp/out" | cmp -s - "$tmp/ref.digest" && ok || bad "resumed store differs"
expect 0 "resumed store checks" -- "$UTXO" check --db "$tmp/f.db"

# ---- tmpfs: disk full and a read-only file system (needs mount) --------------
mkdir "$tmp/m"
if mount -t tmpfs -o size=256k tmpfs "$tmp/m" 2>/dev/null; then
    mnt="$tmp/m"
    expect 2 "replay on a full tmpfs" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/m/s.db" --quiet
    grep -q "no space left on device (disk full)" "$tmp/err" && ok || bad "disk full message: $(cat "$tmp/err")"
    expect 0 "the store on the full tmpfs is sound" -- "$UTXO" check --db "$tmp/m/s.db"
    # read-only: a store with an empty log, and one with a hot log
    rm -f "$tmp/m/"*
    mount -o remount,size=16m "$tmp/m"
    cp "$tmp/ref.db" "$tmp/m/r.db"
    "$SQL" "$tmp/m/r.db" exec "PRAGMA wal_checkpoint(TRUNCATE)"
    rm -f "$tmp/m/r.db-wal" "$tmp/m/r.db-shm"
    mount -o remount,ro "$tmp/m"
    expect 0 "utxos on a read-only file system" -- "$UTXO" utxos --db "$tmp/m/r.db" --summary
    cmp -s "$tmp/out" "$tmp/ref.summary" && ok || bad "utxos on a read-only file system differ"
    expect 0 "prove on a read-only file system" -- "$UTXO" prove --db "$tmp/m/r.db" -o "$tmp/r.proofs"
    expect 0 "check on a read-only file system" -- "$UTXO" check --db "$tmp/m/r.db"
    expect 2 "replay on a read-only file system" -- "$UTXO" replay "$tmp/c.blocks" --db "$tmp/m/r.db" --quiet
    grep -q "read-only file system" "$tmp/err" && ok || bad "read-only writer message: $(cat "$tmp/err")"
    umount "$tmp/m" && mnt=""
else
    echo "store_faults: tmpfs sub-cases (ENOSPC, EROFS) not run: mount is not permitted here" >&2
fi

# ---- a directory without write permission ------------------------------------
# the hot log: a store whose last blocks are still in its WAL
mkdir "$tmp/p" && chmod 755 "$tmp"
cp "$tmp/ref.db" "$tmp/p/h.db"
"$SQL" "$tmp/p/h.db" exec "PRAGMA wal_checkpoint(TRUNCATE)"
rm -f "$tmp/p/h.db-wal" "$tmp/p/h.db-shm"
cp "$tmp/p/h.db" "$tmp/p/e.db"
# a writer that stopped before its checkpoint leaves committed pages in h.db-wal
"$SQL" "$tmp/p/h.db" exec-hot "CREATE TABLE t(x); DROP TABLE t" || bad "hot log"
[ -s "$tmp/p/h.db-wal" ] && ok || bad "no hot log was made"
rm -f "$tmp/p/h.db-shm" "$tmp/p/"*.lock
chmod 644 "$tmp/p/"*
chmod 555 "$tmp/p"
runner=""
if [ "$(id -u)" != 0 ]; then
    runner="direct"
elif setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
    runner="setpriv"
fi
as_user() {
    if [ "$runner" = setpriv ]; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$@"
    else
        "$@"
    fi
}
if [ -n "$runner" ]; then
    expect 0 "utxos in a read-only directory" -- as_user "$UTXO" utxos --db "$tmp/p/e.db" --summary
    cmp -s "$tmp/out" "$tmp/ref.summary" && ok || bad "utxos in a read-only directory differ"
    expect 2 "utxos with a hot log in a read-only directory" -- as_user "$UTXO" utxos --db "$tmp/p/h.db" --summary
    grep -q "write-ahead log .*h.db-wal .* holds committed blocks.*permission denied" "$tmp/err" && ok ||
        bad "hot log message: $(cat "$tmp/err")"
    expect 2 "replay in a read-only directory" -- as_user "$UTXO" replay "$tmp/c.blocks" --db "$tmp/p/e.db" --quiet
    grep -q "permission denied" "$tmp/err" && ok || bad "permission message: $(cat "$tmp/err")"
    expect 2 "prove into a read-only directory" -- as_user "$UTXO" prove --db "$tmp/p/e.db" -o "$tmp/p/x.proofs"
    grep -qi "cannot create .*x.proofs: permission denied" "$tmp/err" && ok || bad "prove output message: $(cat "$tmp/err")"
else
    echo "store_faults: permission sub-cases not run: running as root without setpriv (root ignores permission bits)" >&2
fi
chmod 755 "$tmp/p"
# the same hot log where it can be written: read-only commands fold it in
expect 0 "utxos with a hot log, writable directory" -- "$UTXO" utxos --db "$tmp/p/h.db" --summary

# ---- outputs written atomically: a failed write keeps the previous file ------
pk=$(printf '%064d' 7)
echo "the previous file" >"$tmp/prev.img"
# (no file may grow under `ulimit -f 0`, so the messages go through a pipe)
got=$( { (
    trap '' XFSZ
    ulimit -f 0
    "$UTXO" predicate std p2pk "$pk" -o "$tmp/prev.img" 2>&1 >/dev/null
    echo $? >&3
) | cat >"$tmp/err"; } 3>&1 )
[ $got -eq 2 ] && ok || bad "an output past the file size limit: exit $got, wanted 2"
grep -q "cannot write .*prev.img.*file too large" "$tmp/err" && ok || bad "output message: $(cat "$tmp/err")"
[ "$(cat "$tmp/prev.img")" = "the previous file" ] && ok || bad "a failed write changed the previous file"
ls "$tmp"/prev.img.* >/dev/null 2>&1 && bad "a temporary file was left behind" || ok
expect 0 "the same output with room" -- "$UTXO" predicate std p2pk "$pk" -o "$tmp/prev.img"
[ "$(cat "$tmp/prev.img")" != "the previous file" ] && ok || bad "the output was not replaced"

echo "store_faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
