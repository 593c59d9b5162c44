#!/usr/bin/env bash
# The mtty lab: runs migconform against a real kernel migration driver (the kernel's mtty sample, an mdev serial
# device that advertises STOP_COPY|P2P|PRE_COPY) inside QEMU, and brings the reports back to the host.
#
#   Tests/Lab/mtty-lab.sh [OUT_DIR]          (default OUT_DIR: Reports/lab-mtty-<timestamp>)
#
# What it does, each step timed:
#   1. installs the Debian packages it needs (only the missing ones)
#   2. picks the newest Debian 6.12 kernel, downloads its packages into the cache and unpacks them
#   3. extracts samples/vfio-mdev/mtty.c from linux-source and builds mtty.ko out of tree
#   4. builds migconform as a static binary (own scratch folder .build-lab)
#   5. makes an initramfs: busybox, the four modules, migconform, the specs, /init
#   6. boots QEMU under TCG; the guest creates an mtty-2 instance and runs the guest command
#   7. decodes the files the guest printed (base64 between marker lines): the run folder into OUT_DIR/run (checked
#      with `migconform verify`), the guest's kernel log into OUT_DIR beside the lab's own logs
#
# Environment:
#   MIGCONFORM_LAB_CACHE  cache folder (default ~/.cache/migconform-lab): .debs, unpacked kernel, mtty.c, mtty.ko
#   LAB_MODE              auto (default) | run | devices | probe: what runs in the guest (see guest_command below);
#                         lava: build only, for Tests/Lab/lava-lab.sh: /init leaves a root shell on the console (prompt
#                         'lab-guest# ') for LAVA's test actions; the script stops after the initramfs and writes
#                         OUT_DIR/lab.env (the kernel, the initramfs, the target and the run arguments)
#   LAB_LOOPBACK          down (default) | up: the guest's loopback interface (nothing else gives it a network)
#   LAB_SPEC              spec path inside the guest (default /Specs/vfio-migration-v2.json)
#   LAB_RUN_ARGS          extra arguments for `migconform run` (filters, --allow-hazard, ...)
#   LAB_TIMEOUT           seconds before QEMU is killed (default 900)
#   LAB_MDEV_TYPE         mtty-1 or mtty-2 (default mtty-2)
#   LAB_TRACE_MODULE      module whose functions the run traces (--trace-module; default mtty; empty: none)
#   LAB_PEERS             yes (default) | no: also create a second mdev of the same type (--peer) and one of the
#                         other type (--foreign-peer), so that the two-device rules run
#   LAB_KERNEL_VERSION    a Debian package version to use instead of the newest (e.g. 6.12.117-1~deb12u1)
#   LAB_STATIC            auto (default) | executable | stdlib: how to link migconform
#   LAB_SOURCE            worktree (default): build the files as they are; head: build the last commit
#   LAB_SMP               virtual CPUs of the guest (default 1)
#   LAB_WARMUP            runs of the guest command before the one measured, their output thrown away (default 0):
#                         under TCG the first run also pays for QEMU translating every code path it takes once;
#                         later runs reuse the translations, as a real processor never needs to
#   LAB_BINARY            a migconform binary already built (static) to use instead of building one
#
# Exit status: 0 when the guest command exited 0; the guest command's status when it failed; 90-99 for lab failures
# (each step names itself when it fails). Nothing downloaded or built lands in the repository.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${MIGCONFORM_LAB_CACHE:-$HOME/.cache/migconform-lab}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="${1:-$REPO/Reports/lab-mtty-$STAMP}"
LAB_MODE="${LAB_MODE:-auto}"
LAB_SPEC="${LAB_SPEC:-/Specs/vfio-migration-v2.json}"
LAB_RUN_ARGS="${LAB_RUN_ARGS:-}"
LAB_TIMEOUT="${LAB_TIMEOUT:-900}"
LAB_MDEV_TYPE="${LAB_MDEV_TYPE:-mtty-2}"
LAB_STATIC="${LAB_STATIC:-auto}"
LAB_SOURCE="${LAB_SOURCE:-worktree}"
LAB_LOOPBACK="${LAB_LOOPBACK:-down}"
LAB_SMP="${LAB_SMP:-1}"
LAB_WARMUP="${LAB_WARMUP:-0}"
MDEV_UUID="83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"
LAB_PEERS="${LAB_PEERS:-yes}"
LAB_TRACE_MODULE="${LAB_TRACE_MODULE-mtty}"
PEER_UUID="83b8f4f2-509f-382f-3c1e-e6bfe0fa1002"
FOREIGN_UUID="83b8f4f2-509f-382f-3c1e-e6bfe0fa1003"
if [ "$LAB_MDEV_TYPE" = mtty-1 ]; then FOREIGN_TYPE=mtty-2; else FOREIGN_TYPE=mtty-1; fi
SCRATCH="$REPO/.build-lab"
WORK="$SCRATCH/lab-work"

mkdir -p "$OUT" "$CACHE" "$WORK"
OUT="$(cd "$OUT" && pwd)"
# The run folder as the guest wrote it, apart from the lab's own files, so that `migconform verify` can check it.
RUN="$OUT/run"
LOG="$OUT/lab.log"
: > "$LOG"

# ---------------------------------------------------------------------------------------------------------------
# progress, timing, failure

T0=$EPOCHREALTIME
STEP="start"
STEP_T=$T0
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
say() { printf '[lab %6ss] %s\n' "$(elapsed "$T0" "$EPOCHREALTIME")" "$*" | tee -a "$LOG" >&2; }
step() {
    STEP="$1"; STEP_T=$EPOCHREALTIME
    say "== $1"
}
step_done() { say "   done: $STEP ($(elapsed "$STEP_T" "$EPOCHREALTIME") s)${1:+ - $1}"; }
HINT=""
fail() {
    local code="${2:-90}"
    say "FAILED at step '$STEP': $1"
    [ -n "$HINT" ] && say "  hint: $HINT"
    [ -f "$OUT/console.log" ] && say "  QEMU console log: $OUT/console.log"
    say "  lab log: $LOG"
    exit "$code"
}
on_err() {
    local rc=$? line=$1 cmd=$2
    say "FAILED at step '$STEP' (line $line, exit $rc): $cmd"
    [ -n "$HINT" ] && say "  hint: $HINT"
    [ -f "$OUT/console.log" ] && say "  QEMU console log: $OUT/console.log"
    say "  lab log: $LOG"
    exit 91
}
trap 'on_err $LINENO "$BASH_COMMAND"' ERR
run_logged() { "$@" >> "$LOG" 2>&1; }

say "mtty lab: repo $REPO"
say "cache $CACHE; output $OUT"

# ---------------------------------------------------------------------------------------------------------------
step "host packages"
HINT="apt-get must reach Debian's archive; run as root"
NEEDED=(qemu-system-x86 busybox-static cpio kmod pahole zstd xz-utils bc make gcc-12 libc6-dev)
MISSING=()
for p in "${NEEDED[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || MISSING+=("$p")
done
if [ "${#MISSING[@]}" -gt 0 ]; then
    say "   installing: ${MISSING[*]}"
    if ! apt-cache show "${MISSING[0]}" > /dev/null 2>&1; then run_logged apt-get update; fi
    DEBIAN_FRONTEND=noninteractive run_logged apt-get install -y --no-install-recommends "${MISSING[@]}" \
        || fail "apt-get install ${MISSING[*]} failed (see $LOG)" 92
    step_done "installed ${#MISSING[@]} packages"
else
    step_done "all ${#NEEDED[@]} already installed"
fi

# ---------------------------------------------------------------------------------------------------------------
step "kernel packages"
HINT="needs Debian bookworm(-security/-backports) in apt sources; try 'apt-get update'"
pick_kernel() {
    apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' \
        | awk '{print $1}' | sort -V | tail -1
}
IMAGE_PKG="$(pick_kernel || true)"
if [ -z "$IMAGE_PKG" ]; then run_logged apt-get update; IMAGE_PKG="$(pick_kernel || true)"; fi
[ -n "$IMAGE_PKG" ] || fail "no linux-image-6.12.*+deb12-amd64-unsigned package found by apt-cache" 93
ABI="${IMAGE_PKG#linux-image-}"; ABI="${ABI%-amd64-unsigned}"          # 6.12.117+deb12
RELEASE="$ABI-amd64"                                                     # 6.12.117+deb12-amd64
# (awk reads to the end: leaving early would end apt-cache with SIGPIPE, a failure under pipefail)
PKGVER="${LAB_KERNEL_VERSION:-$(apt-cache show "$IMAGE_PKG" | awk '/^Version:/ && v == "" {v = $2} END {print v}')}"
say "   kernel $RELEASE, package version $PKGVER"
DEBS="$CACHE/debs/$PKGVER"
KROOT="$CACHE/kernel/$PKGVER"
mkdir -p "$DEBS" "$KROOT"
PKGS=("$IMAGE_PKG" "linux-headers-$RELEASE" "linux-headers-$ABI-common" "linux-kbuild-$ABI" "linux-source-6.12")
downloaded=0
for p in "${PKGS[@]}"; do
    if ! ls "$DEBS/${p}_"*.deb > /dev/null 2>&1; then
        say "   downloading $p"
        (cd "$DEBS" && run_logged apt-get download "$p=$PKGVER") || fail "apt-get download $p=$PKGVER failed" 93
        downloaded=$((downloaded + 1))
    fi
done
# unpack everything but linux-source into one root (the headers' relative links then resolve)
if [ ! -f "$KROOT/.unpacked" ]; then
    for p in "${PKGS[@]:0:4}"; do run_logged dpkg-deb -x "$DEBS/${p}_"*.deb "$KROOT"; done
    touch "$KROOT/.unpacked"
fi
VMLINUZ="$KROOT/boot/vmlinuz-$RELEASE"
[ -f "$VMLINUZ" ] || fail "unpacked kernel has no $VMLINUZ" 93
step_done "$downloaded downloaded, $(du -sh "$DEBS" | cut -f1) cached"
# Hazards are decided from the kernel package, not guessed: the STOP_COPY -> PRE_COPY endless loop is fixed where
# the kernel's changelog lists the fix (Debian took it into 6.12.96). Without it the cases stay skipped (and the
# guest panics on a soft lockup rather than hang the lab).
CHANGELOG="$(ls "$KROOT"/usr/share/doc/linux-image-*/changelog.Debian.gz 2>/dev/null | head -1)"
if [ -n "$CHANGELOG" ] && zgrep -q 'prevent infinite loop in vfio_mig_get_next_state' "$CHANGELOG"; then
    LAB_RUN_ARGS="$LAB_RUN_ARGS --allow-hazard HZ-PRECOPY-LOOP"
    say "   the kernel changelog lists the vfio_mig_get_next_state() loop fix: HZ-PRECOPY-LOOP cases run"
else
    say "   no vfio_mig_get_next_state() loop fix in the kernel changelog: HZ-PRECOPY-LOOP cases stay skipped"
fi

# ---------------------------------------------------------------------------------------------------------------
step "mtty.ko"
HINT="mtty.c comes from linux-source-6.12 ($DEBS); the build uses the unpacked headers in $KROOT"
MTTY_DIR="$CACHE/mtty/$PKGVER"
mkdir -p "$MTTY_DIR"
if [ ! -s "$MTTY_DIR/mtty.c" ]; then
    say "   extracting samples/vfio-mdev/mtty.c from linux-source (slow: decompresses the whole source tarball)"
    dpkg-deb --fsys-tarfile "$DEBS/linux-source-6.12_"*.deb \
        | tar -xO --wildcards './usr/src/linux-source-6.12.tar.*' \
        | tar -xJO linux-source-6.12/samples/vfio-mdev/mtty.c > "$MTTY_DIR/mtty.c.tmp"
    mv "$MTTY_DIR/mtty.c.tmp" "$MTTY_DIR/mtty.c"
fi
if [ ! -s "$MTTY_DIR/mtty.ko" ]; then
    HDR="$KROOT/usr/src/linux-headers-$RELEASE"
    # the -amd64 headers' Makefile includes the -common one by absolute path: point it at the unpacked copy
    sed -i "s|^include /usr/src/|include $KROOT/usr/src/|" "$HDR/Makefile"
    echo 'obj-m := mtty.o' > "$MTTY_DIR/Kbuild"
    run_logged make -C "$HDR" M="$MTTY_DIR" CC=gcc-12 modules || fail "building mtty.ko failed (see $LOG)" 94
fi
step_done "$(stat -c %s "$MTTY_DIR/mtty.ko") bytes"

# ---------------------------------------------------------------------------------------------------------------
step "migconform (static build)"
HINT="build it by hand: swift build -c release --scratch-path .build-lab"
BIN_DIR="$WORK/bin"
rm -rf "$BIN_DIR"; mkdir -p "$BIN_DIR"
LINKED=""
# LAB_SOURCE=head builds the last commit (a clean copy under .build-lab), worktree (default) the files as they are.
SRC="$REPO"
if [ "$LAB_SOURCE" = head ]; then
    SRC="$WORK/src"; rm -rf "$SRC"; mkdir -p "$SRC"
    git -C "$REPO" archive HEAD | tar -x -C "$SRC"
    say "   building the last commit ($(git -C "$REPO" rev-parse --short HEAD)) from $SRC"
fi
BUILD_LOG="$WORK/swift-build.log"; rm -f "$BUILD_LOG"
swift_build() {
    swift build --package-path "$SRC" -c release --scratch-path "$SCRATCH" --product migconform "$@" \
        > "$BUILD_LOG" 2>&1
    local rc=$?
    cat "$BUILD_LOG" >> "$LOG"
    return $rc
}
if [ -n "${LAB_BINARY:-}" ] && [ "$LAB_MODE" != probe ]; then
    [ -x "$LAB_BINARY" ] || fail "LAB_BINARY=$LAB_BINARY is not an executable" 95
    cp "$LAB_BINARY" "$SCRATCH/lab-binary.tmp"; LINKED="given by LAB_BINARY"
elif [ "$LAB_MODE" = probe ]; then
    say "   LAB_MODE=probe: migconform itself is not built"
elif [ "$LAB_STATIC" != stdlib ] && swift_build -Xswiftc -static-executable; then
    LINKED="static executable"
elif [ -f "$BUILD_LOG" ] && ! grep -q '\.swift:[0-9]*:[0-9]*: error' "$BUILD_LOG" && [ "$LAB_STATIC" != executable ] \
        && swift_build --static-swift-stdlib; then
    LINKED="static Swift stdlib, glibc shared"
fi
if [ -n "${LAB_BINARY:-}" ] && [ -n "$LINKED" ]; then
    mv "$SCRATCH/lab-binary.tmp" "$BIN_DIR/migconform"
elif [ -n "$LINKED" ]; then
    cp "$SCRATCH/release/migconform" "$BIN_DIR/migconform"
    strip "$BIN_DIR/migconform" 2> /dev/null || true
elif [ "$LAB_MODE" = probe ]; then
    :
elif [ "$LAB_MODE" = auto ]; then
    say "   WARNING: migconform does not build from $SRC (first errors below); the guest runs the lab probe instead"
    grep -m5 'error:' "$BUILD_LOG" | sed 's/^/     /' | tee -a "$LOG" >&2 || true
    LAB_MODE=probe
else
    grep -m5 'error:' "$BUILD_LOG" | sed 's/^/     /' >&2 || true
    fail "swift build failed (see $BUILD_LOG); LAB_SOURCE=head builds the last commit instead" 95
fi

# What runs in the guest. `migconform run` is the goal; until the command exists, `migconform devices`, and
# until that exists, a small probe built from the device modules (Tests/Lab/probe.swift).
if [ "$LAB_MODE" = auto ]; then
    if [ ! -x "$BIN_DIR/migconform" ]; then LAB_MODE=probe
    elif "$BIN_DIR/migconform" run --help 2>&1 | grep -q -- '--target'; then LAB_MODE=run
    elif "$BIN_DIR/migconform" devices --help 2>&1 | grep -qi 'vfio'; then LAB_MODE=devices
    else LAB_MODE=probe; fi
fi
if [ "$LAB_MODE" = probe ]; then
    say "   building the lab probe (Tests/Lab/probe.swift)"
    P="$WORK/probe-build"; rm -rf "$P"; mkdir -p "$P"
    printf 'module CVFIOShim {\n  header "%s"\n  export *\n}\n' "$SRC/Sources/CVFIOShim/include/cvfio_shim.h" \
        > "$P/module.modulemap"
    run_logged clang -O2 -c "$SRC/Sources/CVFIOShim/shim.c" -I "$SRC/Sources/CVFIOShim/include" -o "$P/shim.o"
    SWIFTC=(swiftc -O -wmo -swift-version 5)
    run_logged "${SWIFTC[@]}" -parse-as-library -module-name MigconformDevice -emit-module \
        -emit-module-path "$P/MigconformDevice.swiftmodule" -c -o "$P/MigconformDevice.o" \
        "$SRC"/Sources/MigconformDevice/*.swift
    run_logged "${SWIFTC[@]}" -parse-as-library -module-name MigconformLinux -I "$P" -emit-module \
        -emit-module-path "$P/MigconformLinux.swiftmodule" -c -o "$P/MigconformLinux.o" \
        "$SRC"/Sources/MigconformLinux/*.swift
    if [ "$LAB_STATIC" = stdlib ]; then LINKFLAG=-static-stdlib; else LINKFLAG=-static-executable; fi
    run_logged "${SWIFTC[@]}" -parse-as-library -module-name labprobe -I "$P" "$LINKFLAG" "$SRC/Tests/Lab/probe.swift" \
        "$P/MigconformDevice.o" "$P/MigconformLinux.o" "$P/shim.o" -o "$BIN_DIR/labprobe" \
        || fail "building the lab probe failed (see $LOG)" 95
    strip "$BIN_DIR/labprobe" 2> /dev/null || true
fi
step_done "${LINKED:-migconform not built}; guest mode: $LAB_MODE; $(cd "$BIN_DIR" && du -h -- * | tr '\t\n' ' ')"

# ---------------------------------------------------------------------------------------------------------------
step "initramfs"
HINT="needs busybox-static, cpio, kmod (modinfo) and xz"
ROOT="$WORK/root"
rm -rf "$ROOT"; mkdir -p "$ROOT"/{bin,dev,proc,sys,tmp,lib/modules}
cp /bin/busybox "$ROOT/bin/busybox"
MODSRC="$KROOT/lib/modules/$RELEASE/kernel/drivers/vfio"
for m in vfio/vfio vfio/vfio_iommu_type1 vfio/mdev/mdev; do
    f="$KROOT/lib/modules/$RELEASE/kernel/drivers/$m.ko"
    name="$(basename "$m")"
    if [ -f "$f.xz" ]; then xz -dc "$f.xz" > "$ROOT/lib/modules/$name.ko"
    elif [ -f "$f.zst" ]; then zstd -qdc "$f.zst" > "$ROOT/lib/modules/$name.ko"
    elif [ -f "$f" ]; then cp "$f" "$ROOT/lib/modules/$name.ko"
    else fail "module $m not found under $MODSRC" 96; fi
done
cp "$MTTY_DIR/mtty.ko" "$ROOT/lib/modules/mtty.ko"
for m in "$ROOT"/lib/modules/*.ko; do
    deps="$(modinfo -F depends "$m" 2> /dev/null || true)"
    say "   module $(basename "$m") depends on: ${deps:-nothing}"
done
for b in "$BIN_DIR"/*; do
    cp "$b" "$ROOT/bin/"
    # a binary that still links glibc dynamically brings the libraries ldd lists
    if ldd "$b" > /dev/null 2>&1; then
        ldd "$b" | grep -o '/[^ ]*' | while read -r lib; do
            mkdir -p "$ROOT$(dirname "$lib")"; cp -L "$lib" "$ROOT$lib"
        done
    fi
done
# the LAVA job runs the binary alone (the specs are built into it); the plain lab passes LAB_SPEC
if [ -d "$REPO/Specs" ] && [ "$LAB_MODE" != lava ]; then cp -r "$REPO/Specs/." "$ROOT/Specs/"; fi

guest_command() {
    # The one place to adapt what the guest runs. $1 = the target URI. Writes into /tmp/r.
    case "$LAB_MODE" in
        run) echo "/bin/migconform run --spec $LAB_SPEC --target $1 $PEER_ARGS ${LAB_TRACE_MODULE:+--trace-module $LAB_TRACE_MODULE} --out /tmp/r $LAB_RUN_ARGS" ;;
        devices) echo "/bin/migconform devices > /tmp/r/devices.txt" ;;
        probe) echo "/bin/labprobe $1 /tmp/r" ;;
        lava) echo "a root shell on the console (LAVA's test actions run there)" ;;
        *) fail "unknown LAB_MODE '$LAB_MODE' (auto, run, devices, probe or lava)" 90 ;;
    esac
}
# The peer (same type) and the foreign device (the other type) are mdevs of their own, each in its own IOMMU group.
PEER_ARGS=""
if [ "$LAB_PEERS" = yes ]; then
    PEER_ARGS='--peer vfio:/dev/vfio/$PGROUP/'"$PEER_UUID"' --foreign-peer vfio:/dev/vfio/$FGROUP/'"$FOREIGN_UUID"
fi
GUEST_CMD="$(guest_command 'vfio:/dev/vfio/$GROUP/'"$MDEV_UUID")"

cat > "$ROOT/init" << EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tracefs nodev /sys/kernel/tracing 2> /dev/null
mkdir -p /tmp/r
# the exit code reaches the host through QEMU's isa-debug-exit device at I/O port 0xf4
finish() {
    code=\$1
    echo 1 > /proc/sys/kernel/printk
    dmesg > /tmp/r/guest-dmesg.txt 2>&1
    for f in /tmp/r/*; do
        [ -f "\$f" ] || continue
        echo "@@LAB-FILE-BEGIN \$(basename "\$f")"
        base64 "\$f"
        echo "@@LAB-FILE-END"
    done
    echo "@@LAB-EXIT \$code"
    printf "\\\\\$(printf %o \$code)" | dd of=/dev/port bs=1 seek=244 count=1 2> /dev/null
    poweroff -f
}
guest_fail() { echo "@@LAB-GUEST-FAILED \$1"; finish \$2; }
echo "@@LAB-GUEST-START \$(uname -r)"
[ "$LAB_LOOPBACK" = up ] && ip link set lo up
echo "@@LAB-LINKS \$(ip -o link show | awk '{ printf "%s%s ", \$2, (\$3 ~ /UP/ ? "UP" : "DOWN") }')"
for m in vfio vfio_iommu_type1 mdev mtty; do
    insmod /lib/modules/\$m.ko || guest_fail "insmod \$m" 97
done
echo $MDEV_UUID > /sys/class/mdev_bus/mtty/mdev_supported_types/$LAB_MDEV_TYPE/create || guest_fail "create $LAB_MDEV_TYPE mdev" 98
GROUP=\$(basename \$(readlink /sys/bus/mdev/devices/$MDEV_UUID/iommu_group)) || guest_fail "find the mdev's iommu group" 98
echo "@@LAB-TARGET vfio:/dev/vfio/\$GROUP/$MDEV_UUID"
if [ "$LAB_PEERS" = yes ]; then
    echo $PEER_UUID > /sys/class/mdev_bus/mtty/mdev_supported_types/$LAB_MDEV_TYPE/create || guest_fail "create the peer $LAB_MDEV_TYPE mdev" 98
    echo $FOREIGN_UUID > /sys/class/mdev_bus/mtty/mdev_supported_types/$FOREIGN_TYPE/create || guest_fail "create the foreign $FOREIGN_TYPE mdev" 98
    PGROUP=\$(basename \$(readlink /sys/bus/mdev/devices/$PEER_UUID/iommu_group)) || guest_fail "find the peer's iommu group" 98
    FGROUP=\$(basename \$(readlink /sys/bus/mdev/devices/$FOREIGN_UUID/iommu_group)) || guest_fail "find the foreign mdev's iommu group" 98
    echo "@@LAB-PEERS peer vfio:/dev/vfio/\$PGROUP/$PEER_UUID ($LAB_MDEV_TYPE), foreign vfio:/dev/vfio/\$FGROUP/$FOREIGN_UUID ($FOREIGN_TYPE)"
fi
ls -l /dev/vfio
EOF
if [ "$LAB_MODE" = lava ]; then
    # LAVA drives the guest from here: a login shell on the console, the prompt the job's boot action waits for.
    cat >> "$ROOT/init" << 'EOF'
[ "$GROUP" = 0 ] || echo "@@LAB-GUEST-FAILED the mdev is in IOMMU group $GROUP; the LAVA job names group 0"
[ -z "$PGROUP" ] || [ "$PGROUP/$FGROUP" = 1/2 ] || echo "@@LAB-GUEST-FAILED the peers are in IOMMU groups $PGROUP and $FGROUP; the LAVA job names 1 and 2"
echo "@@LAB-SHELL"
PS1='lab-guest# ' setsid cttyhack sh -l
poweroff -f
EOF
else
    cat >> "$ROOT/init" << EOF
i=0
while [ \$i -lt $LAB_WARMUP ]; do
    i=\$((i + 1))
    w0=\$(cut -d' ' -f1 /proc/uptime)
    $GUEST_CMD > /dev/null 2>&1
    echo "@@LAB-WARMUP \$i rc=\$? seconds=\$w0..\$(cut -d' ' -f1 /proc/uptime)"
    rm -rf /tmp/r; mkdir -p /tmp/r
done
echo "@@LAB-RUN $GUEST_CMD"
start=\$(cut -d' ' -f1 /proc/uptime)
$GUEST_CMD
rc=\$?
end=\$(cut -d' ' -f1 /proc/uptime)
echo "@@LAB-RUN-DONE rc=\$rc seconds=\$start..\$end"
finish \$rc
EOF
fi
chmod +x "$ROOT/init"
INITRD="$WORK/initramfs.cpio"
(cd "$ROOT" && find . | cpio -o -H newc --quiet) > "$INITRD"
step_done "$(du -h "$INITRD" | cut -f1) uncompressed"
if [ "$LAB_MODE" = lava ]; then
    # build only: what Tests/Lab/lava-lab.sh needs to boot this image under LAVA
    {
        printf 'LAB_VMLINUZ=%q\n' "$VMLINUZ"
        printf 'LAB_INITRD=%q\n' "$INITRD"
        printf 'LAB_BIN=%q\n' "$BIN_DIR/migconform"
        printf 'LAB_KERNEL=%q\n' "$RELEASE ($PKGVER)"
        printf 'LAB_TARGET=%q\n' "vfio:/dev/vfio/0/$MDEV_UUID"
        # a fresh VM puts the three mdevs in IOMMU groups 0, 1 and 2, in the order /init creates them
        LAVA_ARGS="$LAB_RUN_ARGS"
        [ "$LAB_PEERS" = yes ] && LAVA_ARGS="--peer vfio:/dev/vfio/1/$PEER_UUID --foreign-peer vfio:/dev/vfio/2/$FOREIGN_UUID $LAVA_ARGS"
        [ -n "$LAB_TRACE_MODULE" ] && LAVA_ARGS="--trace-module $LAB_TRACE_MODULE $LAVA_ARGS"
        printf 'LAB_RUN_ARGS=%q\n' "${LAVA_ARGS# }"
    } > "$OUT/lab.env"
    say "total $(elapsed "$T0" "$EPOCHREALTIME") s; build only (LAB_MODE=lava): $OUT/lab.env"
    exit 0
fi

# ---------------------------------------------------------------------------------------------------------------
step "boot QEMU (TCG, $LAB_SMP vCPU) and run: $GUEST_CMD"
HINT="read the console log; LAB_TIMEOUT=$LAB_TIMEOUT s; a soft lockup panics the guest (softlockup_panic=1)"
CONSOLE="$OUT/console.log"
QRC=0
timeout -k 10 "$LAB_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max -m 1G -smp "$LAB_SMP" \
    -nographic -no-reboot -nic none -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$VMLINUZ" -initrd "$INITRD" -append "console=ttyS0 panic=-1 softlockup_panic=1 rdinit=/init" \
    < /dev/null > "$CONSOLE" 2>&1 || QRC=$?
tr -d '\r' < "$CONSOLE" > "$CONSOLE.tmp" && mv "$CONSOLE.tmp" "$CONSOLE"
if [ "$QRC" -eq 124 ] || [ "$QRC" -eq 137 ]; then fail "QEMU timed out after $LAB_TIMEOUT s" 99; fi
if [ $((QRC & 1)) -eq 1 ]; then GUEST_RC=$((QRC >> 1)); else GUEST_RC=""; fi
grep -q '@@LAB-GUEST-START' "$CONSOLE" || fail "the guest never ran /init (QEMU exit $QRC)" 99
if g="$(grep -m1 '@@LAB-GUEST-FAILED' "$CONSOLE")"; then fail "in the guest: ${g#@@LAB-GUEST-FAILED }" 98; fi
if [ -z "$GUEST_RC" ]; then
    if k="$(grep -m1 -E 'Kernel panic|soft lockup|BUG:|Oops' "$CONSOLE")"; then
        fail "the guest kernel died before reporting an exit code: $k" 99
    fi
    fail "the guest did not report an exit code (QEMU exit $QRC)" 99
fi
grep -E '@@LAB-(WARMUP|RUN-DONE)' "$CONSOLE" | sed 's/^/   guest: /' | tee -a "$LOG" >&2 || true
step_done "guest exit $GUEST_RC"

# ---------------------------------------------------------------------------------------------------------------
step "collect files"
mkdir -p "$RUN"
awk -v dir="$OUT" -v run="$RUN" '
    /^@@LAB-FILE-BEGIN / {
        name = $2; file = (name == "guest-dmesg.txt" ? dir : run) "/" name ".b64"; printf "" > file; next
    }
    /^@@LAB-FILE-END/ { close(file); file = ""; next }
    file != "" { print >> file }
' "$CONSOLE"
got=()
for f in "$OUT"/*.b64 "$RUN"/*.b64; do
    [ -f "$f" ] || continue
    base64 -d "$f" > "${f%.b64}" || fail "could not decode $(basename "${f%.b64}") (console output interleaved?)" 99
    rm -f "$f"; got+=("$(basename "${f%.b64}")")
done
step_done "${got[*]:-no files}"
if [ "$LAB_MODE" = run ] || [ "$LAB_MODE" = probe ]; then
    [ -f "$RUN/report.json" ] || fail "the guest produced no report.json" 99
fi
if [ "$LAB_MODE" = run ]; then
    # where the run's time went (report.json run.cost), with the guest's vCPU count
    python3 - "$RUN/report.json" "$LAB_SMP" <<'PY' 2>&1 | tee -a "$LOG" >&2 || true
import json, sys
c = json.load(open(sys.argv[1]))["run"].get("cost")
if c:
    s = lambda us: "%.3f s" % (us / 1e6)
    w = c.get("waits") or 0
    print("   cost (%s vCPU): wall %s, device %s (in the calls %s), journal %s, planning %s, pauses %s, runner %s,"
          % (sys.argv[2], s(c["wall"]), s(c["device"]), s(c["deviceCalls"]), s(c["journal"]), s(c["planning"]),
             s(w), s(c["runner"])))
    print("     report %s; wall/device %.2f, without the pauses %.2f"
          % (s(c.get("report") or 0), c["wall"] / max(c["device"], 1), (c["wall"] - w) / max(c["device"], 1)))
    if c.get("command"):
        print("     the whole command %s = setup %s + driver tracing %s + wall + report + the rest; command/device %.2f"
              % (s(c["command"]), s(c.get("setup") or 0), s(c.get("tracing") or 0), c["command"] / max(c["device"], 1)))
    if c.get("setupSteps"):
        print("     setup: " + ", ".join("%s %s" % (k, s(v)) for k, v in sorted(c["setupSteps"].items(), key=lambda kv: -kv[1])))
    u = c.get("usage")
    if u:
        print("     over the wall: CPU %s user + %s kernel, %d page faults, %d context switches"
              % (s(u["user"]), s(u["system"]), u["minorFaults"], u["contextSwitches"]))
    for k, v in sorted(c["byKind"].items(), key=lambda kv: -kv[1]["micros"]):
        print("     %-20s %5d x %8.3f ms = %s%s" % (k, v["count"], v["micros"] / v["count"] / 1e3, s(v["micros"]),
              ", %d bytes" % v["bytes"] if v.get("bytes") else ""))
PY
fi
if [ "$LAB_MODE" = run ]; then
    # The folder as a lab engineer receives it: every file listed and hashed, the renderings what report.json renders
    # to, the summary and the journal in agreement (the binary the guest ran, run here on the host).
    step "verify the run folder"
    "$BIN_DIR/migconform" verify "$RUN" > "$OUT/verify.txt" 2>&1 \
        || { cat "$OUT/verify.txt" >&2; fail "migconform verify found problems in $RUN (above)" 98; }
    step_done "$(tail -1 "$OUT/verify.txt")"
fi
if [ "$LAB_MODE" = run ] && [ -z "${LAB_NO_EXPECT:-}" ]; then
    # mtty is a device under test: its verdicts are whatever they are, but they must be the ones the project expects,
    # so that a change of the suite that changes them shows up (Tests/Lab/mtty-expected.txt, one 'CASE VERDICT' a line).
    step "compare with the expected verdicts"
    EXPECTED="$REPO/Tests/Lab/mtty-expected.txt"
    python3 - "$RUN/report.json" > "$OUT/verdicts.txt" <<'PY' || fail "report.json does not read" 99
import json, sys
report = json.load(open(sys.argv[1]))
if report["run"].get("interrupted"):
    sys.exit("the run was interrupted: " + str(report["run"].get("stopReason")))
for c in report["cases"]:
    print(c["id"], c["verdict"])
PY
    if grep -q ' ERROR$' "$OUT/verdicts.txt"; then fail "the runner reported ERROR verdicts: $(grep ' ERROR$' "$OUT/verdicts.txt" | head -3 | tr '\n' ';')" 98; fi
    if ! diff -u <(grep -v '^#' "$EXPECTED") "$OUT/verdicts.txt" > "$OUT/verdicts.diff"; then
        cat "$OUT/verdicts.diff" | tee -a "$LOG" >&2
        fail "mtty's verdicts differ from $EXPECTED (diff above; if the change is intended, copy $OUT/verdicts.txt there)" 98
    fi
    step_done "$(wc -l < "$OUT/verdicts.txt") verdicts as expected"
    # The verdicts were compared: not conformant (1) and incomplete (5) are what the expected file says they are.
    case "$GUEST_RC" in 0|1|5) GUEST_RC=0 ;; esac
fi
say "total $(elapsed "$T0" "$EPOCHREALTIME") s; reports in $OUT"
exit "$GUEST_RC"
