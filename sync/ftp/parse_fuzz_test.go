package ftp

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add calls below
// add a few more so a plain "go test" exercises each invariant.

// checkListResult holds the invariants every listing parser keeps: an error
// is ErrSkip, *ParseError or *BadNameError and comes with an empty Entry; an
// Entry has a name checkName accepts, a known type, a size >= 0, a UTC time
// when it has one and a precision exactly when it has a time.
func checkListResult(t *testing.T, line string, e Entry, err error) {
	t.Helper()
	if err != nil {
		var pe *ParseError
		var be *BadNameError
		switch {
		case errors.Is(err, ErrSkip):
		case errors.As(err, &pe):
			if pe.Reason == "" || len(pe.Line) > maxErrLine {
				t.Fatalf("line %q: ParseError %+v: empty reason or over-long line", line, pe)
			}
		case errors.As(err, &be):
		default:
			t.Fatalf("line %q: untyped error %T %v", line, err, err)
		}
		if e != (Entry{}) {
			t.Fatalf("line %q: error %v with entry %s", line, err, fmtEntry(e))
		}
		return
	}
	if cerr := checkName(e.Name, line); cerr != nil {
		t.Fatalf("line %q: returned unsafe name: %v", line, cerr)
	}
	if e.Type < TypeFile || e.Type > TypeOther {
		t.Fatalf("line %q: type %d", line, e.Type)
	}
	if e.Size < 0 {
		t.Fatalf("line %q: size %d", line, e.Size)
	}
	if e.Mode > 0o7777 {
		t.Fatalf("line %q: mode %o", line, e.Mode)
	}
	if e.ModTime.IsZero() != (e.Precision == 0) {
		t.Fatalf("line %q: time %v with precision %v", line, e.ModTime, e.Precision)
	}
	if !e.ModTime.IsZero() && e.ModTime.Location() != time.UTC {
		t.Fatalf("line %q: time %v not in UTC", line, e.ModTime)
	}
	if e.Target != "" && e.Type != TypeLink {
		t.Fatalf("line %q: target %q on a %v", line, e.Target, e.Type)
	}
	if !strings.Contains(line, e.Name) {
		t.Fatalf("line %q: name %q is not part of the line", line, e.Name)
	}
}

func FuzzParseMLSxLine(f *testing.F) {
	f.Add("type=file;size=6;modify=20261126115730;UNIX.mode=0644; plain.txt")
	f.Add("type=OS.unix=slink:x;size=1; l")
	f.Fuzz(func(t *testing.T, line string) {
		e, err := ParseMLSxLine(line)
		checkListResult(t, line, e, err)
		if err == nil && e.Precision != 0 && e.Precision != time.Second {
			t.Fatalf("line %q: precision %v", line, e.Precision)
		}
		m, merr := ParseMLSTLine(" " + line)
		if merr == nil && m.Name == "" {
			t.Fatalf("MLST line %q: empty name", line)
		}
		if err == nil && len(line) < MaxLineLen && (merr != nil || m != e) {
			t.Fatalf("line %q: MLSD gives %s, MLST gives %s, %v", line, fmtEntry(e), fmtEntry(m), merr)
		}
	})
}

// fuzzLocs are the zones FuzzParseListLine picks from.
var fuzzLocs = []string{"UTC", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati", "America/St_Johns"}

func FuzzParseListLine(f *testing.F) {
	f.Add("-rw-r--r--    1 999      995             6 Nov 26 11:57 plain.txt", int64(1795694250), uint8(0))
	f.Add("11-24-24  06:31AM       <DIR>          aspnet_client", int64(1795694250), uint8(1))
	locs := make([]*time.Location, len(fuzzLocs))
	for i, name := range fuzzLocs {
		loc, err := time.LoadLocation(name)
		if err != nil {
			f.Fatal(err)
		}
		locs[i] = loc
	}
	f.Fuzz(func(t *testing.T, line string, nowUnix int64, locIdx uint8) {
		// Keep now within years 1970-2200 so that year arithmetic is sane.
		now := time.Unix(nowUnix%(230*365*86400), 0)
		if nowUnix < 0 {
			now = time.Unix(-nowUnix%(230*365*86400), 0)
		}
		loc := locs[int(locIdx)%len(locs)]
		e, err := ParseListLine(line, now, loc)
		checkListResult(t, line, e, err)
		if err != nil {
			return
		}
		switch e.Precision {
		case time.Minute, 24 * time.Hour:
		default:
			t.Fatalf("line %q: precision %v", line, e.Precision)
		}
		// A Unix date without a year is never put after now plus the slack.
		if e.Precision == time.Minute && !dosLine(line) && e.ModTime.After(now.Add(listFutureSlack)) {
			t.Fatalf("line %q: year-less date %v more than the slack after now %v", line, e.ModTime, now)
		}
	})
}

func dosLine(line string) bool {
	toks := fields(line, 1)
	if len(toks) == 0 {
		return false
	}
	_, _, _, ok := dosDate(toks[0].s)
	return ok
}

func FuzzParseMDTMTime(f *testing.F) {
	f.Add("20241124063100")
	f.Add("20241124063100.123")
	f.Fuzz(func(t *testing.T, s string) {
		tm, err := ParseMDTMTime(s)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !tm.IsZero() {
				t.Fatalf("%q: %v, %v", s, tm, err)
			}
			return
		}
		if tm.Location() != time.UTC {
			t.Fatalf("%q: %v not UTC", s, tm)
		}
		back, err := ParseMDTMTime(FormatMDTMTime(tm))
		if err != nil || !back.Equal(tm.Truncate(time.Second)) {
			t.Fatalf("%q: %v formats as %q, which parses as %v, %v", s, tm, FormatMDTMTime(tm), back, err)
		}
	})
}

func FuzzParseEPSV(f *testing.F) {
	f.Add("229 Entering Extended Passive Mode (|||6446|)")
	f.Fuzz(func(t *testing.T, reply string) {
		port, err := ParseEPSV(reply)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || port != 0 {
				t.Fatalf("%q: %d, %v", reply, port, err)
			}
			return
		}
		if port < 1 || port > 65535 {
			t.Fatalf("%q: port %d", reply, port)
		}
	})
}

func FuzzParsePASV(f *testing.F) {
	f.Add("227 Entering Passive Mode (127,0,0,1,123,249).")
	f.Fuzz(func(t *testing.T, reply string) {
		ip, port, err := ParsePASV(reply)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || port != 0 || ip != nil {
				t.Fatalf("%q: %v, %d, %v", reply, ip, port, err)
			}
			return
		}
		if port < 1 || port > 65535 || len(ip) != 4 {
			t.Fatalf("%q: %v, %d", reply, ip, port)
		}
	})
}

func FuzzParseFeat(f *testing.F) {
	f.Add(" UTF8\n MLST type*;size*;modify*;\n REST STREAM\n AUTH TLS")
	f.Fuzz(func(t *testing.T, body string) {
		lines := strings.Split(body, "\n")
		feats := ParseFeat(lines)
		if len(feats) > len(lines) {
			t.Fatalf("%q: %d features from %d lines", body, len(feats), len(lines))
		}
		for k, v := range feats {
			if k == "" || k != strings.ToUpper(k) || strings.ContainsAny(k, " \t") || hasControl(k) {
				t.Fatalf("%q: bad key %q", body, k)
			}
			if v != strings.TrimSpace(v) && !strings.Contains(v, "\n") {
				t.Fatalf("%q: value %q of %q not trimmed", body, v, k)
			}
		}
	})
}

func FuzzParseHashFeat(f *testing.F) {
	for _, s := range []string{"SHA-256*;SHA-1;MD5;CRC32", "sha-1;md5*", "", ";;*", "SHA-256*;SHA-256*", "A B;C\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, params string) {
		algos, current := ParseHashFeat(params)
		if len(algos) > maxHashAlgos {
			t.Fatalf("%q: %d algorithms", params, len(algos))
		}
		seen := map[string]bool{}
		for _, a := range algos {
			if !hashName(a) || a != strings.ToUpper(a) || seen[a] {
				t.Fatalf("%q: bad or repeated name %q in %q", params, a, algos)
			}
			if !strings.Contains(strings.ToUpper(params), a) {
				t.Fatalf("%q: name %q is not in the input", params, a)
			}
			seen[a] = true
		}
		if current != "" && !seen[current] {
			t.Fatalf("%q: current %q not among %q", params, current, algos)
		}
	})
}
