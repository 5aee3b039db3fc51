#!/usr/bin/env bash
# Sums every suite's results in build/results/*.log into the one closing line of `make test`:
# the C harness and CLI scripts print "<name>: N passed, M failed"; XCTest prints
# "Executed N tests, with S tests skipped and F failures" for its last ("All tests") suite.
set -eu
dir=${1:-build/results}
passed=0; failed=0; skipped=0
for f in "$dir"/*.log; do
  while read -r p fl; do passed=$((passed + p)); failed=$((failed + fl)); done < <(
    grep -E '^[a-z0-9-]+: [0-9]+ passed, [0-9]+ failed' "$f" | sed -E 's/^[^:]+: ([0-9]+) passed, ([0-9]+) failed.*/\1 \2/')
  line=$(grep -E 'Executed [0-9]+ tests?, with' "$f" | tail -1 || true)
  if [ -n "$line" ]; then
    n=$(sed -E 's/.*Executed ([0-9]+) tests?.*/\1/' <<<"$line")
    s=$(grep -oE '[0-9]+ tests? skipped' <<<"$line" | grep -oE '^[0-9]+' || echo 0)
    fl=$(sed -E 's/.* ([0-9]+) failures?.*/\1/' <<<"$line")
    passed=$((passed + n - s - fl)); failed=$((failed + fl)); skipped=$((skipped + s))
  fi
done
echo "make test: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
