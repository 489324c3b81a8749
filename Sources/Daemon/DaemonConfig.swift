import Foundation
import Logging
import Manifest
import Yams

/// The daemon's settings: defaults, then the config file (`systemd/prostudio.yaml` documents every key),
/// then command-line flags.
public struct DaemonConfig: Sendable, Equatable {
    public var inbox = "/var/lib/prostudio/inbox"
    public var outbox = "/var/lib/prostudio/outbox"
    public var state = "/var/lib/prostudio/state"
    public var models: String? = "/var/lib/prostudio/models"
    /// A file written in place is taken once unchanged this long after its last close.
    public var settle: Duration = .milliseconds(500)
    /// A stage running longer than this fails the job (`stage_timeout`).
    public var stageTimeout: Duration = .seconds(1800)
    /// The loop guard (see `SQLiteJournal.maxAttempts`).
    public var maxAttempts = 3
    public var logLevel: Logger.Level = .notice
    /// Engines and settings for manifests that do not choose (`defaults:`).
    public var defaults: ManifestDefaults?
    /// The stage cache is pruned, least recently used first, to this size after each job.
    public var cacheMaxBytes: Int64 = 50 << 30
    /// The `prostudio` executable whose `worker` command runs each job in a child process (the CLI sets its own
    /// path). Nil runs jobs in-process (tests of this module, benchmarks).
    public var worker: String?
    /// RLIMIT_AS of each worker (`limits.worker_memory_mb`); nil for none.
    public var workerMemoryLimitBytes: Int64?
    /// How long a worker asked to stop (cancel, timeout, shutdown) gets before SIGKILL (`limits.worker_grace_s`).
    public var workerGrace: Duration = .seconds(10)
    /// The config file these settings came from (workers read its `defaults:`).
    public var configFile: String?
    /// The HTTP API (`api:`); off unless `api.listen` or `--api` is given.
    public var api = APISettings()

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "config \(path): \(message)" }
    }

    private struct File: Decodable {
        struct Folders: Decodable { var inbox, outbox, state, models: String? }
        struct Pickup: Decodable { var settle_ms: Int? }
        struct Limits: Decodable { var stage_timeout_s: Double?; var max_attempts: Int?; var worker_memory_mb: Int?; var worker_grace_s: Double? }
        struct Cache: Decodable { var max_gb: Double? }
        var folders: Folders?
        var pickup: Pickup?
        var limits: Limits?
        var cache: Cache?
        var log_level: String?
        var api: APISettings.File?
    }

    /// Defaults, then the config file (`config`, else /etc/prostudio/prostudio.yaml when it exists and no folder
    /// flag is given), then the flags: the one rule for `prostudio daemon`, `prostudio-daemon` and `doctor`.
    public static func resolve(config: String?, inbox: String?, outbox: String?, state: String?, models: String?) throws -> DaemonConfig {
        var c = DaemonConfig()
        if let config {
            c = try DaemonConfig.load(path: config)
        } else if FileManager.default.fileExists(atPath: "/etc/prostudio/prostudio.yaml") && inbox == nil {
            c = try DaemonConfig.load(path: "/etc/prostudio/prostudio.yaml")
        }
        if let inbox { c.inbox = inbox }
        if let outbox { c.outbox = outbox }
        if let state { c.state = state }
        if let models { c.models = models }
        return c
    }

    /// Reads a config file over the defaults.
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        let file: File
        do { file = try YAMLDecoder().decode(File.self, from: text) } catch {
            throw Failure(path: path, message: "not a valid config: \(error)")
        }
        var c = DaemonConfig()
        c.configFile = path
        do { c.defaults = try ManifestDefaults.fromConfig(yaml: text, file: path) } catch {
            throw Failure(path: path, message: "defaults: \(error)")
        }
        if let v = file.folders?.inbox { c.inbox = v }
        if let v = file.folders?.outbox { c.outbox = v }
        if let v = file.folders?.state { c.state = v }
        if let v = file.folders?.models { c.models = v }
        if let v = file.pickup?.settle_ms {
            guard v >= 0 else { throw Failure(path: path, message: "pickup.settle_ms must be >= 0") }
            c.settle = .milliseconds(v)
        }
        if let v = file.limits?.stage_timeout_s {
            guard v > 0 else { throw Failure(path: path, message: "limits.stage_timeout_s must be > 0") }
            c.stageTimeout = .milliseconds(Int64(v * 1000))
        }
        if let v = file.limits?.max_attempts {
            guard v >= 1 else { throw Failure(path: path, message: "limits.max_attempts must be >= 1") }
            c.maxAttempts = v
        }
        if let v = file.limits?.worker_memory_mb {
            guard v >= 64 else { throw Failure(path: path, message: "limits.worker_memory_mb must be >= 64") }
            c.workerMemoryLimitBytes = Int64(v) << 20
        }
        if let v = file.limits?.worker_grace_s {
            guard v >= 0 else { throw Failure(path: path, message: "limits.worker_grace_s must be >= 0") }
            c.workerGrace = .milliseconds(Int64(v * 1000))
        }
        if let v = file.cache?.max_gb {
            guard v > 0 else { throw Failure(path: path, message: "cache.max_gb must be > 0") }
            c.cacheMaxBytes = Int64(v * Double(1 << 30))
        }
        if let v = file.api { try c.api.apply(v, path: path) }
        if let v = file.log_level {
            guard let level = Logger.Level(rawValue: v) else {
                throw Failure(path: path, message: "log_level \"\(v)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }
        return c
    }
}
