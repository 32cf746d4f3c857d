package job

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/ftp"
)

// Probed is what ProbeServer found and stored.
type Probed struct {
	Report  *ftp.Report
	Profile ftp.Profile // as stored: the report applied to the earlier profile
	State   string      // the state cache it is stored in
	Key     string      // the server's key there (address and user)
}

// ProbeServer probes the server of r afresh in r.Dir (ftp.Probe) and stores
// the result as the server's profile in the state cache at statePath
// ("": state.DefaultPath()), the profile every run then loads; facts the
// probe could not check keep their stored values. A state cache that cannot
// be opened is a *ferrysync.UsageError (field "state"), checked before any
// connection; a server that could not be probed is the probe's error, and
// nothing is stored then.
func ProbeServer(ctx context.Context, r *ferrysync.Remote, statePath string, opts ftp.ProbeOptions, now time.Time) (*Probed, error) {
	if statePath == "" {
		var err error
		if statePath, err = state.DefaultPath(); err != nil {
			return nil, usageErr("state", "%v", err)
		}
	}
	db, err := state.Open(ctx, statePath)
	if err != nil {
		return nil, &ferrysync.UsageError{Field: "state", Err: err}
	}
	defer db.Close()
	rep, err := ftp.Probe(ctx, r.Config, r.Dir, opts)
	if err != nil {
		return nil, err
	}
	key := profileKey(r)
	var prev ftp.Profile
	if data, _, ok, err := db.ServerProfile(ctx, key); err == nil && ok {
		if json.Unmarshal(data, &prev) != nil {
			prev = ftp.Profile{}
		}
	}
	p := &Probed{Report: rep, Profile: rep.Apply(prev), State: statePath, Key: key}
	data, err := json.Marshal(p.Profile)
	if err != nil {
		return nil, err
	}
	if err := db.SaveServerProfile(context.WithoutCancel(ctx), key, data, now); err != nil {
		return p, fmt.Errorf("storing the profile: %w", err)
	}
	return p, nil
}
