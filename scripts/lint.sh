#!/bin/sh
# swift-format lint with the checked-in .swift-format (120 columns, 4 spaces; rules that have no automatic fix are
# off, so `swift format format -i` makes a file clean).
#
#   scripts/lint.sh            the paths in CLEAN must have no finding (exit 1 otherwise); the rest of Sources,
#                              Tests and Package.swift is counted per module, not failed on
#   scripts/lint.sh PATH...    those paths, strictly
#
# Fix a path: swift format format -i --recursive PATH. Once the whole tree is clean, CLEAN becomes
# "Sources Tests Package.swift".
set -eu
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

if [ "$#" -gt 0 ]; then
    exec swift format lint --strict --recursive "$@"
fi

CLEAN="Sources/migconform Sources/MigconformLab Sources/CVFIOShim Tests/MigconformTests/HeaderFactsTests.swift
Tests/MigconformTests/KernelPathTable.swift Tests/MigconformTests/FSMPathTests.swift"

# shellcheck disable=SC2086
swift format lint --strict --recursive $CLEAN

echo "not yet formatted (findings per module; fix: swift format format -i --recursive Sources Tests Package.swift):"
for path in Sources/* Tests/MigconformTests Package.swift; do
    case " $(echo $CLEAN) " in *" $path "*) continue ;; esac
    n=$(swift format lint --recursive "$path" 2>&1 | grep -c ': \(warning\|error\): ' || true)
    [ "$n" -eq 0 ] || printf '  %6d  %s\n' "$n" "$path"
done
