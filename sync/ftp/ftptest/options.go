package ftptest

import "time"

// TLSMode selects whether and how the server speaks TLS (RFC 4217).
type TLSMode int

const (
	// TLSNone serves plain FTP; AUTH TLS is answered with 502.
	TLSNone TLSMode = iota
	// TLSExplicit serves plain FTP until the client sends AUTH TLS. Unless
	// Options.TLSOptional is set, PASS before AUTH TLS is refused with 530
	// and transfers without PROT P with 521, like vsftpd with
	// force_local_logins_ssl and force_local_data_ssl.
	TLSExplicit
	// TLSImplicit speaks TLS from the first byte of every connection.
	TLSImplicit
)

// String returns "none", "explicit" or "implicit".
func (m TLSMode) String() string {
	switch m {
	case TLSExplicit:
		return "explicit"
	case TLSImplicit:
		return "implicit"
	}
	return "none"
}

// Defaults used when the matching Options field is zero.
const (
	DefaultUser        = "test"
	DefaultPassword    = "test"
	DefaultIdleTimeout = 5 * time.Minute
	DefaultIOTimeout   = 30 * time.Second
	DefaultCloseWait   = 5 * time.Second
)

// Options configures a Server. The zero value serves plain FTP to user
// "test" with password "test" with every feature on.
type Options struct {
	User     string // login name; DefaultUser when empty
	Password string // password; DefaultPassword when empty

	TLS         TLSMode
	TLSOptional bool // TLSExplicit only: allow login and transfers without TLS
	// RequireTLSResume refuses a PROT P data connection whose TLS session
	// does not resume the control connection's (522), like vsftpd's
	// require_ssl_reuse=YES and proftpd's default.
	RequireTLSResume bool

	DisableMLSD bool // FEAT without MLST; MLSD and MLST answer 500 (vsftpd)
	DisableMFMT bool // FEAT without MFMT; MFMT answers 500 (vsftpd, proftpd < 1.3.6)
	DisableEPSV bool // EPSV and EPRT answer 500
	// EnableMDTMSet accepts vsftpd's "MDTM YYYYMMDDHHMMSS path" to set a
	// file's modification time (UTC).
	EnableMDTMSet bool
	// LocalTime, when set, is the zone of the times LIST shows, MDTM
	// answers and vsftpd's MDTM setter takes, like vsftpd with
	// use_localtime=YES and the daemon's TZ (MLSD, MLST and MFMT stay in
	// UTC). Server.SetLocalTime changes it while the server runs: a daemon
	// restarted in another zone.
	LocalTime *time.Location
	// RefuseRestSTOR answers REST-then-STOR and APPE with
	// "451 Append/Restart not permitted", like proftpd without AllowStoreRestart.
	RefuseRestSTOR bool
	// NoRenameOver refuses an RNTO whose target exists with "550 Cannot
	// create a file when that file already exists." (IIS and other
	// Windows servers): the client must delete the target first.
	NoRenameOver bool
	// UTF8Reply504 answers OPTS UTF8 ON with 504, like pure-ftpd.
	UTF8Reply504 bool
	// ListLimit, when positive, cuts LIST, NLST and MLSD after that many
	// entries and ends them with "226 Output truncated to N matches", like
	// pure-ftpd's LimitRecursion.
	ListLimit int
	// DropDataAfter, when positive, makes RETR send at most that many bytes,
	// then reset the data connection (no TLS close_notify) and reply 426.
	DropDataAfter int64

	// Banner is the greeting (code 220), one element per line; a default
	// one-line greeting when empty.
	Banner []string
	// MaxConns, when positive, answers "421 Too many connections" to a
	// connection beyond that many simultaneous sessions and closes it.
	MaxConns int
	// MaxLogins, when positive, answers PASS with "421 Too many
	// connections" (see MaxLoginsCode) and closes the session when that
	// many sessions are logged in already, like pure-ftpd's per-user limit: the refusal comes
	// after the greeting, at login. A session counts until it has ended on
	// the server's side.
	MaxLogins int
	// MaxLoginsCode is the reply code of MaxLogins' refusal: 421 when
	// zero; 530 answers like proftpd's MaxClients and MaxClientsPerUser
	// ("530 Sorry, the maximum number of clients (2) for this user are
	// already connected.").
	MaxLoginsCode int

	// IdleTimeout closes a session whose control connection stays silent
	// that long (DefaultIdleTimeout when zero).
	IdleTimeout time.Duration
	// IOTimeout bounds every other network read and write, data accept and
	// dial, and the TLS handshakes (DefaultIOTimeout when zero).
	IOTimeout time.Duration
	// CloseWait is how long Close waits for sessions to end before it panics
	// naming the ones still running (DefaultCloseWait when zero).
	CloseWait time.Duration

	// Now, when set, is the clock LIST uses to choose between time of day
	// and year; time.Now when nil.
	Now func() time.Time

	// Logf, when set, receives the protocol dialogue (PASS masked) and
	// server-side errors. It may be called from several goroutines.
	Logf func(format string, args ...any)

	// Hook, when set, sees every command before the server does, on the
	// session's goroutine. cmd is upper case, arg is the rest of the line
	// after one space. Returning true means the hook handled the command
	// (it usually replied through s); false lets the server handle it.
	// Hook is also called once with cmd "" before the greeting is sent;
	// returning true then suppresses the greeting.
	//
	// A hook that blocks must also wait on s.Done(), or Close cannot end it.
	Hook func(s *Session, cmd, arg string) bool
}

func (o *Options) user() string {
	if o.User == "" {
		return DefaultUser
	}
	return o.User
}

func (o *Options) password() string {
	if o.Password == "" {
		return DefaultPassword
	}
	return o.Password
}

func (o *Options) idleTimeout() time.Duration {
	if o.IdleTimeout <= 0 {
		return DefaultIdleTimeout
	}
	return o.IdleTimeout
}

func (o *Options) ioTimeout() time.Duration {
	if o.IOTimeout <= 0 {
		return DefaultIOTimeout
	}
	return o.IOTimeout
}

func (o *Options) closeWait() time.Duration {
	if o.CloseWait <= 0 {
		return DefaultCloseWait
	}
	return o.CloseWait
}
