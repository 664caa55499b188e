package proctest

import (
	"fmt"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestProgram builds a program once and runs it.
func TestProgram(t *testing.T) {
	t.Chdir("testdata/hello")
	prog := NewProgram("hello", "CGO_ENABLED=0")
	bin := prog.Path(t)
	if again := prog.Path(t); again != bin {
		t.Errorf("second Path = %q, want the first build %q", again, bin)
	}
	p := Start(t, exec.Command(bin))
	if code := p.Wait(t, time.Minute); code != 0 || p.Out.String() != "hello\n" {
		t.Fatalf("hello: exit %d, %q", code, &p.Out)
	}
}

// TestWait: the exit code and both outputs are kept.
func TestWait(t *testing.T) {
	p := Start(t, exec.Command("sh", "-c", "echo out; echo err >&2; exit 3"))
	if code := p.Wait(t, time.Minute); code != 3 {
		t.Errorf("exit %d, want 3", code)
	}
	if !p.Exited() || p.Out.String() != "out\n" || p.Err.String() != "err\n" {
		t.Errorf("exited=%v out=%q err=%q", p.Exited(), &p.Out, &p.Err)
	}
}

// TestKill: a killed process ends with -1 (a signal), and killing it
// again does not fail.
func TestKill(t *testing.T) {
	p := Start(t, exec.Command("sleep", "60"))
	if p.Exited() {
		t.Fatal("sleep ended at once")
	}
	p.Kill(t)
	if code := p.Cmd.ProcessState.ExitCode(); code != -1 {
		t.Errorf("exit %d, want -1 (killed)", code)
	}
	p.Kill(t)
}

// TestWaitLimit: past the limit, Wait kills the process and fails the
// test, naming the program.
func TestWaitLimit(t *testing.T) {
	ft := &fakeT{TB: t}
	p := Start(t, exec.Command("sleep", "60"))
	done := make(chan struct{})
	go func() { defer close(done); p.Wait(ft, 50*time.Millisecond) }()
	<-done
	if !strings.Contains(ft.msg, "sleep did not end within 50ms") || !p.Exited() {
		t.Errorf("Wait past its limit: %q, exited=%v", ft.msg, p.Exited())
	}
}

// fakeT records a fatal failure instead of failing the test.
type fakeT struct {
	testing.TB
	msg string
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit() // as t.Fatalf does
}
