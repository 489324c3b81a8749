import Foundation
import Testing
@testable import Intake

/// Issue 23: a 1 GB sparse `big.yaml` in the inbox took the supervisor to 2.15 GB. Its dedup key read it whole to hash
/// it; past `DedupKey.hashedBytes` the size stands for the content, unread (the manifest loader refuses it by size).
struct BigEntryTests {
    /// Bytes this thread has read (`rchar` in /proc/thread-self/io); the test is synchronous, so the key is made here.
    static func bytesRead() throws -> Int {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces)))
    }

    @Test func aHugeFileIsKeyedWithoutBeingRead() throws {
        let box = Sandbox()
        box.drop("big.yaml", "scenes: [hi]\n")
        let path = box.inbox + "/big.yaml"
        #expect(truncate(path, 1 << 30) == 0)
        let before = try Self.bytesRead()
        let key = try #require(try DedupKey.make(path: path, name: "big.yaml"))
        let read = try Self.bytesRead() - before
        #expect(read < 64 << 10, "\(read) bytes read to key a file refused by size")
        #expect(key.key.hasPrefix("size:1073741824/big.yaml/"))
        // The same file keeps its key (a re-report finds the same job).
        #expect(try DedupKey.make(path: path, name: "big.yaml")?.key == key.key)
    }

    @Test func aFolderWithAHugeManifestIsKeyedWithoutReadingIt() throws {
        let box = Sandbox()
        box.mkdir(box.inbox + "/job")
        box.write(box.inbox + "/job/manifest.yaml", "scenes: [hi]\n")
        #expect(truncate(box.inbox + "/job/manifest.yaml", 1 << 30) == 0)
        let before = try Self.bytesRead()
        _ = try #require(try DedupKey.make(path: box.inbox + "/job", name: "job"))
        #expect(try Self.bytesRead() - before < 64 << 10)
    }
}
