import Foundation

/// A test HTTP server written in Python (http.server) on a free loopback port. The script gets the port file as
/// argv[1] (then `arguments`); it writes its port there (to `FILE.tmp`, renamed: never read half written) once it
/// listens.
public final class PythonServer: Sendable {
    public let process: Process
    public let port: Int

    public init(script: String, in root: String, name: String, arguments: [String]) async throws {
        let scriptPath = root + "/\(name).py", portFile = root + "/\(name).port"
        try script.write(toFile: scriptPath, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: portFile)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        p.arguments = [scriptPath, portFile] + arguments
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = ContinuousClock.now + .seconds(20)
        while !FileManager.default.fileExists(atPath: portFile) && ContinuousClock.now < deadline && p.isRunning {
            try await Task.sleep(for: .milliseconds(20))
        }
        guard let text = try? String(contentsOfFile: portFile, encoding: .utf8), let port = Int(text) else {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            throw Unavailable("the test server \(name) (/usr/bin/python3 \(scriptPath)) did not start within 20 s")
        }
        process = p
        self.port = port
    }

    // SIGKILL: the test process may hand its children a mask that blocks SIGTERM.
    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
