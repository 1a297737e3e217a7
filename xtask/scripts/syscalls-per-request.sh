#!/bin/sh
# System calls per request of one server binary under a bounded load, as the book's chapter
# "What it costs" reports them. Linux only; needs strace and wrk (Debian: apt-get install
# strace wrk). Usage, after `cargo build --release`:
#
#   xtask/scripts/syscalls-per-request.sh target/release/stage-5-tokio
#
# It starts the server under `strace -f -c` on a free port, loads it with wrk for 2 s
# (1 thread, 4 connections, `Connection: close`), stops it with Ctrl-C (SIGINT, a graceful
# shutdown), and divides each call's count by the requests the server logged.
set -eu
bin=${1:?usage: $0 SERVER_BINARY}
for tool in strace wrk; do
    command -v "$tool" >/dev/null || { echo "skipped: $tool is not installed (apt-get install $tool)" >&2; exit 0; }
done
dir=$(mktemp -d)
strace -f -c -o "$dir/strace" "$bin" --port 0 >"$dir/stdout" 2>"$dir/log" &
tracer=$!
# The server's first line says its port.
for _ in $(seq 100); do
    grep -q 'Listening on' "$dir/stdout" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's/^Listening on //p' "$dir/stdout")
[ -n "$url" ] || { echo "error: $bin printed no Listening line" >&2; kill "$tracer"; exit 1; }
wrk -t1 -c4 -d2s -H 'Connection: close' "$url/" >"$dir/wrk"
# SIGINT to the server itself (strace's child), not to strace, which would only detach.
server=$(pgrep -P "$tracer")
kill -INT "$server"
wait "$tracer" || true
requests=$(grep -c ' -> 200' "$dir/log" || true)
echo "$bin: $requests requests logged; system calls per request (strace -f -c):"
awk -v n="$requests" '$4 ~ /^[0-9]+$/ && $NF != "total" { printf "  %-14s %8d  %6.2f\n", $NF, $4, $4 / n }' \
    "$dir/strace" | sort -k2 -nr | head -12
rm -r "$dir"
