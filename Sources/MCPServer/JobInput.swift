import Foundation
import MCP
import Pipeline
import Watcher

/// The arguments of a tool call, read with errors that name the argument and what was expected.
struct Arguments {
    let tool: String
    let values: [String: Value]

    func string(_ key: String) throws(ToolFailure) -> String? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let s = v.stringValue else { throw bad(key, "a string") }
        return s
    }
    func required(_ key: String) throws(ToolFailure) -> String {
        guard let s = try string(key), !s.isEmpty else { throw bad(key, "a non-empty string (required)") }
        return s
    }
    func number(_ key: String) throws(ToolFailure) -> Double? {
        guard let v = values[key], !v.isNull else { return nil }
        if let i = v.intValue { return Double(i) }
        guard let d = v.doubleValue else { throw bad(key, "a number") }
        return d
    }
    /// A whole number in `range` (a float such as 1e300 would trap converting to Int).
    func integer(_ key: String, _ range: ClosedRange<Int>) throws(ToolFailure) -> Int? {
        guard let d = try number(key) else { return nil }
        guard d.isFinite, d == d.rounded(), d >= Double(range.lowerBound), d <= Double(range.upperBound) else {
            throw bad(key, "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return Int(d)
    }
    /// Seconds to wait, 0 to 600.
    func seconds(_ key: String, default value: Double) throws(ToolFailure) -> Double {
        guard let d = try number(key) else { return value }
        guard d.isFinite, d >= 0, d <= 600 else { throw bad(key, "seconds from 0 to 600") }
        return d
    }
    func bool(_ key: String) throws(ToolFailure) -> Bool? {
        guard let v = values[key], !v.isNull else { return nil }
        guard let b = v.boolValue else { throw bad(key, "true or false") }
        return b
    }
    func strings(_ key: String) throws(ToolFailure) -> [String]? {
        guard let v = values[key], !v.isNull else { return nil }
        if let s = v.stringValue { return s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let a = v.arrayValue else { throw bad(key, "an array of strings") }
        var out: [String] = []
        for item in a {
            guard let s = item.stringValue else { throw bad(key, "an array of strings") }
            out.append(s)
        }
        return out
    }
    func map(_ key: String) throws(ToolFailure) -> [String: String] {
        guard let v = values[key], !v.isNull else { return [:] }
        guard let o = v.objectValue else { throw bad(key, "an object mapping the manifest's relative path to a file on this machine") }
        var out: [String: String] = [:]
        for (k, item) in o {
            guard let s = item.stringValue else { throw bad("\(key).\(k)", "a file path (string)") }
            out[k] = s
        }
        return out
    }
    func bad(_ key: String, _ expected: String) -> ToolFailure {
        ToolFailure("mcp.bad_argument", "\(tool): argument \(key): expected \(expected)", field: key)
    }
}

/// What validate and submit are given: either `path` (a manifest or job folder on this machine) or `manifest` (its
/// text) with `format`, a job `name` and `assets` (the manifest's relative paths mapped to files on this machine).
/// Text is laid out as a job folder, NAME/NAME.FORMAT beside copies of its assets, so the manifest reads exactly as
/// it would from the inbox and its errors name NAME.FORMAT, not a temporary path.
struct JobInput {
    static let formats = ["yaml", "yml", "json", "txt", "md"]

    /// The manifest (or job folder) to hand over, and how errors name it.
    var path: String
    var displayName: String
    /// What is validated: the manifest file itself when the job was given as text (so problems read `NAME.yaml:3`),
    /// else `path`.
    var checkPath: String
    /// The job's name in the inbox: the folder's, or the manifest's without its extension.
    var name: String
    var isFolder: Bool
    /// The temporary folder holding a job laid out from text, removed by `discard()`.
    var scratch: String?

    static func read(_ args: Arguments) throws(ToolFailure) -> JobInput {
        let text = try args.string("manifest"), path = try args.string("path"), name = try args.string("name")
        if let name, !Self.isJobName(name) {
            throw args.bad("name", "a job name: letters, digits, '-', '_' or '.', not starting with '.', at most 100 characters")
        }
        switch (text, path) {
        case (nil, nil): throw ToolFailure("mcp.bad_argument", "\(args.tool): give `manifest` (the manifest's text) or `path` (a manifest or job folder on this machine)")
        case (.some, .some): throw ToolFailure("mcp.bad_argument", "\(args.tool): give `manifest` or `path`, not both")
        case (nil, .some(let p)):
            let full = (p as NSString).standardizingPath
            var isDir: ObjCBool = false
            guard full.hasPrefix("/") else { throw args.bad("path", "an absolute path (the server's working folder is not the client's)") }
            guard FileManager.default.fileExists(atPath: full, isDirectory: &isDir) else {
                throw ToolFailure("mcp.no_such_file", "\(full): no such file or folder", field: "path")
            }
            let entry = (full as NSString).lastPathComponent
            if !isDir.boolValue && !InboxRules.isManifestName(entry) {
                throw ToolFailure("mcp.bad_argument", "\(entry): a manifest is named NAME.yaml, .yml, .json, .txt or .md (not hidden, not .tmp/.part)", field: "path")
            }
            let own = isDir.boolValue ? entry : (entry as NSString).deletingPathExtension
            return JobInput(path: full, displayName: entry, checkPath: full, name: name ?? own, isFolder: isDir.boolValue)
        case (.some(let manifest), nil):
            let format = (try args.string("format") ?? "yaml").lowercased()
            guard formats.contains(format) else { throw args.bad("format", "one of \(formats.joined(separator: ", "))") }
            let jobName = name ?? "mcp-" + Self.stamp()
            let scratch = NSTemporaryDirectory() + "prostudio-mcp-" + UUID().uuidString
            let folder = scratch + "/" + jobName
            let file = jobName + "." + format
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                try Data(manifest.utf8).write(to: URL(fileURLWithPath: folder + "/" + file))
                for (relative, source) in try args.map("assets").sorted(by: { $0.key < $1.key }) {
                    try Self.place(asset: source, at: relative, in: folder)
                }
            } catch {
                try? FileManager.default.removeItem(atPath: scratch)
                if let failure = error as? ToolFailure { throw failure }
                throw ToolFailure("mcp.io", "cannot lay out the job in \(scratch): \(error.localizedDescription)")
            }
            return JobInput(path: folder, displayName: file, checkPath: folder + "/" + file, name: jobName, isFolder: true, scratch: scratch)
        }
    }

    /// Copies one asset into the job folder at the manifest's relative path (never outside the folder).
    static func place(asset source: String, at relative: String, in folder: String) throws {
        let parts = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !parts.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." }) else {
            throw ToolFailure("mcp.bad_argument", "assets: \(relative): expected a path relative to the manifest, inside its folder", field: "assets")
        }
        let full = (source as NSString).standardizingPath
        var isDir: ObjCBool = false
        guard full.hasPrefix("/"), FileManager.default.fileExists(atPath: full, isDirectory: &isDir), !isDir.boolValue else {
            throw ToolFailure("mcp.no_such_file", "assets.\(relative): \(source) is not a file on this machine (an absolute path is expected)", field: "assets.\(relative)")
        }
        let target = folder + "/" + relative
        try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: full, toPath: target)
    }

    /// Removes the folder a job given as text was laid out in (the daemon has its own copy by then).
    func discard() { if let scratch { try? FileManager.default.removeItem(atPath: scratch) } }

    static func isJobName(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 100 && !s.hasPrefix(".") && !InboxRules.isIgnored(s)
            && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    static func stamp() -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd-HHmmss-SSS"
        return f.string(from: Date())
    }
}
