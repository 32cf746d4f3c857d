package plan

import (
	"errors"
	"strings"
	"testing"
)

func deletes(dir Direction, local, remote int, kind Kind) Plan {
	p := Plan{Direction: dir}
	for range local {
		p.Actions = append(p.Actions, Action{Op: DeleteLocal, Kind: kind})
		p.LocalDeletes++
	}
	for range remote {
		p.Actions = append(p.Actions, Action{Op: DeleteRemote, Kind: kind})
		p.RemoteDeletes++
	}
	return p
}

func TestCheckDeletes(t *testing.T) {
	tests := []struct {
		name                    string
		plan                    Plan
		localFiles, remoteFiles int
		max                     int
		want                    *TooManyDeletesError
	}{
		{"push without --max-delete is unlimited", deletes(Push, 0, 100, File), 0, 100, -1, nil},
		{"push --max-delete 5 refuses 6", deletes(Push, 0, 6, File), 0, 10, 5,
			&TooManyDeletesError{Side: "remote", Deletes: 6, Limit: 5, MaxDelete: true}},
		{"push --max-delete 6 allows 6", deletes(Push, 0, 6, File), 0, 10, 6, nil},
		{"pull --max-delete 0 refuses any delete", deletes(Pull, 1, 0, Dir), 10, 0, 0,
			&TooManyDeletesError{Side: "local", Deletes: 1, Limit: 0, MaxDelete: true}},
		{"--max-delete counts both sides of a two-way plan", deletes(Both, 2, 2, File), 100, 100, 3,
			&TooManyDeletesError{Side: "local and remote", Deletes: 4, Limit: 3, MaxDelete: true}},
		{"two-way default: half of the remote files is allowed", deletes(Both, 0, 5, File), 10, 10, -1, nil},
		{"two-way default: more than half of the remote files is refused", deletes(Both, 0, 6, File), 10, 10, -1,
			&TooManyDeletesError{Side: "remote", Deletes: 6, Total: 10, Limit: 5}},
		{"two-way default: more than half of the local files is refused", deletes(Both, 2, 0, File), 3, 10, -1,
			&TooManyDeletesError{Side: "local", Deletes: 2, Total: 3, Limit: 1}},
		{"two-way default: folder deletes do not count against files", deletes(Both, 9, 0, Dir), 2, 2, -1, nil},
		{"--max-delete overrides the two-way default", deletes(Both, 0, 9, File), 10, 10, 100, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.plan.CheckDeletes(tt.localFiles, tt.remoteFiles, tt.max)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("CheckDeletes = %v, want nil", err)
				}
				return
			}
			var tm *TooManyDeletesError
			if !errors.As(err, &tm) {
				t.Fatalf("CheckDeletes = %v, want *TooManyDeletesError", err)
			}
			if *tm != *tt.want {
				t.Errorf("error = %+v, want %+v", *tm, *tt.want)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.want.Side) {
				t.Errorf("message %q does not say where", msg)
			}
		})
	}
}

func TestCheckDeletesOnRealPlan(t *testing.T) {
	// Two of three local files vanished (say, an unmounted disk): sync refuses.
	st := State{"a": rec(f(1, 0), f(1, 0)), "b": rec(f(1, 0), f(1, 0)), "c": rec(f(1, 0), f(1, 0))}
	remote := tr(E{"a": f(1, 0), "b": f(1, 0), "c": f(1, 0)})
	p := TwoWay(tr(E{"c": f(1, 0)}), remote, st, Options{})
	err := p.CheckDeletes(1, 3, -1)
	var tm *TooManyDeletesError
	if !errors.As(err, &tm) || tm.Side != "remote" || tm.Deletes != 2 || tm.Total != 3 {
		t.Fatalf("CheckDeletes = %v", err)
	}
	if want := "plan would delete 2 of the 3 files on the remote side"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want prefix %q", err, want)
	}
}
