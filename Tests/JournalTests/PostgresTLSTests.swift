import Foundation
import Journal
import Testing
import TestSupport

/// TLS to the journal's server (issue 31): libpq's `sslmode` values mean what they mean to `psql`, against the private
/// PostgreSQL scripts/test-postgres starts with TLS on (a self-signed certificate for localhost and 127.0.0.1).
@Suite(.enabled(if: postgresTestURL.enabled, "needs PROSTUDIO_TEST_POSTGRES_URL (scripts/test-postgres start)"))
struct PostgresTLSTests {
    /// The test URL with `host` in place of 127.0.0.1 and `extra` query parameters.
    func url(host: String = "127.0.0.1", _ extra: String) throws -> String {
        let base = try postgresTestURLWithFreshSchema().replacingOccurrences(of: "@127.0.0.1:", with: "@\(host):")
        return base + (extra.isEmpty ? "" : "&" + extra)
    }

    /// The server's certificate (its own CA), found through a plain connection.
    func serverCertificate() async throws -> String {
        let journal = try await PostgresJournal.open(PostgresLocation(url: try url("sslmode=disable"), pool: 1))
        defer { Task.detached { try? await journal.dropSchemaForTests(); journal.close() } }
        let path = try #require(try await journal.setting("ssl_cert_file"))
        return path.hasPrefix("/") ? path : try #require(try await journal.setting("data_directory")) + "/" + path
    }

    func facts(_ url: String) async throws -> PostgresJournal.ServerFacts {
        let journal = try await PostgresJournal.open(PostgresLocation(url: url, pool: 1))
        defer { Task.detached { try? await journal.dropSchemaForTests(); journal.close() } }
        return try await journal.serverFacts()
    }

    @Test func eachModeEncryptsOrNotAsLibpqDoes() async throws {
        #expect(try await facts(url("sslmode=disable")).tls == nil)
        // prefer is the default, as in libpq: this server offers TLS, so the journal's connections are encrypted.
        #expect(try await facts(url("")).tls?.hasPrefix("TLSv1") == true)
        #expect(try await facts(url("sslmode=require")).tls?.hasPrefix("TLSv1") == true)
        let ca = try await serverCertificate()
        #expect(try await facts(url("sslmode=verify-ca&sslrootcert=\(ca)")).tls?.hasPrefix("TLSv1") == true)
        #expect(try await facts(url(host: "localhost", "sslmode=verify-full&sslrootcert=\(ca)")).tls?.hasPrefix("TLSv1") == true)
    }

    /// A server whose certificate the given roots do not vouch for is refused, naming the journal's URL.
    @Test func verifyRefusesAServerTheRootsDoNotVouchFor() async throws {
        let otherRoots = "/etc/ssl/certs/ca-certificates.crt"
        try #require(FileManager.default.isReadableFile(atPath: otherRoots), "Debian's ca-certificates bundle is missing")
        for mode in ["verify-ca", "verify-full"] {
            let error = await #expect(throws: JournalError.self) {
                _ = try await facts(url(host: "localhost", "sslmode=\(mode)&sslrootcert=\(otherRoots)"))
            }
            let said = error.map { "\($0)" } ?? ""
            #expect(said.contains("open postgres://") && said.contains("TLS certificate was not accepted"), "\(said)")
        }
    }

    /// Settings that cannot mean what they say are refused before any connection, naming the parameter.
    @Test(arguments: [
        ("sslmode=on", "sslmode=on is not one of disable, allow, prefer, require, verify-ca, verify-full"),
        ("sslmode=verify-full&sslrootcert=/etc/ssl/certs/ca-certificates.crt", "needs the server's host name, not the address 127.0.0.1"),
        ("sslmode=verify-ca&sslrootcert=/no/such/ca.pem", "sslrootcert=/no/such/ca.pem: no readable file there"),
        ("sslmode=verify-ca&sslrootcert=relative.pem", "must be an absolute path"),
        ("sslmode=require&sslrootcert=/etc/ssl/certs/ca-certificates.crt", "only used with sslmode=verify-ca or verify-full"),
        ("sslmode=require&sslcert=/etc/ssl/certs/ca-certificates.crt", "needs both sslcert= and sslkey="),
    ])
    func badSettingsAreNamed(query: String, says: String) throws {
        let problem = PostgresLocation(url: try url(query)).problem
        #expect(problem?.contains(says) == true, "\(problem ?? "no problem found")")
    }

    @Test func aUnixSocketRefusesARequiredTLS() {
        let location = PostgresLocation(url: "postgres://u@x/db?host=/run/postgresql&sslmode=require")
        #expect(location.problem?.contains("unix socket, which PostgreSQL never encrypts") == true, "\(location.problem ?? "")")
        #expect(PostgresLocation(url: "postgres://u@x/db?host=/run/postgresql&sslmode=prefer").problem == nil)
    }
}
