#!/bin/sh
# segments_img.sh — the committed image of the continuation workload
# (tests/segments/work.img, and its copy src/chain/work_img.h) must be
# exactly what tests/segments/gen_work.sh builds from tests/segments/work.c
# with clang-14 / ld.lld-14. Skipped (77) without that toolchain.
set -eu
: "${top_srcdir:=.}"
: "${top_builddir:=.}"
for t in "${RV_CC:-clang-14}" "${RV_LD:-ld.lld-14}"; do
    command -v "$t" >/dev/null 2>&1 || { echo "SKIP: $t not found"; exit 77; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
sh "$top_srcdir/tests/segments/gen_work.sh" "$top_srcdir" "$tmp/work.img" "$top_builddir/utxo" "$tmp/work_img.h"
if ! cmp -s "$tmp/work.img" "$top_srcdir/tests/segments/work.img" ||
   ! cmp -s "$tmp/work_img.h" "$top_srcdir/src/chain/work_img.h"; then
    echo "tests/segments/work.img or src/chain/work_img.h is stale: run 'make seg-work-img' and commit both" >&2
    exit 1
fi
echo "work.img and chain/work_img.h match a fresh build"
