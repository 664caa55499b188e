package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/internal/pgtest"

	"github.com/ampbraze/ampbraze/braze/brazetest"
	"github.com/ampbraze/ampbraze/examples/internal/proctest"
	"github.com/jackc/pgx/v5"
)

// These tests run the program as a process, as systemd or Kubernetes
// would, against a fake Braze on loopback, and signal or kill it.

// syncProgram is the program, built once per test binary. Static (no
// cgo), so that injected I/O errors (see
// TestRegression_Issue14_StateReadErrorIsFatal) meet the program's own
// reads, not the dynamic loader's.
var syncProgram = proctest.NewProgram("amperity-to-braze", "CGO_ENABLED=0")

// procUser is one user of a generated export.
type procUser struct {
	id, first, last, tier string
	orders                int
	vip                   bool
}

const procSchema = "customer_id:String\ngiven_name:String\nsurname:String\nloyalty_tier:String\norder_count:Integer\naud_vip:Boolean\n"

func writeProcExport(t *testing.T, path string, users []procUser) {
	t.Helper()
	var b strings.Builder
	b.WriteString("customer_id,given_name,surname,loyalty_tier,order_count,aud_vip\n")
	for _, u := range users {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%d,%v\n", u.id, u.first, u.last, u.tier, u.orders, u.vip)
	}
	writeFile(t, path, []byte(b.String()))
}

func procUsers(n int) []procUser {
	tiers := []string{"bronze", "silver", "gold", "platinum"}
	out := make([]procUser, n)
	for i := range out {
		out[i] = procUser{id: fmt.Sprintf("C-%05d", i), first: fmt.Sprintf("F%d", i), last: fmt.Sprintf("L%d", i), tier: tiers[i%4], orders: i % 50, vip: i%3 == 0}
	}
	return out
}

type procFixture struct {
	t    *testing.T
	bin  string
	dir  string
	fake *brazetest.Server
}

func newProcFixture(t *testing.T) *procFixture {
	t.Helper()
	f := &procFixture{t: t, bin: syncProgram.Path(t), dir: t.TempDir(), fake: brazetest.NewServer(t)}
	writeFile(t, f.path("schema.txt"), []byte(procSchema))
	writeFile(t, f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id"}, "audiences": ["aud_vip"]}`))
	return f
}

func (f *procFixture) path(name string) string { return filepath.Join(f.dir, name) }

// start runs the program on input with the fixture's files.
func (f *procFixture) start(input string, extra ...string) *proctest.Proc {
	return f.startWith(nil, input, extra...)
}

// startWith runs the program under a wrapper command (such as strace).
func (f *procFixture) startWith(wrapper []string, input string, extra ...string) *proctest.Proc {
	f.t.Helper()
	args := append([]string{"-endpoint", f.fake.URL, "-schema", f.path("schema.txt"), "-mapping", f.path("mapping.json"),
		"-state", f.path("state"), "-rejects", f.path("rejects.ndjson"), "-concurrency", "2", "-batch-size", "25", "-input", input}, extra...)
	argv := append(append(wrapper, f.bin), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "BRAZE_API_KEY="+brazetest.DefaultAPIKey, "BRAZE_INSTANCE=", "BRAZE_REST_ENDPOINT=")
	return proctest.Start(f.t, cmd)
}

// run runs the program to its end.
func (f *procFixture) run(input string, extra ...string) (int, string, string) {
	f.t.Helper()
	p := f.start(input, extra...)
	code := p.Wait(f.t, 2*time.Minute)
	return code, p.Out.String(), p.Err.String()
}

// acceptedSince returns the users whose objects the fake accepted in
// requests after seq.
func (f *procFixture) acceptedSince(seq int) map[string]bool {
	out := map[string]bool{}
	for _, r := range f.fake.Requests() {
		if r.Seq <= seq || r.Status/100 != 2 {
			continue
		}
		objs, _ := r.Payload()["attributes"].([]any)
		for _, o := range objs {
			if m, ok := o.(map[string]any); ok {
				id, _ := m["external_id"].(string)
				out[id] = true
			}
		}
	}
	return out
}

func (f *procFixture) lastSeq() int {
	rs := f.fake.Requests()
	if len(rs) == 0 {
		return 0
	}
	return rs[len(rs)-1].Seq
}

// interruptAfter starts a run and signals it once the fake has accepted
// requests more requests; it returns the exit code and the output.
func (f *procFixture) interruptAfter(input string, requests int, sig syscall.Signal, extra ...string) (int, string, string) {
	f.t.Helper()
	base := f.fake.Stats().Accepted
	p := f.start(input, extra...)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		for f.fake.Stats().Accepted < base+requests {
			if p.Exited() {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		p.Cmd.Process.Signal(sig)
	}()
	code := p.Wait(f.t, time.Minute)
	<-exited
	return code, p.Out.String(), p.Err.String()
}

// checkBraze compares what the fake holds with the export: every user of
// it with its values, every other user known to the fake with nothing
// but removals.
func (f *procFixture) checkBraze(users []procUser) {
	f.t.Helper()
	in := map[string]procUser{}
	for _, u := range users {
		in[u.id] = u
	}
	var diffs []string
	for _, got := range f.fake.Users() {
		u, ok := in[got.ExternalID]
		if !ok {
			if tier, has := got.Attributes["loyalty_tier"]; has {
				diffs = append(diffs, fmt.Sprintf("%s left the export but Braze still has loyalty_tier=%v", got.ExternalID, tier))
			}
			if vip, _ := got.Bool("aud_vip"); vip {
				diffs = append(diffs, fmt.Sprintf("%s left the export but Braze still has aud_vip=true", got.ExternalID))
			}
			continue
		}
		delete(in, got.ExternalID)
		tier, _ := got.String("loyalty_tier")
		first, _ := got.String("first_name")
		vip, _ := got.Bool("aud_vip")
		if tier != u.tier || first != u.first || vip != u.vip {
			diffs = append(diffs, fmt.Sprintf("%s: tier=%q first=%q vip=%v, want %q %q %v", u.id, tier, first, vip, u.tier, u.first, u.vip))
		}
		if _, has := got.Attributes["loyalty_tier"]; u.tier == "" && has {
			diffs = append(diffs, fmt.Sprintf("%s: blank loyalty_tier in the export, Braze still has one", u.id))
		}
	}
	for id := range in {
		diffs = append(diffs, id+": not in Braze")
	}
	if len(diffs) > 0 {
		f.t.Errorf("Braze differs from the export for %d users: %v", len(diffs), diffs[:min(len(diffs), 10)])
	}
}

// Issue 14, items 1-2 and "done when": SIGINT and SIGTERM at random
// moments, one after the other. Each interrupted run exits 2 saying so
// and records what Braze accepted: the final clean run re-sends, of what
// Braze had accepted, at most the requests in flight at each interrupt
// (two, with -concurrency 2), and Braze ends equal to the export.
func TestRegression_Issue14_SignalStormLosesNothing(t *testing.T) {
	f := newProcFixture(t)
	f.fake.DelayResponses(10 * time.Millisecond)
	users := procUsers(3000)
	writeProcExport(t, f.path("day1.csv"), users)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	t.Logf("seed-free random points; run with -v to see them")
	accepted := map[string]bool{}
	interrupts := 0
	for i := range 6 {
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[i%2]
		after := 1 + rng.IntN(12)
		seq := f.lastSeq()
		code, out, errOut := f.interruptAfter(f.path("day1.csv"), after, sig)
		for id := range f.acceptedSince(seq) {
			accepted[id] = true
		}
		t.Logf("run %d: %v after %d requests: exit %d", i, sig, after, code)
		if code == exitOK {
			break // finished before the signal
		}
		interrupts++
		if code != exitFatal || !strings.Contains(out, "interrupted") {
			t.Fatalf("run %d (%v): exit %d, want %d and 'interrupted'\n%s\n%s", i, sig, code, exitFatal, out, errOut)
		}
	}
	f.fake.DelayResponses(0)
	seq := f.lastSeq()
	if code, out, errOut := f.run(f.path("day1.csv")); code != exitOK {
		t.Fatalf("final run: exit %d\n%s\n%s", code, out, errOut)
	}
	resent := 0
	for id := range f.acceptedSince(seq) {
		if accepted[id] {
			resent++
		}
	}
	if limit := interrupts * 2 * 25; resent > limit {
		t.Errorf("the final run re-sent %d users Braze had accepted before; at most %d (2 requests of 25 per interrupt, %d interrupts)", resent, limit, interrupts)
	}
	t.Logf("%d interrupts; %d users accepted before the final run, %d of them re-sent", interrupts, len(accepted), resent)
	f.checkBraze(users)
}

// Issue 14, item 3 and "done when": killed (SIGKILL) after sending and
// before the answers were recorded, then synced with a different export:
// Braze ends equal to the last export, with nothing stale (users who left
// removed, blanked cells removed).
func TestRegression_Issue14_KillBetweenSendAndAckThenDifferentInput(t *testing.T) {
	for round := range 3 {
		f := newProcFixture(t)
		f.fake.DelayResponses(10 * time.Millisecond)
		day1 := procUsers(2000)
		writeProcExport(t, f.path("day1.csv"), day1)
		var day2 []procUser
		for i, u := range day1 {
			switch i % 10 {
			case 0:
				continue // left
			case 1:
				u.tier = "" // blanked
			case 2:
				u.tier, u.vip = "diamond", !u.vip
			}
			day2 = append(day2, u)
		}
		writeProcExport(t, f.path("day2.csv"), day2)
		args := []string{"-full-snapshot", "-scope", "braze:snapshot", "-force"}
		code, _, _ := f.interruptAfter(f.path("day1.csv"), 3+round*10, syscall.SIGKILL, args...)
		if code == exitOK {
			t.Fatalf("round %d: day 1 finished before the kill", round)
		}
		if code, out, errOut := f.run(f.path("day2.csv"), args...); code != exitOK {
			t.Fatalf("round %d: day 2: exit %d\n%s\n%s", round, code, out, errOut)
		}
		f.checkBraze(day2)
	}
}

// Issue 14, item 7 and "done when": a state whose MANIFEST and marker were
// removed is refused, and nothing is sent as new.
func TestRegression_Issue14_LostStateIsRefused(t *testing.T) {
	f := newProcFixture(t)
	users := procUsers(500)
	writeProcExport(t, f.path("day1.csv"), users)
	if code, out, errOut := f.run(f.path("day1.csv")); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	entries, _ := os.ReadDir(f.path("state"))
	removed := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "MANIFEST") || strings.HasPrefix(e.Name(), "marker.") {
			os.Remove(filepath.Join(f.path("state"), e.Name()))
			removed++
		}
	}
	if removed == 0 {
		t.Fatalf("no MANIFEST or marker in %v", entries)
	}
	before := f.fake.Stats().Requests
	code, out, errOut := f.run(f.path("day1.csv"))
	if code != exitFatal || !strings.Contains(errOut, "-reset-state") {
		t.Fatalf("exit %d, want %d and a message naming -reset-state\n%s\n%s", code, exitFatal, out, errOut)
	}
	if n := f.fake.Stats().Requests - before; n != 0 {
		t.Errorf("%d requests sent from a lost state", n)
	}
}

// Issue 14, item 5 and "done when": the state on a tiny full filesystem
// ends within 30 s with a non-zero exit and a message.
func TestRegression_Issue14_FullDiskFailsLoudly(t *testing.T) {
	f := newProcFixture(t)
	mnt := f.path("tiny")
	os.MkdirAll(mnt, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a tmpfs (needs root): %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	users := procUsers(20000)
	writeProcExport(t, f.path("big.csv"), users)
	p := f.start(f.path("big.csv"), "-state", filepath.Join(mnt, "state"), "-concurrency", "8", "-batch-size", "75")
	start := time.Now()
	code := p.Wait(t, 30*time.Second)
	if code == exitOK || !strings.Contains(strings.ToLower(p.Err.String()), "space") {
		t.Fatalf("exit %d after %s, want a failure naming the full disk\n%s\n%s", code, time.Since(start), &p.Out, &p.Err)
	}
	t.Logf("ended in %s: %s", time.Since(start).Round(time.Millisecond), lastLine(p.Err.String()))
}

// Issue 14, item 4 and "done when": an I/O error reading the state (EIO,
// injected into the program's pread64 calls with strace, at open and in
// the middle of planning) ends with exit 2 and a message; the export is
// not checkpointed, and the next clean run sends its changes.
func TestRegression_Issue14_StateReadErrorIsFatal(t *testing.T) {
	if _, err := exec.LookPath("strace"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("strace is needed (apt-get install strace)")
		}
		t.Skip("strace is not installed: cannot inject I/O errors")
	}
	for _, from := range []int{1, 40} {
		f := newProcFixture(t)
		users := procUsers(20000)
		writeProcExport(t, f.path("drop/day1.csv"), users)
		folder := []string{"-checkpoint", f.path("checkpoint.txt")}
		if code, out, errOut := f.run(f.path("drop")+"/", folder...); code != exitOK {
			t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
		}
		for i := range users {
			if i%4 == 0 {
				users[i].tier = "changed"
			}
		}
		writeProcExport(t, f.path("drop/day2.csv"), users)
		inject := []string{"strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=pread64", "-e", fmt.Sprintf("inject=pread64:error=EIO:when=%d+", from)}
		p := f.startWith(inject, f.path("drop")+"/", folder...)
		code := p.Wait(t, time.Minute)
		if code != exitFatal || !strings.Contains(p.Err.String(), "input/output error") {
			t.Fatalf("EIO from pread %d: exit %d, want %d and the error\n%s\n%s", from, code, exitFatal, &p.Out, &p.Err)
		}
		if cp, _ := os.ReadFile(f.path("checkpoint.txt")); strings.Contains(string(cp), "day2") {
			t.Errorf("EIO from pread %d: day2.csv checkpointed after a state read error", from)
		}
		t.Logf("EIO from pread %d: %s", from, lastLine(p.Err.String()))
		seq := f.lastSeq()
		if code, out, errOut := f.run(f.path("drop")+"/", folder...); code != exitOK {
			t.Fatalf("clean run: exit %d\n%s\n%s", code, out, errOut)
		}
		if n := len(f.acceptedSince(seq)); n < len(users)/4 {
			t.Errorf("the clean run sent %d users, want the %d changed", n, len(users)/4)
		}
		f.checkBraze(users)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// pgDatabase creates a database of its own for a test on the local
// PostgreSQL and returns its URL; it skips (fails under CI) when
// PostgreSQL does not answer (pgtest.Need).
func pgDatabase(t *testing.T) string {
	t.Helper()
	base := pgtest.Need(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	name := fmt.Sprintf("ampbraze_test_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, base); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Issue 15 and its "done when": 4 workers share one scope on PostgreSQL
// (-partition i/4, -state postgres://); one is killed with SIGKILL mid-run
// and restarted. Braze ends equal to the export (0 lost), and a second
// round of the 4 workers sends nothing (0 wrongly marked sent: a user
// recorded but not in Braze would differ above; one not recorded would
// be sent again here).
func TestRegression_Issue15_PartitionedWorkersKilledConverge(t *testing.T) {
	state := pgDatabase(t)
	f := newProcFixture(t)
	f.fake.DelayResponses(5 * time.Millisecond)
	users := procUsers(4000)
	writeProcExport(t, f.path("users.csv"), users)
	worker := func(i int) *proctest.Proc {
		return f.start(f.path("users.csv"), "-state", state, "-partition", fmt.Sprintf("%d/4", i), "-rejects", f.path(fmt.Sprintf("rejects-%d.ndjson", i)))
	}
	var ps []*proctest.Proc
	for i := range 4 {
		ps = append(ps, worker(i))
	}
	for f.fake.Stats().Accepted < 20 {
		time.Sleep(2 * time.Millisecond)
	}
	ps[1].Kill(t)
	for i, p := range ps {
		code := p.Wait(t, time.Minute)
		if i == 1 {
			if code == exitOK {
				t.Log("worker 1 finished before the kill")
			}
			continue
		}
		if code != exitOK {
			t.Fatalf("worker %d: exit %d\n%s\n%s", i, code, &p.Out, &p.Err)
		}
	}
	if p := worker(1); p.Wait(t, time.Minute) != exitOK {
		t.Fatalf("restarted worker 1: exit %d\n%s\n%s", p.Cmd.ProcessState.ExitCode(), &p.Out, &p.Err)
	}
	f.checkBraze(users)
	before := f.fake.Stats().Requests
	for i := range 4 {
		if p := worker(i); p.Wait(t, time.Minute) != exitOK {
			t.Fatalf("second round, worker %d: exit %d\n%s\n%s", i, p.Cmd.ProcessState.ExitCode(), &p.Out, &p.Err)
		}
	}
	if n := f.fake.Stats().Requests - before; n != 0 {
		t.Errorf("the second round sent %d requests: the state and Braze disagree", n)
	}
}
