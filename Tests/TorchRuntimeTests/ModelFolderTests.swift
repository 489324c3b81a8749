import Foundation
import Testing
import TorchRuntime

/// Where a user's packs live when no --models or $PROSTUDIO_MODELS says (issue 33: the demo installs the Piper
/// voice there, so a newcomer's first video is narrated by it).
struct ModelFolderTests {
    @Test func theUsersFolderFollowsXDG() {
        #expect(ModelStore.userRoot(["XDG_DATA_HOME": "/data/me", "HOME": "/home/me"]).path == "/data/me/prostudio/models")
        #expect(ModelStore.userRoot(["HOME": "/home/me"]).path == "/home/me/.local/share/prostudio/models")
        // A relative XDG_DATA_HOME is invalid by the spec and ignored.
        #expect(ModelStore.userRoot(["XDG_DATA_HOME": "data", "HOME": "/home/me"]).path == "/home/me/.local/share/prostudio/models")
    }
}
