#!/bin/sh
# segments-parallel.sh — verify the receipts of one long predicate run
# (utxo segments prove ... -o DIR) in G groups with GNU parallel, on this
# machine or on ssh hosts that see DIR at the same path, then link up
# (docs/CONTINUATIONS.md, "Groups").
#
#   contrib/parallel/segments-parallel.sh [--prove] DIR G [parallel options...]
#     e.g.  segments-parallel.sh proof 8 -j 2
#           segments-parallel.sh /shared/proof 64 --sshlogin 8/node1,8/node2
#
# With --prove, DIR is a split (utxo segments split ... -o DIR): its groups
# are first proven from their checkpoints, one job each (the lines of
# 'utxo segments jobs DIR --prove'). The verify jobs are the lines of
# 'utxo segments jobs DIR --groups G'. UTXO names the command (default:
# utxo on the PATH). Exit status: link-up's (0 the run proven accepted,
# 1 a group at fault or another outcome); 2 usage/I/O, or a job that
# failed to run (no link-up then).
set -eu
prove=
[ "${1:-}" = "--prove" ] && { prove=1; shift; }
if [ $# -lt 2 ] || [ "$1" = "--help" ]; then
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] && exit 0 || exit 2
fi
# abs DIR: DIR as an absolute path (a leading dash is no option of cd)
abs() { case $1 in /*) set -- "$1" ;; *) set -- "./$1" ;; esac; (cd "$1" && pwd); }
dir=$(abs "$1") || { echo "segments-parallel: no directory $1" >&2; exit 2; }
g=$2
shift 2
utxo=${UTXO:-utxo}
command -v parallel >/dev/null 2>&1 || { echo "segments-parallel: GNU parallel is not installed (Debian package parallel)" >&2; exit 2; }
# exit 1 of a job is a verdict (an invalid group, a rejecting run), not a
# failure to run: link-up reports it
run_jobs() { # JOBS WHAT [parallel options...]
    list=$1 what=$2 status=0
    shift 2
    printf '%s\n' "$list" | parallel --will-cite "$@" '{} >/dev/null; s=$?; [ $s -le 1 ]' || status=$?
    if [ "$status" -ne 0 ]; then
        # a group result or receipt left by an earlier run must not be
        # linked up as this one's
        echo "segments-parallel: $status $what job(s) failed to run (usage or I/O): see above; no link-up" >&2
        exit 2
    fi
}
if [ -n "$prove" ]; then
    jobs=$("$utxo" segments jobs "$dir" --prove --command "$utxo") || exit 2
    [ -z "$jobs" ] || run_jobs "$jobs" prove "$@"
fi
jobs=$("$utxo" segments jobs "$dir" --groups "$g" --command "$utxo") || exit 2
run_jobs "$jobs" group "$@"
exec "$utxo" segments linkup "$dir"
