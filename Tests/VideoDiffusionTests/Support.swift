import TestSupport
import Engines
import Foundation
import Manifest
import Media
import TorchRuntime
@testable import VideoDiffusion

/// Tiny packs written once per test process by Tools/export/make-test-packs (Debian's python3-torch 1.13).
enum Packs {
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let made: Result<URL, SupportError> = {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("prostudio-video-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: dir)
        do throws(SupportError) {
            try run(["/usr/bin/python3", repoRoot.appendingPathComponent("Tools/export/make-test-packs").path, dir.path])
            return .success(dir)
        } catch {
            return .failure(error)
        }
    }()

    static func dir() throws -> URL { try made.get() }
    static func store() throws -> ModelStore { ModelStore(root: try dir()) }

    /// A fresh engine on its own manager (records start empty).
    static func engine(memoryLimit: Int64? = nil, root: URL? = nil) throws -> (DiffusionVisuals, ModelManager) {
        let store = ModelStore(root: try root ?? dir())
        let manager = ModelManager(store: store, device: .cpu)
        return (DiffusionVisuals(store: store, manager: manager, device: .cpu, memoryLimitBytes: memoryLimit), manager)
    }

    @discardableResult
    static func run(_ argv: [String], environment: [String: String] = [:]) throws(SupportError) -> String {
        let p = Process()
        if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        p.executableURL = URL(fileURLWithPath: argv[0])
        p.arguments = Array(argv.dropFirst())
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        do { try p.run() } catch { throw SupportError("cannot run \(argv[0]): \(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw SupportError("\(argv.joined(separator: " ")) failed: \(String(decoding: errData, as: UTF8.self))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

struct SupportError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A scene for the tiny pack (128x80 output; the pack generates at 80x48 and the chain scales and pads it).
func canvas(frames: Int, fps: Int = 16, seed: UInt64 = 7, image: String? = nil, width: Int = 128, height: Int = 80,
            steps: Int = 3, guidance: Double = 3, pack: String? = "tiny-video", prompt: String = "a red sun over the sea",
            index: Int = 0) -> SceneCanvas {
    // Visuals has no public memberwise init: decode it as the manifest reader's Codable form.
    var json: [String: Any] = ["engine": "diffusion", "style": "soft", "steps": steps, "guidance": guidance, "seed": seed]
    if let pack { json["pack"] = pack }
    let visuals = try! JSONDecoder().decode(JobManifest.Visuals.self, from: JSONSerialization.data(withJSONObject: json))
    return SceneCanvas(index: index, width: width, height: height, fps: fps, frames: frames, prompt: prompt, image: image,
                       visuals: visuals, jobSeed: 1)
}

/// Every frame of a picture's stream, pulled as the compose graph would: on a thread of its own, as compose does.
/// Each decode waits (`runBlocking`) for the model manager, which needs a pool thread; pulled on the cooperative pool it
/// held one of CI's two pool threads for the whole pull, and unrelated suites starved (100+ s for 6 s tests).
func pullAll(_ picture: ScenePicture) async throws -> [[UInt8]] {
    guard case .frames(let stream) = picture else { throw SupportError("the picture is not computed frames") }
    return try await offPool {
        let it = try stream.makeIterator()
        var frames: [[UInt8]] = []
        while let f = try it.next() { frames.append(f) }
        return frames
    }
}

func require_<T>(_ v: T?) throws -> T {
    guard let v else { throw SupportError("unexpected nil") }
    return v
}

func meanAbs(_ a: [UInt8], _ b: [UInt8]) -> Double {
    precondition(a.count == b.count)
    var s = 0
    for i in 0..<a.count { s += abs(Int(a[i]) - Int(b[i])) }
    return Double(s) / Double(a.count)
}
