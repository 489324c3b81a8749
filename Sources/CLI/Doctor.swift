import ArgumentParser
import Daemon
import Foundation
import Manifest
import Intake
import Journal
import TorchRuntime

struct Doctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check folders, permissions, the journal, inotify limits, speech data and the GPU.",
        discussion: """
            Exit 0 when the daemon can run here (warnings allowed), 1 otherwise. With --repair (daemon stopped), rebuild
            a lost, empty or damaged journal from state/jobs, state/rejected and the outbox sidecars: a damaged file is kept
            as journal.sqlite3.broken-TIME; jobs whose sidecar says done, failed or cancelled keep that state, others queue again.
            """)

    @OptionGroup var folders: FolderOptions
    @Flag(help: "Rebuild the journal from the job folders and sidecars (the daemon must be stopped).")
    var repair = false

    func run() async throws {
        var failed = false
        func ok(_ s: String) { print("ok    \(s)") }
        func warn(_ s: String) { print("warn  \(s)") }
        func fail(_ s: String) { print("FAIL  \(s)"); failed = true }

        let config: DaemonConfig
        do { config = try folders.resolve() } catch { print("FAIL  \(error)"); throw ExitCode(1) }
        if repair {
            do {
                let report = try await JournalGuard.repair(config: config)
                for path in report.movedAside { print("moved aside \(path)") }
                for (id, state) in report.restored { print("restored \(id) as \(state.rawValue)") }
                print("journal \(config.state)/journal.sqlite3: \(report.restored.count) jobs restored, \(report.kept) already present")
                return
            } catch {
                print("FAIL  repair: \(error)")
                throw ExitCode(1)
            }
        }

        for (label, path) in [("inbox", config.inbox), ("outbox", config.outbox), ("state", config.state)] {
            var isDir: ObjCBool = false
            if !FileManager.default.fileExists(atPath: path, isDirectory: &isDir) || !isDir.boolValue {
                fail("\(label) \(path): missing (systemd-tmpfiles --create creates it; or the daemon does, if it may)")
            } else if access(path, W_OK) != 0 {
                fail("\(label) \(path): not writable by uid \(getuid())")
            } else {
                ok("\(label) \(path)")
            }
        }
        var a = stat(), b = stat()
        if stat(config.inbox, &a) == 0, stat(config.state, &b) == 0 {
            if a.st_dev == b.st_dev { ok("inbox and state share a filesystem (pick-up moves by rename)") } else {
                fail("inbox and state are on different filesystems: pick-up moves by rename, keep them on one")
            }
        }

        let journal = config.state + "/journal.sqlite3"
        if let location = config.journal {
            // The shared PostgreSQL journal (issue 31): reachable, which server, whether the link is encrypted, the jobs.
            do {
                let pg = try await PostgresJournal.open(location, maxAttempts: config.maxAttempts)
                defer { pg.close() }
                let facts = try await pg.serverFacts()
                let jobs = try await pg.jobs(JobFilter())
                let counts = Dictionary(grouping: jobs, by: \.state).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
                ok("journal \(location.redacted): PostgreSQL \(facts.serverVersion), \(jobs.count) jobs"
                   + (counts.isEmpty ? "" : " (" + counts.joined(separator: ", ") + ")"))
                if let tls = facts.tls { ok("journal connection encrypted (\(tls))") } else if location.isLocal {
                    ok("journal connection not encrypted (a local socket or loopback address)")
                } else {
                    warn("journal connection to \(location.redacted) is not encrypted: add sslmode=verify-full (and sslrootcert=) to journal.url")
                }
            } catch { fail("journal: \(error)") }
        } else if FileManager.default.fileExists(atPath: journal) {
            do {
                let client = try JournalClient(path: journal)
                let problems = try await client.integrityCheck()
                if problems != ["ok"] { fail("journal \(journal): integrity check: \(problems.prefix(3).joined(separator: "; ")); run prostudio doctor --repair") }
                let jobs = try await client.jobs(JobFilter())
                let counts = Dictionary(grouping: jobs, by: \.state).map { "\($0.value.count) \($0.key.rawValue)" }.sorted()
                ok("journal \(journal): \(jobs.count) jobs\(counts.isEmpty ? "" : " (" + counts.joined(separator: ", ") + ")")")
                // Job folders without a journal row: only a power cut between a claim and its WAL reaching disk
                // leaves these (kill -9 cannot). Their files are intact; resubmit them by hand.
                let known = Set(jobs.map(\.id.rawValue))
                for sub in ["jobs", "rejected"] {
                    let dir = config.state + "/" + sub
                    let orphans = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { !known.contains($0) }.sorted()
                    if !orphans.isEmpty { warn("\(dir): \(orphans.count) folders with no job in the journal: \(orphans.prefix(5).joined(separator: ", ")); prostudio doctor --repair puts them back") }
                }
            } catch { fail("journal \(journal): \(error)") }
        } else {
            let jobs = ((try? FileManager.default.contentsOfDirectory(atPath: config.state + "/jobs")) ?? []).filter { !$0.hasPrefix(".") }
            if jobs.isEmpty { warn("journal \(journal): not created yet (the daemon creates it on first start)") } else {
                fail("journal \(journal): missing, but state/jobs holds \(jobs.count) job folders: run prostudio doctor --repair")
            }
        }
        if let holder = StateLock.liveHolder(state: config.state) {
            ok("daemon running (pid \(holder) holds \(config.state)/daemon.lock)")
        } else {
            warn("no daemon holds \(config.state)/daemon.lock (not running)")
        }

        for (file, minimum) in [("max_user_watches", 1024), ("max_user_instances", 8)] {
            let path = "/proc/sys/fs/inotify/" + file
            if let text = try? String(contentsOfFile: path, encoding: .utf8), let n = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                if n >= minimum { ok("inotify \(file) = \(n)") } else { warn("inotify \(file) = \(n): low") }
            } else {
                fail("inotify: cannot read \(path)")
            }
        }

        let espeakData = ["/usr/lib/x86_64-linux-gnu/espeak-ng-data", "/usr/lib/aarch64-linux-gnu/espeak-ng-data", "/usr/share/espeak-ng-data"]
        if let found = espeakData.first(where: { FileManager.default.fileExists(atPath: $0 + "/phontab") }) {
            ok("espeak-ng voice data \(found)")
        } else {
            fail("espeak-ng voice data not found (apt install espeak-ng-data)")
        }

        // Every rendition this build makes is H.264 + AAC through libav's libx264, which `render` already needs.
        ok("renditions (outputs:): " + JobManifest.Rendition.Preset.allCases.map(\.rawValue).joined(separator: ", ")
           + "; not in this build: " + JobManifest.Rendition.unavailable.joined(separator: ", "))

        if let models = config.models {
            let packs = ((try? FileManager.default.contentsOfDirectory(atPath: models)) ?? [])
                .filter { FileManager.default.fileExists(atPath: models + "/" + $0 + "/pack.json") }
            if FileManager.default.fileExists(atPath: models) { ok("models \(models): \(packs.count) packs") } else {
                warn("models \(models): missing (the embedded engines need none)")
            }
        }

        // The model runtime is opened here (about a second): a daemon whose workers cannot open it fails every job
        // that uses a model, so a missing or broken libProStudioTorch.so is a failure, not a note.
        let gib = { (b: Int64) in String(format: "%.1f GiB", Double(b) / Double(1 << 30)) }
        let runtime = TorchRuntime.describe()
        let nodes = FileManager.default.fileExists(atPath: "/dev/nvidiactl") || FileManager.default.fileExists(atPath: "/dev/nvidia0")
        if !runtime.available {
            fail("model runtime: \(runtime.problem ?? "cannot be opened")")
        } else if !runtime.cudaBuild {
            let note = nodes ? "; this machine has an NVIDIA device: build the runtime against a CUDA libtorch (Docs/torch-runtime.md)" : ""
            (nodes ? warn : ok)("model runtime: libtorch \(runtime.version ?? "?"), CPU build: model engines run on the CPU\(note)")
        } else if runtime.devices.isEmpty {
            warn("model runtime: libtorch \(runtime.version ?? "?"), CUDA \(runtime.cudaRuntime ?? "?") build: "
                 + "\(runtime.problem ?? "no CUDA device"); model engines run on the CPU")
        } else {
            ok("model runtime: libtorch \(runtime.version ?? "?"), CUDA \(runtime.cudaRuntime ?? "?") build, driver \(runtime.driver ?? "unknown")")
            for gpu in runtime.devices {
                let memory = gpu.freeBytes.flatMap { f in gpu.totalBytes.map { "\(gib(f)) free of \(gib($0))" } } ?? "free memory unknown"
                ok("GPU cuda:\(gpu.index) \(gpu.name): \(memory)")
            }
            let index = config.device?.index ?? 0
            if index >= runtime.devices.count {
                fail("device.index \(index): no such GPU (cuda:0 to cuda:\(runtime.devices.count - 1)); models would run on the CPU")
            } else if let limit = config.device?.memoryLimitBytes, let total = runtime.devices[index].totalBytes, limit > total {
                warn("device.memory_limit_gb (\(gib(limit))) is more than cuda:\(index) has (\(gib(total)))")
            }
        }

        if let notify = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"] { ok("NOTIFY_SOCKET \(notify)") }
        if failed { throw ExitCode(1) }
    }
}
