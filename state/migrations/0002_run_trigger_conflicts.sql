-- 0002: what started a run (the agent's triggers) and how many conflicts a
-- two-way run kept, for `ferry status`.
ALTER TABLE runs ADD COLUMN trigger TEXT NOT NULL DEFAULT '';   -- cli | startup | watch | schedule | manual
ALTER TABLE runs ADD COLUMN conflicts INTEGER NOT NULL DEFAULT 0;
