package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ferrysync/ferry/agent"
	"github.com/ferrysync/ferry/agent/web"
	"github.com/ferrysync/ferry/job"
	"github.com/ferrysync/ferry/state"
)

func newAgentCmd(stderr io.Writer) *cobra.Command {
	var configPath string
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run every job of a configuration file in the foreground until SIGTERM/SIGINT",
		Long: `Run every job of FILE: a full run at start-up, then on each job's schedule
and, for watched jobs, on every change under the local folder (only the
changed paths are synced). SIGHUP reloads FILE (a bad one is logged and the
old configuration keeps running); SIGTERM or SIGINT stops cleanly: no new
transfers, those in flight get the configured grace period.`,
		Example: `  ferry agent --config /etc/ferry/ferry.json
  systemctl start ferry       # packaging/ferry.service runs the line above`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if configPath == "" {
				return &flagError{errors.New("agent: --config FILE is required")}
			}
			return runAgent(cmd.Context(), configPath, stderr)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "the JSON configuration file (see config.example.json)")
	return cmd
}

func runAgent(ctx context.Context, path string, stderr io.Writer) error {
	cfg, err := agent.Load(path)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	unlock, err := job.LockAgent(cfg.State)
	if err != nil {
		return err
	}
	defer unlock()
	db, err := state.Open(ctx, cfg.State)
	if err != nil {
		return &agent.ConfigError{File: path, Job: -1, Field: "state", Err: err}
	}
	defer db.Close()
	runner := agent.NewJobRunner(db)
	defer runner.Close()
	runner.Size(cfg)
	a := agent.New(cfg, runner, agent.NewRegistry(db, log), log)
	// The status page: a taken address is a bad configuration (exit 2),
	// found before any job runs.
	srv, err := web.Listen(cfg, a, log)
	if err != nil {
		return err
	}
	if srv != nil {
		go func() {
			if err := srv.Serve(); err != nil {
				log.Error("status page stopped", "err", err)
			}
		}()
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			srv.Close(ctx)
		}()
		log.Info("status page", "url", "http://"+srv.Addr().String()+"/", "token", cfg.HTTP.TokenFile != "")
	}

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			next, err := agent.Load(path)
			if err != nil {
				log.Error("reload refused: the old configuration keeps running", "err", err)
				continue
			}
			if next.HTTP != cfg.HTTP {
				log.Warn("reload: the http section changes only on restart; the status page keeps its address and token", "listen", cfg.HTTP.Listen)
			}
			runner.Size(next)
			a.Reload(next)
		}
	}()
	notifySystemd("READY=1")
	err = a.Run(ctx)
	notifySystemd("STOPPING=1")
	return err
}

// newLogger makes the agent's slog logger from the log section.
func newLogger(c agent.LogConfig, w io.Writer) *slog.Logger {
	var level slog.Level
	switch c.Level {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// notifySystemd tells systemd (Type=notify) about the agent's state when
// it runs under it ($NOTIFY_SOCKET set); otherwise it does nothing.
func notifySystemd(state string) {
	sock := os.Getenv("NOTIFY_SOCKET")
	if sock == "" {
		return
	}
	if sock[0] == '@' {
		sock = "\x00" + sock[1:] // abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		return
	}
	defer c.Close()
	c.Write([]byte(state))
}

// isConfigError reports whether err is a bad configuration (exit 2).
func isConfigError(err error) bool {
	var ce *agent.ConfigError
	return errors.As(err, &ce)
}
