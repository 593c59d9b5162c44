import Foundation
import MigconformRun
import MigconformSpec

/// Renders the state machine of a run's profile as an SVG picture (`diagram.svg`): the states the device can be
/// asked for on a circle, every single-step arc as an arrow colored by what the run found on it, and the states
/// outside the machine (error, reserved, out of range, not advertised) in a row below, each drawn differently.
///
/// The picture is drawn by this code alone (no layout tool): the circle order is the one with the fewest
/// crossing arcs (the initial state on top), and an arc whose reverse also exists is bent to one side so the two
/// stay apart. Every text from the spec or the device is escaped; the result is a standalone XML document.
package enum StateDiagram {
    /// What a run found on one single-step arc, from the cases of the spec's `arc` rules bound to that arc.
    package enum ArcVerdict: String, CaseIterable, Sendable {
        /// Every case on the arc that ran passed (or recorded the device's choice).
        case pass
        /// A case on the arc failed, timed out or errored.
        case fail
        /// A SHOULD-level case on the arc warned (or a case passed only on a retry).
        case warn
        /// The arc's cases need a feature the device does not advertise.
        case notApplicable = "not applicable"
        /// No case on the arc ran (filtered out, blocked, or the spec has none).
        case untested

        /// Which verdict wins when an arc has several cases.
        var rank: Int {
            switch self {
            case .fail: return 4
            case .warn: return 3
            case .pass: return 2
            case .untested: return 1
            case .notApplicable: return 0
            }
        }

        static func of(_ v: Verdict) -> ArcVerdict {
            switch v {
            case .fail, .timeout, .error, .xfail: return .fail
            case .warn, .flake: return .warn
            case .pass, .info, .xpass: return .pass
            case .notApplicable: return .notApplicable
            case .skipped: return .untested
            }
        }

        var color: String {
            switch self {
            case .pass: return "#1a7f37"
            case .fail: return "#cf222e"
            case .warn: return "#b35900"
            case .notApplicable: return "#8c959f"
            case .untested: return "#57606a"
            }
        }
        var dash: String? {
            switch self {
            case .pass, .fail: return nil
            case .warn: return "9 4"
            case .notApplicable: return "2 4"
            case .untested: return "5 5"
            }
        }
        var width: Double { self == .fail ? 3.2 : 2 }
        var marker: String { "arrow-" + rawValue.replacingOccurrences(of: " ", with: "-") }
    }

    /// One arc of the profile and what the run found on it.
    package struct ArcResult: Sendable, Equatable {
        package var from: String
        package var to: String
        package var verdict: ArcVerdict
        /// The cases bound to the arc, with their verdicts (`V2-ARC-STATE[STOP->RUNNING] PASS`).
        package var cases: [String]
    }

    /// The single-step arcs of the run's profile (from the spec and the features the report records), each with
    /// the verdict of the arc cases bound to it.
    package static func arcResults(_ report: RunReport, spec: Spec) -> [ArcResult] {
        let machine = Machine(spec: spec, features: Set(report.run.features))
        let arcRules = Set(spec.rules.filter { $0.check.kind == .arc }.map(\.id))
        var found: [String: (ArcVerdict, [String])] = [:]
        for c in report.cases where arcRules.contains(c.ruleID) {
            guard let pair = arcPair(c.id, rule: c.ruleID) else { continue }
            let v = ArcVerdict.of(c.deviceVerdict)
            let key = pair.from + "->" + pair.to
            var entry = found[key] ?? (v, [])
            if v.rank > entry.0.rank { entry.0 = v }
            entry.1.append("\(c.id) \(c.verdict.rawValue)")
            found[key] = entry
        }
        return machine.arcs.map { arc in
            let entry = found[arc.from + "->" + arc.to]
            return ArcResult(from: arc.from, to: arc.to, verdict: entry?.0 ?? .untested, cases: entry?.1 ?? [])
        }
    }

    /// `FROM` and `TO` of a case id `RULE[FROM->TO]`.
    static func arcPair(_ id: String, rule: String) -> (from: String, to: String)? {
        guard id.hasPrefix(rule + "["), id.hasSuffix("]") else { return nil }
        let inner = id.dropFirst(rule.count + 1).dropLast()
        guard let r = inner.range(of: "->") else { return nil }
        return (String(inner[..<r.lowerBound]), String(inner[r.upperBound...]))
    }

    // MARK: - Layout

    struct Box {
        var state: State
        var x: Double, y: Double, w: Double, h: Double
        var kindLabel: String?
    }

    static let nodeHeight = 44.0
    static let charWidth = 8.0

    static func nodeWidth(_ name: String) -> Double { max(92, Double(name.count) * charWidth + 26) }

    /// The circle order of `names` with the fewest crossing chords; `names[0]` stays first. Exhaustive up to nine
    /// states; larger machines keep the spec order.
    static func circleOrder(_ names: [String], arcs: [(String, String)]) -> [String] {
        guard names.count > 3, names.count <= 9 else { return names }
        let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
        var pairs = Set<[Int]>()
        for (a, b) in arcs {
            guard let i = index[a], let j = index[b], i != j else { continue }
            pairs.insert([min(i, j), max(i, j)])
        }
        // As pairs of numbers, not arrays: the cost below runs for every order of up to eight states (and, a sum over
        // the chords, does not depend on their order).
        let chords = pairs.map { (first: $0[0], second: $0[1]) }
        var best = Array(0..<names.count)
        var bestCost = (Int.max, Int.max)
        var position = Array(0..<names.count)
        func cost() -> (Int, Int) {
            var crossings = 0
            var length = 0
            let n = names.count
            for k in chords.indices {
                let c = chords[k]
                let a = position[c.first]
                let b = position[c.second]
                let lo = min(a, b)
                let hi = max(a, b)
                length += min(hi - lo, n - (hi - lo))
                for m in (k + 1)..<chords.count {
                    let d = chords[m]
                    if d.first == c.first || d.first == c.second || d.second == c.first || d.second == c.second {
                        continue
                    }
                    let p = position[d.first]
                    let q = position[d.second]
                    if (p > lo && p < hi) != (q > lo && q < hi) { crossings += 1 }
                }
            }
            return (crossings, length)
        }
        // Every order of the slots 1..<n (Heap's algorithm, indices shifted by one); slot 0 keeps the first state.
        // The first order visited is the spec order, and only a strictly better one replaces it.
        var order = Array(0..<names.count)
        func visit() {
            for (slot, state) in order.enumerated() { position[state] = slot }
            let c = cost()
            if c < bestCost {
                bestCost = c
                best = order
            }
        }
        func permute(_ k: Int) {
            if k <= 1 {
                visit()
                return
            }
            for i in 0..<(k - 1) {
                permute(k - 1)
                if k % 2 == 0 { order.swapAt(1 + i, k) } else { order.swapAt(1, k) }
            }
            permute(k - 1)
        }
        permute(names.count - 1)
        return best.map { names[$0] }
    }

    // MARK: - Rendering

    /// The diagram as a standalone SVG document (with an XML declaration), for `diagram.svg`.
    package static func document(_ report: RunReport, spec: Spec) -> String {
        document(svg: svg(report, spec: spec))
    }

    /// The standalone document around an `<svg>` element ``svg(_:spec:)`` made.
    static func document(svg: String) -> String { "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + svg }

    /// The `<svg>` element alone, for embedding in HTML.
    package static func svg(_ report: RunReport, spec: Spec) -> String {
        let machine = Machine(spec: spec, features: Set(report.run.features))
        let results = arcResults(report, spec: spec)
        let profileStates = machine.settableStates
        let initial = spec.initialState
        var names = profileStates.map(\.name)
        if let i = names.firstIndex(of: initial) {
            names.remove(at: i)
            names.insert(initial, at: 0)
        }
        names = circleOrder(names, arcs: results.map { ($0.from, $0.to) })

        let maxWidth = profileStates.map { nodeWidth($0.name) }.max() ?? 92
        let n = Double(max(names.count, 1))
        // A radius that leaves room between neighbouring boxes on the circle.
        let radius = max(150, (maxWidth + 40) * n / (2 * Double.pi) * 1.15, Double(names.count) * 30)
        let margin = 24.0
        let titleHeight = 92.0
        let legendWidth = 236.0
        let cx = margin + maxWidth / 2 + radius + 10
        let cy = titleHeight + nodeHeight / 2 + radius + 12
        var boxes: [String: Box] = [:]
        for (i, name) in names.enumerated() {
            let angle = -Double.pi / 2 + 2 * Double.pi * Double(i) / n
            let state = spec.state(named: name)!
            boxes[name] = Box(
                state: state, x: cx + radius * cos(angle), y: cy + radius * sin(angle),
                w: nodeWidth(name), h: nodeHeight)
        }
        // States outside the profile's machine, in spec order, in rows below the circle.
        let outside = spec.states.filter { s in !profileStates.contains { $0.name == s.name } }
        let circleBottom = cy + radius + nodeHeight / 2
        let rowTop = circleBottom + 58
        let diagramWidth = 2 * (cx - margin) + 20
        var rowX = margin
        var rowY = rowTop + nodeHeight / 2
        var rowBoxes: [Box] = []
        for s in outside {
            let w = max(nodeWidth(s.name), 112)
            if rowX + w > margin + diagramWidth + legendWidth && rowX > margin {
                rowX = margin
                rowY += nodeHeight + 36
            }
            let label: String
            switch s.kind {
            case .error: label = "error state"
            case .reserved: label = "reserved"
            case .outOfRange: label = "out of range"
            case .valid: label = "not advertised"
            }
            rowBoxes.append(Box(state: s, x: rowX + w / 2, y: rowY, w: w, h: nodeHeight, kindLabel: label))
            rowX += w + 18
        }
        let width = max(margin + diagramWidth + legendWidth + margin, rowX + margin)
        let height = (rowBoxes.isEmpty ? circleBottom + 20 : rowY + nodeHeight / 2 + 40) + 30

        var out: [String] = []
        let verdict = ReportFacts.verdictWord(report)
        let device = report.run.device
        let titleText = "\(verdict): \(report.run.specID) \(report.run.specVersion) on \(device.driver)"
        out.append(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
                + "viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-labelledby=\"diagram-title diagram-desc\" "
                + "font-family=\"DejaVu Sans, Liberation Sans, Arial, sans-serif\" font-size=\"13\">")
        out.append("<title id=\"diagram-title\">\(esc(titleText))</title>")
        let counts = ArcVerdict.allCases.map { v in "\(results.filter { $0.verdict == v }.count) \(v.rawValue)" }
        out.append(
            "<desc id=\"diagram-desc\">State machine of \(esc(report.run.specID)) for the features "
                + "\(esc(report.run.features.joined(separator: ", "))): \(results.count) single-step arcs ("
                + esc(counts.joined(separator: ", ")) + ").</desc>")
        out.append("<defs>")
        for v in ArcVerdict.allCases {
            out.append(
                "<marker id=\"\(v.marker)\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                    + "markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\" "
                    + "><path d=\"M0,0 L10,5 L0,10 z\" fill=\"\(v.color)\"/></marker>")
        }
        out.append(
            "<marker id=\"arrow-start\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
                + "markerHeight=\"7\" markerUnits=\"userSpaceOnUse\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#24292f\"/></marker>"
        )
        out.append("</defs>")
        out.append("<rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>")

        // Title: verdict, spec, device.
        let verdictColor = verdict == "CONFORMANT" ? "#1a7f37" : verdict == "NOT CONFORMANT" ? "#cf222e" : "#b35900"
        out.append(
            "<text x=\"\(f(margin))\" y=\"34\" font-size=\"20\" font-weight=\"bold\">"
                + "<tspan fill=\"\(verdictColor)\">\(esc(verdict))</tspan>"
                + "<tspan fill=\"#24292f\"> to \(esc(report.run.specID)) \(esc(report.run.specVersion))</tspan></text>")
        var deviceLine = "\(device.driver) (\(device.targetKind))"
        if !device.detail.isEmpty { deviceLine += ": \(device.detail)" }
        if let k = device.kernelRelease { deviceLine += "; kernel \(k)" }
        out.append("<text x=\"\(f(margin))\" y=\"58\" fill=\"#24292f\">Device: \(esc(clip(deviceLine, 110)))</text>")
        let featureText = report.run.features.isEmpty ? "none" : report.run.features.joined(separator: ", ")
        out.append(
            "<text x=\"\(f(margin))\" y=\"78\" fill=\"#57606a\">Target \(esc(clip(report.run.target, 50)))"
                + " \u{2022} features: \(esc(clip(featureText, 60))) \u{2022} \(results.count) single-step arcs</text>")

        // Arcs.
        let pairs = Set(results.map { $0.from + "->" + $0.to })
        for r in results {
            guard let a = boxes[r.from], let b = boxes[r.to] else { continue }
            let twoWay = pairs.contains(r.to + "->" + r.from)
            out.append(edge(a, b, bend: twoWay ? 0.16 : 0.05, result: r))
        }
        // Initial-state marker: a dot and an arrow into the initial state from above-left.
        if let start = boxes[initial] {
            let ex = start.x - start.w / 2 - 4
            let ey = start.y
            out.append("<circle cx=\"\(f(ex - 34))\" cy=\"\(f(ey))\" r=\"5\" fill=\"#24292f\"/>")
            out.append(
                "<line x1=\"\(f(ex - 29))\" y1=\"\(f(ey))\" x2=\"\(f(ex))\" y2=\"\(f(ey))\" stroke=\"#24292f\" "
                    + "stroke-width=\"1.5\" marker-end=\"url(#arrow-start)\"><title>initial state (after open and reset)</title></line>"
            )
        }
        // Nodes on the circle.
        for name in names { out.append(node(boxes[name]!, generation: spec.generation, initial: name == initial)) }

        // The row of states outside the machine.
        if !rowBoxes.isEmpty {
            out.append(
                "<line x1=\"\(f(margin))\" y1=\"\(f(rowTop - 30))\" x2=\"\(f(width - margin))\" y2=\"\(f(rowTop - 30))\" "
                    + "stroke=\"#d0d7de\" stroke-width=\"1\"/>")
            out.append(
                "<text x=\"\(f(margin))\" y=\"\(f(rowTop - 12))\" fill=\"#57606a\" font-size=\"12\">"
                    + "Not requestable on this profile: the error state is entered only by a failed transition and left only by reset"
                    + "</text>")
            for box in rowBoxes { out.append(node(box, generation: spec.generation, initial: false)) }
        }

        // Legend.
        let lx = margin + diagramWidth + 8
        var ly = titleHeight + 10
        out.append("<g font-size=\"12\">")
        out.append(
            "<rect x=\"\(f(lx - 10))\" y=\"\(f(ly - 8))\" width=\"\(f(legendWidth - 10))\" "
                + "height=\"\(f(Double(ArcVerdict.allCases.count) * 22 + 5 * 26 + 62))\" rx=\"6\" fill=\"#f6f8fa\" stroke=\"#d0d7de\"/>"
        )
        out.append(
            "<text x=\"\(f(lx))\" y=\"\(f(ly + 8))\" font-weight=\"bold\" fill=\"#24292f\">Arcs (single-step only)</text>"
        )
        ly += 26
        for v in ArcVerdict.allCases {
            let count = results.filter { $0.verdict == v }.count
            out.append(
                "<line x1=\"\(f(lx))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 44))\" y2=\"\(f(ly))\" stroke=\"\(v.color)\" "
                    + "stroke-width=\"\(f(v.width))\"" + (v.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "")
                    + " marker-end=\"url(#\(v.marker))\"/>")
            out.append(
                "<text x=\"\(f(lx + 54))\" y=\"\(f(ly + 4))\" fill=\"#24292f\">\(esc(v.rawValue)) (\(count) arc\(count == 1 ? "" : "s"))</text>"
            )
            ly += 22
        }
        ly += 8
        out.append("<text x=\"\(f(lx))\" y=\"\(f(ly + 6))\" font-weight=\"bold\" fill=\"#24292f\">States</text>")
        ly += 22
        let samples: [(String, String)] = [
            ("valid", "requestable state"), ("error", "error state"),
            ("reserved", "reserved encoding"), ("out-of-range", "out of range"),
            ("unadvertised", "not advertised"),
        ]
        for (kind, label) in samples {
            out.append(swatch(kind: kind, x: lx, y: ly - 8, w: 44, h: 18))
            out.append("<text x=\"\(f(lx + 54))\" y=\"\(f(ly + 5))\" fill=\"#24292f\">\(esc(label))</text>")
            ly += 26
        }
        out.append("</g>")
        out.append("</svg>")
        return out.joined(separator: "\n") + "\n"
    }

    /// One arc: a quadratic curve between the two boxes' borders, bent by `bend` of its length to its right.
    static func edge(_ a: Box, _ b: Box, bend: Double, result: ArcResult) -> String {
        let dx = b.x - a.x
        let dy = b.y - a.y
        let len = max(1, (dx * dx + dy * dy).squareRoot())
        // Right-hand normal of the direction of travel (screen coordinates, y down).
        let nx = -dy / len
        let ny = dx / len
        let mx = (a.x + b.x) / 2 + nx * bend * len
        let my = (a.y + b.y) / 2 + ny * bend * len
        let start = border(a, towards: (mx, my), gap: 2)
        let end = border(b, towards: (mx, my), gap: 4)
        let v = result.verdict
        var s =
            "<path d=\"M\(f(start.0)),\(f(start.1)) Q\(f(mx)),\(f(my)) \(f(end.0)),\(f(end.1))\" fill=\"none\" "
            + "stroke=\"\(v.color)\" stroke-width=\"\(f(v.width))\""
        if let d = v.dash { s += " stroke-dasharray=\"\(d)\"" }
        s += " marker-end=\"url(#\(v.marker))\">"
        let detail = result.cases.isEmpty ? "no case" : result.cases.joined(separator: "; ")
        s += "<title>\(esc("\(result.from) -> \(result.to): \(v.rawValue) (\(detail))"))</title></path>"
        return s
    }

    /// Where the ray from a box's center towards a point leaves the box (plus a gap).
    static func border(_ box: Box, towards p: (Double, Double), gap: Double) -> (Double, Double) {
        let dx = p.0 - box.x
        let dy = p.1 - box.y
        let len = max(1e-9, (dx * dx + dy * dy).squareRoot())
        let ux = dx / len
        let uy = dy / len
        let tx = abs(ux) < 1e-9 ? Double.infinity : (box.w / 2) / abs(ux)
        let ty = abs(uy) < 1e-9 ? Double.infinity : (box.h / 2) / abs(uy)
        let t = min(tx, ty) + gap
        return (box.x + ux * t, box.y + uy * t)
    }

    static func style(kind: String) -> (fill: String, stroke: String, dash: String?, width: Double, text: String) {
        switch kind {
        case "error": return ("#ffebe9", "#cf222e", nil, 2, "#82071e")
        case "reserved": return ("#f6f8fa", "#6e7781", "6 3", 1.5, "#57606a")
        case "out-of-range": return ("#f6f8fa", "#8c959f", "2 3", 1.5, "#57606a")
        case "unadvertised": return ("#ffffff", "#afb8c1", "4 4", 1.2, "#8c959f")
        default: return ("#ddf4ff", "#0969da", nil, 1.5, "#0a3069")
        }
    }

    static func kindName(_ state: State, outside: Bool) -> String {
        switch state.kind {
        case .error: return "error"
        case .reserved: return "reserved"
        case .outOfRange: return "out-of-range"
        case .valid: return outside ? "unadvertised" : "valid"
        }
    }

    static func swatch(kind: String, x: Double, y: Double, w: Double, h: Double) -> String {
        let st = style(kind: kind)
        var s =
            "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(w))\" height=\"\(f(h))\" rx=\"6\" fill=\"\(st.fill)\" "
            + "stroke=\"\(st.stroke)\" stroke-width=\"\(f(st.width))\""
            + (st.dash.map { " stroke-dasharray=\"\($0)\"" } ?? "") + "/>"
        if kind == "error" {
            s +=
                "<rect x=\"\(f(x + 3))\" y=\"\(f(y + 3))\" width=\"\(f(w - 6))\" height=\"\(f(h - 6))\" rx=\"4\" fill=\"none\" "
                + "stroke=\"\(st.stroke)\" stroke-width=\"1\"/>"
        }
        return s
    }

    static func node(_ box: Box, generation: ProtocolGeneration, initial: Bool) -> String {
        let kind = kindName(box.state, outside: box.kindLabel != nil)
        let st = style(kind: kind)
        var out = "<g>" + swatch(kind: kind, x: box.x - box.w / 2, y: box.y - box.h / 2, w: box.w, h: box.h)
        if initial {
            out +=
                "<rect x=\"\(f(box.x - box.w / 2 - 3))\" y=\"\(f(box.y - box.h / 2 - 3))\" width=\"\(f(box.w + 6))\" "
                + "height=\"\(f(box.h + 6))\" rx=\"8\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"1\"/>"
        }
        let value = generation == .v1 ? binary(box.state.value) : "= \(box.state.value)"
        let second = box.kindLabel.map { "\(value) \u{00b7} \($0)" } ?? value
        out +=
            "<text x=\"\(f(box.x))\" y=\"\(f(box.y - 3))\" text-anchor=\"middle\" font-family=\"DejaVu Sans Mono, "
            + "Liberation Mono, monospace\" font-weight=\"bold\" fill=\"\(st.text)\">\(esc(box.state.name))</text>"
        out +=
            "<text x=\"\(f(box.x))\" y=\"\(f(box.y + 14))\" text-anchor=\"middle\" font-size=\"11\" fill=\"\(st.text)\">"
            + "\(esc(second))</text>"
        out += "<title>\(esc("\(box.state.name) (\(value)): \(box.state.description)"))</title></g>"
        return out
    }

    /// A v1 register encoding: `001b`.
    static func binary(_ v: UInt32) -> String {
        let bits = String(v, radix: 2)
        return String(repeating: "0", count: max(0, 3 - bits.count)) + bits + "b"
    }

    static func clip(_ s: String, _ max: Int) -> String { s.count <= max ? s : String(s.prefix(max - 1)) + "\u{2026}" }

    /// A coordinate with one decimal.
    static func f(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        return r == r.rounded() ? String(Int(r)) : String(r)
    }

    /// Text for XML or HTML content and attribute values: the five markup characters escaped, characters XML 1.0
    /// does not allow dropped.
    static func esc(_ s: String) -> String { Markup.escape(s) }
}

/// Escaping shared by the SVG and HTML renderers.
enum Markup {
    /// `&`, `<`, `>`, `"` and `'` as entities; control characters other than tab, newline and carriage return,
    /// and the noncharacters U+FFFE and U+FFFF, removed (XML 1.0 cannot carry them at all).
    static func escape(_ s: String) -> String {
        if PlainText.isPlainMarkupText(s) { return s }
        // Gathered as UTF-8 bytes: appending to a string scalar by scalar costs far more.
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 32)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;".utf8
            case "<": out += "&lt;".utf8
            case ">": out += "&gt;".utf8
            case "\"": out += "&quot;".utf8
            case "'": out += "&#39;".utf8
            case "\t", "\n", "\r": out.append(UInt8(u.value))
            default:
                if u.value < 0x20 || u.value == 0x7f || u.value == 0xfffe || u.value == 0xffff { continue }
                UTF8.encode(u) { out.append($0) }
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
