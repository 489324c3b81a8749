import Foundation
import Testing
import Watcher

@Suite struct WatcherTests {
    @Test func aRenamedManifestIsTakenAtOnceAndItsTempNameNever() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        box.drop("promo.yaml")
        let arrivals = await got.wait(for: 1)
        #expect(arrivals.map(\.name) == ["promo.yaml"])
        #expect(arrivals.first?.trigger == .movedIn && arrivals.first?.kind == .file)
        #expect(await got.settle().count == 1)
        watcher.stop()
    }

    @Test func aSlowWriterIsNotTakenEarly() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        let path = box.inbox + "/slow.yaml"
        let pieces = ["title: slow\n", "scenes:\n", "  - text: one\n", "  - text: two\n"]
        await onThread {
            // One descriptor held open across pauses longer than the settle interval: no close, no arrival.
            let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            for piece in pieces {
                _ = piece.withCString { write(fd, $0, strlen($0)) }
                usleep(400_000)
            }
            close(fd)
        }
        let arrivals = await got.wait(for: 1)
        #expect(arrivals.map(\.name) == ["slow.yaml"])
        #expect([.settled, .scanned].contains(arrivals.first?.trigger))
        // When reported, the file was complete.
        #expect(try String(contentsOfFile: path, encoding: .utf8) == pieces.joined())
        #expect(await got.settle().count == 1)
    }

    @Test func appendsDuringTheSettleIntervalDelayTheArrival() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: .init(settle: .milliseconds(600)))
        let got = Recorder(watcher.arrivals)
        let path = box.inbox + "/pieces.yaml"
        let closes = Items<ContinuousClock.Instant>()
        await onThread {
            // Open-append-close in pieces, 150 ms apart: each close is a hint, each new write cancels it.
            for n in 0..<5 {
                let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
                _ = "line \(n)\n".withCString { write(fd, $0, strlen($0)) }
                close(fd)
                closes.append(.now)
                usleep(150_000)
            }
        }
        let arrivals = await got.wait(for: 1)
        #expect(arrivals.count == 1)
        if let a = arrivals.first, let last = closes.all.last { #expect(a.detectedAt > last) }
        #expect(await got.settle().count == 1)
    }

    @Test func hiddenTempAndOtherNamesAreIgnored() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        for name in [".hidden.yaml", "draft.yaml.tmp", "upload.json.part", "movie.mp4", "notes.yaml~"] {
            box.write(box.inbox + "/" + name)
        }
        box.mkdir(box.inbox + "/.staging")
        box.write(box.inbox + "/.staging/manifest.yaml")
        box.drop("real.json", "{}")
        _ = await got.wait(for: 1)
        #expect(await got.settle().map(\.name) == ["real.json"])
    }

    @Test func aFolderMovedInIsTakenWhole() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        let staging = box.inbox + "/.promo.tmp"
        box.mkdir(staging + "/images")
        box.write(staging + "/manifest.yaml")
        box.write(staging + "/images/a.png", "png")
        #expect(rename(staging, box.inbox + "/promo") == 0)
        let arrivals = await got.wait(for: 1)
        #expect(arrivals.map(\.name) == ["promo"])
        #expect(arrivals.first?.kind == .folder && arrivals.first?.trigger == .movedIn)
        #expect(await got.settle().count == 1)
    }

    @Test func aFolderCreatedInPlaceIsTakenWhenQuiet() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        let folder = box.inbox + "/show"
        let files = ["images/one.png", "images/two.png", "music/bed.wav", "show.yaml"]
        await onThread {
            box.mkdir(folder)
            usleep(300_000)  // an empty folder, then assets trickle in, the manifest among them
            box.mkdir(folder + "/images")
            box.mkdir(folder + "/music")
            for f in files {
                box.write(folder + "/" + f, String(repeating: "x", count: 1000))
                usleep(120_000)
            }
            // A big asset written through one descriptor with a pause: the folder must wait for its close.
            let fd = open(folder + "/music/late.wav", O_WRONLY | O_CREAT, 0o644)
            _ = "RIFF".withCString { write(fd, $0, 4) }
            usleep(600_000)
            _ = "data".withCString { write(fd, $0, 4) }
            close(fd)
        }
        let arrivals = await got.wait(for: 1)
        #expect(arrivals.map(\.name) == ["show"])
        // .scanned when the start-up scan saw the new folder before its IN_CREATE event: the same path after that.
        #expect(arrivals.first?.kind == .folder && [.folderSettled, .scanned].contains(arrivals.first?.trigger))
        #expect(try String(contentsOfFile: folder + "/music/late.wav", encoding: .utf8) == "RIFFdata")
        #expect(await got.settle().count == 1)
    }

    @Test func aFolderWithoutAManifestWaits() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        box.mkdir(box.inbox + "/assets-only")
        box.write(box.inbox + "/assets-only/a.png", "png")
        #expect(await got.settle(.milliseconds(800)).isEmpty)
        box.write(box.inbox + "/assets-only/manifest.yaml")
        #expect(await got.wait(for: 1).map(\.name) == ["assets-only"])
    }

    @Test func entriesPresentAtStartAreTakenExactlyOnce() async throws {
        let box = Sandbox()
        for n in 0..<5 { box.drop("early\(n).yaml") }
        box.mkdir(box.inbox + "/folder")
        box.write(box.inbox + "/folder/manifest.md", "# A script\n")
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let got = Recorder(watcher.arrivals)
        box.drop("late.yaml")  // lands while the start-up scan may be running
        _ = await got.wait(for: 7)
        let names = await got.settle().map(\.name)
        #expect(names.sorted() == ["early0.yaml", "early1.yaml", "early2.yaml", "early3.yaml", "early4.yaml", "folder", "late.yaml"])
    }

    @Test func manifestRulesForFolders() throws {
        let box = Sandbox()
        let f = box.inbox + "/promo"
        box.mkdir(f)
        #expect(InboxRules.manifest(inFolder: f) == .none)
        box.write(f + "/readme.md"); box.write(f + "/script.yaml")
        #expect(InboxRules.manifest(inFolder: f) == .ambiguous(["readme.md", "script.yaml"]))
        box.write(f + "/promo.json", "{}")
        #expect(InboxRules.manifest(inFolder: f) == .found("promo.json"))
        box.write(f + "/manifest.yaml")
        #expect(InboxRules.manifest(inFolder: f) == .found("manifest.yaml"))
        #expect(InboxRules.isManifestName("a.YAML") && !InboxRules.isManifestName(".a.yaml") && !InboxRules.isManifestName("a.yaml.part"))
    }

    @Test func stoppingFinishesTheStream() async throws {
        let box = Sandbox()
        let watcher = try InboxWatcher(inbox: box.inbox, options: fastSettle)
        let done = Task { for await _ in watcher.arrivals {}; return true }
        watcher.stop()
        watcher.stop()
        #expect(await done.value)
        #expect(throws: InboxWatcher.Failure.self) { try InboxWatcher(inbox: box.root + "/missing") }
    }
}

@Suite struct FileBellTests {
    @Test func ringsWhenItsFileIsClosedAfterWritingOnly() async throws {
        let box = Sandbox()
        let bell = try FileBell(folder: box.state, name: "requests.bell")
        let rings = Recorder(bell.rings)
        box.write(box.state + "/journal.sqlite3-wal", "x")  // other files in the folder do not ring
        #expect(await rings.settle(.milliseconds(300)).isEmpty)
        let fd = open(box.state + "/requests.bell", O_WRONLY | O_CREAT, 0o664)  // what JournalClient does
        close(fd)
        #expect(await rings.wait(for: 1).count == 1)
        bell.stop()
    }
}
