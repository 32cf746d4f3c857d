package plan

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -update after checking):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// site is a small web site: the local tree as last synced.
func site() E {
	return E{
		"index.html":                 f(120, 0),
		".htaccess":                  f(30, 0),
		"css":                        dir(),
		"css/site.css":               f(400, 60),
		"img":                        dir(),
		"img/logo.png":               f(5000, 60),
		"img/old":                    dir(),
		"img/old/banner.gif":         f(900, 120),
		".well-known":                dir(),
		".well-known/security.txt":   f(50, 0),
		"downloads":                  dir(),
		"downloads/ferry.tar.gz":     f(1<<20, 300),
		"downloads/empty":            dir(),
		"notes":                      dir(),
		"notes/Makefile":             f(10, 0),
		"notes/todo list [draft].md": f(77, 0),
	}
}

func stateOf(l, r E) State {
	st := State{}
	for p, m := range l {
		st[p] = rec(m, r[p])
	}
	return st
}

// minuteOf is e as vsftpd's LIST shows it.
func minuteOf(e E) E {
	out := E{}
	for p, m := range e {
		if m.Kind == File {
			m.ModTime = m.ModTime.Truncate(time.Minute)
			m.Precision = time.Minute
		}
		out[p] = m
	}
	return out
}

func TestGoldenPushFirstRun(t *testing.T) {
	local := site()
	remote := minuteOf(E{"index.html": site()["index.html"], "css": dir(), "css/site.css": f(401, 60), "stale.txt": f(1, 0)})
	golden(t, "push-first-run.txt", OneWay(Push, tr(local), tr(remote), nil, Options{}).String())
}

func TestGoldenPushDelete(t *testing.T) {
	local := site()
	remote := minuteOf(site())
	st := stateOf(local, remote)
	delete(local, "img/old/banner.gif")
	delete(local, "img/old")
	local["index.html"] = f(130, 500)
	local["img/new.png"] = f(10, 500)
	remote["junk"] = dir()
	remote["junk/a"] = dir()
	remote["junk/a/b.txt"] = f(1, 0)
	remote["notes/Makefile"] = dir() // someone replaced a file by a folder
	remote["notes/Makefile/x"] = f(1, 0)
	remote["private"] = dir()
	remote["private/keep.txt"] = f(1, 0)
	p := OneWay(Push, tr(local), tr(remote, "private"), st, Options{Delete: true})
	golden(t, "push-delete.txt", p.String())
}

func TestGoldenTwoWay(t *testing.T) {
	local := site()
	remote := minuteOf(site())
	st := stateOf(local, remote)
	// Local: edit, new file, delete a folder, rename.
	local["index.html"] = f(125, 900)
	local["css/print.css"] = f(20, 900)
	delete(local, "img/old/banner.gif")
	delete(local, "img/old")
	delete(local, "notes/Makefile")
	local["notes/GNUmakefile"] = f(10, 0)
	// Remote: edit, delete, edits on both sides, addition inside a folder local deleted.
	remote["img/logo.png"] = fp(6000, 960, time.Minute)
	delete(remote, ".well-known/security.txt")
	remote["downloads/ferry.tar.gz"] = fp(2<<20, 1200, time.Minute)
	local["downloads/ferry.tar.gz"] = f(3<<20, 1000)
	local[".htaccess"] = f(31, 1000)
	remote[".htaccess"] = fp(32, 1000, time.Minute)
	remote["img/old/new.gif"] = fp(5, 960, time.Minute)
	p := TwoWay(tr(local), tr(remote), st, Options{})
	golden(t, "two-way.txt", p.String())
}
