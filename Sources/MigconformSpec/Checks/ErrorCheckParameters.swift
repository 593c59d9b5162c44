// The error state and invariants. Executors: `ErrorChecks` in MigconformRun.

/// `error-sticky`: the error state refuses every request and is left only through reset.
package struct ErrorStickyCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case requestsRefused = "requests-refused"
        case resetRecovers = "reset-recovers"
    }
    package var expect: Expect

    package static let kind = CheckKind.errorSticky
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    // The error state is reached by a failed resume of a saved stream.
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { true }
    package var judgedAtEndOfRun: Bool { false }
}

/// `invariant`: properties that hold after every step.
package struct InvariantCheck: CheckParameters {
    package enum Name: String, Sendable, CaseIterable {
        case noSpontaneousChange = "no-spontaneous-change"
        case errorOnlyAfterFailure = "error-only-after-failure"
    }
    package var name: Name

    package static let kind = CheckKind.invariant
    package static var schema: [ParameterSpec] { [.oneOf("name", Name.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { name = try a.required("name") }
    package var usesDataFD: Bool { false }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
