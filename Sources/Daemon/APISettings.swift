import Foundation

/// The HTTP API's settings (`api:` in the config, `--api ADDR` on the command line). Off unless `listen` is set.
public struct APISettings: Sendable, Equatable {
    /// `HOST:PORT` (`127.0.0.1:8470`, `[::1]:8470`, `0.0.0.0:8470`); nil: no API.
    public var listen: String?
    /// A file holding the bearer token (`api.token_file`). Required to listen beyond loopback.
    public var tokenFile: String?
    /// Largest request body (`api.max_body_mb`): a manifest, a multipart upload or an archive.
    public var maxBodyBytes = 256 << 20
    /// Most files in one upload besides the manifest (`api.max_assets`).
    public var maxAssets = 200
    /// Most bytes an archive may expand to (`api.max_expanded_mb`): the zip-bomb guard.
    public var maxExpandedBytes = 1 << 30
    /// `/readyz` fails when the state folder's filesystem has less free space than this (`api.min_free_mb`).
    public var minFreeBytes: Int64 = 512 << 20

    public init() {}

    struct File: Decodable {
        var listen: String?
        var token_file: String?
        var max_body_mb: Double?
        var max_assets: Int?
        var max_expanded_mb: Double?
        var min_free_mb: Double?
        /// The keys above, for the config's unknown-key check.
        static let keys = ["listen", "token_file", "max_body_mb", "max_assets", "max_expanded_mb", "min_free_mb"]
    }

    mutating func apply(_ f: File, path: String) throws {
        func mb(_ v: Double, _ key: String) throws -> Int {
            guard v > 0 else { throw DaemonConfig.Failure(path: path, message: "api.\(key) must be > 0") }
            return Int(v * 1_048_576)
        }
        if let v = f.listen { listen = v }
        if let v = f.token_file { tokenFile = v }
        if let v = f.max_body_mb { maxBodyBytes = try mb(v, "max_body_mb") }
        if let v = f.max_assets {
            guard v >= 0 else { throw DaemonConfig.Failure(path: path, message: "api.max_assets must be >= 0") }
            maxAssets = v
        }
        if let v = f.max_expanded_mb { maxExpandedBytes = try mb(v, "max_expanded_mb") }
        if let v = f.min_free_mb {
            guard v >= 0 else { throw DaemonConfig.Failure(path: path, message: "api.min_free_mb must be >= 0") }
            minFreeBytes = Int64(v * 1_048_576)
        }
    }
}
