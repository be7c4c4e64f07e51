#!/bin/sh
# segments-submit.sh — submit the receipts of one long predicate run
# (utxo segments prove ... -o DIR) to Slurm as G groups in a job array, and
# the link-up as a job that runs when every group task succeeded
# (docs/CONTINUATIONS.md, "Groups").
#
#   contrib/slurm/segments-submit.sh [--prove] DIR G [sbatch options...]
#
# DIR must be on a file system every node sees, at the same path. Task I
# runs 'utxo segments verify DIR --group I/G' (writing DIR/group-I.result);
# the link-up job runs 'utxo segments linkup DIR'. With --prove, DIR is a
# split (utxo segments split ... -o DIR): a first array proves each of its
# groups from its checkpoint ('utxo segments prove-group'), and the
# verification runs after it. Prints the job ids ("prove JOBID" with
# --prove, "array JOBID", "linkup JOBID"); the verdict is in the link-up's
# output file (DIR/slurm-JOBID.out) and exit code. A task that fails
# (usage or I/O) makes Slurm cancel the jobs after it
# (--kill-on-invalid-dep=yes). UTXO names the command (a relative path is
# made absolute here). Exit 2 when sbatch is missing or refuses a job.
set -eu
prove=
[ "${1:-}" = "--prove" ] && { prove=1; shift; }
[ $# -ge 2 ] || { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
# abs DIR: DIR as an absolute path (a leading dash is no option of cd)
abs() { case $1 in /*) set -- "$1" ;; *) set -- "./$1" ;; esac; (cd "$1" && pwd); }
# q WORD: WORD single-quoted for sh
q() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
dir=$(abs "$1") || exit 2
g=$2
shift 2
case $g in ''|*[!0-9]*) echo "segments-submit: G must be a number, not '$g'" >&2; exit 2;; esac
[ "$g" -ge 1 ] || { echo "segments-submit: G must be at least 1" >&2; exit 2; }
here=$(abs "$(dirname -- "$0")")
# the tasks run in DIR, on other nodes: UTXO as an absolute path
case ${UTXO:-} in */*) UTXO=$(abs "$(dirname -- "$UTXO")")/$(basename -- "$UTXO") || exit 2; export UTXO ;; esac
utxo=${UTXO:-utxo}
command -v sbatch >/dev/null 2>&1 || { echo "segments-submit: sbatch is not installed (Debian: slurm-client)" >&2; exit 2; }
after=
if [ -n "$prove" ]; then
    pj=$("$utxo" segments jobs "$dir" --prove) || exit 2
    pg=$(printf '%s' "$pj" | grep -c '^') || true
    if [ "$pg" -ge 1 ]; then
        pa=$(sbatch --parsable "$@" --array=0-$((pg - 1)) --chdir="$dir" \
            "$here/segments-prove.sbatch" "$dir" "$pg") ||
            { echo "segments-submit: sbatch refused the prove array" >&2; exit 2; }
        pa=${pa%%;*}
        echo "prove $pa"
        after=--dependency=afterok:$pa
    fi
fi
array=$(sbatch --parsable "$@" ${after:+"$after"} ${after:+--kill-on-invalid-dep=yes} \
    --array=0-$((g - 1)) --chdir="$dir" "$here/segments-group.sbatch" "$dir" "$g") ||
    { echo "segments-submit: sbatch refused the group array" >&2; exit 2; }
array=${array%%;*}
echo "array $array"
linkup=$(sbatch --parsable "$@" --dependency=afterok:"$array" --kill-on-invalid-dep=yes --chdir="$dir" \
    --job-name=utxo-seg-linkup --wrap="exec $(q "$utxo") segments linkup $(q "$dir")") ||
    { echo "segments-submit: sbatch refused the link-up (the array $array runs: scancel $array)" >&2; exit 2; }
linkup=${linkup%%;*}
echo "linkup $linkup"
