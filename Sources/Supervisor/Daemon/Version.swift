/// The release, in one place: `prostudio --version` and `prostudio-daemon --version` print it. A constant edited by
/// hand at each release, because a source tarball has no git history for `git describe`.
public enum ProStudioVersion {
    public static let current = "0.15.0"
}
