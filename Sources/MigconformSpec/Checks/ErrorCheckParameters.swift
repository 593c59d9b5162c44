// The error state and invariants. Executors: `ErrorChecks` in MigconformRun.

/// `error-sticky`: the error state refuses every request and is left only through reset.
public struct ErrorStickyCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        case requestsRefused = "requests-refused", resetRecovers = "reset-recovers"
    }
    public var expect: Expect

    public static let kind = CheckKind.errorSticky
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    // The error state is reached by a failed resume of a saved stream.
    public var usesDataFD: Bool { true }
    public var endsWithReset: Bool { true }
    public var judgedAtEndOfRun: Bool { false }
}

/// `invariant`: properties that hold after every step.
public struct InvariantCheck: CheckParameters {
    public enum Name: String, Sendable, CaseIterable {
        case noSpontaneousChange = "no-spontaneous-change", errorOnlyAfterFailure = "error-only-after-failure"
    }
    public var name: Name

    public static let kind = CheckKind.invariant
    public static var schema: [ParameterSpec] { [.oneOf("name", Name.self, required: true)] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) { name = try a.required("name") }
    public var usesDataFD: Bool { false }
    public var endsWithReset: Bool { false }
    public var judgedAtEndOfRun: Bool { false }
}
