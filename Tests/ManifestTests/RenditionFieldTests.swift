import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Issue 26: `outputs:`, more files of the same video, each a preset or its own size, quality and loudness.
@Suite struct RenditionFieldTests {
    static func load(_ text: String) throws(ManifestErrors) -> JobManifest {
        let dir = TempDir()
        return try ManifestLoader.load(path: dir.write("r.yaml", text))
    }

    static func problems(_ text: String) -> [ManifestError] {
        do { _ = try load(text); return [] } catch { return error.errors }
    }

    @Test func presetsAndMappingsAreRead() throws {
        let m = try Self.load("""
            output: {aspect: "4:3", fps: 25}
            outputs: [youtube, shorts, square, preview, {preset: shorts, name: reels, quality: standard}, {name: big, width: 2560, height: 1440, loudness: -12}]
            scenes: [hi]
            """)
        #expect(m.renditions.map(\.name) == ["youtube", "shorts", "square", "preview", "reels", "big"])
        #expect(m.renditions.map { "\($0.output.width)x\($0.output.height)" } == ["1920x1080", "1080x1920", "1080x1080", "512x384", "1080x1920", "2560x1440"])
        // Every rendition keeps the video's frame rate; the presets set their own quality and loudness.
        #expect(m.renditions.allSatisfy { $0.output.fps == 25 })
        #expect(m.renditions.map(\.output.quality) == [.high, .high, .high, .draft, .standard, .standard])
        #expect(m.renditions.map(\.loudness) == [-14, -14, -14, -16, -14, -12])
        #expect(try Self.load("scenes: [hi]\n").renditions.isEmpty)
    }

    @Test(arguments: [
        ("outputs: youtube\n", "outputs", "a list of renditions"),
        ("outputs: [youtub]\n", "outputs[0]", "did you mean youtube?"),
        ("outputs: [web]\n", "outputs[0]", "WebM (VP9/AV1 with Opus) needs an encoder path this build does not have yet"),
        ("outputs: [{preset: podcast}]\n", "outputs[0].preset", "audio-only M4A"),
        ("outputs: [shorts, shorts]\n", "outputs[1]", "each rendition named once"),
        ("outputs: [{width: 640, height: 360}]\n", "outputs[0].name", "a name for the file"),
        ("outputs: [{name: small, width: 640}]\n", "outputs[0].height", "both width and height"),
        ("outputs: [{name: odd, width: 641, height: 360}]\n", "outputs[0].width", "an even number of pixels"),
        ("outputs: [{name: Big File, width: 640, height: 360}]\n", "outputs[0].name", "lower-case letters, digits or hyphens"),
        ("outputs: [{preset: youtube, fps: 60}]\n", "outputs[0].fps", "name, preset, width, height, quality, loudness"),
        ("outputs: [{preset: youtube, loudness: -3}]\n", "outputs[0].loudness", "-30"),
        ("outputs: [a, b, c, d, e, f, g, h, i]\n", "outputs", "at most 8"),
    ])
    func badRenditionsAreRefusedNamingTheField(text: String, field: String, expected: String) {
        let errors = Self.problems(text + "scenes: [hi]\n")
        #expect(errors.contains { $0.field == field && ($0.expected.contains(expected) || $0.description.contains(expected)) },
                "\(errors.map(\.description))")
    }
}
