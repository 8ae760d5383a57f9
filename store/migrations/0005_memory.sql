-- The research memory: what each finished research run tried on a task and
-- how it scored, so that later runs on the same task and data start from
-- that frontier. Keyed by the task's name and the fingerprint of its data
-- (a hash of the workspace and the external data files); one row per idea
-- tried. Rows outlive the runs they came from (no foreign key): clearing the
-- memory is `mlrc memory clear`.

CREATE TABLE memory (
	id          INTEGER PRIMARY KEY,
	task        TEXT NOT NULL,
	fingerprint TEXT NOT NULL,
	run_id      TEXT NOT NULL,
	created_at  TEXT NOT NULL,             -- same format as every time in the store
	idea        TEXT NOT NULL,             -- the idea's title
	changes     TEXT NOT NULL,             -- a summary of the code changes
	metric      TEXT NOT NULL,
	goal        TEXT NOT NULL,             -- maximize or minimize
	baseline    REAL,
	best        REAL,                      -- NULL: no run beat or matched the baseline
	relative    REAL,                      -- relative change in the goal's direction (0.44 = 44% better)
	verdict     TEXT NOT NULL              -- validated, not significant, stopped, ...
) STRICT;

CREATE INDEX memory_task ON memory (task, fingerprint);
