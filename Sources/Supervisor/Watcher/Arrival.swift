import Contract
import Foundation

/// Something complete that appeared in the inbox: a manifest file, or a job folder (manifest + assets).
/// The watcher only reports; pick-up re-checks the entry when it takes it (it may be gone by then).
public struct Arrival: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable { case file, folder }

    /// Why the watcher judged the entry complete.
    public enum Trigger: String, Sendable {
        /// Renamed into the inbox in whole (IN_MOVED_TO): complete at once.
        case movedIn
        /// Closed after writing, then unchanged (size, mtime, inode) for the settle interval.
        case settled
        /// A folder created in place whose manifest was closed and where nothing changed for the settle interval.
        case folderSettled
        /// Found by the start-up scan (or a rescan after an inotify queue overflow), then settled.
        case scanned
    }

    public let kind: Kind
    /// The entry's name in the inbox.
    public let name: String
    /// The entry's full path.
    public let path: String
    public let trigger: Trigger
    public let detectedAt: ContinuousClock.Instant

    public init(kind: Kind, name: String, path: String, trigger: Trigger, detectedAt: ContinuousClock.Instant = .now) {
        self.kind = kind; self.name = name; self.path = path; self.trigger = trigger; self.detectedAt = detectedAt
    }

    public var description: String { "\(kind.rawValue) \(name) (\(trigger.rawValue))" }
}

/// Which inbox names count: the rules the watcher and pick-up share, which are the contract's folder rule
/// (`ManifestFolder`, Docs/contract.md) plus the job-name limits.
public enum InboxRules {
    public static let manifestExtensions = ManifestFolder.manifestExtensions

    /// Hidden files and temp names are never taken: writers use them on the way to the real name.
    public static func isIgnored(_ name: String) -> Bool { ManifestFolder.isIgnored(name) }

    /// `NAME.yaml|yml|json|txt|md`, not hidden, not temp.
    public static func isManifestName(_ name: String) -> Bool { ManifestFolder.isManifestName(name) }

    /// The longest job NAME, in bytes. Outputs are `NAME.mp4`, `NAME.json`, ... and each is written through a temp
    /// `.NAME.json.PID.tmp` (NAME + 18 bytes with a 7-digit PID): 200 leaves room under the usual 255-byte limit
    /// (F3: a 250-character name ended `done` with no sidecar).
    public static let maxNameBytes = 200

    /// A name that fits: the first bytes of `name` (whole characters) and a short hash of the rest.
    public static func shortened(_ name: String, hash: String) -> String {
        guard name.utf8.count > maxNameBytes else { return name }
        var prefix = ""
        for ch in name {
            if prefix.utf8.count + String(ch).utf8.count > maxNameBytes - 10 { break }
            prefix.append(ch)
        }
        return prefix + "~" + String(hash.prefix(8))
    }

    /// The job name a manifest file gives: its name without the extension.
    public static func jobName(forFile name: String) -> String { ManifestFolder.jobName(forFile: name) }

    public typealias FolderManifest = ManifestFolder.Found

    /// The manifest of a job folder: the contract's one rule (`ManifestFolder.find`).
    public static func manifest(inFolder path: String) -> FolderManifest { ManifestFolder.find(in: path) }

    /// A ProStudio sidecar, never a manifest (`ManifestFolder.isSidecar`).
    public static func isSidecar(_ path: String) -> Bool { ManifestFolder.isSidecar(path) }
}
