import ArgumentParser
import Engines
import Foundation
import JapaneseText
import Manifest
import Normaliser

/// One line to a WAV file for a quick listen, or (`--dry-run`) the words the voice is given for it: what the
/// normaliser makes of the script's numbers, money, dates and abbreviations.
struct Speak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Speak a line to a WAV file, or print the words the voice is given for it (--dry-run).")

    @Argument(help: "The text (several arguments are joined with spaces).")
    var text: [String]

    @Option(help: "The voice: an espeak-ng voice name such as en-us, fr, de, es (its language picks the reading rules).")
    var voice: String?

    @Option(help: "The language (en, fr, de, es, ...): the same as --voice with that language's voice.")
    var lang: String?

    @Option(help: "The engine: auto (Piper when its pack speaks the language, else espeak-ng), espeak or piper.")
    var engine: String = "auto"

    @Option(help: "The Piper pack (default joe-medium).")
    var pack: String?

    @Option(name: .shortAndLong, help: "The WAV file to write.")
    var output: String = "speak.wav"

    @Option(help: "Folder of installed model packs.")
    var models: String?

    @Flag(help: "Print the words the voice is given, on one line, and speak nothing.")
    var dryRun = false

    func validate() throws {
        if voice != nil && lang != nil { throw ValidationError("give --voice or --lang, not both") }
        if JobManifest.Voice.Engine(rawValue: engine) == nil {
            throw ValidationError("--engine \(engine): expected one of \(JobManifest.Voice.Engine.allCases.map(\.rawValue).joined(separator: ", "))")
        }
    }

    func run() async throws {
        Logs.bootstrap(verbose: false)
        let line = text.joined(separator: " ")
        let name = voice ?? lang ?? "en-us"
        if dryRun && (name == "ja" || name.hasPrefix("ja-") || name.hasPrefix("ja_")) {
            // Japanese goes to Kokoro as phonemes from JapaneseText: show them, and each word's reading to check.
            do {
                let ja = try JapanesePhonemizer()
                print(try ja.phonemes(for: line))
                print(try ja.words(in: line).map { "\(line[$0.surface])/\($0.reading)" }.joined(separator: " "))
            } catch {
                exitWith("prostudio speak: \(error)", code: 1)
            }
            return
        }
        let spoken = Normaliser.normalise(line, voice: name)
        if dryRun {
            print(spoken.text.split(whereSeparator: \.isNewline).joined(separator: " "))
            return
        }
        var v = JobManifest.Voice(engine: JobManifest.Voice.Engine(rawValue: engine)!, voice: name)
        if let pack { v.pack = pack }
        let engines = ModelEngines.engineSet(models: models.map { URL(fileURLWithPath: $0) })
        let resolved = engines.resolve(v)
        let narration: Narration
        let who: String
        do {
            let speech = try engines.speechEngine(resolved.engine, field: "--engine")
            who = speech.identity(for: resolved).description
            narration = try await speech.synthesize(spoken.text, voice: resolved)
        } catch {
            exitWith("prostudio speak: \(error.message)", code: 1)
        }
        do {
            try WAV.write(narration.samples, sampleRate: narration.sampleRate, to: output)
        } catch {
            exitWith("prostudio speak: cannot write \(output): \(error.localizedDescription)", code: 1)
        }
        print("\(output)  (\(String(format: "%.2f", narration.duration)) s, \(who))")
        if !Normaliser.hasRules(forVoice: name) {
            FileHandle.standardError.write(Data("prostudio speak: no reading rules for \(name); the text was spoken as written\n".utf8))
        }
    }
}

/// 16-bit PCM mono WAV, written to a temporary name and renamed (never a half-written file under the name asked).
enum WAV {
    static func write(_ samples: [Float], sampleRate: Int, to path: String) throws {
        var data = Data()
        func le<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
        let bytes = samples.count * 2
        data.append(contentsOf: Array("RIFF".utf8)); le(UInt32(36 + bytes)); data.append(contentsOf: Array("WAVE".utf8))
        data.append(contentsOf: Array("fmt ".utf8)); le(UInt32(16)); le(UInt16(1)); le(UInt16(1))
        le(UInt32(sampleRate)); le(UInt32(sampleRate * 2)); le(UInt16(2)); le(UInt16(16))
        data.append(contentsOf: Array("data".utf8)); le(UInt32(bytes))
        data.reserveCapacity(data.count + bytes)
        for s in samples { le(Int16((max(-1, min(1, s)) * 32767).rounded())) }
        let url = URL(fileURLWithPath: path)
        try data.write(to: url, options: .atomic)
    }
}
