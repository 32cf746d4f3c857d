package main

import (
	"fmt"
	"io"
	"runtime"

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
	root.AddCommand(
		newVersionCmd(stdout),
		newLsCmd(stdout, stderr),
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
		Use:   "version",
		Short: "Print ferry's version",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(stdout, "ferry %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
