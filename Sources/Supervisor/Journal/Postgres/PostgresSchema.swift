import Logging
import PostgresNIO

/// The journal's schema on PostgreSQL: the same tables, columns and checks as SQLite's (`Schema`), written in PostgreSQL's
/// types (BIGSERIAL ids, DOUBLE PRECISION seconds since 1970 so a `Date` reads back bit for bit, BOOLEAN flags). The
/// migration identifiers are SQLite's, so both journals say the same about which version of the schema they hold, then
/// PostgreSQL's own (`pg-` ones: what only a fleet needs, such as leases).
enum PostgresSchema {
    static let migrations: [(id: String, sql: [String])] = [
        ("v1-jobs", [
            """
            CREATE TABLE jobs (
                id TEXT PRIMARY KEY NOT NULL,
                name TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('claimed','queued','running','done','failed','cancelled','rejected')),
                stage TEXT,
                progress DOUBLE PRECISION NOT NULL DEFAULT 0,
                manifest_path TEXT,
                source_name TEXT NOT NULL,
                source_path TEXT NOT NULL,
                source_kind TEXT NOT NULL CHECK (source_kind IN ('file','folder')),
                dedup_key TEXT NOT NULL UNIQUE,
                attempts BIGINT NOT NULL DEFAULT 0,
                cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL,
                error_code TEXT,
                error_message TEXT,
                error_field TEXT,
                outputs TEXT NOT NULL DEFAULT '{}'
            )
            """,
            "CREATE INDEX jobs_state_created ON jobs(state, created_at)",
            """
            CREATE TABLE stage_runs (
                id BIGSERIAL PRIMARY KEY,
                job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                stage TEXT NOT NULL,
                attempt BIGINT NOT NULL,
                engine TEXT,
                started_at DOUBLE PRECISION NOT NULL,
                ended_at DOUBLE PRECISION,
                outcome TEXT NOT NULL CHECK (outcome IN ('running','ok','failed','cancelled','interrupted')),
                peak_memory_bytes BIGINT,
                cache_hit BOOLEAN NOT NULL DEFAULT FALSE,
                seconds DOUBLE PRECISION
            )
            """,
            "CREATE INDEX stage_runs_job ON stage_runs(job_id, id)",
            """
            CREATE TABLE events (
                id BIGSERIAL PRIMARY KEY,
                job_id TEXT REFERENCES jobs(id) ON DELETE CASCADE,
                at DOUBLE PRECISION NOT NULL,
                kind TEXT NOT NULL,
                message TEXT NOT NULL
            )
            """,
            "CREATE INDEX events_job ON events(job_id, id)",
            """
            CREATE TABLE artifacts (
                key TEXT PRIMARY KEY NOT NULL,
                stage TEXT NOT NULL,
                path TEXT NOT NULL,
                size_bytes BIGINT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                used_at DOUBLE PRECISION NOT NULL
            )
            """,
            """
            CREATE TABLE requests (
                id BIGSERIAL PRIMARY KEY,
                job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                action TEXT NOT NULL CHECK (action IN ('retry','cancel')),
                requested_at DOUBLE PRECISION NOT NULL,
                requested_by TEXT NOT NULL,
                handled_at DOUBLE PRECISION,
                outcome TEXT
            )
            """,
            "CREATE INDEX requests_pending ON requests(handled_at, id)",
        ]),
        ("v2-job-seed", ["ALTER TABLE jobs ADD COLUMN seed BIGINT"]),
        ("v3-webhook-deliveries", [
            """
            CREATE TABLE deliveries (
                id BIGSERIAL PRIMARY KEY,
                job_id TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
                event TEXT NOT NULL,
                url TEXT NOT NULL,
                body TEXT NOT NULL,
                signature TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending','delivered','failed')),
                attempts BIGINT NOT NULL DEFAULT 0,
                max_attempts BIGINT NOT NULL,
                next_at DOUBLE PRECISION NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                updated_at DOUBLE PRECISION NOT NULL
            )
            """,
            "CREATE INDEX deliveries_due ON deliveries(state, next_at)",
            "CREATE INDEX deliveries_job ON deliveries(job_id, id)",
            """
            CREATE TABLE delivery_attempts (
                id BIGSERIAL PRIMARY KEY,
                delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                attempt BIGINT NOT NULL,
                at DOUBLE PRECISION NOT NULL,
                seconds DOUBLE PRECISION NOT NULL,
                status BIGINT,
                error TEXT
            )
            """,
            "CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id)",
        ]),
        ("v4-job-deleted", ["ALTER TABLE jobs ADD COLUMN deleted_at DOUBLE PRECISION"]),
        ("v5-job-report", [
            "ALTER TABLE jobs ADD COLUMN report TEXT",
            "ALTER TABLE jobs ADD COLUMN error_stage TEXT",
            "ALTER TABLE jobs ADD COLUMN error_disposition TEXT",
        ]),
        // Leases (issue 31 item 2; PostgreSQL only, so its own id): who runs a job and until when. The fencing token is
        // the job's `attempts`, which every take bumps; expiry is the database's clock (`lease_expires_at`), never a host's.
        ("pg-v6-job-lease", [
            "ALTER TABLE jobs ADD COLUMN lease_host TEXT",
            "ALTER TABLE jobs ADD COLUMN lease_worker TEXT",
            "ALTER TABLE jobs ADD COLUMN lease_expires_at DOUBLE PRECISION",
            "CREATE INDEX jobs_lease_expiry ON jobs(lease_expires_at) WHERE state = 'running'",
        ]),
        // Queue order (issue 32): SQLite's v6, with the requests table changed in place.
        ("v6-queue-order", [
            "ALTER TABLE jobs ADD COLUMN priority BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE jobs ADD COLUMN not_before DOUBLE PRECISION",
            "ALTER TABLE jobs ADD COLUMN packs TEXT NOT NULL DEFAULT '[]'",
            "ALTER TABLE jobs ADD COLUMN passes BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE jobs ADD COLUMN passed_since DOUBLE PRECISION",
            "CREATE INDEX jobs_queue ON jobs(state, priority, created_at)",
            """
            CREATE TABLE queue (
                id BIGINT PRIMARY KEY CHECK (id = 1),
                paused BOOLEAN NOT NULL DEFAULT FALSE,
                changed_at DOUBLE PRECISION,
                changed_by TEXT
            )
            """,
            "INSERT INTO queue (id, paused) VALUES (1, FALSE)",
            "ALTER TABLE requests ALTER COLUMN job_id DROP NOT NULL",
            "ALTER TABLE requests DROP CONSTRAINT requests_action_check",
            "ALTER TABLE requests ADD CONSTRAINT requests_action_check CHECK (action IN ('retry','cancel','pause','resume','priority'))",
            "ALTER TABLE requests ADD COLUMN value BIGINT",
        ]),
    ]

    /// Every migration id this build applies on PostgreSQL: SQLite's, then PostgreSQL's own.
    static var identifiers: [String] { migrations.map(\.id) }

    /// Applies the migrations not yet in `schema_migrations`, each in its own transaction. A transaction-scoped advisory
    /// lock serialises daemons that start at once on one database: the second waits, then finds the work done.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        // Under the same lock: CREATE TABLE IF NOT EXISTS is not safe against itself, and two stores opening one fresh
        // schema at once (a daemon and a reader) failed with a duplicate pg_type row.
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
            try await conn.query("CREATE TABLE IF NOT EXISTS schema_migrations (seq BIGSERIAL, identifier TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())", logger: logger)
        }
        for migration in migrations {
            try await client.withTransaction(logger: logger) { conn in
                try await conn.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                let done = try await conn.query("SELECT 1 FROM schema_migrations WHERE identifier = \(migration.id)", logger: logger).collect()
                guard done.isEmpty else { return }
                for statement in migration.sql { try await conn.query(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try await conn.query("INSERT INTO schema_migrations (identifier) VALUES (\(migration.id))", logger: logger)
            }
        }
        let applied = try await appliedMigrations(client, logger: logger)
        let unknown = applied.filter { !identifiers.contains($0) }
        guard unknown.isEmpty else {
            throw JournalError.schemaMismatch(path: "postgres", detail: "the database has migrations this build does not know (\(unknown.joined(separator: ", "))): a newer ProStudio made it")
        }
    }

    static func appliedMigrations(_ client: PostgresClient, logger: Logger) async throws -> [String] {
        var out: [String] = []
        for try await id in try await client.query("SELECT identifier FROM schema_migrations ORDER BY seq", logger: logger).decode(String.self) {
            out.append(id)
        }
        return out
    }

    /// 'prostudio' as ASCII bytes: one fixed key for the migration lock.
    static let lockKey: Int64 = 0x7072_6f73_7475_6469
}
