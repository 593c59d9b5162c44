/// Lines for people: word wrapping to a width (a terminal's, or the 100 columns of the files meant for an inbox).
package enum TextLayout {
    /// `text` (one line; runs of whitespace count as one space) broken into lines of at most `width` characters,
    /// at spaces where it can, inside a word longer than a whole line where it must. Never empty: `[""]` for "".
    package static func wrap(_ text: String, width: Int) -> [String] {
        let width = max(1, width)
        var lines: [String] = []
        var current = ""
        for word in text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).map(String.init) {
            var word = word
            if current.isEmpty {
                // nothing to join
            } else if current.count + 1 + word.count <= width {
                current += " " + word
                continue
            } else {
                lines.append(current)
                current = ""
            }
            while word.count > width {
                lines.append(String(word.prefix(width)))
                word = String(word.dropFirst(width))
            }
            current = word
        }
        lines.append(current)
        return lines
    }

    /// `text` wrapped to `width`, the first line after `head` and the others indented by `head`'s length (or by
    /// `indent` when given): a hanging indent.
    package static func hanging(_ head: String, _ text: String, width: Int, indent: Int? = nil) -> [String] {
        let pad = indent ?? head.count
        let first = max(10, width - head.count)
        let lines = wrap(text, width: first)
        guard lines.count > 1 else { return [head + lines[0]] }
        let rest = wrap(lines.dropFirst().joined(separator: " "), width: max(10, width - pad))
        return [head + lines[0]] + rest.map { String(repeating: " ", count: pad) + $0 }
    }
}
