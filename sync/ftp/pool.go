package ftp

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Profile is what ferry learned about a server's quirks while talking to it
// (during runs, and all at once with Probe). A Pool's connections share one
// Profile. It is stored in the state cache as JSON; fields added later
// read as their zero value from older profiles, which must mean "not
// known yet".
type Profile struct {
	MTime MTimeMethod `json:"mtime"`
	// NoRestStor is true once the server refused REST before STOR
	// (proftpd by default: "451 Append/Restart not permitted").
	NoRestStor bool `json:"no_rest_stor,omitempty"`
	// NoRestRetr is true once the server refused or ignored REST before
	// RETR: downloads are not resumed, nor uploads checked for a resume.
	NoRestRetr bool `json:"no_rest_retr,omitempty"`
	// MaxConns is the connection count at which the server answered 421;
	// 0 when never met.
	MaxConns int `json:"max_conns,omitempty"`
	// RenameReplaces says whether RNTO onto an existing name replaces it
	// (SupportYes) or is refused (SupportNo: the upload path must delete
	// the old file first). This is the one place that fact is kept.
	RenameReplaces Support `json:"rename_replaces,omitempty"`
	// Zone is how the server's times differ from UTC (see Zone).
	Zone Zone `json:"zone,omitzero"`
}

// Support is a yes/no fact about a server that may not be known yet.
type Support uint8

const (
	SupportUnknown Support = iota // not found out yet
	SupportYes
	SupportNo
)

func (s Support) String() string {
	switch s {
	case SupportYes:
		return "yes"
	case SupportNo:
		return "no"
	}
	return "unknown"
}

// Pool hands out logged-in connections to one server, at most Max at once,
// reusing idle ones. A 421 ("too many connections") at login lowers the
// limit to the number of connections open at that moment and makes Get wait
// for one of them instead of failing; the limit grows back by one after
// every 64 successful reuses. So does a 530 once a login of the pool has
// succeeded: the credentials are good, so it is a connection limit
// (proftpd's MaxClients and MaxClientsPerUser answer 530, not 421).
//
// Get and Put are safe for concurrent use.
type Pool struct {
	cfg Config
	max int

	mu       sync.Mutex
	cond     *sync.Cond
	idle     []*Conn
	open     int // connections handed out or idle
	limit    int
	reuses   int
	closed   bool
	warming  bool  // Warm's dial is under way (counted in open)
	warmErr  error // Warm's dial failed: the next Get returns this
	loggedIn bool  // a login succeeded: the credentials are good
	profMu   sync.Mutex
	profile  Profile
}

// NewPool returns a pool of at most max connections (at least 1).
func NewPool(cfg Config, max int) *Pool {
	if max < 1 {
		max = 1
	}
	p := &Pool{cfg: cfg, max: max, limit: max}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// Config returns the pool's connection settings.
func (p *Pool) Config() Config { return p.cfg }

// Timeout returns the bound of every single network wait of the pool's
// connections: Config.Timeout, or its 30 s default.
func (p *Pool) Timeout() time.Duration { return p.cfg.timeout() }

// Profile returns a copy of what the pool's connections learned so far.
func (p *Pool) Profile() Profile {
	p.profMu.Lock()
	defer p.profMu.Unlock()
	return p.profile
}

// SetProfile seeds the pool with a profile remembered from an earlier run.
func (p *Pool) SetProfile(prof Profile) {
	p.profMu.Lock()
	defer p.profMu.Unlock()
	p.profile = prof
}

// ErrPoolClosed is returned by Get after Close.
var ErrPoolClosed = errors.New("ftp: connection pool closed")

// Get returns an idle connection or dials a new one. It waits while the pool
// is at its limit.
func (p *Pool) Get(ctx context.Context) (*Conn, error) {
	stop := context.AfterFunc(ctx, func() {
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	})
	defer stop()
	for {
		p.mu.Lock()
		for !p.closed && len(p.idle) == 0 && (p.open >= p.limit || p.warming) && p.warmErr == nil && ctx.Err() == nil {
			p.cond.Wait()
		}
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPoolClosed
		}
		if err := ctx.Err(); err != nil {
			p.mu.Unlock()
			return nil, err
		}
		if err := p.warmErr; err != nil {
			p.warmErr = nil
			p.mu.Unlock()
			return nil, err
		}
		if n := len(p.idle); n > 0 {
			c := p.idle[n-1]
			p.idle = p.idle[:n-1]
			p.reuses++
			if p.reuses%64 == 0 && p.limit < p.max {
				p.limit++
			}
			p.mu.Unlock()
			if time.Since(c.idleSince) < p.cfg.idleCheck() {
				return c, nil
			}
			// Idle long enough for the server to have given up on it
			// (vsftpd's idle_session_timeout is 300 s by default): check
			// it with a NOOP before use, and dial anew if it is gone.
			if err := c.Noop(ctx); err == nil {
				return c, nil
			}
			c.conn.Close()
			p.mu.Lock()
			p.open--
			p.mu.Unlock()
			continue
		}
		p.open++
		p.mu.Unlock()

		c, err := dial(ctx, &p.cfg, &p.profMu, &p.profile)
		p.mu.Lock()
		if err == nil {
			p.loggedIn = true
			p.mu.Unlock()
			return c, nil
		}
		p.open--
		var fe *Error
		if errors.As(err, &fe) && (fe.Code == 421 || fe.Code == 530 && p.loggedIn) && p.open > 0 {
			// Too many connections: live with the ones we have.
			p.limit = p.open
			p.profMu.Lock()
			p.profile.MaxConns = p.open
			p.profMu.Unlock()
			p.cond.Broadcast()
			p.mu.Unlock()
			continue
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		return nil, err
	}
}

// Warm dials and logs in one connection in the background, so the login
// overlaps what the caller does before its first Get (opening the state
// cache, loading the server's profile). The first Get waits for it and
// takes it, or its error: a login that failed is not tried a second time
// behind the user's back. Warm does nothing when the pool already has or
// is making a connection.
func (p *Pool) Warm(ctx context.Context) {
	p.mu.Lock()
	if p.closed || p.open > 0 || p.warming {
		p.mu.Unlock()
		return
	}
	p.open++
	p.warming = true
	p.mu.Unlock()
	go func() {
		c, err := dial(ctx, &p.cfg, &p.profMu, &p.profile)
		p.mu.Lock()
		p.warming = false
		closed := p.closed
		switch {
		case err != nil:
			p.open--
			p.warmErr = err
		case closed:
			p.open--
		default:
			p.loggedIn = true
			c.idleSince = time.Now()
			p.idle = append(p.idle, c)
		}
		p.cond.Broadcast()
		p.mu.Unlock()
		if err == nil && closed {
			c.Close()
		}
	}()
}

// Put returns a connection taken with Get. A broken connection is closed
// and forgotten.
func (p *Pool) Put(c *Conn) {
	p.mu.Lock()
	if c.broken || p.closed || p.open > p.limit {
		p.open--
		p.cond.Broadcast()
		p.mu.Unlock()
		c.Close()
		return
	}
	c.idleSince = time.Now()
	p.idle = append(p.idle, c)
	p.cond.Signal()
	p.mu.Unlock()
}

// Close closes the idle connections; connections still out are closed when
// they are Put back.
func (p *Pool) Close() error {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.closed = true
	p.open -= len(idle)
	p.cond.Broadcast()
	p.mu.Unlock()
	var errs []error
	for _, c := range idle {
		if err := c.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing connection: %w", err))
		}
	}
	return errors.Join(errs...)
}
