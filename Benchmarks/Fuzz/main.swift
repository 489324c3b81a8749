// prostudio-fuzz: the parsers that read what users send (manifests in four formats, media headers, tar, zip,
// multipart), fed mutated inputs for a bounded time each.
//
// Why a seeded mutation loop and not libFuzzer: `swiftc -sanitize=fuzzer` does work with this toolchain (a one-file
// harness found its planted bug in under a second), but libFuzzer needs its own instrumented build of
// the package (every target, SwiftNIO and ZIPFoundation included, with a `main` of its own per harness), which SwiftPM
// cannot give one executable target beside the others; CI would build the package twice. This loop runs on the debug
// build CI already has, is deterministic (SplitMix64 from --seed: the same seed and corpus give the same inputs), and
// aims its mutations where these parsers break: number tokens swapped in text (2^63, 1e999, .nan, base 60), integers
// at the edges of 8 to 64 bits written next to a format's size fields (zip's headers, the ZIP64 extra field), splices
// of corpus files. What it lacks is coverage feedback; the corpus is how it reaches deep.
//
// Each target runs in a child process (this executable again, with --child): a trap kills only the child. The child
// writes each input to a file before running it, so the parent finds the input that killed it, saves it in the
// corpus as `crash-<hash>` (or `slow-<hash>` for one that ran past the watchdog), names target and file in the log,
// and starts the child again for the rest of the time. Corpus files are replayed first, so a saved crash is a test
// from then on: it fails every run until it is fixed.
//
//   prostudio-fuzz [--seconds N] [--seed S] [--corpus DIR] [TARGET...]   fuzz each target N seconds (default 30)
//   prostudio-fuzz --replay TARGET FILE...                                run these inputs once (reproduce a find)
//   prostudio-fuzz --list                                                 the targets
import Foundation
import Synchronization

struct Options {
    var seconds = 30.0
    var seed: UInt64 = 1
    var corpus = "Tests/Fuzz/corpus"
    var targets: [String] = []
    var child: String?
    var current: String?
    var skip: Set<String> = []
    var replay = false
    var list = false
}

func parseOptions() -> Options {
    var o = Options()
    var args = Array(CommandLine.arguments.dropFirst())
    func value() -> String {
        guard !args.isEmpty else { fail("a value is missing after an option") }
        return args.removeFirst()
    }
    while !args.isEmpty {
        let a = args.removeFirst()
        switch a {
        case "--seconds": guard let v = Double(value()), v > 0 else { fail("--seconds wants a positive number") }; o.seconds = v
        case "--seed": guard let v = UInt64(value()) else { fail("--seed wants a whole number") }; o.seed = v
        case "--corpus": o.corpus = value()
        case "--child": o.child = value()
        case "--current": o.current = value()
        case "--skip": o.skip = Set(value().split(separator: ",").map(String.init))
        case "--replay": o.replay = true
        case "--list": o.list = true
        case "-h", "--help":
            say("usage: prostudio-fuzz [--seconds N] [--seed S] [--corpus DIR] [TARGET...] | --replay TARGET FILE... | --list")
            exit(0)
        default:
            guard !a.hasPrefix("-") else { fail("unknown option \(a)") }
            o.targets.append(a)
        }
    }
    return o
}

/// Straight to the file descriptor: parent and children share stdout, and their lines must come out in order.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("prostudio-fuzz: \(message)\n".utf8))
    exit(2)
}

/// FNV-1a 64, hex: names a find by its content, so the same crash is saved once.
func contentHash(_ bytes: [UInt8]) -> String {
    var h: UInt64 = 0xCBF2_9CE4_8422_2325
    for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
    return String(h, radix: 16)
}

func corpusFiles(_ folder: String) -> [(name: String, bytes: [UInt8])] {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    return names.compactMap { name in FileManager.default.contents(atPath: folder + "/" + name).map { (name, [UInt8]($0)) } }
}

// MARK: - Child: one target, in this process

/// Inputs run so far; the watchdog reads it to see one input running too long.
let progress = Atomic<Int>(0)
let watchdogSeconds = 10

func runChild(_ target: FuzzTarget, _ o: Options) -> Never {
    guard let currentPath = o.current else { fail("--child needs --current") }
    let fd = open(currentPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { fail("cannot write \(currentPath)") }
    // Written before each run: after a crash this file holds the input that caused it.
    func stage(_ input: [UInt8]) {
        _ = ftruncate(fd, 0)
        _ = input.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
    let run = target.prepare()
    let watchdog = Thread {
        var last = -1, still = 0
        while true {
            sleep(1)
            let now = progress.load(ordering: .relaxed)
            still = now == last ? still + 1 : 0
            last = now
            if still >= watchdogSeconds {
                FileHandle.standardError.write(Data("fuzz \(target.name): one input ran over \(watchdogSeconds) s\n".utf8))
                _exit(3)
            }
        }
    }
    watchdog.start()

    let seeds = corpusFiles(o.corpus + "/" + target.name).filter { !o.skip.contains(contentHash($0.bytes)) }
    for file in seeds {
        stage(file.bytes)
        run(file.bytes)
        progress.add(1, ordering: .relaxed)
    }
    let bases = seeds.map(\.bytes)
    var rng = SplitMix64(seed: o.seed)
    let deadline = ContinuousClock.now + .milliseconds(Int(o.seconds * 1000))
    var runs = 0
    while runs % 32 != 0 || ContinuousClock.now < deadline {
        let base = bases.isEmpty ? [] : rng.pick(bases)
        let input = Mutator.mutate(base, shape: target.shape, corpus: bases, rng: &rng)
        stage(input)
        run(input)
        runs += 1
        progress.add(1, ordering: .relaxed)
    }
    say("fuzz \(target.name): \(seeds.count) corpus files replayed, \(runs) mutated inputs in \(o.seconds) s, none crashed")
    exit(0)
}

// MARK: - Parent: each target in a child

func runTarget(_ target: FuzzTarget, _ o: Options, work: String) -> [String] {
    let folder = o.corpus + "/" + target.name
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    let current = work + "/\(target.name).current"
    let started = ContinuousClock.now
    var skip = Set<String>()
    var finds: [String] = []
    // The runtime's reason ("Fatal error: ...") of each find: one bug found many ways is saved twice at most.
    var reasons: [String: Int] = [:]
    let stderrPath = work + "/\(target.name).stderr"
    var attempt: UInt64 = 0
    while true {
        let left = o.seconds - Double((ContinuousClock.now - started).components.seconds)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["--child", target.name, "--current", current, "--corpus", o.corpus,
                           "--seconds", String(max(1, left)), "--seed", String(o.seed &+ attempt &* 7919)]
            + (skip.isEmpty ? [] : ["--skip", skip.sorted().joined(separator: ",")])
        var env = ProcessInfo.processInfo.environment
        // The runtime's one-line reason is kept; the full backtrace comes with --replay (one per find would flood CI).
        env["SWIFT_BACKTRACE"] = env["SWIFT_BACKTRACE"] ?? "enable=no"
        // What a target writes (the manifest files it loads) stays in this run's folder, removed at the end.
        env["TMPDIR"] = work
        child.environment = env
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        child.standardError = FileHandle(forWritingAtPath: stderrPath)
        do { try child.run() } catch { fail("cannot start a child: \(error)") }
        // The child stops on its own at its deadline; one stuck past it (a hang the watchdog missed) is killed.
        let killAt = ContinuousClock.now + .seconds(Int(left) + 60)
        while child.isRunning && ContinuousClock.now < killAt { usleep(50_000) }
        if child.isRunning { kill(child.processIdentifier, SIGKILL); child.waitUntilExit() }
        child.waitUntilExit()
        if child.terminationReason == .exit && child.terminationStatus == 0 { break }
        let why = child.terminationReason == .uncaughtSignal ? "signal \(child.terminationStatus)"
            : child.terminationStatus == 3 ? "an input that ran over \(watchdogSeconds) s" : "exit status \(child.terminationStatus)"
        let errors = String(decoding: FileManager.default.contents(atPath: stderrPath) ?? Data(), as: UTF8.self)
        let reason = errors.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("ran over") }.map(String.init) ?? why
        reasons[reason, default: 0] += 1
        let input = [UInt8](FileManager.default.contents(atPath: current) ?? Data())
        let hash = contentHash(input)
        let kind = child.terminationStatus == 3 && child.terminationReason == .exit ? "slow" : "crash"
        // A corpus file that still crashes keeps its name; a new find is saved beside the corpus.
        let known = corpusFiles(folder).first { contentHash($0.bytes) == hash }?.name
        let name = known ?? "\(kind)-\(hash)"
        skip.insert(hash)
        attempt += 1
        let timeUp = ContinuousClock.now - started > .seconds(Int(o.seconds))
        if known == nil && reasons[reason, default: 0] > 2 {  // the same bug again: go on fuzzing
            if timeUp || reasons.values.reduce(0, +) > 64 { break }
            continue
        }
        if known == nil { _ = FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(input)) }
        let line = "fuzz \(target.name): FAILED (\(why): \(reason)) on \(folder)/\(name)\(known == nil ? " (new)" : ""); reproduce: prostudio-fuzz --replay \(target.name) \(folder)/\(name)"
        say(line)
        finds.append(line)
        // Time left, and not the same few inputs over and over: go on fuzzing around them.
        if finds.count >= 8 || timeUp { break }
    }
    return finds
}

let options = parseOptions()

if options.list {
    for t in Targets.all { say(t.name) }
    exit(0)
}
if let name = options.child {
    guard let target = Targets.named(name) else { fail("no target \(name)") }
    runChild(target, options)
}
if options.replay {
    guard let name = options.targets.first, let target = Targets.named(name) else { fail("--replay TARGET FILE...") }
    let run = target.prepare()
    for file in options.targets.dropFirst() {
        guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
        say("replay \(target.name): \(file)")
        run([UInt8](data))
    }
    say("replay \(target.name): \(options.targets.count - 1) inputs, none crashed")
    exit(0)
}

let chosen: [FuzzTarget] = options.targets.isEmpty ? Targets.all : options.targets.map { n in
    guard let t = Targets.named(n) else { fail("no target \(n) (see --list)") }
    return t
}
let work = FileManager.default.temporaryDirectory.appendingPathComponent("prostudio-fuzz-\(getpid())").path
try? FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(atPath: work) }
say("prostudio-fuzz: \(chosen.map(\.name).joined(separator: ", ")), \(options.seconds) s each, seed \(options.seed), corpus \(options.corpus)")
var failures: [String] = []
for target in chosen { failures += runTarget(target, options, work: work) }
if failures.isEmpty {
    say("prostudio-fuzz: no crashes")
} else {
    say("prostudio-fuzz: \(failures.count) failing input(s):")
    for f in failures { say("  " + f) }
    try? FileManager.default.removeItem(atPath: work)
    exit(1)
}
