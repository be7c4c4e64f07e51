#!/bin/sh
# valgrind.sh — runs Check suites under Valgrind's memcheck and fails on any
# error or leak. Used by `make check-valgrind` and .ci/run. Suites run in one
# process each (CK_FORK=no) so leaks inside tests are seen.
#   usage: tests/valgrind.sh SUITE...   (paths of test programs, libtool wrappers ok)
set -u
top_builddir=${top_builddir:-.}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "valgrind.sh: valgrind is not installed (Debian package valgrind)" >&2
    exit 2
fi
pass=0; fail=0
for t in "$@"; do
    log=$(mktemp)
    start=$(date +%s)
    if CK_FORK=no CK_DEFAULT_TIMEOUT=0 "$top_builddir/libtool" --mode=execute \
        valgrind --quiet --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$t" >"$log" 2>&1; then
        pass=$((pass + 1)); echo "PASS: $t ($(( $(date +%s) - start )) s)"
    else
        fail=$((fail + 1)); echo "FAIL: $t"; tail -40 "$log"
    fi
    rm -f "$log"
done
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
