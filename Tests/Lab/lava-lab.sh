#!/usr/bin/env bash
# The LAVA lab: runs the mtty lab's guest as a real LAVA job, with Debian's lava-dispatcher and no LAVA server,
# and checks that LAVA recorded every case with the result the mtty lab expects.
#
#   Tests/Lab/lava-lab.sh [OUT_DIR]          (default OUT_DIR: Reports/lab-lava-<timestamp>)
#
# What it does, each step timed:
#   1. builds the mtty lab's kernel and initramfs (Tests/Lab/mtty-lab.sh with LAB_MODE=lava: the same kernel,
#      mtty.ko and static migconform; /init leaves a shell on the console; the guest has no network, its loopback
#      interface stays down)
#   2. installs lava-dispatcher and lava-common (only the missing packages, no recommends)
#   3. takes the device-type templates out of the lava-server package without installing it (apt-get download,
#      dpkg-deb -x, cached), renders the device dictionary Tests/Lab/lava/qemu-mtty.jinja2 and validates it
#   4. puts the output of `migconform integrate lava` into a local bare git repository
#   5. fills in Tests/Lab/lava/mtty-job.yaml (local URLs, the run arguments) and validates it strictly
#   6. runs the job with lava-run
#   7. reads the results LAVA logged, and the report folder the guest printed, and compares both with
#      Tests/Lab/mtty-expected.txt through the README's verdict -> LAVA result table
#
# Environment: MIGCONFORM_LAB_CACHE and LAB_* as for mtty-lab.sh (LAB_LOOPBACK=up brings the guest's loopback up);
#   LAVA_TIMEOUT  seconds before lava-run is killed (default 1200; the job's own timeout is 15 minutes)
#
# Exit status: 0 when LAVA recorded every expected case with the expected result; 1 when it did not; 90-99 when a lab
# step failed (each step names itself when it fails). Nothing downloaded or built lands in the repository.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MIGCONFORM_LAB_CACHE:-$HOME/.cache/migconform-lab}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${1:-$REPO/Reports/lab-lava-$STAMP}"
LAVA_TIMEOUT="${LAVA_TIMEOUT:-1200}"
LAVA_DIR="$REPO/Tests/Lab/lava"
PY=/usr/bin/python3          # Debian's python: lava_common, jinja2 and yaml are Debian packages

mkdir -p "$OUT" "$CACHE"
OUT="$(cd "$OUT" && pwd)"
WORK="$OUT/work"
rm -rf "$WORK"; mkdir -p "$WORK"
LOG="$OUT/lava-lab.log"
: > "$LOG"

T0=$EPOCHREALTIME
STEP="start"
STEP_T=$T0
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[lava %6ss] %s\n' "$(elapsed "$T0" "$EPOCHREALTIME")" "$*" | tee -a "$LOG" >&2; }
step() { STEP="$1"; STEP_T=$EPOCHREALTIME; say "== $1"; }
step_done() { say "   done: $STEP ($(elapsed "$STEP_T" "$EPOCHREALTIME") s)${1:+ - $1}"; }
fail() {
    say "FAILED at step '$STEP': $1"
    say "  log: $LOG"
    exit "${2:-90}"
}
trap 'rc=$?; say "FAILED at step '"'"'$STEP'"'"' (line $LINENO, exit $rc): $BASH_COMMAND"; exit 91' ERR

say "LAVA lab: repo $REPO"
say "cache $CACHE; output $OUT"

# ---------------------------------------------------------------------------------------------------------------
step "kernel and initramfs (Tests/Lab/mtty-lab.sh, LAB_MODE=lava)"
LAB_MODE=lava bash "$REPO/Tests/Lab/mtty-lab.sh" "$OUT/build" 2>&1 | sed 's/^/   /' | tee -a "$LOG" >&2 \
    || fail "the mtty lab's build failed (see $OUT/build/lab.log)" "${PIPESTATUS[0]}"
# shellcheck source=/dev/null
. "$OUT/build/lab.env"
step_done "kernel $LAB_KERNEL; run arguments: ${LAB_RUN_ARGS:-none}"

# ---------------------------------------------------------------------------------------------------------------
step "host packages"
NEEDED=(lava-dispatcher lava-common git python3-jinja2 python3-yaml cpio)
MISSING=()
for p in "${NEEDED[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
    say "   installing: ${MISSING[*]}"
    if ! apt-cache show "${MISSING[0]}" > /dev/null 2>&1; then apt-get update >> "$LOG" 2>&1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${MISSING[@]}" >> "$LOG" 2>&1 \
        || fail "apt-get install ${MISSING[*]} failed (see $LOG)" 92
fi
LAVA_VERSION="$(dpkg-query -W -f='${Version}' lava-dispatcher)"
step_done "lava-dispatcher $LAVA_VERSION; ${#MISSING[@]} installed"

# ---------------------------------------------------------------------------------------------------------------
step "device-type templates from lava-server (not installed)"
SERVER="$CACHE/lava-server/$LAVA_VERSION"
TEMPLATES="$SERVER/usr/share/lava-server/device-types"
if [ ! -f "$SERVER/.unpacked" ]; then
    DEBS="$CACHE/debs/lava-server"
    mkdir -p "$DEBS"
    if ! ls "$DEBS/lava-server_${LAVA_VERSION}_"*.deb > /dev/null 2>&1; then
        (cd "$DEBS" && apt-get download "lava-server=$LAVA_VERSION" >> "$LOG" 2>&1) \
            || fail "apt-get download lava-server=$LAVA_VERSION failed" 93
    fi
    rm -rf "$SERVER"; mkdir -p "$SERVER"
    dpkg-deb -x "$DEBS/lava-server_${LAVA_VERSION}_"*.deb "$SERVER"
    touch "$SERVER/.unpacked"
fi
[ -f "$TEMPLATES/qemu.jinja2" ] || fail "no qemu.jinja2 in $TEMPLATES" 93
QEMU_LINE="$("$PY" "$REPO/Tests/Lab/lava-lab.py" device "$LAVA_DIR/qemu-mtty.jinja2" "$TEMPLATES" \
    "$LAVA_DIR/mtty-job.yaml" "$WORK/device.yaml")" || fail "the device dictionary does not render or validate" 94
say "   qemu: $QEMU_LINE"
step_done "$WORK/device.yaml"

# ---------------------------------------------------------------------------------------------------------------
step "test definition repository"
DEFS="$WORK/testdefs"
mkdir -p "$DEFS/lava"
"$LAB_BIN" integrate lava > "$DEFS/lava/migconform.yaml"
git -C "$DEFS" init -q -b main
git -C "$DEFS" add lava/migconform.yaml
git -C "$DEFS" -c user.name=lab -c user.email=lab@localhost commit -q -m "migconform test definition"
git clone -q --bare "$DEFS" "$WORK/testdefs.git"
step_done "file://$WORK/testdefs.git, lava/migconform.yaml"

# ---------------------------------------------------------------------------------------------------------------
step "job"
"$PY" "$REPO/Tests/Lab/lava-lab.py" job "$LAVA_DIR/mtty-job.yaml" "$WORK/job.yaml" \
    "kernel=file://$LAB_VMLINUZ" "ramdisk=file://$LAB_INITRD" "repository=file://$WORK/testdefs.git" \
    "param.TARGET=$LAB_TARGET" "param.EXTRA_ARGS=$LAB_RUN_ARGS" > "$WORK/job.txt" \
    || fail "the job does not validate" 94
step_done "$WORK/job.yaml: $(cat "$WORK/job.txt"), valid (strict)"

# ---------------------------------------------------------------------------------------------------------------
step "lava-run"
mkdir -p /var/lib/lava/dispatcher/tmp
JOB_ID="$(date -u +%s)"
RC=0
timeout -k 20 "$LAVA_TIMEOUT" lava-run --job-id "$JOB_ID" --output-dir "$WORK/lava-output" \
    --device "$WORK/device.yaml" "$WORK/job.yaml" > "$OUT/lava-run.log" 2>&1 || RC=$?
JOB_SECONDS="$(elapsed "$STEP_T" "$EPOCHREALTIME")"
[ "$RC" -eq 124 ] && fail "lava-run did not end within $LAVA_TIMEOUT s (log: $OUT/lava-run.log)" 99
step_done "exit $RC in $JOB_SECONDS s; log $OUT/lava-run.log"

# ---------------------------------------------------------------------------------------------------------------
step "what LAVA recorded"
CMP=0
"$PY" "$REPO/Tests/Lab/lava-lab.py" results "$OUT/lava-run.log" "$REPO/Tests/Lab/mtty-expected.txt" \
    "$REPO/README.md" "$OUT" > "$OUT/summary.txt" || CMP=$?
sed 's/^/   /' "$OUT/summary.txt" | tee -a "$LOG" >&2
[ "$CMP" -le 1 ] || fail "the log does not read (see above)" 98
[ "$RC" -eq 0 ] || { say "   lava-run exited $RC"; CMP=1; }
step_done "$([ "$CMP" -eq 0 ] && echo "every case as expected" || echo "NOT as expected")"
say "total $(elapsed "$T0" "$EPOCHREALTIME") s (the job: $JOB_SECONDS s); files in $OUT"
exit "$CMP"
