package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/agent/web"
	"github.com/ferrysync/ferry/internal/units"
	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
	ferrysync "github.com/ferrysync/ferry/sync"
)

type statusOptions struct {
	config string
	state  string
	json   bool
}

func newStatusCmd(stdout io.Writer) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status [--config FILE | --state DB] [JOB...]",
		Short: "Show each job's last run, result and next run",
		Long: `Show, for every job of the agent's configuration (or every job and
command-line run the state cache knows), the last run (start, duration,
trigger, result, files up/down/deleted, bytes, conflicts kept), the last
error, the next scheduled run and whether the job's watcher is working.`,
		Example: `  ferry status --config /etc/ferry/ferry.json
  ferry status --config /etc/ferry/ferry.json site --json
  ferry status --state ~/.local/state/ferry/state.db`,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return completeJobNames(cmd.Context(), o), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd.Context(), o, args, stdout)
		},
	}
	cmd.Flags().StringVar(&o.config, "config", "", "the agent's configuration file: its jobs and its state cache")
	cmd.Flags().StringVar(&o.state, "state", "", "a state cache (default $XDG_STATE_HOME/ferry/state.db)")
	cmd.Flags().BoolVar(&o.json, "json", false, "one JSON object per job")
	return cmd
}

// jobStatus is one line of `ferry status`, also its --json form.
type jobStatus struct {
	Job       string       `json:"job"` // "" for command-line runs
	Mode      string       `json:"mode"`
	Local     string       `json:"local"`
	Remote    string       `json:"remote"`
	Agent     bool         `json:"agent_running"`
	Watch     string       `json:"watch"`
	WatchWhy  string       `json:"watch_why,omitempty"`
	Schedule  string       `json:"schedule,omitempty"`
	NextRun   *time.Time   `json:"next_run,omitempty"`
	Problem   string       `json:"problem,omitempty"`
	LastRun   *web.RunJSON `json:"last_run,omitempty"`
	LastError *errorJSON   `json:"last_error,omitempty"`
}

type errorJSON struct {
	At   time.Time `json:"at"`
	Text string    `json:"text"`
}

func runStatus(ctx context.Context, o statusOptions, names []string, stdout io.Writer) error {
	if o.config != "" && o.state != "" {
		return &flagError{errors.New("status: give --config or --state, not both")}
	}
	var cfg *agent.Config
	statePath := o.state
	if o.config != "" {
		var err error
		if cfg, err = agent.Load(o.config); err != nil {
			return err
		}
		statePath = cfg.State
	}
	if statePath == "" {
		var err error
		if statePath, err = state.DefaultPath(); err != nil {
			return &ferrysync.UsageError{Field: "state", Err: err}
		}
	}
	var db *state.DB
	if _, err := os.Stat(statePath); err == nil {
		if db, err = state.Open(ctx, statePath); err != nil {
			return &ferrysync.UsageError{Field: "state", Err: err}
		}
		defer db.Close()
	} else if cfg == nil {
		return &ferrysync.UsageError{Field: "state", Err: fmt.Errorf("%s: no state cache there (has ferry run with it?)", statePath)}
	}
	// A configuration whose agent never ran (no state cache yet) shows
	// its jobs with no runs.
	list, err := collectStatus(ctx, db, cfg, db != nil && job.AgentRunning(statePath))
	if err != nil {
		return err
	}
	if len(names) > 0 {
		list, err = pickJobs(list, names)
		if err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		for _, s := range list {
			if err := enc.Encode(s); err != nil {
				return err
			}
		}
		return nil
	}
	printStatus(stdout, list, time.Now())
	return nil
}

func pickJobs(list []jobStatus, names []string) ([]jobStatus, error) {
	var out []jobStatus
	for _, n := range names {
		found := false
		for _, s := range list {
			if s.Job == n {
				out = append(out, s)
				found = true
			}
		}
		if !found {
			return nil, &ferrysync.UsageError{Field: "job", Err: fmt.Errorf("no job named %q", n)}
		}
	}
	return out, nil
}

// collectStatus joins the configuration's jobs (when given), what the agent
// recorded of them and the run history (none when db is nil).
func collectStatus(ctx context.Context, db *state.DB, cfg *agent.Config, running bool) ([]jobStatus, error) {
	var (
		last, errs []state.Run
		recorded   []state.AgentJob
		err        error
	)
	if db != nil {
		if last, err = db.LastRuns(ctx); err != nil {
			return nil, err
		}
		if errs, err = db.LastErrors(ctx); err != nil {
			return nil, err
		}
		if recorded, err = db.AgentJobs(ctx); err != nil {
			return nil, err
		}
	}
	byName := map[string]state.AgentJob{}
	for _, r := range recorded {
		byName[r.Name] = r
	}
	type key struct{ local, remote, job string }
	lastBy, errBy := map[key]state.Run{}, map[key]state.Run{}
	for _, r := range last {
		lastBy[key{r.Local, r.Remote, r.Job}] = r
	}
	for _, r := range errs {
		errBy[key{r.Local, r.Remote, r.Job}] = r
	}
	var out []jobStatus
	add := func(s jobStatus) {
		k := key{s.Local, s.Remote, s.Job}
		if r, ok := lastBy[k]; ok {
			s.LastRun = toRunJSON(r)
			if s.Mode == "" {
				s.Mode = r.Mode
			}
		}
		if r, ok := errBy[k]; ok {
			s.LastError = &errorJSON{At: r.Started, Text: r.ErrorText}
		}
		out = append(out, s)
	}
	if cfg != nil {
		for _, jc := range cfg.Jobs {
			s := jobStatus{Job: jc.Name(), Mode: jc.Job.Mode.String(), Local: jc.Job.Local, Remote: jc.Job.Remote.Redacted,
				Agent: running, Watch: agent.WatchOff, Schedule: jc.File.Schedule}
			if jc.Watch {
				s.Watch = "configured"
			}
			fillRecorded(&s, byName, running)
			add(s)
		}
		return out, nil
	}
	seen := map[key]bool{}
	for _, r := range recorded {
		s := jobStatus{Job: r.Name, Mode: r.Mode, Local: r.Local, Remote: r.Remote, Agent: running, Watch: agent.WatchOff, Schedule: r.Schedule}
		fillRecorded(&s, byName, running)
		seen[key{s.Local, s.Remote, s.Job}] = true
		add(s)
	}
	for _, r := range last {
		if k := (key{r.Local, r.Remote, r.Job}); !seen[k] {
			add(jobStatus{Job: r.Job, Local: r.Local, Remote: r.Remote, Agent: running, Watch: agent.WatchOff})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Job < out[j].Job })
	return out, nil
}

// fillRecorded adds what the agent recorded of the job: its watcher, next
// run and problem, which only mean something while the agent runs.
func fillRecorded(s *jobStatus, byName map[string]state.AgentJob, running bool) {
	r, ok := byName[s.Job]
	if !ok || !running || r.Local != s.Local || r.Remote != s.Remote {
		return
	}
	s.Watch, s.WatchWhy, s.Problem = r.Watch, r.WatchWhy, r.Problem
	if !r.NextRun.IsZero() {
		t := r.NextRun
		s.NextRun = &t
	}
}

func toRunJSON(r state.Run) *web.RunJSON {
	out := &web.RunJSON{Started: r.Started, Trigger: r.Trigger, Result: r.Result, FilesUp: r.FilesUp, FilesDown: r.FilesDown,
		FilesDeleted: r.FilesDeleted, BytesUp: r.BytesUp, BytesDown: r.BytesDown, Conflicts: r.Conflicts, Errors: r.Errors,
		Error: r.ErrorText}
	if r.Ended.IsZero() {
		out.Result = "running"
	} else {
		out.Duration = r.Ended.Sub(r.Started).Seconds()
	}
	return out
}

func printStatus(w io.Writer, list []jobStatus, now time.Time) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no runs recorded yet")
		return
	}
	for i, s := range list {
		if i > 0 {
			fmt.Fprintln(w)
		}
		name := s.Job
		if name == "" {
			name = "(command line)"
		}
		fmt.Fprintf(w, "%s  %s  %s -> %s\n", name, s.Mode, s.Local, s.Remote)
		if s.Job != "" {
			agentState := "not running"
			if s.Agent {
				agentState = "running"
			}
			fmt.Fprintf(w, "  agent:      %s\n", agentState)
			watch := s.Watch
			if s.WatchWhy != "" {
				watch += " (" + s.WatchWhy + ")"
			}
			fmt.Fprintf(w, "  watching:   %s\n", watch)
			sched := "none"
			if s.Schedule != "" {
				sched = s.Schedule
			}
			if s.NextRun != nil {
				sched += fmt.Sprintf(", next run %s (in %s)", s.NextRun.Local().Format("2006-01-02 15:04:05"), s.NextRun.Sub(now).Round(time.Second))
			}
			fmt.Fprintf(w, "  schedule:   %s\n", sched)
		}
		if s.Problem != "" {
			fmt.Fprintf(w, "  problem:    %s\n", s.Problem)
		}
		if r := s.LastRun; r != nil {
			fmt.Fprintf(w, "  last run:   %s, %s, %s: %d up, %d down, %d deleted, %s up, %s down, %d conflicts kept, %d errors\n",
				r.Started.Local().Format("2006-01-02 15:04:05"), runDuration(r), resultWord(r),
				r.FilesUp, r.FilesDown, r.FilesDeleted, units.Bytes(r.BytesUp), units.Bytes(r.BytesDown), r.Conflicts, r.Errors)
		} else {
			fmt.Fprintf(w, "  last run:   never\n")
		}
		if e := s.LastError; e != nil {
			fmt.Fprintf(w, "  last error: %s: %s\n", e.At.Local().Format("2006-01-02 15:04:05"), e.Text)
		}
	}
}

func runDuration(r *web.RunJSON) string {
	if r.Result == "running" {
		return "still running"
	}
	return (time.Duration(r.Duration * float64(time.Second))).Round(time.Millisecond).String()
}

func resultWord(r *web.RunJSON) string {
	t := r.Trigger
	if t == "" {
		t = "unknown trigger"
	}
	return t + ", " + r.Result
}

// completeJobNames lists the job names `ferry status` can show, for shell
// completion.
func completeJobNames(ctx context.Context, o statusOptions) []string {
	if ctx == nil {
		ctx = context.Background()
	}
	if o.config != "" {
		cfg, err := agent.Load(o.config)
		if err != nil {
			return nil
		}
		var out []string
		for _, jc := range cfg.Jobs {
			out = append(out, jc.Name())
		}
		return out
	}
	p := o.state
	if p == "" {
		p, _ = state.DefaultPath()
	}
	if _, err := os.Stat(p); err != nil {
		return nil
	}
	db, err := state.Open(ctx, p)
	if err != nil {
		return nil
	}
	defer db.Close()
	jobs, _ := db.AgentJobs(ctx)
	var out []string
	for _, j := range jobs {
		out = append(out, j.Name)
	}
	return out
}
