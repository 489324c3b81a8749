import Foundation
import Testing
@testable import TorchRuntime

/// Tiny packs written once per test run by Tools/export/make-test-packs (Debian's python3-torch).
enum Fixtures {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let python = "/usr/bin/python3"

    /// Lazily made, once (a static let initialises exactly once, thread-safely).
    static let packs: Result<URL, FixtureError> = {
        removeStaleFolders()
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("prostudio-torch-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        do throws(FixtureError) {
            _ = try run([python, repoRoot.appendingPathComponent("Tools/export/make-test-packs").path, dir.path])
            return .success(dir)
        } catch {
            return .failure(error)
        }
    }()

    /// Folders left by earlier runs (their process is gone): the packs are regenerated per run.
    static func removeStaleFolders() {
        let tmp = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        for name in names where name.hasPrefix("prostudio-torch-tests-") {
            let pidText = name.dropFirst("prostudio-torch-tests-".count).prefix(while: \.isNumber)
            guard let pid = Int32(pidText), pid != ProcessInfo.processInfo.processIdentifier, kill(pid, 0) != 0 else { continue }
            try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name))
        }
    }

    static func packsDir() throws -> URL { try packs.get() }

    static func store() throws -> ModelStore { ModelStore(root: try packsDir()) }

    static func componentPath(_ pack: String, _ component: String) throws -> String {
        try packsDir().appendingPathComponent(pack).appendingPathComponent("\(component).pt").path
    }

    /// A scratch folder of its own for tests that break packs.
    static func scratch(_ name: String) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("prostudio-torch-tests-\(ProcessInfo.processInfo.processIdentifier)-\(name)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Copies a good pack into `dir` so a test can damage the copy.
    static func copyPack(_ name: String, into dir: URL) throws -> URL {
        let dst = dir.appendingPathComponent(name)
        try FileManager.default.copyItem(at: try packsDir().appendingPathComponent(name), to: dst)
        return dst
    }

    @discardableResult
    static func run(_ argv: [String], stdin: Data? = nil) throws(FixtureError) -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe(), err = Pipe(), inp = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = inp
        do { try p.run() } catch { throw FixtureError("cannot run \(argv[0]): \(error)") }
        // Write stdin and read stdout concurrently, or a large reply fills the pipe and both sides wait.
        let writer = Thread {
            if let stdin { inp.fileHandleForWriting.write(stdin) }
            try? inp.fileHandleForWriting.close()
        }
        writer.start()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw FixtureError("\(argv.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return data
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A call for Tools/export/reference-outputs, and the Swift side of the same call.
struct ReferenceCase {
    enum Arg {
        case floats([Float], [Int])
        case longs([Int64], [Int])
        case int(Int)
        case double(Double)
        case bool(Bool)
    }

    var file: String
    var method: String
    var args: [Arg]

    var json: [String: Any] {
        ["file": file, "method": method, "args": args.map { arg -> [String: Any] in
            switch arg {
            case .floats(let v, let s): ["tensor": ["dtype": "float32", "shape": s, "data": v.map(Double.init)]]
            case .longs(let v, let s): ["tensor": ["dtype": "int64", "shape": s, "data": v]]
            case .int(let v): ["int": v]
            case .double(let v): ["float": v]
            case .bool(let v): ["bool": v]
            }
        }]
    }

    func torchArgs() throws -> [TorchValue] {
        try args.map { arg in
            switch arg {
            case .floats(let v, let s): .tensor(try Tensor(v, shape: s))
            case .longs(let v, let s): .tensor(try Tensor(v, shape: s))
            case .int(let v): .int(v)
            case .double(let v): .double(v)
            case .bool(let v): .bool(v)
            }
        }
    }
}

struct ReferenceTensor {
    var dtype: String
    var shape: [Int]
    var data: [Double]
}

/// Outputs python3-torch computes for the same files and inputs (one process for all cases).
func pythonReference(_ cases: [ReferenceCase]) throws -> [[ReferenceTensor]] {
    let request = try JSONSerialization.data(withJSONObject: ["threads": 1, "cases": cases.map(\.json)])
    let script = Fixtures.repoRoot.appendingPathComponent("Tools/export/reference-outputs").path
    let reply = try Fixtures.run([Fixtures.python, script], stdin: request)
    guard let lists = try JSONSerialization.jsonObject(with: reply) as? [[[String: Any]]] else {
        throw FixtureError("unexpected reference output")
    }
    return lists.map { list in
        list.map { t in
            ReferenceTensor(dtype: t["dtype"] as? String ?? "", shape: t["shape"] as? [Int] ?? [],
                            data: (t["data"] as? [Any] ?? []).map { ($0 as? NSNumber)?.doubleValue ?? .nan })
        }
    }
}

/// Deterministic inputs: the same numbers on both sides without a shared RNG.
func wave(_ n: Int, scale: Float = 1, phase: Float = 0) -> [Float] {
    (0..<n).map { i in scale * sin(Float(i) * 0.731 + phase) }
}

func ids(_ n: Int, modulo: Int64) -> [Int64] {
    (0..<n).map { Int64(($0 * 37 + 11) % Int(modulo)) }
}
