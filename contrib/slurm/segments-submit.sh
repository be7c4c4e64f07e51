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
# output file (DIR/slurm-JOBID.out) and exit code. UTXO names the command.
set -eu
prove=
[ "${1:-}" = "--prove" ] && { prove=1; shift; }
[ $# -ge 2 ] || { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dir=$(cd "$1" && pwd) || exit 2
g=$2
shift 2
case $g in ''|*[!0-9]*) echo "segments-submit: G must be a number, not '$g'" >&2; exit 2;; esac
[ "$g" -ge 1 ] || { echo "segments-submit: G must be at least 1" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
after=
if [ -n "$prove" ]; then
    pg=$("${UTXO:-utxo}" segments jobs "$dir" --prove | wc -l) || exit 2
    if [ "$pg" -ge 1 ]; then
        pa=$(sbatch --parsable "$@" --array=0-$((pg - 1)) --chdir="$dir" \
            "$here/segments-prove.sbatch" "$dir" "$pg")
        pa=${pa%%;*}
        echo "prove $pa"
        after=--dependency=afterok:$pa
    fi
fi
array=$(sbatch --parsable "$@" ${after:+"$after"} --array=0-$((g - 1)) --chdir="$dir" \
    "$here/segments-group.sbatch" "$dir" "$g")
array=${array%%;*}
linkup=$(sbatch --parsable "$@" --dependency=afterok:"$array" --chdir="$dir" \
    --job-name=utxo-seg-linkup --wrap="exec '${UTXO:-utxo}' segments linkup '$dir'")
linkup=${linkup%%;*}
echo "array $array"
echo "linkup $linkup"
