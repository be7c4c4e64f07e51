#!/bin/sh
# valgrind.sh — runs Check suites under Valgrind's memcheck and fails on any
# error or leak. Used by `make check-valgrind` and .ci/run. Suites run in one
# process each (CK_FORK=no) so leaks inside tests are seen; VALGRIND_JOBS
# (default 2) suites run at once, taken in the order given from one queue.
#   usage: tests/valgrind.sh SUITE...   (paths of test programs, libtool wrappers ok)
set -u
top_builddir=${top_builddir:-.}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind is not installed (Debian package valgrind)" >&2
    exit 2
fi
jobs=${VALGRIND_JOBS:-2}
case $jobs in ''|*[!0-9]*|0) echo "valgrind.sh: VALGRIND_JOBS must be a number from 1" >&2; exit 2;; esac
out=$(mktemp -d) || exit 2
trap 'rm -rf "$out"' EXIT

# one suite: its verdict line in $out/N.res, its log kept when it fails.
# A suite still running after VALGRIND_TIMEOUT seconds (default 1800: the
# slowest takes about 240 on an idle 2-core machine, 600 on a loaded one)
# is killed and fails, named, rather than holding CI to its own limit.
limit=${VALGRIND_TIMEOUT:-1800}
case $limit in ''|*[!0-9]*|0) echo "valgrind.sh: VALGRIND_TIMEOUT must be a number of seconds from 1" >&2; exit 2;; esac
run_one() {
    n=$1 t=$2
    start=$(date +%s)
    CK_FORK=no CK_DEFAULT_TIMEOUT=0 timeout --kill-after=30 "$limit" \
        "$top_builddir/libtool" --mode=execute \
        valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$t" >"$out/$n.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ]; then
        echo "PASS: $t ($(( $(date +%s) - start )) s)" >"$out/$n.res"
    elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
        echo "FAIL: $t (still running after $limit s under memcheck: killed)" >"$out/$n.res"
    else
        echo "FAIL: $t (exit $rc)" >"$out/$n.res"
    fi
}

# the workers take the next suite from one queue (a counter under a mkdir
# lock), so one long suite does not leave a worker idle behind a fixed
# share: list the slowest suites first
echo 0 >"$out/next"
take() { # the next suite's number on stdout, or nothing when none is left
    until mkdir "$out/lock" 2>/dev/null; do sleep 0.05; done
    k=$(cat "$out/next")
    echo $((k + 1)) >"$out/next"
    rmdir "$out/lock"
    [ "$k" -lt "$#" ] && echo "$k"
}
w=0
while [ "$w" -lt "$jobs" ]; do
    (
        while k=$(take "$@") && [ -n "$k" ]; do
            eval "t=\${$((k + 1))}"
            run_one "$k" "$t"
        done
    ) &
    w=$((w + 1))
done
wait

pass=0; fail=0; k=0
for t in "$@"; do
    if [ -f "$out/$k.res" ] && grep -q '^PASS' "$out/$k.res"; then
        pass=$((pass + 1)); cat "$out/$k.res"
    else
        fail=$((fail + 1)); cat "$out/$k.res" 2>/dev/null || echo "FAIL: $t"
        tail -40 "$out/$k.log" 2>/dev/null
    fi
    k=$((k + 1))
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
