import Foundation

/// A job folder as an in-memory ustar archive, as `prostudio submit --api` and the MCP server send one (regular
/// files and folders; links are refused, as the server would).
public enum TarWriter {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    public static func folder(_ root: String) throws -> [UInt8] {
        let top = (root as NSString).lastPathComponent
        var out: [UInt8] = []
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw Failure(description: "cannot list the folder") }
        var entries: [String] = []
        while let rel = walker.nextObject() as? String { entries.append(rel) }
        for rel in entries.sorted() {
            var st = stat()
            guard lstat(root + "/" + rel, &st) == 0 else { continue }
            switch st.st_mode & S_IFMT {
            case S_IFDIR: continue
            case S_IFREG:
                guard let data = FileManager.default.contents(atPath: root + "/" + rel) else { throw Failure(description: "\(rel) cannot be read") }
                out += try header(top + "/" + rel, size: data.count) + Array(data)
                out += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
            default: throw Failure(description: "\(rel) is not a plain file (links are not sent)")
            }
        }
        return out + [UInt8](repeating: 0, count: 1024)
    }

    static func header(_ path: String, size: Int) throws -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int, _ len: Int) { for (i, b) in s.utf8.prefix(len).enumerated() { h[at + i] = b } }
        var name = path, prefix = ""
        if name.utf8.count > 100 {
            guard let slash = path.utf8.indices.last(where: { path.utf8[$0] == UInt8(ascii: "/") && path.utf8.distance(from: path.utf8.startIndex, to: $0) <= 155 }) else {
                throw Failure(description: "\(path): the name is too long for a tar entry")
            }
            prefix = String(path[..<slash]); name = String(path[path.index(after: slash)...])
            guard name.utf8.count <= 100 else { throw Failure(description: "\(path): the name is too long for a tar entry") }
        }
        put(name, 0, 100)
        put("0000644\0", 100, 8); put("0000000\0", 108, 8); put("0000000\0", 116, 8)
        put(String(format: "%011o\0", size), 124, 12)
        put(String(format: "%011o\0", Int(Date().timeIntervalSince1970)), 136, 12)
        put("        ", 148, 8)
        h[156] = UInt8(ascii: "0")
        put("ustar\0", 257, 6); put("00", 263, 2)
        put(prefix, 345, 155)
        let sum = h.reduce(0) { $0 + Int($1) }
        put(String(format: "%06o\0 ", sum), 148, 8)
        return h
    }
}
