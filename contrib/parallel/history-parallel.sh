#!/bin/sh
# history-parallel.sh — verify every range of a plan (utxo history plan)
# with GNU parallel, on this machine or on ssh hosts that see the same
# directory at the same path, then link up (docs/RANGES.md).
#
#   contrib/parallel/history-parallel.sh PLAN [parallel options...]
#     e.g.  history-parallel.sh plan -j 2
#           history-parallel.sh /shared/plan --sshlogin 8/node1,8/node2
#
# The ranges come from PLAN/manifest ("range I FROM TO WORK BLOCKS PROOFS
# STATE RESULT"); the file names are range-III.* (a manifest naming others
# is refused). Each job runs, in PLAN,
#   utxo verify --threads 1 --from-state STATE --range FROM:TO BLOCKS PROOFS -o RESULT
# (exit 1 for an invalid range is a verdict, not a failed job: link-up
# reads the result). UTXO names the command (default: utxo on the PATH).
# Exit status: link-up's (0 linked up, 1 a range at fault, 2 a range with
# no result); 2 usage or I/O, or a job that ended without a verdict.
set -eu
if [ $# -lt 1 ] || [ "$1" = "--help" ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    [ $# -ge 1 ] && exit 0 || exit 2
fi
# abs DIR: DIR as an absolute path (a leading dash is no option of cd)
abs() { case $1 in /*) set -- "$1" ;; *) set -- "./$1" ;; esac; (cd "$1" && pwd); }
# q WORD: WORD single-quoted for sh
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
plan=$(abs "$1") || { echo "history-parallel: no directory $1" >&2; exit 2; }
shift
utxo=${UTXO:-utxo}
# the jobs run in PLAN: a relative UTXO is made absolute first
case $utxo in */*) utxo=$(abs "$(dirname -- "$utxo")")/$(basename -- "$utxo") || exit 2 ;; esac
command -v parallel >/dev/null 2>&1 || { echo "history-parallel: GNU parallel is not installed (Debian package parallel)" >&2; exit 2; }
[ -r "$plan/manifest" ] || { echo "history-parallel: $plan/manifest: no plan there" >&2; exit 2; }
# one job per line: FROM:TO range-III (the file names made here, not read)
jobs=$(awk 'BEGIN { n = 0 } $1 == "range" {
        f = sprintf("range-%03d", n)
        if (NF != 9 || $2 != n "" || $3 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ ||
            $6 != f ".blocks" || $7 != f ".proofs" || $8 != f ".state" || $9 != f ".result") {
            print "history-parallel: manifest line " NR ": not range " n " with its files " f ".*" >"/dev/stderr"
            exit 2
        }
        print $3 ":" $4, f; n++
    }' "$plan/manifest") || exit 2
[ -n "$jobs" ] || { echo "history-parallel: $plan/manifest lists no range" >&2; exit 2; }
status=0
printf '%s\n' "$jobs" | parallel --will-cite --colsep ' ' "$@" \
    "cd $(q "$plan") && $(q "$utxo") verify --threads 1 --from-state {2}.state --range {1} {2}.blocks {2}.proofs -o {2}.result >/dev/null; s=\$? r={1}; [ \$s -le 1 ] || { echo \"history-parallel: {2} (range \$r): utxo verify ended without a verdict (exit \$s)\" >&2; exit 2; }" ||
    status=$?
if [ "$status" -ne 0 ]; then
    if [ "$status" -le 100 ]; then
        echo "history-parallel: $status range job(s) ended without a verdict (usage or I/O: see above); no link-up" >&2
    else
        echo "history-parallel: GNU parallel failed (exit $status): see above; no link-up" >&2
    fi
    exit 2
fi
exec "$utxo" history linkup "$plan"
