package servicetest

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

func TestVerdict(t *testing.T) {
	err := errors.New("connection refused")
	fail, msg := Verdict("Redis", "127.0.0.1:6379", err, "", "start Redis")
	if fail || msg != "Redis at 127.0.0.1:6379 did not answer (connection refused): this test needs it; skipping (start Redis; with CI set this fails)" {
		t.Errorf("without CI: fail %v, %q", fail, msg)
	}
	fail, msg = Verdict("Redis", "127.0.0.1:6379", err, "true", "start Redis")
	if !fail || !strings.Contains(msg, "CI is set, so it must run (start Redis)") {
		t.Errorf("with CI: fail %v, %q", fail, msg)
	}
}

// TestNeed: a server that answered lets the test run; one that did not
// skips it, or fails it under CI.
func TestNeed(t *testing.T) {
	Need(t, "X", "here", nil, "start X") // answered: the test goes on

	rec := &recorder{TB: t}
	t.Setenv("CI", "")
	done := make(chan struct{})
	go func() { defer close(done); Need(rec, "X", "here", errors.New("down"), "start X") }()
	<-done
	if rec.skipped == "" || rec.failed != "" || !strings.Contains(rec.skipped, "X at here did not answer (down)") {
		t.Errorf("without CI: skipped %q, failed %q", rec.skipped, rec.failed)
	}

	rec = &recorder{TB: t}
	t.Setenv("CI", "true")
	done = make(chan struct{})
	go func() { defer close(done); Need(rec, "X", "here", errors.New("down"), "start X") }()
	<-done
	if rec.failed == "" || rec.skipped != "" || !strings.Contains(rec.failed, "CI is set") {
		t.Errorf("with CI: skipped %q, failed %q", rec.skipped, rec.failed)
	}
}

// recorder records a skip or a failure instead of ending the test; like
// testing.T, both end the goroutine.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper() {}

func (r *recorder) Skip(args ...any) {
	r.skipped = fmt.Sprint(args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.failed = fmt.Sprint(args...)
	runtime.Goexit()
}
