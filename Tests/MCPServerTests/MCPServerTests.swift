import Foundation
import MCP
import MCPServer
import Testing

/// The MCP server through the SDK's own client over an in-memory transport, beside daemon folders with no daemon:
/// what needs none (tools, validation, resources, refusals, placing a job in the inbox). A real daemon and the
/// reference Python client are Tests/MCP/mcp_e2e_test.py's.
struct MCPServerTests {
    final class Folders {
        let root = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("prostudio-mcp-test-\(UUID().uuidString)")
        init() { for d in ["inbox", "outbox", "state", "models"] { try? FileManager.default.createDirectory(at: root.appendingPathComponent(d), withIntermediateDirectories: true) } }
        deinit { try? FileManager.default.removeItem(at: root) }
        func path(_ p: String) -> String { root.appendingPathComponent(p).path }
    }

    /// The checkout's schema/ and inbox.example/ (this file is Tests/MCPServerTests/MCPServerTests.swift).
    static let share = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func connect(_ f: Folders) async throws -> (Client, Server) {
        let service = try MCPService(MCPConfiguration(target: .local(inbox: f.path("inbox"), state: f.path("state"), outbox: f.path("outbox")),
                                                      models: f.path("models"), share: share), version: "test")
        let (clientSide, serverSide) = await InMemoryTransport.createConnectedPair()
        let server = try await service.start(serverSide)
        let client = Client(name: "test", version: "1")
        _ = try await client.connect(transport: clientSide)
        return (client, server)
    }

    static func call(_ client: Client, _ tool: String, _ args: [String: Value]) async throws -> (json: [String: Any], isError: Bool) {
        let (content, isError) = try await client.callTool(name: tool, arguments: args)
        guard case .text(let text, _, _)? = content.first else { Issue.record("\(tool): no text content"); return ([:], true) }
        let json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
        return (json, isError ?? false)
    }

    @Test func toolsResourcesAndABadManifestsProblems() async throws {
        let f = Folders()
        let (client, server) = try await Self.connect(f)
        defer { Task { await server.stop() } }
        let names = Set(try await client.listTools().tools.map(\.name))
        #expect(names == ["validate_manifest", "submit_job", "job_status", "job_events", "list_jobs", "cancel_job", "retry_job", "job_outputs",
                          "list_voices", "list_looks", "list_presets", "list_packs"])
        let resources = try await client.listResources().resources.map(\.uri)
        #expect(resources.contains("prostudio://schema/manifest.schema.json") && resources.contains("prostudio://examples/explainer/manifest.yaml"))
        let schema = try await client.readResource(uri: "prostudio://schema/manifest.schema.json")
        #expect(schema.first?.text?.contains("\"scenes\"") == true)

        let bad = "title: Broken\noutput: {fps: 500}\ntransitions: {type: wipe-ish}\nscenes:\n  - narration: One.\n    pause: lots\n"
        let (json, isError) = try await Self.call(client, "validate_manifest", ["manifest": .string(bad), "name": .string("broken")])
        #expect(isError && json["valid"] as? Bool == false && json["file"] as? String == "broken.yaml")
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect(errors.map { "\($0["field"] ?? "-"):\($0["line"] ?? "-")" } == ["output.fps:2", "transitions.type:3", "scenes[0].pause:6"])
        #expect((json["error"] as? [String: Any])?["code"] as? String == "manifest.out_of_range")

        let (good, goodError) = try await Self.call(client, "validate_manifest", ["manifest": .string("scenes:\n  - narration: Fine.\n"), "format": .string("yaml")])
        #expect(!goodError && good["valid"] as? Bool == true && good["scenes"] as? Int == 1)
        let (presets, _) = try await Self.call(client, "list_presets", [:])
        #expect((presets["output.aspect"] as? [[String: Any]])?.contains { $0["aspect"] as? String == "9:16" && $0["width"] as? Int == 720 && $0["height"] as? Int == 1280 } == true)
    }

    @Test func refusalsAreTheProductsStructuredErrors() async throws {
        let f = Folders()
        let (client, server) = try await Self.connect(f)
        defer { Task { await server.stop() } }
        func code(_ tool: String, _ args: [String: Value]) async throws -> String? {
            let (json, isError) = try await Self.call(client, tool, args)
            #expect(isError, "\(tool) \(args): \(json)")
            return (json["error"] as? [String: Any])?["code"] as? String
        }
        #expect(try await code("job_status", ["id": .string("abc")]) == "mcp.no_journal")
        #expect(try await code("validate_manifest", [:]) == "mcp.bad_argument")
        #expect(try await code("validate_manifest", ["manifest": .string("scenes: []"), "path": .string("/x.yaml")]) == "mcp.bad_argument")
        #expect(try await code("validate_manifest", ["path": .string("relative.yaml")]) == "mcp.bad_argument")
        #expect(try await code("submit_job", ["manifest": .string("scenes:\n  - narration: A.\n    image: a.png\n"),
                                              "assets": .object(["../a.png": .string("/etc/hostname")])]) == "mcp.bad_argument")
        #expect(try await code("submit_job", ["manifest": .string("scenes:\n  - narration: A.\n"), "name": .string(".hidden")]) == "mcp.bad_argument")
        #expect(try await code("list_jobs", ["states": .array([.string("sleeping")])]) == "mcp.bad_argument")
        #expect(try await code("no_such_tool", [:]) == "mcp.unknown_tool")
        // Numbers that would trap converting to Int, or wait forever, are refused, not obeyed.
        #expect(try await code("list_jobs", ["limit": .double(1e300)]) == "mcp.bad_argument")
        #expect(try await code("job_events", ["id": .string("x"), "after": .double(-1)]) == "mcp.bad_argument")
        #expect(try await code("job_status", ["id": .string("x"), "wait_seconds": .double(1e9)]) == "mcp.bad_argument")
    }

    /// With no daemon the job is placed in the inbox (folder, manifest, the asset at the manifest's relative path) and
    /// the tool says nobody took it.
    @Test func aJobIsPlacedInTheInboxWithItsAssets() async throws {
        let f = Folders()
        let (client, server) = try await Self.connect(f)
        defer { Task { await server.stop() } }
        let picture = Self.share + "/inbox.example/storybook/stripes.png"
        let manifest = "scenes:\n  - narration: Stripes.\n    image: pics/stripes.png\n"
        let (json, isError) = try await Self.call(client, "submit_job", ["manifest": .string(manifest), "name": .string("stripes"),
                                                                         "assets": .object(["pics/stripes.png": .string(picture)]), "wait_seconds": .int(1)])
        #expect(isError && (json["error"] as? [String: Any])?["code"] as? String == "mcp.not_picked_up", "\(json)")
        let placed = f.path("inbox/stripes")
        #expect(FileManager.default.contents(atPath: placed + "/stripes.yaml") == Data(manifest.utf8))
        #expect(FileManager.default.contents(atPath: placed + "/pics/stripes.png") == FileManager.default.contents(atPath: picture))
        #expect(try FileManager.default.contentsOfDirectory(atPath: f.path("inbox")) == ["stripes"])  // no temporary left behind
        let (again, _) = try await Self.call(client, "submit_job", ["manifest": .string(manifest), "name": .string("stripes"),
                                                                    "assets": .object(["pics/stripes.png": .string(picture)])])
        #expect((again["error"] as? [String: Any])?["code"] as? String == "mcp.name_taken")

        // By path: a lone manifest naming assets goes in as a folder holding them at the same relative paths.
        let (byPath, _) = try await Self.call(client, "submit_job", ["path": .string(Self.share + "/inbox.example/storybook/manifest.yaml"),
                                                                      "name": .string("book"), "wait_seconds": .int(1)])
        #expect((byPath["error"] as? [String: Any])?["code"] as? String == "mcp.not_picked_up", "\(byPath)")
        #expect(FileManager.default.fileExists(atPath: f.path("inbox/book/book.yaml")) && FileManager.default.fileExists(atPath: f.path("inbox/book/stripes.png")))
    }
}
