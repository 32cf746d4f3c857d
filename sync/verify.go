package sync

import (
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"

	"github.com/ferrysync/ferry/sync/ftp"
)

// Verification (--verify): after a transfer, the file on the far side is
// checked against the source: with a server hash when the server offers
// one (HASH, XSHA256, XSHA1, XMD5, XCRC), else by size. An upload's
// temporary is checked before it is renamed into place (its size always
// is, verify or not: see upload).

// ErrVerify marks a transfer whose result did not match its source.
var ErrVerify = errors.New("verification failed")

// verifyLocal checks a downloaded temporary f (n bytes) against remote
// path p: by the server's hash when it offers one, else against the size
// the listing reported.
func verifyLocal(ctx context.Context, c *ftp.Conn, p string, f *os.File, n, listed int64) error {
	return verify(ctx, c, p, f, func() error {
		if n != listed {
			return fmt.Errorf("%w: %s: %d bytes received, the listing said %d", ErrVerify, p, n, listed)
		}
		return nil
	})
}

// verify compares f with remote p by the server's hash, or calls bySize
// when the server offers none.
func verify(ctx context.Context, c *ftp.Conn, p string, f *os.File, bySize func() error) error {
	algo, sum, err := c.Hash(ctx, p)
	if errors.Is(err, ftp.ErrNoHash) {
		return bySize()
	}
	if err != nil {
		return fmt.Errorf("verify %s: %w", p, err)
	}
	local, err := localHash(f, algo)
	if err != nil {
		return fmt.Errorf("verify %s: %w", p, err)
	}
	if local != sum {
		return fmt.Errorf("%w: %s %s is %s on the server, %s locally", ErrVerify, p, algo, sum, local)
	}
	return nil
}

// localHash hashes f from its start with the named algorithm.
func localHash(f *os.File, algo string) (string, error) {
	var h hash.Hash
	switch algo {
	case "SHA-256":
		h = sha256.New()
	case "SHA-1":
		h = sha1.New()
	case "MD5":
		h = md5.New()
	case "CRC32":
		h = crc32.NewIEEE()
	default:
		return "", fmt.Errorf("unknown hash algorithm %q", algo)
	}
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, 1<<62)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
