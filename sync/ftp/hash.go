package ftp

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// ErrNoHash is returned by Hash when the server offers no hash command.
var ErrNoHash = errors.New("ftp: server offers no file hash command")

// hashCommands are the non-standard X-commands, strongest first, with the
// hash each computes.
var hashCommands = []struct{ feat, algo string }{
	{"XSHA256", "SHA-256"},
	{"XSHA1", "SHA-1"},
	{"XMD5", "MD5"},
	{"XCRC", "CRC32"},
}

// Hash asks the server for a file's hash: HASH (draft-bryan-ftpext-hash)
// with the server's current algorithm when FEAT lists it, else the
// strongest of XSHA256, XSHA1, XMD5 and XCRC that FEAT lists. It returns
// the algorithm ("SHA-256", "SHA-1", "MD5", "CRC32") and the hash in lower
// case hex.
func (c *Conn) Hash(ctx context.Context, path string) (algo, sum string, err error) {
	if _, ok := c.feat["HASH"]; ok {
		rep, err := c.Cmd(ctx, 2, "HASH "+path)
		if err != nil {
			return "", "", err
		}
		// "213 SHA-256 0-1234 <hex> <path>" (draft section 3.2).
		f := strings.Fields(rep.Lines[0])
		if len(f) < 3 {
			return "", "", &ProtocolError{Cmd: "HASH " + path, Reason: "no hash in reply", Line: shorten(rep.Lines[0])}
		}
		return strings.ToUpper(f[0]), strings.ToLower(f[2]), nil
	}
	for _, h := range hashCommands {
		if _, ok := c.feat[h.feat]; !ok {
			continue
		}
		rep, err := c.Cmd(ctx, 2, h.feat+" "+path)
		if err != nil {
			return "", "", err
		}
		f := strings.Fields(rep.Lines[0])
		if len(f) == 0 {
			return "", "", &ProtocolError{Cmd: h.feat + " " + path, Reason: "no hash in reply", Line: shorten(rep.Lines[0])}
		}
		return h.algo, strings.ToLower(f[0]), nil
	}
	return "", "", ErrNoHash
}

// maxHashAlgos bounds the algorithms ParseHashFeat keeps.
const maxHashAlgos = 16

// ParseHashFeat reads the parameters of FEAT's HASH line
// (draft-bryan-ftpext-hash section 4): algorithm names separated by ";",
// the one in use marked with a trailing "*", as in "SHA-256*;SHA-1;MD5".
// Names are upper-cased and kept in order, each once; empty names, names
// longer than 32 bytes and names with other than letters, digits and "-"
// are dropped, and at most 16 are kept. current is the marked name, or ""
// when none (or a dropped one) is marked.
func ParseHashFeat(params string) (algos []string, current string) {
	for _, f := range strings.Split(params, ";") {
		f = strings.TrimSpace(f)
		marked := strings.HasSuffix(f, "*")
		name := strings.ToUpper(strings.TrimSuffix(f, "*"))
		if !hashName(name) || len(algos) == maxHashAlgos || slices.Contains(algos, name) {
			continue
		}
		algos = append(algos, name)
		if marked && current == "" {
			current = name
		}
	}
	return algos, current
}

func hashName(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
