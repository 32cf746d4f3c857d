package plan

import (
	"fmt"
	"strings"
)

var opNames = [...]string{
	MkdirLocal:   "mkdir-local",
	MkdirRemote:  "mkdir-remote",
	Upload:       "upload",
	Download:     "download",
	DeleteLocal:  "delete-local",
	DeleteRemote: "delete-remote",
	RenameLocal:  "rename-local",
	RenameRemote: "rename-remote",
	Adopt:        "adopt",
	Forget:       "forget",
}

// String is the op's name as --dry-run and --json print it, such as
// "upload" or "delete-remote".
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return fmt.Sprintf("op(%d)", uint8(o))
}

// String renders a as one line: the op padded to 13 columns, the path
// (with "-> To" for renames), the reason in parentheses, and the conflict
// group when there is one:
//
//	upload         a/b.txt  (changed)
//	rename-remote  a.txt -> a.conflict-20241124-063100.txt  (conflict: …)  [conflict 1]
func (a Action) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%-13s  %s", a.Op, a.Path)
	if a.To != "" {
		fmt.Fprintf(&sb, " -> %s", a.To)
	}
	if a.Reason != "" {
		fmt.Fprintf(&sb, "  (%s)", a.Reason)
	}
	if a.Conflict > 0 {
		fmt.Fprintf(&sb, "  [conflict %d]", a.Conflict)
	}
	return sb.String()
}

// String renders the plan, one line per action in order, then one
// "problem: …" line per Problem. An empty plan renders as "". The text is
// stable: the same inputs give the same bytes (golden files rely on it).
func (p Plan) String() string {
	var sb strings.Builder
	for _, a := range p.Actions {
		sb.WriteString(a.String())
		sb.WriteByte('\n')
	}
	for _, msg := range p.Problems {
		sb.WriteString("problem: ")
		sb.WriteString(msg)
		sb.WriteByte('\n')
	}
	return sb.String()
}

// Changes reports whether the plan does anything beyond state bookkeeping
// (an action other than Adopt and Forget).
func (p Plan) Changes() bool {
	for _, a := range p.Actions {
		if a.Op != Adopt && a.Op != Forget {
			return true
		}
	}
	return false
}
