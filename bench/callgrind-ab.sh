#!/usr/bin/env bash
# Instructions per request inside the VM (Node's V8, bench/vm-harness.mjs's stub host), counted
# by callgrind: repeatable on a loaded machine, where wall-clock timings are not. Each module runs
# the harness twice under callgrind, with N1 and N2 requests after the same warm-up; the
# difference of the totals over N2 - N1 is the instructions per request (V8's compilation and
# the warm-up cancel out). Node runs with Envoy's V8 flag --no-liftoff.
#
#   bench/callgrind-ab.sh BUNDLE.json PRINCIPAL PATH MODULE.wasm...
set -euo pipefail
bundle=$1 who=$2 path=$3; shift 3
here=$(cd "$(dirname "$0")" && pwd)
n1=${N1:-2000} n2=${N2:-12000}
ir() {
  local out; out=$(mktemp)
  VM_HARNESS_COUNT=$2 valgrind --tool=callgrind --callgrind-out-file="$out" \
    node --no-liftoff "$here/vm-harness.mjs" "$1" "$bundle" "$who" "$path" 0 >/dev/null 2>"$out.err" \
    || { cat "$out.err" >&2; return 1; }
  grep -E '^(summary|totals):' "$out" | head -1 | awk '{print $2}'
  rm -f "$out" "$out.err"
}
for m in "$@"; do
  a=$(ir "$m" "$n1"); b=$(ir "$m" "$n2")
  echo "$m $(( (b - a) / (n2 - n1) )) instructions/request"
done
