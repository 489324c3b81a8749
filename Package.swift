// swift-tools-version: 6.2
import PackageDescription
import Foundation

// libtorch: Debian's libtorch-dev (CPU, 1.13) from the system paths by default. Point PROSTUDIO_LIBTORCH at an
// unpacked official libtorch (the folder holding include/ and lib/) to build against it instead; when its lib/
// has libtorch_cuda.so the shim's CUDA code is compiled in too (needs the CUDA toolkit headers: CUDA_HOME,
// default /usr/local/cuda). PROSTUDIO_LIBTORCH_CXX sets the C++ standard for that build (default c++17;
// libtorch 2.x releases that need C++20 want c++20). See Docs/torch-runtime.md.
let torchEnv = ProcessInfo.processInfo.environment
let torchRoot = torchEnv["PROSTUDIO_LIBTORCH"].flatMap { $0.isEmpty ? nil : $0 }
let torchCUDA = torchRoot.map { FileManager.default.fileExists(atPath: "\($0)/lib/libtorch_cuda.so") } ?? false
var torchCxx: [CXXSetting] = [.define("_GLIBCXX_USE_CXX11_ABI", to: "1")]
// The package-wide standard comes after a target's own flags on the compiler's command line, so a `-std=` in
// unsafeFlags loses to it: choose the package's standard from the same variable. CTorchImpl is the only C++ target.
let torchStd = torchRoot == nil ? "c++17" : (torchEnv["PROSTUDIO_LIBTORCH_CXX"] ?? "c++17")
var torchLink: [LinkerSetting] = [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")]
if let root = torchRoot {
    torchCxx.append(.unsafeFlags([
        "-isystem", "\(root)/include", "-isystem", "\(root)/include/torch/csrc/api/include",
    ]))
    // Link the libraries by path: a target that also links FFmpeg gets pkg-config's -L/usr/lib/<triple> ahead
    // of ours, and -ltorch would then pick Debian's libtorch (undefined 2.x symbols at link time).
    torchLink = [.unsafeFlags(["\(root)/lib/libtorch.so", "\(root)/lib/libtorch_cpu.so", "\(root)/lib/libc10.so",
                               "-L\(root)/lib", "-Xlinker", "-rpath", "-Xlinker", "\(root)/lib"])]
    if torchCUDA {
        let cuda = torchEnv["CUDA_HOME"] ?? "/usr/local/cuda"
        torchCxx.append(.define("PROSTUDIO_TORCH_CUDA"))
        torchCxx.append(.unsafeFlags(["-isystem", "\(cuda)/include"]))
        torchLink.append(.linkedLibrary("c10_cuda"))
        // Nothing calls into torch_cuda directly, but loading it is what registers the CUDA backend:
        // keep it even where the linker drops unreferenced libraries.
        torchLink.append(.unsafeFlags(["-L\(cuda)/lib64", "-lcudart", "-Xlinker", "--no-as-needed", "-ltorch_cuda", "-Xlinker", "--as-needed"]))
    }
}

let package = Package(
    name: "ProStudio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prostudio", targets: ["prostudio"]),
        .executable(name: "prostudio-daemon", targets: ["prostudio-daemon"]),
        .executable(name: "DaemonBench", targets: ["DaemonBench"]),
        .executable(name: "prostudio-espeak", targets: ["prostudio-espeak"]),
        .executable(name: "prostudio-notify", targets: ["prostudio-notify"]),
        .library(name: "ProStudioTorch", type: .dynamic, targets: ["CTorchImpl"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The HTTP API (#15): server, dashboard templates, metrics, job archives.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
        // The MCP server (#27): tools for AI agents over stdio. Pinned: 0.x minors change the API.
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", exact: "0.12.1"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // C shims: the only place C APIs are seen. Each is wrapped once, in the Swift module above it.
        .systemLibrary(name: "CFFmpeg", path: "CShims/CFFmpeg", pkgConfig: "libavformat"),
        // libass (Debian's libass-dev), which renders burned captions; Media blends its bitmaps itself.
        .systemLibrary(name: "CLibass", path: "CShims/CLibass", pkgConfig: "libass"),
        // espeak-ng runs in a fresh helper process per narration: see the comment in its main.c.
        .executableTarget(name: "prostudio-espeak", path: "Sources/Worker/Engines/Speech/EspeakHelper", linkerSettings: [.linkedLibrary("espeak-ng")]),
        // libtorch behind a plain C header (CTorchShim/include/ctorch.h). CTorchShim is only a loader: the
        // C++ (CTorchImpl, where exceptions stay inside) is the shared library ProStudioTorch, opened on the
        // first call that needs a model, so commands that never touch one never pay libtorch's load.
        .target(name: "CTorchShim", path: "CShims/CTorchShim", linkerSettings: [.linkedLibrary("dl")]),
        .target(name: "CTorchImpl", path: "CShims/CTorchImpl", publicHeadersPath: ".",
                cxxSettings: torchCxx + [.headerSearchPath("../CTorchShim/include")],
                linkerSettings: torchLink + [.unsafeFlags(["-Xlinker", "-Bsymbolic"])]),
        // Raw inotify and eventfd (Glibc lacks eventfd and the event's name field).
        .systemLibrary(name: "CInotify", path: "CShims/CInotify"),
        // MeCab (Debian's libmecab-dev), for Japanese readings; JapaneseText wraps it.
        .systemLibrary(name: "CMeCab", path: "CShims/CMeCab"),

        // Why a job did not finish, typed (JobFailure: code, message, field, stage, disposition): what the worker
        // reports, the supervisor journals and the sidecar shows. No dependencies: both sides of the pipe use it.
        .target(name: "Failures", path: "Sources/Shared/Failures"),
        // The job contract (Docs/contract.md): the typed sidecar and its one writer, encoder and timestamp, the worker's
        // messages, and the one rule for a folder's manifest. Foundation and Failures only: every process links it.
        .target(name: "Contract", dependencies: ["Failures"], path: "Sources/Shared/Contract"),
        // The SQLite journal (GRDB, WAL): jobs, stage runs, events, the artifact index, CLI requests.
        .target(name: "Journal", dependencies: [
            "Contract", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
        ], path: "Sources/Supervisor/Journal"),
        // The inbox watcher over raw inotify: emits complete manifests and job folders, never polls.
        .target(name: "Watcher", dependencies: ["CInotify", "Contract", .product(name: "Logging", package: "swift-log")], path: "Sources/Supervisor/Watcher"),
        // Pick-up: journal first, then move the arrival out of the inbox; restart reconciliation.
        .target(name: "Intake", dependencies: ["Journal", "Watcher", "Checksum", "Contract", .product(name: "Logging", package: "swift-log")], path: "Sources/Supervisor/Intake"),
        // sd_notify by hand: READY, STATUS, WATCHDOG, STOPPING over $NOTIFY_SOCKET.
        .target(name: "SystemdNotify", path: "Sources/Supervisor/SystemdNotify"),
        // The supervisor: recovery, pick-up, one job at a time in a `prostudio worker` child process, requests,
        // SIGTERM, sd_notify. Deliberately without Pipeline, Media or TorchRuntime: it never maps libav or libtorch.
        .target(name: "Daemon", dependencies: [
            "Journal", "Watcher", "Intake", "SystemdNotify", "Manifest", "Failures", "Checksum", "Spawn", "Contract",
            .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Sources/Supervisor/Daemon"),
        // The HTTP API and dashboard (off by default): jobs enter through the inbox's own intake, requests go through
        // the journal like the CLI's. Like the daemon it never maps libav or libtorch.
        .target(name: "API", dependencies: [
            "Daemon", "Journal", "Intake", "Manifest", "Contract",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Sources/Supervisor/API"),
        // The supervisor as its own small executable (`prostudio daemon` execs it): no libav, no libtorch mapped.
        .executableTarget(name: "prostudio-daemon", dependencies: [
            "Daemon", "API", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], path: "Sources/Supervisor/Main"),
        // One webhook POST per run (libcurl, opened at run time by CNotify): the daemon spawns it, so libcurl stays out
        // of the supervisor and workers.
        .target(name: "CNotify", path: "CShims/CNotify", linkerSettings: [.linkedLibrary("dl")]),
        .executableTarget(name: "prostudio-notify", dependencies: ["CNotify"], path: "Sources/Supervisor/NotifyHelper"),
        // The PostgreSQL journal's LISTEN/NOTIFY wake-up latency against one commit (issue 31).
        .executableTarget(name: "JournalBench", dependencies: ["Journal"], path: "Benchmarks/JournalBench"),
        // The Ken Burns resample alone: the SIMD kernel against the Swift one it replaced, same canvas, same run (issue 30).
        .executableTarget(name: "KenBurnsBench", dependencies: ["Media"], path: "Benchmarks/KenBurnsBench"),
        // Media's composer alone against x264's floor, public API only (builds against an earlier Media too).
        .executableTarget(name: "ComposeBench", dependencies: ["Media"], path: "Benchmarks/ComposeBench"),
        .executableTarget(name: "DaemonBench", dependencies: ["Journal", "Watcher", "Intake", "Manifest"], path: "Benchmarks/DaemonBench"),
        // The parsers of what users send (manifests, media headers, tar, zip, multipart) under seeded mutation, each in a
        // child process; corpus in Tests/Fuzz/corpus, a bounded run in scripts/test (issue 23).
        .executableTarget(name: "prostudio-fuzz", dependencies: ["Manifest", "MediaHeaders", "API"], path: "Benchmarks/Fuzz"),

        // What a media file is, from its first bytes (pure Swift, no libav): the supervisor checks assets with it at pick-up.
        .target(name: "MediaHeaders", path: "Sources/Shared/MediaHeaders"),
        // What a user writes: manifest model, parsing, validation, precise errors (asset headers included).
        .target(name: "Manifest", dependencies: ["MediaHeaders", "Contract", .product(name: "Yams", package: "Yams")], path: "Sources/Shared/Manifest"),
        // libav* wrapped: encode, filter graphs, probe, images. No raw pointer leaves this module.
        // Pixel kernels Media draws with where Swift cannot reach the instructions (the Ken Burns resample's byte
        // shuffles): AVX2 chosen at run time, a scalar version giving the same bytes otherwise. Optimised even in debug
        // builds, so the tests that compose video do not crawl.
        .target(name: "CMediaKernels", path: "CShims/CMediaKernels", cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "Media", dependencies: ["CFFmpeg", "CLibass", "CMediaKernels"], path: "Sources/Worker/Media"),
        // Stage engines: speech, visuals, music (embedded ones here; model engines build on TorchRuntime).
        // Helper processes run to completion with stdin written and stdout/stderr collected in one poll loop (no
        // full-pipe deadlock): the espeak helper and the webhook sender.
        .target(name: "Spawn", path: "Sources/Shared/Spawn"),
        .target(name: "Engines", dependencies: ["Manifest", "Media", "Spawn", "Contract"], path: "Sources/Worker/Engines",
                // The protocols and the built-in engines; the model engines beside them are targets of their own.
                exclude: ["Speech/NeuralVoice", "Speech/EspeakHelper", "Visuals/VideoDiffusion", "Visuals/Explainer", "Visuals/Library", "Music/MusicGen"],
                sources: ["Core", "Speech/Builtin", "Visuals/Builtin", "Music/Builtin"]),
        // Captions from the script's own words: voice times mapped onto them, laid out to broadcast rules.
        .target(name: "Captions", dependencies: ["Engines", "Media", "JapaneseText"], path: "Sources/Worker/Captions"),
        // plan -> speech -> visuals -> music -> compose -> publish, with the stage cache and the sidecar.
        .target(name: "Pipeline", dependencies: [
            "Manifest", "MediaHeaders", "Media", "Engines", "Captions", "Failures", "Normaliser", "Contract", "Spawn", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Worker/Pipeline"),
        // SHA-256, for model-pack checksums and the inbox's dedup keys.
        .target(name: "Checksum", path: "Sources/Shared/Checksum"),
        // Japanese text to Kokoro phonemes without Python (MeCab + Open JTalk's dictionary, misaki's romanizer
        // ported), and the word boundaries captions break at.
        .target(name: "JapaneseText", dependencies: ["CMeCab"], path: "Sources/Worker/JapaneseText", resources: [.copy("Resources/ja_words.txt")]),
        // Text normalisation in front of every voice (numbers, money, dates, abbreviations; en, fr, de, es).
        .target(name: "Normaliser", path: "Sources/Worker/Normaliser"),
        // libtorch wrapped: Tensor, TorchModule, model packs, the one-model-at-a-time manager.
        .target(name: "TorchRuntime", dependencies: [
            "CTorchShim", "Checksum", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Worker/TorchRuntime"),
        .executableTarget(name: "TorchBench", dependencies: ["TorchRuntime"], path: "Benchmarks/TorchBench"),
        // Model voices: Piper VITS through TorchRuntime, phonemized by espeak-ng (Engines' helper).
        .target(name: "NeuralVoice", dependencies: ["Engines", "Manifest", "TorchRuntime", "JapaneseText"], path: "Sources/Worker/Engines/Speech/NeuralVoice"),
        .executableTarget(name: "PiperBench", dependencies: ["NeuralVoice", "TorchRuntime", "Manifest"], path: "Benchmarks/PiperBench"),
        .executableTarget(name: "VoiceoverBench", dependencies: ["Pipeline", "Engines", "NeuralVoice", "Manifest", "Media"], path: "Benchmarks/VoiceoverBench"),
        // The `diffusion` visuals engine: flow-matching latent video diffusion on TorchRuntime's model manager.
        .target(name: "VideoDiffusion", dependencies: ["TorchRuntime", "Engines", "Media", "Manifest"], path: "Sources/Worker/Engines/Visuals/VideoDiffusion"),
        .executableTarget(name: "VideoBench", dependencies: ["VideoDiffusion", "TorchRuntime", "Engines", "Manifest", "Media"], path: "Benchmarks/VideoBench"),
        // The `library` visuals engine: the user's own pictures matched to scenes by a sentence encoder (MiniLM).
        .target(name: "Library", dependencies: ["TorchRuntime", "Engines", "Manifest", "Media", "MediaHeaders", "Checksum"], path: "Sources/Worker/Engines/Visuals/Library"),
        // The `explainer` visuals engine: a designed card per scene (key phrase, count-up, list, quote) cut from the narration
        // and revealed with the voice's word times, drawn over the look by libass through Media.
        .target(name: "Explainer", dependencies: ["Engines", "Media", "Manifest", "Captions", "Library", "TorchRuntime"], path: "Sources/Worker/Engines/Visuals/Explainer"),
        .executableTarget(name: "ExplainerBench", dependencies: ["Explainer", "Engines", "Manifest", "Media", "Pipeline"], path: "Benchmarks/ExplainerBench"),
        .executableTarget(name: "LibraryBench", dependencies: ["Library", "TorchRuntime"], path: "Benchmarks/LibraryBench"),
        // The `musicgen` music engine: T5 text encoder -> codebook decoder (delay pattern, KV cache, guidance) -> EnCodec.
        .target(name: "MusicGen", dependencies: ["TorchRuntime", "Engines", "Manifest", "VideoDiffusion"], path: "Sources/Worker/Engines/Music/MusicGen"),
        .executableTarget(name: "MusicBench", dependencies: ["MusicGen", "TorchRuntime", "Manifest"], path: "Benchmarks/MusicBench"),
        // The MCP server (`prostudio mcp`): validate, submit, follow and fetch jobs for AI agents, beside a daemon's
        // folders or through its HTTP API. Its own module so only the CLI links the SDK, never the supervisor.
        .target(name: "MCPServer", dependencies: [
            "Manifest", "Pipeline", "Daemon", "Journal", "Watcher", "Failures", "Engines", "TorchRuntime",
            .product(name: "MCP", package: "swift-sdk"), .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/MCPServer"),
        .executableTarget(name: "prostudio", dependencies: [
            "MCPServer", "Manifest", "Pipeline", "Media", "TorchRuntime", "Engines", "NeuralVoice", "VideoDiffusion", "Library", "MusicGen", "Explainer", "Spawn",
            "Daemon", "Journal", "Intake", "Watcher", "Normaliser", "Contract", "JapaneseText",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/CLI"),

        // What the test targets share (temp folders, off-pool runs, polling, CI-required packs, Python test servers):
        // written once here instead of copied into each target.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "NormaliserTests", dependencies: ["Normaliser"], path: "Tests/NormaliserTests", exclude: ["corpus.tsv"]),
        .testTarget(name: "JapaneseTextTests", dependencies: ["JapaneseText"], path: "Tests/JapaneseTextTests", exclude: ["corpus.tsv", "sentences.txt"]),
        .testTarget(name: "ManifestTests", dependencies: ["TestSupport", "Manifest"], path: "Tests/ManifestTests"),
        .testTarget(name: "MediaHeadersTests", dependencies: ["MediaHeaders", "Manifest"], path: "Tests/MediaHeadersTests"),
        .testTarget(name: "MediaTests", dependencies: ["Media"], path: "Tests/MediaTests"),
        .testTarget(name: "JournalTests", dependencies: ["TestSupport", "Journal"], path: "Tests/JournalTests"),
        .testTarget(name: "WatcherTests", dependencies: ["TestSupport", "Watcher", "Contract", "Intake", "Journal"], path: "Tests/WatcherTests"),
        .testTarget(name: "DaemonTests", dependencies: ["TestSupport", "Daemon", "Contract", "Manifest", "Journal", "Pipeline", "Intake", "Watcher", "Failures", "Checksum", "prostudio", "prostudio-daemon", "prostudio-notify", .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift")], path: "Tests/DaemonTests"),
        .testTarget(name: "APITests", dependencies: ["TestSupport", "API", "Contract", "Daemon", "Journal", "prostudio", "prostudio-daemon", .product(name: "Logging", package: "swift-log"), .product(name: "ZIPFoundation", package: "ZIPFoundation")], path: "Tests/APITests"),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify"], path: "Tests/SystemdNotifyTests"),
        .testTarget(name: "TorchRuntimeTests", dependencies: ["TestSupport", "TorchRuntime", "Checksum"], path: "Tests/TorchRuntimeTests"),
        .testTarget(name: "NeuralVoiceTests", dependencies: ["TestSupport", "NeuralVoice", "Captions", "Engines", "Manifest", "Pipeline", "Media", "TorchRuntime", "prostudio-espeak"], path: "Tests/NeuralVoiceTests"),
        .testTarget(name: "VideoDiffusionTests", dependencies: ["TestSupport", "VideoDiffusion", "TorchRuntime", "Engines", "Manifest", "Media", "Pipeline", "prostudio-espeak", "VideoBench"], path: "Tests/VideoDiffusionTests"),
        .testTarget(name: "MusicGenTests", dependencies: ["TestSupport", "MusicGen", "TorchRuntime", "Engines", "Manifest", "VideoDiffusion", "Pipeline", "Media", "prostudio-espeak"], path: "Tests/MusicGenTests"),
        .testTarget(name: "CaptionsTests", dependencies: ["Captions", "JapaneseText", "Engines", "Media", "Manifest", "Pipeline", "Normaliser", "prostudio-espeak"], path: "Tests/CaptionsTests", exclude: ["Fixtures"]),
        .testTarget(name: "LibraryTests", dependencies: ["TestSupport", "Library", "TorchRuntime", "Engines", "Manifest", "Media", "Pipeline", "prostudio-espeak"], path: "Tests/LibraryTests"),
        .testTarget(name: "MCPServerTests", dependencies: ["MCPServer", .product(name: "MCP", package: "swift-sdk")], path: "Tests/MCPServerTests"),
        .testTarget(name: "ExplainerTests", dependencies: ["TestSupport", "Explainer", "Engines", "Manifest", "Media", "Pipeline", "Library", "TorchRuntime", "prostudio-espeak"], path: "Tests/ExplainerTests", exclude: ["Fixtures"]),
        .testTarget(name: "PipelineTests", dependencies: ["TestSupport", "Pipeline", "Manifest", "MediaHeaders", "Media", "Engines", "Spawn", "prostudio-espeak"], path: "Tests/PipelineTests"),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: CXXLanguageStandard(rawValue: torchStd) ?? .cxx17
)
