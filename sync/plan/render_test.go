package plan

import "testing"

func TestOpString(t *testing.T) {
	want := map[Op]string{
		MkdirLocal: "mkdir-local", MkdirRemote: "mkdir-remote", Upload: "upload", Download: "download",
		DeleteLocal: "delete-local", DeleteRemote: "delete-remote", RenameLocal: "rename-local",
		RenameRemote: "rename-remote", Adopt: "adopt", Forget: "forget", 0: "op(0)", 99: "op(99)",
	}
	for op, w := range want {
		if got := op.String(); got != w {
			t.Errorf("Op(%d).String() = %q, want %q", uint8(op), got, w)
		}
	}
}

func TestActionString(t *testing.T) {
	tests := []struct {
		a    Action
		want string
	}{
		{Action{Op: Upload, Path: "a/b.txt", Reason: "changed"}, "upload         a/b.txt  (changed)"},
		{Action{Op: RenameRemote, Path: "a.txt", To: "a.conflict-20241124-063100.txt", Reason: "conflict", Conflict: 2},
			"rename-remote  a.txt -> a.conflict-20241124-063100.txt  (conflict)  [conflict 2]"},
		{Action{Op: Forget, Path: "x"}, "forget         x"},
	}
	for _, tt := range tests {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

func TestPlanStringAndChanges(t *testing.T) {
	p := Plan{Actions: []Action{{Op: Adopt, Path: "a", Reason: "already equal"}}, Problems: []string{"x: skipped"}}
	if got, want := p.String(), "adopt          a  (already equal)\nproblem: x: skipped\n"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if p.Changes() {
		t.Error("a plan of Adopts changes nothing")
	}
	p.Actions = append(p.Actions, Action{Op: Upload, Path: "b"})
	if !p.Changes() {
		t.Error("a plan with an upload changes something")
	}
	if (Plan{}).String() != "" {
		t.Error("empty plan renders non-empty")
	}
}
