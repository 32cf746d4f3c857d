package main

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

//go:generate go test -run ^TestCommandDocs$ -update-docs .

// commandDocs renders one Markdown page per command of root (file name →
// contents), from the command definitions themselves: usage, description,
// examples and flags. docs/commands/ holds them; TestCommandDocs fails when
// they drift from the code, and `go generate ./cmd/ferry` rewrites them.
func commandDocs(root *cobra.Command) map[string][]byte {
	pages := map[string][]byte{}
	var index bytes.Buffer
	index.WriteString("# ferry commands\n\nGenerated from the command definitions (`go generate ./cmd/ferry`); `ferry help COMMAND` shows the same.\n\n")
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		name := "ferry_" + c.Name() + ".md"
		fmt.Fprintf(&index, "- [`ferry %s`](%s): %s\n", c.Name(), name, c.Short)
		pages[name] = commandPage(c)
	}
	index.WriteString("\nShell completion: `ferry completion bash|zsh|fish|powershell` (see the README).\n")
	pages["README.md"] = index.Bytes()
	return pages
}

func commandPage(c *cobra.Command) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# ferry %s\n\n%s.\n\n", c.Name(), c.Short)
	fmt.Fprintf(&b, "```\n%s\n```\n\n", c.UseLine())
	if c.Long != "" {
		fmt.Fprintf(&b, "%s\n\n", c.Long)
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "## Examples\n\n```sh\n%s\n```\n\n", strings.TrimRight(unindent(c.Example), "\n"))
	}
	if fs := c.NonInheritedFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(&b, "## Flags\n\n```\n%s```\n", fs.FlagUsagesWrapped(100))
	}
	return b.Bytes()
}

// unindent drops the two-space indent cobra's Example text carries.
func unindent(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}
