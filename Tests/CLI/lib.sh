# Tests/CLI/lib.sh — what every CLI test script shares: ROOT, G (the committed micro model), TMP (removed on
# exit), the pass/fail counters with ok/bad, a JSON field reader and the closing "<name>: N passed, M failed"
# line that Tests/summarize_results.sh sums. Sourced by the scripts after they set BIN.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
G=$ROOT/Tests/Goldens/micro
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
# field NAME JSON: the value of a top-level field of a one-line JSON object (null when null, MISSING when absent)
field() { python3 -c 'import json,sys; v=json.loads(sys.argv[2]).get(sys.argv[1], "MISSING"); print("null" if v is None else v)' "$1" "$2"; }
# finish NAME: the summary line; the script's exit status is 0 only without failures
finish() { echo "$1: $pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
