package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/ferrysync/ferry/sync/ftp"
)

// ErrUploadSize marks an upload whose temporary holds another byte count
// on the server than was sent: a server that dropped the data connection
// part way may still answer 226. The temporary is not renamed into place
// (it is deleted), nothing is recorded, and the action is tried once more.
var ErrUploadSize = errors.New("upload incomplete on the server")

// sizeCheck is the check of an upload of sent bytes to tmp, from the reply
// to "SIZE tmp". A server that does not know SIZE (500, 502: not
// implemented) cannot be checked; every server ferry is tested against
// knows it.
func sizeCheck(tmp string, rep *ftp.Reply, sent int64) error {
	if rep.Code == 500 || rep.Code == 502 {
		return nil
	}
	got, err := ftp.ParseSize("SIZE "+tmp, rep)
	if err != nil {
		return fmt.Errorf("size of the uploaded %s: %w", tmp, err)
	}
	if got != sent {
		return fmt.Errorf("%w: %s holds %d bytes on the server, %d were sent", ErrUploadSize, tmp, got, sent)
	}
	return nil
}

// checkUpload asks the server for tmp's size (one round trip, in which the
// next data port is asked for too) and compares it with sent. A temporary
// of the wrong size is deleted: it is neither published nor resumed.
func checkUpload(ctx context.Context, c *ftp.Conn, tmp string, sent int64) error {
	reps, err := c.Batch(ctx, "SIZE "+tmp)
	if err != nil {
		return fmt.Errorf("size of the uploaded %s: %w", tmp, err)
	}
	if err := sizeCheck(tmp, reps[0], sent); err != nil {
		if errors.Is(err, ErrUploadSize) {
			if derr := c.Delete(ctx, tmp); derr != nil {
				err = errors.Join(err, fmt.Errorf("deleting the temporary %s: %w", tmp, derr))
			}
		}
		return err
	}
	return nil
}
