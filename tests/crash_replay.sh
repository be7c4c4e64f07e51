#!/bin/sh
# crash_replay.sh — kill -9 of `utxo replay` at random moments (a real
# SIGKILL of the child process, at least 20 times while it is working):
# after every kill the store must reopen (the open checks that the forest,
# the recorded accumulator and the tip header's digest agree), hold a prefix
# of the chain (its proof bundles are the first records of the
# uninterrupted run's proof file) and equal a fresh replay to its tip height
# (UTXO list, and every table row): a block boundary. Then the replay must
# resume from there. The final store must equal an uninterrupted replay:
# same UTXO set, accumulator digest (the forest roots), proof bundles, and
# every table row. Last, kill -9 of a rollback: the store is either
# untouched or fully rolled back.
set -u
UTXO="${top_builddir:-.}/utxo"
MKCHAIN="${top_builddir:-.}/tests/mkchain"
DUMP="${top_builddir:-.}/tests/store_dump"
KILLS=${CRASH_KILLS:-24}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/crash_replay.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$MKCHAIN" "$tmp/c.blocks" "$tmp/c.proofs" 120 40 5 || fail "mkchain"
"$UTXO" replay "$tmp/c.blocks" --db "$tmp/ref.db" --quiet --threads 2 >"$tmp/ref.out" || fail "reference replay"
"$UTXO" prove --db "$tmp/ref.db" -o "$tmp/ref.proofs" >/dev/null || fail "reference prove"
"$UTXO" utxos --db "$tmp/ref.db" >"$tmp/ref.utxos" || fail "reference utxos"
cmp -s "$tmp/ref.proofs" "$tmp/c.proofs" || fail "store bundles differ from the chain builder's"
last=$(sed -n 's/^tip \([0-9]*\) .*/\1/p' "$tmp/ref.out")
[ "$last" = 119 ] || fail "reference tip is '$last'"

# every table row for row (tests/store_dump: one digest per table)
same_tables() {
    "$DUMP" "$1" >"$tmp/dump1" && "$DUMP" "$2" >"$tmp/dump2" || return 1
    cmp -s "$tmp/dump1" "$tmp/dump2" || { diff "$tmp/dump1" "$tmp/dump2" >&2; return 1; }
}

# a deterministic sequence of delays (10..89 ms)
seed=12345
next_delay() {
    seed=$(( (seed * 1103515245 + 12345) % 2147483648 ))
    echo $(( 10 + (seed / 65536) % 80 ))
}

kills=0
restarts=0
tips=""
while [ "$kills" -lt "$KILLS" ]; do
    "$UTXO" replay "$tmp/c.blocks" --db "$tmp/crash.db" --quiet --threads 2 >/dev/null 2>"$tmp/err" &
    pid=$!
    ms=$(next_delay)
    sleep "$(printf '0.%03d' "$ms")"
    if kill -9 "$pid" 2>/dev/null; then
        wait "$pid" 2>/dev/null
        st=$?
        # exit 137 = killed by SIGKILL; 0 = it finished just before the kill
        if [ "$st" -eq 137 ]; then kills=$((kills + 1)); fi
    else
        wait "$pid" 2>/dev/null
        st=$?
    fi
    [ "$st" -eq 0 ] || [ "$st" -eq 137 ] || { cat "$tmp/err" >&2; fail "replay exited $st"; }
    # reopen: consistency check at open; the store holds a prefix of the chain
    "$UTXO" prove --db "$tmp/crash.db" -o "$tmp/crash.proofs" >"$tmp/prove.out" 2>"$tmp/err" || {
        # a kill before the genesis block committed leaves a store with no
        # block; one before the schema committed leaves an empty file (SQLite
        # made it, nothing landed), and one before the file was made (the
        # writer lock comes first) leaves no file: all are "no block yet",
        # and the next replay starts from genesis
        grep -q -e "holds no block" -e "no store there (empty file)" \
            -e "crash.db: no such file or directory" "$tmp/err" ||
            { cat "$tmp/err" >&2; fail "store does not reopen after kill $kills"; }
        tips="$tips -"
        continue
    }
    size=$(wc -c <"$tmp/crash.proofs")
    cmp -s -n "$size" "$tmp/crash.proofs" "$tmp/ref.proofs" ||
        fail "after kill $kills the store's bundles are not a prefix of the chain's"
    tip=$(sed -n 's/.*blocks 0\.\.\([0-9]*\),.*/\1/p' "$tmp/prove.out")
    tips="$tips $tip"
    # the same as a fresh replay to that height, table by table
    rm -f "$tmp/at.db" "$tmp/at.db-wal" "$tmp/at.db-shm"
    "$UTXO" replay "$tmp/c.blocks" --db "$tmp/at.db" --quiet --to "$tip" >/dev/null || fail "replay to $tip"
    "$UTXO" utxos --db "$tmp/at.db" >"$tmp/at.utxos" || fail "utxos at $tip"
    "$UTXO" utxos --db "$tmp/crash.db" >"$tmp/crash.utxos" || fail "utxos after kill $kills"
    cmp -s "$tmp/at.utxos" "$tmp/crash.utxos" || fail "after kill $kills the UTXO set is not the one of height $tip"
    same_tables "$tmp/at.db" "$tmp/crash.db" || fail "after kill $kills a table differs from a replay to $tip"
    if [ "$tip" = "$last" ]; then
        # the replay finished between kills: start over so every kill can land mid-replay
        rm -f "$tmp/crash.db" "$tmp/crash.db-wal" "$tmp/crash.db-shm"
        restarts=$((restarts + 1))
    fi
done
echo "kills=$kills restarts=$restarts tips:$tips"

# resume to the end and compare with the uninterrupted run
"$UTXO" replay "$tmp/c.blocks" --db "$tmp/crash.db" --quiet --threads 2 >"$tmp/crash.out" || fail "final resume"
"$UTXO" prove --db "$tmp/crash.db" -o "$tmp/crash.proofs" >/dev/null || fail "final prove"
"$UTXO" utxos --db "$tmp/crash.db" >"$tmp/crash.utxos" || fail "final utxos"
cmp -s "$tmp/crash.proofs" "$tmp/ref.proofs" || fail "final proof bundles differ"
cmp -s "$tmp/crash.utxos" "$tmp/ref.utxos" || fail "final UTXO set differs"
grep '^accumulator digest' "$tmp/ref.out" >"$tmp/d1"
grep '^accumulator digest' "$tmp/crash.out" >"$tmp/d2"
cmp -s "$tmp/d1" "$tmp/d2" || fail "final accumulator digest (forest roots) differs"
same_tables "$tmp/ref.db" "$tmp/crash.db" || fail "a table differs from the uninterrupted replay"
echo "tables: identical"
[ "$kills" -ge 20 ] || fail "only $kills kills"

# kill -9 of a rollback (all blocks in one transaction): the store reopens
# either untouched or rolled back, never in between
"$UTXO" replay "$tmp/c.blocks" --db "$tmp/zero.db" --quiet --to 0 >/dev/null || fail "replay to 0"
rb_kills=0
outcomes=""
for i in 1 2 3 4 5 6; do
    cp "$tmp/crash.db" "$tmp/rb.db"
    rm -f "$tmp/rb.db-wal" "$tmp/rb.db-shm"
    "$UTXO" rollback --db "$tmp/rb.db" --to 0 >/dev/null 2>&1 &
    pid=$!
    sleep "$(printf '0.%03d' $((i * 12)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ $? -eq 137 ] && rb_kills=$((rb_kills + 1))
    if same_tables "$tmp/rb.db" "$tmp/ref.db" 2>/dev/null; then
        outcomes="$outcomes untouched"
    elif same_tables "$tmp/rb.db" "$tmp/zero.db" 2>/dev/null; then
        outcomes="$outcomes rolled-back"
    else
        fail "a killed rollback left the store between two states"
    fi
    "$UTXO" utxos --db "$tmp/rb.db" --summary >/dev/null || fail "store does not reopen after a killed rollback"
done
echo "rollback kills=$rb_kills outcomes:$outcomes"
echo "ok"
