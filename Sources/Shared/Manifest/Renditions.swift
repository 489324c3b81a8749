import Foundation

extension JobManifest {
    /// One more file of the video (`outputs:`), published as `NAME.<name>.mp4` beside `NAME.mp4`: the same speech,
    /// music and scene pictures, laid out again and encoded for its own size (captions, title card and headings are
    /// set for that frame, not cropped from the first one), and normalised to its own loudness.
    public struct Rendition: Sendable, Equatable, Codable {
        /// The file's label: `NAME.<name>.mp4`.
        public var name: String
        public var output: Output
        /// Integrated loudness the mix is brought to (LUFS).
        public var loudness: Double

        public init(name: String, output: Output, loudness: Double) {
            self.name = name; self.output = output; self.loudness = loudness
        }

        /// The presets this build makes: H.264 + AAC in MP4, sized for where the file goes.
        public enum Preset: String, CaseIterable, Sendable {
            /// 1920x1080, high quality, YouTube's -14 LUFS.
            case youtube
            /// 1080x1920 (9:16) for Shorts, Reels and TikTok, -14 LUFS.
            case shorts
            /// 1080x1080 for feeds, -14 LUFS.
            case square
            /// A small fast draft to review: 512 pixels wide at the video's aspect, draft quality.
            case preview
        }

        /// Named in the issue, not made by this build yet: refused with the reason rather than mistaken for a typo.
        static let notYet: [String: String] = [
            "web": "WebM (VP9/AV1 with Opus) needs an encoder path this build does not have yet",
            "hevc": "H.265 needs an encoder path this build does not have yet",
            "podcast": "an audio-only M4A with chapters is not made by this build yet",
            "hls": "HLS segments and a playlist are not made by this build yet",
        ]

        /// The presets named by the issue that this build refuses, with why (`doctor` lists them).
        public static var unavailable: [String] { notYet.keys.sorted() }

        /// The preset's rendition of a video whose own output is `base`.
        public static func preset(_ p: Preset, base: Output) -> Rendition {
            switch p {
            case .youtube: return Rendition(name: "youtube", output: Output(width: 1920, height: 1080, fps: base.fps, quality: .high), loudness: -14)
            case .shorts: return Rendition(name: "shorts", output: Output(width: 1080, height: 1920, fps: base.fps, quality: .high), loudness: -14)
            case .square: return Rendition(name: "square", output: Output(width: 1080, height: 1080, fps: base.fps, quality: .high), loudness: -14)
            case .preview:
                let height = ManifestDecoder.even(512 * Double(base.height) / Double(base.width))
                return Rendition(name: "preview", output: Output(width: 512, height: max(64, height), fps: base.fps, quality: .draft),
                                 loudness: -16)
            }
        }
    }
}

extension ManifestDecoder {
    /// No `fps`: a rendition keeps the video's frame rate, because a video model's frames are made for it (at another
    /// rate they would play at the wrong speed).
    static let renditionFields = ["name", "preset", "width", "height", "quality", "loudness"]
    static let maxRenditions = 8

    /// `outputs: [youtube, shorts, {preset: preview}, {name: big, width: 2560, height: 1440}]`: each a preset's word,
    /// or a mapping of a preset and/or its own size, quality and loudness; `name` labels the file.
    mutating func decodeRenditions(_ node: DocNode, base: JobManifest.Output) -> [JobManifest.Rendition] {
        typealias R = JobManifest.Rendition
        let presets = R.Preset.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .list(let items) = node.value else {
            reader.fail(.wrongType, "outputs", node, found: node.typeName, expected: "a list of renditions: preset names (\(presets)) or mappings")
            return []
        }
        guard items.count <= Self.maxRenditions else {
            reader.fail(.outOfRange, "outputs", node, found: "\(items.count) renditions", expected: "at most \(Self.maxRenditions)")
            return []
        }
        var out: [R] = []
        for (i, item) in items.enumerated() {
            let path = "outputs[\(i)]"
            var fields: [String: DocNode] = [:]
            var presetNode: DocNode? = item
            if case .map = item.value {
                guard let m = reader.mapping(item, path, allowed: Self.renditionFields) else { continue }
                fields = m
                presetNode = m["preset"]
            }
            var rendition: R?
            if let presetNode, let word = reader.string(presetNode, fields.isEmpty ? path : path + ".preset") {
                if let p = R.Preset(rawValue: word) {
                    rendition = R.preset(p, base: base)
                } else if let why = R.notYet[word] {
                    reader.fail(.invalidValue, fields.isEmpty ? path : path + ".preset", presetNode, found: "\"\(word)\"",
                                expected: "a preset this build makes (\(presets)): \(why)")
                    continue
                } else {
                    let hint = closestName(to: word, in: R.Preset.allCases.map(\.rawValue)).map { " (did you mean \($0)?)" } ?? ""
                    reader.fail(.invalidValue, fields.isEmpty ? path : path + ".preset", presetNode, found: "\"\(word)\"",
                                expected: "one of \(presets)\(hint)")
                    continue
                }
            } else if presetNode != nil {
                continue  // the reader said why
            }
            var r = rendition ?? R(name: "", output: base, loudness: -16)
            let width = reader.int(fields["width"], path + ".width", range: ManifestLimits.dimension)
            let height = reader.int(fields["height"], path + ".height", range: ManifestLimits.dimension)
            if let width { r.output.width = width }
            if let height { r.output.height = height }
            if rendition == nil && (width == nil) != (height == nil) {
                reader.fail(.missingField, path + (width == nil ? ".width" : ".height"), item, found: "only one side",
                            expected: "both width and height, or a preset (\(presets))")
            }
            for (field, value) in [("width", r.output.width), ("height", r.output.height)] where value % 2 != 0 {
                reader.fail(.invalidValue, path + "." + field, fields[field], found: String(value), expected: "an even number of pixels (H.264 4:2:0 needs it)")
            }
            if let q = reader.choice(fields["quality"], path + ".quality", JobManifest.Quality.self) { r.output.quality = q }
            if let l = reader.double(fields["loudness"], path + ".loudness", range: ManifestLimits.renditionLoudness, unit: " LUFS") { r.loudness = l }
            if let nameNode = fields["name"], let name = reader.string(nameNode, path + ".name") {
                r.name = name
            }
            if r.name.isEmpty {
                reader.fail(.missingField, path + ".name", item, found: "no name", expected: "a name for the file (NAME.<name>.mp4), or a preset")
                continue
            }
            let allowed = r.name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
            guard allowed, r.name.count <= 24 else {
                reader.fail(.invalidValue, path + ".name", fields["name"] ?? item, found: "\"\(r.name)\"",
                            expected: "1 to 24 lower-case letters, digits or hyphens (it goes into the file name)")
                continue
            }
            if out.contains(where: { $0.name == r.name }) {
                reader.fail(.invalidValue, path, item, found: "a second rendition named \(r.name)", expected: "each rendition named once (give one a `name:`)")
                continue
            }
            out.append(r)
        }
        return out
    }
}
