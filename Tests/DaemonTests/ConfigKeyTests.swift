import Daemon
import Foundation
import Journal
import Testing

/// Issue 28: a typo in the daemon's config stops it at start, naming the file, line and key, with a did-you-mean;
/// it used to pass silently and leave the default in force.
@Suite struct ConfigKeyTests {
    func write(_ text: String, _ name: String) throws -> String {
        let dir = NSTemporaryDirectory() + "prostudio-configkeys-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/\(name).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// One typo in each section (and at the top): (config text, the key named, the suggestion, its line).
    static let typos: [(String, String, String, Int)] = [
        ("log_level: info\nlimits: {stage_timout_s: 5}\n", "limits.stage_timout_s", "stage_timeout_s", 2),
        ("folders:\n  inbox: /tmp/i\n  outboxx: /tmp/o\n", "folders.outboxx", "outbox", 3),
        ("pickup: {setle_ms: 100}\n", "pickup.setle_ms", "settle_ms", 1),
        ("cache: {max_gib: 3}\n", "cache.max_gib", "max_gb", 1),
        ("library: {folder: [/srv]}\n", "library.folder", "folders", 1),
        ("device: {indx: 0}\n", "device.indx", "index", 1),
        ("notify: {url: \"http://127.0.0.1:9/h\", secret: s, max_attempt: 3}\n", "notify.max_attempt", "max_attempts", 1),
        ("api: {listen: \"127.0.0.1:8470\", token_flie: /etc/t}\n", "api.token_flie", "token_file", 1),
        ("loglevel: info\n", "loglevel", "log_level", 1),
        ("defaults:\n  voice: {engin: espeak}\n", "defaults.voice.engin", "engine", 2),
    ]

    @Test(arguments: typos) func aTypoIsRefusedWithItsLineAndASuggestion(text: String, key: String, suggestion: String, line: Int) throws {
        let path = try write(text, key.replacingOccurrences(of: ".", with: "-"))
        let error = #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
        let message = error?.description ?? ""
        #expect(message.contains(path), "\(message)")
        #expect(message.contains(key), "\(message)")
        #expect(message.contains("did you mean \"\(suggestion)\""), "\(message)")
        #expect(message.contains("line \(line)") || message.contains(":\(line):"), "\(message)")
    }

    @Test func aKeyThatDoesNotExistYetIsRefusedToo() throws {
        let path = try write("cluster: {nodes: 3}\n", "cluster")
        let error = #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
        #expect(error?.description.contains("unknown field \"cluster\"") == true, "\(String(describing: error))")
    }

    /// `journal:` (issue 31): a PostgreSQL URL and pool size, checked at load; without it the journal is SQLite's.
    @Test func theJournalSectionIsCheckedAtLoad() throws {
        #expect(try DaemonConfig.load(path: try write("log_level: info\n", "no-journal")).journal == nil)
        let good = try DaemonConfig.load(path: try write("journal: {url: \"postgres://ps@db.internal:5433/prostudio\", pool: 6}\n", "journal-good"))
        #expect(good.journal == PostgresLocation(url: "postgres://ps@db.internal:5433/prostudio", pool: 6))
        for (text, said) in [("journal: {url: \"postgres://x\"}\n", "names no user"), ("journal: {url: \"mysql://u@h/d\"}\n", "postgres://"),
                             ("journal: {url: \"postgres://u@h/d\", pool: 0}\n", "journal.pool"), ("journal: {pool: 2}\n", "needs url")] {
            let path = try write(text, "journal-bad")
            let error = #expect(throws: DaemonConfig.Failure.self) { try DaemonConfig.load(path: path) }
            let message = error?.description ?? ""
            #expect(message.contains(path) && message.contains("journal") && message.contains(said), "\(message)")
        }
    }

    /// Every key the daemon reads is accepted (the table of allowed keys has not drifted from what is read).
    @Test func everyKnownKeyIsAccepted() throws {
        let path = try write("""
            folders: {inbox: /tmp/a/inbox, outbox: /tmp/a/outbox, state: /tmp/a/state, models: /tmp/a/models}
            pickup: {settle_ms: 250}
            defaults: {voice: {engine: espeak}}
            limits: {stage_timeout_s: 5, max_attempts: 2, worker_memory_mb: 4096, worker_grace_s: 3, worker_nice: 4}
            cache: {max_gb: 2}
            library: {folders: [/tmp/a/footage], settle_s: 1}
            device: {index: 0, memory_limit_gb: 8}
            notify: {url: "http://127.0.0.1:9/hook", secret: s3cret, max_attempts: 4, backoff_s: 2}
            api: {listen: "127.0.0.1:8470", max_body_mb: 64, max_assets: 10, max_expanded_mb: 128, min_free_mb: 100}
            journal: {url: "postgres://prostudio@127.0.0.1:5432/prostudio", pool: 3}
            log_level: info
            """, "all")
        let c = try DaemonConfig.load(path: path)
        #expect(c.stageTimeout == .seconds(5) && c.workerNice == 4 && c.api.maxAssets == 10 && c.notifyMaxAttempts == 4)
        // A section whose keys are all commented out (as in the shipped example) is fine.
        #expect(throws: Never.self) { try DaemonConfig.load(path: try write("notify:\nlog_level: info\n", "empty-section")) }
    }

    /// The daemon itself stops at start, and `doctor --config` reports the same.
    @Test func theDaemonAndDoctorStopOnATypo() async throws {
        let root = NSTemporaryDirectory() + "prostudio-configkeys-run-\(getpid())"
        for sub in ["inbox", "outbox", "state"] {
            try FileManager.default.createDirectory(atPath: root + "/" + sub, withIntermediateDirectories: true)
        }
        let path = try write("limits: {stage_timout_s: 5}\n", "run")
        let folders = ["--inbox", root + "/inbox", "--outbox", root + "/outbox", "--state", root + "/state"]
        let daemon = try await runCLI(["daemon", "--config", path] + folders)
        #expect(daemon.status != 0)
        #expect(daemon.err.contains("limits.stage_timout_s") && daemon.err.contains("did you mean \"stage_timeout_s\""), "\(daemon.err)")
        let doctor = try await runCLI(["doctor", "--config", path] + folders)
        #expect(doctor.status == 1)
        #expect((doctor.out + doctor.err).contains("limits.stage_timout_s"), "\(doctor.out)\(doctor.err)")
    }
}
