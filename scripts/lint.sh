#!/bin/sh
# swift-format lint with the checked-in .swift-format (120 columns, 4 spaces; the rules that have no automatic fix
# are off, so `swift format format -i --recursive Sources Tests Package.swift` makes the tree clean again).
#
#   scripts/lint.sh            the whole tree (Sources, Tests, Package.swift); exit 1 on any finding
#   scripts/lint.sh PATH...    those paths
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

if [ "$#" -gt 0 ]; then
    exec swift format lint --strict --recursive "$@"
fi
exec swift format lint --strict --recursive Sources Tests Package.swift
