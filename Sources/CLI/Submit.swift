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
            sees half of it.
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
        if !noValidate {
            do { _ = try Pipeline.validate(manifestPath: source) } catch { exitWith("prostudio: \(error.message)", code: error.exitCode) }
        }
        let target = inbox + "/" + entry
        if FileManager.default.fileExists(atPath: target) {
            exitWith("prostudio: \(target) is already waiting in the inbox", code: 1)
        }
        let temp = inbox + "/.\(entry).submit-\(getpid()).tmp"
        do {
            try FileManager.default.copyItem(atPath: source, toPath: temp)
            if !isDir.boolValue, let fd = Optional(open(temp, O_RDONLY)), fd >= 0 { fsync(fd); close(fd) }
        } catch {
            try? FileManager.default.removeItem(atPath: temp)
            exitWith("prostudio: cannot copy into \(inbox): \(error.localizedDescription)", code: 1)
        }
        guard rename(temp, target) == 0 else {
            let e = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temp)
            exitWith("prostudio: cannot place \(target): \(e)", code: 1)
        }
        print(target)
    }
}
