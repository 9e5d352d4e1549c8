-- 0001: jobs, the operation ledger, attempts, meta and worker heartbeats.
--
-- Times are timestamptz taken from the database (now()) unless the store was
-- opened with a test clock. lease_until is NOT NULL exactly when the job is
-- in a leased state (LEASED, HEAD_DONE, RESUME_OK, STREAMING), so the
-- partial index jobs_lease holds only leased jobs.

CREATE TABLE jobs (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key         text        NOT NULL UNIQUE,
	work_id     text        NOT NULL,
	work        text        NOT NULL,            -- fulltext.Work as JSON, without Record
	record      bytea,                           -- Work.Record verbatim, NULL when absent
	state       text        NOT NULL,
	epoch       bigint      NOT NULL DEFAULT 0,
	owner       text        NOT NULL DEFAULT '',
	lease_until timestamptz,
	attempts    integer     NOT NULL DEFAULT 0,
	not_before  timestamptz NOT NULL,
	outcome     text        NOT NULL DEFAULT '',
	code        text        NOT NULL DEFAULT '',
	detail      text        NOT NULL DEFAULT '',
	result      jsonb,                           -- fulltext.Result, NULL when none
	created_at  timestamptz NOT NULL,
	updated_at  timestamptz NOT NULL
);

-- Claiming PLANNED jobs oldest first: a range scan over due jobs only.
CREATE INDEX jobs_claim ON jobs (not_before, id) WHERE state = 'PLANNED';

-- Expired leases (claim and reconcile): leased jobs only.
CREATE INDEX jobs_lease ON jobs (lease_until, id) WHERE lease_until IS NOT NULL;

-- The operation ledger is append-only; Requeue and Retry mark older rows
-- superseded instead of deleting them.
CREATE TABLE ledger (
	id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	job_id     bigint      NOT NULL REFERENCES jobs (id),
	epoch      bigint      NOT NULL,
	op         text        NOT NULL,
	status     text        NOT NULL,
	detail     text        NOT NULL DEFAULT '',
	at         timestamptz NOT NULL,
	superseded boolean     NOT NULL DEFAULT false
);

CREATE INDEX ledger_job ON ledger (job_id, id);

-- A job never has two live completed FINALIZE rows.
CREATE UNIQUE INDEX ledger_one_finalize ON ledger (job_id)
	WHERE op = 'FINALIZE' AND status = 'completed' AND NOT superseded;

CREATE TABLE attempts (
	id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	job_id      bigint      NOT NULL REFERENCES jobs (id),
	epoch       bigint      NOT NULL,
	seq         integer     NOT NULL,
	source      text        NOT NULL,
	host        text        NOT NULL DEFAULT '',
	url         text        NOT NULL DEFAULT '',
	technique   text        NOT NULL DEFAULT '',
	kind        text        NOT NULL DEFAULT '',
	http_status integer     NOT NULL DEFAULT 0,
	bytes       bigint      NOT NULL DEFAULT 0,
	duration_ns bigint      NOT NULL DEFAULT 0,
	code        text        NOT NULL DEFAULT '',
	detail      text        NOT NULL DEFAULT '',
	hops        text,                            -- JSON array, NULL when none
	parent      integer     NOT NULL DEFAULT 0,
	at          timestamptz
);

CREATE INDEX attempts_job ON attempts (job_id, id);

CREATE TABLE meta (
	key   text PRIMARY KEY,
	value text NOT NULL
);

-- One row per live worker process, refreshed by its heartbeat.
CREATE TABLE workers (
	name       text        PRIMARY KEY,
	host       text        NOT NULL DEFAULT '',
	pid        integer     NOT NULL DEFAULT 0,
	started_at timestamptz NOT NULL,
	seen_at    timestamptz NOT NULL
);
