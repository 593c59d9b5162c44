import Foundation
import MigconformRun
import Testing

@Suite struct TimestampTests {
    /// The hand-made formatter writes what Foundation's RFC 3339 formatter writes, milliseconds included.
    @Test(arguments: [0, 1_234.5, 1_700_000_000.999, 1_795_000_000.0004, 951_782_400.25] as [Double])
    func timestampsMatchFoundationsFormatter(seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        #expect(Timestamp.iso8601(date) == f.string(from: date))
    }
}
