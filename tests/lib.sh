# lib.sh — the preamble the command tests share; each sources it after its
# own header and `set -u`:  . "${top_srcdir:-.}/tests/lib.sh"
#
# It sets UTXO (the command under test), makes the temporary directory $tmp
# (removed on exit) and the counters pass and fail, and defines:
#   ok                                  count a passed check
#   bad MESSAGE                         count a failed check, say why on stderr
#   expect CODE DESCRIPTION -- CMD...   run CMD (stdout in $tmp/out, stderr
#                                       in $tmp/err) and check its exit code
#   flip FILE OFFSET                    flip bit 0 of the byte at OFFSET, in place
#   le32 N...                           N as little-endian 32-bit words in hex
#   reap PID [S [WHAT]]                 wait for background job PID to end, at
#                                       most S seconds (default 60), then
#                                       SIGKILL it; its exit status (137 when
#                                       killed): a process that ignores the
#                                       signal that should end it fails the
#                                       test instead of hanging CI. With WHAT
#                                       (what PID is doing), a kill is a
#                                       failed check naming it
#   reap_all S WHAT PID...              the same for several jobs, at most S
#                                       seconds in all; 1 when one was killed
#   ours PID                            PID is a child of this shell (not a
#                                       stranger that took a reaped job's pid)
#   end_jobs PID...                     for the EXIT traps: SIGTERM to each PID
#                                       still ours, reap_all 60 s; 1 when one
#                                       had to be killed
# A test ends by printing its "N passed, N failed" line and exiting with
# [ "$fail" -eq 0 ].
UTXO="${top_builddir:-.}/utxo"
# every server of the tests is on 127.0.0.1: a proxy the environment names
# (curl, python3 and utxo's libcurl all honour these) would get the requests
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY ALL_PROXY all_proxy
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect CODE DESCRIPTION -- command...
expect() {
    want=$1; what=$2; shift 3
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, wanted $want"; cat "$tmp/err" >&2; fi
}

# flip FILE OFFSET: flip bit 0 of the byte at OFFSET of FILE, in place
flip() {
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    printf "\\$(printf %o $((b ^ 1)))" | dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# reap PID [S [WHAT]]: the exit status of background job PID, killed after
# S s (the SIGKILL only when the time is up: the shell may have reaped the
# job during a sleep, and its pid may be another process's by then). A job
# may end with 137 by itself: a kill is told apart by the message, which
# with WHAT is a failed check ("WHAT: still running after S s: killed")
reap() {
    _n=0
    while kill -0 "$1" 2>/dev/null; do
        if [ "$_n" -ge "$(( ${2:-60} * 10 ))" ]; then
            kill -KILL "$1" 2>/dev/null
            if [ -n "${3:-}" ]; then
                bad "$3: still running after ${2:-60} s: killed (pid $1)"
            else
                echo "reap: pid $1 still running after ${2:-60} s: killed" >&2
            fi
            break
        fi
        sleep 0.1
        _n=$((_n + 1))
    done
    wait "$1"
}

# reap_all S WHAT PID...: wait for every PID to end, at most S s in all (one
# reap after another would wait S s for each); those still running then
# are killed, each a failed check naming WHAT. 1 when one was killed
reap_all() {
    _s=$1 _what=$2 _k=0 _n=0
    shift 2
    for _p in "$@"; do
        while kill -0 "$_p" 2>/dev/null && [ "$_n" -lt "$((_s * 10))" ]; do
            sleep 0.1
            _n=$((_n + 1))
        done
        if kill -0 "$_p" 2>/dev/null; then
            _c=$(tr '\0' ' ' 2>/dev/null <"/proc/$_p/cmdline" | cut -c1-200)
            kill -KILL "$_p" 2>/dev/null
            bad "$_what: still running after $_s s: killed (pid $_p${_c:+: $_c})"
            _k=1
        fi
        wait "$_p" 2>/dev/null
    done
    return "$_k"
}

# ours PID: PID is a child of this shell, not yet reaped (a zombie counts).
# A pid kept from a job reaped long ago may name another process by now
# (pid_max may be 32768): one to leave alone
ours() {
    if [ -r "/proc/$1/stat" ]; then
        # the fields after the command name, which may hold ") "
        _pp=$(sed 's/.*) [^ ]* \([0-9]*\) .*/\1/' "/proc/$1/stat" 2>/dev/null)
    else
        _pp=$(ps -o ppid= -p "$1" 2>/dev/null | tr -d ' ')
    fi
    [ "$_pp" = "$$" ]
}

# end_jobs PID...: the end of a test's background jobs (its EXIT trap):
# SIGTERM to each PID that is still ours, then each must end within 60 s
# (a job ignoring SIGTERM hung the bare `wait` that was here before); 1
# when one had to be killed, for the trap to exit with
end_jobs() {
    _live=
    for _j in "$@"; do
        ours "$_j" && kill "$_j" 2>/dev/null && _live="$_live $_j"
    done
    reap_all 60 "at exit, a job sent SIGTERM" $_live
}

# le32 N...: little-endian hex words
le32() {
    for w in "$@"; do
        h=$(printf '%08x' "$w")
        printf '%s%s%s%s' "$(echo "$h" | cut -c7-8)" "$(echo "$h" | cut -c5-6)" \
            "$(echo "$h" | cut -c3-4)" "$(echo "$h" | cut -c1-2)"
    done
}
