#!/usr/bin/env bash
# Validates 'migconform export kcidb' output with kcidb-io (PyPI), the KCIDB schema's own package, for a passing and
# a failing run, and for a report rebuilt from a damaged journal. The venv is kept in .build/kcidb-venv between runs.
#   scripts/validate-kcidb.sh BINARY [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="$1"
WORK="${2:-.build/kcidb-check}"
VENV=.build/kcidb-venv
if ! "$VENV/bin/python" -c 'import kcidb_io' 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check kcidb-io
fi
rm -rf "$WORK"; mkdir -p "$WORK"
for target in ref:v2 fault:missing-arc; do
    name=${target//[^A-Za-z0-9]/-}
    rc=0; "$BIN" run --quiet --target "$target" --out "$WORK/$name" > /dev/null || rc=$?
    [ "$rc" -le 1 ] || { echo "validate-kcidb: run --target $target exited $rc" >&2; exit "$rc"; }   # a fault run exits 1
    "$BIN" export kcidb "$WORK/$name" --origin migconform_ci --build-id "migconform_ci:$name" \
        --output "$WORK/$name.kcidb.json"
done
# The passing run's journal with one case's end record cut short, rebuilt: the export carries a journal test (ERROR).
DAMAGED="$WORK/ref-v2-damaged"
mkdir -p "$DAMAGED"
awk '/"type":"case-end"/ && ++n == 5 { print substr($0, 1, 40); next } { print }' "$WORK/ref-v2/journal.jsonl" \
    > "$DAMAGED/journal.jsonl"
"$BIN" report --from-journal "$DAMAGED" > /dev/null
"$BIN" export kcidb "$DAMAGED" --origin migconform_ci --build-id migconform_ci:ref-v2-damaged \
    --output "$WORK/ref-v2-damaged.kcidb.json"
"$VENV/bin/python" - "$WORK"/*.kcidb.json <<'PY'
import json, sys
import kcidb_io
for path in sys.argv[1:]:
    data = json.load(open(path))
    kcidb_io.schema.LATEST.validate(data)
    statuses = sorted({t.get("status") for t in data.get("tests", [])})
    if path.endswith("-damaged.kcidb.json"):
        journal = [t for t in data["tests"] if t["path"] == "migconform.journal"]
        assert len(journal) == 1 and journal[0]["status"] == "ERROR", f"{path}: no ERROR test for the journal"
    print(f"{path}: valid KCIDB {kcidb_io.schema.LATEST.major}.{kcidb_io.schema.LATEST.minor}, "
          f"{len(data.get('tests', []))} tests, statuses {statuses}")
PY
