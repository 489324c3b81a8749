import Foundation
import PostgresNIO

/// TLS to the journal's server, from the URL's libpq-style parameters (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`),
/// so a URL that works with `psql` works here and means the same.
///
/// | sslmode | encrypted | server checked |
/// | --- | --- | --- |
/// | `disable` | never | no |
/// | `allow`, `prefer` (the default, as libpq's) | when the server offers it | no |
/// | `require` | always (refused otherwise) | no |
/// | `verify-ca` | always | its certificate chains to `sslrootcert` (else the system's roots) |
/// | `verify-full` | always | as verify-ca, and the certificate names the URL's host |
///
/// A unix socket is never encrypted (the server does not offer TLS on one).
struct PostgresTLS: Equatable {
    enum Mode: String, CaseIterable { case disable, allow, prefer, require, verifyCA = "verify-ca", verifyFull = "verify-full" }

    var mode: Mode = .prefer
    var rootCertificate: String?
    var clientCertificate: String?
    var clientKey: String?

    /// Reads the parameters; an error names the parameter, what it got and what it takes.
    init(query: [String: String], host: String?) throws(TLSProblem) {
        if let text = query["sslmode"] {
            guard let mode = Mode(rawValue: text) else {
                throw TLSProblem("journal.url sslmode=\(text) is not one of " + Mode.allCases.map(\.rawValue).joined(separator: ", "))
            }
            self.mode = mode
        }
        rootCertificate = try Self.file(query, "sslrootcert")
        clientCertificate = try Self.file(query, "sslcert")
        clientKey = try Self.file(query, "sslkey")
        if (clientCertificate == nil) != (clientKey == nil) {
            throw TLSProblem("journal.url needs both sslcert= and sslkey= for a client certificate, or neither")
        }
        if rootCertificate != nil, mode != .verifyCA, mode != .verifyFull {
            throw TLSProblem("journal.url sslrootcert= is only used with sslmode=verify-ca or verify-full (got sslmode=\(mode.rawValue)): "
                             + "say which, so the server is checked")
        }
        // TLS cannot check an IP address against the certificate here (no SNI for addresses): verify-full would quietly
        // be verify-ca. Refused instead, with the two honest choices.
        if mode == .verifyFull, let host, host.isIPAddressLiteral {
            throw TLSProblem("journal.url sslmode=verify-full needs the server's host name, not the address \(host): "
                             + "use the name its certificate carries, or sslmode=verify-ca to check the chain only")
        }
    }

    /// postgres-nio's settings (the pool's, and a single connection's for the check at open), or an error that names
    /// the file that could not be read.
    func settings() throws(TLSProblem) -> (pool: PostgresClient.Configuration.TLS, connection: PostgresConnection.Configuration.TLS) {
        if mode == .disable { return (.disable, .disable) }
        var tls = TLSConfiguration.makeClientConfiguration()
        switch mode {
        case .verifyFull: tls.certificateVerification = .fullVerification
        case .verifyCA: tls.certificateVerification = .noHostnameVerification
        default: tls.certificateVerification = .none  // libpq's allow/prefer/require: encrypted, server not checked
        }
        let context: NIOSSLContext
        do {
            if let root = rootCertificate { tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(root)) }
            if let cert = clientCertificate, let key = clientKey {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
            }
            context = try NIOSSLContext(configuration: tls)
        } catch {
            throw TLSProblem("journal.url: cannot read a certificate or key (sslrootcert=\(rootCertificate ?? "-"), "
                             + "sslcert=\(clientCertificate ?? "-"), sslkey=\(clientKey ?? "-")): \(error) — PEM files are expected")
        }
        return mode == .allow || mode == .prefer ? (.prefer(tls), .prefer(context)) : (.require(tls), .require(context))
    }

    /// Why a first connection failed, in words a user can act on, with the driver's own text after it.
    static func explain(_ error: any Error) -> String {
        let raw = String(reflecting: error)
        if let psql = error as? PSQLError, let message = psql.serverInfo?[.message] {
            return "the server refused the connection: \(message) (SQLSTATE \(psql.serverInfo?[.sqlState] ?? "?"))"
        }
        if raw.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's TLS certificate was not accepted: it is not signed by sslrootcert= (or the system's roots), "
                + "or it does not name the URL's host — \(raw)"
        }
        if raw.contains("Connection refused") { return "nothing accepts connections there (is PostgreSQL running on that host and port?) — \(raw)" }
        if raw.contains("sslUnsupported") { return "sslmode asks for TLS and the server does not offer it (ssl = off) — \(raw)" }
        return raw
    }

    /// A file parameter: an absolute path to a readable file.
    private static func file(_ query: [String: String], _ name: String) throws(TLSProblem) -> String? {
        guard let path = query[name], !path.isEmpty else { return nil }
        guard path.hasPrefix("/") else { throw TLSProblem("journal.url \(name)=\(path) must be an absolute path") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw TLSProblem("journal.url \(name)=\(path): no readable file there")
        }
        return path
    }
}

extension PostgresLocation {
    /// Whether the server is on this machine (a unix socket or a loopback address), where an unencrypted link is fine.
    public var isLocal: Bool {
        guard let c = URLComponents(string: url) else { return false }
        if c.queryItems?.contains(where: { $0.name == "host" && ($0.value ?? "").hasPrefix("/") }) == true { return true }
        let host = (c.host ?? "").trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

struct TLSProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

extension String {
    /// An IPv4 or IPv6 literal (as a URL's host gives it; IPv6 may come bracketed).
    var isIPAddressLiteral: Bool {
        let bare = trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, bare, &v4) == 1 || inet_pton(AF_INET6, bare, &v6) == 1
    }
}

extension PostgresJournal {
    /// What a connection of this journal's pool is: the server's version and, when encrypted, the TLS version
    /// (`doctor` prints it; the TLS tests read it to see that `sslmode` did what it says).
    public struct ServerFacts: Sendable, Equatable {
        public var serverVersion: String
        /// e.g. "TLSv1.3"; nil when the connection is not encrypted.
        public var tls: String?
    }

    public func serverFacts() async throws -> ServerFacts {
        try await pgJournaled("read server facts") {
            let rows = try await client.query(
                "SELECT current_setting('server_version') AS v, (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl) AS tls",
                logger: logger)
            for try await (version, tls) in rows.decode((String, String?).self) { return ServerFacts(serverVersion: version, tls: tls) }
            throw JournalError.database(operation: "read server facts", underlying: "no row")
        }
    }
}

extension PostgresJournal {
    /// A server setting as `SHOW` gives it; nil when the server has no such setting or hides it from this user.
    public func setting(_ name: String) async throws -> String? {
        try await pgJournaled("read setting \(name)") {
            let rows = try await client.query("SELECT current_setting(\(name), true)", logger: logger)
            for try await value in rows.decode(String?.self) { return value }
            return nil
        }
    }
}
