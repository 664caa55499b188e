package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/ampbraze/ampbraze/diff"
)

// progressFunc starts the progress display of one file of size bytes (-1
// when unknown).
type progressFunc func(name string, size int64) fileProgress

// fileProgress shows how far a file is: bytes read and changes answered.
type fileProgress interface {
	reader(r io.Reader) io.Reader
	update(p diff.Progress)
	// done ends the display with the file's last figures; complete says
	// the file was synced to its end.
	done(p diff.Progress, complete bool)
}

// newProgress returns a progress bar on w when it is a terminal, and
// periodic log lines otherwise (a log collector has no use for a bar).
func newProgress(w io.Writer, log *slog.Logger, every time.Duration) progressFunc {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return func(name string, size int64) fileProgress { return newBar(w, name, size) }
	}
	return func(name string, size int64) fileProgress {
		return &logProgress{log: log, name: name, every: every, last: time.Now()}
	}
}

func newBar(w io.Writer, name string, size int64) *barProgress {
	return &barProgress{w: w, name: name, size: size, bar: progressbar.NewOptions64(size,
		progressbar.OptionSetDescription(name),
		progressbar.OptionSetWriter(w),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(20),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		// Drawn empty at once, which starts the bar's clock: its first
		// rate is then the bytes over at least the throttle interval, not
		// over the microseconds before the first read ("89 GB/s").
		progressbar.OptionSetRenderBlankState(true),
	)}
}

type barProgress struct {
	bar  *progressbar.ProgressBar
	w    io.Writer
	name string
	size int64
}

func (b *barProgress) reader(r io.Reader) io.Reader { return io.TeeReader(r, b.bar) }
func (b *barProgress) update(p diff.Progress)       { b.bar.Describe(b.describe(p)) }

func (b *barProgress) describe(p diff.Progress) string {
	return fmt.Sprintf("%s: %d read, %d sent, %d failed", b.name, p.Read, p.Acked, p.Failed)
}

// done leaves the last frame on the terminal, above the summary. A file
// synced to its end fills the bar (drawn again with the last figures,
// which a throttled update may not have shown); one that ended early
// keeps the bar where it stopped, unless its size is unknown: a spinner
// claims no share and must be finished to stop its goroutine.
func (b *barProgress) done(p diff.Progress, complete bool) {
	if complete || b.size < 0 {
		b.bar.Finish()
		b.bar.Describe(b.describe(p))
	} else {
		b.bar.Exit()
	}
	fmt.Fprintln(b.w)
}

type logProgress struct {
	log   *slog.Logger
	name  string
	every time.Duration
	last  time.Time
}

func (l *logProgress) reader(r io.Reader) io.Reader { return r }
func (l *logProgress) update(p diff.Progress) {
	if time.Since(l.last) < l.every {
		return
	}
	l.last = time.Now()
	l.log.Info("progress", "file", l.name, "read", p.Read, "sent", p.Acked, "failed", p.Failed)
}
func (l *logProgress) done(diff.Progress, bool) {}
