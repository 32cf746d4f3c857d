package ftp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// dataConn is one data connection being set up or in use. For active mode it
// holds the listener until the server connects.
type dataConn struct {
	c   *Conn
	nc  net.Conn
	ln  net.Listener
	ctx context.Context // the transfer's; set while bytes move
}

// openData prepares a data connection before the transfer command is sent:
// passive mode connects now (EPSV, falling back to PASV), active mode
// listens and tells the server where (EPRT, falling back to PORT).
func (c *Conn) openData(ctx context.Context) (*dataConn, error) {
	if c.cfg.Active {
		return c.openActive(ctx)
	}
	return c.openPassive(ctx)
}

func (c *Conn) openPassive(ctx context.Context) (*dataConn, error) {
	// Always connect to the control connection's peer: the address in a
	// PASV reply is ignored (as curl does), so a server cannot point us at
	// a third host, and NATed servers that announce private addresses work.
	peer, ok := c.conn.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("ftp: control connection has no TCP peer address (%v)", c.conn.RemoteAddr())
	}
	var port int
	if err := c.settle(ctx); err != nil {
		return nil, err
	}
	prefetched := c.epsvPort
	port, c.epsvPort = c.epsvPort, 0
	if port == 0 && !c.epsvFailed {
		rep, err := c.Cmd(ctx, 2, "EPSV")
		var fe *Error
		switch {
		case err == nil:
			if port, err = ParseEPSV(rep.Msg()); err != nil {
				return nil, fmt.Errorf("ftp: EPSV: %w", err)
			}
		case errors.As(err, &fe) && fe.Code >= 500:
			c.epsvFailed = true
		default:
			return nil, err
		}
	}
	if port == 0 {
		rep, err := c.Cmd(ctx, 2, "PASV")
		if err != nil {
			return nil, err
		}
		if _, port, err = ParsePASV(rep.Msg()); err != nil {
			return nil, fmt.Errorf("ftp: PASV: %w", err)
		}
	}
	addr := net.JoinHostPort(peer.IP.String(), strconv.Itoa(port))
	dctx, cancel := context.WithTimeout(ctx, c.cfg.timeout())
	defer cancel()
	dialFn := c.cfg.Dial
	if dialFn == nil {
		d := &net.Dialer{}
		dialFn = d.DialContext
	}
	nc, err := dialFn(dctx, "tcp", addr)
	if err != nil && prefetched != 0 && ctx.Err() == nil {
		// The server may have given up on a port asked for in advance:
		// ask again.
		return c.openPassive(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("ftp: data connection to %s: %w", addr, err)
	}
	return &dataConn{c: c, nc: nc}, nil
}

func (c *Conn) openActive(ctx context.Context) (*dataConn, error) {
	local, ok := c.conn.LocalAddr().(*net.TCPAddr)
	if !ok {
		return nil, fmt.Errorf("ftp: control connection has no TCP local address (%v)", c.conn.LocalAddr())
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(local.IP.String(), "0"))
	if err != nil {
		return nil, fmt.Errorf("ftp: active mode listen on %s: %w", local.IP, err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ip4 := local.IP.To4()
	if !c.eprtFailed {
		proto := "2"
		if ip4 != nil {
			proto = "1"
		}
		_, err := c.Cmd(ctx, 2, fmt.Sprintf("EPRT |%s|%s|%d|", proto, local.IP, port))
		var fe *Error
		switch {
		case err == nil:
			return &dataConn{c: c, ln: ln}, nil
		case errors.As(err, &fe) && fe.Code >= 500 && ip4 != nil:
			c.eprtFailed = true
		default:
			ln.Close()
			return nil, err
		}
	}
	if ip4 == nil {
		ln.Close()
		return nil, fmt.Errorf("ftp: server refused EPRT and PORT cannot carry IPv6 address %s", local.IP)
	}
	arg := fmt.Sprintf("%d,%d,%d,%d,%d,%d", ip4[0], ip4[1], ip4[2], ip4[3], port>>8, port&0xff)
	if _, err := c.Cmd(ctx, 2, "PORT "+arg); err != nil {
		ln.Close()
		return nil, err
	}
	return &dataConn{c: c, ln: ln}, nil
}

// ready completes the data connection after the server's 1xx reply: accept
// (active mode) and the TLS handshake (PROT P), which starts only after the
// 150 reply.
func (d *dataConn) ready(ctx context.Context) error {
	c := d.c
	if d.ln != nil {
		if tl, ok := d.ln.(*net.TCPListener); ok {
			tl.SetDeadline(time.Now().Add(c.cfg.timeout()))
		}
		stop := context.AfterFunc(ctx, func() { d.ln.Close() })
		nc, err := d.ln.Accept()
		stop()
		d.ln.Close()
		d.ln = nil
		if err != nil {
			return fmt.Errorf("ftp: waiting for the server's active data connection: %w", err)
		}
		// Only the server we talk to may connect (no port theft).
		want := c.conn.RemoteAddr().(*net.TCPAddr).IP
		if got, ok := nc.RemoteAddr().(*net.TCPAddr); !ok || !got.IP.Equal(want) {
			nc.Close()
			return fmt.Errorf("ftp: active data connection from %v, expected %v", nc.RemoteAddr(), want)
		}
		d.nc = nc
	}
	if c.prot {
		tc := tls.Client(d.nc, c.tlsConf)
		d.nc = tc
		if err := d.deadline(ctx, func() error { return tc.HandshakeContext(ctx) }); err != nil {
			return fmt.Errorf("ftp: TLS handshake on data connection: %w", err)
		}
	}
	return nil
}

// deadline runs fn with the data connection's deadline set.
func (d *dataConn) deadline(ctx context.Context, fn func() error) error {
	d.nc.SetDeadline(time.Now().Add(d.c.cfg.timeout()))
	stop := context.AfterFunc(ctx, func() { d.nc.SetDeadline(time.Unix(1, 0)) })
	err := fn()
	if !stop() && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Read and Write refresh the deadline on every call, so a slow but moving
// transfer never times out and a stalled one does. ctx is checked after the
// deadline is set: a cancellation either shows here or its AfterFunc (in
// transfer) moves the deadline into the past after this call set it.
func (d *dataConn) Read(p []byte) (int, error) {
	d.nc.SetReadDeadline(time.Now().Add(d.c.cfg.timeout()))
	if err := d.ctxErr(); err != nil {
		return 0, err
	}
	return d.nc.Read(p)
}

func (d *dataConn) Write(p []byte) (int, error) {
	d.nc.SetWriteDeadline(time.Now().Add(d.c.cfg.timeout()))
	if err := d.ctxErr(); err != nil {
		return 0, err
	}
	return d.nc.Write(p)
}

func (d *dataConn) ctxErr() error {
	if d.ctx == nil {
		return nil
	}
	return d.ctx.Err()
}

// finishWrite ends an upload: over TLS a close_notify, then read until the
// server closes (consuming TLS 1.3 session tickets: vsftpd otherwise sees an
// RST and answers 426), then close.
func (d *dataConn) finishWrite() error {
	var err error
	if tc, ok := d.nc.(*tls.Conn); ok {
		err = tc.CloseWrite()
		if err == nil {
			tc.SetReadDeadline(time.Now().Add(d.c.cfg.timeout()))
			if err = d.ctxErr(); err == nil { // as in Read
				_, err = io.Copy(io.Discard, io.LimitReader(tc, 1<<20))
			}
		}
	} else if tcp, ok := d.nc.(*net.TCPConn); ok {
		err = tcp.CloseWrite()
	}
	if cerr := d.nc.Close(); err == nil {
		err = cerr
	}
	return err
}

func (d *dataConn) close() {
	if d.ln != nil {
		d.ln.Close()
	}
	if d.nc != nil {
		d.nc.Close()
	}
}

// xfer says which way a transfer's bytes go, and when.
type xfer uint8

const (
	xferIn       xfer = iota // RETR and listings: read after the 1xx reply
	xferOut                  // STOR, APPE: write after the 1xx reply
	xferOutAhead             // a small STOR: write at once, then read the 1xx (see StorSmall)
)

// transfer runs one data command (RETR, STOR, APPE, LIST, MLSD, NLST): it
// opens the data connection, optionally sends REST, sends cmd, waits for the
// 1xx reply, lets fn move the bytes, and reads the final reply. fn gets the
// connection ready for reading or writing; its error wins over the final
// reply's. With xferOutAhead fn runs before the 1xx reply is read (the
// bytes must fit in the socket buffers: see StorSmall).
//
// pre, when not empty, is a command whose outcome does not change the
// transfer's (MDTM of the file): it goes out in the same write as cmd,
// saving a round trip, and its reply is stored in *preRep.
func (c *Conn) transfer(ctx context.Context, pre, cmd string, preRep **Reply, rest int64, way xfer, fn func(rw io.ReadWriter) error) (*Reply, error) {
	if err := validateArg(cmd); err != nil {
		return nil, fmt.Errorf("ftp: %s: %w", cmd, err)
	}
	d, err := c.openData(ctx)
	if err != nil {
		return nil, err
	}
	defer d.close()
	if rest > 0 {
		if _, err := c.Cmd(ctx, 3, "REST "+strconv.FormatInt(rest, 10)); err != nil {
			return nil, err
		}
	}
	var rep *Reply
	switch {
	case way == xferOutAhead:
		// No wait here: the 1xx is read after the bytes went out.
		if err := c.send(ctx, cmd); err != nil {
			return nil, err
		}
	case pre != "":
		if err := c.send(ctx, pre, cmd); err != nil {
			return nil, err
		}
		if *preRep, err = c.read(ctx, pre); err != nil {
			return nil, err
		}
		if rep, err = c.read(ctx, cmd); err != nil {
			return nil, err
		}
		if rep.Code/100 != 1 {
			return rep, &Error{Cmd: cmd, Code: rep.Code, Msg: rep.Msg()}
		}
	default:
		if rep, err = c.Cmd(ctx, 1, cmd); err != nil {
			return rep, err
		}
	}
	if err := d.ready(ctx); err != nil {
		c.broken = true
		return nil, fmt.Errorf("ftp: %s: %w", cmd, err)
	}
	// Cancellation must also end a transfer blocked on the data
	// connection, not only waits on the control connection.
	d.ctx = ctx
	stop := context.AfterFunc(ctx, func() { d.nc.SetDeadline(time.Unix(1, 0)) })
	ferr := fn(d)
	if ferr == nil && way != xferIn {
		ferr = d.finishWrite()
	}
	stop()
	d.close()
	if ferr != nil && ctx.Err() != nil {
		c.broken = true
		return nil, fmt.Errorf("ftp: %s: %w", cmd, ctx.Err())
	}
	if errors.Is(ferr, os.ErrDeadlineExceeded) {
		// The data connection stalled for a whole Timeout: the server is
		// stuck too, so do not wait another Timeout for its final reply
		// (every wait is bounded by one Timeout). That reply is left
		// unread, so the connection is out of step.
		c.broken = true
		return nil, fmt.Errorf("ftp: %s: data connection: %w", cmd, ferr)
	}
	if way == xferOutAhead {
		// The wait of a small upload: STOR, its bytes and their end went
		// out together, and the 1xx and the final reply come back
		// together. A refusal (no 1xx) is the only reply: the server
		// never read the bytes.
		if rep, err = c.read(ctx, cmd); err != nil {
			if ferr != nil {
				return nil, fmt.Errorf("ftp: %s: %w", cmd, errors.Join(ferr, err))
			}
			return nil, err
		}
		if rep.Code/100 != 1 {
			rerr := &Error{Cmd: cmd, Code: rep.Code, Msg: rep.Msg()}
			if ferr != nil {
				return rep, fmt.Errorf("ftp: %s: %w", cmd, errors.Join(ferr, rerr))
			}
			return rep, rerr
		}
	}
	final, err := c.read(ctx, cmd)
	if err != nil {
		if ferr != nil {
			return nil, fmt.Errorf("ftp: %s: %w", cmd, errors.Join(ferr, err))
		}
		return nil, err
	}
	if final.Code/100 != 2 {
		rerr := &Error{Cmd: cmd, Code: final.Code, Msg: final.Msg()}
		if ferr != nil {
			// Both: the caller's own error (it may have stopped reading on
			// purpose) and the server's reply stay visible to errors.Is/As.
			return final, fmt.Errorf("ftp: %s: %w", cmd, errors.Join(ferr, rerr))
		}
		return final, rerr
	}
	if ferr != nil {
		return final, fmt.Errorf("ftp: %s: data connection: %w", cmd, ferr)
	}
	if way == xferIn && c.canPrefetch() {
		// Uploads prefetch in the Pipeline that renames them into place.
		if err := c.send(ctx, "EPSV"); err != nil {
			return final, err
		}
		c.epsvInFlight = true
	}
	return final, nil
}

// isTruncatedListing recognises pure-ftpd's listing cap: it stops LIST,
// NLST and MLSD after 10,000 entries and still answers success, "226 Output
// truncated to 10000 matches". There is no code for it, so the text is the
// only signal (pure-ftpd src/ls.c; seen with 1.0.50).
func isTruncatedListing(r *Reply) bool {
	return strings.Contains(strings.ToLower(r.Msg()), "truncated")
}
