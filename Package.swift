// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "ProStudio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prostudio", targets: ["prostudio"]),
        .executable(name: "DaemonBench", targets: ["DaemonBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
    ],
    targets: [
        // C shims: the only place C APIs are seen. Each is wrapped once, in the Swift module above it.
        .systemLibrary(name: "CFFmpeg", path: "CShims/CFFmpeg", pkgConfig: "libavformat"),
        .systemLibrary(name: "CEspeakNG", path: "CShims/CEspeakNG", pkgConfig: "espeak-ng"),
        // Raw inotify and eventfd (Glibc lacks eventfd and the event's name field).
        .systemLibrary(name: "CInotify", path: "CShims/CInotify"),

        // The SQLite journal (GRDB, WAL): jobs, stage runs, events, the artifact index, CLI requests.
        .target(name: "Journal", dependencies: [
            .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Journal"),
        // The inbox watcher over raw inotify: emits complete manifests and job folders, never polls.
        .target(name: "Watcher", dependencies: ["CInotify", .product(name: "Logging", package: "swift-log")], path: "Sources/Watcher"),
        // Pick-up: journal first, then move the arrival out of the inbox; restart reconciliation.
        .target(name: "Intake", dependencies: ["Journal", "Watcher", .product(name: "Logging", package: "swift-log")], path: "Sources/Intake"),
        // sd_notify by hand: READY, STATUS, WATCHDOG, STOPPING over $NOTIFY_SOCKET.
        .target(name: "SystemdNotify", path: "Sources/SystemdNotify"),
        // The runner: recovery, pick-up, one job at a time through the Pipeline, requests, SIGTERM, sd_notify.
        .target(name: "Daemon", dependencies: [
            "Journal", "Watcher", "Intake", "SystemdNotify", "Pipeline",
            .product(name: "Yams", package: "Yams"), .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Daemon"),
        .executableTarget(name: "DaemonBench", dependencies: ["Journal", "Watcher", "Intake"], path: "Benchmarks/DaemonBench"),

        // What a user writes: manifest model, parsing, validation, precise errors.
        .target(name: "Manifest", dependencies: [.product(name: "Yams", package: "Yams")], path: "Sources/Manifest"),
        // libav* wrapped: encode, filter graphs, probe, images. No raw pointer leaves this module.
        .target(name: "Media", dependencies: ["CFFmpeg"], path: "Sources/Media"),
        // Stage engines: speech, visuals, music (embedded ones here; model engines build on TorchRuntime).
        .target(name: "Engines", dependencies: ["Manifest", "Media", "CEspeakNG"], path: "Sources/Engines"),
        // plan -> speech -> visuals -> music -> compose -> publish, with the stage cache and the sidecar.
        .target(name: "Pipeline", dependencies: [
            "Manifest", "Media", "Engines", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Pipeline"),
        .executableTarget(name: "prostudio", dependencies: [
            "Manifest", "Pipeline", "Media",
            "Daemon", "Journal", "Intake", "Watcher",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/CLI"),

        .testTarget(name: "ManifestTests", dependencies: ["Manifest"], path: "Tests/ManifestTests"),
        .testTarget(name: "MediaTests", dependencies: ["Media"], path: "Tests/MediaTests"),
        .testTarget(name: "JournalTests", dependencies: ["Journal"], path: "Tests/JournalTests"),
        .testTarget(name: "WatcherTests", dependencies: ["Watcher", "Intake", "Journal"], path: "Tests/WatcherTests"),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "Journal", "Pipeline"], path: "Tests/DaemonTests"),
        .testTarget(name: "SystemdNotifyTests", dependencies: ["SystemdNotify"], path: "Tests/SystemdNotifyTests"),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Manifest", "Media", "Engines"], path: "Tests/PipelineTests"),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
