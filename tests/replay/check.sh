#!/usr/bin/env bash
# check.sh: replays every golden trace in tests/replay/ with the given replay command
# and compares its output byte for byte with the trace's .expected file.
# Usage: bash tests/replay/check.sh build/replay [dir]   (make test-c runs it; dir
# defaults to tests/replay, whose traces the WASM replay also checks; the delivery
# traces in tests/replay/delivery need the outbox, which only the native tool has)
# Prints TAP-style "ok k - name" / "not ok k - name" (with a diff) and a final
# "# N passed, M failed" line; exits 1 when any trace differs.
set -u
replay=${1:?usage: check.sh <replay-command>}
dir=$(cd "${2:-$(dirname "$0")}" && pwd)
pass=0 fail=0 n=0
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
for trace in "$dir"/*.trace; do
  name=$(basename "$trace" .trace)
  n=$((n + 1))
  if [ ! -f "$dir/$name.expected" ]; then
    echo "not ok $n - $name (no $name.expected)"
    fail=$((fail + 1))
    continue
  fi
  if "$replay" "$trace" >"$tmp" 2>&1 && cmp -s "$tmp" "$dir/$name.expected"; then
    echo "ok $n - $name"
    pass=$((pass + 1))
  else
    echo "not ok $n - $name"
    diff "$dir/$name.expected" "$tmp" | head -20 | sed 's/^/#   /'
    fail=$((fail + 1))
  fi
done
echo "1..$n"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
