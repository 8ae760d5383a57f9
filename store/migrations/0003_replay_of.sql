-- A call answered from the record instead of the model (a resumed run
-- reusing the answer of a step that was cut off) is recorded too, against
-- the step that used it, with replay_of the seq of the call whose answer it
-- reused and no tokens or cost. 0: the call went to the model.
ALTER TABLE llm_calls ADD COLUMN replay_of INTEGER NOT NULL DEFAULT 0;
