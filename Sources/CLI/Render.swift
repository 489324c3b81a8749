import ArgumentParser
import Dispatch
import Foundation
import Spawn
import Synchronization
import Engines
import Logging
import Manifest
import NeuralVoice
import Pipeline

struct Render: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render one manifest in the foreground, with progress.")

    @Argument(help: "A manifest (.yaml, .json, .txt, .md) or a job folder holding one.")
    var manifest: String

    @Option(name: .shortAndLong, help: "Output folder for NAME.mp4, NAME.json, NAME.srt, NAME.jpg.")
    var output: String = "."

    @Option(help: "Folder of installed model packs (voice engine piper: Tools/export/install-piper-voice DIR installs joe-medium).")
    var models: String?

    @Option(help: "Stage cache folder (default: $XDG_CACHE_HOME/prostudio or ~/.cache/prostudio).")
    var cache: String?

    @Flag(help: "Log each stage's details to stderr.")
    var verbose = false

    func run() async throws {
        Logs.bootstrap(verbose: verbose)
        let outbox = URL(fileURLWithPath: output)
        do {
            try FileManager.default.createDirectory(at: outbox, withIntermediateDirectories: true)
        } catch {
            exitWith("prostudio: cannot create output folder \(output): \(error.localizedDescription)", code: 1)
        }
        let options = PipelineOptions(outbox: outbox, cache: URL(fileURLWithPath: cache ?? Self.defaultCache()),
                                      models: URL(fileURLWithPath: models ?? PackCheck.defaultModels))
        let pipeline = Pipeline(options: options, engines: ModelEngines.engineSet(models: options.models, cache: options.cache))
        let display = ProgressDisplay(tty: isatty(STDERR_FILENO) == 1)
        let jobID = Self.newJobID()
        // SIGTERM / Ctrl-C: stop at the next checkpoint so the pipeline removes its work folder (F2 found a partial
        // MP4 left in .prostudio-work-ID after a SIGTERM); if no checkpoint comes within 10 s, remove it here and exit.
        let stop = Atomic<Bool>(false)
        let work = outbox.appendingPathComponent(".prostudio-work-\(jobID)")
        let signals = SignalTrap([SIGTERM, SIGINT]) { sig in
            stop.store(true, ordering: .relaxed)
            DispatchQueue.global().asyncAfter(deadline: .now() + 10) {
                try? FileManager.default.removeItem(at: work)
                Glibc.exit(128 + sig)
            }
        }
        defer { signals.cancel() }
        do {
            let sidecar = try await pipeline.run(manifestPath: manifest, jobID: jobID, progress: { display.show($0) },
                                                 isCancelled: { stop.load(ordering: .relaxed) })
            display.finish()
            let video = outbox.appendingPathComponent(sidecar.outputs.video ?? "").path
            // The warnings end the run (the log showed them at plan, before the progress): last, where they are seen.
            let warnings = sidecar.warnings ?? []
            let counted = warnings.isEmpty ? "" : ", \(warnings.count) warning\(warnings.count == 1 ? "" : "s")"
            print("\(video)  (\(String(format: "%.2f", sidecar.duration_s ?? 0)) s, \(sidecar.width ?? 0)x\(sidecar.height ?? 0)\(counted))")
            for w in warnings { FileHandle.standardError.write(Data("prostudio: warning: \(w)\n".utf8)) }
        } catch {
            display.finish()
            exitWith("prostudio: \(error.message)", code: error.exitCode)
        }
    }

    static func defaultCache() -> String {
        if let xdg = ProcessInfo.processInfo.environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/prostudio" }
        return NSHomeDirectory() + "/.cache/prostudio"
    }

    /// Sortable and unique enough for one machine: time plus randomness.
    static func newJobID() -> String {
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        return String(stamp, radix: 36) + "-" + String(UInt32.random(in: 0...UInt32.max), radix: 36)
    }
}

/// A bar per stage on a terminal; one line per finished stage otherwise (logs, CI, systemd).
final class ProgressDisplay: @unchecked Sendable {
    // @unchecked: the pipeline calls `show` from its single worker thread only; `finish` runs after it returns.
    private let tty: Bool
    private var lastDraw = Date.distantPast
    private var drewBar = false
    private let started = Date()

    init(tty: Bool) { self.tty = tty }

    func show(_ e: ProgressEvent) {
        if tty {
            if !e.finished && Date().timeIntervalSince(lastDraw) < 0.1 { return }
            lastDraw = Date()
            let width = 30
            let filled = Int(e.fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            var line = "\r\u{1B}[2K\(e.stage.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) [\(bar)] \(Int(e.fraction * 100))%  total \(Int(e.overall * 100))%"
            if e.finished { line += "\n" }
            FileHandle.standardError.write(Data(line.utf8))
            drewBar = !e.finished
        } else if e.finished {
            let t = String(format: "%.2f", Date().timeIntervalSince(started))
            FileHandle.standardError.write(Data("prostudio: \(e.stage.rawValue) done (\(t) s, \(Int(e.overall * 100))%)\n".utf8))
        }
    }

    func finish() {
        if tty && drewBar { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
