package plan

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkOneWayNoop5k plans a no-op push of the benchmark's small
// profile shape (5,000 files in 55 folders, all in step with the state):
// the planning a no-op run does after its walk, on its critical path.
func BenchmarkOneWayNoop5k(b *testing.B) {
	local := Tree{Entries: map[string]Meta{}, Unknown: map[string]bool{}}
	remote := Tree{Entries: map[string]Meta{}, Unknown: map[string]bool{}}
	st := State{}
	t0 := time.Date(2023, 11, 14, 0, 0, 0, 0, time.UTC)
	dir := Meta{Kind: Dir}
	for d := range 5 {
		top := fmt.Sprintf("d%02d", d)
		local.Entries[top], remote.Entries[top] = dir, dir
		st[top] = Record{Kind: Dir, Local: dir, Remote: dir}
		for s := range 10 {
			sub := fmt.Sprintf("%s/s%02d", top, s)
			local.Entries[sub], remote.Entries[sub] = dir, dir
			st[sub] = Record{Kind: Dir, Local: dir, Remote: dir}
			for i := range 100 {
				p := fmt.Sprintf("%s/f%03d.bin", sub, i)
				mt := t0.Add(time.Duration(i) * time.Hour)
				l := Meta{Kind: File, Size: 4096, ModTime: mt.Add(123 * time.Millisecond), Precision: time.Nanosecond}
				r := Meta{Kind: File, Size: 4096, ModTime: mt, Precision: time.Second}
				local.Entries[p], remote.Entries[p] = l, r
				st[p] = Record{Kind: File, Local: l, Remote: r}
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		p := OneWay(Push, local, remote, st, Options{Delete: true})
		if len(p.Actions) != 0 {
			b.Fatalf("%d actions, want none", len(p.Actions))
		}
	}
}
