import Foundation
import Spawn
import Testing

/// The helper runner (the espeak helper goes through it): megabytes on stdout and stderr at once, interleaved, while
/// its input is still being written, must all arrive with the exit status; the naive order (write stdin, read
/// stdout to EOF, then stderr) deadlocks on this child as soon as one pipe fills.
@Suite struct ChildProcessTests {
    @Test func megabytesOnBothOutputsInterleavedArriveWholeWithTheStatus() throws {
        // 4 MiB to each output, 64 KiB at a time alternating, before reading a byte of its 1 MiB input; then it
        // echoes the input's size and exits 7.
        let script = """
            i=0
            while [ $i -lt 64 ]; do
              head -c 65536 /dev/zero | tr '\\0' o
              head -c 65536 /dev/zero | tr '\\0' e >&2
              i=$((i + 1))
            done
            n=$(wc -c | tr -d ' ')
            echo "in=$n"
            exit 7
            """
        let input = Data(repeating: 0x41, count: 1 << 20)
        let result = try ChildProcess.run("/bin/sh", arguments: ["-c", script], input: input)
        #expect(result.status == 7)
        let tail = String(decoding: result.stdout.suffix(20), as: UTF8.self)
        #expect(result.stdout.count == 64 * 65536 + "in=1048576\n".utf8.count, "\(result.stdout.count) \(tail)")
        #expect(tail.hasSuffix("in=1048576\n"))
        #expect(result.stderr.count == 64 * 65536 && result.stderr.allSatisfy { $0 == UInt8(ascii: "e") })
    }

    @Test func aChildThatNeverReadsItsInputDoesNotKillTheCaller() throws {
        // 4 MiB of input to a child that exits at once: EPIPE here, never SIGPIPE.
        let result = try ChildProcess.run("/bin/sh", arguments: ["-c", "echo bye >&2; exit 3"], input: Data(count: 4 << 20))
        #expect(result.status == 3 && String(decoding: result.stderr, as: UTF8.self) == "bye\n")
    }

    @Test func aSignalIsReportedAsAShellWould() throws {
        let result = try ChildProcess.run("/bin/sh", arguments: ["-c", "kill -9 $$"])
        #expect(result.status == 128 + 9)
        #expect(throws: ChildProcess.Failure.self) { try ChildProcess.run("/nonexistent/helper") }
    }

    @Test func theSpawnerRunsInTheFolderAskedAndMergesStderrIntoStdout() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("spawn-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let child = try Spawner.start("/bin/sh", arguments: ["-c", "pwd; echo to-stderr >&2; exit 4"], stdin: .null,
                                      stdout: .pipe, stderr: .toStdout, directory: dir.path)
        let fd = try #require(child.stdout)
        #expect(child.stdin == nil && child.stderr == nil)
        let out = FileHandle(fileDescriptor: fd, closeOnDealloc: true).readDataToEndOfFile()
        #expect(Spawner.wait(child.pid) == 4)
        #expect(String(decoding: out, as: UTF8.self) == "\(dir.resolvingSymlinksInPath().path)\nto-stderr\n")
        #expect(throws: Spawner.Failure.self) { try Spawner.start("/bin/true", directory: dir.path + "/missing") }
    }

    /// The supervisor traps SIGTERM (ignored, handled on a dispatch source); a worker it starts must still die of one.
    @Test func aChildOfAParentThatTrapsSIGTERMStartsWithTheDefault() throws {
        let trap = SignalTrap([SIGTERM]) { _ in }
        defer { trap.cancel(); signal(SIGTERM, SIG_DFL) }
        // A shell that inherits an ignored SIGTERM cannot be killed by it, and would sleep on and exit 0.
        let result = try ChildProcess.run("/bin/sh", arguments: ["-c", "kill -TERM $$; sleep 3; exit 0"])
        #expect(result.status == 128 + SIGTERM)
    }
}
