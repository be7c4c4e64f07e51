# nodelib.sh — helpers of the node tests (sourced after lib.sh): nodes
# started in the background on 127.0.0.1, stopped at the end of the test.
command -v python3 >/dev/null 2>&1 || { echo "$0: python3 is not installed" >&2; exit 1; }
command -v curl >/dev/null 2>&1 || { echo "$0: curl is not installed" >&2; exit 1; }

pids=
cleanup() { end_jobs $pids; _e=$?; rm -rf "$tmp"; [ "$_e" -eq 0 ] || exit 1; }
trap cleanup EXIT

# serve NAME DIR PORT [node options]: a node in the background; sets
# NAME_pid and NAME_url once it listens (at most 10 s)
serve() {
    name=$1 dir=$2 port=$3
    shift 3
    rm -f "$tmp/$name.out"
    "$UTXO" node --datadir "$dir" --listen "127.0.0.1:$port" "$@" >"$tmp/$name.out" 2>"$tmp/$name.log" &
    eval "${name}_pid=$!"
    pids="$pids $!"
    n=0
    while ! grep -q "^listening on " "$tmp/$name.out" 2>/dev/null && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
    eval "${name}_url=\$(sed -n 's/^listening on //p' \"\$tmp/\$name.out\")"
}
# stop NAME: SIGTERM; the node must exit 0 (a sanitizer's report fails it)
stop() {
    eval "p=\$${1}_pid"
    kill -TERM "$p" 2>/dev/null
    reap "$p" 2>/dev/null
    st=$?
    [ "$st" -eq 0 ] && ok || bad "$1 stopped with exit $st: $(tail -20 "$tmp/$1.log")"
}
# field KEY: the value of KEY in the JSON object on stdin (null when absent)
field() { python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print("null" if v is None else v)' "$1"; }
# wait_height URL H: until URL/status says height H (at most 20 s)
wait_height() {
    n=0
    while [ "$(curl -s "$1/status" | field height 2>/dev/null)" != "$2" ] && [ $n -lt 200 ]; do
        sleep 0.1
        n=$((n + 1))
    done
    [ "$(curl -s "$1/status" | field height 2>/dev/null)" = "$2" ]
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
