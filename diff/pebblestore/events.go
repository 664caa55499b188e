package pebblestore

import (
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// pebbleEvents receives pebble's log lines and events. The first failure
// it hears of (a background error, a corruption, a fatal error) breaks the
// store: it is kept, and every later call of the store returns it.
type pebbleEvents struct {
	dir    string
	log    *slog.Logger
	once   sync.Once
	err    atomic.Pointer[error]
	failed chan struct{} // closed at the first failure
	// opening is set while pebble.Open runs: a failure then means Open
	// will never return usefully.
	opening atomic.Bool
	// slow passes the latest slow-disk report to a write waiting for the
	// disk, which logs it: the report itself must do no I/O.
	slow chan vfs.DiskSlowInfo
}

func newPebbleEvents(dir string, log *slog.Logger) *pebbleEvents {
	return &pebbleEvents{dir: dir, log: log, failed: make(chan struct{}), slow: make(chan vfs.DiskSlowInfo, 1)}
}

// fail records err as the store's failure, if it is the first, and
// returns the store's failure.
func (ev *pebbleEvents) fail(err error) error {
	ev.once.Do(func() {
		ev.err.Store(&err)
		close(ev.failed)
		ev.log.Error("pebblestore: state store failed; nothing more is read or written", "path", ev.dir, "err", err)
	})
	return ev.failure()
}

// failure returns the store's failure, or nil.
func (ev *pebbleEvents) failure() error {
	if p := ev.err.Load(); p != nil {
		return *p
	}
	return nil
}

// close marks the store closed: calls from now on get diff.ErrClosed, unless it
// had failed before.
func (ev *pebbleEvents) close() {
	ev.once.Do(func() {
		err := diff.ErrClosed
		ev.err.Store(&err)
		close(ev.failed)
	})
}

func (ev *pebbleEvents) classify(op string, err error) error {
	if pebble.IsCorruptionError(err) {
		return &diff.StoreError{Op: op, Path: ev.dir, Kind: diff.ErrCorrupt, Err: err, Hint: hintCorrupt}
	}
	return storeErr(op, ev.dir, err)
}

// background handles a failure pebble reports from one of its own
// goroutines (a flush, a compaction) or from a call of the store. Under a
// call of the store it unwinds that call. On pebble's goroutine, a fatal
// error (fatal: pebble expects the call not to return, and would go on
// from a state it knows to be wrong) ends the goroutine; so does any error
// while pebble.Open runs, which would otherwise retry the failing flush,
// and wait for it, forever. Other background errors return to pebble: the
// store is broken, nothing more is written, and Close stops the retries.
func (ev *pebbleEvents) background(err error, fatal bool) {
	end := fatal || ev.opening.Load() // before fail: Open stops waiting then
	ev.fail(err)
	if underPebbleGuard() {
		panic(pebbleFatal{err})
	}
	if end {
		runtime.Goexit()
	}
}

// diskSlow receives the disk health checker's report of a write that is
// taking long. It must neither block nor do I/O: it hands the report on
// if a slot is free.
func (ev *pebbleEvents) diskSlow(info vfs.DiskSlowInfo) {
	select {
	case ev.slow <- info:
	default:
	}
}

// listener returns the event listener pebble calls.
func (ev *pebbleEvents) listener() *pebble.EventListener {
	return &pebble.EventListener{
		BackgroundError: func(err error) {
			ev.background(ev.classify("background flush or compaction", err), false)
		},
		DataCorruption: func(info pebble.DataCorruptionInfo) {
			// Called on the read path, which then returns an error: no
			// need to unwind it.
			ev.fail(&diff.StoreError{Op: "read", Path: info.Path, Kind: diff.ErrCorrupt, Err: info.Details, Hint: hintCorrupt})
		},
		WriteStallBegin: func(info pebble.WriteStallBeginInfo) {
			ev.log.Warn("pebblestore: state store writes stalled", "path", ev.dir, "reason", info.Reason)
		},
		WriteStallEnd: func() {
			ev.log.Info("pebblestore: state store writes resumed", "path", ev.dir)
		},
		LowDiskSpace: func(info pebble.LowDiskSpaceInfo) {
			ev.log.Warn("pebblestore: state store disk space is low", "path", ev.dir,
				"available_bytes", info.AvailBytes, "total_bytes", info.TotalBytes)
		},
	}
}

// pebbleLogger routes pebble's log lines to the store's logger (silent by
// default). Fatalf, which pebble expects never to return, breaks the
// store instead of the process.
type pebbleLogger struct{ ev *pebbleEvents }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.ev.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.ev.log.Warn("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	err := &fatalError{msg: fmt.Sprintf(format, args...)}
	for _, a := range args {
		if e, ok := a.(error); ok {
			err.cause = e
			break
		}
	}
	l.ev.background(l.ev.classify("write", err), true)
}

// fatalError is a Fatalf of pebble, keeping the error it was given so the
// errno of a full disk stays visible.
type fatalError struct {
	msg   string
	cause error
}

func (e *fatalError) Error() string { return e.msg }
func (e *fatalError) Unwrap() error { return e.cause }

// pebbleFatal is the panic that unwinds a store call after a fatal error.
type pebbleFatal struct{ err error }

// callerPanic carries a panic of the caller's own code (a scan function)
// through pebbleGuarded unchanged.
type callerPanic struct{ v any }

// pebbleGuarded runs fn, a call into pebble, turning a panic into an
// error. Its frame also marks the goroutine as one of the store's calls
// (underPebbleGuard).
//
//go:noinline
func pebbleGuarded(fn func() error) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		switch v := r.(type) {
		case callerPanic:
			panic(v.v)
		case pebbleFatal:
			err = v.err
		case error:
			err = fmt.Errorf("pebble panicked: %w", v)
		default:
			err = fmt.Errorf("pebble panicked: %v", v)
		}
	}()
	return fn()
}

var pebbleGuardedName = runtime.FuncForPC(reflect.ValueOf(pebbleGuarded).Pointer()).Name()

// underPebbleGuard reports whether the calling goroutine is inside
// pebbleGuarded, that is, in a call of the store rather than on one of
// pebble's own goroutines.
func underPebbleGuard() bool {
	pcs := make([]uintptr, 512)
	n := runtime.Callers(2, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if f.Function == pebbleGuardedName {
			return true
		}
		if !more {
			return false
		}
	}
}
