import Foundation
import Testing

/// `prostudio speak` (issue 33): the words a voice is given for a line, and the line spoken to a WAV file.
@Suite struct SpeakCommandTests {
    @Test func dryRunPrintsTheWordsTheVoiceIsGivenOnOneLine() async throws {
        let en = try await runCLI(["speak", "--dry-run", "It costs $2.50,\nborn in 1925."])
        #expect(en.status == 0, "\(en.err)")
        #expect(en.out == "It costs two dollars and fifty cents, born in nineteen twenty-five.\n")
        let fr = try await runCLI(["speak", "--dry-run", "--lang", "fr", "Cuire", "35", "min."])
        #expect(fr.out == "Cuire trente-cinq minutes.\n", "\(fr.err)")
        let both = try await runCLI(["speak", "--dry-run", "--lang", "fr", "--voice", "de", "1"])
        #expect(both.status != 0 && both.err.contains("--voice or --lang"), "\(both.err)")
    }

    @Test func aLineIsSpokenToAWAVFile() async throws {
        let dir = NSTemporaryDirectory() + "speak-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let short = try await runCLI(["speak", "--engine", "espeak", "-o", dir + "/a.wav", "$1"])
        let long = try await runCLI(["speak", "--engine", "espeak", "-o", dir + "/b.wav", "$1,234,567.89"])
        #expect(short.status == 0 && long.status == 0, "\(short.err) \(long.err)")
        #expect(short.err.isEmpty, "quiet by default: \(short.err)")
        let a = try Data(contentsOf: URL(fileURLWithPath: dir + "/a.wav"))
        let b = try Data(contentsOf: URL(fileURLWithPath: dir + "/b.wav"))
        #expect(a.prefix(4) == Data("RIFF".utf8) && a.subdata(in: 8..<12) == Data("WAVE".utf8))
        // "one million two hundred thirty-four thousand ... eighty-nine cents" takes far longer than "one dollar".
        #expect(b.count > 3 * a.count, "\(a.count) vs \(b.count) bytes")
        // Not silence: some sample well above the noise floor.
        let samples = b.dropFirst(44).withUnsafeBytes { Array($0.bindMemory(to: Int16.self)) }
        #expect((samples.map { abs(Int($0)) }.max() ?? 0) > 3000)
    }
}
