import Foundation

/// Scenes, their sound effects, pauses and the files and folders they name (resolved inside what the manifest may reach).
extension ManifestDecoder {
    mutating func decodeScenes(_ node: DocNode?, visuals: JobManifest.Visuals, voice: JobManifest.Voice, root: DocNode) -> [JobManifest.Scene] {
        guard let node else {
            reader.fail(.missingField, "scenes", root, found: "no scenes", expected: "a list of scenes, each with narration")
            return []
        }
        guard case .list(let items) = node.value else {
            reader.fail(.wrongType, "scenes", node, found: node.typeName, expected: "a list of scenes, each with narration")
            return []
        }
        guard !items.isEmpty else {
            reader.fail(.emptyScenes, "scenes", node, found: "an empty list", expected: "at least one scene")
            return []
        }
        guard items.count <= ManifestLimits.scenes.upperBound else {
            reader.fail(.outOfRange, "scenes", node, found: "\(items.count) scenes", expected: "at most \(ManifestLimits.scenes.upperBound) scenes")
            return []
        }
        var scenes: [JobManifest.Scene] = []
        for (i, item) in items.enumerated() {
            let path = "scenes[\(i)]"
            // A bare string is a scene with only narration.
            if case .scalar = item.value {
                if let text = narration(item, path),
                   let s = withPauses(JobManifest.Scene(narration: text, prompt: nil, image: nil, pause: 0, visuals: visuals, voice: voice), path, item) {
                    scenes.append(s)
                }
                continue
            }
            guard let m = reader.mapping(item, path, allowed: ManifestFields.scene) else { continue }
            guard let textNode = m["narration"] else {
                reader.fail(.missingField, path + ".narration", item, found: "a scene without narration", expected: "the text to speak for this scene")
                continue
            }
            let text = narration(textNode, path + ".narration")
            let prompt = reader.string(m["prompt"], path + ".prompt")
            var image: String?
            if let imageNode = m["image"], let rel = reader.string(imageNode, path + ".image") {
                image = resolveAsset(rel, path + ".image", imageNode, kinds: ["jpg", "jpeg", "png", "webp", "bmp"])
            }
            let pause = reader.double(m["pause"], path + ".pause", range: ManifestLimits.pause, unit: " seconds") ?? 0
            var sceneVisuals = decodeVisuals(m["visuals"], path + ".visuals", inherited: visuals)
            if let fit = reader.choice(m["fit"], path + ".fit", JobManifest.Fit.self) { sceneVisuals.fit = fit }
            if let motion = reader.choice(m["motion"], path + ".motion", JobManifest.Motion.self) { sceneVisuals.motion = motion }
            var focus: [Double]?
            if let node = m["focus"] {
                if case .list(let items) = node.value, items.count == 2 {
                    let values = items.enumerated().compactMap { reader.double($1, path + ".focus[\($0)]", range: ManifestLimits.focus) }
                    if values.count == 2 { focus = values }
                } else {
                    reader.fail(.wrongType, path + ".focus", node, found: node.typeName, expected: "[x, y], each from 0 (left, top) to 1 (right, bottom)")
                }
            }
            let sceneVoice = decodeVoice(m["voice"], path + ".voice", inherited: voice)
            let sfx = m["sfx"].flatMap { decodeSoundEffect($0, path + ".sfx") }
            let heading = reader.string(m["heading"], path + ".heading")
            var video: String?
            if let videoNode = m["video"], let rel = reader.string(videoNode, path + ".video") {
                video = resolveAsset(rel, path + ".video", videoNode, kinds: ["mp4", "mov", "m4v", "mkv", "webm", "avi", "mpg", "mpeg", "gif"])
                if image != nil { reader.fail(.invalidValue, path + ".video", videoNode, expected: "either image or video in a scene, not both") }
            }
            var narrationAudio: String?
            if let node = m["narration_audio"], let rel = reader.string(node, path + ".narration_audio") {
                narrationAudio = resolveAsset(rel, path + ".narration_audio", node, kinds: ManifestFields.narrationAudioKinds)
            }
            let start = reader.double(m["start"], path + ".start", range: ManifestLimits.clipStart, unit: " seconds") ?? 0
            let fill = reader.choice(m["fill"], path + ".fill", JobManifest.Scene.Fill.self) ?? .loop
            let clipVolume = reader.double(m["clip_volume"], path + ".clip_volume", range: ManifestLimits.clipVolume) ?? 0
            if video == nil, let node = m["start"] ?? m["fill"] ?? m["clip_volume"] {
                reader.fail(.invalidValue, path, node, found: "start, fill or clip_volume without a video", expected: "video: CLIP in the same scene")
            }
            if let text {
                var s = JobManifest.Scene(narration: text, prompt: prompt, image: image, pause: pause, visuals: sceneVisuals, voice: sceneVoice,
                                          focus: focus, heading: heading)
                s.video = video; s.start = start; s.fill = fill; s.clipVolume = clipVolume
                s.sfx = sfx
                s.narrationAudio = narrationAudio
                if let s = withPauses(s, path + ".narration", textNode) { scenes.append(s) }
            }
        }
        return scenes
    }

    mutating func decodeSoundEffect(_ node: DocNode, _ path: String) -> JobManifest.SoundEffect? {
        guard let m = reader.mapping(node, path, allowed: ManifestFields.sfx) else { return nil }
        // Every field is read before any is refused, so all of an effect's problems are reported at once.
        let prompt = reader.string(m["prompt"], path + ".prompt")
        if m["prompt"] == nil {
            reader.fail(.missingField, path + ".prompt", node, found: "an effect without a prompt", expected: "what the effect sounds like, e.g. \"waves on a shingle beach\"")
        }
        let at = reader.double(m["at"], path + ".at", range: ManifestLimits.sfxAt, unit: " seconds") ?? 0
        let duration = reader.double(m["duration"], path + ".duration", range: ManifestLimits.sfxDuration, unit: " seconds") ?? 2
        let volume = reader.double(m["volume"], path + ".volume", range: ManifestLimits.sfxVolume) ?? 0.5
        let pack = reader.string(m["pack"], path + ".pack") ?? sfxPack
        if pack == nil && m["pack"] == nil {
            reader.fail(.missingField, path + ".pack", node, found: "an effect without a pack (and music is not engine musicgen)",
                        expected: "the name of an installed music pack for effects (see `prostudio models list`)")
        }
        guard let prompt, let pack else { return nil }
        return JobManifest.SoundEffect(prompt: prompt, at: at, duration: duration, pack: pack, volume: volume)
    }

    mutating func narration(_ node: DocNode, _ path: String) -> String? {
        guard let text = reader.string(node, path) else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.count <= ManifestLimits.narrationCharacters.upperBound else {
            reader.fail(.outOfRange, path, node, found: "\(trimmed.count) characters", expected: "at most \(ManifestLimits.narrationCharacters.upperBound) characters per scene (split it into scenes)")
            return nil
        }
        return trimmed
    }

    /// The narration's pause marks read into `scene.pauses` (blanked in its text); each unreadable mark named.
    mutating func withPauses(_ scene: JobManifest.Scene, _ path: String, _ node: DocNode) -> JobManifest.Scene? {
        let (text, pauses, problems) = Pauses.parse(scene.narration)
        for p in problems { reader.fail(.invalidValue, path, node, found: p.found, expected: p.expected) }
        guard problems.isEmpty else { return nil }
        guard pauses.isEmpty || text.contains(where: { $0.isLetter || $0.isNumber }) else {
            reader.fail(.invalidValue, path, node, found: "only pause marks", expected: "words to speak besides the pauses")
            return nil
        }
        var s = scene
        s.narration = text
        s.pauses = pauses
        return s
    }

    /// A footage library (engine `library`) is the user's own folder, not a job asset: absolute, `~/`, or relative
    /// to the manifest's folder; it must exist now.
    mutating func resolveFolder(_ text: String, _ path: String, _ node: DocNode) -> String? {
        var full = text
        if text == "~" || text.hasPrefix("~/") {
            full = FileManager.default.homeDirectoryForCurrentUser.path + text.dropFirst()
        } else if !text.hasPrefix("/") {
            full = (base as NSString).appendingPathComponent(text)
        }
        full = URL(fileURLWithPath: full).standardizedFileURL.path
        if let access, !access.permits(full, base: base) {
            reader.fail(.pathEscape, path, node, found: "\"\(text)\"", expected: FolderAccess.expectation)
            return nil
        }
        var isDir: ObjCBool = false
        // Errors name the folder as written: the server's own paths are not the sender's business.
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir), isDir.boolValue else {
            reader.fail(.missingAsset, path, node, found: "no folder \"\(text)\"",
                        expected: "an existing folder of pictures and clips")
            return nil
        }
        return full
    }

    /// Resolves an asset path inside the manifest's folder; anything that leads out of it is refused.
    mutating func resolveAsset(_ rel: String, _ path: String, _ node: DocNode, kinds: [String]) -> String? {
        if rel.hasPrefix("/") || rel.hasPrefix("~") {
            reader.fail(.pathEscape, path, node, expected: "a path relative to the manifest's folder")
            return nil
        }
        let parts = rel.split(separator: "/", omittingEmptySubsequences: true)
        if parts.contains("..") {
            reader.fail(.pathEscape, path, node, expected: "a path inside the manifest's folder (no \"..\")")
            return nil
        }
        let ext = (rel as NSString).pathExtension.lowercased()
        guard kinds.contains(ext) else {
            reader.fail(.invalidValue, path, node, expected: "a file ending in " + kinds.map { "." + $0 }.joined(separator: ", "))
            return nil
        }
        let full = (base as NSString).appendingPathComponent(rel)
        guard FileManager.default.fileExists(atPath: full) else {
            reader.fail(.missingAsset, path, node, found: "no file \"\(rel)\"", expected: "the file next to the manifest")
            return nil
        }
        // Symlinks are followed only while they stay inside the folder.
        let realBase = URL(fileURLWithPath: base).resolvingSymlinksInPath().standardizedFileURL.path
        let realFull = URL(fileURLWithPath: full).resolvingSymlinksInPath().standardizedFileURL.path
        guard realFull.hasPrefix(realBase.hasSuffix("/") ? realBase : realBase + "/") else {
            reader.fail(.pathEscape, path, node, found: "\"\(rel)\" (a link leading out of the folder)", expected: "a file inside the manifest's folder")
            return nil
        }
        return realFull
    }
}
