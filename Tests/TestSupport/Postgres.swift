import Foundation

/// The private PostgreSQL that scripts/test starts (scripts/test-postgres) and names in PROSTUDIO_TEST_POSTGRES_URL:
/// the PostgreSQL journal's tests run where it is set, and always under CI=true, where its absence fails them.
public let postgresTestURL = TestDependency("PostgreSQL (PROSTUDIO_TEST_POSTGRES_URL)") { () throws -> String in
    guard let url = ProcessInfo.processInfo.environment["PROSTUDIO_TEST_POSTGRES_URL"], !url.isEmpty else {
        throw Unavailable("PROSTUDIO_TEST_POSTGRES_URL is not set: run `export PROSTUDIO_TEST_POSTGRES_URL=$(scripts/test-postgres start)`")
    }
    return url
}

/// The test URL with a schema of the test's own (`schema=`), so tests on one server never see each other's rows.
public func postgresTestURLWithFreshSchema() throws -> String {
    let base = try postgresTestURL.get()
    let schema = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    return base + (base.contains("?") ? "&" : "?") + "schema=\(schema)"
}
