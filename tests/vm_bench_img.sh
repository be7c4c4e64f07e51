#!/bin/sh
# vm_bench_img.sh — the committed RV32IM image of the `utxo bench vm`
# workloads (tools/bench/vm_work_img.h) must be exactly what
# tools/bench/gen_vm_work.sh builds from tools/bench/vm_work.c with the
# documented toolchain (clang-14, ld.lld-14, llvm-objcopy-14). Skipped (77)
# when that toolchain is missing.
set -eu
: "${top_srcdir:=.}"
for t in "${RV_CC:-clang-14}" "${RV_LD:-ld.lld-14}" "${RV_OBJCOPY:-llvm-objcopy-14}" "${RV_NM:-llvm-nm-14}"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done
out=$(mktemp)
trap 'rm -f "$out" "$out.tmp"' EXIT INT TERM
sh "$top_srcdir/tools/bench/gen_vm_work.sh" "$top_srcdir" "$out"
if ! cmp -s "$out" "$top_srcdir/tools/bench/vm_work_img.h"; then
    echo "tools/bench/vm_work_img.h is stale: run 'make vm-work-img' and commit it" >&2
    exit 1
fi
echo "vm_work_img.h matches a fresh build"
