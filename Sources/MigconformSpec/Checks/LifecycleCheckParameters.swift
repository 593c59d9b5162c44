// The device's lifecycle: its fd closed and opened again. Executor: `LifecycleChecks` in MigconformRun.

/// `lifecycle`: the device closed (the release of its device fd) and opened again in given states.
package struct LifecycleCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        /// The reopened device is in the initial state.
        case initialState = "initial-state"
        /// The data fd of the session open before the close moves no more data.
        case oldFDOver = "old-fd-over"
    }
    package var expect: Expect
    /// State names: settable states, or the error state (reached by a failed resume, when the device enters it).
    package var states: [String]

    package static let kind = CheckKind.lifecycle
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true), .list("in")] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        states = a.strings("in") ?? []
    }
    package var usesDataFD: Bool { true }
    // A device that keeps the error state (or a session) across the reopen is reset before the next case.
    package var endsWithReset: Bool { true }
    package var judgedAtEndOfRun: Bool { false }
}
