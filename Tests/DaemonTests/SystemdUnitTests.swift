import Foundation
import Testing

/// The shipped unit must let the daemon do what the shipped config documents: serve `api.listen` and send webhooks.
@Suite struct SystemdUnitTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `Key=value` lines of the unit (comments left out), in order.
    static func settings() throws -> [(key: String, value: String)] {
        try String(contentsOf: repo.appendingPathComponent("systemd/prostudio.service"), encoding: .utf8)
            .split(separator: "\n").compactMap { line in
                let l = line.trimmingCharacters(in: .whitespaces)
                guard !l.hasPrefix("#"), let eq = l.firstIndex(of: "=") else { return nil }
                return (String(l[..<eq]), String(l[l.index(after: eq)...]))
            }
    }

    @Test func theUnitAllowsTheSocketsTheConfigDocuments() throws {
        let yaml = try String(contentsOf: Self.repo.appendingPathComponent("systemd/prostudio.yaml"), encoding: .utf8)
        #expect(yaml.contains("listen:") && yaml.contains("notify:"))
        let unit = try Self.settings()
        let families = unit.filter { $0.key == "RestrictAddressFamilies" }.flatMap { $0.value.split(separator: " ").map(String.init) }
        #expect(Set(families).isSuperset(of: ["AF_UNIX", "AF_INET", "AF_INET6"]), "\(families)")
        #expect(!unit.contains { $0.key == "PrivateNetwork" && ["yes", "true", "1", "on"].contains($0.value.lowercased()) })
        // Loopback peers (the API on 127.0.0.1, a local receiver, systemd-resolved) at least: a deny list must allow them.
        if unit.contains(where: { $0.key == "IPAddressDeny" && $0.value == "any" }) {
            let allowed = unit.filter { $0.key == "IPAddressAllow" }.flatMap { $0.value.split(separator: " ").map(String.init) }
            #expect(allowed.contains("localhost") || allowed.contains("any"), "\(allowed)")
        }
        // The rest of the hardening stays.
        for key in ["NoNewPrivileges", "ProtectSystem", "ProtectHome", "SystemCallFilter", "CapabilityBoundingSet", "RestrictNamespaces"] {
            #expect(unit.contains { $0.key == key }, "\(key)")
        }
    }
}
