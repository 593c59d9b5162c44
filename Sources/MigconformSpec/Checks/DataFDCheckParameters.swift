// The data fd as a file, feature 12 of Linux 7.1, and the v1 region's field access. Executors: `DataFDChecks`,
// `PrecopyInfoV2Checks`, `V1RegionChecks` in MigconformRun.

/// `data-fd`: the data fd as a file (close-on-exec, access mode, no seeking, ioctls it refuses, `poll` at the ends
/// of the stream) and two saves from STOP compared.
package struct DataFDCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case closeOnExec = "close-on-exec"
        case accessMode = "access-mode"
        case notSeekable = "not-seekable"
        case unknownIoctl = "unknown-ioctl"
        case precopyInfoRefused = "precopy-info-refused"
        case shortArgsz = "short-argsz"
        case pollAtEnd = "poll-at-end"
        case pollAtTemporaryEnd = "poll-at-temporary-end"
        case saveRepeatable = "save-repeatable"
    }
    package var expect: Expect
    /// State names: one case in each; nil: one case.
    package var states: [String]?

    package static let kind = CheckKind.dataFD
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true), .list("in")] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) {
        expect = try a.required("expect")
        states = a.strings("in")
    }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `precopy-info-v2`: `VFIO_DEVICE_FEATURE_MIG_PRECOPY_INFOv2` (feature 12) and the flags it opts in to.
package struct PrecopyInfoV2Check: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case setOnly = "set-only"
        case optIn = "opt-in"
        case flagsDefined = "flags-defined"
        case reinit
        case refusedWithoutPreCopy = "refused-without-pre-copy"
    }
    package var expect: Expect

    package static let kind = CheckKind.precopyInfoV2
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}

/// `region-access` (v1): the fields of the migration region at their native width only; data_offset and
/// data_size read twice; data_offset page aligned in a region that can be mmapped.
package struct RegionAccessCheck: CheckParameters {
    package enum Expect: String, Sendable, CaseIterable {
        case nativeWidth = "native-width"
        case saveFieldsRepeatable = "save-fields-repeatable"
        case dataOffsetPageAligned = "data-offset-page-aligned"
    }
    package var expect: Expect

    package static let kind = CheckKind.regionAccess
    package static var schema: [ParameterSpec] { [.oneOf("expect", Expect.self, required: true)] }
    package init(_ a: CheckArguments) throws(CheckArguments.Missing) { expect = try a.required("expect") }
    package var usesDataFD: Bool { true }
    package var endsWithReset: Bool { false }
    package var judgedAtEndOfRun: Bool { false }
}
