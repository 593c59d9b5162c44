// The device's lifecycle: its fd closed and opened again. Executor: `LifecycleChecks` in MigconformRun.

/// `lifecycle`: the device closed (the release of its device fd) and opened again in given states.
public struct LifecycleCheck: CheckParameters {
    public enum Expect: String, Sendable, CaseIterable {
        /// The reopened device is in the initial state.
        case initialState = "initial-state"
        /// The data fd of the session open before the close moves no more data.
        case oldFDOver = "old-fd-over"
    }
    public var expect: Expect
    /// State names: settable states, or the error state (reached by a failed resume, when the device enters it).
    public var states: [String]

    public static let kind = CheckKind.lifecycle
    public static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true), .list("in")] }
    public init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        states = a.strings("in") ?? []
    }
    public var usesDataFD: Bool { true }
    // A device that keeps the error state (or a session) across the reopen is reset before the next case.
    public var endsWithReset: Bool { true }
    public var judgedAtEndOfRun: Bool { false }
}
