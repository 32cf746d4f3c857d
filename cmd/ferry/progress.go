package main

import (
	"fmt"
	"io"
	"os"
	gosync "sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	ferrysync "github.com/ferrysync/ferry/sync"
	"github.com/ferrysync/ferry/sync/plan"
)

// ttyReporter draws a live progress display on a terminal: one overall bar
// (bytes, files, rate, ETA) and one bar per transfer in flight. Errors and
// warnings are printed above the bars; the summary after them.
type ttyReporter struct {
	p       *mpb.Progress
	lines   *lineReporter // summary and messages, written through p
	mu      gosync.Mutex
	total   *mpb.Bar
	files   int
	done    int
	flights map[string]*mpb.Bar
	last    map[string]int64
	// where the summary goes once the bars are gone
	outAfter, errAfter io.Writer
	finished           bool
}

var _ ferrysync.Reporter = (*ttyReporter)(nil)

func newTTYReporter(out io.Writer, lines *lineReporter) *ttyReporter {
	r := &ttyReporter{
		p:       mpb.New(mpb.WithOutput(out), mpb.WithWidth(40)),
		flights: map[string]*mpb.Bar{},
		last:    map[string]int64{},
	}
	r.lines = &lineReporter{out: r.p, errOut: r.p, quiet: lines.quiet, verbose: lines.verbose, dryRun: lines.dryRun}
	r.outAfter, r.errAfter = lines.out, lines.errOut
	return r
}

func (r *ttyReporter) Planned(p *plan.Plan) {
	var bytes int64
	for _, a := range p.Actions {
		switch a.Op {
		case plan.Upload:
			bytes += a.Local.Size
			r.files++
		case plan.Download:
			bytes += a.Remote.Size
			r.files++
		}
	}
	r.total = r.p.AddBar(bytes,
		mpb.PrependDecorators(
			decor.Any(func(decor.Statistics) string {
				r.mu.Lock()
				defer r.mu.Unlock()
				return fmt.Sprintf("files %d/%d", r.done, r.files)
			}, decor.WCSyncSpaceR),
			decor.CountersKibiByte("% .1f / % .1f", decor.WCSyncSpace),
		),
		mpb.AppendDecorators(
			decor.EwmaSpeed(decor.SizeB1024(0), "% .1f", 30, decor.WCSyncSpace),
			decor.OnComplete(decor.EwmaETA(decor.ET_STYLE_GO, 30, decor.WCSyncSpace), "done"),
		),
		mpb.BarPriority(1<<30),
	)
	r.lines.Planned(p)
}

func (r *ttyReporter) Started(a plan.Action) {
	if a.Op != plan.Upload && a.Op != plan.Download {
		return
	}
	size := a.Local.Size
	if a.Op == plan.Download {
		size = a.Remote.Size
	}
	b := r.p.AddBar(size,
		mpb.PrependDecorators(decor.Name(shortPath(a.Op.String()+" "+a.Path, 40), decor.WCSyncSpaceR)),
		mpb.AppendDecorators(decor.Percentage(decor.WCSyncSpace)),
		mpb.BarRemoveOnComplete(),
	)
	r.mu.Lock()
	r.flights[a.Path] = b
	r.last[a.Path] = 0
	r.mu.Unlock()
}

func (r *ttyReporter) Progress(a plan.Action, n int64) {
	r.mu.Lock()
	b := r.flights[a.Path]
	delta := n - r.last[a.Path]
	r.last[a.Path] = n
	r.mu.Unlock()
	if b != nil {
		b.SetCurrent(n)
	}
	if r.total != nil && delta > 0 {
		r.total.IncrInt64(delta)
	}
}

func (r *ttyReporter) Done(a plan.Action, n int64, err error) {
	r.mu.Lock()
	b := r.flights[a.Path]
	delete(r.flights, a.Path)
	rest := n - r.last[a.Path]
	delete(r.last, a.Path)
	if b != nil {
		r.done++
	}
	r.mu.Unlock()
	if b != nil {
		if err != nil {
			b.Abort(true)
		} else {
			b.SetTotal(-1, true)
		}
	}
	if r.total != nil && rest > 0 {
		r.total.IncrInt64(rest)
	}
	if err != nil || r.lines.verbose > 0 {
		r.lines.Done(a, n, err)
	}
}

func (r *ttyReporter) Warn(err error)    { r.lines.Warn(err) }
func (r *ttyReporter) Problem(err error) { r.lines.Problem(err) }

func (r *ttyReporter) Finished(res *ferrysync.Result) {
	if r.total != nil {
		r.total.SetTotal(-1, true)
	}
	r.p.Wait()
	r.finished = true
	r.lines.out, r.lines.errOut = r.outAfter, r.errAfter
	r.lines.Finished(res)
}

func shortPath(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return "…" + string(rs[len(rs)-n+1:])
}

// stop removes the display when the run ended without a summary.
func (r *ttyReporter) stop() {
	if !r.finished {
		r.p.Shutdown()
	}
}

// isTerminal reports whether w is a terminal (progress bars then; plain
// lines otherwise).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
