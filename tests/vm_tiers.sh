#!/bin/sh
# vm_tiers.sh — the machine's test programs again with the translating tier
# off (UTXO_VM_JIT=0): the default `make check` run covers the tier (on by
# default on x86-64), this one the interpreter alone, so the suite covers
# both (issue 17). Elsewhere both runs are the interpreter.
set -u
B="${top_builddir:-.}/tests"
rc=0
for t in test_vm test_vm_run test_vm_segments test_vm_diff test_vm_qemu; do
    [ -x "$B/$t" ] || { echo "SKIP: $t not built"; continue; }
    if UTXO_VM_JIT=0 "$B/$t" >"${TMPDIR:-/tmp}/vm_tiers.$$" 2>&1; then
        echo "PASS: $t (UTXO_VM_JIT=0)"
    else
        echo "FAIL: $t (UTXO_VM_JIT=0)"
        cat "${TMPDIR:-/tmp}/vm_tiers.$$"
        rc=1
    fi
done
rm -f "${TMPDIR:-/tmp}/vm_tiers.$$"
exit $rc
