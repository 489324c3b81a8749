import Foundation
import Journal
import Testing
import TestSupport

/// Issue 32: `jobs pause`, `jobs resume` and `jobs priority` file requests the daemon applies; `jobs list` and
/// `jobs show` say where a job stands in the queue.
@Suite struct QueueCLITests {
    /// Issue 31 item 6: the table is a screenful by default and says when there are more; --all and --json give all.
    @Test func theListShowsTheNewestFiftyAndSaysThereAreMore() async throws {
        let f = Folders()
        let journal = try SQLiteJournal(path: f.journal)
        for i in 0..<55 {
            let arrival = NewArrival(name: "job\(i)", sourceName: "job\(i).yaml", sourcePath: f.root + "/inbox/job\(i).yaml", sourceKind: .file, dedupKey: "k\(i)")
            _ = try await journal.claim(arrival)
        }
        let state = f.root + "/state"
        func rows(_ out: String) -> [Substring] { out.split(separator: "\n").filter { $0.contains(" job") && !$0.hasPrefix("ID ") } }
        let table = try await runCLI(["jobs", "--state", state])
        #expect(rows(table.out).count == 50 && table.out.contains("the newest 50 shown; --limit N or --all for more"), "\(table.out)")
        #expect(rows(table.out).first?.hasSuffix("job54") == true, "newest first: \(table.out.prefix(300))")
        let all = try await runCLI(["jobs", "list", "--all", "--state", state])
        #expect(rows(all.out).count == 55 && !all.out.contains("shown;"), "\(all.out)")
        let five = try await runCLI(["jobs", "list", "--limit", "5", "--state", state])
        #expect(rows(five.out).count == 5 && five.out.contains("the newest 5 shown"), "\(five.out)")
        let json = try await runCLI(["jobs", "list", "--json", "--state", state])
        #expect(json.out.components(separatedBy: "\"name\" : \"job").count - 1 == 55, "\(json.out.prefix(300))")
        let both = try await runCLI(["jobs", "list", "--all", "--limit", "3", "--state", state])
        #expect(both.status != 0 && both.err.contains("--all and --limit"), "\(both.err)")
    }

    @Test func pausePriorityAndTheQueueShownInListAndShow() async throws {
        let f = Folders()
        let journal = try SQLiteJournal(path: f.journal)
        let arrival = NewArrival(name: "later", sourceName: "later.yaml", sourcePath: f.root + "/inbox/later.yaml", sourceKind: .file, dedupKey: "l")
        let (job, _) = try await journal.claim(arrival)
        let at = Date(timeIntervalSince1970: 4_102_444_800)  // 2100-01-01
        _ = try await journal.markQueued(job.id, manifestPath: f.root + "/state/jobs/\(job.id)/later.yaml",
                                         order: QueueOrder(priority: 2, notBefore: at, packs: ["joe-medium"]))
        let state = f.root + "/state"

        // No daemon: the requests wait, and the CLI says so.
        let pause = try await runCLI(["jobs", "pause", "--state", state, "--wait", "0.2"])
        #expect(pause.status == 0 && pause.out.contains("pause: requested"), "\(pause.out)\(pause.err)")
        let priority = try await runCLI(["jobs", "priority", "later", "7", "--state", state, "--wait", "0.2"])
        #expect(priority.status == 0 && priority.out.contains("requested"), "\(priority.out)\(priority.err)")
        let bad = try await runCLI(["jobs", "priority", "later", "500", "--state", state])
        #expect(bad.status == 1 && bad.err.contains("PRIORITY must be a whole number from -100 to 100, got 500"), "\(bad.err)")

        // What the daemon does at its next bell.
        #expect(try await journal.applyPendingRequests() == [.queuePaused(true), .reprioritised(job.id, 7)])
        let list = try await runCLI(["jobs", "--state", state])
        #expect(list.out.hasPrefix("queue paused") && list.out.contains("jobs resume"), "\(list.out)")
        #expect(list.out.contains("[priority 7]") && list.out.contains("[not before 2100-01-01"), "\(list.out)")
        let show = try await runCLI(["jobs", "show", "later", "--state", state])
        #expect(show.out.contains("queue     priority 7; not before 2100-01-01T00:00:00.000Z; packs joe-medium"), "\(show.out)")
        let json = try await runCLI(["jobs", "show", "later", "--json", "--state", state])
        #expect(json.out.contains("\"priority\" : 7") && json.out.contains("\"packs\" : [\n    \"joe-medium\"\n  ]"), "\(json.out)")

        let resume = try await runCLI(["jobs", "resume", "--state", state, "--wait", "0.2"])
        #expect(resume.status == 0)
        #expect(try await journal.applyPendingRequests() == [.queuePaused(false)])
        #expect(try await !journal.queueState().paused)
    }
}
