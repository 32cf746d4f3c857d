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
// A Conn is not safe for concurrent use: use one per goroutine, from a Pool.
package ftp
