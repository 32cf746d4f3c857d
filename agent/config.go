package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
)

// Defaults of the configuration.
const (
	DefaultDebounce = 500 * time.Millisecond
	DefaultGrace    = 10 * time.Second
)

// File is the configuration file as written: JSON, every field optional
// except jobs. See config.example.json.
type File struct {
	State string          `json:"state"`
	Log   LogConfig       `json:"log"`
	HTTP  HTTPConfig      `json:"http"`
	Grace string          `json:"grace"`
	Jobs  json.RawMessage `json:"jobs"`
}

// LogConfig is the "log" section.
type LogConfig struct {
	Level  string `json:"level"`  // debug, info (default), warn, error
	Format string `json:"format"` // text (default) or json
}

// HTTPConfig is the "http" section: the status page's address. Off
// unless Listen is set. AllowRemote lets Listen be an address other than
// loopback; it requires TokenFile, whose first line every request must
// then present. A relative TokenFile is relative to the configuration
// file.
type HTTPConfig struct {
	Listen      string `json:"listen"`
	AllowRemote bool   `json:"allow_remote"`
	TokenFile   string `json:"token_file"`
}

// JobFile is one job as written in the file.
type JobFile struct {
	Name         string   `json:"name"`
	Local        string   `json:"local"`
	Remote       string   `json:"remote"`
	PasswordEnv  string   `json:"password_env"`
	PasswordFile string   `json:"password_file"`
	Mode         string   `json:"mode"`
	Delete       bool     `json:"delete"`
	Watch        bool     `json:"watch"`
	Debounce     string   `json:"debounce"`
	Schedule     string   `json:"schedule"`
	Exclude      []string `json:"exclude"`
	Parallel     int      `json:"parallel"`
	TLS          string   `json:"tls"`
	Active       bool     `json:"active"`
	CAFile       string   `json:"ca_file"`
	Insecure     bool     `json:"insecure"`
	Timeout      string   `json:"timeout"`
	BWLimit      string   `json:"bwlimit"`
	Verify       bool     `json:"verify"`
	BackupDir    string   `json:"backup_dir"`
	MaxDelete    *int     `json:"max_delete"`
}

// Config is a validated configuration.
type Config struct {
	Path  string // the file it was read from
	State string // state cache path
	Log   LogConfig
	HTTP  HTTPConfig
	Grace time.Duration
	Jobs  []*JobConfig
}

// JobConfig is one validated job.
type JobConfig struct {
	File     JobFile // as written, to tell a changed job on reload
	Job      *job.Job
	Watch    bool
	Debounce time.Duration
	Schedule cron.Schedule // nil: none
}

// Name is the job's name.
func (j *JobConfig) Name() string { return j.File.Name }

// ConfigError is a configuration that cannot run: the file, and where in
// it, and what is wrong. Job is -1 for a top-level field.
type ConfigError struct {
	File  string
	Job   int
	Name  string // the job's name, when it has one
	Field string // JSON field; "" for the file as a whole
	Err   error
}

func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": ")
	if e.Job >= 0 {
		fmt.Fprintf(&b, "jobs[%d]", e.Job)
		if e.Name != "" {
			fmt.Fprintf(&b, " (%q)", e.Name)
		}
		if e.Field != "" {
			b.WriteString(".")
		}
	}
	if e.Field != "" {
		b.WriteString(e.Field)
	}
	if e.Job >= 0 || e.Field != "" {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *ConfigError) Unwrap() error { return e.Err }

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Load reads and validates the configuration file at path: strict JSON
// (an unknown field is an error), every job resolved (URL, local folder,
// excludes, ...) and every schedule and duration parsed, before anything
// runs. The error is a *ConfigError naming the job and the field.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Job: -1, Err: err}
	}
	return Parse(path, data)
}

// Parse is Load on the file's contents.
func Parse(path string, data []byte) (*Config, error) {
	top := func(field string, err error) error { return &ConfigError{File: path, Job: -1, Field: field, Err: err} }
	var f File
	if err := decodeStrict(data, &f); err != nil {
		return nil, top("", err)
	}
	c := &Config{Path: path, State: f.State, Log: f.Log, HTTP: f.HTTP, Grace: DefaultGrace}
	if c.State == "" {
		p, err := state.DefaultPath()
		if err != nil {
			return nil, top("state", err)
		}
		c.State = p
	} else if !filepath.IsAbs(c.State) {
		c.State = filepath.Join(filepath.Dir(path), c.State)
	}
	if f.Grace != "" {
		d, err := parseDuration(f.Grace)
		if err != nil {
			return nil, top("grace", err)
		}
		c.Grace = d
	}
	switch f.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return nil, top("log.level", fmt.Errorf("%q: must be debug, info, warn or error", f.Log.Level))
	}
	switch f.Log.Format {
	case "", "text", "json":
	default:
		return nil, top("log.format", fmt.Errorf("%q: must be text or json", f.Log.Format))
	}
	if field, err := checkHTTP(f.HTTP); err != nil {
		return nil, top(field, err)
	}
	if c.HTTP.TokenFile != "" && !filepath.IsAbs(c.HTTP.TokenFile) {
		c.HTTP.TokenFile = filepath.Join(filepath.Dir(path), c.HTTP.TokenFile)
	}
	if len(bytes.TrimSpace(f.Jobs)) == 0 || string(bytes.TrimSpace(f.Jobs)) == "null" {
		return nil, top("jobs", errors.New("missing: the file defines no job"))
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(f.Jobs, &raws); err != nil {
		return nil, top("jobs", errors.New("must be a list of jobs"))
	}
	if len(raws) == 0 {
		return nil, top("jobs", errors.New("is empty: the file defines no job"))
	}
	names := map[string]int{}
	roots := map[string]int{}
	for i, raw := range raws {
		jc, err := parseJob(raw, c.State)
		if err != nil {
			var ce *ConfigError
			if errors.As(err, &ce) {
				ce.File, ce.Job = path, i
				return nil, ce
			}
			return nil, &ConfigError{File: path, Job: i, Err: err}
		}
		at := func(field string, err error) error {
			return &ConfigError{File: path, Job: i, Name: jc.Name(), Field: field, Err: err}
		}
		if j, dup := names[jc.Name()]; dup {
			return nil, at("name", fmt.Errorf("%q is already the name of jobs[%d]", jc.Name(), j))
		}
		names[jc.Name()] = i
		root := jc.Job.Local + "\x00" + jc.Job.Remote.Redacted
		if j, dup := roots[root]; dup {
			return nil, at("local", fmt.Errorf("jobs[%d] already syncs %s with %s", j, jc.Job.Local, jc.Job.Remote.Redacted))
		}
		roots[root] = i
		c.Jobs = append(c.Jobs, jc)
	}
	return c, nil
}

// parseJob decodes and validates one job. Its errors are *ConfigError
// values without File and Job, which the caller fills in.
func parseJob(raw json.RawMessage, statePath string) (*JobConfig, error) {
	var f JobFile
	if err := decodeStrict(raw, &f); err != nil {
		return nil, &ConfigError{Err: err}
	}
	at := func(field string, err error) error { return &ConfigError{Name: f.Name, Field: field, Err: err} }
	if f.Name == "" {
		return nil, at("name", errors.New("missing: every job needs a name"))
	}
	if !namePattern.MatchString(f.Name) {
		return nil, at("name", fmt.Errorf("%q: use letters, digits, '.', '_' and '-'", f.Name))
	}
	var mode ferrysync.Mode
	switch f.Mode {
	case "push":
		mode = ferrysync.Push
	case "pull":
		mode = ferrysync.Pull
	case "two-way":
		mode = ferrysync.TwoWay
	case "":
		return nil, at("mode", errors.New("missing: must be push, pull or two-way"))
	default:
		return nil, at("mode", fmt.Errorf("%q: must be push, pull or two-way", f.Mode))
	}
	if f.Local == "" {
		return nil, at("local", errors.New("missing: the local folder to sync"))
	}
	if f.Remote == "" {
		return nil, at("remote", errors.New("missing: the ftp:// or ftps:// URL to sync with"))
	}
	jc := &JobConfig{File: f, Watch: f.Watch, Debounce: DefaultDebounce}
	if f.Watch && mode == ferrysync.Pull {
		return nil, at("watch", errors.New("a pull job cannot watch: a watcher sees local changes only (use schedule to bring remote changes down)"))
	}
	if f.Debounce != "" {
		d, err := parseDuration(f.Debounce)
		if err != nil {
			return nil, at("debounce", err)
		}
		jc.Debounce = d
	}
	if f.Schedule != "" {
		s, err := cron.ParseStandard(f.Schedule)
		if err != nil {
			return nil, at("schedule", fmt.Errorf("%q is not a cron expression (5 fields, or @every 5m, @hourly, ...): %v", f.Schedule, err))
		}
		jc.Schedule = s
	}
	var timeout time.Duration
	if f.Timeout != "" {
		d, err := parseDuration(f.Timeout)
		if err != nil {
			return nil, at("timeout", err)
		}
		timeout = d
	}
	maxDelete := -1
	if f.MaxDelete != nil {
		maxDelete = *f.MaxDelete
		if maxDelete < 0 {
			return nil, at("max_delete", fmt.Errorf("must be 0 or more, got %d", maxDelete))
		}
	}
	if f.Parallel < 0 {
		return nil, at("parallel", fmt.Errorf("must be 1..%d, got %d", job.MaxParallel, f.Parallel))
	}
	j, err := job.Resolve(job.Spec{
		Name: f.Name, Mode: mode, Local: f.Local, Remote: f.Remote,
		PasswordEnv: f.PasswordEnv, PasswordFile: f.PasswordFile,
		TLS: f.TLS, Insecure: f.Insecure, CAFile: f.CAFile, Active: f.Active, Timeout: timeout,
		Delete: f.Delete, Exclude: f.Exclude, Parallel: f.Parallel, MaxDelete: maxDelete,
		BWLimit: f.BWLimit, Verify: f.Verify, BackupDir: f.BackupDir, State: statePath,
	})
	if err != nil {
		var ue *ferrysync.UsageError
		if errors.As(err, &ue) {
			return nil, at(ue.Field, ue.Err)
		}
		return nil, at("", err)
	}
	jc.Job = j
	return jc, nil
}

// parseDuration is time.ParseDuration for a config field: positive only.
func parseDuration(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (e.g. 500ms, 10s, 5m)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: must not be negative", s)
	}
	return d, nil
}

// checkHTTP validates the http section: off unless listen is set; a
// listen address other than loopback needs allow_remote, and
// allow_remote needs a token_file. It returns the field at fault.
func checkHTTP(h HTTPConfig) (field string, err error) {
	if h.Listen == "" {
		if h.AllowRemote || h.TokenFile != "" {
			return "http.listen", errors.New("missing: allow_remote and token_file apply to a listen address")
		}
		return "", nil
	}
	host, port, err := net.SplitHostPort(h.Listen)
	if err != nil || port == "" {
		return "http.listen", fmt.Errorf("%q is not host:port", h.Listen)
	}
	if !IsLoopback(host) && !h.AllowRemote {
		return "http.listen", fmt.Errorf("%q is not a loopback address: set allow_remote (and token_file) to serve the status page to a network", h.Listen)
	}
	if h.AllowRemote && h.TokenFile == "" {
		return "http.token_file", errors.New("missing: a status page open to a network (allow_remote) needs a token every request presents")
	}
	return "", nil
}

// IsLoopback reports whether host (a name or an IP address, without
// port) is this machine's loopback: localhost or a loopback address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
	return ip != nil && ip.IsLoopback()
}

// decodeStrict decodes one JSON object into v (a pointer to a struct),
// refusing fields v does not have (also in nested struct fields such as
// "log") and trailing data, with syntax errors located by line and column.
func decodeStrict(data []byte, v any) error {
	if err := checkFields(data, reflect.TypeOf(v).Elem(), ""); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return describeJSONError(data, err)
	}
	if dec.More() {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

// checkFields reports the first key of the JSON object data that struct
// type t has no field for. Data that is not an object is left to the
// decoder to report.
func checkFields(data []byte, t reflect.Type, prefix string) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return nil
	}
	fields := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		fields[name] = f.Type
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ft, ok := fields[k]
		if !ok {
			return fmt.Errorf("unknown field %q", prefix+k)
		}
		if ft.Kind() == reflect.Struct {
			if err := checkFields(obj[k], ft, prefix+k+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

func describeJSONError(data []byte, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, se.Offset-1)
		return fmt.Errorf("invalid JSON at line %d, column %d: %v", line, col, se)
	case errors.As(err, &te):
		line, col := lineCol(data, te.Offset)
		return fmt.Errorf("line %d, column %d: %s must be %s, not %s", line, col, fieldOr(te.Field), te.Type, te.Value)
	case errors.Is(err, io.EOF):
		return errors.New("empty file: want a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("invalid JSON: the file ends before the value does")
	}
	return err
}

func fieldOr(f string) string {
	if f == "" {
		return "the value"
	}
	return f
}

func lineCol(data []byte, off int64) (line, col int) {
	off = max(off, 0)
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col = 1, 1
	for _, b := range data[:off] {
		if b == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return line, col
}
