import Contract
import Foundation
import Manifest

/// Which scenes start chapters and what they are called (`chapters:`), from where each scene starts in the video.
enum ChapterPlan {
    static func chapters(_ m: JobManifest, starts: [Double]) -> [Sidecar.Chapter] {
        var marks: [Sidecar.Chapter] = []
        for (i, scene) in m.scenes.enumerated() where i < starts.count {
            switch m.chapters {
            case .off: return []
            case .headings:
                if let h = scene.heading, !h.isEmpty { marks.append(.init(start_s: starts[i], title: h)) }
            case .scenes:
                let title = scene.heading.flatMap { $0.isEmpty ? nil : $0 } ?? firstWords(scene.narration) ?? "Scene \(i + 1)"
                marks.append(.init(start_s: starts[i], title: title))
            }
        }
        // A description's chapter list must start at 0:00: the opening before the first heading is one too.
        if let first = marks.first, first.start_s > 0.5 {
            marks.insert(.init(start_s: 0, title: m.title.flatMap { $0.isEmpty ? nil : $0 } ?? "Introduction"), at: 0)
        }
        return marks
    }

    /// The narration's first sentence, cut after six words (with an ellipsis when cut); nil when it has no words.
    static func firstWords(_ narration: String) -> String? {
        let sentence = narration.split(whereSeparator: { ".!?。！？\n".contains($0) }).first.map(String.init) ?? narration
        let words = sentence.split(whereSeparator: \.isWhitespace)
        guard !words.isEmpty else { return nil }
        let kept = words.prefix(6).joined(separator: " ").trimmingCharacters(in: .punctuationCharacters)
        return words.count > 6 ? kept + "…" : kept
    }
}
