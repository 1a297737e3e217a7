#!/bin/bash
# The CPU time (user and kernel, perf's task-clock over every thread) and the context switches
# a server spends per request under `wrk -t1 -c8 -d3s` (or the threads and connections in
# WRK_LOAD, such as WRK_LOAD="-t2 -c16"), each run on a fresh server whose log goes to a file
# (its lines are the request count), with wrk's requests/s. Linux only; needs wrk and perf
# (apt-get install wrk linux-perf). Give a binary several times for several rounds:
#
#   xtask/scripts/cpu-per-request.sh target/release/stage-5 target/release/stage-5-smol
#   WRK_LOAD="-t16 -c16" xtask/scripts/cpu-per-request.sh target/release/reference
set -eu
command -v wrk >/dev/null || { echo "skipped: wrk is not installed (apt-get install wrk)" >&2; exit 0; }
command -v perf >/dev/null || { echo "skipped: perf is not installed (apt-get install linux-perf)" >&2; exit 0; }
dir=$(mktemp -d)
for bin in "$@"; do
name=$(basename "$bin"); d=$dir/$name; rm -rf "$d"; mkdir -p "$d"
"$bin" --port 0 >"$d/stdout" 2>"$d/log" &
pid=$!
for i in $(seq 50); do grep -q Listening $d/stdout 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^Listening on //p' $d/stdout)
perf stat -x, -e task-clock,context-switches,cpu-migrations -p $pid -o $d/perf -- sleep 3.2 &
ps=$!
wrk ${WRK_LOAD:--t1 -c8} -d3s -H 'Connection: close' $url/ > $d/wrk
wait $ps
n=$(grep -c ' -> 200' "$d/log" || true)
kill -INT $pid; wait $pid
rps=$(awk '/Requests\/sec/ {print $2}' $d/wrk)
awk -F, -v n=$n -v b=$name -v r="$rps" '/task-clock/ {tc=$1} /context-switches/ {cs=$1} /cpu-migrations/ {m=$1} END {printf "%-16s %6d req  %8.0f req/s  %6.1f us CPU/req  %.2f cs/req %.2f migr/req\n", b, n, r, tc*1000/n, cs/n, m/n}' $d/perf
done
rm -r "$dir"
