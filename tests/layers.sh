#!/bin/sh
# layers.sh — layers only look down (docs/DESIGN.md, "Layers"). Each folder
# of src/ stands on a floor; a file may use its own folder and lower floors
# only, and no two folders use each other. Two readings of "use":
#   1. includes: #include "FOLDER/..." in the sources (src/*/*.c, *.h);
#   2. calls: in the built objects, a symbol a folder leaves undefined that
#      another folder defines (this sees calls through the public API too,
#      e.g. a utxo_* function declared in include/utxo but defined higher).
# A new folder must be given its floor below, or this test fails.
set -u
src=$(cd "${top_srcdir:-.}/src" && pwd)
bld=$(cd "${top_builddir:-.}/src" && pwd)

# floor of each folder (peers share a floor; a pair of peers may use each
# other one way only, which the pair check below enforces)
floors='utxo 1
predicates 2
continuations 3
witness 3
prover 4
connect 5
sqlstore 6
wallet 7
chain 8
pipeline 9
history 10
client 10'

# Uses that are known to run up, "FOLDER/FILE USEDFOLDER" a line, each with
# the reason it is still there (none today).
allowed=''

floor_of() {
    printf '%s\n' "$floors" | awk -v f="$1" '$1 == f {print $2}'
}

pass=0; fail=0
for d in "$src"/*/; do
    f=$(basename "$d")
    if [ -z "$(floor_of "$f")" ]; then
        echo "FAIL: src/$f has no floor in tests/layers.sh (docs/DESIGN.md, Layers)"
        fail=$((fail + 1))
    fi
done

# edges "FOLDER/FILE USEDFOLDER WHAT", one per line
incs=$(cd "$src" && grep -H -o '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[a-z_]*/' \
    */*.c */*.h */*/*.c */*/*.h 2>/dev/null |
    sed 's/:[^"]*"\([a-z_]*\)\/$/ \1 include/')
# objects of the current sources only (a stale object of a moved file is not
# read): FOLDER/NAME.o or FOLDER/.libs/NAME.o for src/FOLDER/NAME.c
objs=$(cd "$bld" 2>/dev/null && find . -name '*.o' | sed 's|^\./||' | while read -r o; do
    n=$(basename "$o" .o); f=${o%%/*}
    [ -f "$src/$f/$n.c" ] && echo "$o"
done)
if [ -z "$objs" ]; then
    echo "FAIL: no objects under $bld: build first"; fail=$((fail + 1))
fi
calls=$(cd "$bld" && [ -n "$objs" ] && nm -A $objs 2>/dev/null | awk '
    {
        path = $1; sub(/:$/, "", path)
        n = split(path, p, "/"); folder = p[1]; file = p[n]; sub(/\.o$/, ".c", file)
        type = $(NF - 1); name = $NF
        if (type == "U") { uf[++nu] = folder; ufile[nu] = file; uname[nu] = name }
        else if (type ~ /^[A-TV-Z]$/) def[name] = folder
    }
    END {
        for (i = 1; i <= nu; i++)
            if ((uname[i] in def) && def[uname[i]] != uf[i])
                print uf[i] "/" ufile[i], def[uname[i]], "calls:" uname[i]
    }' | sort -u)
# judged in one pass: floors, the allowed list, then every edge
verdict=$(printf '%s\n%s\n' "$incs" "$calls" | awk -v floors="$floors" -v allowed="$allowed" '
    BEGIN {
        n = split(floors, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], x, " "); fl[x[1]] = x[2] }
        n = split(allowed, l, "\n"); for (i = 1; i <= n; i++) ok[l[i]] = 1
    }
    NF >= 3 {
        user = $1; used = $2; split(user, p, "/"); uf = p[1]
        if (uf == used || !(uf in fl) || !(used in fl) || ((user " " used) in ok)) next
        pair[uf " " used] = 1
        if (fl[used] > fl[uf]) up[user " -> src/" used ": " $3] = "  src/" user " (floor " fl[uf] ") -> src/" used " (floor " fl[used] "): " $3
    }
    END {
        for (k in up) print "UP" up[k]
        for (k in pair) { split(k, x, " "); if ((x[2] " " x[1]) in pair && x[1] < x[2]) print "MUTUAL  src/" x[1] " <-> src/" x[2] }
        np = 0; for (k in pair) np++; print "PAIRS " np
    }')
bad=$(printf '%s\n' "$verdict" | sed -n 's/^UP//p' | sort)
if [ -n "$bad" ]; then
    echo "FAIL: uses that run back up:"; printf '%s\n' "$bad" | head -40
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
mutual=$(printf '%s\n' "$verdict" | sed -n 's/^MUTUAL//p')
if [ -n "$mutual" ]; then
    echo "FAIL: folders that use each other:"; printf '%s\n' "$mutual"
    fail=$((fail + 1))
else
    pass=$((pass + 1))
fi
npairs=$(printf '%s\n' "$verdict" | sed -n 's/^PAIRS //p')
echo "$pass passed, $fail failed ($npairs folder arrows read)"
[ "$fail" -eq 0 ]
