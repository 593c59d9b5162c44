/// `--shard i/n`: which cases one of several identical devices runs.
///
/// The runnable cases of the plan are dealt out in turn (the k-th runnable case goes to shard `k mod n + 1`),
/// so each shard gets an even share of every rule even though the plan groups cases by rule. Cases that are not
/// runnable (not applicable, filtered, hazardous) are recorded the same way by every shard. Each runnable case
/// belongs to exactly one shard, so no case, mandatory or not, can fall between shards; a merge checks that
/// every shard is there (``ReportMerge`` in the report module).
package enum Sharding {
    /// Parses `i/n` (1 <= i <= n).
    package static func parse(_ text: String) -> ShardInfo? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 1, i <= n else { return nil }
        return ShardInfo(index: i, count: n)
    }

    /// For each case of the plan (true: runnable): the 1-based shard that runs it, nil for cases no shard runs.
    /// Without a shard, every runnable case belongs to "shard 1 of 1".
    package static func owners(_ runnable: [Bool], shard: ShardInfo?) -> [Int?] {
        let n = shard?.count ?? 1
        var k = 0
        return runnable.map { r in
            guard r else { return nil }
            defer { k += 1 }
            return shard == nil ? nil : k % n + 1
        }
    }
}
