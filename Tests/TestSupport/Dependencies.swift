import Foundation

/// Whether this run is CI's (`CI=true`, as `.ci/run` sets it): there a missing test dependency fails, never skips.
public enum CI {
    public static let isOn = ProcessInfo.processInfo.environment["CI"] == "true"
}

/// Why a test dependency (a model pack, a tool) is not there.
public struct Unavailable: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Something tests need that is made or found once per test process (a model pack, an interpreter). Outside CI,
/// when it is missing, the tests that need it are skipped (`.enabled(if: dep.enabled, ...)`, which the test run
/// lists) and the reason is said once on stderr. Under CI=true they run, and `get()` fails them with the reason.
/// Hold one in a `static let`: it is then made lazily, exactly once, thread-safely.
public struct TestDependency<Value: Sendable>: Sendable {
    public let name: String
    public let made: Result<Value, Unavailable>

    public init(_ name: String, make: () throws -> Value) {
        self.name = name
        made = Result { try make() }.mapError { ($0 as? Unavailable) ?? Unavailable(String(describing: $0)) }
        if case .failure(let e) = made, !CI.isOn {
            FileHandle.standardError.write(Data("skipping the tests that need \(name): \(e.reason)\n".utf8))
        }
    }

    /// Run the tests that need it: it is there, or this is CI (where its absence must fail them).
    public var enabled: Bool { CI.isOn || isPresent }
    public var isPresent: Bool { if case .success = made { true } else { false } }

    /// The value, or the reason it is missing (thrown: the test fails with it).
    public func get() throws -> Value {
        do { return try made.get() } catch { throw Unavailable("\(name) is missing: \(error.reason)") }
    }
}

/// The folder the model packs for tests live in, kept between runs: $PROSTUDIO_TEST_MODELS, else TMPDIR's
/// prostudio-test-models (made if missing).
public func testModelsFolder(suffix: String = "") -> URL {
    let base = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_MODELS"].map { URL(fileURLWithPath: $0) }
        ?? FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-test-models")
    let dir = URL(fileURLWithPath: base.path + suffix)
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Runs a tool to its end from the repository root, stdout and stderr together (read before waiting, so a full pipe
/// never blocks the child). Blocking: call it from `offPool` or a `static let` initialiser.
public func runTool(_ exe: String, _ args: [String], environment: [String: String]? = nil) -> (status: Int32, output: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = args
    p.currentDirectoryURL = Repo.root
    if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    do { try p.run() } catch { return (-1, "\(error)") }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Makes a pack with one of the project's scripts, as the docs say to: `bash SCRIPT ARGS`, then checks `marker` (a
/// path relative to `dir`) exists. Returns `dir`; throws the script's exit status and output's tail when it fails.
public func makePack(script: String, _ args: [String], in dir: URL, marker: String) throws(Unavailable) -> URL {
    let (status, output) = runTool("/bin/bash", [Repo.path(script)] + args)
    guard status == 0, FileManager.default.fileExists(atPath: dir.appendingPathComponent(marker).path) else {
        throw Unavailable("`\(script) \(args.joined(separator: " "))` failed (exit \(status)):\n\(output.suffix(2000))")
    }
    return dir
}
