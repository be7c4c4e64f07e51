#!/bin/sh
# history-parallel.sh — verify every range of a plan (utxo history plan)
# with GNU parallel, on this machine or on ssh hosts that see the same
# directory at the same path, then link up (docs/RANGES.md).
#
#   contrib/parallel/history-parallel.sh PLAN [parallel options...]
#     e.g.  history-parallel.sh plan -j 2
#           history-parallel.sh /shared/plan --sshlogin 8/node1,8/node2
#
# The ranges and file names come from PLAN/manifest ("range I FROM TO WORK
# BLOCKS PROOFS STATE RESULT"). Each job runs
#   utxo verify --threads 1 --from-state STATE --range FROM:TO BLOCKS PROOFS -o RESULT
# (exit 1 for an invalid range is a verdict, not a failed job: link-up
# reads the result). UTXO names the command (default: utxo on the PATH).
# Exit status: link-up's (0 linked up, 1 a range at fault, 2 usage or I/O).
set -eu
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    [ $# -ge 1 ] && exit 0 || exit 2
fi
plan=$(cd "$1" && pwd) || { echo "history-parallel: no directory $1" >&2; exit 2; }
shift
utxo=${UTXO:-utxo}
command -v parallel >/dev/null 2>&1 || { echo "history-parallel: GNU parallel is not installed (Debian package parallel)" >&2; exit 2; }
[ -r "$plan/manifest" ] || { echo "history-parallel: $plan/manifest: no plan there" >&2; exit 2; }
awk '$1 == "range" && NF == 9 { print $3 ":" $4, $6, $7, $8, $9 }' "$plan/manifest" >"$plan/jobs.txt"
[ -s "$plan/jobs.txt" ] || { echo "history-parallel: $plan/manifest lists no range" >&2; exit 2; }
# one job per line: RANGE BLOCKS PROOFS STATE RESULT (names relative to the plan)
status=0
parallel --will-cite --colsep ' ' "$@" \
    "cd '$plan' && '$utxo' verify --threads 1 --from-state {4} --range {1} {2} {3} -o {5} >/dev/null; s=\$?; [ \$s -le 1 ]" \
    :::: "$plan/jobs.txt" || status=$?
rm -f "$plan/jobs.txt"
if [ "$status" -ne 0 ]; then
    echo "history-parallel: $status range job(s) failed to run (usage or I/O): see above" >&2
fi
exec "$utxo" history linkup "$plan"
