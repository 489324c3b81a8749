import ArgumentParser
import Foundation
import Pipeline
import Watcher

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place a manifest (or a job folder) in the inbox atomically.",
        discussion: """
            The manifest is validated first (exit 2 when invalid, as `prostudio validate`), copied under a hidden
            temporary name inside the inbox, then renamed into place, so the daemon takes it at once and never
            sees half of it. A single manifest that names assets (scene images or clips, a music file) goes in as a
            job folder NAME/ holding the manifest and those files at the same relative paths.
            """)

    @Argument(help: "A manifest (.yaml, .yml, .json, .txt, .md) or a folder holding one with its assets.")
    var manifest: String

    @Option(help: "The daemon's inbox.")
    var inbox: String = "/var/lib/prostudio/inbox"

    @Option(help: "Name in the inbox (default: the manifest's own name); outputs are named after it.")
    var name: String?

    @Flag(help: "Skip validation.")
    var noValidate = false

    @OptionGroup var remote: RemoteOptions

    func run() async throws {
        if let api = remote.client { api.submit(path: (manifest as NSString).standardizingPath, name: name) }  // POST /v1/jobs
        let source = (manifest as NSString).standardizingPath
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDir) else {
            exitWith("prostudio: \(manifest): no such file or folder", code: 2)
        }
        let entry = name ?? (source as NSString).lastPathComponent
        if !isDir.boolValue && !InboxRules.isManifestName(entry) {
            exitWith("prostudio: \(entry): a manifest is named NAME.yaml, .yml, .json, .txt or .md (not hidden, not .tmp/.part)", code: 2)
        }
        if isDir.boolValue && InboxRules.isIgnored(entry) {
            exitWith("prostudio: \(entry): hidden or temporary names are ignored by the daemon; pass --name", code: 2)
        }
        var assets: [String] = []
        if !noValidate {
            do { assets = try Pipeline.validate(manifestPath: source).assetPaths } catch { exitWith("prostudio: \(error.message)", code: error.exitCode) }
        } else if !isDir.boolValue {
            // Unvalidated: its assets still travel when it reads; one that does not is sent as it is (the daemon rejects it).
            assets = (try? Pipeline.validate(manifestPath: source).assetPaths) ?? []
        }
        // A single manifest naming assets travels as a job folder with them (the daemon resolves assets from the
        // manifest's folder, which for a lone manifest in the inbox holds nothing of the user's).
        if !isDir.boolValue && !assets.isEmpty {
            let folderName = name.map { ($0 as NSString).deletingPathExtension } ?? (entry as NSString).deletingPathExtension
            if InboxRules.isIgnored(folderName) || folderName.isEmpty {
                exitWith("prostudio: \(folderName): hidden or temporary names are ignored by the daemon; pass --name", code: 2)
            }
            place(folder: folderName) { temp in
                try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: false)
                try FileManager.default.copyItem(atPath: source, toPath: temp + "/" + (source as NSString).lastPathComponent)
                let base = ((source as NSString).deletingLastPathComponent as NSString).standardizingPath
                for asset in assets {
                    let full = (asset as NSString).standardizingPath
                    guard full.hasPrefix(base + "/") else {
                        throw SubmitFailure(message: "\(asset) is outside the manifest's folder \(base)")
                    }
                    let relative = String(full.dropFirst(base.count + 1))
                    let target = temp + "/" + relative
                    try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(atPath: full, toPath: target)
                }
            }
            return
        }
        place(folder: entry) { temp in
            try FileManager.default.copyItem(atPath: source, toPath: temp)
            if !isDir.boolValue, let fd = Optional(open(temp, O_RDONLY)), fd >= 0 { fsync(fd); close(fd) }
        }
    }

    struct SubmitFailure: Error, CustomStringConvertible { var message: String; var description: String { message } }

    /// Fills a hidden temporary entry inside the inbox (the daemon ignores it), then renames it to `entry` in one
    /// step, so the daemon sees all of it or nothing.
    private func place(folder entry: String, fill: (String) throws -> Void) {
        let target = inbox + "/" + entry
        if FileManager.default.fileExists(atPath: target) {
            exitWith("prostudio: \(target) is already waiting in the inbox", code: 1)
        }
        let temp = inbox + "/.\(entry).submit-\(getpid()).tmp"
        do {
            try fill(temp)
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            let reason = (error as? SubmitFailure)?.message ?? error.localizedDescription
            exitWith("prostudio: cannot copy into \(inbox): \(reason)", code: 1)
        }
        guard rename(temp, target) == 0 else {
            let e = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            exitWith("prostudio: cannot place \(target): \(e)", code: 1)
        }
        print(target)
    }
}
