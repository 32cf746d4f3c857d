package ftptest

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// ServeList sends lines, each ended with CRLF, over the data connection the
// client set up with PASV, EPSV, PORT or EPRT, in the order real servers
// use: reply 150, connect (TLS under PROT P), send, close, then write the
// final reply line (e.g. "226 Transfer complete"; that one when final is
// empty). A hook answers LIST, NLST or MLSD with injected content this way.
// Without a data setup it replies 425 and sends nothing.
func (s *Session) ServeList(lines []string, final string) {
	s.serveData(func(c net.Conn) error { return writeLines(c, lines) }, false, final)
}

// ServeData is ServeList for raw bytes, e.g. a RETR answered with other
// content than the file's.
func (s *Session) ServeData(data []byte, final string) {
	s.serveData(func(c net.Conn) error { _, err := c.Write(data); return err }, false, final)
}

// SendDataThenDrop sends data over the data connection, then resets it
// (TCP RST, no TLS close_notify) as a broken network would, and writes
// final (e.g. "426 Connection closed; transfer aborted", or a lying
// "226 Transfer complete"). An empty final sends no reply at all.
func (s *Session) SendDataThenDrop(data []byte, final string) {
	s.serveData(func(c net.Conn) error { _, err := c.Write(data); return err }, true, final)
}

// OpenDataThenStall answers a transfer command (RETR, STOR, LIST...) with
// 150, connects the data channel and sends data over it (nothing when
// nil), then stops: it neither reads from nor closes the data connection
// and sends no final reply until the session is closed, as a server that
// stopped responding mid-transfer. The client must time out on its own.
func (s *Session) OpenDataThenStall(data []byte) {
	if !s.dataReady() {
		return
	}
	s.Reply(150, "Here comes the data.")
	c, err := s.openData()
	if err != nil {
		s.logf("data connection: %v", err)
		s.Reply(425, "Failed to establish connection.")
		return
	}
	if len(data) > 0 {
		if _, err := c.Write(data); err != nil {
			s.logf("data send: %v", err)
		}
	}
	s.Stall()
}

func (s *Session) serveData(send func(net.Conn) error, drop bool, final string) {
	if !s.dataReady() {
		return
	}
	s.Reply(150, "Here comes the data.")
	c, err := s.openData()
	if err != nil {
		s.logf("data connection: %v", err)
		s.Reply(425, "Failed to establish connection.")
		return
	}
	if err := send(c); err != nil {
		s.logf("data send: %v", err)
	}
	if drop {
		s.dropData()
		if final != "" {
			s.WriteRaw([]byte(final + "\r\n"))
		}
		return
	}
	s.closeData(c)
	if final == "" {
		final = "226 Transfer complete"
	}
	s.WriteRaw([]byte(final + "\r\n"))
}

// PASVWithAddress opens a passive listener on 127.0.0.1 like PASV does,
// but names addr (IPv4) in the 227 reply, e.g. 10.1.2.3: a client that
// follows RFC 959 to the letter dials a foreign host, one that uses the
// control connection's address (as curl and ferry do) still connects.
func (s *Session) PASVWithAddress(addr netip.Addr) error {
	if !addr.Is4() {
		return fmt.Errorf("PASV address %s: want IPv4", addr)
	}
	port, err := s.listenPassive()
	if err != nil {
		return err
	}
	a := addr.As4()
	h := []string{
		strconv.Itoa(int(a[0])), strconv.Itoa(int(a[1])), strconv.Itoa(int(a[2])), strconv.Itoa(int(a[3])),
		strconv.Itoa(port >> 8), strconv.Itoa(port & 0xff),
	}
	s.Reply(227, "Entering Passive Mode ("+strings.Join(h, ",")+").")
	return nil
}
