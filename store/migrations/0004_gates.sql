-- Human gates: a question a run asks a person (pick an idea, approve the
-- plan, a checkpoint, the final answer, a question from the agent), which any
-- process may answer: the terminal that started the run, the web UI, an MCP
-- server. The first answer wins: an answer is written only while the gate is
-- open (UPDATE … WHERE status = 'open').

CREATE TABLE gates (
	id          INTEGER PRIMARY KEY,
	run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq         INTEGER NOT NULL,        -- 1, 2, 3, ... within the run
	kind        TEXT NOT NULL,           -- pick_idea, approve_plan, checkpoint, final, ask
	question    TEXT NOT NULL,
	options     TEXT,                    -- JSON: what may be picked (pick_idea: the ideas), NULL for none
	status      TEXT NOT NULL,           -- open, answered, cancelled
	answer      TEXT,                    -- JSON, NULL until answered
	answered_by TEXT NOT NULL DEFAULT '', -- terminal, web, mcp; the reason when cancelled
	opened_at   TEXT NOT NULL,
	closed_at   TEXT,
	UNIQUE (run_id, seq)
) STRICT;

CREATE INDEX gates_open ON gates (status, run_id);
