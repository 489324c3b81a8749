import Foundation
import Journal
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
    /// path). Nil fails every job with `worker.none`: the supervisor never runs the pipeline itself.
    public var worker: String?
    /// RLIMIT_AS of each worker (`limits.worker_memory_mb`); nil for none.
    public var workerMemoryLimitBytes: Int64?
    /// How long a worker asked to stop (cancel, timeout, shutdown) gets before SIGKILL (`limits.worker_grace_s`).
    public var workerGrace: Duration = .seconds(10)
    /// How much nicer than the supervisor workers run (`limits.worker_nice`, 0...19): beside a render the supervisor
    /// (pick-up, the journal, the HTTP API) answers at once; alone on the machine a worker still gets every core.
    public var workerNice: Int32 = 5
    /// The config file these settings came from (workers read its `defaults:`).
    public var configFile: String?
    /// Footage libraries whose index the daemon keeps up to date between jobs (`library.folders`, plus the folder
    /// of a `library` visuals default), so a job's scenes are matched without embedding the folder first.
    public var libraryFolders: [String] = []
    /// Inbox manifests may name any folder the service can read as a library (`library.inbox_any_folder`); by
    /// default they are held to their own job folder and `libraryFolders`, as API manifests always are.
    public var libraryInboxAnyFolder = false
    /// A library is re-indexed once it has been quiet this long after a change (`library.settle_s`).
    public var librarySettle: Duration = .seconds(2)
    /// `device: {index, memory_limit_gb}`: the CUDA device the workers' models use and the most of its memory
    /// they may take (a pack estimated above it is refused before loading). nil: cuda:0 when present, no limit.
    public var device: DeviceSettings?
    /// The site's webhook (`notify:`), for jobs whose manifest names none.
    public var notify: NotifySettings?
    /// Attempts per webhook message and the first retry's delay (doubling, at most 10 minutes).
    public var notifyMaxAttempts = 8
    public var notifyBackoff: Duration = .seconds(5)
    /// One webhook attempt, all of it: connect, send, the answer (`notify.timeout_s`).
    public var notifyTimeout: Duration = .seconds(10)
    /// May a URL a job brings (its manifest's `notify:`) reach loopback, link-local and private addresses
    /// (`notify.allow_private`)? The config's own `notify.url` always may.
    public var notifyAllowPrivate = false
    /// The HTTP API (`api:`); off unless `api.listen` or `--api` is given.
    public var api = APISettings()
    /// `journal: {url: postgres://..., pool: N}`: the journal on PostgreSQL (Docs/scale-out.md); nil, the default, is
    /// the SQLite file in the state folder.
    public var journal: PostgresLocation?
    /// `queue: {max_passes: N, max_delay: "10m"}`: the fairness bound of the queue's order (Docs/queue.md).
    public var queue = QueuePolicy.default
    /// `workers: {warm, idle_timeout_s, max_host_mb, max_gpu_mb}`: warm workers (Docs/warm-workers.md).
    public var workers = WorkerSettings()

    public init() {}

    public struct Failure: Error, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "config \(path): \(message)" }
    }

    private struct File: Decodable {
        struct Folders: Decodable { var inbox, outbox, state, models: String? }
        struct Pickup: Decodable { var settle_ms: Int? }
        struct Limits: Decodable { var stage_timeout_s: Double?; var max_attempts: Int?; var worker_memory_mb: Int?; var worker_grace_s: Double?; var worker_nice: Int? }
        struct Cache: Decodable { var max_gb: Double? }
        struct Library: Decodable { var folders: [String]?; var settle_s: Double?; var inbox_any_folder: Bool? }
        struct Device: Decodable { var index: Int?; var memory_limit_gb: Double? }
        var device: Device?
        var folders: Folders?
        var pickup: Pickup?
        var limits: Limits?
        var cache: Cache?
        var library: Library?
        var log_level: String?
        struct Notify: Decodable { var url: String?; var secret: String?; var secret_file: String?; var max_attempts: Int?; var backoff_s: Double?
                           var timeout_s: Double?; var allow_private: Bool? }
        var notify: Notify?
        var api: APISettings.File?
        struct Journal: Decodable { var url: String?; var pool: Int? }
        var journal: Journal?
        struct Queue: Decodable { var max_passes: Int?; var max_delay: String? }
        var queue: Queue?
        struct Workers: Decodable { var warm: Bool?; var idle_timeout_s: Double?; var max_host_mb: Int?; var max_gpu_mb: Int? }
        var workers: Workers?
    }

    /// Every key the config may hold, for the unknown-key check: keep in step with `File` (a key missing here is
    /// refused at start, which the shipped example's test notices).
    static let sections: [KeyCheck.Section] = [
        ("folders", ["inbox", "outbox", "state", "models"]),
        ("pickup", ["settle_ms"]),
        ("defaults", nil),  // checked field by field as a manifest by ManifestDefaults
        ("limits", ["stage_timeout_s", "max_attempts", "worker_memory_mb", "worker_grace_s", "worker_nice"]),
        ("cache", ["max_gb"]),
        ("library", ["folders", "settle_s", "inbox_any_folder"]),
        ("device", ["index", "memory_limit_gb"]),
        ("notify", ["url", "secret", "secret_file", "max_attempts", "backoff_s", "allow_private", "timeout_s"]),
        ("api", APISettings.File.keys),
        ("journal", ["url", "pool"]),
        ("queue", ["max_passes", "max_delay"]),
        ("workers", ["warm", "idle_timeout_s", "max_host_mb", "max_gpu_mb"]),
        ("log_level", nil),
    ]

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

    /// `90s`, `10m`, `1h`, or a bare number of seconds; at most a week.
    static func seconds(_ text: String) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        let (number, scale) = units.first { t.hasSuffix($0.0) }.map { (String(t.dropLast($0.0.count)), $0.1) } ?? (t, 1)
        guard let v = Double(number), v.isFinite, v >= 0, v * scale <= 7 * 86_400 else { return nil }
        return v * scale
    }

    /// Reads a config file over the defaults.
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw Failure(path: path, message: "cannot read: \(error.localizedDescription)")
        }
        do { try KeyCheck.check(yaml: text, file: path, sections: sections) } catch {
            throw Failure(path: path, message: error.errors.map { e in
                "line \(e.line.map(String.init) ?? "?"): \(e.field ?? "(top level)"): found \(e.found ?? "a bad value"); expected \(e.expected)"
            }.joined(separator: "\n  "))
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
        if let v = file.queue?.max_passes {
            guard (0...10_000).contains(v) else { throw Failure(path: path, message: "queue.max_passes must be 0...10000, got \(v)") }
            c.queue.maxPasses = v
        }
        if let v = file.queue?.max_delay {
            guard let seconds = Self.seconds(v) else {
                throw Failure(path: path, message: "queue.max_delay must be a duration such as \"10m\", \"90s\", \"1h\" or seconds as a number, got \(v)")
            }
            c.queue.maxDelay = seconds
        }
        if let v = file.limits?.worker_memory_mb {
            guard v >= 64 else { throw Failure(path: path, message: "limits.worker_memory_mb must be >= 64") }
            c.workerMemoryLimitBytes = Int64(v) << 20
        }
        if let v = file.limits?.worker_grace_s {
            guard v >= 0 else { throw Failure(path: path, message: "limits.worker_grace_s must be >= 0") }
            c.workerGrace = .milliseconds(Int64(v * 1000))
        }
        if let v = file.limits?.worker_nice {
            // Below 0 would need CAP_SYS_NICE, which the service does not have.
            guard (0...19).contains(v) else { throw Failure(path: path, message: "limits.worker_nice must be 0...19, got \(v)") }
            c.workerNice = Int32(v)
        }
        if let v = file.cache?.max_gb {
            guard v > 0 else { throw Failure(path: path, message: "cache.max_gb must be > 0") }
            c.cacheMaxBytes = Int64(v * Double(1 << 30))
        }
        let base = (path as NSString).deletingLastPathComponent
        for folder in file.library?.folders ?? [] {
            let full = folder.hasPrefix("/") ? folder : (base as NSString).appendingPathComponent(folder)
            c.libraryFolders.append(URL(fileURLWithPath: full).standardizedFileURL.path)
        }
        if let v = c.defaults?.libraryFolder, !c.libraryFolders.contains(v) { c.libraryFolders.append(v) }
        if let v = file.library?.inbox_any_folder { c.libraryInboxAnyFolder = v }
        if let v = file.library?.settle_s {
            guard v >= 0 else { throw Failure(path: path, message: "library.settle_s must be >= 0") }
            c.librarySettle = .milliseconds(Int64(v * 1000))
        }
        if let d = file.device {
            if let i = d.index, i < 0 { throw Failure(path: path, message: "device.index must be >= 0 (a CUDA device number), got \(i)") }
            if let gb = d.memory_limit_gb, !(gb > 0) {
                throw Failure(path: path, message: "device.memory_limit_gb must be > 0 (GiB of GPU memory), got \(gb)")
            }
            c.device = DeviceSettings(index: d.index, memoryLimitBytes: d.memory_limit_gb.map { Int64($0 * Double(1 << 30)) })
        }
        if let n = file.notify {
            if let v = n.max_attempts {
                guard v >= 1 else { throw Failure(path: path, message: "notify.max_attempts must be >= 1") }
                c.notifyMaxAttempts = v
            }
            if let v = n.backoff_s {
                guard v > 0 else { throw Failure(path: path, message: "notify.backoff_s must be > 0") }
                c.notifyBackoff = .milliseconds(Int64(v * 1000))
            }
            if let v = n.timeout_s {
                guard v > 0 && v <= 600 else { throw Failure(path: path, message: "notify.timeout_s must be > 0 and <= 600, got \(v)") }
                c.notifyTimeout = .milliseconds(Int64(v * 1000))
            }
            if let v = n.allow_private { c.notifyAllowPrivate = v }
            if let url = n.url {
                var secret = n.secret
                if let file = n.secret_file {
                    do { secret = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) } catch {
                        throw Failure(path: path, message: "notify.secret_file \(file): cannot read: \(error.localizedDescription)")
                    }
                }
                guard let secret, !secret.isEmpty else {
                    throw Failure(path: path, message: "notify.url needs notify.secret or notify.secret_file (the key that signs each POST)")
                }
                if let problem = NotifySettings.problem(url: url) { throw Failure(path: path, message: "notify.url \"\(url)\": \(problem)") }
                c.notify = NotifySettings(url: url, secret: secret)
            } else if n.secret != nil || n.secret_file != nil {
                throw Failure(path: path, message: "notify: a secret without a url (add notify.url)")
            }
        }
        if let v = file.api { try c.api.apply(v, path: path) }
        if let j = file.journal {
            guard let url = j.url else { throw Failure(path: path, message: "journal: needs url (postgres://USER@HOST:PORT/DATABASE)") }
            let location = PostgresLocation(url: url, pool: j.pool ?? 4)
            if let problem = location.problem { throw Failure(path: path, message: "journal: \(problem)") }
            c.journal = location
        }
        if let w = file.workers {
            if let v = w.warm { c.workers.warm = v }
            if let v = w.idle_timeout_s {
                guard v > 0 else { throw Failure(path: path, message: "workers.idle_timeout_s must be > 0 (seconds a warm worker waits), got \(v)") }
                c.workers.idleTimeout = .milliseconds(Int64(v * 1000))
            }
            if let v = w.max_host_mb {
                guard v >= 64 else { throw Failure(path: path, message: "workers.max_host_mb must be >= 64 (MiB a warm worker may hold), got \(v)") }
                c.workers.maxHostBytes = Int64(v) << 20
            }
            if let v = w.max_gpu_mb {
                guard v >= 1 else { throw Failure(path: path, message: "workers.max_gpu_mb must be >= 1 (MiB of GPU memory a warm worker may hold), got \(v)") }
                c.workers.maxGPUBytes = Int64(v) << 20
            }
        }
        if let v = file.log_level {
            guard let level = Logger.Level(rawValue: v) else {
                throw Failure(path: path, message: "log_level \"\(v)\" is not one of trace, debug, info, notice, warning, error, critical")
            }
            c.logLevel = level
        }
        return c
    }
}

/// The `device:` section, as the daemon hands it to each worker.
public struct DeviceSettings: Codable, Sendable, Equatable {
    /// CUDA device number (`cuda:N`); nil for 0. Without a usable GPU the worker runs models on the CPU.
    public var index: Int?
    /// The most GPU memory models may take, in bytes (`memory_limit_gb`); nil: whatever is free.
    public var memoryLimitBytes: Int64?

    public init(index: Int? = nil, memoryLimitBytes: Int64? = nil) {
        self.index = index
        self.memoryLimitBytes = memoryLimitBytes
    }

    enum CodingKeys: String, CodingKey {
        case index
        case memoryLimitBytes = "memory_limit_bytes"
    }
}

/// The `workers:` section. A warm worker (`prostudio worker --serve`) runs job after job and keeps its models
/// loaded between them while it stays within these bounds; off, every job gets a fresh `prostudio worker --spec`.
public struct WorkerSettings: Sendable, Equatable {
    /// Off by default: a warm worker holds its models' memory between jobs, which a host sharing its RAM or GPU with
    /// other work may not want, and the one-job worker is the process model most of the suite is written against.
    public var warm = false
    /// A worker idle this long exits (and gives its memory back).
    public var idleTimeout: Duration = .seconds(300)
    /// A worker whose resident size after a job is above this exits instead of waiting; also the model manager's
    /// budget on the CPU (how many components it may keep loaded together).
    public var maxHostBytes: Int64 = 8 << 30
    /// The same on CUDA: the allocator's reserved bytes after a job, and the manager's budget on the GPU.
    public var maxGPUBytes: Int64 = 16 << 30

    public init(warm: Bool = false) { self.warm = warm }
}
