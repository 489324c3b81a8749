import GRDB

/// Versioned migrations. Each is applied once, in order, in its own transaction; identifiers never change.
/// Plain SQL (no GRDB schema DSL) so the same text is the starting point of a PostgreSQL schema.
enum Schema {
    /// Every migration this build knows, in order. The CLI refuses a journal that lacks one (older daemon)
    /// or has one not listed here (newer daemon).
    static let identifiers = ["v1-jobs", "v2-job-seed", "v3-webhook-deliveries", "v4-job-deleted", "v5-job-report", "v6-queue-order"]

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-jobs") { db in
            try db.execute(sql: """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN
                        ('claimed','queued','running','done','failed','cancelled','rejected')),
                    stage TEXT,
                    progress REAL NOT NULL DEFAULT 0,
                    manifest_path TEXT,
                    source_name TEXT NOT NULL,
                    source_path TEXT NOT NULL,
                    source_kind TEXT NOT NULL CHECK (source_kind IN ('file','folder')),
                    -- content hash + source name + arrival identity: one inbox arrival, one job (see DedupKey).
                    dedup_key TEXT NOT NULL UNIQUE,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    cancel_requested INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL,
                    error_code TEXT,
                    error_message TEXT,
                    error_field TEXT,
                    outputs TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX jobs_state_created ON jobs(state, created_at);

                CREATE TABLE stage_runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    stage TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    engine TEXT,
                    started_at REAL NOT NULL,
                    ended_at REAL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('running','ok','failed','cancelled','interrupted')),
                    peak_memory_bytes INTEGER,
                    cache_hit INTEGER NOT NULL DEFAULT 0,
                    seconds REAL
                );
                CREATE INDEX stage_runs_job ON stage_runs(job_id, id);

                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT REFERENCES jobs(id) ON DELETE CASCADE,
                    at REAL NOT NULL,
                    kind TEXT NOT NULL,
                    message TEXT NOT NULL
                );
                CREATE INDEX events_job ON events(job_id, id);

                CREATE TABLE artifacts (
                    key TEXT PRIMARY KEY NOT NULL,
                    stage TEXT NOT NULL,
                    path TEXT NOT NULL,
                    size_bytes INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    used_at REAL NOT NULL
                );

                -- The CLI's only table: it inserts, the daemon applies and fills handled_at/outcome.
                CREATE TABLE requests (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    action TEXT NOT NULL CHECK (action IN ('retry','cancel')),
                    requested_at REAL NOT NULL,
                    requested_by TEXT NOT NULL,
                    handled_at REAL,
                    outcome TEXT
                );
                CREATE INDEX requests_pending ON requests(handled_at, id);
                """)
        }
        // The sidecar reports the seed a job ran with; it belongs with the job, not only in the sidecar.
        m.registerMigration("v2-job-seed") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN seed INTEGER")
        }
        // Webhooks (`notify:`): one row per message to send (the body and its signature fixed when the job ended,
        // so a retry sends the same bytes and no secret is stored), one row per attempt to send it.
        m.registerMigration("v3-webhook-deliveries") { db in
            try db.execute(sql: """
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                    event TEXT NOT NULL,
                    url TEXT NOT NULL,
                    body TEXT NOT NULL,
                    signature TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    max_attempts INTEGER NOT NULL,
                    next_at REAL NOT NULL,
                    created_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX deliveries_due ON deliveries(state, next_at);
                CREATE INDEX deliveries_job ON deliveries(job_id, id);

                CREATE TABLE delivery_attempts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                    attempt INTEGER NOT NULL,
                    at REAL NOT NULL,
                    seconds REAL NOT NULL,
                    -- the HTTP status; NULL when no response came (refused, timed out, TLS)
                    status INTEGER,
                    error TEXT
                );
                CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);
                """)
        }
        // `DELETE /v1/jobs/ID` removes a finished job's outputs and keeps its row, marked here (the API shows it as
        // `deleted`); a column rather than a new state, so the state machine and its CHECK stay as they are.
        m.registerMigration("v4-job-deleted") { db in
            try db.execute(sql: "ALTER TABLE jobs ADD COLUMN deleted_at REAL")
        }
        // The journal is the only truth of a job (issue 24): what its worker reported (stage records, details, warnings;
        // `Contract.JobReport` as JSON) and where and how it failed, so every sidecar is a projection of the row.
        m.registerMigration("v5-job-report") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN report TEXT;
                ALTER TABLE jobs ADD COLUMN error_stage TEXT;
                ALTER TABLE jobs ADD COLUMN error_disposition TEXT;
                """)
        }
        // Queue order (issue 32): a priority, a time before which a job is not started, the packs its worker loads, how
        // often it was passed over (and since when: the fairness bound, `QueuePolicy`); the queue's pause flag; and
        // requests about the queue (pause, resume: no job) or carrying a value (priority). SQLite cannot change a
        // CHECK or a NOT NULL in place, so `requests` is rebuilt (its rows kept, ids included).
        m.registerMigration("v6-queue-order") { db in
            try db.execute(sql: """
                ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE jobs ADD COLUMN not_before REAL;
                ALTER TABLE jobs ADD COLUMN packs TEXT NOT NULL DEFAULT '[]';
                ALTER TABLE jobs ADD COLUMN passes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE jobs ADD COLUMN passed_since REAL;
                CREATE INDEX jobs_queue ON jobs(state, priority, created_at);

                CREATE TABLE queue (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    paused INTEGER NOT NULL DEFAULT 0,
                    changed_at REAL,
                    changed_by TEXT
                );
                INSERT INTO queue (id, paused) VALUES (1, 0);

                CREATE TABLE requests_v6 (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    job_id TEXT REFERENCES jobs(id) ON DELETE CASCADE,
                    action TEXT NOT NULL CHECK (action IN ('retry','cancel','pause','resume','priority')),
                    value INTEGER,
                    requested_at REAL NOT NULL,
                    requested_by TEXT NOT NULL,
                    handled_at REAL,
                    outcome TEXT
                );
                INSERT INTO requests_v6 (id, job_id, action, requested_at, requested_by, handled_at, outcome)
                    SELECT id, job_id, action, requested_at, requested_by, handled_at, outcome FROM requests;
                DROP TABLE requests;
                ALTER TABLE requests_v6 RENAME TO requests;
                CREATE INDEX requests_pending ON requests(handled_at, id);
                """)
        }
        return m
    }
}
