#!/usr/bin/env bash
# Builds the release binary: optimized, the Swift runtime linked in (--static-swift-stdlib), the specs compiled in,
# so it runs alone on any x86_64 Linux with glibc (copy it to a lab host, a LAVA guest, a KernelCI rootfs).
# Prints the binary's path and its SHA-256.
#   scripts/build-release.sh [SCRATCH]      (default scratch folder: .build-release)
set -euo pipefail
cd "$(dirname "$0")/.."
SCRATCH="${1:-.build-release}"
# The specs compiled in must be Specs/ as it is (one command regenerates them: sh scripts/embed-specs.sh).
sh scripts/embed-specs.sh --check >&2
swift build -c release --static-swift-stdlib --product migconform --scratch-path "$SCRATCH" >&2
BIN="$SCRATCH/release/migconform"
if ldd "$BIN" 2>/dev/null | grep -q 'libswift\|libFoundation'; then
    echo "build-release: $BIN still links the Swift runtime dynamically:" >&2
    ldd "$BIN" >&2
    exit 1
fi
echo "$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
sha256sum "$BIN" | cut -d' ' -f1
