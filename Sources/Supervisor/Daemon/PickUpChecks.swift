import Foundation
import Intake
import Journal
import Manifest

/// What pick-up checks of an arrival's manifest before it is queued (`PickUp.validate`).
enum PickUpChecks {
    /// The manifest's own checks, then each asset's header against its field (no libav here: the worker's plan still
    /// decodes pictures, music and clips in full for what a header cannot show). A manifest that cannot be opened for a
    /// reason that is not its own (no file descriptor left, no memory) throws: pick-up retries it, it is not rejected.
    /// `models`: the packs folder the workers get; a pack the manifest names must be installed there (`PackCheck`).
    /// A manifest that passes is queued with its `priority`, `not_before` and the packs its worker will load (`ModelNeeds`).
    static func validate(defaults: ManifestDefaults?, access: FolderAccess?, models: String) -> @Sendable (String, Job) throws -> PickUpVerdict {
        { path, job in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 {
                let e = errno
                if [EMFILE, ENFILE, ENOMEM, EACCES, EIO, EINTR].contains(e) { throw IntakeError.syscall("open", path: path, errno: e) }
            } else {
                close(fd)
            }
            if let marker = crashMarker, let data = FileManager.default.contents(atPath: path),
               String(decoding: data, as: UTF8.self).contains(marker) {
                fatalError("PROSTUDIO_TEST_CRASH_ON matched \(path): crashing on purpose (tests of the pick-up quarantine)")
            }
            do throws(ManifestErrors) {
                let manifest = try ManifestLoader.load(path: path, displayName: job.sourcePath, defaults: defaults, access: access)
                let problems = AssetHeaderCheck.problems(in: manifest, file: job.sourcePath)
                    + PackCheck.problems(in: manifest, models: models, file: job.sourcePath)
                if !problems.isEmpty { throw ManifestErrors(errors: problems) }
                return .queue(QueueOrder(priority: manifest.priority, notBefore: manifest.notBefore,
                                         packs: ModelNeeds.packs(for: manifest, models: models)))
            } catch {
                return .reject(JobError(code: error.first.code.rawValue, message: error.description, field: error.first.field))
            }
        }
    }

    /// Tests only (unset in production): a manifest holding this text crashes the supervisor as pick-up reads it, so the
    /// quarantine of such arrivals is tested against a real crash that no decoder fix can take away.
    static let crashMarker: String? = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_CRASH_ON"].flatMap { $0.isEmpty ? nil : $0 }
}
