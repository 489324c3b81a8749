import ArgumentParser
import Foundation
import Manifest
import Pipeline

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a manifest without rendering (exit 0 valid, 2 invalid).")

    @Argument(help: "A manifest (.yaml, .json, .txt, .md) or a job folder holding one.")
    var manifest: String

    @Flag(help: "Print the resolved manifest (every default filled in) as JSON.")
    var json = false

    func run() throws {
        let m: JobManifest
        do throws(PipelineError) {
            m = try Pipeline.validate(manifestPath: manifest)
        } catch {
            exitWith(error.message.split(separator: "\n").map { "prostudio: \($0)" }.joined(separator: "\n"), code: error.exitCode)
        }
        for warning in Pipeline.warnings(for: m) { FileHandle.standardError.write(Data("prostudio: warning: \(warning)\n".utf8)) }
        do {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(m), as: UTF8.self))
            } else {
                print("\(manifest): valid (\(m.scenes.count) scene\(m.scenes.count == 1 ? "" : "s"), \(m.output.width)x\(m.output.height) at \(m.output.fps) fps)")
            }
        } catch {
            exitWith("prostudio: \(error)", code: 1)
        }
    }
}
