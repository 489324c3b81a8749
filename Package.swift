// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "ProStudio",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "prostudio", targets: ["prostudio"]),
        .executable(name: "prostudio-espeak", targets: ["prostudio-espeak"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    ],
    targets: [
        // C shims: the only place C APIs are seen. Each is wrapped once, in the Swift module above it.
        .systemLibrary(name: "CFFmpeg", path: "CShims/CFFmpeg", pkgConfig: "libavformat"),
        // espeak-ng runs in a fresh helper process per narration: see the comment in its main.c.
        .executableTarget(name: "prostudio-espeak", path: "CShims/EspeakHelper", linkerSettings: [.linkedLibrary("espeak-ng")]),

        // What a user writes: manifest model, parsing, validation, precise errors.
        .target(name: "Manifest", dependencies: [.product(name: "Yams", package: "Yams")], path: "Sources/Manifest"),
        // libav* wrapped: encode, filter graphs, probe, images. No raw pointer leaves this module.
        .target(name: "Media", dependencies: ["CFFmpeg"], path: "Sources/Media"),
        // Stage engines: speech, visuals, music (embedded ones here; model engines build on TorchRuntime).
        .target(name: "Engines", dependencies: ["Manifest", "Media"], path: "Sources/Engines"),
        // plan -> speech -> visuals -> music -> compose -> publish, with the stage cache and the sidecar.
        .target(name: "Pipeline", dependencies: [
            "Manifest", "Media", "Engines", .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/Pipeline"),
        .executableTarget(name: "prostudio", dependencies: [
            "Manifest", "Pipeline", "Media",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ], path: "Sources/CLI"),

        .testTarget(name: "ManifestTests", dependencies: ["Manifest"], path: "Tests/ManifestTests"),
        .testTarget(name: "MediaTests", dependencies: ["Media"], path: "Tests/MediaTests"),
        .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Manifest", "Media", "Engines", "prostudio-espeak"], path: "Tests/PipelineTests"),
    ],
    swiftLanguageModes: [.v6],
    cxxLanguageStandard: .cxx17
)
