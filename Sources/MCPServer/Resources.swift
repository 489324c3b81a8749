import Foundation
import MCP
import Watcher

/// The manifest schema (schema/manifest.schema.json) and the example jobs (inbox.example/) as MCP resources, read
/// from the product's share folder: `--share DIR`, else $PROSTUDIO_SHARE, else /usr/share/prostudio, else the source
/// checkout the executable was built in (found by walking up from it), so a development build needs no install step.
struct ShareFolder: Sendable {
    let root: String?

    static func locate(_ explicit: String?, executable: String = CommandLine.arguments.first ?? "") -> ShareFolder {
        func holds(_ dir: String) -> Bool { FileManager.default.fileExists(atPath: dir + "/schema/manifest.schema.json") }
        if let explicit { return ShareFolder(root: explicit) }
        if let env = ProcessInfo.processInfo.environment["PROSTUDIO_SHARE"], !env.isEmpty { return ShareFolder(root: env) }
        if holds("/usr/share/prostudio") { return ShareFolder(root: "/usr/share/prostudio") }
        var dir = (URL(fileURLWithPath: executable).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent
        while dir.count > 1 {
            if holds(dir) { return ShareFolder(root: dir) }
            dir = (dir as NSString).deletingLastPathComponent
        }
        return ShareFolder(root: nil)
    }

    static let schemaURI = "prostudio://schema/manifest.schema.json"
    static let examplePrefix = "prostudio://examples/"

    /// Each example manifest (a lone file, or the manifest inside a job folder), relative to inbox.example/.
    func examples() -> [String] {
        guard let root else { return [] }
        let base = root + "/inbox.example"
        var found: [String] = []
        for entry in ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted() where !InboxRules.isIgnored(entry) {
            var isDir: ObjCBool = false
            _ = FileManager.default.fileExists(atPath: base + "/" + entry, isDirectory: &isDir)
            if isDir.boolValue {
                let inside = ((try? FileManager.default.contentsOfDirectory(atPath: base + "/" + entry)) ?? []).sorted()
                found += inside.filter(InboxRules.isManifestName).map { entry + "/" + $0 }
            } else if InboxRules.isManifestName(entry) {
                found.append(entry)
            }
        }
        return found
    }

    func list() -> [Resource] {
        guard let root else { return [] }
        var out = [Resource(name: "manifest.schema.json", uri: Self.schemaURI, title: "ProStudio manifest schema",
                            description: "JSON Schema of a job manifest (YAML or JSON); .txt and .md scripts are read as one scene per paragraph.",
                            mimeType: "application/schema+json")]
        for rel in examples() {
            let folder = rel.contains("/") ? " Its assets are beside it in \(root)/inbox.example/\(rel.split(separator: "/")[0])/: submit it with path set to that folder." : ""
            out.append(Resource(name: rel, uri: Self.examplePrefix + rel, title: "Example job \(rel)",
                                description: "An example manifest.\(folder)", mimeType: Self.mime(rel)))
        }
        return out
    }

    func read(_ uri: String) throws -> ReadResource.Result {
        guard let root else {
            throw MCPError.internalError("mcp.no_share: the schema and examples were not found: pass --share DIR (the folder holding schema/ and inbox.example/) or set PROSTUDIO_SHARE")
        }
        let path: String
        if uri == Self.schemaURI {
            path = root + "/schema/manifest.schema.json"
        } else if uri.hasPrefix(Self.examplePrefix), examples().contains(String(uri.dropFirst(Self.examplePrefix.count))) {
            path = root + "/inbox.example/" + uri.dropFirst(Self.examplePrefix.count)
        } else {
            throw MCPError.invalidParams("no resource \(uri): expected \(Self.schemaURI) or one of the \(Self.examplePrefix)... listed by resources/list")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw MCPError.internalError("\(path) cannot be read")
        }
        return ReadResource.Result(contents: [.text(String(decoding: data, as: UTF8.self), uri: uri, mimeType: Self.mime(path))])
    }

    static func mime(_ path: String) -> String {
        switch (path as NSString).pathExtension.lowercased() {
        case "json": path.hasSuffix("schema.json") ? "application/schema+json" : "application/json"
        case "md": "text/markdown"
        case "txt": "text/plain"
        default: "application/yaml"
        }
    }
}
