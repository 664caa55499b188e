package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows the files and events done: a bar on a terminal, a log
// line per file elsewhere.
type progress struct {
	bar *progressbar.ProgressBar
	log *slog.Logger
}

func newProgress(w io.Writer, log *slog.Logger) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progress{log: log}
	}
	return &progress{log: log, bar: progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("reading Currents files"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionClearOnFinish(),
	)}
}

func (p *progress) file(key string, written int64, rep *report) {
	if p.bar == nil {
		p.log.Info("file done", "key", key, "written", written, "files", rep.files, "events_written", rep.written)
		return
	}
	p.bar.Describe(fmt.Sprintf("%d files, %d events written, %d corrupt", rep.files, rep.written, len(rep.corrupt)))
	p.bar.Add(1)
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
