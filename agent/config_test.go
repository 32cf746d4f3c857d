package agent

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	ferrysync "github.com/ferrysync/ferry/sync"
)

// exampleConfig is config.example.json with its local folders pointed at
// temporary ones, as a new user would edit it.
func exampleConfig(t *testing.T) (string, []byte) {
	t.Helper()
	data, err := os.ReadFile("../config.example.json")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, d := range []string{"site", "shared"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
		data = []byte(strings.ReplaceAll(string(data), `"/srv/`+d+`"`, `"`+filepath.Join(dir, d)+`"`))
	}
	data = []byte(strings.ReplaceAll(string(data), `"/etc/ferry/reports.password"`, `""`))
	return dir, data
}

func TestExampleConfigParsesWithEveryField(t *testing.T) {
	dir, data := exampleConfig(t)
	c, err := Parse(filepath.Join(dir, "ferry.json"), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Jobs) != 3 || c.State != "/var/lib/ferry/state.db" || c.Grace != 10*time.Second || c.Log.Level != "info" {
		t.Fatalf("config = %+v", c)
	}
	site := c.Jobs[0]
	if site.Name() != "site" || site.Job.Mode != ferrysync.Push || !site.Watch || site.Debounce != 500*time.Millisecond ||
		site.Schedule == nil || site.Job.MaxDelete != 100 || site.Job.Parallel != 4 || !site.Job.Delete ||
		site.Job.Remote.Dir != "/www" || site.Job.Remote.Config.User != "deploy" || site.Job.Timeout != 30*time.Second {
		t.Errorf("site job = %+v", site)
	}
	if !site.Job.Exclude.Excluded(".git", true) || !site.Job.Exclude.Excluded("a/b.tmp", false) {
		t.Errorf("site excludes = %v", site.Job.Exclude)
	}
	if r := c.Jobs[1]; r.Job.Mode != ferrysync.Pull || r.Watch || r.Job.MaxDelete != -1 || r.Job.BackupDir != "/srv/reports-old" {
		t.Errorf("reports job = %+v", r)
	}
	// "Every field shown": the first job names every field a job has.
	var jobs []map[string]any
	var top struct {
		Jobs json.RawMessage `json:"jobs"`
	}
	json.Unmarshal(data, &top)
	json.Unmarshal(top.Jobs, &jobs)
	typ := reflect.TypeOf(JobFile{})
	for i := range typ.NumField() {
		name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
		if _, ok := jobs[0][name]; !ok {
			t.Errorf("config.example.json's first job does not show %q", name)
		}
	}
}

// TestConfigErrors pins the agent issue's "Configuration": each mistake
// stops start-up with one message naming the job and the field.
func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	local := filepath.Join(dir, "site")
	if err := os.Mkdir(local, 0o755); err != nil {
		t.Fatal(err)
	}
	job := func(extra string) string {
		return `{"jobs": [{"name": "site", "local": "` + local + `", "remote": "ftp://u@127.0.0.1/w", "mode": "push"` + extra + `}]}`
	}
	tests := []struct {
		name, config, want string
	}{
		{"invalid JSON", `{"jobs": [`, `cfg.json: invalid JSON: the file ends before the value does`},
		{"syntax error located", "{\n  \"jobs\": [}\n", `cfg.json: invalid JSON at line 2, column 12`},
		{"unknown top-level field", `{"stat": "x", "jobs": []}`, `cfg.json: unknown field "stat"`},
		{"unknown nested field", `{"log": {"lvl": "x"}, "jobs": []}`, `cfg.json: unknown field "log.lvl"`},
		{"unknown job field", job(`, "delet": true`), `cfg.json: jobs[0]: unknown field "delet"`},
		{"no jobs", `{"state": "/x"}`, `cfg.json: jobs: missing`},
		{"wrong type", job(`, "parallel": "4"`), `cfg.json: jobs[0]: line 1, column`},
		{"bad cron", job(`, "schedule": "every five minutes"`), `cfg.json: jobs[0] ("site").schedule: "every five minutes" is not a cron expression`},
		{"bad duration", job(`, "debounce": "half a second"`), `cfg.json: jobs[0] ("site").debounce: "half a second" is not a duration`},
		{"bad grace", `{"grace": "-1s", "jobs": []}`, `cfg.json: grace: "-1s": must not be negative`},
		{"bad URL", job(`, "remote": "http://x/"`)[0:0] + `{"jobs": [{"name": "site", "local": "` + local + `", "remote": "http://x/", "mode": "push"}]}`, `cfg.json: jobs[0] ("site").remote: "http://x/": scheme must be ftp:// or ftps://`},
		{"unparseable URL", `{"jobs": [{"name": "site", "local": "` + local + `", "remote": "ftp://h:x:y/", "mode": "push"}]}`, `cfg.json: jobs[0] ("site").remote:`},
		{"missing local folder", `{"jobs": [{"name": "site", "local": "` + local + `-typo", "remote": "ftp://h/", "mode": "push"}]}`, `cfg.json: jobs[0] ("site").local: ` + local + `-typo: no such file or directory`},
		{"unknown mode", job(`, "mode": "mirror"`)[0:0] + `{"jobs": [{"name": "site", "local": "` + local + `", "remote": "ftp://h/", "mode": "mirror"}]}`, `cfg.json: jobs[0] ("site").mode: "mirror": must be push, pull or two-way`},
		{"duplicate names", `{"jobs": [{"name": "site", "local": "` + local + `", "remote": "ftp://h/a", "mode": "push"}, {"name": "site", "local": "` + local + `", "remote": "ftp://h/b", "mode": "push"}]}`, `cfg.json: jobs[1] ("site").name: "site" is already the name of jobs[0]`},
		{"watch on pull", `{"jobs": [{"name": "in", "local": "` + local + `", "remote": "ftp://h/", "mode": "pull", "watch": true}]}`, `cfg.json: jobs[0] ("in").watch: a pull job cannot watch`},
		{"bad exclude", job(`, "exclude": ["**"]`), `cfg.json: jobs[0] ("site").exclude: pattern "**" would exclude everything`},
		{"bad max_delete", job(`, "max_delete": -3`), `cfg.json: jobs[0] ("site").max_delete: must be 0 or more, got -3`},
		{"bad parallel", job(`, "parallel": 100`), `cfg.json: jobs[0] ("site").parallel: must be 1..64, got 100`},
		{"missing name", `{"jobs": [{"local": "` + local + `", "remote": "ftp://h/", "mode": "push"}]}`, `cfg.json: jobs[0].name: missing`},
		{"same root twice", `{"jobs": [{"name": "a", "local": "` + local + `", "remote": "ftp://h/", "mode": "push"}, {"name": "b", "local": "` + local + `", "remote": "ftp://h/", "mode": "two-way"}]}`, `cfg.json: jobs[1] ("b").local: jobs[0] already syncs`},
		{"remote status page without allow_remote", `{"http": {"listen": "0.0.0.0:8484"}, "jobs": []}`, `cfg.json: http.listen: "0.0.0.0:8484" is not a loopback address`},
		{"remote status page without a token", `{"http": {"listen": "0.0.0.0:8484", "allow_remote": true}, "jobs": []}`, `cfg.json: http.token_file: missing`},
		{"allow_remote on loopback without a token", `{"http": {"listen": "127.0.0.1:8484", "allow_remote": true}, "jobs": []}`, `cfg.json: http.token_file: missing`},
		{"status page address without port", `{"http": {"listen": "127.0.0.1"}, "jobs": []}`, `cfg.json: http.listen: "127.0.0.1" is not host:port`},
		{"missing password file", job(`, "password_file": "/nonexistent/pw"`), `cfg.json: jobs[0] ("site").password_file: open /nonexistent/pw: no such file or directory`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("cfg.json", []byte(tt.config))
			var ce *ConfigError
			if !errors.As(err, &ce) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Parse error:\n got %v\nwant prefix %s", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "--") {
				t.Errorf("error %q names a command-line flag", err)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.json"))
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file = %v, want a ConfigError wrapping ErrNotExist", err)
	}
}

// TestHTTPTokenFileRelativeToConfig: like state, a relative token_file is
// found beside the configuration file, not in the working directory.
func TestHTTPTokenFileRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := Parse(filepath.Join(dir, "ferry.json"), []byte(`{"http": {"listen": "0.0.0.0:8484", "allow_remote": true, "token_file": "token"},
		"jobs": [{"name": "site", "local": "`+dir+`", "remote": "ftp://u@127.0.0.1/w", "mode": "push"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "token"); cfg.HTTP.TokenFile != want {
		t.Errorf("token_file = %q, want %q", cfg.HTTP.TokenFile, want)
	}
}
