// The archive reader and the multipart parser are internal to API: `@testable import` reaches them without making
// them public. Testability is on in debug builds only (what CI builds), so a release build leaves these targets out.
import Foundation
#if DEBUG
@testable import API
#endif

extension Targets {
    #if DEBUG
    static let apiTargets: [FuzzTarget] = [tar, zip, multipart]

    static let limits = Upload.Limits(maxBodyBytes: 1 << 20, maxAssets: 100, maxExpandedBytes: 4 << 20, maxExpansionRatio: 100)

    /// Archives are read from a file and unpacked to disk (as an upload is): each input gets a fresh folder, on
    /// /dev/shm where there is one so the disk does not set the pace, removed after.
    static func onDisk(_ input: [UInt8], _ body: (String, FileSet) throws -> Void) {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let root = base + "/prostudio-fuzz-\(getpid())"
        try? FileManager.default.removeItem(atPath: root)
        try? FileManager.default.createDirectory(atPath: root + "/out", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let file = root + "/body"
        guard FileManager.default.createFile(atPath: file, contents: Data(input)) else { return }
        try? body(file, FileSet(root: root + "/out", limits: limits))
    }

    /// `Archive.untar` on a POSTed body: ustar, GNU long names, pax paths; sizes are octal text.
    static let tar = FuzzTarget(name: "tar", shape: InputShape(text: false, tokens: ["ustar", "././@LongLink"],
                                                            markers: [Array("ustar".utf8)])) {
        { input in
            onDisk(input) { file, files in
                let fd = open(file, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { return }
                defer { close(fd) }
                try Archive.untar(fd: fd, length: input.count, into: files)
            }
        }
    }

    /// `Archive.unzip` (ZIPFoundation underneath), ZIP64 included: sizes and offsets sit after the headers' magic
    /// and after the ZIP64 extra field's tag (0x0001).
    static let zip = FuzzTarget(name: "zip", shape: InputShape(text: false, markers: [
        Array("PK\u{1}\u{2}".utf8), Array("PK\u{3}\u{4}".utf8), Array("PK\u{5}\u{6}".utf8), Array("PK\u{6}\u{6}".utf8),
        Array("PK\u{6}\u{7}".utf8), [0x01, 0x00],
    ])) {
        { input in
            onDisk(input) { file, files in try Archive.unzip(path: file, length: input.count, into: files) }
        }
    }

    /// `Multipart.parse`: the input's first line is the request's Content-Type, the rest its body.
    static let multipart = FuzzTarget(name: "multipart", shape: InputShape(text: true, tokens: [
        "\r\n", "\r\n\r\n", "--", "--b\r\n", "\r\n--b--", "Content-Disposition: form-data; name=\"manifest\"; filename=\"m.yaml\"\r\n",
        "Content-Type: ", "boundary=", "; filename=\"../x\"", "name=\"", "\\\"",
    ])) {
        { input in
            let newline = input.firstIndex(of: 0x0A) ?? input.endIndex
            let contentType = String(decoding: input[..<newline], as: UTF8.self)
            let body = Array(input[min(newline + 1, input.endIndex)...])
            if let boundary = Multipart.boundary(contentType) { _ = try? Multipart.parse(body, boundary: boundary) }
        }
    }
    #else
    static let apiTargets: [FuzzTarget] = []
    #endif
}
