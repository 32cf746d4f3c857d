//go:build linux

package crashtest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The harness's own tests: each check must see what it is there to see.

func TestMain(m *testing.M) {
	if mode := os.Getenv("CRASHTEST_FAKE"); mode != "" {
		os.Exit(fakeFerry(mode, os.Args[1:]))
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func TestOrigin(t *testing.T) {
	for q, want := range map[string]string{
		"a.txt":                                                   "a.txt",
		"d/a.conflict-20241124-063100.txt":                        "d/a.txt",
		"a.tar.conflict-20241124-063100.gz":                       "a.tar.gz",
		".htaccess.conflict-20241124-063100":                      ".htaccess",
		"Makefile.conflict-20241124-063100-2":                     "Makefile",
		"x.conflict-20241124-063100.conflict-20250101-000000.bin": "x.bin",
		"a.conflict-2024.txt":                                     "a.conflict-2024.txt",
		"café 🚀/naïve résumé-3.conflict-20240101-010203.md":       "café 🚀/naïve résumé-3.md",
	} {
		if got := origin(q); got != want {
			t.Errorf("origin(%q) = %q, want %q", q, got, want)
		}
	}
}

func TestRegistryMatchesWholeVersionsOnly(t *testing.T) {
	reg := newRegistry(time.Now())
	rng := rand.New(rand.NewPCG(1, 2))
	v, b := reg.add("d/f.txt", 100000, rng)
	w, _ := reg.add("g.txt", 100000, rng)
	sum := func(b []byte) [32]byte { return sha256Sum(b) }
	if reg.match("d/f.txt", v.sum) != v || reg.match("d/f.conflict-20240101-000000.txt", v.sum) != v {
		t.Error("a version is not matched at its path or its conflict copy")
	}
	if reg.match("g.txt", v.sum) != nil {
		t.Error("a version matched at another path")
	}
	if got := reg.explain("d/f.txt", b[:5000]); !strings.Contains(got, "partial") {
		t.Errorf("explain(prefix) = %q", got)
	}
	mixed := append(append([]byte{}, b[:50000]...), content(w.token, 100000)[50000:]...)
	if reg.match("d/f.txt", sum(mixed)) != nil {
		t.Error("a mix of versions matched")
	}
	if got := reg.explain("d/f.txt", mixed); !strings.Contains(got, "mix") {
		t.Errorf("explain(mix) = %q", got)
	}
	if !bytes.Equal(v.bytes(v.size), b) {
		t.Error("content is not reproducible")
	}
}

func TestPollerSeesInPlaceWrites(t *testing.T) {
	reg := newRegistry(time.Now())
	rng := rand.New(rand.NewPCG(3, 4))
	s := &side{name: "local", root: t.TempDir(), uid: -1, gid: -1}
	v1, b1 := reg.add("dir/a b.txt", 1<<20, rng)
	if err := s.write("dir/a b.txt", v1, b1); err != nil {
		t.Fatal(err)
	}
	p := newPoller(reg, s)
	p.start()
	// settle waits until the poller has made two more passes.
	settle := func() {
		t.Helper()
		n, _, _ := p.stats()
		deadline := time.Now().Add(10 * time.Second)
		for m := n; m < n+2; m, _, _ = p.stats() {
			if time.Now().After(deadline) {
				t.Fatal("the poller makes no passes")
			}
			time.Sleep(time.Millisecond)
		}
	}
	settle()
	if v := p.takeViolations(); len(v) > 0 {
		t.Fatalf("violations on a whole version: %v", v)
	}
	// A temporary is never read; a rename into place is fine.
	_, b2 := reg.add("dir/a b.txt", 1<<19, rng)
	tmp := s.abs("dir/.a b.txt.ferry-tmp")
	os.WriteFile(tmp, b2[:100], 0o644)
	settle()
	os.WriteFile(tmp, b2, 0o644)
	os.Rename(tmp, s.abs("dir/a b.txt"))
	settle()
	if v := p.takeViolations(); len(v) > 0 {
		t.Fatalf("violations on temporaries and renames: %v", v)
	}
	// Written in place: the first half shows.
	f, err := os.OpenFile(s.abs("dir/a b.txt"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(b1[:len(b1)/2])
	settle()
	f.Write(b1[len(b1)/2:])
	f.Close()
	settle()
	p.pause()
	v := p.takeViolations()
	if len(v) == 0 || !strings.Contains(v[0], "partial") {
		t.Errorf("violations %q, want a partial file", v)
	}
}

func TestTwoWayLosses(t *testing.T) {
	reg := newRegistry(time.Now())
	rng := rand.New(rand.NewPCG(5, 6))
	ver := func(p string) *version { v, _ := reg.add(p, 10, rng); return v }
	b, l, r := ver("f"), ver("f"), ver("f")
	tr := func(files map[string]*version, dirs ...string) *tree {
		t := newTree()
		for p, v := range files {
			t.files[p] = v
		}
		for _, d := range dirs {
			t.dirs[d] = true
		}
		return t
	}
	base := tr(map[string]*version{"f": b})
	for _, tc := range []struct {
		name    string
		L, R, F *tree
		lost    bool
	}{
		{"local change wins", tr(map[string]*version{"f": l}), base, tr(map[string]*version{"f": l}), false},
		{"local change lost", tr(map[string]*version{"f": l}), base, tr(map[string]*version{"f": b}), true},
		{"conflict keeps both", tr(map[string]*version{"f": l}), tr(map[string]*version{"f": r}),
			tr(map[string]*version{"f": r, "f.conflict-20240101-000000": l}), false},
		{"conflict loses one", tr(map[string]*version{"f": l}), tr(map[string]*version{"f": r}),
			tr(map[string]*version{"f": r}), true},
		{"delete wins over unchanged", tr(nil), base, tr(nil), false},
		{"deleted file comes back", tr(nil), base, tr(map[string]*version{"f": b}), true},
		{"change wins over delete", tr(nil), tr(map[string]*version{"f": r}), tr(map[string]*version{"f": r}), false},
		{"change lost to delete", tr(nil), tr(map[string]*version{"f": r}), tr(nil), true},
		{"untouched file kept", base, base, base, false},
		{"untouched file lost", base, base, tr(nil), true},
		{"file gives way to a folder", tr(nil, "f"), base, tr(nil, "f"), false},
	} {
		lost, _ := twoWayLosses(tc.L, tc.R, base, tc.F, nil)
		if (len(lost) > 0) != tc.lost {
			t.Errorf("%s: losses %q, want lost=%v", tc.name, lost, tc.lost)
		}
	}
}

func TestIntegrityCheckSeesDamage(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "state.db")
	if err := checkIntegrity(db, filepath.Join(dir, "ic")); err != nil {
		t.Errorf("no cache yet: %v", err)
	}
	os.WriteFile(db, bytes.Repeat([]byte("not a database "), 1000), 0o644)
	if err := checkIntegrity(db, filepath.Join(dir, "ic")); err == nil {
		t.Error("a damaged cache passed")
	}
}

// fakeFerry is a broken ferry for TestHarnessCatches: push only, its
// remote side written straight into the server's folder
// (CRASHTEST_FAKE_ROOT), broken as mode says.
func fakeFerry(mode string, args []string) int {
	if mode == "hang" {
		time.Sleep(time.Hour)
	}
	if mode == "panic" {
		fmt.Fprintln(os.Stderr, "panic: runtime error: index out of range [3] with length 3")
		return 2
	}
	var state string
	for i, a := range args {
		if a == "--state" {
			state = args[i+1]
		}
	}
	local := args[len(args)-2]
	u, err := url.Parse(args[len(args)-1])
	if err != nil {
		return 2
	}
	remote := filepath.Join(os.Getenv("CRASHTEST_FAKE_ROOT"), u.Path)
	os.RemoveAll(remote)
	os.MkdirAll(remote, 0o755)
	slow := false
	filepath.WalkDir(local, func(p string, d os.DirEntry, err error) error {
		rel, _ := filepath.Rel(local, p)
		dst := filepath.Join(remote, rel)
		if d.IsDir() {
			os.MkdirAll(dst, 0o755)
			return nil
		}
		b, _ := os.ReadFile(p)
		info, _ := d.Info()
		switch {
		case mode == "inplace" && len(b) > 1 && !slow:
			// Half a file under its real name for long enough that the
			// poller (every 2 ms) cannot miss it, even on a busy machine.
			slow = true
			os.WriteFile(dst, b[:len(b)/2], 0o644)
			time.Sleep(500 * time.Millisecond)
			os.WriteFile(dst, b, 0o644)
		case mode == "leftover":
			os.WriteFile(filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".ferry-tmp"), b[:len(b)/2], 0o644)
			os.WriteFile(dst, b, 0o644)
		default:
			os.WriteFile(dst, b, 0o644)
		}
		os.Chtimes(dst, info.ModTime(), info.ModTime())
		return nil
	})
	if mode == "state" {
		os.MkdirAll(filepath.Dir(state), 0o755)
		os.WriteFile(state, bytes.Repeat([]byte("garbage "), 4096), 0o644)
	}
	return 0
}

// TestHarnessCatches runs rounds with a broken ferry: each breakage must
// come out as the failure that names it.
func TestHarnessCatches(t *testing.T) {
	if testing.Short() {
		t.Skip("runs ftptestd")
	}
	build(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	srv := startServer(t, "ftptest", filepath.Join(work, "srv"))
	for mode, want := range map[string]string{
		"inplace": "partial", "leftover": "leftover", "state": "integrity", "hang": "hang", "panic": "panic",
	} {
		t.Run(mode, func(t *testing.T) {
			cfg := &Config{
				Ferry: exe, Work: filepath.Join(work, mode), Deadline: 2 * time.Second, Faults: nil,
				Env:    []string{"CRASHTEST_FAKE=" + mode, "CRASHTEST_FAKE_ROOT=" + srv.Root()},
				Replay: func(uint64, string, string) string { return "replay" },
			}
			var kinds []string
			for seed := uint64(1); seed <= 4 && len(kinds) == 0; seed++ {
				fails, _ := Round(context.Background(), cfg, srv, Push, seed)
				for _, f := range fails {
					kinds = append(kinds, f.Kind)
				}
			}
			if !strings.Contains(strings.Join(kinds, " "), want) {
				t.Errorf("failures %v, want one of kind %s", kinds, want)
			}
		})
	}
}

func TestDerivedVersions(t *testing.T) {
	reg := newRegistry(time.Now())
	rng := rand.New(rand.NewPCG(7, 8))
	old, ob := reg.add("f", 2<<20, rng)
	app, ab := reg.derive("f", old, "append", 3<<20, rng)
	if !bytes.Equal(ab[:len(ob)], ob) || app.sum == old.sum {
		t.Error("an appended version does not extend the old one")
	}
	pat, pb := reg.derive("f", old, "patch", 0, rng)
	if len(pb) != len(ob) || bytes.Equal(pb[:8192], ob[:8192]) || !bytes.Equal(pb[8192:], ob[8192:]) || string(pb[:16]) != string(ob[:16]) {
		t.Error("a patched version does not differ from the old one near its start only")
	}
	tr, tb := reg.derive("f", pat, "truncate", 1000, rng)
	if !bytes.Equal(tb, pb[:1000]) || tr.size != 1000 {
		t.Error("a truncated version is not a prefix")
	}
	// The leftover of the old version resumed with the appended one's rest.
	mixed := append(append([]byte{}, pb[:1<<20]...), ab[1<<20:]...)
	if got := reg.explain("f", mixed); !strings.Contains(got, "mix of versions") {
		t.Errorf("explain(mix) = %q", got)
	}
	if reg.match("f", sha256Sum(mixed)) != nil {
		t.Error("a mix matched a version")
	}
}
