#!/usr/bin/env bash
# The pitfalls chapter's table, measured the way a user would see it: each release binary
# started under `ulimit -n 40` with stderr going to a file, 80 idle clients (bash's /dev/tcp)
# for 2 s, then `curl` asks for `/`. Linux only (CPU time from /proc/PID/stat, in 10 ms ticks).
#
#   cargo build --release
#   crates/harness/tests/fd_flood_by_hand.sh [DIR]          # DIR: target/release by default
#   ARGS="--max-connections 1000" BINS="stage-4 stage-5" crates/harness/tests/fd_flood_by_hand.sh
#
# `cargo test -p harness --test faults_table -- --ignored --nocapture` measures the same in
# Rust, through a pipe instead of a file.
set -u
dir=${1:-target/release}
work=$(mktemp -d)
printf "| binary | CPU, %% of a core | stderr written | lines | GET / afterwards |\n|---|---:|---:|---:|---|\n"
for b in ${BINS:-stage-1 stage-2 stage-3 stage-3-tokio stage-3-smol stage-3-mini stage-4 stage-4-tokio stage-4-smol stage-4-mini stage-5 stage-5-tokio stage-5-smol stage-5-mini}; do
  out=$work/$b.out; err=$work/$b.err
  # shellcheck disable=SC2086 # ARGS is a list of flags
  ( ulimit -n 40; exec "$dir/$b" --port 0 ${ARGS:-} >"$out" 2>"$err" ) &
  pid=$!
  for _ in $(seq 200); do grep -q Listening "$out" 2>/dev/null && break; sleep 0.05; done
  addr=$(sed -n 's|Listening on http://||p' "$out")
  if [ -z "$addr" ]; then echo "| $b | did not start | | | |"; kill "$pid" 2>/dev/null; continue; fi
  port=${addr##*:}
  sleep 0.1
  e0=$(stat -c %s "$err"); l0=$(wc -l < "$err")
  read -r u0 s0 < <(awk '{sub(/.*\) /,""); print $12, $13}' "/proc/$pid/stat")
  t0=$(date +%s.%N)
  ( for _ in $(seq 80); do exec {fd}<>"/dev/tcp/127.0.0.1/$port"; done 2>/dev/null; sleep 2.5 ) &
  holder=$!
  sleep 2
  read -r u1 s1 < <(awk '{sub(/.*\) /,""); print $12, $13}' "/proc/$pid/stat")
  t1=$(date +%s.%N)
  e1=$(stat -c %s "$err"); l1=$(wc -l < "$err")
  wait "$holder"
  code=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$addr/")
  alive=yes; kill -0 "$pid" 2>/dev/null || alive=no
  cpu=$(awk -v a=$((u1 + s1 - u0 - s0)) -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", a * 10 / ((t1 - t0) * 1000) * 100 }')
  printf "| %s | %s %% | %s B | %s | %s (alive: %s) |\n" "$b" "$cpu" $((e1 - e0)) $((l1 - l0)) "$code" "$alive"
  kill "$pid"; wait "$pid" 2>/dev/null
done
rm -rf "$work"
