import Daemon
import Foundation
import Journal
import Testing

/// Issue 27: a manifest naming a model pack that is not installed passed `validate` and failed `permanent` in the
/// daemon after speech, with a hint that installed another voice. It is refused at `validate` and rejected at pick-up,
/// naming the pack and the command that installs that very pack.
@Suite(.serialized) struct MissingPackTests {
    static let amy = "title: Amy\nvoice: {engine: piper, pack: amy-medium}\nscenes:\n  - narration: Hello there.\n"

    @Test func validateRefusesAMissingPiperOrVideoPackNamingItsInstallCommand() async throws {
        let f = Folders()
        let models = f.root + "/models"
        try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
        try Self.amy.write(toFile: f.root + "/amy.yaml", atomically: true, encoding: .utf8)
        let r = try await runCLI(["validate", f.root + "/amy.yaml", "--models", models])
        #expect(r.status == 2, "\(r.out)\(r.err)")
        #expect(r.err.contains("voice.pack") && r.err.contains("amy-medium"), "\(r.err)")
        #expect(r.err.contains("--name amy-medium --out \(models)/amy-medium"), "\(r.err)")
        #expect(!r.err.contains("models install joe-medium"), "the joe-medium installer offered for amy-medium: \(r.err)")

        // --json: the same problem with its code, for programs.
        let json = try await runCLI(["validate", "--json", f.root + "/amy.yaml", "--models", models])
        #expect(json.out.contains("\"manifest.pack_missing\""), "\(json.out)")

        // inbox.example/diffusion.yaml names tiny-video: refused before speech, with the command that writes it.
        let diffusion = "visuals: {engine: diffusion, pack: tiny-video}\nscenes: [Waves at sunset.]\n"
        try diffusion.write(toFile: f.root + "/d.yaml", atomically: true, encoding: .utf8)
        let d = try await runCLI(["validate", f.root + "/d.yaml", "--models", models])
        #expect(d.status == 2 && d.err.contains("visuals.pack") && d.err.contains("tiny-video")
                && d.err.contains("prostudio models install tiny-video --models \(models)"), "\(d.err)")

        // A missing music pack names its exporter.
        try "music: {engine: musicgen, pack: musicgen-small}\nscenes: [Hi.]\n".write(toFile: f.root + "/m.yaml", atomically: true, encoding: .utf8)
        let m = try await runCLI(["validate", f.root + "/m.yaml", "--models", models])
        #expect(m.status == 2 && m.err.contains("music.pack") && m.err.contains("export-musicgen --from CHECKPOINT --name musicgen-small"), "\(m.err)")

        // The default voice (auto) falls back to espeak-ng without its pack: not refused.
        try "voice: {engine: auto}\nscenes: [Hi.]\n".write(toFile: f.root + "/auto.yaml", atomically: true, encoding: .utf8)
        let auto = try await runCLI(["validate", f.root + "/auto.yaml", "--models", models])
        #expect(auto.status == 0, "\(auto.err)")

        // Installed (a folder with its pack.json of that kind): valid.
        try FileManager.default.createDirectory(atPath: models + "/amy-medium", withIntermediateDirectories: true)
        try #"{"name": "amy-medium", "kind": "speech"}"#.write(toFile: models + "/amy-medium/pack.json", atomically: true, encoding: .utf8)
        let ok = try await runCLI(["validate", f.root + "/amy.yaml", "--models", models])
        #expect(ok.status == 0, "\(ok.err)")
    }

    @Test func pickUpRejectsAMissingPiperPackNamingIt() async throws {
        let f = Folders()
        var config = f.config
        config.models = f.root + "/models"
        try FileManager.default.createDirectory(atPath: f.root + "/models", withIntermediateDirectories: true)
        let daemon = Daemon(config: config)
        let running = Task { try await daemon.run(handleSignals: false) }
        f.drop("amy.yaml", Self.amy)
        let job = try #require(try await waitFor(f, timeout: .seconds(60)) { $0.name == "amy" && $0.state.isFinal })
        #expect(job.state == .rejected, "\(job.state) \(job.error?.message ?? "")")
        #expect(job.error?.code == "manifest.pack_missing" && job.error?.field == "voice.pack")
        #expect(job.error?.message.contains("amy-medium") == true && job.error?.message.contains("--name amy-medium") == true,
                "\(job.error?.message ?? "")")
        daemon.shutdown()
        try await running.value
    }
}
