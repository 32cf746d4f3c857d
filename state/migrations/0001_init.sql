-- 0001: initial schema of the ferry state cache.
-- Times are INTEGER unix nanoseconds (UTC); NULL means unknown.
-- Durations (precisions) are INTEGER nanoseconds.

-- A sync root: one local folder paired with one remote URL (never with a
-- password in it).
CREATE TABLE roots (
	id     INTEGER PRIMARY KEY,
	local  TEXT NOT NULL,  -- absolute, cleaned local path
	remote TEXT NOT NULL,  -- remote URL without password
	UNIQUE (local, remote)
);

-- Free-form facts the engine remembers per root (local device id, file
-- count, job name, ...).
CREATE TABLE root_meta (
	root_id INTEGER NOT NULL REFERENCES roots (id) ON DELETE CASCADE,
	key     TEXT NOT NULL,
	value   TEXT NOT NULL,
	PRIMARY KEY (root_id, key)
) WITHOUT ROWID;

-- plan.Record per path: both sides as they were after the last successful
-- sync of that path. The primary key (root_id, path) with BINARY collation
-- serves Load (one root) and LoadUnder (path ranges below a folder).
CREATE TABLE entries (
	root_id      INTEGER NOT NULL REFERENCES roots (id) ON DELETE CASCADE,
	path         TEXT NOT NULL,    -- slash-separated, relative to the root
	kind         INTEGER NOT NULL, -- plan.Kind: 1 file, 2 dir
	local_kind   INTEGER NOT NULL, -- 0 when the side is unknown
	local_size   INTEGER NOT NULL,
	local_mtime  INTEGER,
	local_prec   INTEGER NOT NULL,
	remote_kind  INTEGER NOT NULL,
	remote_size  INTEGER NOT NULL,
	remote_mtime INTEGER,
	remote_prec  INTEGER NOT NULL,
	PRIMARY KEY (root_id, path)
) WITHOUT ROWID;

-- One row per sync run, for `ferry status`. ended and result stay NULL
-- until FinishRun (a run that never finished was killed).
CREATE TABLE runs (
	id            INTEGER PRIMARY KEY,
	root_id       INTEGER NOT NULL REFERENCES roots (id) ON DELETE CASCADE,
	job           TEXT NOT NULL,   -- agent job name; '' for a command-line run
	mode          TEXT NOT NULL,   -- push | pull | two-way
	started       INTEGER NOT NULL,
	ended         INTEGER,
	result        TEXT CHECK (result IN ('ok', 'failed', 'partial', 'interrupted')),
	files_up      INTEGER NOT NULL DEFAULT 0,
	files_down    INTEGER NOT NULL DEFAULT 0,
	files_deleted INTEGER NOT NULL DEFAULT 0,
	bytes_up      INTEGER NOT NULL DEFAULT 0,
	bytes_down    INTEGER NOT NULL DEFAULT 0,
	errors        INTEGER NOT NULL DEFAULT 0,
	error_text    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_by_job ON runs (root_id, job, started);

-- Server quirks profile per server ("host:port user"), serialised by the
-- FTP layer.
CREATE TABLE server_profiles (
	key       TEXT PRIMARY KEY,
	data      BLOB NOT NULL,
	probed_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Non-atomic steps in flight (delete-then-rename, temporary uploads), for
-- recovery after a crash. A row is deleted once its step is done.
CREATE TABLE journal (
	id      INTEGER PRIMARY KEY,
	root_id INTEGER NOT NULL REFERENCES roots (id) ON DELETE CASCADE,
	kind    TEXT NOT NULL,
	path    TEXT NOT NULL,
	data    TEXT NOT NULL
);
CREATE INDEX journal_by_root ON journal (root_id, id);
