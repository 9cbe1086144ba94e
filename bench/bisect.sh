#!/usr/bin/env bash
# Where spiffe-authz's added CPU per request goes, in Envoy: builds the filter four more times,
# each returning Continue at one stage of `on_http_request_headers` (src/filter/http.rs), and
# measures them side by side with the real filter, the no-op floor and the probe making the
# same host calls, in one interleaved run of bench/run.py (`--alt-wasm`):
#
#   stage0  returns at once: what a stream costs in this module before any work
#   stage1  + the request header map read from the host and decoded in place
#   stage2  + request::incoming (the peer's URI SAN read, the request built, path canonicalized)
#   stage3  + the decision and the policy counters (no enforcement)
#   (full)  + enforcement: the real filter, dist/spiffe_authz.wasm
#
# Every stage is the same module (the same size, the same code; only where it returns differs),
# so a difference between two rows is the work between the two stages.
#
#   bench/bisect.sh [bench/run.py options]    e.g. --rounds 6 (default: the options below)
# Writes target/bench-bisect/RESULTS.md. Takes ~12 minutes on 2 cores.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=$root/target/bench-bisect
mkdir -p "$out"
tree=$(mktemp -d)
trap 'git worktree remove --force "$tree" >/dev/null 2>&1 || rm -rf "$tree"' EXIT
git worktree add -q --detach "$tree" HEAD
# The stages, inserted at anchors of src/filter/http.rs: a missing anchor stops the script.
python3 - "$tree/src/filter/http.rs" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
stages = [
    ("        let Some(loaded) = self.loaded.clone() else {\n",
     '        const STAGE: &str = match option_env!("BISECT_STAGE") { Some(s) => s, None => "9" };\n'
     '        if STAGE == "0" { return Action::Continue; }\n', True),
    ("        let incoming = match incoming(",
     '        if STAGE == "1" { std::hint::black_box(&headers); return Action::Continue; }\n', True),
    ("        let d = engine.evaluate(req);\n",
     '        if STAGE == "2" { std::hint::black_box(&incoming); return Action::Continue; }\n', True),
    ("        loaded.counters.count(&d);\n",
     '        if STAGE == "3" { std::hint::black_box(&d); return Action::Continue; }\n', False),
]
for anchor, line, before in stages:
    if s.count(anchor) != 1:
        sys.exit(f"bench/bisect.sh: src/filter/http.rs changed: anchor {anchor.strip()!r} not found once")
    s = s.replace(anchor, line + anchor if before else anchor + line)
open(p, "w").write(s)
PY
eval "$(grep -E '^WASM_OPT_(PASSES|FEATURES)=' build.sh)"
args=()
for stage in 0 1 2 3; do
  echo "==> building stage $stage" >&2
  (cd "$tree" && BISECT_STAGE=$stage CARGO_TARGET_DIR="$root/target/bisect" \
    cargo build -q --release --target wasm32-wasip1 --lib)
  # shellcheck disable=SC2086
  wasm-opt $WASM_OPT_PASSES $WASM_OPT_FEATURES "$root/target/bisect/wasm32-wasip1/release/spiffe_authz.wasm" \
    -o "$out/stage$stage.wasm"
  args+=(--alt-wasm "stage$stage=$out/stage$stage.wasm")
done
[ $# -gt 0 ] || set -- --rounds 6 --perf
./build.sh bench --only istio-1x10,istio-10kx10 --probe-calls "uri,headers" "${args[@]}" \
  --no-load --no-access-log --no-micro --startup-reps 0 --out "$out" --results-md "$out/RESULTS.md" "$@"
