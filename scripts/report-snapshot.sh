#!/usr/bin/env bash
# Runs the shipped specs on every reference profile and every catalogue fault and keeps each run's report files
# with the timing removed (timestamps, durations, cost figures, the files' hashes), so that two builds can be compared:
#   scripts/report-snapshot.sh OLD_BINARY /tmp/snap-old
#   scripts/report-snapshot.sh NEW_BINARY /tmp/snap-new
#   diff -r /tmp/snap-old /tmp/snap-new && echo identical
# A refactoring that changes no behaviour leaves the two folders identical.
set -euo pipefail
if [ $# -ne 2 ]; then echo "usage: $0 MIGCONFORM_BINARY OUT_DIR" >&2; exit 2; fi
bin=$1 out=$2
rm -rf "$out" && mkdir -p "$out"
work=$(mktemp -d) && trap 'rm -rf "$work"' EXIT

targets=(
  'ref:v2' 'ref:v2?features=stop-copy' 'ref:v2?features=stop-copy,p2p' 'ref:v2?features=stop-copy,pre-copy'
  'ref:v2?data-size=no' 'ref:v2?error-on-bad-resume=no' 'ref:v2?dma-logging=no' 'ref:v2?state-size=64KiB'
  'ref:v1' 'ref:v1?state-size=64KiB'
)
while read -r name gen _; do
  case $gen in v1|v2) targets+=("fault:$name") ;; esac
done < <("$bin" faults)

normalize() {  # a run folder -> its timing-free copy
  local from=$1 to=$2 f
  mkdir -p "$to"
  for f in "$from"/*; do
    case $f in
      *.json|*.jsonl)
        python3 - "$f" > "$to/$(basename "$f")" <<'PY'
import json, sys
TIMING = {"durationMicros", "micros", "time", "started", "ended", "sha256", "cost", "durationSeconds", "wall", "files"}
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in TIMING}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
path = sys.argv[1]
if path.endswith(".jsonl"):
    for line in open(path):
        print(json.dumps(strip(json.loads(line)), sort_keys=True))
else:
    print(json.dumps(strip(json.load(open(path))), indent=1, sort_keys=True))
PY
        ;;
      *)
        sed -E -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/TIME/g' \
               -e 's/\(([0-9.]+ ?(us|µs|ms|s))\)/(DURATION)/g' \
               -e 's/(duration_us|time)([:=] ?"?)[0-9.]+/\1\2N/g' \
               -e 's/[0-9]+([.][0-9]+)? ?(us|µs|ms|s)\b/DURATION/g' -e 's/\([0-9]+$/(N/' \
               "$f" > "$to/$(basename "$f")"
        ;;
    esac
  done
}

n=0
for t in "${targets[@]}"; do
  safe=$(printf '%s' "$t" | tr -c 'A-Za-z0-9._-' '_')
  set +e
  "$bin" run --quiet --target "$t" --out "$work/$safe" > "$work/$safe.console" 2>&1
  rc=$?
  set -e
  { echo "exit $rc"; sed -E 's/[0-9]+([.][0-9]+)? ?(us|µs|ms|s)\b/DURATION/g' "$work/$safe.console"; } > "$out/$safe.console"
  [ -d "$work/$safe" ] && normalize "$work/$safe" "$out/$safe"
  n=$((n + 1))
done
"$bin" faults --check 2>&1 | sed -E 's/[0-9]+([.][0-9]+)? ?(us|µs|ms|s)\b/DURATION/g' > "$out/faults-check.txt" || true
echo "$n runs and faults --check in $out"
