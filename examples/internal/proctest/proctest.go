// Package proctest runs an example program as a process in its tests, as
// systemd or Kubernetes would: it builds the program once per test
// binary, starts it with its output captured, waits for it with a time
// limit and kills whatever a test leaves running.
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Program is an example program built once per test binary, from the
// package in the test's working directory.
type Program struct {
	name string
	env  []string
	once sync.Once
	path string
	err  error
}

// NewProgram returns the program called name, built with env added to the
// environment of go build (such as CGO_ENABLED=0).
func NewProgram(name string, env ...string) *Program {
	return &Program{name: name, env: env}
}

// Path builds the program on its first call and returns its path. It
// skips the test with -short, since building and running processes is
// slow.
func (p *Program) Path(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the program as a process; skipped with -short")
	}
	p.once.Do(func() {
		// Not t.TempDir: the binary outlives the test that built it.
		dir, err := os.MkdirTemp("", p.name+"-bin-")
		if err != nil {
			p.err = err
			return
		}
		p.path = filepath.Join(dir, p.name)
		build := exec.Command("go", "build", "-o", p.path, ".")
		build.Env = append(os.Environ(), p.env...)
		if out, err := build.CombinedOutput(); err != nil {
			p.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if p.err != nil {
		t.Fatal(p.err)
	}
	return p.path
}

// Proc is a started process. Out and Err hold what it wrote; read them
// only after Done is closed.
type Proc struct {
	Cmd      *exec.Cmd
	Out, Err bytes.Buffer
	done     chan struct{}
}

// Start starts cmd with its output captured in the Proc. The process is
// killed when the test ends, if still running.
func Start(t testing.TB, cmd *exec.Cmd) *Proc {
	t.Helper()
	p := &Proc{Cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.Out, &p.Err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait() //nolint:errcheck // the exit code is read from ProcessState
		close(p.done)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// Done is closed once the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process, at most limit, and returns its exit code
// (-1 when a signal ended it). Past limit it kills the process and fails
// the test with its output.
func (p *Proc) Wait(t testing.TB, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.Cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not end within %s\n%s\n%s", filepath.Base(p.Cmd.Path), limit, &p.Out, &p.Err)
	}
	return p.Cmd.ProcessState.ExitCode()
}

// Kill ends the process with SIGKILL and waits for it.
func (p *Proc) Kill(t testing.TB) {
	t.Helper()
	if err := p.Cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	<-p.done
}
