// Package ftptest runs a small FTP server over a local directory for tests and
// demos, in the manner of net/http/httptest. It is not meant for production:
// it listens on 127.0.0.1 only, knows one user, keeps no logs beyond
// Options.Logf, and trades throughput for predictability.
//
// The server speaks enough of RFC 959, RFC 2389 (FEAT/OPTS), RFC 2428
// (EPSV/EPRT), RFC 3659 (SIZE, MDTM, REST STREAM, MLST/MLSD) and RFC 4217
// (AUTH TLS, PBSZ, PROT; plus implicit TLS) for real clients such as curl and
// lftp to work against it. Every file operation goes through an os.Root, so a
// path can never leave the served directory; "/.." is "/" as on a chrooted
// vsftpd, and symbolic links that point outside the root are refused (550).
//
// Options toggles the behaviour of real servers (vsftpd's "MDTM time path",
// proftpd's refusal of REST before STOR, pure-ftpd's 504 to OPTS UTF8 ON and
// its truncated listings, connection limits, Windows servers' refusal to
// rename over an existing name). For faults no real server
// produces on demand, Options.Hook sees every command first and can answer
// it with the Session helpers: arbitrary replies or raw bytes, a PASV reply
// naming a foreign address, listings with injected lines, a data connection
// dropped mid-transfer, an upload cut short under a lying 226, or a stall
// until the test lets go.
//
// Transfers are always binary: TYPE A is accepted and ignored for files
// (like vsftpd's default ascii_upload_enable=NO); listings are sent with CRLF.
// Commands are handled one at a time, so ABOR is answered after the running
// transfer has ended (426 when the client closed the data connection, then 226).
package ftptest
