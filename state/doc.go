// Package state is ferry's SQLite state cache: what both sides of each sync
// root looked like after the last successful sync (the plan.State the
// planner compares against), the history of runs shown by `ferry status`, the
// per-server quirks profiles, and a journal of non-atomic remote steps in
// flight for crash recovery.
//
// One *DB owns the *sql.DB. Every connection runs with journal_mode=WAL,
// synchronous=NORMAL, foreign_keys=ON and a busy timeout, each set and read
// back when the connection is made. The schema comes from numbered,
// embedded migrations (migrations/NNNN_name.sql), each applied in its own
// transaction and recorded in PRAGMA user_version.
//
// Durability: with WAL and synchronous=NORMAL a committed transaction
// survives a crash or kill of the process; a power loss may roll back the
// last few commits, never corrupt the file.
//
// Passwords are never stored. Callers pass remote URLs with the password
// already removed (ftp://user@host/path); Root rejects one that still
// carries a password with ErrPasswordInRemote. Server profile keys must not
// contain one either.
//
// The package never reads the wall clock for data it records: every time
// stored (run start and end, profile probe time) is passed in by the caller.
// The only clock it uses is the Writer's batching timer.
package state
