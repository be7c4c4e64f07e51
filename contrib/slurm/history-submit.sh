#!/bin/sh
# history-submit.sh — submit a plan's ranges to Slurm as a job array and the
# link-up as a job that runs when every range task succeeded
# (docs/RANGES.md; README "A long history on a cluster").
#
#   contrib/slurm/history-submit.sh PLAN [sbatch options...]
#
# PLAN must be on a file system every node sees, at the same path. Prints
# the two job ids ("array JOBID", "linkup JOBID"); the link-up's verdict is
# in its output file (slurm-JOBID.out) and exit code (sacct).
set -eu
[ $# -ge 1 ] || { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
plan=$(cd "$1" && pwd) || exit 2
shift
here=$(cd "$(dirname "$0")" && pwd)
k=$(awk '$1 == "ranges" && NF == 2 { print $2 }' "$plan/manifest")
[ -n "$k" ] && [ "$k" -ge 1 ] || { echo "history-submit: $plan/manifest: no range count" >&2; exit 2; }
array=$(sbatch --parsable "$@" --array=0-$((k - 1)) --chdir="$plan" "$here/history-range.sbatch" "$plan")
array=${array%%;*}
linkup=$(sbatch --parsable "$@" --dependency=afterok:"$array" --chdir="$plan" \
    "$here/history-linkup.sbatch" "$plan")
linkup=${linkup%%;*}
echo "array $array"
echo "linkup $linkup"
