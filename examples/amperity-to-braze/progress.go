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
	done()
}

// newProgress returns a progress bar on w when it is a terminal, and
// periodic log lines otherwise (a log collector has no use for a bar).
func newProgress(w io.Writer, log *slog.Logger, every time.Duration) progressFunc {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return func(name string, size int64) fileProgress {
			return &barProgress{bar: progressbar.NewOptions64(size,
				progressbar.OptionSetDescription(name),
				progressbar.OptionSetWriter(w),
				progressbar.OptionShowBytes(true),
				progressbar.OptionSetWidth(20),
				progressbar.OptionThrottle(100*time.Millisecond),
				progressbar.OptionSpinnerType(14),
				progressbar.OptionClearOnFinish(),
			), name: name}
		}
	}
	return func(name string, size int64) fileProgress {
		return &logProgress{log: log, name: name, every: every, last: time.Now()}
	}
}

type barProgress struct {
	bar  *progressbar.ProgressBar
	name string
}

func (b *barProgress) reader(r io.Reader) io.Reader { return io.TeeReader(r, b.bar) }
func (b *barProgress) update(p diff.Progress) {
	b.bar.Describe(fmt.Sprintf("%s: %d read, %d sent, %d failed", b.name, p.Read, p.Acked, p.Failed))
}
func (b *barProgress) done() { b.bar.Finish() }

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
func (l *logProgress) done() {}
