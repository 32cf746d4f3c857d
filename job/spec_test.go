package job

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// TestResolveNamesTheField pins the agent issue's "one run path": every bad
// option is a *ferrysync.UsageError naming a neutral field (never a flag),
// so each front end can render it as --flag or jobs[i].field.
func TestResolveNamesTheField(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	ok := Spec{Mode: ferrysync.Push, Local: dir, Remote: "ftp://u@127.0.0.1/x", State: filepath.Join(dir, "s.db")}
	tests := []struct {
		name  string
		edit  func(*Spec)
		field string
		msg   string
	}{
		{"unknown mode", func(s *Spec) { s.Mode = 0 }, "mode", "must be push, pull or two-way"},
		{"parallel too high", func(s *Spec) { s.Parallel = 65 }, "parallel", "must be 1..64, got 65"},
		{"max_delete negative", func(s *Spec) { s.MaxDelete = -2 }, "max_delete", "must be 0 or more"},
		{"negative timeout", func(s *Spec) { s.Timeout = -1 }, "timeout", "must be positive"},
		{"delete on two-way", func(s *Spec) { s.Mode = ferrysync.TwoWay; s.Delete = true }, "delete", "only applies to push and pull"},
		{"bad rate", func(s *Spec) { s.BWLimit = "fast" }, "bwlimit", `"fast" is not a rate`},
		{"empty exclude", func(s *Spec) { s.Exclude = []string{""} }, "exclude", "empty pattern"},
		{"bad scheme", func(s *Spec) { s.Remote = "http://h/" }, "remote", "scheme must be ftp:// or ftps://"},
		{"bad tls", func(s *Spec) { s.TLS = "maybe" }, "tls", "must be off, explicit or implicit"},
		{"missing ca file", func(s *Spec) { s.TLS = "explicit"; s.CAFile = filepath.Join(dir, "nope.pem") }, "ca_file", "no such file"},
		{"missing password file", func(s *Spec) { s.PasswordFile = filepath.Join(dir, "nope") }, "password_file", "no such file"},
		{"empty password file", func(s *Spec) { s.PasswordFile = empty }, "password_file", "is empty"},
		{"missing local folder", func(s *Spec) { s.Local = filepath.Join(dir, "nope") }, "local", "no such file or directory"},
		{"local is a file", func(s *Spec) { s.Local = file }, "local", "is not a folder"},
		{"backup dir on two-way", func(s *Spec) { s.Mode = ferrysync.TwoWay; s.BackupDir = "old" }, "backup_dir", "only applies to push and pull"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := ok
			tt.edit(&s)
			_, err := Resolve(s)
			var ue *ferrysync.UsageError
			if !errors.As(err, &ue) || ue.Field != tt.field || !strings.Contains(ue.Err.Error(), tt.msg) {
				t.Fatalf("Resolve = %v, want a UsageError on %q containing %q", err, tt.field, tt.msg)
			}
			if strings.Contains(err.Error(), "--") {
				t.Errorf("error %q names a command-line flag", err)
			}
		})
	}
}

func TestResolveDefaultsAndPasswordSources(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("from-file\r\nignored\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := Spec{Mode: ferrysync.Pull, Local: filepath.Join(dir, "new"), Remote: "ftp://u@127.0.0.1:2121/a/b",
		PasswordEnv: "FERRY_TEST_PW", PasswordFile: pwFile, State: filepath.Join(dir, "s.db"), MaxDelete: -1}
	j, err := Resolve(s)
	if err != nil {
		t.Fatal(err)
	}
	if j.Parallel != DefaultParallel || j.Timeout != DefaultTimeout || j.Remote.Dir != "/a/b" || j.Remote.Config.Timeout != DefaultTimeout {
		t.Errorf("defaults: parallel %d timeout %v dir %q", j.Parallel, j.Timeout, j.Remote.Dir)
	}
	if j.Remote.Config.Password != "from-file" {
		t.Errorf("password = %q, want the file's first line", j.Remote.Config.Password)
	}
	t.Setenv("FERRY_TEST_PW", "from-env")
	if j, err = Resolve(s); err != nil || j.Remote.Config.Password != "from-env" {
		t.Errorf("password = %q, %v; want the environment's before the file's", j.Remote.Config.Password, err)
	}
	s.Remote = "ftp://u:in-url@127.0.0.1/"
	if j, err = Resolve(s); err != nil || j.Remote.Config.Password != "in-url" {
		t.Errorf("password = %q, %v; want the URL's first", j.Remote.Config.Password, err)
	}
	if strings.Contains(j.Remote.Redacted, "in-url") {
		t.Errorf("Redacted %q shows the password", j.Remote.Redacted)
	}
}

// TestStateCacheInsideTheFolderIsNeverSynced: a state cache kept inside
// the synced folder (and its write-ahead log) is excluded, as is a backup
// folder there, even with glob characters in their names.
func TestStateCacheInsideTheFolderIsNeverSynced(t *testing.T) {
	dir := t.TempDir()
	j, err := Resolve(Spec{Mode: ferrysync.Pull, Local: dir, Remote: "ftp://h/", MaxDelete: -1,
		State: filepath.Join(dir, ".ferry", "st[a]te.db"), BackupDir: "old*"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{".ferry/st[a]te.db", ".ferry/st[a]te.db-wal", ".ferry/st[a]te.db-shm"} {
		if !j.Exclude.Excluded(p, false) {
			t.Errorf("%s is not excluded", p)
		}
	}
	if !j.Exclude.Excluded("old*", true) {
		t.Error("the backup folder old* is not excluded")
	}
	for _, p := range []string{".ferry/state.db", "oldies", ".ferry/other.db"} {
		if j.Exclude.Excluded(p, p == "oldies") {
			t.Errorf("%s is excluded, but only the literal names should be", p)
		}
	}
}
