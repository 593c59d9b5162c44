import Foundation
import MigconformReport

/// Help for people, laid out so that no line is wider than `width`: help gets pasted into mail, which wraps at 100
/// columns. Whatever the strings of a command say, its help fits.
enum HelpText {
    static let width = 100

    /// Prose: paragraphs are separated by blank lines, and a paragraph's own line breaks count as spaces; each is
    /// wrapped to `width`. A paragraph whose every line is indented (an example command) keeps its lines, and only
    /// one too long for `width` is wrapped.
    static func paragraphs(_ text: String, width: Int = width) -> String {
        text.components(separatedBy: "\n\n")
            .filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
            .map { paragraph in
                let lines = paragraph.split(separator: "\n").filter { !$0.allSatisfy { $0 == " " } }
                if lines.allSatisfy({ $0.hasPrefix(" ") }) { return fit(lines.joined(separator: "\n"), width: width) }
                return TextLayout.wrap(paragraph, width: width).joined(separator: "\n")
            }
            .joined(separator: "\n\n")
    }

    /// One row of a two-column list: `label` `indent` spaces in, `text` from column `indent + column` on, its
    /// continuation lines under it. A label too wide for its column gets a line of its own.
    static func row(_ label: String, _ text: String, indent: Int = 2, column: Int, width: Int = width) -> [String] {
        let lead = String(repeating: " ", count: indent)
        let under = String(repeating: " ", count: indent + column)
        let lines = TextLayout.wrap(text, width: width - indent - column)
        if text.isEmpty { return [lead + label] }
        if label.count < column {
            let head = lead + label + String(repeating: " ", count: column - label.count)
            return [head + lines[0]] + lines.dropFirst().map { under + $0 }
        }
        return [lead + label] + lines.map { under + $0 }
    }

    /// Lines already laid out (the target table, the exit codes) as they are when they fit; a longer one is wrapped,
    /// its continuation under its second column (after a gap of two spaces) or four spaces past its indent.
    static func fit(_ text: String, width: Int = width) -> String {
        text.components(separatedBy: "\n").flatMap { line -> [String] in
            guard line.count > width else { return [line] }
            let indent = line.prefix { $0 == " " }.count
            let body = Array(line.dropFirst(indent))
            var column = indent + 4
            var i = 1
            while i + 2 < body.count {
                if body[i] == " " && body[i + 1] == " " && body[i - 1] != " " {
                    var j = i
                    while j < body.count && body[j] == " " { j += 1 }
                    if indent + j <= width / 2 { column = indent + j }
                    break
                }
                i += 1
            }
            let head = String(line.prefix(column))
            if column > indent + 4 || head.trimmingCharacters(in: .whitespaces).isEmpty {
                return TextLayout.hanging(head, String(line.dropFirst(column)), width: width, indent: column)
            }
            return TextLayout.hanging(
                String(repeating: " ", count: indent), String(body), width: width, indent: column)
        }.joined(separator: "\n")
    }
}
