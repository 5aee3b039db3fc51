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

# Files a failing command must not leave behind (each script sets its own), nor a temporary file in $TMP.
OUTPUTS=()
# expect_exit NAME CODE FRAGMENT ARGS...: sam2r ARGS exits with CODE ("nonzero": any but 0), prints exactly one
# stderr line "error: …" containing FRAGMENT, and leaves none of OUTPUTS and no temporary behind.
expect_exit() {
  local name=$1 code=$2 frag=$3; shift 3
  rm -f "${OUTPUTS[@]}"
  local out rc f
  out=$("$BIN" "$@" 2>&1 >/dev/null); rc=$?
  if [ "$code" = nonzero ]; then
    if [ $rc -eq 0 ]; then bad "$name: exit 0"; return; fi
  elif [ $rc -ne "$code" ]; then bad "$name: exit $rc, expected $code ($out)"; return; fi
  if [ "$(printf '%s\n' "$out" | grep -c .)" -ne 1 ]; then bad "$name: not one line: $out"; return; fi
  case "$out" in error:*) ;; *) bad "$name: does not start with 'error:': $out"; return ;; esac
  case "$out" in *"$frag"*) ;; *) bad "$name: '$out' lacks '$frag'"; return ;; esac
  for f in "${OUTPUTS[@]}"; do
    if [ -e "$f" ]; then bad "$name: left $f behind"; return; fi
  done
  if ls -a "$TMP" | grep -q '\.tmp-'; then bad "$name: left a temporary file behind"; return; fi
  ok
}
# expect_error NAME FRAGMENT ARGS...: expect_exit with any non-zero exit status.
expect_error() { local name=$1 frag=$2; shift 2; expect_exit "$name" nonzero "$frag" "$@"; }
