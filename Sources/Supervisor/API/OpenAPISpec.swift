/// The API's OpenAPI 3.1 description, served at `/openapi.yaml`. `Docs/openapi.yaml` is the same text (a test
/// checks the two match and rewrites the file when PROSTUDIO_WRITE_OPENAPI=1), and schemathesis checks the server
/// against it (scripts/api-contract).
public enum OpenAPISpec {
    public static let yaml = #"""
openapi: 3.1.0
info:
  title: ProStudio HTTP API
  version: "1.0.0"
  description: |
    The daemon's HTTP API (off by default; `api: {listen: "127.0.0.1:8470"}` or `--api ADDR`). A job posted here
    enters through the same pick-up as a file dropped in the inbox (journal first, exactly once). Every error is
    JSON: `{"error": {"code", "message"}}`, plus `errors` (one entry per manifest problem) for `invalid_manifest`.
    A bearer token (`api.token_file`) is required when one is configured; it must be when listening beyond loopback.
servers:
  - url: http://127.0.0.1:8470
security:
  - bearer: []
# Shared by every file download below (a YAML anchor: OpenAPI has no $ref for a whole responses object).
x-download-responses: &download
  "200": {description: The file, headers: {ETag: {schema: {type: string}}, Accept-Ranges: {schema: {type: string}}}, content: {"*/*": {schema: {}}}}
  "206": {description: The requested range, headers: {Content-Range: {schema: {type: string}}}, content: {"*/*": {schema: {}}}}
  "304": {description: Not modified (If-None-Match)}
  "401": {$ref: "#/components/responses/Unauthorized"}
  "404": {$ref: "#/components/responses/Error"}
  "410": {$ref: "#/components/responses/Error"}
  "416": {$ref: "#/components/responses/Error"}
  "503": {$ref: "#/components/responses/NotReady"}
paths:
  /healthz:
    get:
      summary: The process is alive.
      security: []
      responses:
        "200": {description: Alive, content: {application/json: {schema: {$ref: "#/components/schemas/Health"}}}}
  /readyz:
    get:
      summary: Journal open and writable, inbox watched, free disk above api.min_free_mb.
      security: []
      responses:
        "200": {description: Ready, content: {application/json: {schema: {$ref: "#/components/schemas/Readiness"}}}}
        "503": {description: Not ready, content: {application/json: {schema: {$ref: "#/components/schemas/Readiness"}}}}
  /openapi.yaml:
    get:
      summary: This document.
      security: []
      responses:
        "200": {description: The spec, content: {application/yaml: {schema: {}}}}
  /metrics:
    get:
      summary: Prometheus metrics.
      responses:
        "200": {description: Text exposition format, content: {text/plain: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs:
    post:
      summary: Submit a job.
      description: "The manifest's `priority` (-100 to 100, higher first) and `not_before` (an RFC 3339 time) place it in the queue."
      operationId: submitJob
      parameters:
        - {name: name, in: query, required: false, schema: {type: string, pattern: "^[A-Za-z0-9][A-Za-z0-9._ -]{0,199}$"}, description: The job's name (names its outputs).}
        - {name: Idempotency-Key, in: header, required: false, schema: {type: string, minLength: 1, maxLength: 200}, description: A retried POST with the same key returns the first job.}
      requestBody:
        required: true
        content:
          application/json: {schema: {type: object}}
          application/yaml: {schema: {type: string}}
          text/plain: {schema: {type: string}}
          multipart/form-data:
            schema:
              type: object
              required: [manifest]
              properties:
                manifest: {type: string, format: binary}
                name: {type: string}
                assets: {type: array, items: {type: string, format: binary}}
          application/x-tar: {schema: {type: string, format: binary}}
          application/zip: {schema: {type: string, format: binary}}
      responses:
        "202": {$ref: "#/components/responses/Accepted"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "413": {$ref: "#/components/responses/TooLarge"}
        "415": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
    get:
      summary: List jobs, newest first.
      operationId: listJobs
      parameters:
        - {name: state, in: query, required: false, schema: {type: string}, description: "Comma-separated: queued, running, done, failed, cancelled, rejected, or deleted alone."}
        - {name: limit, in: query, required: false, schema: {type: integer, minimum: 1, maximum: 500, default: 50}}
        - {name: cursor, in: query, required: false, schema: {type: string}, description: next_cursor of the previous page.}
      responses:
        "200": {description: A page of jobs, content: {application/json: {schema: {$ref: "#/components/schemas/JobList"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: The job's sidecar (its journal state, stage, progress, outputs, error), with links.
      operationId: getJob
      responses:
        "200": {description: The sidecar, content: {application/json: {schema: {$ref: "#/components/schemas/Sidecar"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
    delete:
      summary: Remove a finished job's outputs and job folder; the journal row stays, shown as deleted.
      operationId: deleteJob
      responses:
        "200": {description: Deleted, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}/cancel:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    post:
      summary: Cancel a queued or running job.
      operationId: cancelJob
      responses:
        "202": {description: Requested, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}/retry:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    post:
      summary: Queue a failed or cancelled job again.
      operationId: retryJob
      responses:
        "202": {description: Requested, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}/priority:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    post:
      summary: Give a job that has not ended a new priority (higher starts first, within the queue's fairness bound).
      operationId: setJobPriority
      requestBody:
        required: true
        content: {application/json: {schema: {type: object, required: [priority], properties: {priority: {type: integer, minimum: -100, maximum: 100}}}}}
      responses:
        "200": {description: The job with its new priority, content: {application/json: {schema: {$ref: "#/components/schemas/Job"}}}}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "409": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/queue:
    get:
      summary: "The queue: paused or not, jobs waiting, and the next `not_before` time a job waits for."
      operationId: getQueue
      responses:
        "200": {description: The queue, content: {application/json: {schema: {$ref: "#/components/schemas/Queue"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/queue/pause:
    post:
      summary: Pause the queue (journaled; survives restarts). A running job finishes; no job starts until resume.
      operationId: pauseQueue
      responses:
        "200": {description: The queue, content: {application/json: {schema: {$ref: "#/components/schemas/Queue"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/queue/resume:
    post:
      summary: Resume a paused queue.
      operationId: resumeQueue
      responses:
        "200": {description: The queue, content: {application/json: {schema: {$ref: "#/components/schemas/Queue"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}/events:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: "Server-sent events: `state` (state, stage, progress) on each change and `log` (journal events); ends when the job ends."
      operationId: jobEvents
      responses:
        "200": {description: An event stream, content: {text/event-stream: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/events:
    get:
      summary: "Server-sent `job` events for every job that changes (what the dashboard follows). Never ends."
      operationId: allEvents
      responses:
        "200": {description: An event stream, content: {text/event-stream: {schema: {type: string}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "503": {$ref: "#/components/responses/NotReady"}
  /v1/jobs/{id}/video:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: The MP4., operationId: getVideo, responses: *download}
  /v1/jobs/{id}/captions:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: The SRT captions., operationId: getCaptions, responses: *download}
  /v1/jobs/{id}/webvtt:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: The WebVTT captions., operationId: getWebVTT, responses: *download}
  /v1/jobs/{id}/poster:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: The poster frame (JPEG)., operationId: getPoster, responses: *download}
  /v1/jobs/{id}/sidecar:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: The sidecar file as written to the outbox., operationId: getSidecarFile, responses: *download}
  /v1/jobs/{id}/renditions/{name}:
    parameters: [{$ref: "#/components/parameters/JobID"}, {name: name, in: path, required: true, schema: {type: string}}, {$ref: "#/components/parameters/Range"}]
    get: {summary: "One of the job's renditions (`outputs:` in the manifest; the sidecar's renditions list their names).", operationId: getRendition, responses: *download}
  /api/content/generate:
    post:
      summary: Alias of POST /v1/jobs.
      operationId: generate
      requestBody:
        required: true
        content:
          application/json: {schema: {type: object}}
          application/yaml: {schema: {type: string}}
      responses:
        "202": {$ref: "#/components/responses/Accepted"}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "413": {$ref: "#/components/responses/TooLarge"}
        "415": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /api/content/status/{id}:
    parameters: [{$ref: "#/components/parameters/JobID"}]
    get:
      summary: Alias of GET /v1/jobs/{id}.
      operationId: contentStatus
      responses:
        "200": {description: The sidecar, content: {application/json: {schema: {$ref: "#/components/schemas/Sidecar"}}}}
        "401": {$ref: "#/components/responses/Unauthorized"}
        "404": {$ref: "#/components/responses/Error"}
        "503": {$ref: "#/components/responses/NotReady"}
  /api/content/download/{id}:
    parameters: [{$ref: "#/components/parameters/JobID"}, {$ref: "#/components/parameters/Range"}]
    get: {summary: "Alias of GET /v1/jobs/{id}/video.", operationId: contentDownload, responses: *download}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  parameters:
    JobID: {name: id, in: path, required: true, schema: {type: string}}
    Range: {name: Range, in: header, required: false, schema: {type: string}, description: "One range: bytes=A-B, bytes=A- or bytes=-N."}
  responses:
    Accepted:
      description: Journaled and queued (or, with a repeated Idempotency-Key, the first job).
      headers: {Location: {schema: {type: string}}}
      content: {application/json: {schema: {$ref: "#/components/schemas/Accepted"}}}
    BadRequest:
      description: The upload or its manifest is not valid; every problem is listed.
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    TooLarge:
      description: Over api.max_body_mb, api.max_assets, api.max_expanded_mb or api.max_expansion_ratio, or a manifest over 4 MiB.
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    Unauthorized:
      description: Missing or wrong bearer token.
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    NotReady:
      description: The daemon is starting or stopping.
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
    Error:
      description: A refusal, with a code.
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
  schemas:
    Health:
      type: object
      required: [status]
      properties: {status: {type: string}}
    Readiness:
      type: object
      required: [status, checks]
      properties:
        status: {type: string, enum: [ready, not_ready]}
        checks: {type: object, additionalProperties: {type: string}}
    Links:
      type: object
      additionalProperties: {type: string}
    Accepted:
      type: object
      required: [id, name, state, links]
      properties:
        id: {type: string}
        name: {type: string}
        state: {type: string}
        links: {$ref: "#/components/schemas/Links"}
    State:
      type: string
      enum: [queued, running, done, failed, cancelled, rejected, deleted]
    JobError:
      type: object
      required: [code, message]
      properties:
        code: {type: string}
        message: {type: string}
        field: {type: string}
        stage: {type: string}
        disposition: {type: string, enum: [invalid_input, retryable, permanent, cancelled]}
    Job:
      type: object
      required: [id, name, state, progress, attempts, created_at, updated_at, outputs, links]
      properties:
        id: {type: string}
        name: {type: string}
        state: {$ref: "#/components/schemas/State"}
        stage: {type: string}
        progress: {type: number, minimum: 0, maximum: 1}
        attempts: {type: integer}
        created_at: {type: string}
        updated_at: {type: string}
        error: {$ref: "#/components/schemas/JobError"}
        outputs: {type: object, additionalProperties: {type: string}}
        links: {$ref: "#/components/schemas/Links"}
        priority: {type: integer, minimum: -100, maximum: 100, description: "Higher starts first (the manifest's `priority`, default 0)."}
        not_before: {type: string, description: "The job does not start before this time (the manifest's `not_before`)."}
        packs: {type: array, items: {type: string}, description: The model packs its worker loads (model-aware ordering).}
    Queue:
      type: object
      required: [paused, queued, scheduled]
      properties:
        paused: {type: boolean}
        changed_at: {type: string}
        changed_by: {type: string}
        queued: {type: integer, description: Jobs waiting.}
        scheduled: {type: integer, description: Of those, jobs waiting for their not_before.}
        next_not_before: {type: string}
    JobList:
      type: object
      required: [jobs]
      properties:
        jobs: {type: array, items: {$ref: "#/components/schemas/Job"}}
        next_cursor: {type: string}
    Sidecar:
      description: The job's sidecar as its journal row projects it (Docs/contract.md), with id, attempts and links.
      type: object
      required: [id, job_id, name, state, progress, outputs, stages, engines, created_at, updated_at, attempts, links]
      additionalProperties: true
      properties:
        id: {type: string}
        job_id: {type: string}
        name: {type: string}
        state: {$ref: "#/components/schemas/State"}
        stage: {type: [string, "null"]}
        progress: {type: number}
        title: {type: string}
        duration_s: {type: number}
        seed: {type: integer}
        width: {type: integer}
        height: {type: integer}
        fps: {type: integer}
        outputs: {type: object, additionalProperties: {type: string}}
        stages: {type: object, additionalProperties: {type: object, required: [engine, seconds, peak_memory_bytes, cached]}}
        engines: {type: object, additionalProperties: {type: string}}
        voice_choice: {type: string}
        chapters: {type: array, items: {type: object, required: [start_s, time, title], properties: {start_s: {type: number}, time: {type: string}, title: {type: string}}}}
        renditions:
          type: array
          description: "More files of the same video (`outputs:` in the manifest), each with its own quality gate"
          items:
            type: object
            required: [name, file, width, height, fps, codec, bytes, duration_s, loudness_target]
            properties:
              name: {type: string}
              file: {type: string}
              width: {type: integer}
              height: {type: integer}
              fps: {type: integer}
              codec: {type: string}
              bytes: {type: integer}
              duration_s: {type: number}
              loudness_target: {type: number}
              quality: {type: object}
        quality:
          type: object
          description: "The quality gate's checks of the video before it was published (Docs/contract.md)"
          required: [status, on_fail, file, checks, seconds]
          properties:
            status: {type: string, enum: [passed, failed, flagged]}
            on_fail: {type: string, enum: [fail, flag]}
            file: {type: string}
            seconds: {type: number}
            checks:
              type: array
              items:
                type: object
                required: [name, passed, detail]
                properties:
                  name: {type: string}
                  passed: {type: boolean}
                  value: {type: number}
                  limit: {type: number}
                  unit: {type: string}
                  at_s: {type: number}
                  detail: {type: string}
        warnings: {type: array, items: {type: string}}
        models:
          description: Each model component the job used; reused when a warm worker had it loaded (Docs/warm-workers.md).
          type: array
          items:
            type: object
            required: [pack, component, stage, seconds, reused]
            properties:
              pack: {type: string}
              component: {type: string}
              stage: {type: string}
              seconds: {type: number}
              reused: {type: boolean}
        created_at: {type: string}
        updated_at: {type: string}
        attempts: {type: integer}
        error: {$ref: "#/components/schemas/JobError"}
        links: {$ref: "#/components/schemas/Links"}
    Problem:
      type: object
      required: [code, message]
      properties:
        code: {type: string}
        field: {type: string}
        line: {type: integer}
        message: {type: string}
    Error:
      type: object
      required: [error]
      properties:
        error:
          type: object
          required: [code, message]
          properties:
            code: {type: string}
            message: {type: string}
        errors: {type: array, items: {$ref: "#/components/schemas/Problem"}}

"""#
}
