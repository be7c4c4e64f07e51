#!/bin/sh
# segments_groups.sh — one long predicate run's receipts verified in groups
# (utxo segments verify DIR --group I/G, segments jobs, segments linkup),
# as separate processes the way machines of a cluster run them: the linked-
# up verdict equals the whole-directory verify; a tampered receipt makes
# its group invalid and link-up names it; a missing, damaged, misplaced or
# foreign result is refused; a rerun writes the same bytes; 1 group and one
# group per receipt; the GNU parallel script; usage errors. Then proving in
# groups (segments split, prove-group, jobs --prove): every group's receipts
# are the whole proof's, byte for byte; a rerun writes the same bytes; a
# wrong G, a missing, misplaced, damaged, truncated or foreign checkpoint is
# refused. Run by `make check`.
set -u
SRC="${top_srcdir:-.}"
IMG="$SRC/tests/segments/work.img"
. "${top_srcdir:-.}/tests/lib.sh"
top=$(cd "$SRC" && pwd)
UTXO=$(cd "$(dirname "$UTXO")" && pwd)/$(basename "$UTXO")
export UTXO

ARGS=$(le32 300 65536 0 1024 4294967295 1)
expect 0 "prove" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS" --budget 100000000 --po2 12 -o "$tmp/p"
segs=$(sed -n 's/.* segments=\([0-9]*\) .*/\1/p' "$tmp/out")
[ -n "$segs" ] && [ "$segs" -ge 20 ] && ok || bad "a run of at least 20 segments: '$segs'"
expect 0 "whole verify" -- "$UTXO" segments verify "$tmp/p" --threads 1
whole=$(sed -n 's/^valid \(.*\) segments=.*/\1/p' "$tmp/out")
cp -r "$tmp/p" "$tmp/clean"

# --- 5 groups, each its own process, from the jobs list -----------------------
expect 0 "jobs" -- "$UTXO" segments jobs "$tmp/p" --groups 5 --command "$UTXO"
[ "$(wc -l <"$tmp/out")" -eq 5 ] && ok || bad "5 job lines: $(cat "$tmp/out")"
grep -q "segments verify '$tmp/p' --group 4/5 --threads 1\$" "$tmp/out" && ok || bad "job line: $(cat "$tmp/out")"
cp "$tmp/out" "$tmp/jobs"
while read -r line; do
    expect 0 "job: $line" -- sh -c "$line"
done <"$tmp/jobs"
for i in 0 1 2 3 4; do [ -s "$tmp/p/group-00000$i.result" ] && ok || bad "group $i result"; done
expect 0 "linkup" -- "$UTXO" segments linkup "$tmp/p"
grep -q "^valid $whole segments=$segs groups=5\$" "$tmp/out" && ok ||
    bad "linkup = whole verify ('$whole'): $(cat "$tmp/out")"
# a DIR named with a leading dash: the job lines name it ./-DIR, which the
# jobs do not take for options (every job failed, 'unknown option', before)
cp -r "$tmp/clean" "$tmp/-d"
expect 0 "jobs -- -d" -- sh -c 'cd "$1" && "$2" segments jobs --groups 2 --command "$2" -- -d' sh "$tmp" "$UTXO"
grep -q "segments verify ./'-d' --group 1/2 --threads 1\$" "$tmp/out" && ok || bad "job line for -d: $(cat "$tmp/out")"
cp "$tmp/out" "$tmp/jobs-d"
expect 0 "the jobs of -d" -- sh -c 'cd "$1" && sh "$2"' sh "$tmp" "$tmp/jobs-d"
expect 0 "linkup -- -d" -- "$UTXO" segments linkup -- "$tmp/-d"

# a rerun of a group (a task killed and restarted) writes the same bytes
cp "$tmp/p/group-000002.result" "$tmp/g2"
expect 0 "rerun group 2" -- "$UTXO" segments verify "$tmp/p" --group 2/5 --threads 2
cmp -s "$tmp/g2" "$tmp/p/group-000002.result" && ok || bad "the rerun's result differs"
expect 0 "-o elsewhere" -- "$UTXO" segments verify "$tmp/p" --group 2/5 -o "$tmp/g2b"
cmp -s "$tmp/g2" "$tmp/g2b" && ok || bad "-o writes the same result"

# --- faults ------------------------------------------------------------------
# missing result
mv "$tmp/p/group-000003.result" "$tmp/g3"
expect 2 "linkup: group 3 missing: no verdict" -- "$UTXO" segments linkup "$tmp/p"
grep -q "group 3: no result" "$tmp/err" && ok || bad "missing group named: $(cat "$tmp/err")"
# a result in another group's place
cp "$tmp/p/group-000001.result" "$tmp/p/group-000003.result"
expect 1 "linkup: misplaced result" -- "$UTXO" segments linkup "$tmp/p"
grep -q "group 3: .* is group 1/5, not group 3/5" "$tmp/err" && ok || bad "misplaced: $(cat "$tmp/err")"
# a damaged result
cp "$tmp/g3" "$tmp/p/group-000003.result"
printf 'x' | dd of="$tmp/p/group-000003.result" bs=1 seek=60 conv=notrunc 2>/dev/null
expect 1 "linkup: damaged result" -- "$UTXO" segments linkup "$tmp/p"
grep -q "group 3: .* is not a group result" "$tmp/err" && ok || bad "damaged: $(cat "$tmp/err")"
cp "$tmp/g3" "$tmp/p/group-000003.result"
head -c 100 "$tmp/g3" >"$tmp/p/group-000003.result"
expect 1 "linkup: truncated result" -- "$UTXO" segments linkup "$tmp/p"
cp "$tmp/g3" "$tmp/p/group-000003.result"
# another run's result (other arguments, same group count)
ARGS2=$(le32 301 65536 0 1024 4294967295 1)
expect 0 "prove another run" -- "$UTXO" segments prove "$IMG" --arg-hex "$ARGS2" --budget 100000000 --po2 12 -o "$tmp/q"
expect 0 "its group 1" -- "$UTXO" segments verify "$tmp/q" --group 1/5
cp "$tmp/q/group-000001.result" "$tmp/p/group-000001.result"
expect 1 "linkup: another run's result" -- "$UTXO" segments linkup "$tmp/p"
grep -q "group 1: .* another run" "$tmp/err" && ok || bad "foreign result: $(cat "$tmp/err")"
# results of another split (3 groups) beside group 0 of 5
cp -r "$tmp/clean" "$tmp/r"
for i in 0 1 2; do expect 0 "3 groups: $i" -- "$UTXO" segments verify "$tmp/r" --group $i/3; done
expect 0 "linkup of 3" -- "$UTXO" segments linkup "$tmp/r"
expect 0 "group 0 of 5 over it" -- "$UTXO" segments verify "$tmp/r" --group 0/5
expect 1 "linkup: mixed splits" -- "$UTXO" segments linkup "$tmp/r"
grep -q "group 1: .* is group 1/3, not group 1/5" "$tmp/err" && ok || bad "mixed splits: $(cat "$tmp/err")"

# a tampered receipt: its group is invalid (result written), link-up names it
cp -r "$tmp/clean" "$tmp/t"
n=$(( segs * 2 / 5 ))  # first receipt of group 2 of 5
f=$(printf '%s/t/seg-%06u.rcpt' "$tmp" "$n")
size=$(wc -c <"$f")
printf '\377' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
for i in 0 1 2 3 4; do
    want=0; [ $i -eq 2 ] && want=1
    expect $want "tampered: group $i" -- "$UTXO" segments verify "$tmp/t" --group $i/5
done
expect 1 "linkup: tampered group" -- "$UTXO" segments linkup "$tmp/t"
grep -q "group 2 (segments $n\.\..*): invalid" "$tmp/err" && ok || bad "tampered group named: $(cat "$tmp/err")"
# a receipt file missing: no verdict, no result (exit 2)
cp -r "$tmp/clean" "$tmp/m"
rm "$tmp/m/seg-000001.rcpt"
expect 2 "missing receipt" -- "$UTXO" segments verify "$tmp/m" --group 0/5
[ ! -e "$tmp/m/group-000000.result" ] && ok || bad "no result for an unreadable group"
# a manifest claiming more receipts than there are: refused at once, before
# anything is allocated per claimed receipt (it took 28 s and 728 MB for
# 2,000,000, then gave a verdict: exit 1 and a result written)
cp -r "$tmp/clean" "$tmp/claim"
sed "s/^segments .*/segments 2000000/" "$tmp/clean/manifest" >"$tmp/claim/manifest"
expect 2 "a manifest claiming 2000000 receipts" -- "$UTXO" segments verify "$tmp/claim" --group 0/1
grep -q "seg-$(printf %06d "$segs").rcpt: No such file.*says 2000000 receipts" "$tmp/err" && ok ||
    bad "the first missing receipt named: $(cat "$tmp/err")"
[ ! -e "$tmp/claim/group-000000.result" ] && ok || bad "no result for a claimed count"

# --- 1 group, one group per receipt, too many groups ------------------------------
cp -r "$tmp/clean" "$tmp/one"
expect 0 "1 group" -- "$UTXO" segments verify "$tmp/one" --group 0/1
expect 0 "linkup 1 group" -- "$UTXO" segments linkup "$tmp/one"
grep -q "^valid $whole segments=$segs groups=1\$" "$tmp/out" && ok || bad "1 group: $(cat "$tmp/out")"
cp -r "$tmp/clean" "$tmp/all"
"$UTXO" segments jobs "$tmp/all" --groups "$segs" --command "$UTXO" >"$tmp/alljobs" || bad "jobs for every receipt"
sh -e "$tmp/alljobs" >/dev/null && ok || bad "a group per receipt"
expect 0 "linkup a group per receipt" -- "$UTXO" segments linkup "$tmp/all"
grep -q "groups=$segs\$" "$tmp/out" && ok || bad "groups=$segs: $(cat "$tmp/out")"
expect 2 "more groups than receipts" -- "$UTXO" segments jobs "$tmp/all" --groups $((segs + 1))
expect 2 "verify: more groups than receipts" -- "$UTXO" segments verify "$tmp/all" --group 0/$((segs + 1))

# --- proving in groups: split, then each group from its checkpoint --------------
expect 0 "split" -- "$UTXO" segments split "$IMG" --arg-hex "$ARGS" --budget 100000000 --po2 12 --every 7 -o "$tmp/s"
ng=$(( (segs + 6) / 7 ))
grep -q "^split accepted .* segments=$segs groups=$ng every=7 " "$tmp/out" && ok || bad "split line: $(cat "$tmp/out")"
cmp -s "$tmp/clean/manifest" "$tmp/s/manifest" && ok || bad "the split's manifest is the proof's"
ls "$tmp/s"/seg-*.rcpt >/dev/null 2>&1 && bad "a split writes no receipt" || ok
expect 0 "jobs --prove" -- "$UTXO" segments jobs "$tmp/s" --prove --command "$UTXO"
[ "$(wc -l <"$tmp/out")" -eq "$ng" ] && ok || bad "$ng prove jobs: $(cat "$tmp/out")"
grep -q "segments prove-group '$tmp/s' --group $((ng - 1))/$ng\$" "$tmp/out" && ok || bad "prove job line: $(cat "$tmp/out")"
cp "$tmp/out" "$tmp/pjobs"
while read -r line; do
    expect 0 "prove job: $line" -- sh -c "$line"
done <"$tmp/pjobs"
grep -q "^proved group=$((ng - 1))/$ng segments=$(( (ng - 1) * 7 ))..$((segs - 1)) bytes=[0-9]* final=accepted cycles=" "$tmp/out" &&
    ok || bad "last group's line: $(cat "$tmp/out")"
same=0
for f in "$tmp"/clean/seg-*.rcpt; do cmp -s "$f" "$tmp/s/$(basename "$f")" && same=$((same + 1)); done
[ "$same" -eq "$segs" ] && ok || bad "every group's receipts are the whole proof's ($same of $segs)"
expect 0 "verify the groups' receipts" -- "$UTXO" segments verify "$tmp/s" --threads 2
grep -q "^valid $whole segments=$segs\$" "$tmp/out" && ok || bad "verify after prove-group: $(cat "$tmp/out")"
# a group proven again (a task killed and rerun) writes the same receipts
cp "$tmp/s/seg-000008.rcpt" "$tmp/r8"
rm "$tmp/s/seg-000008.rcpt"
expect 0 "prove-group rerun" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$ng
cmp -s "$tmp/r8" "$tmp/s/seg-000008.rcpt" && ok || bad "the rerun's receipt differs"
# faults: another G, no checkpoint, a checkpoint out of place, damaged,
# truncated, of another run
expect 1 "prove-group: wrong G" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$((ng + 1))
grep -q "the split made $ng groups of 7 segments, not $((ng + 1))" "$tmp/err" && ok || bad "wrong G: $(cat "$tmp/err")"
expect 2 "prove-group: no checkpoint" -- "$UTXO" segments prove-group "$tmp/s" --group $ng/$((ng + 1))
grep -q "no checkpoint for group $ng" "$tmp/err" && ok || bad "no checkpoint: $(cat "$tmp/err")"
cp "$tmp/s/group-000001.ckpt" "$tmp/c1"
cp "$tmp/s/group-000002.ckpt" "$tmp/s/group-000001.ckpt"
expect 1 "prove-group: misplaced checkpoint" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$ng
grep -q "checkpoint of segment 14 (span 7), not of group 1" "$tmp/err" && ok || bad "misplaced: $(cat "$tmp/err")"
cp "$tmp/c1" "$tmp/s/group-000001.ckpt"
printf 'x' | dd of="$tmp/s/group-000001.ckpt" bs=1 seek=200 conv=notrunc 2>/dev/null
expect 1 "prove-group: damaged checkpoint" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$ng
grep -q "not a checkpoint .*checksum" "$tmp/err" && ok || bad "damaged: $(cat "$tmp/err")"
head -c 1000 "$tmp/c1" >"$tmp/s/group-000001.ckpt"
expect 1 "prove-group: truncated checkpoint" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$ng
grep -q "not a checkpoint (byte 1000)" "$tmp/err" && ok || bad "truncated: $(cat "$tmp/err")"
expect 1 "split another run (it rejects)" -- "$UTXO" segments split "$IMG" --arg-hex "$(le32 300 65536 0 1024 4294967294 1)" \
    --budget 100000000 --po2 12 --every 7 -o "$tmp/s2"
cp "$tmp/s2/group-000001.ckpt" "$tmp/s/group-000001.ckpt"
expect 1 "prove-group: another run's checkpoint" -- "$UTXO" segments prove-group "$tmp/s" --group 1/$ng
grep -q "the checkpoint is of another run" "$tmp/err" && ok || bad "foreign: $(cat "$tmp/err")"
cp "$tmp/c1" "$tmp/s/group-000001.ckpt"
# a new split into the directory removes the receipts it no longer proves
expect 0 "split again" -- "$UTXO" segments split "$IMG" --arg-hex "$ARGS" --budget 100000000 --po2 12 --every 1000 -o "$tmp/s"
ls "$tmp/s"/seg-*.rcpt >/dev/null 2>&1 && bad "old receipts removed" || ok
[ -e "$tmp/s/group-000001.ckpt" ] && bad "old checkpoints beyond the new groups removed" || ok
# a run that ends while loading: no segment, no checkpoint, no job
expect 1 "split: load fails" -- "$UTXO" segments split "$IMG" --arg-hex "$ARGS" --page-limit 2 --every 3 -o "$tmp/s0"
grep -q "^split failed reason=.* segments=0 groups=0 every=3 " "$tmp/out" && ok || bad "empty split: $(cat "$tmp/out")"
expect 0 "jobs --prove: none" -- "$UTXO" segments jobs "$tmp/s0" --prove
[ -s "$tmp/out" ] && bad "no prove job for a run without segments: $(cat "$tmp/out")" || ok
expect 2 "split without --every" -- "$UTXO" segments split "$IMG" -o "$tmp/x"
expect 2 "split --every 0" -- "$UTXO" segments split "$IMG" --every 0 -o "$tmp/x"
expect 2 "prove --every" -- "$UTXO" segments prove "$IMG" --every 3 -o "$tmp/x"
expect 2 "prove-group without --group" -- "$UTXO" segments prove-group "$tmp/s"
expect 2 "jobs --prove --groups" -- "$UTXO" segments jobs "$tmp/s" --prove --groups 2
expect 0 "prove-group --help" -- "$UTXO" segments prove-group --help

# --- GNU parallel ---------------------------------------------------------------
if command -v parallel >/dev/null 2>&1; then
    cp -r "$tmp/clean" "$tmp/par"
    expect 0 "segments-parallel.sh" -- sh "$top/contrib/parallel/segments-parallel.sh" "$tmp/par" 6 -j 2
    grep -q "^valid $whole segments=$segs groups=6\$" "$tmp/out" && ok || bad "parallel: $(cat "$tmp/out")"
    # a group job that fails to run (a receipt gone: exit 2), the group
    # results of the run above still there: exit 2, no link-up (link-up
    # took the old results, exit 0, before)
    rm "$tmp/par/seg-000003.rcpt"
    expect 2 "segments-parallel.sh: a job fails to run" -- sh "$top/contrib/parallel/segments-parallel.sh" "$tmp/par" 6 -j 2
    grep -q "1 group job(s) failed to run (usage or I/O): see above; no link-up" "$tmp/err" && ok ||
        bad "parallel, a failed job: $(cat "$tmp/err")"
    grep -q "^valid" "$tmp/out" && bad "segments-parallel linked up old results: $(cat "$tmp/out")" || ok
    cp -r "$tmp/t" "$tmp/tpar"
    rm -f "$tmp"/tpar/group-*.result
    expect 1 "segments-parallel.sh: tampered" -- sh "$top/contrib/parallel/segments-parallel.sh" "$tmp/tpar" 5 -j 2
    grep -q "group 2 .*invalid" "$tmp/err" && ok || bad "parallel tampered: $(cat "$tmp/err")"
    expect 0 "split for parallel" -- "$UTXO" segments split "$IMG" --arg-hex "$ARGS" --budget 100000000 --po2 12 --every 9 -o "$tmp/spar"
    expect 0 "segments-parallel.sh --prove" -- sh "$top/contrib/parallel/segments-parallel.sh" --prove "$tmp/spar" 4 -j 2
    grep -q "^valid $whole segments=$segs groups=4\$" "$tmp/out" && ok || bad "parallel --prove: $(cat "$tmp/out")"
else
    bad "GNU parallel is not installed (Debian package parallel)"
fi

# --- usage -------------------------------------------------------------------------
expect 2 "--group without /" -- "$UTXO" segments verify "$tmp/clean" --group 3
expect 2 "--group I >= G" -- "$UTXO" segments verify "$tmp/clean" --group 5/5
expect 2 "--group 0/0" -- "$UTXO" segments verify "$tmp/clean" --group 0/0
expect 2 "-o without --group" -- "$UTXO" segments verify "$tmp/clean" -o "$tmp/x"
expect 2 "jobs without --groups" -- "$UTXO" segments jobs "$tmp/clean"
expect 2 "linkup of nothing" -- "$UTXO" segments linkup "$tmp/nothing"
expect 0 "jobs --help" -- "$UTXO" segments jobs --help
expect 0 "linkup --help" -- "$UTXO" segments linkup --help

echo "segments_groups: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
