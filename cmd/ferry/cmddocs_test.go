package main

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/commands from the command definitions")

// TestCommandDocs fails when docs/commands/ no longer matches the command
// definitions (go generate ./cmd/ferry rewrites it), and checks that every
// command shows real examples in its help.
func TestCommandDocs(t *testing.T) {
	root := newRootCmd(io.Discard, io.Discard)
	root.InitDefaultCompletionCmd()
	pages := commandDocs(root)
	dir := filepath.Join("..", "..", "docs", "commands")
	if *updateDocs {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range pages {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, want := range pages {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("docs/commands/%s is out of date with the command definitions: run go generate ./cmd/ferry", name)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.md"))
	for _, f := range files {
		if _, ok := pages[filepath.Base(f)]; !ok {
			t.Errorf("docs/commands/%s documents no command: run go generate ./cmd/ferry", filepath.Base(f))
		}
	}
	for _, c := range root.Commands() {
		if c.Name() != "help" && c.Name() != "completion" && c.Example == "" {
			t.Errorf("ferry %s --help shows no example", c.Name())
		}
	}
	if !slices.Contains(sortedNames(pages), "ferry_agent.md") {
		t.Error("no page for ferry agent")
	}
}

func sortedNames(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
