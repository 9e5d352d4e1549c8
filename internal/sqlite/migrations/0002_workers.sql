-- 0002: worker heartbeats (fulltext.WorkerRegistry). Additive: binaries
-- that know only 0001 never touch it.

CREATE TABLE workers (
	name       TEXT    PRIMARY KEY,
	host       TEXT    NOT NULL DEFAULT '',
	pid        INTEGER NOT NULL DEFAULT 0,
	started_at INTEGER NOT NULL,
	seen_at    INTEGER NOT NULL
) WITHOUT ROWID;
