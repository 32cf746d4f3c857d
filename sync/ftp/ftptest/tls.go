package ftptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strings"
	"time"
)

// makeCert generates a self-signed ECDSA P-256 certificate valid for
// 127.0.0.1, ::1 and localhost that clients can trust as its own CA.
// s.mu is held.
func (s *Server) makeCert(now time.Time) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return fmt.Errorf("generate serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"ftptest"}, CommonName: "ftptest 127.0.0.1"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("parse certificate: %w", err)
	}
	s.cert = cert
	s.certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.tls = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		MinVersion:   tls.VersionTLS12,
	}
	return nil
}

// Certificate returns the server's self-signed certificate, or nil when
// the server does not use TLS or has not been started.
func (s *Server) Certificate() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cert
}

// CertPEM returns Certificate in PEM form, ready to be written to a CA file
// (curl --cacert, ferry --ca-file); nil without TLS.
func (s *Server) CertPEM() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.certPEM...)
}

// ClientTLSConfig returns a client configuration that trusts only the
// server's certificate, names 127.0.0.1 and caches sessions so data
// connections can resume the control connection's session; nil without TLS.
func (s *Server) ClientTLSConfig() *tls.Config {
	cert := s.Certificate()
	if cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		RootCAs:            pool,
		ServerName:         "127.0.0.1",
		ClientSessionCache: tls.NewLRUClientSessionCache(16),
		MinVersion:         tls.VersionTLS12,
	}
}

// cmdAuth answers AUTH TLS (RFC 4217 section 4): 234, then the TLS
// handshake on the control connection.
func (s *Session) cmdAuth(arg string) {
	switch {
	case s.srv.opts.TLS != TLSExplicit:
		s.Reply(502, "AUTH not supported.")
	case s.tlsOn:
		s.Reply(503, "Already using TLS.")
	case !strings.EqualFold(arg, "TLS") && !strings.EqualFold(arg, "TLS-C") && !strings.EqualFold(arg, "SSL"):
		s.Reply(504, "Unknown AUTH type.")
	default:
		s.Reply(234, "Proceed with negotiation.")
		if err := s.startTLS(); err != nil {
			s.logf("AUTH TLS handshake: %v", err)
			s.Close()
		}
	}
}

// cmdPbsz answers PBSZ (RFC 4217 section 8): only 0 makes sense over TLS.
func (s *Session) cmdPbsz(arg string) {
	if !s.tlsOn {
		s.Reply(503, "PBSZ needs a TLS connection.")
		return
	}
	s.pbsz = true
	s.Reply(200, "PBSZ=0")
}

// cmdProt answers PROT C or P (RFC 4217 section 9); PBSZ must come first.
func (s *Session) cmdProt(arg string) {
	switch {
	case !s.tlsOn:
		s.Reply(503, "PROT needs a TLS connection.")
	case !s.pbsz:
		s.Reply(503, "PBSZ first.")
	case strings.EqualFold(arg, "P"):
		s.protP = true
		s.Reply(200, "PROT now Private.")
	case strings.EqualFold(arg, "C"):
		s.protP = false
		s.Reply(200, "PROT now Clear.")
	default:
		s.Reply(536, "PROT level not supported.")
	}
}
