/// How long each kind of device operation may take, in seconds: the one deadline model of the runner
/// (``DeadlineDevice``) and of targets that keep deadlines themselves (an `exec:` adapter, which the runner hands
/// the same values through ``MigrationDevice/adopt(_:)``).
///
/// The defaults leave room for slow hardware: a PCI function reset or a transition that saves a large device
/// state can take seconds; a register read or a GET that takes ten seconds is already a hang.
package struct Deadlines: Sendable, Equatable {
    /// Seconds by operation kind.
    package var byKind: [DeviceOperation.Kind: Double]
    /// Seconds for kinds not listed in ``byKind``.
    package var fallback: Double
    /// An adapter's `hello`, which includes starting it (an ssh login, a simulator booting).
    package var hello: Double
    /// How long an adapter may take to exit after `bye` before it is killed.
    package var bye: Double

    /// The built-in deadlines.
    package static let standard = Deadlines(
        byKind: [
            .reset: 30, .reopen: 30, .setState: 30, .read: 30, .write: 30, .dataRead: 30, .dataWrite: 30,
            .regionWrite: 30,
            .close: 10,
        ], fallback: 10)

    package init(
        byKind: [DeviceOperation.Kind: Double] = [:], fallback: Double = 10, hello: Double = 30,
        bye: Double = 2
    ) {
        self.byKind = byKind
        self.fallback = fallback
        self.hello = hello
        self.bye = bye
    }

    /// Sets every kind but `reset` (what `MIGCONFORM_ADAPTER_TIMEOUT` sets).
    package mutating func setAll(exceptReset seconds: Double) {
        for kind in byKind.keys where kind != .reset { byKind[kind] = seconds }
        fallback = seconds
    }

    /// Every kind gets the same deadline.
    package static func uniform(_ seconds: Double) -> Deadlines { Deadlines(byKind: [:], fallback: seconds) }

    /// The deadline of one operation.
    package func seconds(for op: DeviceOperation) -> Double { byKind[op.kind] ?? fallback }

    /// Applies `--timeout` settings: `SECONDS` sets every kind, `KIND=SECONDS` one kind. Throws a message naming
    /// the bad setting.
    package mutating func apply(_ setting: String) throws {
        if let eq = setting.firstIndex(of: "=") {
            let name = String(setting[..<eq])
            let value = String(setting[setting.index(after: eq)...])
            guard let kind = DeviceOperation.Kind(rawValue: name) else {
                throw DeadlineSettingError(
                    message: "unknown operation kind '\(name)' in --timeout (kinds: "
                        + DeviceOperation.Kind.allCases.map(\.rawValue).sorted()
                        .joined(separator: ", ") + ")")
            }
            byKind[kind] = try Self.number(value, setting)
        } else {
            let s = try Self.number(setting, setting)
            byKind = [:]
            fallback = s
        }
    }

    static func number(_ text: String, _ setting: String) throws -> Double {
        guard let s = Double(text), s > 0, s.isFinite else {
            throw DeadlineSettingError(message: "--timeout '\(setting)': the deadline is a positive number of seconds")
        }
        return s
    }
}

/// A `--timeout` setting that cannot be used.
package struct DeadlineSettingError: Error, CustomStringConvertible, Sendable {
    package var message: String
    package var description: String { message }
}

extension Deadlines {
    /// Seconds by kind name, `*` for every other kind: the `deadlines` object of a report.
    package var byKindName: [String: Double] {
        var named = Dictionary(uniqueKeysWithValues: byKind.map { ($0.key.rawValue, $0.value) })
        named["*"] = fallback
        return named
    }
}
