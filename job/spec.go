package job

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
)

// Spec is one job as a front end collected it: every option of a run,
// unvalidated. The zero value of an optional field means its default.
type Spec struct {
	Name   string // the agent job's name; "" for a command-line run
	Mode   ferrysync.Mode
	Local  string // local folder, relative paths taken from the working folder
	Remote string // ftp://[user[:password]@]host[:port]/path or ftps://…

	// Password sources after the URL, first found wins: the environment
	// variable named PasswordEnv, the first line of PasswordFile, then the
	// netrc file ($NETRC or ~/.netrc).
	PasswordEnv  string
	PasswordFile string

	TLS      string // "", off, explicit, implicit
	Insecure bool
	CAFile   string
	Active   bool
	Timeout  time.Duration // each network wait; 0: 30 s

	Delete    bool
	DryRun    bool
	Exclude   []string
	Parallel  int    // 0: 4
	MaxDelete int    // -1: the mode's default
	BWLimit   string // e.g. "2M"; "": none
	Verify    bool
	BackupDir string
	Reprobe   bool
	State     string // state cache path; "": state.DefaultPath()

	// Trace, when set, receives every FTP dialogue line (password masked).
	Trace func(line string)
}

// Defaults.
const (
	DefaultParallel = 4
	DefaultTimeout  = 30 * time.Second
	MaxParallel     = 64
)

// Job is a validated Spec, ready to run any number of times.
type Job struct {
	Spec
	Local     string // absolute local folder
	Remote    *ferrysync.Remote
	Exclude   *ferrysync.Excluder
	BWLimit   int64
	BackupDir string // resolved, absolute; "" for none
	State     string // state cache path
}

// Resolve validates every option of s and returns the job, or a
// *ferrysync.UsageError naming the first field at fault. It reads the
// password sources and the CA file and stats the local folder, but opens no
// connection and writes nothing.
func Resolve(s Spec) (*Job, error) {
	switch s.Mode {
	case ferrysync.Push, ferrysync.Pull, ferrysync.TwoWay:
	default:
		return nil, usageErr("mode", "must be push, pull or two-way")
	}
	if s.Parallel == 0 {
		s.Parallel = DefaultParallel
	}
	if s.Parallel < 1 || s.Parallel > MaxParallel {
		return nil, usageErr("parallel", "must be 1..%d, got %d", MaxParallel, s.Parallel)
	}
	if s.MaxDelete < -1 {
		return nil, usageErr("max_delete", "must be 0 or more, got %d", s.MaxDelete)
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.Timeout < 0 {
		return nil, usageErr("timeout", "must be positive, got %v", s.Timeout)
	}
	if s.Delete && s.Mode == ferrysync.TwoWay {
		return nil, usageErr("delete", "only applies to push and pull (a two-way sync always carries deletions over)")
	}
	j := &Job{Spec: s}
	if s.BWLimit != "" {
		var err error
		if j.BWLimit, err = ferrysync.ParseRate(s.BWLimit); err != nil {
			return nil, err
		}
	}
	if _, err := ferrysync.NewExcluder(s.Exclude); err != nil {
		return nil, err
	}
	pw, err := password(s)
	if err != nil {
		return nil, err
	}
	r, err := ferrysync.ParseRemote(s.Remote, ferrysync.RemoteOptions{
		TLS: s.TLS, Insecure: s.Insecure, CAFile: s.CAFile, Active: s.Active, PasswordEnv: pw,
	})
	if err != nil {
		return nil, err
	}
	r.Config.Timeout = s.Timeout
	r.Config.Trace = s.Trace
	j.Remote = r
	if s.Local == "" {
		return nil, usageErr("local", "is empty")
	}
	if j.Local, err = filepath.Abs(s.Local); err != nil {
		return nil, usageErr("local", "%v", err)
	}
	backupDir, inside, err := ferrysync.BackupDir(s.Mode, s.BackupDir, j.Local, r.Dir)
	if err != nil {
		return nil, err
	}
	j.BackupDir = backupDir
	if err := checkLocal(s.Mode, s.Local, j.Local); err != nil {
		return nil, err
	}
	j.State = s.State
	if j.State == "" {
		if j.State, err = state.DefaultPath(); err != nil {
			return nil, usageErr("state", "%v", err)
		}
	}
	if j.State, err = filepath.Abs(j.State); err != nil {
		return nil, usageErr("state", "%v", err)
	}
	excludes := s.Exclude[:len(s.Exclude):len(s.Exclude)]
	if inside != "" {
		// The backup folder inside the synced folder is never synced
		// (nor deleted as an extra).
		excludes = append(excludes, "/"+escapeGlob(inside)+"/")
	}
	if rel, err := filepath.Rel(j.Local, j.State); err == nil && filepath.IsLocal(rel) {
		// A state cache inside the synced folder is never synced: it
		// changes during every run.
		rel = escapeGlob(filepath.ToSlash(rel))
		for _, suffix := range []string{"", "-wal", "-shm", "-journal", ".agent.lock"} {
			excludes = append(excludes, "/"+rel+suffix)
		}
	}
	if j.Exclude, err = ferrysync.NewExcluder(excludes); err != nil {
		return nil, err
	}
	return j, nil
}

// escapeGlob quotes the glob metacharacters of a literal path, so an
// exclude pattern made from it matches exactly that path.
func escapeGlob(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]{}\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// checkLocal: a pull may create its destination folder; every mode needs a
// folder where a path already exists.
func checkLocal(mode ferrysync.Mode, given, abs string) error {
	st, err := os.Stat(abs)
	if err != nil {
		if mode != ferrysync.Pull || !errors.Is(err, os.ErrNotExist) {
			return usageErr("local", "%s: %w", given, unwrapPathError(err))
		}
		return nil
	}
	if !st.IsDir() {
		return usageErr("local", "%s is not a folder", given)
	}
	return nil
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// password reads the password sources that come after the URL: the
// environment variable, then the password file. "" means neither gave one
// (ParseRemote then tries netrc).
func password(s Spec) (string, error) {
	if s.PasswordEnv != "" {
		if pw := os.Getenv(s.PasswordEnv); pw != "" {
			return pw, nil
		}
	}
	if s.PasswordFile == "" {
		return "", nil
	}
	data, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", usageErr("password_file", "%v", err)
	}
	pw, _, _ := strings.Cut(string(data), "\n")
	pw = strings.TrimSuffix(pw, "\r")
	if pw == "" {
		return "", usageErr("password_file", "%s is empty", s.PasswordFile)
	}
	return pw, nil
}

func usageErr(field, format string, args ...any) error {
	return &ferrysync.UsageError{Field: field, Err: fmt.Errorf(format, args...)}
}
