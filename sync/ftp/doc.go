// Package ftp is ferry's FTP client: one control connection per Conn, spoken
// over net/textproto, with data connections opened per transfer.
//
// It implements RFC 959 (the base protocol), RFC 2228 and RFC 4217 (AUTH TLS,
// PBSZ, PROT: explicit FTPS; implicit FTPS on port 990), RFC 2428 (EPSV,
// EPRT) and RFC 3659 (SIZE, MDTM, REST STREAM, MLST/MLSD), plus the common
// MFMT extension and vsftpd's "MDTM time path" form for setting times.
//
// Every operation takes a context.Context. Cancellation and the per-operation
// timeout both become deadlines on the underlying net.Conn, so no goroutine
// races a timer; a Conn whose operation was cancelled or timed out mid-reply
// is marked broken and must be closed (Pool does this).
//
// Server replies that are not the expected class are returned as *Error,
// which carries the command (with PASS masked) and the reply code, so callers
// branch on the code with errors.As and never on message text.
//
// What ferry learns about a server's quirks is kept in a Profile shared by a
// Pool's connections: how it sets mtimes, REST, RNTO over a name, its
// connection limit, and its time zone (Zone: LIST gives no zone, and some
// servers list local time; ProbeZone measures it against this machine's
// clock and List, ModTime and SetModTime correct for it). Probe finds all of
// it out at once, for `ferry probe`.
//
// A Conn is not safe for concurrent use: use one per goroutine, from a Pool.
package ftp
