#!/bin/bash
# Requests/s by wrk and voluntary context switches per request (every thread of the server,
# from /proc/PID/task/*/status), for a few server binaries in interleaved rounds, each run on a
# fresh server whose log goes to a file. Linux only; needs wrk (apt-get install wrk).
#
#   xtask/scripts/context-switches.sh 3 target/release/stage-5-tokio target/release/reference
set -eu
rounds=${1:?usage: $0 ROUNDS SERVER_BINARY...}
shift
command -v wrk >/dev/null || { echo "skipped: wrk is not installed (apt-get install wrk)" >&2; exit 0; }
dir=$(mktemp -d)
switches() { cat /proc/"$1"/task/*/status | awk '/^voluntary_ctxt_switches/ { s += $2 } END { print s }'; }
for round in $(seq "$rounds"); do
    for bin in "$@"; do
        "$bin" --port 0 >"$dir/stdout" 2>"$dir/log" &
        pid=$!
        for _ in $(seq 100); do
            grep -q 'Listening on' "$dir/stdout" 2>/dev/null && break
            sleep 0.1
        done
        url=$(sed -n 's/^Listening on //p' "$dir/stdout")
        before=$(switches "$pid")
        rps=$(wrk -t2 -c16 -d3s -H 'Connection: close' "$url/" | awk '/Requests\/sec/ { print $2 }')
        after=$(switches "$pid")
        requests=$(grep -c ' -> 200' "$dir/log" || true)
        kill -INT "$pid"
        wait "$pid" || true
        awk -v r="$round" -v b="$(basename "$bin")" -v rps="$rps" -v d=$((after - before)) -v n="$requests" \
            'BEGIN { printf "round %s %-16s %9s req/s  %.2f context switches per request\n", r, b, rps, d / (n > 0 ? n : 1) }'
    done
done
rm -r "$dir"
