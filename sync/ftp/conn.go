package ftp

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"time"
)

// TLSMode says whether and how a connection is encrypted.
type TLSMode uint8

const (
	TLSOff      TLSMode = iota // plain FTP
	TLSExplicit                // AUTH TLS on the control port, then PBSZ 0 and PROT P (RFC 4217)
	TLSImplicit                // TLS from the first byte (ftps://, port 990)
)

func (m TLSMode) String() string {
	switch m {
	case TLSExplicit:
		return "explicit"
	case TLSImplicit:
		return "implicit"
	}
	return "off"
}

// Config says how to reach and log in to one server.
type Config struct {
	Addr     string // host:port
	User     string // "anonymous" when empty
	Password string

	TLS TLSMode
	// TLSConfig is cloned for every connection; its ServerName defaults to
	// the host of Addr. Each Conn gets its own session cache, so that data
	// connections resume the control connection's TLS session (vsftpd and
	// proftpd refuse data connections that do not).
	TLSConfig *tls.Config

	Active bool // data connections with EPRT/PORT instead of EPSV/PASV

	// Timeout bounds every single wait on the network: dialling, one reply,
	// one read or write of data. Default 30 s.
	Timeout time.Duration

	// Dial opens TCP connections; net.Dialer's DialContext by default.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)

	// Location is the server's time zone, used for LIST times (they carry
	// none). Default UTC.
	Location *time.Location
	// Now returns the current time, for the year of "Nov 24 06:31" LIST
	// times. Default time.Now.
	Now func() time.Time

	// IdleCheck is how long a pooled connection may sit idle before Pool.Get
	// checks it with a NOOP (and dials anew when it is gone). Default 30 s.
	IdleCheck time.Duration

	// Trace, when set, receives the control dialogue, one line per command
	// or reply line, with the PASS argument masked.
	Trace func(line string)
}

func (cfg *Config) timeout() time.Duration {
	if cfg.Timeout > 0 {
		return cfg.Timeout
	}
	return 30 * time.Second
}

func (cfg *Config) idleCheck() time.Duration {
	if cfg.IdleCheck > 0 {
		return cfg.IdleCheck
	}
	return 30 * time.Second
}

func (cfg *Config) now() time.Time {
	if cfg.Now != nil {
		return cfg.Now()
	}
	return time.Now()
}

func (cfg *Config) location() *time.Location {
	if cfg.Location != nil {
		return cfg.Location
	}
	return time.UTC
}

// Conn is one logged-in control connection. It is not safe for concurrent
// use.
type Conn struct {
	cfg     *Config
	conn    net.Conn // the control connection (a *tls.Conn once encrypted)
	text    *textproto.Writer
	r       *bufio.Reader
	tlsConf *tls.Config // for data connections, sharing conn's session cache
	feat    map[string]string
	prot    bool // PROT P in force

	epsvFailed bool // EPSV refused once: use PASV from now on

	// Data-port prefetch (SetPrefetch): after a transfer the next EPSV goes
	// out at once, so the server prepares the next data port while the
	// client finishes the last file. epsvInFlight: its reply is unread;
	// epsvPort: read, not used yet.
	prefetch     bool
	epsvInFlight bool
	epsvPort     int
	eprtFailed   bool

	broken bool // a reply was lost or the connection failed: do not reuse

	buf []byte // copy buffer of this connection's transfers (copyBuf)

	idleSince time.Time // when the connection was last put back in its Pool

	profMu *sync.Mutex // guards prof (shared by a Pool's connections)
	prof   *Profile
}

// Dial connects, logs in and prepares a Conn for binary transfers: the
// greeting, AUTH TLS (explicit mode), USER/PASS, PBSZ 0 and PROT P (TLS),
// FEAT, OPTS UTF8 ON (when FEAT lists UTF8) and TYPE I.
func Dial(ctx context.Context, cfg Config) (*Conn, error) {
	return dial(ctx, &cfg, &sync.Mutex{}, &Profile{})
}

func dial(ctx context.Context, cfg *Config, profMu *sync.Mutex, prof *Profile) (*Conn, error) {
	if err := validateArg(cfg.User); err != nil {
		return nil, fmt.Errorf("ftp: user name: %w", err)
	}
	if err := validateArg(cfg.Password); err != nil {
		return nil, fmt.Errorf("ftp: password: %w", err)
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: address %q: %w", cfg.Addr, err)
	}
	dialFn := cfg.Dial
	if dialFn == nil {
		d := &net.Dialer{}
		dialFn = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.timeout())
	defer cancel()
	nc, err := dialFn(dctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("ftp: connect %s: %w", cfg.Addr, err)
	}
	c := &Conn{cfg: cfg, profMu: profMu, prof: prof}
	if cfg.TLS != TLSOff {
		c.tlsConf = tlsConfig(cfg.TLSConfig, host)
	}
	c.setConn(nc)
	if cfg.TLS == TLSImplicit {
		if err := c.startTLS(ctx); err != nil {
			nc.Close()
			return nil, err
		}
	}
	if err := c.login(ctx); err != nil {
		c.conn.Close()
		return nil, err
	}
	return c, nil
}

func tlsConfig(base *tls.Config, host string) *tls.Config {
	var conf *tls.Config
	if base != nil {
		conf = base.Clone()
	} else {
		conf = &tls.Config{}
	}
	if conf.ServerName == "" {
		// Also the session cache key: with it set, data connections (other
		// ports) find the control connection's session and resume it.
		conf.ServerName = host
	}
	conf.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	return conf
}

func (c *Conn) setConn(nc net.Conn) {
	c.conn = nc
	c.r = bufio.NewReaderSize(nc, 4096)
	c.text = textproto.NewWriter(bufio.NewWriter(nc))
}

func (c *Conn) startTLS(ctx context.Context) error {
	tc := tls.Client(c.conn, c.tlsConf)
	if err := c.withDeadline(ctx, func() error { return tc.HandshakeContext(ctx) }); err != nil {
		return fmt.Errorf("ftp: TLS handshake with %s: %w", c.cfg.Addr, err)
	}
	c.setConn(tc)
	return nil
}

func (c *Conn) login(ctx context.Context) error {
	greet, err := c.read(ctx, "")
	if err != nil {
		return fmt.Errorf("ftp: greeting from %s: %w", c.cfg.Addr, err)
	}
	if greet.Code != 220 {
		return &Error{Cmd: "(greeting)", Code: greet.Code, Msg: greet.Msg()}
	}
	if c.cfg.TLS == TLSExplicit {
		if _, err := c.Cmd(ctx, 2, "AUTH TLS"); err != nil {
			return err
		}
		if err := c.startTLS(ctx); err != nil {
			return err
		}
	}
	user := c.cfg.User
	if user == "" {
		user = "anonymous"
	}
	rep, err := c.Cmd(ctx, 0, "USER "+user)
	if err != nil {
		return err
	}
	switch {
	case rep.Code == 331 || rep.Code == 332:
		if _, err := c.Cmd(ctx, 2, "PASS "+c.cfg.Password); err != nil {
			return err
		}
	case rep.Code/100 != 2:
		return &Error{Cmd: "USER " + user, Code: rep.Code, Msg: rep.Msg()}
	}
	// After login the setup commands go out in one write (RFC 959 lets a
	// client send commands ahead; each reply is still checked in order):
	// PBSZ 0 and PROT P under TLS (RFC 4217 section 9), FEAT, and TYPE I
	// (always binary, and before any SIZE: proftpd refuses SIZE in ASCII
	// mode, "550 SIZE not allowed in ASCII mode").
	setup := []string{"FEAT", "TYPE I"}
	if c.cfg.TLS != TLSOff {
		setup = []string{"PBSZ 0", "PROT P", "FEAT", "TYPE I"}
	}
	if err := c.send(ctx, setup...); err != nil {
		return err
	}
	var setupErr error
	for _, line := range setup {
		rep, err := c.read(ctx, line)
		if err != nil {
			return err
		}
		switch {
		case line == "FEAT":
			c.feat = map[string]string{}
			if rep.Code == 211 && len(rep.Lines) > 2 {
				c.feat = ParseFeat(rep.Lines[1 : len(rep.Lines)-1])
			}
		case rep.Code/100 != 2 && setupErr == nil:
			setupErr = &Error{Cmd: line, Code: rep.Code, Msg: rep.Msg()}
		}
	}
	if setupErr != nil {
		return setupErr
	}
	c.prot = c.cfg.TLS != TLSOff
	if _, ok := c.feat["UTF8"]; ok {
		// pure-ftpd 1.0.50 answers 504 although FEAT lists UTF8; names
		// still pass as UTF-8 bytes, so a refusal is not an error.
		if _, err := c.Cmd(ctx, 0, "OPTS UTF8 ON"); err != nil {
			return err
		}
	}
	return nil
}

// copyBuf returns the connection's transfer buffer, made on first use: one
// per connection instead of one per file (io.Copy's 32 KiB each time was
// most of a small-file pull's garbage).
func (c *Conn) copyBuf() []byte {
	if c.buf == nil {
		c.buf = make([]byte, 256<<10)
	}
	return c.buf
}

// Feature reports whether FEAT listed name (upper case, e.g. "MLST",
// "MFMT", "UTF8") and its parameters.
func (c *Conn) Feature(name string) (params string, ok bool) {
	params, ok = c.feat[name]
	return params, ok
}

// Broken reports whether the connection lost sync with the server (an
// operation failed mid-reply, timed out or was cancelled) and must not be
// reused.
func (c *Conn) Broken() bool { return c.broken }

// Close sends QUIT (briefly) and closes the connection.
func (c *Conn) Close() error {
	if !c.broken {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Cmd(ctx, 0, "QUIT")
		cancel()
	}
	return c.conn.Close()
}

// validateArg rejects arguments that would smuggle a second command onto the
// control connection (STYLE: reject CR or LF before anything is written).
func validateArg(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return fmt.Errorf("%q contains a line break", s)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%q contains a NUL byte", s)
	}
	return nil
}

// withDeadline runs fn with the connection's deadline set to the configured
// timeout, or earlier when ctx is cancelled. A failure marks c broken.
func (c *Conn) withDeadline(ctx context.Context, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.conn.SetDeadline(time.Now().Add(c.cfg.timeout()))
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
	err := fn()
	if !stop() && ctx.Err() != nil {
		c.broken = true
		if err == nil { // fn finished just as ctx ended
			return ctx.Err()
		}
		return fmt.Errorf("%w (%w)", ctx.Err(), err)
	}
	if err != nil {
		var pe *ProtocolError
		var ne net.Error
		if errors.As(err, &pe) || errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			c.broken = true
		}
	}
	return err
}

// masked returns line as it may be logged or shown: PASS arguments hidden.
func masked(line string) string {
	if len(line) >= 5 && strings.EqualFold(line[:5], "PASS ") {
		return line[:5] + "****"
	}
	return line
}

func (c *Conn) trace(prefix, line string) {
	if c.cfg.Trace != nil {
		c.cfg.Trace(prefix + line)
	}
}

// SetPrefetch turns on data-port prefetch: after each download or listing,
// and in the same write as the commands that finish an upload (Pipeline),
// the client asks for the next passive data port without waiting for the
// answer. Callers turn it on when more transfers are queued for this
// connection. It has no effect in active mode.
func (c *Conn) SetPrefetch(on bool) { c.prefetch = on }

func (c *Conn) canPrefetch() bool {
	return c.prefetch && !c.cfg.Active && !c.epsvFailed && !c.epsvInFlight && c.epsvPort == 0
}

// settle reads the reply of a prefetched EPSV before other commands are
// sent, keeping its port for the next data connection.
func (c *Conn) settle(ctx context.Context) error {
	if !c.epsvInFlight {
		return nil
	}
	c.epsvInFlight = false
	rep, err := c.read(ctx, "EPSV")
	if err != nil {
		return err
	}
	if rep.Code/100 != 2 {
		if rep.Code >= 500 {
			c.epsvFailed = true
		}
		return nil
	}
	if port, err := ParseEPSV(rep.Msg()); err == nil {
		c.epsvPort = port
	}
	return nil
}

// send writes command lines without reading replies.
func (c *Conn) send(ctx context.Context, lines ...string) error {
	if err := c.settle(ctx); err != nil {
		return err
	}
	for _, l := range lines {
		if err := validateArg(l); err != nil {
			return fmt.Errorf("ftp: %s: %w", masked(strings.SplitN(l, " ", 2)[0]), err)
		}
	}
	err := c.withDeadline(ctx, func() error {
		for _, l := range lines {
			c.trace("> ", masked(l))
			if _, err := c.text.W.WriteString(l + "\r\n"); err != nil {
				return err
			}
		}
		return c.text.W.Flush()
	})
	if err != nil {
		names := make([]string, len(lines))
		for i, l := range lines {
			names[i] = masked(l)
		}
		return fmt.Errorf("ftp: sending %s: %w", strings.Join(names, ", "), err)
	}
	return nil
}

// read reads one reply; cmd names the command it answers, for errors.
func (c *Conn) read(ctx context.Context, cmd string) (*Reply, error) {
	var rep *Reply
	err := c.withDeadline(ctx, func() error {
		var err error
		rep, err = ReadReply(c.r)
		return err
	})
	if err != nil {
		// The reply stays unread (even when ctx was done before the
		// read began): the next reply read would answer the wrong
		// command.
		c.broken = true
		var pe *ProtocolError
		if errors.As(err, &pe) && pe.Cmd == "" {
			pe.Cmd = masked(cmd)
		}
		if cmd != "" {
			return nil, fmt.Errorf("ftp: reading reply to %s: %w", masked(cmd), err)
		}
		return nil, fmt.Errorf("ftp: reading reply: %w", err)
	}
	for _, l := range rep.Lines {
		c.trace("< ", fmt.Sprintf("%d %s", rep.Code, l))
	}
	return rep, nil
}

// Cmd sends one command line and reads its reply. When class is 1..5, a
// reply of another class is returned as *Error; class 0 accepts any reply.
// A 1xx preliminary reply is only valid before a data transfer, so Cmd
// treats it like any other reply: callers that open data connections use
// transfer.
func (c *Conn) Cmd(ctx context.Context, class int, line string) (*Reply, error) {
	if err := c.send(ctx, line); err != nil {
		return nil, err
	}
	rep, err := c.read(ctx, line)
	if err != nil {
		return nil, err
	}
	if class != 0 && rep.Code/100 != class {
		if rep.Code == 421 {
			c.broken = true // 421: the server is closing this connection
		}
		return rep, &Error{Cmd: masked(line), Code: rep.Code, Msg: rep.Msg()}
	}
	return rep, nil
}

// Pipeline sends several command lines in one write and then reads their
// replies in order, saving round trips. Each command must expect a reply of
// class 2; the first unexpected reply is returned as *Error after all
// replies were read (so the connection stays in step).
func (c *Conn) Pipeline(ctx context.Context, lines ...string) error {
	reps, err := c.Batch(ctx, lines...)
	if err != nil {
		return err
	}
	for i, rep := range reps {
		if err := Expect(lines[i], rep); err != nil {
			return err
		}
	}
	return nil
}

// Batch sends several command lines in one write and returns their replies
// in order, whatever their codes: the caller decides what each one means
// (a SIZE checked against the bytes sent, a rename that may fail on its
// own). The error is only for a connection that failed; the replies read
// before it are returned with it. With prefetch on, the next EPSV goes out
// in the same write (see SetPrefetch).
func (c *Conn) Batch(ctx context.Context, lines ...string) ([]*Reply, error) {
	out := lines
	prefetch := c.canPrefetch()
	if prefetch {
		out = append(lines[:len(lines):len(lines)], "EPSV")
	}
	if err := c.send(ctx, out...); err != nil {
		return nil, err
	}
	c.epsvInFlight = prefetch
	reps := make([]*Reply, 0, len(lines))
	for _, l := range lines {
		rep, err := c.read(ctx, l)
		if err != nil {
			return reps, err
		}
		if rep.Code == 421 {
			c.broken = true // the server is closing this connection
		}
		reps = append(reps, rep)
	}
	return reps, nil
}

// Expect returns rep as an *Error for line unless it is a success: class
// 2, or 350 to RNFR or REST (it asks for the next command).
func Expect(line string, rep *Reply) error {
	if rep.Code/100 == 2 || rep.Code == 350 && (strings.HasPrefix(line, "RNFR ") || strings.HasPrefix(line, "REST ")) {
		return nil
	}
	return &Error{Cmd: masked(line), Code: rep.Code, Msg: rep.Msg()}
}
