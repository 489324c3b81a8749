import Foundation
import MCP
import Manifest
import Pipeline

/// The checks `prostudio validate` makes (parse, schema, voices, assets, installed packs), for the tools.
struct Validation: Sendable {
    /// The packs folder the manifest's model packs must be installed in (the daemon's); nil: not checked here.
    var models: String?

    func check(_ input: JobInput) throws -> JobManifest {
        do throws(PipelineError) {
            return try Pipeline.validate(manifestPath: input.checkPath, displayName: input.displayName, models: models)
        } catch {
            let report = ValidationReport(input.displayName, error)
            throw ToolFailure(error.code, error.message, field: error.field, problems: report.errors, file: input.displayName)
        }
    }

    /// `validate --json`: the resolved manifest and its warnings, or (as an error result) every problem.
    func report(_ input: JobInput) throws -> Value {
        let m = try check(input)
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        let resolved = (try? JSONDecoder().decode(Value.self, from: e.encode(m))) ?? .null
        return .object([
            "valid": .bool(true), "file": .string(input.displayName), "scenes": .int(m.scenes.count),
            "width": .int(m.output.width), "height": .int(m.output.height), "fps": .int(m.output.fps),
            "warnings": .array(Pipeline.warnings(for: m).map(Value.string)), "manifest": resolved,
        ])
    }
}

