-- The first schema of the run store. Times are RFC 3339 text in UTC with a
-- fixed nine-digit fraction, so that text order is time order. JSON columns
-- hold JSON text; NULL means "not given".

CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	kind        TEXT NOT NULL,          -- llm, experiment, idea, research, ...
	status      TEXT NOT NULL,          -- running, done, failed, stopped
	model       TEXT NOT NULL DEFAULT '',
	dir         TEXT NOT NULL,          -- absolute path of the run directory
	config      TEXT,                   -- JSON
	error       TEXT NOT NULL DEFAULT '',
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL,
	finished_at TEXT
) STRICT;

CREATE INDEX runs_created ON runs (created_at);

CREATE TABLE phases (
	id         INTEGER PRIMARY KEY,
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	status     TEXT NOT NULL,
	started_at TEXT NOT NULL,
	ended_at   TEXT,
	UNIQUE (run_id, name)
) STRICT;

CREATE TABLE steps (
	id         INTEGER PRIMARY KEY,
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	phase      TEXT,                    -- phase name, NULL outside any phase
	seq        INTEGER NOT NULL,        -- 1, 2, 3, ... within the run
	kind       TEXT NOT NULL,
	input      TEXT,                    -- JSON
	output     TEXT,                    -- JSON
	status     TEXT NOT NULL,           -- running, done, failed
	started_at TEXT NOT NULL,
	ended_at   TEXT,
	UNIQUE (run_id, seq)
) STRICT;

CREATE TABLE llm_calls (
	id                 INTEGER PRIMARY KEY,
	run_id             TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	step_id            INTEGER REFERENCES steps (id) ON DELETE SET NULL,
	seq                INTEGER NOT NULL, -- 1, 2, 3, ... within the run
	provider           TEXT NOT NULL,
	model              TEXT NOT NULL,
	request_hash       TEXT NOT NULL,
	request            TEXT NOT NULL,    -- JSON
	response           TEXT,             -- JSON, NULL when the call failed
	error              TEXT NOT NULL DEFAULT '',
	input_tokens       INTEGER NOT NULL DEFAULT 0,
	output_tokens      INTEGER NOT NULL DEFAULT 0,
	cache_read_tokens  INTEGER NOT NULL DEFAULT 0,
	cache_write_tokens INTEGER NOT NULL DEFAULT 0,
	cost_usd           REAL NOT NULL DEFAULT 0,
	price_unknown      INTEGER NOT NULL DEFAULT 0, -- llm.Cost.Unknown
	started_at         TEXT NOT NULL,
	latency_ms         INTEGER NOT NULL DEFAULT 0,
	UNIQUE (run_id, seq)
) STRICT;

CREATE INDEX llm_calls_request ON llm_calls (run_id, request_hash);
CREATE INDEX llm_calls_step ON llm_calls (step_id);

CREATE TABLE events (
	id     INTEGER PRIMARY KEY,
	run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq    INTEGER NOT NULL,             -- 1, 2, 3, ... within the run
	time   TEXT NOT NULL,
	type   TEXT NOT NULL,
	data   TEXT,                         -- JSON
	UNIQUE (run_id, seq)
) STRICT;

CREATE TABLE artifacts (
	id         INTEGER PRIMARY KEY,
	run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	path       TEXT NOT NULL,            -- relative to the run directory, slash-separated
	kind       TEXT NOT NULL DEFAULT '',
	sha256     TEXT NOT NULL,
	size       INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (run_id, name)
) STRICT;
