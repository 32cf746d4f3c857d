package plan

import (
	"testing"
	"time"
)

func TestSameTime(t *testing.T) {
	day := 24 * time.Hour
	tests := []struct {
		name string
		a, b Meta
		want bool
	}{
		{"same second", f(1, 5), f(1, 5), true},
		{"one second apart at second precision", f(1, 5), f(1, 6), false},
		{"sub-second difference at second precision", f(1, 5), Meta{Kind: File, ModTime: at(5).Add(300 * time.Millisecond), Precision: time.Second}, true},
		{"vsftpd LIST minute floors the local second", fp(1, 0, time.Minute), f(1, 45), true},
		{"minute floor, order of arguments does not matter", f(1, 59), fp(1, 0, time.Minute), true},
		{"local time in the next minute", fp(1, 0, time.Minute), f(1, 60), false},
		{"local time before the minute", fp(1, 0, time.Minute), f(1, -1), false},
		{"both minute precision, same minute", fp(1, 10, time.Minute), fp(1, 50, time.Minute), true},
		{"both minute precision, next minute", fp(1, 10, time.Minute), fp(1, 70, time.Minute), false},
		{"day precision (ls -l with year) covers the day", fp(1, 0, day), f(1, 17*3600), true},
		{"day precision, next day", fp(1, 0, day), f(1, 18*3600), false},
		{"precision 0 on one side: time does not decide", fp(1, 0, 0), f(1, 99999), true},
		{"precision 0 on both sides", fp(1, 0, 0), fp(1, 0, 0), true},
		{"minute vs day: the day floors the minute", fp(1, 0, day), fp(1, 600, time.Minute), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SameTime(tt.a, tt.b); got != tt.want {
				t.Errorf("SameTime(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestSame(t *testing.T) {
	tests := []struct {
		name string
		a, b Meta
		want bool
	}{
		{"same size and time", f(3, 1), f(3, 1), true},
		{"different size", f(3, 1), f(4, 1), false},
		{"different time", f(3, 1), f(3, 2), false},
		{"folders compare by kind only", Meta{Kind: Dir, ModTime: at(1), Precision: time.Second}, dir(), true},
		{"file vs folder", f(0, 0), dir(), false},
		{"precision 0: size decides", fp(3, 0, 0), f(3, 1234), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Same(tt.a, tt.b); got != tt.want {
				t.Errorf("Same = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestConflictName(t *testing.T) {
	ts := time.Date(2024, 11, 24, 6, 31, 0, 0, time.UTC)
	tests := []struct {
		name string
		path string
		when time.Time
		n    int
		want string
	}{
		{"extension kept last", "a.txt", ts, 1, "a.conflict-20241124-063100.txt"},
		{"multi-dot: only the last part is the extension", "docs/a.tar.gz", ts, 1, "docs/a.tar.conflict-20241124-063100.gz"},
		{"dotfile has no extension", ".htaccess", ts, 1, ".htaccess.conflict-20241124-063100"},
		{"dotfile with extension", "x/.env.local", ts, 1, "x/.env.conflict-20241124-063100.local"},
		{"no extension", "src/Makefile", ts, 1, "src/Makefile.conflict-20241124-063100"},
		{"trailing dot is not an extension", "a.", ts, 1, "a..conflict-20241124-063100"},
		{"dot in folder name is not an extension", "v1.2/README", ts, 1, "v1.2/README.conflict-20241124-063100"},
		{"collision suffix before the extension", "a.txt", ts, 2, "a.conflict-20241124-063100-2.txt"},
		{"time in UTC, whole seconds", "a.txt", time.Date(2024, 11, 24, 7, 31, 5, 900, time.FixedZone("CET", 3600)), 1, "a.conflict-20241124-063105.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConflictName(tt.path, tt.when, tt.n); got != tt.want {
				t.Errorf("ConflictName(%q) = %q, want %q", tt.path, got, tt.want)
			}
		})
	}
}

func TestConflictNameAvoidsTakenNames(t *testing.T) {
	taken := ConflictName("a.txt", at(0), 1)
	taken2 := ConflictName("a.txt", at(0), 2)
	b := newBuilder(tr(E{"a.txt": f(1, 0), taken: f(1, 0)}), tr(nil), State{taken2: rec(f(1, 0), f(1, 0))}, Options{})
	if got, want := b.conflictName("a.txt", at(0)), ConflictName("a.txt", at(0), 3); got != want {
		t.Errorf("first free name = %q, want %q (-1 in the local tree, -2 in the state)", got, want)
	}
	// Two conflicts on one name in the same second within one plan.
	if got, want := b.conflictName("a.txt", at(0)), ConflictName("a.txt", at(0), 4); got != want {
		t.Errorf("second conflict in the same plan = %q, want %q", got, want)
	}
}
