package main

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/ferrysync/ferry/job"
	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// TestExitCode pins SPEC "Command line", exit status: 0 everything done; 1
// the run failed or some actions failed; 2 bad usage or configuration.
func TestExitCode(t *testing.T) {
	usage := &ferrysync.UsageError{Field: "parallel", Err: errors.New("must be 1..64")}
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"done is 0", nil, 0},
		{"usage error is 2", usage, 2},
		{"wrapped usage error is 2", fmt.Errorf("push: %w", usage), 2},
		{"flag parse error is 2", &flagError{errors.New("unknown flag: --x")}, 2},
		{"run failed is 1", errors.New("remote folder \"/x\" does not exist"), 1},
		{"some actions failed is 1", fmt.Errorf("%w: 1 of 3", job.ErrActionsFailed), 1},
		{"incomplete run is 1", fmt.Errorf("%w: 2 problems", job.ErrIncomplete), 1},
		{"vanished root is 1", fmt.Errorf("%w: /x is empty", ferrysync.ErrRootVanished), 1},
		{"max-delete refusal is 1", &plan.TooManyDeletesError{Side: "remote", Deletes: 2, Limit: 0, MaxDelete: true}, 1},
		{"interrupted is 1", context.Canceled, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}
