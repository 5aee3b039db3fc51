#!/usr/bin/env bash
# End-to-end checks of the sam2r command line: a real run on the committed micro model, and bad input
# that must end in a one-line "error: …", a non-zero exit, and no output file left behind.
# Usage: Tests/CLI/run_cli_tests.sh path/to/sam2r
set -u
BIN=${1:?usage: run_cli_tests.sh path/to/sam2r}
source "$(dirname "$0")/lib.sh"

MODEL=(--checkpoint "$G/checkpoint.pt" --config "$G/config.json")
IMG=(--image "$G/images/astronaut.png")

# What a failing command must not leave behind (expect_exit / expect_error, Tests/CLI/lib.sh).
OUTPUTS=("$TMP/out.png")

# --- a real run: every output written, scores as Meta's predictor gave them (manifest: 0.2031 0.4646 0.3116)
out=$("$BIN" run "${MODEL[@]}" "${IMG[@]}" --point 72,40 --multimask --threads 2 \
      --mask-out "$TMP/m.png" --overlay-out "$TMP/o.png" --logits-out "$TMP/l.npy" --scores-out "$TMP/s.npy" --json)
rc=$?
[ $rc -eq 0 ] && ok || bad "real run exit $rc"
for f in m.png o.png l.npy s.npy; do [ -s "$TMP/$f" ] && ok || bad "real run did not write $f"; done
case "$out" in *'"scores":[0.2031'*'0.4646'*'0.3116'*) ok ;; *) bad "scores differ from the golden: $out" ;; esac
case "$out" in *'"arena_bytes":'*'"timings_ms":{"load":'*) ok ;; *) bad "json lacks arena/timings: $out" ;; esac
# .npy header: magic, version 1.0, float32 C-order [3,32,32]
head -c 128 "$TMP/l.npy" | grep -aq "'descr': '<f4', 'fortran_order': False, 'shape': (3, 32, 32)" && ok || bad "logits .npy header"
head -c 128 "$TMP/s.npy" | grep -aq "'shape': (3,)" && ok || bad "scores .npy header"
# Ten clicks more than the prompt capacity is refused; a box alone works.
"$BIN" run "${MODEL[@]}" "${IMG[@]}" --box 10,10,120,150 --mask-out "$TMP/box.png" >/dev/null 2>&1 && [ -s "$TMP/box.png" ] && ok || bad "box-only run"

# --- SAM2Refiner (Tests/Goldens/refiner-micro): used by default when the config has a refiner; --no-refine gives
# plain SAM2.1 (its SAM2 tensors equal the micro model's, so the micro scores above); scores are the decoder's.
R=$ROOT/Tests/Goldens/refiner-micro
RMODEL=(--checkpoint "$R/checkpoint.pt" --config "$R/config.json")
out=$("$BIN" run "${RMODEL[@]}" "${IMG[@]}" --point 72,40 --threads 2 --mask-out "$TMP/r.png" --json)
[ $? -eq 0 ] && [ -s "$TMP/r.png" ] && ok || bad "refiner run"
case "$out" in *'"scores":[0.4647'*'"refiner":true'*) ok ;; *) bad "refiner run: $out" ;; esac
out=$("$BIN" run "${RMODEL[@]}" "${IMG[@]}" --point 72,40 --multimask --no-refine --json)
case "$out" in *'"scores":[0.2031'*'0.4646'*'0.3116'*'"refiner":false'*) ok ;; *) bad "--no-refine: $out" ;; esac
case "$("$BIN" run "${MODEL[@]}" "${IMG[@]}" --point 72,40 --json)" in *'"refiner":false'*) ok ;; *) bad "plain model reports a refiner" ;; esac
expect_error "refiner weights, plain config" 'no "refiner" object' run --checkpoint "$R/checkpoint.pt" --config "$G/config.json" "${IMG[@]}" --point 3,3 --mask-out "$TMP/out.png"
cat > "$TMP/p160.json" <<'JSON'
{"schema": 1, "name": "p160", "description": "test", "arch": "x86_64", "core": "x", "required_isa": [],
 "preferred_isa": ["scalar"], "threads": 1, "arena_budget_bytes": 1000000000, "input_size": 160, "precision": "fp32", "float_ops": []}
JSON
expect_error "refiner window vs profile size" "la_window: 4 must be >= 1 and divide the image-embedding side 10" run "${RMODEL[@]}" "${IMG[@]}" --point 3,3 --profile "$TMP/p160.json" --mask-out "$TMP/out.png"
case "$("$BIN" run "${RMODEL[@]}" "${IMG[@]}" --point 72,40 --profile "$TMP/p160.json" --no-refine --json)" in
  *'"input_size":160'*'"refiner":false'*) ok ;; *) bad "--no-refine at a size only the refiner cannot run" ;; esac
expect_error "refiner config, plain weights" "missing 'refiner." run --checkpoint "$G/checkpoint.pt" --config "$R/config.json" "${IMG[@]}" --point 3,3 --mask-out "$TMP/out.png"

# --- bad input
expect_error "missing checkpoint" "nonexistent.pt" run --checkpoint "$TMP/nonexistent.pt" --config "$G/config.json" "${IMG[@]}" --point 1,1 --mask-out "$TMP/out.png"
head -c 5000 "$G/checkpoint.pt" > "$TMP/truncated.pt"
expect_error "truncated checkpoint" "truncated.pt" run --checkpoint "$TMP/truncated.pt" --config "$G/config.json" "${IMG[@]}" --point 1,1 --mask-out "$TMP/out.png"
printf 'not a zip at all' > "$TMP/garbage.pt"
expect_error "garbage checkpoint" "garbage.pt" run --checkpoint "$TMP/garbage.pt" --config "$G/config.json" "${IMG[@]}" --point 1,1 --mask-out "$TMP/out.png"
expect_error "checkpoint of another size" "image_encoder.trunk" run --checkpoint "$G/checkpoint.pt" --config tiny "${IMG[@]}" --point 1,1 --mask-out "$TMP/out.png"
expect_error "unknown config" "not a preset" run --checkpoint "$G/checkpoint.pt" --config huge "${IMG[@]}" --point 1,1 --mask-out "$TMP/out.png"
expect_error "missing image" "nope.png" run "${MODEL[@]}" --image "$TMP/nope.png" --point 1,1 --mask-out "$TMP/out.png"
head -c 300 "$G/images/astronaut.png" > "$TMP/cut.png"
expect_error "truncated image" "cut.png" run "${MODEL[@]}" --image "$TMP/cut.png" --point 1,1 --mask-out "$TMP/out.png"
expect_error "point outside" "outside the 160x160 image" run "${MODEL[@]}" "${IMG[@]}" --point 500,3 --mask-out "$TMP/out.png"
expect_error "NaN point" "finite" run "${MODEL[@]}" "${IMG[@]}" --point nan,3 --mask-out "$TMP/out.png"
expect_error "bad label" "label must be 1" run "${MODEL[@]}" "${IMG[@]}" --point 3,3,2 --mask-out "$TMP/out.png"
expect_error "malformed point" "expected X,Y" run "${MODEL[@]}" "${IMG[@]}" --point 3 --mask-out "$TMP/out.png"
expect_error "inverted box" "inverted" run "${MODEL[@]}" "${IMG[@]}" --box 50,50,10,10 --mask-out "$TMP/out.png"
expect_error "box outside" "outside" run "${MODEL[@]}" "${IMG[@]}" --box 0,0,10,900 --mask-out "$TMP/out.png"
expect_error "no prompt" "at least one --point" run "${MODEL[@]}" "${IMG[@]}" --mask-out "$TMP/out.png"
expect_error "output directory missing" "does not exist" run "${MODEL[@]}" "${IMG[@]}" --point 3,3 --mask-out "$TMP/no/such/dir/out.png"
expect_error "bad thread count" "--threads" run "${MODEL[@]}" "${IMG[@]}" --point 3,3 --threads 0 --mask-out "$TMP/out.png"
expect_error "unknown profile" "no profile named" run "${MODEL[@]}" "${IMG[@]}" --point 3,3 --profile pi9 --mask-out "$TMP/out.png"
cat > "$TMP/tiny-budget.json" <<'JSON'
{"schema": 1, "name": "tiny-budget", "description": "test", "arch": "x86_64", "core": "x", "required_isa": [],
 "preferred_isa": ["scalar"], "threads": 1, "arena_budget_bytes": 1000, "input_size": 128, "precision": "fp32", "float_ops": []}
JSON
expect_error "arena over budget" "allows 1000" run "${MODEL[@]}" "${IMG[@]}" --point 3,3 --profile "$TMP/tiny-budget.json" --mask-out "$TMP/out.png"
# A file cannot forge extra output lines: control characters it contains are escaped in the error.
cat > "$TMP/forged.json" <<'JSON'
{"schema": 1, "name": "forged", "description": "test", "arch": "x86\nerror: forged second line", "core": "x",
 "required_isa": [], "preferred_isa": ["scalar"], "threads": 1, "arena_budget_bytes": 1000, "input_size": 128,
 "precision": "fp32", "float_ops": []}
JSON
expect_error "newline in a file's string" 'x86\nerror: forged' run "${MODEL[@]}" "${IMG[@]}" --point 3,3 --profile "$TMP/forged.json" --mask-out "$TMP/out.png"
SAM2R_ISA=avx1024 expect_error "forced unsupported ISA" "not a variant" cpu
SAM2R_ISA=neon expect_error "forced ISA of another architecture" "not supported by this CPU" cpu
expect_error "unknown subcommand" "nope" nope

finish cli
