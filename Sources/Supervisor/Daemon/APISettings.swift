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
    /// Most times an archive entry may expand its compressed bytes (`api.max_expansion_ratio`), past 1 MiB.
    public var maxExpansionRatio = 100
    /// A connection that has not sent a whole request header this long after it opened, or after its last
    /// answer, is closed (`api.header_timeout_s`): slow-header clients cannot hold connections.
    public var headerTimeout: Duration = .seconds(10)
    /// A connection whose request body stops arriving this long is closed (`api.idle_timeout_s`); between requests
    /// the header time-out applies, so an idle keep-alive connection lasts `headerTimeout`.
    public var idleTimeout: Duration = .seconds(60)
    /// Most open API connections (`api.max_connections`); nil: the process's open-file limit less a reserve for
    /// the daemon's own files. Never more than that either way.
    public var maxConnections: Int?
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
        var max_expansion_ratio: Int?
        var header_timeout_s: Double?
        var idle_timeout_s: Double?
        var max_connections: Int?
        /// The keys above, for the config's unknown-key check.
        static let keys = ["listen", "token_file", "max_body_mb", "max_assets", "max_expanded_mb", "min_free_mb",
                           "max_expansion_ratio", "header_timeout_s", "idle_timeout_s", "max_connections"]
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
        if let v = f.max_expansion_ratio {
            guard v >= 1 else { throw DaemonConfig.Failure(path: path, message: "api.max_expansion_ratio must be >= 1") }
            maxExpansionRatio = v
        }
        func seconds(_ v: Double, _ key: String) throws -> Duration {
            guard v > 0, v <= 86_400 else { throw DaemonConfig.Failure(path: path, message: "api.\(key) must be > 0 and at most 86400 seconds") }
            return .milliseconds(Int64(v * 1000))
        }
        if let v = f.header_timeout_s { headerTimeout = try seconds(v, "header_timeout_s") }
        if let v = f.idle_timeout_s { idleTimeout = try seconds(v, "idle_timeout_s") }
        if let v = f.max_connections {
            guard v >= 1 else { throw DaemonConfig.Failure(path: path, message: "api.max_connections must be >= 1") }
            maxConnections = v
        }
        if let v = f.min_free_mb {
            guard v >= 0 else { throw DaemonConfig.Failure(path: path, message: "api.min_free_mb must be >= 0") }
            minFreeBytes = Int64(v * 1_048_576)
        }
    }
}
