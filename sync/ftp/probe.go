package ftp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ProbeOptions shape a Probe.
type ProbeOptions struct {
	// Connections is the most connections the probe holds open at once to
	// find the server's limit (DefaultProbeConnections when 0). It stops
	// at the first refusal and closes them all.
	Connections int
}

// DefaultProbeConnections is the connection cap of a probe.
const DefaultProbeConnections = 8

// Outcome is the answer of one probe check.
type Outcome string

const (
	Yes       Outcome = "yes"
	No        Outcome = "no"
	Unchecked Outcome = "unchecked" // the probe could not find out (Detail says why)
)

// Check is one probe check's outcome and what decided it: the server's
// reply or what was seen, or why the check could not be made.
type Check struct {
	Result Outcome `json:"result"`
	Detail string  `json:"detail,omitempty"`
}

func yes(format string, a ...any) Check {
	return Check{Result: Yes, Detail: fmt.Sprintf(format, a...)}
}

func no(format string, a ...any) Check { return Check{Result: No, Detail: fmt.Sprintf(format, a...)} }

func unchecked(format string, a ...any) Check {
	return Check{Result: Unchecked, Detail: fmt.Sprintf(format, a...)}
}

// Features are the FEAT facts (RFC 2389) that matter to ferry.
type Features struct {
	MLST       bool     `json:"mlst"`                 // MLST and MLSD (RFC 3659 section 7)
	MLSTFacts  string   `json:"mlst_facts,omitempty"` // as listed, e.g. "type*;size*;modify*;"
	MFMT       bool     `json:"mfmt"`
	MDTM       bool     `json:"mdtm"`
	SIZE       bool     `json:"size"`
	EPSV       bool     `json:"epsv"`
	UTF8       bool     `json:"utf8"`
	RestStream bool     `json:"rest_stream"`
	Hash       []string `json:"hash,omitempty"` // HASH algorithms ("SHA-256*" is the one in use), then XSHA256, XSHA1, XMD5, XCRC
}

// Connections is what the connection check found.
type Connections struct {
	Accepted int `json:"accepted"` // logged in at once, this probe's own included
	Cap      int `json:"cap"`      // the most the probe tried
	// Refusal is the reply that refused the next one ("" when the cap was
	// reached, or Error when something else stopped the check).
	Refusal string `json:"refusal,omitempty"`
	Error   string `json:"error,omitempty"`
}

// Report is everything a Probe found. Its Checks are also what Apply
// records in a Profile.
type Report struct {
	Addr   string   `json:"addr"`
	User   string   `json:"user"`
	Dir    string   `json:"dir"`              // the folder probed
	System string   `json:"system,omitempty"` // the SYST reply
	Feat   Features `json:"features"`
	// ListCommand is the listing ferry uses: "MLSD" or "LIST".
	ListCommand string `json:"list_command"`
	// ListPrecision says how exact listed times are, e.g. "1s", "1m",
	// "1d" (old files in LIST); "" when no listed file was seen.
	ListPrecision string `json:"list_precision,omitempty"`
	// EPSV: whether passive data connections could use EPSV (unchecked in
	// active mode).
	EPSV Check `json:"epsv_works"`
	// MTime: whether and how an mtime can be set, confirmed by setting
	// one on a probe file and reading it back; MTimeMethod names the way.
	MTime       Check  `json:"mtime"`
	MTimeMethod string `json:"mtime_method,omitempty"`
	RestStor    Check  `json:"rest_stor"`
	RestRetr    Check  `json:"rest_retr"`
	// RenameReplaces: whether RNTO onto an existing name replaces it.
	RenameReplaces Check       `json:"rename_replaces"`
	Connections    Connections `json:"connections"`
	// Zone: the offsets of listed, MDTM and set times from UTC (Zone),
	// measured against this machine's clock at a probe upload.
	Zone       Check `json:"zone"`
	ZoneValues Zone  `json:"zone_offsets"`
	// Leftover names what the probe could not remove after itself.
	Leftover string `json:"leftover,omitempty"`

	mtime MTimeMethod
}

// Apply returns prev with what r checked: facts r could not check keep
// prev's value.
func (r *Report) Apply(prev Profile) Profile {
	p := prev
	if r.MTime.Result != Unchecked {
		p.MTime = r.mtime
	}
	if r.RestStor.Result != Unchecked {
		p.NoRestStor = r.RestStor.Result == No
	}
	if r.RestRetr.Result != Unchecked {
		p.NoRestRetr = r.RestRetr.Result == No
	}
	switch r.RenameReplaces.Result {
	case Yes:
		p.RenameReplaces = SupportYes
	case No:
		p.RenameReplaces = SupportNo
	}
	if r.Connections.Refusal != "" {
		p.MaxConns = r.Connections.Accepted
	} else if r.Connections.Error == "" && r.Connections.Accepted >= p.MaxConns {
		p.MaxConns = 0 // no limit up to the cap
	}
	if r.Zone.Result == Yes {
		p.Zone = r.ZoneValues
	}
	return p
}

// Probe logs in to the server of cfg and finds out its quirks afresh (no
// earlier profile is used): the FEAT facts, whether passive connections
// can use EPSV, how an mtime can be set (set on a probe file and read
// back), whether REST works before STOR and before RETR, whether RNTO
// replaces an existing name, the precision of listed times, the offsets of
// listed, MDTM and set times from UTC, and how many connections the server
// accepts up to opts.Connections (one at a time, stopping at the first
// refusal; all are closed again).
//
// The write checks work in a temporary folder Probe makes in dir
// (ProbeDirPrefix and a random suffix) and removes. When that folder
// cannot be made (a read-only account, a folder that does not exist),
// those checks are Unchecked with the reason, REST before RETR is checked
// on an existing file of dir, and the rest are made as usual.
//
// The error is the login's, or one that left the connection unusable; the
// Report is returned whenever the login succeeded.
func Probe(ctx context.Context, cfg Config, dir string, opts ProbeOptions) (*Report, error) {
	capN := opts.Connections
	if capN <= 0 {
		capN = DefaultProbeConnections
	}
	var mu sync.Mutex
	prof := &Profile{}
	c, err := dial(ctx, &cfg, &mu, prof)
	if err != nil {
		return nil, err
	}
	r := &Report{Addr: cfg.Addr, User: cfg.User, Dir: dir, Connections: Connections{Cap: capN}}
	if r.User == "" {
		r.User = "anonymous"
	}
	conns := []*Conn{c}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if rep, err := c.Cmd(ctx, 0, "SYST"); err != nil {
		return r, err
	} else if rep.Code == 215 {
		r.System = rep.Msg()
	}
	r.Feat = c.features()
	r.ListCommand = "LIST"
	if r.Feat.MLST {
		r.ListCommand = "MLSD"
	}
	if err := c.probeChecks(ctx, r, dir); err != nil {
		return r, err
	}
	switch {
	case cfg.Active:
		r.EPSV = unchecked("active mode (--active): data connections use EPRT/PORT")
	case c.epsvFailed:
		r.EPSV = no("EPSV refused: PASV used")
	default:
		r.EPSV = yes("passive data connections used EPSV")
	}
	r.mtime = prof.MTime
	if r.MTime.Result != Unchecked {
		r.MTimeMethod = prof.MTime.String()
	}
	r.ZoneValues = prof.Zone
	conns = append(conns, r.countConnections(ctx, &cfg, capN)...)
	return r, nil
}

// features reads the FEAT facts of the connection.
func (c *Conn) features() Features {
	has := func(k string) bool { _, ok := c.feat[k]; return ok }
	f := Features{
		MLST: has("MLST"), MLSTFacts: c.feat["MLST"], MFMT: has("MFMT"), MDTM: has("MDTM"),
		SIZE: has("SIZE"), EPSV: has("EPSV"), UTF8: has("UTF8"),
		RestStream: strings.EqualFold(strings.TrimSpace(c.feat["REST"]), "STREAM"),
	}
	if p, ok := c.feat["HASH"]; ok {
		algos, cur := ParseHashFeat(p)
		for _, a := range algos {
			if a == cur {
				a += "*"
			}
			f.Hash = append(f.Hash, a)
		}
	}
	for _, h := range hashCommands {
		if has(h.feat) {
			f.Hash = append(f.Hash, h.feat)
		}
	}
	return f
}

// probeChecks runs the checks that need a folder: in a probe folder of
// dir when one can be made, else the read-only ones on dir itself.
func (c *Conn) probeChecks(ctx context.Context, r *Report, dir string) error {
	d, err := c.makeProbeDir(ctx, dir)
	var pde *ProbeDirError
	if errors.As(err, &pde) {
		why := fmt.Sprintf("read-only? %v", pde.Err)
		r.MTime, r.RestStor, r.RenameReplaces, r.Zone = unchecked("%s", why), unchecked("%s", why), unchecked("%s", why), unchecked("%s", why)
		return c.readOnlyChecks(ctx, r, dir)
	}
	if err != nil {
		return err
	}
	err = c.writeChecks(ctx, r, d)
	if rerr := d.remove(ctx); rerr != nil {
		r.Leftover = rerr.Error()
	}
	return err
}

// writeChecks runs every check in the probe folder d. Only an error that
// leaves the connection unusable is returned; others become the checks'
// details.
func (c *Conn) writeChecks(ctx context.Context, r *Report, d *probeDir) error {
	_, ev, err := c.measureZone(ctx, d)
	m := c.profile().MTime
	switch {
	case c.broken:
		return err
	case err == nil:
		r.Zone = yes("listed %s (%s) for an upload at %s UTC", ev.Listed.Format(listLayout(ev.ListPrecision)),
			r.ListCommand, ev.Uploaded.UTC().Format(time.DateTime))
		if ev.ListSkew.Abs() >= time.Minute {
			r.Zone.Detail += fmt.Sprintf("; the server's clock is %v off beyond the zone", ev.ListSkew.Round(time.Second))
		}
		r.ListPrecision = formatPrecision(ev.ListPrecision)
	case errors.Is(err, ErrNoOffset):
		r.Zone = unchecked("%v", err)
		if ev.ListPrecision > 0 {
			r.ListPrecision = formatPrecision(ev.ListPrecision)
		}
	default:
		r.Zone = unchecked("%v", err)
	}
	switch {
	case m == MTimeNone:
		r.MTime = no("MFMT, MDTM time path and SITE UTIME all refused")
	case err == nil:
		line, _ := setTimeCommand(m, FormatMDTMTime(ev.SetTo), "")
		r.MTime = yes("%s made it %s UTC (read back by %s): the time is read as %s",
			strings.TrimSpace(line), ev.ReadBack.Format(time.DateTime),
			ev.ReadBackBy, FormatOffset(int32(ev.SetTo.Sub(ev.ReadBack).Round(zoneStep)/time.Second)))
	case m != MTimeUnknown:
		r.MTime = unchecked("%s was accepted but could not be confirmed: %v", m, err)
	default:
		r.MTime = unchecked("%v", err)
	}

	if err := c.restChecks(ctx, r, d); err != nil {
		return err
	}
	return c.renameCheck(ctx, r, d)
}

// restChecks finds whether REST works before STOR and before RETR.
func (c *Conn) restChecks(ctx context.Context, r *Report, d *probeDir) error {
	const body = "0123456789"
	up, err := d.put(ctx, "rest", []byte(body))
	if err != nil {
		if c.broken {
			return err
		}
		why := fmt.Sprintf("the probe file could not be stored: %v", err)
		r.RestStor, r.RestRetr = unchecked("%s", why), unchecked("%s", why)
		return nil
	}
	var fe *Error
	// Quirk (proftpd without AllowStoreRestart): "451 Append/Restart not
	// permitted" answers the STOR after a REST.
	_, err = c.Stor(ctx, up.path, 4, strings.NewReader("abcdef"))
	switch {
	case err == nil:
		var got bytes.Buffer
		if _, err := c.Retr(ctx, up.path, 0, &got); err != nil {
			if c.broken {
				return err
			}
			r.RestStor = unchecked("the file could not be read back: %v", err)
		} else if got.String() == "0123abcdef" {
			r.RestStor = yes("REST 4, STOR: the file holds %q", got.String())
		} else {
			r.RestStor = no("REST 4, STOR: the file holds %q, not %q", got.String(), "0123abcdef")
		}
	case errors.As(err, &fe) && !c.broken:
		r.RestStor = no("%d %s", fe.Code, fe.Msg)
	default:
		return err
	}
	// The file may now hold "0123abcdef" or anything else: RETR it whole
	// first, then from offset 6.
	var whole, tail bytes.Buffer
	if _, err := c.Retr(ctx, up.path, 0, &whole); err != nil {
		if c.broken {
			return err
		}
		r.RestRetr = unchecked("the probe file could not be read: %v", err)
		return nil
	}
	return c.restRetrCheck(ctx, r, up.path, whole.Len(), func(n int64) bool {
		return n == int64(whole.Len()-6) && bytes.Equal(tail.Bytes(), whole.Bytes()[6:])
	}, 6, &tail)
}

// restRetrCheck RETRs path (size bytes) from offset off into tail and
// decides with ok, given the bytes received.
func (c *Conn) restRetrCheck(ctx context.Context, r *Report, path string, size int, ok func(n int64) bool, off int64, tail *bytes.Buffer) error {
	var fe *Error
	n, err := c.Retr(ctx, path, off, tail)
	switch {
	case err == nil && ok(n):
		r.RestRetr = yes("REST %d, RETR of %d bytes: %d received", off, size, n)
	case err == nil:
		r.RestRetr = no("REST %d, RETR of %d bytes: %d received (the offset was ignored)", off, size, n)
	case errors.As(err, &fe) && !c.broken:
		r.RestRetr = no("%d %s", fe.Code, fe.Msg)
	default:
		return err
	}
	return nil
}

// renameCheck finds whether RNTO replaces an existing name.
func (c *Conn) renameCheck(ctx context.Context, r *Report, d *probeDir) error {
	a, err := d.put(ctx, "rename-from", []byte("new"))
	if err == nil {
		_, err = d.put(ctx, "rename-to", []byte("old!"))
	}
	if err != nil {
		if c.broken {
			return err
		}
		r.RenameReplaces = unchecked("the probe files could not be stored: %v", err)
		return nil
	}
	to := d.path + "/rename-to"
	var fe *Error
	err = c.Rename(ctx, a.path, to)
	switch {
	case err == nil:
		n, serr := c.Size(ctx, to)
		switch {
		case serr != nil && c.broken:
			return serr
		case serr != nil:
			r.RenameReplaces = unchecked("RNTO was accepted but the result could not be read: %v", serr)
		case n == 3:
			r.RenameReplaces = yes("RNTO onto an existing name replaced it")
		default:
			r.RenameReplaces = no("RNTO was accepted but the old file stayed (%d bytes)", n)
		}
	case errors.As(err, &fe) && !c.broken:
		r.RenameReplaces = no("%s: %d %s", strings.Fields(fe.Cmd)[0], fe.Code, fe.Msg)
	default:
		return err
	}
	return nil
}

// readOnlyChecks checks what needs no writing in dir: REST before RETR on
// its smallest file of at least two bytes, and the precision of its
// listed times.
func (c *Conn) readOnlyChecks(ctx context.Context, r *Report, dir string) error {
	entries, err := c.List(ctx, dir)
	if err != nil && entries == nil {
		if c.broken {
			return err
		}
		r.RestRetr = unchecked("%s could not be listed: %v", dir, err)
		return nil
	}
	var pick *Entry
	var finest time.Duration
	for i, e := range entries {
		if e.Type != TypeFile {
			continue
		}
		if e.Precision > 0 && (finest == 0 || e.Precision < finest) {
			finest = e.Precision
		}
		if e.Size >= 2 && (pick == nil || e.Size < pick.Size) {
			pick = &entries[i]
		}
	}
	if finest > 0 {
		r.ListPrecision = formatPrecision(finest)
	}
	if pick == nil {
		r.RestRetr = unchecked("no file of two bytes or more in %s to read", dir)
		return nil
	}
	path := dir + "/" + pick.Name
	if dir == "/" {
		path = "/" + pick.Name
	}
	var tail bytes.Buffer
	return c.restRetrCheck(ctx, r, path, int(pick.Size), func(n int64) bool { return n == 1 }, pick.Size-1, &tail)
}

// countConnections logs in more connections, one at a time, until capN
// are open or one is refused, and returns them for the caller to close.
func (r *Report) countConnections(ctx context.Context, cfg *Config, capN int) []*Conn {
	var extra []*Conn
	for r.Connections.Accepted = 1; r.Connections.Accepted < capN; r.Connections.Accepted++ {
		c, err := dial(ctx, cfg, &sync.Mutex{}, &Profile{})
		var fe *Error
		switch {
		case err == nil:
			extra = append(extra, c)
			continue
		// Quirk: 421 is the usual refusal (vsftpd max_per_ip, pure-ftpd
		// -C); proftpd's MaxClients answers 530 to PASS, which after a
		// successful login of the same user is a limit too.
		case errors.As(err, &fe) && (fe.Code == 421 || fe.Code == 530):
			r.Connections.Refusal = fmt.Sprintf("%d %s", fe.Code, fe.Msg)
		default:
			r.Connections.Error = err.Error()
		}
		return extra
	}
	return extra
}

// listLayout shows a listed time to its precision.
func listLayout(prec time.Duration) string {
	switch {
	case prec >= 24*time.Hour:
		return time.DateOnly
	case prec >= time.Minute:
		return "2006-01-02 15:04"
	}
	return time.DateTime
}

// formatPrecision renders a listing's precision: "1s", "1m", "1d".
func formatPrecision(p time.Duration) string {
	switch {
	case p >= 24*time.Hour && p%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", p/(24*time.Hour))
	case p >= time.Minute && p%time.Minute == 0:
		return fmt.Sprintf("%dm", p/time.Minute)
	}
	return p.String()
}
