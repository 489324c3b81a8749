import MCP

/// The tools an agent sees, with input schemas that say what each argument means.
enum ToolCatalog {
    static func schema(_ properties: [String: Value], required: [String] = []) -> Value {
        .object(["type": .string("object"), "properties": .object(properties), "required": .array(required.map(Value.string)),
                 "additionalProperties": .bool(false)])
    }
    static func prop(_ type: String, _ description: String) -> Value {
        .object(["type": .string(type), "description": .string(description)])
    }

    static let jobInput: [String: Value] = [
        "manifest": prop("string", "The manifest's text (YAML by default; see the resource prostudio://schema/manifest.schema.json). Give this or `path`."),
        "path": prop("string", "Instead of `manifest`: an absolute path on the server's machine to a manifest or a job folder holding one with its assets."),
        "format": .object(["type": .string("string"), "enum": .array(JobInput.formats.map(Value.string)),
                           "description": .string("The manifest text's format (default yaml); txt and md are plain scripts, one scene per paragraph.")]),
        "name": prop("string", "The job's name (outputs are named after it); default: mcp-DATE-TIME, or the file's or folder's own name."),
        "assets": .object(["type": .string("object"), "additionalProperties": .object(["type": .string("string")]),
                           "description": .string("With `manifest`: each relative path the manifest names (scenes[].image, video, narration_audio, music.file) mapped to an absolute path of that file on the server's machine.")]),
    ]
    static let id = prop("string", "The job: its id, a unique prefix of it, or its name (the newest job of that name).")
    static let wait = prop("number", "Seconds to wait (at most 600) for the job to end before answering; 0 (default) answers at once.")

    static let all: [Tool] = [
        Tool(name: "validate_manifest", title: "Validate a manifest",
             description: "Check a manifest without rendering, as `prostudio validate --json` does: on success the resolved manifest and its warnings; on failure every problem with its code, field and line.",
             inputSchema: schema(jobInput), annotations: .init(readOnlyHint: true)),
        Tool(name: "submit_job", title: "Submit a job",
             description: "Validate a manifest and hand it to the daemon as a new job (with its assets). Answers once the daemon has taken it: its id and state (queued), or the daemon's rejection. Follow it with job_status or job_events; fetch the video with job_outputs.",
             inputSchema: schema(jobInput.merging(["wait_seconds": prop("number", "Seconds to wait for the daemon to take the job (default 30).")]) { a, _ in a }),
             annotations: .init(destructiveHint: false, idempotentHint: false)),
        Tool(name: "job_status", title: "Job status",
             description: "One job: state (queued, running, done, failed, cancelled, rejected), stage, progress, error, warnings and outputs. With wait_seconds, answers when the job ends or the wait is over.",
             inputSchema: schema(["id": id, "wait_seconds": wait], required: ["id"]), annotations: .init(readOnlyHint: true)),
        Tool(name: "job_events", title: "Job events",
             description: "A job's history after event `after` (0: from the start), with the id of the last one to pass as `after` next time. With wait_seconds, waits for a new event or the job's end.",
             inputSchema: schema(["id": id, "after": prop("integer", "The last event id already seen (default 0)."), "wait_seconds": wait], required: ["id"]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: "list_jobs", title: "List jobs",
             description: "Jobs, newest first.",
             inputSchema: schema([
                "states": .object(["type": .string("array"), "items": .object(["type": .string("string"), "enum": .array(["queued", "running", "done", "failed", "cancelled", "rejected"].map(Value.string))]),
                                   "description": .string("Only jobs in these states.")]),
                "limit": prop("integer", "At most this many jobs (default 50)."),
             ]), annotations: .init(readOnlyHint: true)),
        Tool(name: "cancel_job", title: "Cancel a job", description: "Ask the daemon to cancel a queued or running job.",
             inputSchema: schema(["id": id], required: ["id"]), annotations: .init(destructiveHint: true, idempotentHint: true)),
        Tool(name: "retry_job", title: "Retry a job", description: "Ask the daemon to run a failed or cancelled job again.",
             inputSchema: schema(["id": id], required: ["id"]), annotations: .init(destructiveHint: false, idempotentHint: false)),
        Tool(name: "job_outputs", title: "Fetch a job's outputs",
             description: "A done job's files by role (video, captions, poster, sidecar): absolute paths on the server's machine, or URLs when the server talks to a remote daemon's HTTP API.",
             inputSchema: schema(["id": id], required: ["id"]), annotations: .init(readOnlyHint: true)),
        Tool(name: "list_voices", title: "List voices",
             description: "Voices a manifest can name: installed Piper packs and espeak-ng's voices, each with the manifest line that picks it.",
             inputSchema: schema([:]), annotations: .init(readOnlyHint: true)),
        Tool(name: "list_looks", title: "List looks",
             description: "The visual and sound choices a manifest can make: visuals engines, looks, styles, motions, fits, music engines and moods, caption modes.",
             inputSchema: schema([:]), annotations: .init(readOnlyHint: true)),
        Tool(name: "list_presets", title: "List output presets",
             description: "Output presets: aspect ratios with their default sizes, and encoder quality levels.",
             inputSchema: schema([:]), annotations: .init(readOnlyHint: true)),
        Tool(name: "list_packs", title: "List installed model packs",
             description: "Model packs installed in the daemon's models folder (speech, video, music, embedding), as `prostudio models list --json`.",
             inputSchema: schema([:]), annotations: .init(readOnlyHint: true)),
    ]
}
