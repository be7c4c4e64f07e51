#!/bin/sh
# history-submit.sh — submit a plan's ranges to Slurm as a job array and the
# link-up as a job that runs when every range task succeeded
# (docs/RANGES.md; README "A long history on a cluster").
#
#   contrib/slurm/history-submit.sh PLAN [sbatch options...]
#
# PLAN must be on a file system every node sees, at the same path. Prints
# the two job ids ("array JOBID", "linkup JOBID"); the link-up's verdict is
# in its output file (PLAN/slurm-JOBID.out) and exit code (sacct). A range
# task that fails (usage or I/O: its output file names it) leaves the
# link-up's dependency unsatisfiable: Slurm cancels the link-up
# (--kill-on-invalid-dep=yes) rather than keep it pending. UTXO names the
# command (a relative path is made absolute here). Exit 2 when sbatch is
# missing or refuses a submission.
set -eu
[ $# -ge 1 ] || { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
# abs DIR: DIR as an absolute path (a leading dash is no option of cd)
abs() { case $1 in /*) set -- "$1" ;; *) set -- "./$1" ;; esac; (cd "$1" && pwd); }
plan=$(abs "$1") || exit 2
shift
here=$(abs "$(dirname -- "$0")")
# the tasks run in PLAN, on other nodes: UTXO as an absolute path
case ${UTXO:-} in */*) UTXO=$(abs "$(dirname -- "$UTXO")")/$(basename -- "$UTXO") || exit 2; export UTXO ;; esac
command -v sbatch >/dev/null 2>&1 || { echo "history-submit: sbatch is not installed (Debian: slurm-client)" >&2; exit 2; }
k=$(awk '$1 == "ranges" && NF == 2 { print $2 }' "$plan/manifest") || exit 2
case $k in '' | *[!0-9]* | 0) echo "history-submit: $plan/manifest: no range count" >&2; exit 2 ;; esac
array=$(sbatch --parsable "$@" --array=0-$((k - 1)) --chdir="$plan" "$here/history-range.sbatch" "$plan") ||
    { echo "history-submit: sbatch refused the range array" >&2; exit 2; }
array=${array%%;*}
echo "array $array"
linkup=$(sbatch --parsable "$@" --dependency=afterok:"$array" --kill-on-invalid-dep=yes --chdir="$plan" \
    "$here/history-linkup.sbatch" "$plan") ||
    { echo "history-submit: sbatch refused the link-up (the array $array runs: scancel $array)" >&2; exit 2; }
linkup=${linkup%%;*}
echo "linkup $linkup"
