import Foundation
import Intake
import Journal
import Testing
import Watcher

/// A status sidecar as `prostudio render` (default `-o .`) leaves it beside the script.
let renderSidecar = """
    {"name": "fortunes", "job_id": "06h4abc-1f2e", "state": "done", "progress": 1, "duration_s": 14.5,
     "outputs": {"video": "fortunes.mp4", "captions": "fortunes.srt"}, "stages": {}}
    """

/// Issue 27: `render`'s sidecar NAME.json beside NAME.txt was taken for the manifest, and a folder copied in place
/// (`cp -r`) holding two manifests was never reported, so never rejected, and nothing was logged.
@Suite struct SidecarAndAmbiguousTests {
    @Test func aRenderSidecarIsNeverAManifestCandidate() throws {
        let box = Sandbox()
        let f = box.inbox + "/fortunes"
        box.mkdir(f)
        box.write(f + "/fortunes.txt", "A fortune.\n\nAnother one.\n")
        box.write(f + "/fortunes.json", renderSidecar)
        #expect(InboxRules.manifest(inFolder: f) == .found("fortunes.txt"))
        // A JSON manifest of the same name is still a candidate (two of the same rank: ambiguous, not guessed).
        box.write(f + "/fortunes.json", #"{"title": "Fortunes", "scenes": ["Hi."]}"#)
        #expect(InboxRules.manifest(inFolder: f) == .ambiguous(["fortunes.json", "fortunes.txt"]))
    }

    @Test func aFolderCopiedInWithTwoManifestsIsRejectedAmbiguous() async throws {
        let box = Sandbox()
        let layout = StateLayout(inbox: box.inbox, state: box.state)
        try layout.prepare()
        let journal = try SQLiteJournal(path: layout.journal)
        let pickUp = PickUp(store: journal, layout: layout)
        // One already there at start (a restart finds it), one copied in place while the watcher runs (`cp -r`).
        box.mkdir(box.inbox + "/early")
        box.write(box.inbox + "/early/one.yaml", "scenes: [Hi.]\n")
        box.write(box.inbox + "/early/two.yaml", "scenes: [Hi.]\n")
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let outcomes = Items<PickUpOutcome>()
        let consumer = Task { await pickUp.consume(watcher.arrivals) { outcomes.append($0) } }
        await onThread {
            box.mkdir(box.inbox + "/copied")
            box.write(box.inbox + "/copied/script.txt", "Hello.\n")
            box.write(box.inbox + "/copied/notes.md", "# Notes\n")
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while outcomes.all.count < 2 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let rejected = outcomes.all.compactMap { if case .rejected(let j) = $0 { j } else { nil } }
        #expect(rejected.map(\.sourceName).sorted() == ["copied", "early"], "\(outcomes.all)")
        #expect(rejected.allSatisfy { $0.error?.code == "ambiguous_manifest" })
        #expect(rejected.first { $0.sourceName == "copied" }?.error?.message.contains("notes.md, script.txt") == true)
        watcher.stop()
        await consumer.value
    }
}
