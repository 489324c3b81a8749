import ArgumentParser
import Foundation
import MCPServer
import Manifest
import Pipeline

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a manifest without rendering (exit 0 valid, 2 invalid).")

    @Argument(help: "A manifest (.yaml, .json, .txt, .md) or a job folder holding one.")
    var manifest: String

    @Flag(help: "Print the resolved manifest (every default filled in) as JSON; for an invalid one, its errors as JSON ({valid: false, errors: [{code, field, line, message}]}).")
    var json = false

    @Option(help: ArgumentHelp("Folder of installed model packs the manifest's packs must be in (default: $PROSTUDIO_MODELS, else /var/lib/prostudio/models).", valueName: "DIR"))
    var models: String?

    func run() throws {
        let m: JobManifest
        do throws(PipelineError) {
            m = try Pipeline.validate(manifestPath: manifest, models: models ?? PackCheck.defaultModels)
        } catch {
            // --json: the problems on stdout too, for programs (the text stays on stderr for people).
            if json { printJSON(ValidationReport(manifest, error)) }
            exitWith(error.message.split(separator: "\n").map { "prostudio: \($0)" }.joined(separator: "\n"), code: error.exitCode)
        }
        for warning in Pipeline.warnings(for: m) { FileHandle.standardError.write(Data("prostudio: warning: \(warning)\n".utf8)) }
        do {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(m), as: UTF8.self))
            } else {
                print("\(manifest): valid (\(m.scenes.count) scene\(m.scenes.count == 1 ? "" : "s"), \(m.output.width)x\(m.output.height) at \(m.output.fps) fps\(m.voiceChoice.map { "; " + $0 } ?? ""))")
            }
        } catch {
            exitWith("prostudio: \(error)", code: 1)
        }
    }
}
