-- 0001: jobs, the operation ledger, attempts and meta.
--
-- NOT NULL ON CONFLICT FAIL on jobs: an ABORT constraint would make every
-- multi-row INSERT of Plan keep a statement journal (a copy of each page it
-- touches), a third of the cost of planning; the Go code never writes NULL
-- there, and any error rolls back the whole transaction anyway.
--
-- Times are integer unix nanoseconds (UTC) taken from the store's clock; 0
-- means unset. lease_until is non-zero exactly when the job is in a leased
-- state (LEASED, HEAD_DONE, RESUME_OK, STREAMING), so the partial index
-- jobs_lease holds only leased jobs.

CREATE TABLE jobs (
	id          INTEGER PRIMARY KEY,
	key         BLOB    NOT NULL ON CONFLICT FAIL UNIQUE,     -- Work.Key(), the 32 bytes of its hex
	work_id     TEXT    NOT NULL ON CONFLICT FAIL,
	work        TEXT    NOT NULL ON CONFLICT FAIL,            -- fulltext.Work as JSON, without Record
	record      BLOB,                        -- Work.Record verbatim, NULL when absent
	state       TEXT    NOT NULL ON CONFLICT FAIL,
	epoch       INTEGER NOT NULL ON CONFLICT FAIL DEFAULT 0,
	owner       TEXT    NOT NULL ON CONFLICT FAIL DEFAULT '',
	lease_until INTEGER NOT NULL ON CONFLICT FAIL DEFAULT 0,
	attempts    INTEGER NOT NULL ON CONFLICT FAIL DEFAULT 0,
	not_before  INTEGER NOT NULL ON CONFLICT FAIL DEFAULT 0,
	outcome     TEXT    NOT NULL ON CONFLICT FAIL DEFAULT '',
	code        TEXT    NOT NULL ON CONFLICT FAIL DEFAULT '',
	detail      TEXT    NOT NULL ON CONFLICT FAIL DEFAULT '',
	result      TEXT,                        -- fulltext.Result as JSON, NULL when none
	created_at  INTEGER NOT NULL ON CONFLICT FAIL,
	updated_at  INTEGER NOT NULL ON CONFLICT FAIL
);

-- Claiming PLANNED jobs oldest first: a range scan over due jobs only.
CREATE INDEX jobs_claim ON jobs (not_before) WHERE state = 'PLANNED';

-- Expired leases (claim and reconcile): leased jobs only.
CREATE INDEX jobs_lease ON jobs (lease_until) WHERE lease_until > 0;

-- The operation ledger is append-only; Requeue and Retry mark older rows
-- superseded instead of deleting them.
CREATE TABLE ledger (
	id         INTEGER PRIMARY KEY,
	job_id     INTEGER NOT NULL REFERENCES jobs (id),
	epoch      INTEGER NOT NULL,
	op         TEXT    NOT NULL,
	status     TEXT    NOT NULL,
	detail     TEXT    NOT NULL DEFAULT '',
	at         INTEGER NOT NULL,
	superseded INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX ledger_job ON ledger (job_id, id);

-- A job never has two live completed FINALIZE rows.
CREATE UNIQUE INDEX ledger_one_finalize ON ledger (job_id)
	WHERE op = 'FINALIZE' AND status = 'completed' AND superseded = 0;

CREATE TABLE attempts (
	id          INTEGER PRIMARY KEY,
	job_id      INTEGER NOT NULL REFERENCES jobs (id),
	epoch       INTEGER NOT NULL,
	seq         INTEGER NOT NULL,
	source      TEXT    NOT NULL,
	host        TEXT    NOT NULL DEFAULT '',
	url         TEXT    NOT NULL DEFAULT '',
	technique   TEXT    NOT NULL DEFAULT '',
	kind        TEXT    NOT NULL DEFAULT '',
	http_status INTEGER NOT NULL DEFAULT 0,
	bytes       INTEGER NOT NULL DEFAULT 0,
	duration_ns INTEGER NOT NULL DEFAULT 0,
	code        TEXT    NOT NULL DEFAULT '',
	detail      TEXT    NOT NULL DEFAULT '',
	hops        TEXT,                        -- JSON array, NULL when none
	parent      INTEGER NOT NULL DEFAULT 0,
	at          INTEGER NOT NULL
);

CREATE INDEX attempts_job ON attempts (job_id, id);

CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) WITHOUT ROWID;
