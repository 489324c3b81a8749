import Foundation
import Testing
import TestSupport
@testable import Manifest

/// Issue 23, item 4 (manifest side): what a manifest may cost is bounded before it is parsed, and so is the error
/// it gives back.
struct ManifestBoundsTests {
    /// Bytes this thread has read through read(2) and friends (`rchar` in /proc/thread-self/io): proof that a file
    /// was, or was not, read. Per thread, so suites running beside this one do not count; the test is synchronous,
    /// so the load runs on this thread.
    static func bytesReadByThisThread() throws -> Int {
        let text = try String(contentsOfFile: "/proc/thread-self/io", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("rchar:") })
        return try #require(Int(line.dropFirst("rchar:".count).trimmingCharacters(in: .whitespaces)))
    }

    /// A 1 GB sparse `big.yaml` took the supervisor to 2.15 GB before it was refused.
    @Test func aManifestOverTheLimitIsRefusedFromItsSizeWithoutBeingRead() throws {
        let dir = TempDir()
        let path = dir.write("big.yaml", "scenes: [hi]\n")
        #expect(truncate(path, 1 << 30) == 0)
        let before = try Self.bytesReadByThisThread()
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path, displayName: "inbox/big.yaml") }
        let read = try Self.bytesReadByThisThread() - before
        #expect(read < 64 << 10, "the loader read \(read) bytes of a file it refuses by size")
        #expect(error.first.code == .tooLarge)
        #expect(error.first.code.rawValue == "manifest.too_large")
        // File, size and limit, in words.
        #expect(error.first.description.contains("inbox/big.yaml"))
        #expect(error.first.description.contains("1,073,741,824 bytes"))
        #expect(error.first.description.contains("4,194,304 bytes (4 MiB)"))
    }

    @Test func aManifestAtTheLimitIsStillRead() throws {
        let dir = TempDir()
        let body = "scenes: [hi]\n"
        let path = dir.write("edge.yaml", body + String(repeating: "#", count: ManifestLimits.fileBytes - body.utf8.count - 1) + "\n")
        #expect(try ManifestLoader.load(path: path).scenes.count == 1)
        let over = dir.write("over.yaml", body + String(repeating: "#", count: ManifestLimits.fileBytes - body.utf8.count) + "\n")
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: over) }
        #expect(error.first.code == .tooLarge)
    }

    @Test func aFIFONamedLikeAManifestIsRefusedWithoutBlocking() throws {
        let dir = TempDir()
        let path = dir.url.appendingPathComponent("pipe.yaml").path
        #expect(mkfifo(path, 0o644) == 0)
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.first.code == .unreadable && error.first.description.contains("not a regular file"))
    }

    /// A 2.5 MB JSON of 190,000 unknown keys became a 40 MB journal row and sidecar. That many is now refused before
    /// parsing (StructureBoundTests); 20,000, under that bound, still give one error each before the cap.
    @Test func unknownKeysByTheHundredThousandGiveAtMost51Errors() throws {
        let dir = TempDir()
        var text = "{\"scenes\": [\"hi\"]"
        for i in 0..<20_000 { text += ", \"k\(i)\": 1" }
        text += "}"
        #expect(text.utf8.count > 200_000 && text.utf8.count < ManifestLimits.fileBytes)
        let path = dir.write("keys.json", text)
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.errors.count == 51)
        #expect(error.errors.prefix(50).allSatisfy { $0.code == .unknownField })
        #expect(error.first.field == "k0")
        let summary = try #require(error.errors.last)
        #expect(summary.code == .moreProblems)
        #expect(summary.description.contains("19,950 more problems"))
        #expect(error.omitted == 19_950)
        #expect(error.description.utf8.count < 64 << 10, "\(error.description.utf8.count) bytes of error text")
    }

    /// Whoever builds a list (the supervisor's asset checks, the worker's plan) gets the same cap.
    @Test func anyListIsCappedWhereItBecomesManifestErrors() {
        let many = (0..<1000).map { ManifestError(.missingAsset, file: "j.yaml", field: "scenes[\($0)].image", found: nil, expected: "a file") }
        let errors = ManifestErrors(errors: many)
        #expect(errors.errors.count == 51)
        #expect(errors.errors.last?.found == "950 more problems (only the first 50 are listed)")
        #expect(ManifestErrors(errors: Array(many.prefix(50))).errors.count == 50)
        #expect(ManifestErrors(errors: Array(many.prefix(51))).errors.last?.found == "1 more problem (only the first 50 are listed)")
        // Re-capping an already capped list keeps one summary.
        let again = ManifestErrors(errors: errors.errors, omitted: errors.omitted)
        #expect(again.errors.count == 51 && again.omitted == 950)
    }

    /// A long unknown key or a megabyte of bad value must not make a megabyte of message.
    @Test func oneHugeKeyOrValueIsClippedInItsError() throws {
        let dir = TempDir()
        // A key just under libyaml's own limit on keys (1,024 characters; past it, one syntax error), a value of 1 MB.
        let key = String(repeating: "k", count: 1000)
        let path = dir.write("k.json", "{\"\(key)\": 1, \"scenes\": [\"hi\"], \"output\": {\"quality\": \"\(String(repeating: "q", count: 1 << 20))\"}}")
        let error = try #require(throws: ManifestErrors.self) { try ManifestLoader.load(path: path) }
        #expect(error.errors.count == 2)
        #expect(error.description.utf8.count < 8 << 10)
    }
}
