import Foundation

/// The repository this test build came from (found from this file's own path), for the scripts tests run.
public enum Repo {
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    public static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
    /// Debian's interpreter, the one with `python3-torch`: the first `python3` on PATH may be another.
    public static let python = "/usr/bin/python3"
}

/// A fresh folder per test, removed when the last reference goes.
public final class TempDir: Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(_ prefix: String = "prostudio-test") {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: url) }

    /// Writes `text` to `name` (folders in the name are made) and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String {
        let path = url.appendingPathComponent(name).path
        try! FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
