package plan

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// base is 2024-11-24 06:31:00 UTC; at(s) is s seconds later.
var base = time.Date(2024, 11, 24, 6, 31, 0, 0, time.UTC)

func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

// f is a file at second precision (local scan, MLSD).
func f(size int64, sec int) Meta {
	return Meta{Kind: File, Size: size, ModTime: at(sec), Precision: time.Second}
}

// fp is a file with a given precision; its time is at(sec) truncated to it.
func fp(size int64, sec int, prec time.Duration) Meta {
	t := at(sec)
	if prec > 0 {
		t = t.Truncate(prec)
	} else {
		t = time.Time{}
	}
	return Meta{Kind: File, Size: size, ModTime: t, Precision: prec}
}

func dir() Meta { return Meta{Kind: Dir} }

type E map[string]Meta

func tr(e E, unknown ...string) Tree {
	t := Tree{Entries: map[string]Meta(e), Unknown: map[string]bool{}}
	if t.Entries == nil {
		t.Entries = map[string]Meta{}
	}
	for _, u := range unknown {
		t.Unknown[u] = true
	}
	return t
}

// inc marks folders of t incomplete (listed without some of their entries).
func inc(t Tree, dirs ...string) Tree {
	t.Incomplete = map[string]bool{}
	for _, d := range dirs {
		t.Incomplete[d] = true
	}
	return t
}

func rec(l, r Meta) Record { return Record{Kind: l.Kind, Local: l, Remote: r} }

// brief renders actions as "op path" or "op path -> to".
func brief(p Plan) []string {
	out := []string{}
	for _, a := range p.Actions {
		s := a.Op.String() + " " + a.Path
		if a.To != "" {
			s += " -> " + a.To
		}
		out = append(out, s)
	}
	return out
}

func checkActions(t *testing.T, p Plan, want []string) {
	t.Helper()
	got := brief(p)
	if want == nil {
		want = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("actions:\n got: %s\nwant: %s\nplan:\n%s", strings.Join(got, " | "), strings.Join(want, " | "), p)
	}
	checkPhases(t, p)
}

// checkPhases asserts the ordering contract every plan must keep.
func checkPhases(t *testing.T, p Plan) {
	t.Helper()
	var prev Phase
	for i, a := range p.Actions {
		if a.Phase < prev || a.Phase == 0 {
			t.Fatalf("action %d %v: phase %d after phase %d", i, a, a.Phase, prev)
		}
		prev = a.Phase
	}
	var ld, rd int
	for _, a := range p.Actions {
		switch a.Op {
		case DeleteLocal:
			ld++
		case DeleteRemote:
			rd++
		}
	}
	if ld != p.LocalDeletes || rd != p.RemoteDeletes {
		t.Errorf("delete counts %d/%d, actions have %d/%d", p.LocalDeletes, p.RemoteDeletes, ld, rd)
	}
}

func checkProblems(t *testing.T, p Plan, want []string) {
	t.Helper()
	if len(p.Problems) != len(want) {
		t.Errorf("problems = %q, want %d matching %q", p.Problems, len(want), want)
		return
	}
	for i, w := range want {
		if !strings.Contains(p.Problems[i], w) {
			t.Errorf("problem %d = %q, want it to contain %q", i, p.Problems[i], w)
		}
	}
}
