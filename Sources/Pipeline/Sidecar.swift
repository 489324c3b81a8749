import Engines
import Foundation

/// The status file beside each output (`NAME.json`): what a person or a script reads to learn how a
/// job went. Field names are part of the contract in DESIGN.md.
public struct Sidecar: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case queued, running, done, failed, rejected, cancelled }

    public struct Outputs: Codable, Sendable, Equatable {
        public var video: String?
        public var captions: String?
        public var poster: String?
        /// The same cues as WebVTT, for web players.
        public var webvtt: String?
    }

    /// How the captions came out: cue count, the layout limits they were set to, and how many cues ask for
    /// more than 20 characters a second of reading.
    public struct CaptionStats: Codable, Sendable, Equatable {
        public var cues: Int
        public var max_characters_per_line: Int
        public var max_lines: Int
        public var fast_cues: Int
    }

    public struct StageRecord: Codable, Sendable, Equatable {
        public var engine: String
        public var seconds: Double
        /// CPU time of all the process's threads during the stage (user + system).
        public var cpu_seconds: Double?
        public var peak_memory_bytes: Int64
        public var cached: Bool
        /// Model components this stage used (load time, peak memory), when it ran a model engine.
        public var models: [ModelUse]?
    }

    /// Where each scene sits in the video, in seconds.
    public struct SceneTiming: Codable, Sendable, Equatable {
        public var start_s: Double
        public var duration_s: Double
        public var narration_start_s: Double
        public var narration_end_s: Double
        /// The picture or clip the `library` engine chose (or why it fell back).
        public var media: SceneMedia? = nil
    }

    public struct ErrorInfo: Codable, Sendable, Equatable {
        public var code: String
        public var message: String
        public var field: String?
        /// The stage that failed, when one did.
        public var stage: String?
        /// `JobFailure.Disposition`: `invalid_input` (rejected), `retryable`, `permanent` or `cancelled`; absent in
        /// sidecars written before it existed.
        public var disposition: String?
        public init(code: String, message: String, field: String?, stage: String? = nil, disposition: String? = nil) {
            self.code = code; self.message = message; self.field = field; self.stage = stage; self.disposition = disposition
        }
    }

    public var name: String
    public var job_id: String
    public var state: State
    public var stage: String?
    public var progress: Double
    public var title: String?
    public var duration_s: Double?
    public var seed: UInt64?
    public var width: Int?
    public var height: Int?
    public var fps: Int?
    public var outputs: Outputs
    public var scenes: [SceneTiming]?
    public var stages: [String: StageRecord]
    /// Engine name -> identity (version, pack hash) for every engine the job used.
    public var engines: [String: String]
    public var captions: CaptionStats?
    /// Problems that did not stop the job but will show (a voice that cannot read a scene's script).
    public var warnings: [String]?
    public var error: ErrorInfo?
    public var created_at: String
    public var updated_at: String

    public init(name: String, jobID: String, state: State) {
        self.name = name
        self.job_id = jobID
        self.state = state
        self.progress = 0
        self.outputs = Outputs()
        self.stages = [:]
        self.engines = [:]
        let now = Sidecar.timestamp()
        created_at = now
        updated_at = now
    }

    public static func timestamp(_ date: Date = Date()) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f.string(from: date)
    }

    /// Replaces `DIR/NAME.json` atomically: readers see the old file or the new one, never half of one.
    public func write(to directory: URL) throws {
        var copy = self
        copy.updated_at = Sidecar.timestamp()
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(copy), to: directory.appendingPathComponent(name + ".json"))
    }

    public static func read(_ url: URL) throws -> Sidecar {
        try JSONDecoder().decode(Sidecar.self, from: Data(contentsOf: url))
    }
}

/// Temp file + fsync + rename in the same folder.
public enum AtomicFile {
    public static func write(_ data: Data, to url: URL) throws {
        let temp = temporaryURL(for: url)
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.deletingLastPathComponent().path])
        }
        let handle = try FileHandle(forWritingTo: temp)
        do {
            try handle.write(contentsOf: data)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temp)
            throw error
        }
        try publish(temp, as: url)
    }

    /// `.NAME.EXT.tmp`: hidden and `.tmp`, so inbox watchers and directory listers skip it.
    public static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
    }

    /// Renames a finished temp file over `url`, then syncs the folder so the rename survives a crash. From another
    /// filesystem (the daemon's work folder is in its state folder) the file is first copied, synced, beside `url`.
    public static func publish(_ temp: URL, as url: URL) throws {
        if rename(temp.path, url.path) != 0 {
            let err = errno
            if err == EXDEV {
                let beside = temporaryURL(for: url)
                do { try copySynced(temp, to: beside) } catch {
                    try? FileManager.default.removeItem(at: beside)
                    throw error
                }
                try? FileManager.default.removeItem(at: temp)
                return try publish(beside, as: url)
            }
            try? FileManager.default.removeItem(at: temp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path, NSLocalizedDescriptionKey: "rename failed: \(String(cString: strerror(err)))"])
        }
        let dir = open(url.deletingLastPathComponent().path, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
    }

    /// Copies `from` to a new file `to` and syncs it. The error names the file and the cause (ENOSPC: a full disk).
    static func copySynced(_ from: URL, to: URL) throws {
        func failure(_ path: String, _ e: Int32) -> CocoaError {
            CocoaError(e == ENOSPC || e == EDQUOT ? .fileWriteOutOfSpace : .fileWriteUnknown,
                       userInfo: [NSFilePathErrorKey: path, NSLocalizedDescriptionKey: "cannot write \(path): \(String(cString: strerror(e)))"])
        }
        let src = open(from.path, O_RDONLY | O_CLOEXEC)
        guard src >= 0 else { throw failure(from.path, errno) }
        defer { close(src) }
        let dst = open(to.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard dst >= 0 else { throw failure(to.path, errno) }
        defer { close(dst) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(src, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw failure(from.path, errno) }
            if n == 0 { break }
            var offset = 0
            while offset < n {
                let w = buffer.withUnsafeBytes { Glibc.write(dst, $0.baseAddress! + offset, n - offset) }
                if w < 0 && errno == EINTR { continue }
                if w < 0 { throw failure(to.path, errno) }
                offset += w
            }
        }
        if fsync(dst) != 0 { throw failure(to.path, errno) }
    }
}
