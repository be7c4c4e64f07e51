#!/bin/sh
# segments-submit.sh — submit the receipts of one long predicate run
# (utxo segments prove ... -o DIR) to Slurm as G groups in a job array, and
# the link-up as a job that runs when every group task succeeded
# (docs/CONTINUATIONS.md, "Groups").
#
#   contrib/slurm/segments-submit.sh DIR G [sbatch options...]
#
# DIR must be on a file system every node sees, at the same path. Task I
# runs 'utxo segments verify DIR --group I/G' (writing DIR/group-I.result);
# the link-up job runs 'utxo segments linkup DIR'. Prints the two job ids
# ("array JOBID", "linkup JOBID"); the verdict is in the link-up's output
# file (DIR/slurm-JOBID.out) and exit code. UTXO names the command.
set -eu
[ $# -ge 2 ] || { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
dir=$(cd "$1" && pwd) || exit 2
g=$2
shift 2
case $g in ''|*[!0-9]*) echo "segments-submit: G must be a number, not '$g'" >&2; exit 2;; esac
[ "$g" -ge 1 ] || { echo "segments-submit: G must be at least 1" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
array=$(sbatch --parsable "$@" --array=0-$((g - 1)) --chdir="$dir" "$here/segments-group.sbatch" "$dir" "$g")
array=${array%%;*}
linkup=$(sbatch --parsable "$@" --dependency=afterok:"$array" --chdir="$dir" \
    --job-name=utxo-seg-linkup --wrap="exec '${UTXO:-utxo}' segments linkup '$dir'")
linkup=${linkup%%;*}
echo "array $array"
echo "linkup $linkup"
