-- 0003: what the running agent knows of each job and `ferry status` shows
-- (a separate process): its watcher, its schedule and next run, and why
-- it is paused or failing. Rewritten by the agent as these change.
CREATE TABLE agent_jobs (
	name     TEXT PRIMARY KEY,
	mode     TEXT NOT NULL,
	local    TEXT NOT NULL,
	remote   TEXT NOT NULL,   -- URL without password
	watch    TEXT NOT NULL,   -- off | starting | ok | degraded
	watch_why TEXT NOT NULL DEFAULT '',
	schedule TEXT NOT NULL,   -- as configured; '' for none
	next_run INTEGER,         -- unix ns; NULL: none planned
	problem  TEXT NOT NULL DEFAULT '', -- paused or failing, and why; '' when fine
	updated  INTEGER NOT NULL
) WITHOUT ROWID;
