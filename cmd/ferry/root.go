package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	ferrysync "github.com/ferrysync/ferry/sync"
)

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "ferry",
		Short:         "Keep a local folder and an FTP folder in step",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &flagError{err} })
	// cobra reports an unknown command with a plain error, which exitCode
	// cannot tell from a failed run. With Args set, cobra leaves the check
	// to it; a root with Args must also be runnable, or cobra prints the
	// help and succeeds.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("unknown command %q (see 'ferry help')", args[0])
		if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return &flagError{errors.New(msg)}
	}
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	root.AddCommand(
		newVersionCmd(stdout),
		newLsCmd(stdout, stderr),
		newProbeCmd(stdout, stderr),
		newSyncCmd(ferrysync.Push, stdout, stderr),
		newSyncCmd(ferrysync.Pull, stdout, stderr),
		newSyncCmd(ferrysync.TwoWay, stdout, stderr),
		newAgentCmd(stderr),
		newStatusCmd(stdout),
	)
	return root
}

// exactArgs is cobra.ExactArgs with the error mapped to exit status 2.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &flagError{fmt.Errorf("%s: %w (usage: %s)", cmd.Name(), err, cmd.UseLine())}
		}
		return nil
	}
}

func newVersionCmd(stdout io.Writer) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print ferry's version",
		Example: "  ferry version",
		Args:    exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "ferry %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
