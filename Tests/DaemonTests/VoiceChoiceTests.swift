import Contract
import Daemon
import Foundation
import Journal
import Testing
import TestSupport

/// Issue 24 (item 5): the sidecar and `jobs show` say which voice read the script and why.
@Suite(.serialized) struct VoiceChoiceTests {
    @Test func aFrenchScriptsSidecarAndJobsShowSayTheVoiceAndWhy() async throws {
        let f = Folders()
        let daemon = Daemon(config: f.config)
        let running = Task { try await daemon.run(handleSignals: false) }
        // A small draft picture (front matter), the voice left to the language detection.
        f.drop("bonjour.md", "---\noutput: {height: 240, fps: 15, quality: draft}\n---\n"
               + "Le marché de la ville ouvre à huit heures. Les habitants y viennent pour acheter du pain et des légumes.\n")
        f.drop("hello.yaml", tinyManifest)
        let fr = try #require(try await waitFor(f) { $0.name == "bonjour" && $0.state.isFinal })
        let en = try #require(try await waitFor(f) { $0.name == "hello" && $0.state.isFinal })
        #expect(fr.state == .done && en.state == .done)

        let sidecar = try await sidecarOnce(f, "bonjour", .done)
        // No French neural pack in this daemon's models folder: auto says it fell back to espeak-ng, and why.
        #expect(sidecar.voice_choice == "voice fr: the script reads as French; engine auto chose espeak: no neural voice pack for fr is installed (`prostudio models install --list`)",
                "\(sidecar.voice_choice ?? "nil")")
        #expect(sidecar.engines["speech"]?.isEmpty == false)
        let told = try await sidecarOnce(f, "hello", .done)
        #expect(told.voice_choice?.hasPrefix("voice en-us (engine espeak): as the manifest") == true, "\(told.voice_choice ?? "nil")")

        let shown = try await runCLI(["jobs", "show", fr.id.rawValue, "--state", f.root + "/state"])
        #expect(shown.status == 0 && shown.out.contains("voice     voice fr: the script reads as French; engine auto chose espeak") && shown.out.contains("spoken by "), "\(shown.out)")
        daemon.shutdown()
        try await running.value
    }
}
