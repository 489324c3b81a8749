import Foundation
import HTTPTypes
import Hummingbird
import Manifest

/// Every refusal the API makes: an HTTP status and a JSON body `{"error": {"code", "message"}}`, plus the list of
/// manifest problems (`code`, `field`, `line`, `message`) for a manifest that does not validate.
struct APIError: Error, HTTPResponseError, Sendable {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var problems: [Problem] = []
    var headers: HTTPFields = [:]

    struct Problem: Codable, Sendable, Equatable {
        var code: String
        var field: String?
        var line: Int?
        var message: String
    }

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, problems: [Problem] = []) {
        self.status = status; self.code = code; self.message = message; self.problems = problems
    }

    static func invalidManifest(_ errors: ManifestErrors) -> APIError {
        let problems = errors.errors.map { Problem(code: $0.code.rawValue, field: $0.field, line: $0.line, message: $0.description) }
        return APIError(.badRequest, "invalid_manifest",
                        "the manifest has \(problems.count) problem\(problems.count == 1 ? "" : "s")", problems: problems)
    }

    private struct Body: Encodable {
        struct Inner: Encodable { var code: String; var message: String }
        var error: Inner
        var errors: [Problem]?
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(code: code, message: message), errors: problems.isEmpty ? nil : problems)
        var headers = self.headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSON.encode(body))))
    }
}

enum JSON {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(value)) ?? Data("{}".utf8))
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: encode(value))))
    }

    /// An object built by hand (the sidecar merged with links): JSONSerialization keeps unknown fields as they are.
    static func response(object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
