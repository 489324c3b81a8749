import Daemon
import Foundation
import Testing
import TestSupport

/// `device:` in the config, its way to the worker, and `doctor` on the model runtime.
@Suite struct DeviceConfigTests {
    func scratch(_ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "prostudio-device-\(getpid())-\(name)"
        try? FileManager.default.removeItem(atPath: dir)
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test func deviceSectionParsesAndIsChecked() throws {
        let path = try scratch("config") + "/prostudio.yaml"
        try "device: {index: 1, memory_limit_gb: 7.5}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DaemonConfig.load(path: path).device == DeviceSettings(index: 1, memoryLimitBytes: Int64(7.5 * Double(1 << 30))))
        try "device: {memory_limit_gb: 10}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DaemonConfig.load(path: path).device == DeviceSettings(index: nil, memoryLimitBytes: 10 << 30))
        try "log_level: info\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DaemonConfig.load(path: path).device == nil)
        for (text, field) in [("device: {memory_limit_gb: 0}\n", "device.memory_limit_gb"), ("device: {index: -1}\n", "device.index")] {
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let error = #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
            #expect(error?.description.contains(field) == true && error?.description.contains(path) == true, "\(String(describing: error))")
        }
        // The shipped example names a device.
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("systemd/prostudio.yaml").path
        #expect(try DaemonConfig.load(path: example).device == DeviceSettings(index: 0, memoryLimitBytes: nil))
    }

    @Test func theWorkerSpecCarriesTheDevice() throws {
        let spec = WorkerSpec(jobID: "j", name: "n", manifestPath: "/m", displayName: nil, outbox: "/o", cache: "/c", models: nil,
                              config: nil, memoryLimitBytes: nil, cacheMaxBytes: 1, logLevel: "notice",
                              device: DeviceSettings(index: 2, memoryLimitBytes: 8 << 30))
        let json = try JSONEncoder().encode(spec)
        #expect(String(decoding: json, as: UTF8.self).contains("\"memory_limit_bytes\":\(8 << 30)"))
        #expect(try JSONDecoder().decode(WorkerSpec.self, from: json) == spec)
        // A spec without the key (an older supervisor) still decodes.
        var object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        object.removeValue(forKey: "device")
        let old = try JSONDecoder().decode(WorkerSpec.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.device == nil)
    }

    /// Runs `prostudio doctor` from `binary` over fresh folders; (exit status, output).
    func doctor(_ binary: String, in root: String) async throws -> (Int32, String) {
        try await offPool { try doctorBlocking(binary, in: root) }
    }

    func doctorBlocking(_ binary: String, in root: String) throws -> (Int32, String) {
        for sub in ["inbox", "outbox", "state"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["doctor", "--inbox", root + "/inbox", "--outbox", root + "/outbox", "--state", root + "/state"]
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "PROSTUDIO_TORCH_LIB")
        p.environment = env
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    @Test func doctorFailsWithoutTheModelRuntimeAndSaysHowToBuildIt() async throws {
        let root = try scratch("doctor")
        // The same binary in a release folder of another scratch path, with no libProStudioTorch.so beside it.
        let folder = root + "/.build-elsewhere/x86_64-unknown-linux-gnu/release"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let lonely = folder + "/prostudio"
        if link(prostudioBinary, lonely) != 0 { try FileManager.default.copyItem(atPath: prostudioBinary, toPath: lonely) }
        let (status, output) = try await doctor(lonely, in: root)
        #expect(status == 1, "\(output)")
        #expect(output.contains("FAIL  model runtime: the libtorch runtime libProStudioTorch.so is not beside this executable"), "\(output)")
        #expect(output.contains("swift build -c release --product ProStudioTorch --scratch-path \(root)/.build-elsewhere"), "\(output)")

        // Beside the library (the test build's own folder) the runtime opens and says what it is.
        let (_, good) = try await doctor(prostudioBinary, in: root)
        #expect(!good.contains("FAIL  model runtime") && good.contains("model runtime: libtorch "), "\(good)")
        #expect(good.contains("CPU build") || good.contains("CUDA"), "\(good)")
        try? FileManager.default.removeItem(atPath: root)
    }
}
