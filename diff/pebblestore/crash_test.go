package pebblestore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/ampbraze/ampbraze/diff/storetest"
)

// TestCrashProcess kills a real process in the middle of a sync on the
// pebble store (os.Exit, no Close, batches written without sync) and checks
// the state the next process finds.
func TestCrashProcess(t *testing.T) {
	if dir := os.Getenv("PEBBLESTORE_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("skipped with -short: it re-executes the test binary and kills it (CI runs it)")
	}
	const n = 2000
	dir := filepath.Join(t.TempDir(), "state.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashProcess$")
	cmd.Env = append(os.Environ(), "PEBBLESTORE_CRASH_CHILD="+dir)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("child: %v\n%s", err, out)
	}
	var committed, acked int
	if _, err := fmt.Sscanf(string(out), "committed %d acked %d", &committed, &acked); err != nil {
		t.Fatalf("child said %q", out)
	}
	e, _, err := openEngine(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got := run(t, e, "s", storetest.Numbered(n, 1), accept)
	replanned := map[string]bool{}
	for _, c := range got {
		replanned[strings.SplitN(c, ":", 2)[0]] = true
	}
	for i := range n {
		k := fmt.Sprintf("u%04d", i)
		if (i%2 == 1 || i >= acked) && !replanned[k] {
			t.Errorf("%s was not accepted but is not planned again", k)
		}
	}
	if len(got) > n-committed {
		t.Errorf("%d planned again, more than the %d not committed", len(got), n-committed)
	}
	t.Logf("child acked %d changes, committed %d; %d planned again", acked, committed, len(got))
}

func crashChild(dir string) {
	ctx := context.Background()
	e, err := OpenEngine(ctx, dir, nil, diff.WithAckBatch(100))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	p, err := e.Plan(ctx, "s", storetest.Numbered(2000, 1))
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	i := 0
	ok := 0
	for ch, err := range p.Changes() {
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		var sendErr error
		if i%2 == 1 {
			sendErr = errors.New("rejected")
		} else {
			ok++
		}
		p.Ack(ch, sendErr)
		i++
		if i == 1500 {
			fmt.Printf("committed %d acked %d\n", p.Progress().Committed, i)
			os.Exit(3) // killed: no Commit, no Close
		}
	}
}
