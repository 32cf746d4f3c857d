package ftp

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	pathpkg "path"
	"time"
)

// Zone says how the times a server shows and takes differ from UTC, each
// as seconds east of UTC (Asia/Kolkata: 19800). A LIST line carries no
// zone, and a server may show local time in its listing, in its MDTM
// replies and in the time its set-mtime command takes, so each is measured
// on its own (ProbeZone) and corrected for where it is used: Conn.List,
// Conn.ModTime, Conn.RetrModTime, Conn.SetModTime and SetTimeLine.
//
// Quirk (vsftpd 3.0.3 with use_localtime=YES): LIST, MDTM replies and
// "MDTM time path" are all in the daemon's zone, one fixed offset taken
// when the daemon started (a daylight saving change shows only after a
// restart), and there is no MLSD. Comparing LIST with MDTM therefore finds
// no offset; only comparing with a clock does.
type Zone struct {
	// Measured is true once a probe measured the offsets below; until
	// then they are all taken as 0 and LIST times are read in
	// Config.Location.
	Measured bool `json:"measured,omitempty"`
	// List: listed times (LIST, or MLSD on a server that breaks RFC 3659)
	// are UTC + List.
	List int32 `json:"list,omitempty"`
	// MDTM: the times of MDTM replies are UTC + MDTM.
	MDTM int32 `json:"mdtm,omitempty"`
	// Set: the server reads the time of its set-mtime command
	// (Profile.MTime) as UTC + Set.
	Set int32 `json:"set,omitempty"`
	// Failed is true when a measurement could not be made (a read-only
	// account, readings that made no sense as a zone): runs do not try
	// again until the profile is probed anew (--reprobe, ferry probe).
	Failed bool `json:"failed,omitempty"`
}

func secs(s int32) time.Duration { return time.Duration(s) * time.Second }

// fromList turns a listed time read as UTC into the real UTC time.
func (z Zone) fromList(t time.Time) time.Time { return t.Add(-secs(z.List)) }

// fromMDTM turns an MDTM reply's time read as UTC into the real UTC time.
func (z Zone) fromMDTM(t time.Time) time.Time { return t.Add(-secs(z.MDTM)) }

// toSet turns a real time into the one to send to the set-mtime command.
func (z Zone) toSet(t time.Time) time.Time { return t.Add(secs(z.Set)) }

// listLocation is the zone LIST lines are read in.
func (z Zone) listLocation() *time.Location {
	if z.List == 0 {
		return time.UTC
	}
	return time.FixedZone(FormatOffset(z.List), int(z.List))
}

// FormatOffset renders seconds east of UTC as "UTC", "+05:30" or "-05:00".
func FormatOffset(s int32) string {
	if s == 0 {
		return "UTC"
	}
	sign := '+'
	if s < 0 {
		sign, s = '-', -s
	}
	return fmt.Sprintf("%c%02d:%02d", sign, s/3600, s%3600/60)
}

// Offsets are whole multiples of zoneStep (every zone in use is), and
// never beyond ±maxOffset (UTC-12 to UTC+14).
const (
	zoneStep  = 15 * time.Minute
	maxOffset = 14 * time.Hour
)

// ErrNoOffset is wrapped by the errors of a zone measurement whose
// readings make no sense as a time zone: a server clock far off, a listing
// without a time of day, a time that was set but did not take.
var ErrNoOffset = errors.New("no time zone offset can be measured")

// offsetOf measures the offset of a time the server reported for an event
// this machine saw between before and after, the report being exact to
// prec (it may have been cut down to a multiple of prec, as "Nov 24 06:31"
// is). It returns the offset rounded to a multiple of zoneStep and the
// rest, the clocks' difference beyond the zone.
func offsetOf(reported time.Time, prec time.Duration, before, after time.Time) (off, skew time.Duration, err error) {
	if prec <= 0 || prec > time.Minute {
		return 0, 0, fmt.Errorf("%w: the time is given to %v, not to the minute", ErrNoOffset, prec)
	}
	mid := before.Add(after.Sub(before) / 2)
	d := reported.Add(prec / 2).Sub(mid)
	off = d.Round(zoneStep)
	if off > maxOffset || off < -maxOffset {
		return 0, 0, fmt.Errorf("%w: the server's time is %v from this machine's", ErrNoOffset, d.Round(time.Second))
	}
	return off, d - off, nil
}

// ProbeDirPrefix begins the names of the folders a probe creates and
// removes again. A sync never lists into or transfers such a folder (one
// left behind by a probe that was killed stays unsynced).
const ProbeDirPrefix = ".ferry-probe-"

// IsProbeDir reports whether name is one of a probe's folders.
func IsProbeDir(name string) bool {
	return len(name) > len(ProbeDirPrefix) && name[:len(ProbeDirPrefix)] == ProbeDirPrefix
}

// ProbeDirError reports that a probe could not make its folder in Dir: a
// read-only account, or a folder that does not exist. Err is the server's
// refusal.
type ProbeDirError struct {
	Dir string
	Err error
}

func (e *ProbeDirError) Error() string {
	return fmt.Sprintf("ftp: cannot make a probe folder in %s: %v", e.Dir, e.Err)
}

func (e *ProbeDirError) Unwrap() error { return e.Err }

// LeftoverError reports what a probe could not remove after itself.
type LeftoverError struct {
	Path string
	Err  error
}

func (e *LeftoverError) Error() string {
	return fmt.Sprintf("ftp: probe could not remove %s: %v", e.Path, e.Err)
}

func (e *LeftoverError) Unwrap() error { return e.Err }

// RemoveProbeDir removes the scratch folder dir of a probe that was killed
// before it could: the files in it, then the folder. It refuses a folder
// whose name is not a probe's.
func (c *Conn) RemoveProbeDir(ctx context.Context, dir string) error {
	if !IsProbeDir(pathpkg.Base(dir)) {
		return fmt.Errorf("%s is not a probe's folder", dir)
	}
	entries, err := c.List(ctx, dir)
	if err != nil {
		return err
	}
	d := &probeDir{c: c, path: dir}
	for _, e := range entries {
		if e.Type == TypeFile {
			d.files = append(d.files, pathpkg.Join(dir, e.Name))
		}
	}
	return d.remove(ctx)
}

// probeDir is a temporary folder of a probe and the files put in it.
type probeDir struct {
	c     *Conn
	path  string
	files []string
}

// makeProbeDir creates a fresh probe folder in dir.
func (c *Conn) makeProbeDir(ctx context.Context, dir string) (*probeDir, error) {
	var b [6]byte
	rand.Read(b[:])
	p := pathpkg.Join(dir, ProbeDirPrefix+hex.EncodeToString(b[:]))
	if err := c.Mkdir(ctx, p); err != nil {
		var fe *Error
		if errors.As(err, &fe) && !c.broken {
			return nil, &ProbeDirError{Dir: dir, Err: err}
		}
		return nil, err
	}
	return &probeDir{c: c, path: p}, nil
}

// timedUpload is a file a probe stored, and this machine's clock just
// before and just after.
type timedUpload struct {
	name, path    string
	before, after time.Time
}

// put stores data as name in the probe folder.
func (d *probeDir) put(ctx context.Context, name string, data []byte) (timedUpload, error) {
	p := pathpkg.Join(d.path, name)
	before := time.Now()
	_, err := d.c.Stor(ctx, p, 0, bytes.NewReader(data))
	after := time.Now()
	if err == nil || !d.c.broken {
		d.files = append(d.files, p) // a refused STOR may still leave a file
	}
	return timedUpload{name: name, path: p, before: before, after: after}, err
}

// remove deletes the probe's files and folder, also when ctx is done (each
// reply is still bounded by the connection's timeout). What stays is a
// *LeftoverError.
func (d *probeDir) remove(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	if d.c.broken {
		return &LeftoverError{Path: d.path, Err: errors.New("the connection was lost")}
	}
	for _, f := range d.files {
		d.c.Delete(ctx, f) // gone already (renamed) or never made: RMD tells
	}
	if err := d.c.Rmdir(ctx, d.path); err != nil {
		return &LeftoverError{Path: d.path, Err: err}
	}
	return nil
}

// ProbeZone measures the server's Zone in a temporary folder it makes in
// dir (ProbeDirPrefix and a random suffix) and removes again: it uploads
// one byte there, lists the folder and reads the file's MDTM, comparing
// each time with this machine's clock at the upload (to the listing's
// precision: a LIST of a recent file shows minutes), then sets the file's
// time a day back (finding Profile.MTime when it is not known yet) and
// reads it back. Offsets are rounded to a whole multiple of 15 minutes, so
// a server clock up to 7 minutes off does not matter.
//
// The Zone is stored in the connection's Profile and returned. A folder
// that cannot be made is a *ProbeDirError; readings that make no sense
// wrap ErrNoOffset; a failure to clean up is a *LeftoverError returned
// with the measured Zone.
func (c *Conn) ProbeZone(ctx context.Context, dir string) (Zone, error) {
	d, err := c.makeProbeDir(ctx, dir)
	if err != nil {
		return Zone{}, err
	}
	z, _, err := c.measureZone(ctx, d)
	if rerr := d.remove(ctx); err == nil && rerr != nil {
		return z, rerr
	}
	return z, err
}

// ZoneEvidence is what a zone measurement saw, for `ferry probe`.
type ZoneEvidence struct {
	Uploaded      time.Time     // this machine's clock at the probe file's upload
	Listed        time.Time     // the probe file's listed time, read as UTC
	ListPrecision time.Duration // how exact Listed is
	ListSkew      time.Duration // the clocks' difference beyond the zone offset
	MDTM          time.Time     // the MDTM reply, read as UTC; zero when refused
	SetTo         time.Time     // the time the probe set
	ReadBack      time.Time     // that time as read back, in UTC
	ReadBackBy    string        // "MLST", "MDTM" or "LIST"
}

// measureZone uploads a probe file into d and measures the Zone (see
// ProbeZone), storing it in the profile.
func (c *Conn) measureZone(ctx context.Context, d *probeDir) (Zone, ZoneEvidence, error) {
	var ev ZoneEvidence
	up, err := d.put(ctx, "zone", []byte{'z'})
	if err != nil {
		return Zone{}, ev, err
	}
	ev.Uploaded = up.before
	cur := c.profile().Zone
	entries, err := c.List(ctx, d.path)
	if err != nil {
		return Zone{}, ev, err
	}
	var listed *Entry
	for i := range entries {
		if entries[i].Name == up.name {
			listed = &entries[i]
		}
	}
	if listed == nil {
		return Zone{}, ev, fmt.Errorf("%w: the probe file %s is not in its folder's listing", ErrNoOffset, up.path)
	}
	// List corrected by the zone in force: undo that to see what the
	// server wrote.
	ev.Listed, ev.ListPrecision = listed.ModTime.Add(c.listShift(cur, listed.ModTime)), listed.Precision
	listOff, skew, err := offsetOf(ev.Listed, listed.Precision, up.before, up.after)
	if err != nil {
		return Zone{}, ev, fmt.Errorf("listed time of the probe file: %w", err)
	}
	ev.ListSkew = skew
	z := Zone{Measured: true, List: int32(listOff / time.Second)}

	var fe *Error
	raw, err := c.mdtmRaw(ctx, up.path)
	switch {
	case err == nil:
		ev.MDTM = raw
		off, _, oerr := offsetOf(raw, time.Second, up.before, up.after)
		if oerr != nil {
			return Zone{}, ev, fmt.Errorf("MDTM of the probe file: %w", oerr)
		}
		z.MDTM = int32(off / time.Second)
	case errors.As(err, &fe) && !c.broken:
		// No MDTM: nothing reads it, the offset does not matter.
	default:
		return Zone{}, ev, err
	}

	// A day back: far enough that a set that did not take cannot pass
	// for an offset (at most 14 hours), near enough for LIST to show the
	// minutes. Whole minutes, for a read-back by LIST.
	ev.SetTo = up.before.Add(-24 * time.Hour).Truncate(time.Minute).UTC()
	if err := c.setRaw(ctx, up.path, ev.SetTo); err != nil {
		if errors.Is(err, ErrNoMTime) {
			c.storeZone(z)
			return z, ev, nil
		}
		return Zone{}, ev, err
	}
	ev.ReadBack, ev.ReadBackBy, err = c.readBack(ctx, d.path, up, z)
	if err != nil {
		return Zone{}, ev, err
	}
	d2 := ev.SetTo.Sub(ev.ReadBack)
	setOff := d2.Round(zoneStep)
	if setOff > maxOffset || setOff < -maxOffset || (d2-setOff).Abs() > 2*time.Minute {
		return Zone{}, ev, fmt.Errorf("%w: the probe set %s on %s, %s reads back %s", ErrNoOffset,
			ev.SetTo.Format(time.DateTime), up.path, ev.ReadBackBy, ev.ReadBack.Format(time.DateTime))
	}
	z.Set = int32(setOff / time.Second)
	c.storeZone(z)
	return z, ev, nil
}

// setRaw sets path's time with the profile's method, finding it first
// when unknown, sending t's digits unshifted.
func (c *Conn) setRaw(ctx context.Context, path string, t time.Time) error {
	ts := FormatMDTMTime(t)
	m := c.profile().MTime
	if m == MTimeUnknown {
		return c.probeSetModTime(ctx, path, ts)
	}
	line, ok := setTimeCommand(m, ts, path)
	if !ok {
		return ErrNoMTime
	}
	_, err := c.Cmd(ctx, 2, line)
	var fe *Error
	if errors.As(err, &fe) && fe.Code >= 500 && fe.Code < 550 && !c.broken {
		// The remembered method is not understood (a stale profile, a
		// changed server): find the one that works.
		return c.probeSetModTime(ctx, path, ts)
	}
	return err
}

// readBack reads the real (UTC) modification time of the probe file up in
// folder dir by the most exact way the server has: MLST (UTC by RFC 3659),
// else MDTM corrected by z.MDTM, else its listing corrected by z.List.
func (c *Conn) readBack(ctx context.Context, dir string, up timedUpload, z Zone) (time.Time, string, error) {
	if _, ok := c.feat["MLST"]; ok {
		e, err := c.Stat(ctx, up.path)
		return e.ModTime.UTC(), "MLST", err
	}
	raw, err := c.mdtmRaw(ctx, up.path)
	var fe *Error
	if err == nil {
		return z.fromMDTM(raw), "MDTM", nil
	}
	if !errors.As(err, &fe) || c.broken {
		return time.Time{}, "", err
	}
	cur := c.profile().Zone
	entries, err := c.List(ctx, dir)
	if err != nil {
		return time.Time{}, "", err
	}
	for _, e := range entries {
		if e.Name == up.name {
			return z.fromList(e.ModTime.Add(c.listShift(cur, e.ModTime))), "LIST", nil
		}
	}
	return time.Time{}, "", fmt.Errorf("%w: the probe file %s left its folder's listing", ErrNoOffset, up.path)
}

// listShift is what List took off the listed time t (as the server wrote
// it, read as UTC) with zone cur in force: cur.List once measured, else
// for LIST lines the offset of Config.Location.
func (c *Conn) listShift(cur Zone, t time.Time) time.Duration {
	if cur.Measured {
		return secs(cur.List)
	}
	if _, ok := c.feat["MLST"]; ok {
		return 0
	}
	_, off := t.In(c.cfg.location()).Zone()
	return time.Duration(off) * time.Second
}

// storeZone records z in the connection's (its pool's) profile.
func (c *Conn) storeZone(z Zone) {
	c.profMu.Lock()
	c.prof.Zone = z
	c.profMu.Unlock()
}
