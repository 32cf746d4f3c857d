package ftptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// errResume is returned by openData when Options.RequireTLSResume is set
// and the client's data connection started a new TLS session.
var errResume = errors.New("data connection did not resume the control TLS session")

// cmdPasv opens a passive listener and answers RFC 959 PASV.
func (s *Session) cmdPasv() {
	if err := s.PASVWithAddress(netip.AddrFrom4([4]byte{127, 0, 0, 1})); err != nil {
		s.Reply(425, "Cannot open passive connection.")
	}
}

// cmdEpsv answers RFC 2428 EPSV; the server listens on IPv4 only.
func (s *Session) cmdEpsv(arg string) {
	if s.srv.opts.DisableEPSV {
		s.Reply(500, "Unknown command.")
		return
	}
	switch strings.ToUpper(strings.TrimSpace(arg)) {
	case "", "1":
	case "ALL":
		s.Reply(200, "EPSV ALL ok.")
		return
	default:
		s.Reply(522, "Network protocol not supported, use (1)")
		return
	}
	port, err := s.listenPassive()
	if err != nil {
		s.Reply(425, "Cannot open passive connection.")
		return
	}
	s.Reply(229, fmt.Sprintf("Entering Extended Passive Mode (|||%d|)", port))
}

// listenPassive replaces any previous data setup with a new listener on
// 127.0.0.1 and returns its port.
func (s *Session) listenPassive() (int, error) {
	s.resetData()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		s.logf("passive listen: %v", err)
		return 0, err
	}
	s.mu.Lock()
	s.pasv = ln
	s.mu.Unlock()
	if s.closing() { // Close ran before the listener was recorded
		ln.Close()
		return 0, net.ErrClosed
	}
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// resetData forgets the pending PASV listener or PORT address.
func (s *Session) resetData() {
	s.mu.Lock()
	if s.pasv != nil {
		s.pasv.Close()
		s.pasv = nil
	}
	s.mu.Unlock()
	s.activeAddr = ""
}

// cmdPort answers RFC 959 PORT h1,h2,h3,h4,p1,p2; only loopback is accepted.
func (s *Session) cmdPort(arg string) {
	f := strings.Split(strings.TrimSpace(arg), ",")
	var b [6]byte
	ok := len(f) == 6
	for i := 0; ok && i < 6; i++ {
		n, err := strconv.Atoi(f[i])
		ok = err == nil && n >= 0 && n <= 255
		b[i] = byte(n)
	}
	ip := netip.AddrFrom4([4]byte{b[0], b[1], b[2], b[3]})
	port := int(b[4])<<8 | int(b[5])
	if !ok || !ip.IsLoopback() || port == 0 {
		s.Reply(500, "Illegal PORT command.")
		return
	}
	s.resetData()
	s.activeAddr = netip.AddrPortFrom(ip, uint16(port)).String()
	s.Reply(200, "PORT command successful. Consider using PASV.")
}

// cmdEprt answers RFC 2428 EPRT |proto|addr|port|; only loopback is accepted.
func (s *Session) cmdEprt(arg string) {
	if s.srv.opts.DisableEPSV {
		s.Reply(500, "Unknown command.")
		return
	}
	arg = strings.TrimSpace(arg)
	if len(arg) < 2 {
		s.Reply(500, "Bad EPRT command.")
		return
	}
	f := strings.Split(arg[1:len(arg)-1], arg[:1])
	if len(f) != 3 || arg[len(arg)-1] != arg[0] {
		s.Reply(500, "Bad EPRT command.")
		return
	}
	if f[0] != "1" && f[0] != "2" {
		s.Reply(522, "Network protocol not supported, use (1,2)")
		return
	}
	ip, err := netip.ParseAddr(f[1])
	port, perr := strconv.Atoi(f[2])
	if err != nil || perr != nil || port <= 0 || port > 65535 || (f[0] == "1") != ip.Is4() {
		s.Reply(500, "Bad EPRT command.")
		return
	}
	if !ip.IsLoopback() {
		s.Reply(500, "Illegal EPRT command: loopback addresses only.")
		return
	}
	s.resetData()
	s.activeAddr = netip.AddrPortFrom(ip, uint16(port)).String()
	s.Reply(200, "EPRT command successful. Consider using EPSV.")
}

// dataReady checks that a transfer may start, replying when it may not.
func (s *Session) dataReady() bool {
	s.mu.Lock()
	pasv := s.pasv
	s.mu.Unlock()
	o := &s.srv.opts
	switch {
	case pasv == nil && s.activeAddr == "":
		s.Reply(425, "Use PORT or PASV first.")
		return false
	case o.TLS != TLSNone && !o.TLSOptional && !s.protP:
		s.resetData()
		s.Reply(521, "Data connections must be encrypted.")
		return false
	}
	return true
}

// openData connects the data channel (after the 150 reply, as vsftpd
// and proftpd do): it accepts one connection on the passive listener, from
// the control connection's IP only, or dials the PORT/EPRT address; then,
// under PROT P, it runs the TLS handshake as server. The pending data
// setup is used up either way.
func (s *Session) openData() (net.Conn, error) {
	raw, err := s.connectData()
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.data = raw
	s.mu.Unlock()
	if s.closing() {
		raw.Close()
		return nil, net.ErrClosed
	}
	if !s.protP {
		return timedConn{raw, s.srv.opts.ioTimeout()}, nil
	}
	tc := tls.Server(raw, s.srv.tls)
	tc.SetDeadline(time.Now().Add(s.srv.opts.ioTimeout()))
	if err := tc.Handshake(); err != nil {
		s.dropData()
		return nil, fmt.Errorf("data TLS handshake: %w", err)
	}
	if s.srv.opts.RequireTLSResume && !tc.ConnectionState().DidResume {
		s.dropData()
		return nil, errResume
	}
	return timedConn{tc, s.srv.opts.ioTimeout()}, nil
}

func (s *Session) connectData() (net.Conn, error) {
	timeout := s.srv.opts.ioTimeout()
	if addr := s.activeAddr; addr != "" {
		s.activeAddr = ""
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(s.ctx, "tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("dial %s: %w", addr, err)
		}
		return c, nil
	}
	s.mu.Lock()
	ln := s.pasv
	s.pasv = nil
	s.mu.Unlock()
	if ln == nil {
		return nil, errors.New("no data connection set up")
	}
	defer ln.Close()
	ln.(*net.TCPListener).SetDeadline(time.Now().Add(timeout))
	c, err := ln.Accept()
	if err != nil {
		return nil, fmt.Errorf("accept data connection: %w", err)
	}
	want := s.remote.(*net.TCPAddr).IP
	if got := c.RemoteAddr().(*net.TCPAddr).IP; !got.Equal(want) {
		c.Close()
		return nil, fmt.Errorf("data connection from %s, control from %s", got, want)
	}
	return c, nil
}

// closeData closes the data connection cleanly (TLS close_notify first).
func (s *Session) closeData(c net.Conn) {
	c.SetDeadline(time.Now().Add(s.srv.opts.ioTimeout()))
	c.Close()
	s.mu.Lock()
	if s.data != nil {
		s.data.Close()
		s.data = nil
	}
	s.mu.Unlock()
}

// dropData resets the data connection: no TLS close_notify, TCP RST.
func (s *Session) dropData() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.data == nil {
		return
	}
	if tc, ok := s.data.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	s.data.Close()
	s.data = nil
}

// withData runs the RFC 959 transfer dance: 150, connect, fn, close, then
// the reply fn returns (226 on success).
func (s *Session) withData(opening string, fn func(c net.Conn) (int, string)) {
	if !s.dataReady() {
		return
	}
	s.Reply(150, opening)
	c, err := s.openData()
	if err != nil {
		s.logf("data connection: %v", err)
		if errors.Is(err, errResume) {
			s.Reply(522, "SSL connection failed: session reuse required.")
			return
		}
		s.Reply(425, "Failed to establish connection.")
		return
	}
	code, text := fn(c)
	s.closeData(c)
	s.Reply(code, text)
}

// timedConn gives every Read and Write its own deadline.
type timedConn struct {
	net.Conn
	d time.Duration
}

func (c timedConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.d))
	return c.Conn.Read(b)
}

func (c timedConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.d))
	return c.Conn.Write(b)
}
