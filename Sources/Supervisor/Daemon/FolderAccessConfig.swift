import Manifest

extension DaemonConfig {
    /// What an API manifest may name as a library folder: its own upload and `library.folders`, always.
    public var apiFolderAccess: FolderAccess { FolderAccess(allowed: libraryFolders) }

    /// The same for inbox manifests, unless `library.inbox_any_folder` lets them name any folder (nil).
    public var inboxFolderAccess: FolderAccess? { libraryInboxAnyFolder ? nil : apiFolderAccess }
}
