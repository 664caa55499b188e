package redislimit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// The acceptance test re-executes this test binary as its sender
// processes; helperEnv selects that role in TestMain.
const (
	helperEnv     = "REDISLIMIT_HELPER"
	acceptSeconds = "REDISLIMIT_ACCEPT_SECONDS" // run length, default 12
)

// The acceptance setup: one fake Braze at 300 requests per 1 s fixed
// window, four processes. The limiter's window is 297 (1% left for the
// scheduling and network jitter between Redis admitting a request and the
// fake counting it: a request admitted at the end of one window can land
// in the next), with a burst of 9 (about 30 ms of timer and scheduling
// lateness caught up), so its GCRA rate is 288/s, 96% of the limit.
const (
	acceptLimit   = 300
	acceptProcs   = 4
	limiterPerSec = 297
	limiterBurst  = 9
	helperWarmup  = 2 * time.Second
)

func TestMain(m *testing.M) {
	redis.SetLogger(quietLogger{})
	if os.Getenv(helperEnv) == "1" {
		os.Exit(runHelper())
	}
	os.Exit(m.Run())
}

// helperReport is what one sender process prints.
type helperReport struct {
	Accepted    int    `json:"accepted"`
	RateLimited int    `json:"rate_limited"` // results failed with *braze.RateLimitError
	OtherFailed int    `json:"other_failed"` // failed, not by the context's end
	Error       string `json:"error,omitempty"`
}

// runHelper is one sender process: TrackAll through the shared limiter
// from a start time to an end time given by the parent.
func runHelper() int {
	rep, err := helper()
	if err != nil {
		rep.Error = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(rep)
	if err != nil {
		return 1
	}
	return 0
}

func helper() (helperReport, error) {
	var rep helperReport
	env := func(k string) string { return os.Getenv("REDISLIMIT_" + k) }
	startNS, err1 := strconv.ParseInt(env("START"), 10, 64)
	endNS, err2 := strconv.ParseInt(env("END"), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return rep, fmt.Errorf("helper: bad START/END: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: env("REDIS")})
	defer rdb.Close()
	opts := []Option{WithKeyPrefix(env("PREFIX")), WithBurstLimit(limiterPerSec, time.Second), WithBurst(limiterBurst)}
	if env("DEBUG") != "" {
		opts = append(opts, WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	}
	lim, err := New(rdb, opts...)
	if err != nil {
		return rep, err
	}
	client, err := braze.NewClient(brazetest.DefaultAPIKey, braze.WithBaseURL(env("URL")), braze.WithLimiter(lim))
	if err != nil {
		return rep, err
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, endNS))
	defer cancel()
	if err := lim.Ping(ctx); err != nil {
		return rep, err
	}
	time.Sleep(time.Until(time.Unix(0, startNS)))
	id := env("ID")
	updates := func(yield func(braze.Update) bool) {
		for i := 0; ; i++ {
			u := &braze.UserAttributes{ExternalID: id + "-" + strconv.Itoa(i)}
			if err := u.Set("n", i); err != nil {
				return
			}
			if !yield(braze.Update{Attributes: u}) {
				return
			}
		}
	}
	for r := range client.TrackAll(ctx, updates, braze.WithBatchSize(1)) {
		var rl *braze.RateLimitError
		switch {
		case r.Err == nil:
			rep.Accepted++
		case errors.As(r.Err, &rl):
			rep.RateLimited++
		case ctx.Err() != nil:
			// Abandoned at the end of the run.
		default:
			rep.OtherFailed++
		}
	}
	return rep, nil
}

// TestAcceptance_FourProcessesShareOneBudget: four processes each run
// TrackAll through the shared limiter against one fake Braze limited to
// 300 requests per second, and together draw no 429 and no other failure.
// How much of the limit they use is a figure of the benchmark below, not
// a pass mark of a test: on a loaded machine a frozen process costs the
// run that time's budget, which no limiter can bank without breaking the
// window.
func TestAcceptance_FourProcessesShareOneBudget(t *testing.T) {
	_, prefix := needRedis(t)
	seconds := 6
	if v := os.Getenv(acceptSeconds); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("%s=%q is not a positive number of seconds", acceptSeconds, v)
		}
		seconds = n
	}
	use, stall := acceptanceRun(t, prefix, time.Duration(seconds)*time.Second)
	t.Logf("combined use %.1f%% of %d req/s (longest stall of the test process: %s)", 100*use, acceptLimit, stall)
}

// BenchmarkFourProcessesShareOneBudget measures the combined use of the
// fake Braze's 300 req/s by four processes sharing the limiter (target:
// >= 95%, with 0 rate-limit 429s, which acceptanceRun checks), 12 s a run.
//
//	go test -run '^$' -bench FourProcessesShareOneBudget -benchtime 1x -count 3 ./braze/redislimit/
func BenchmarkFourProcessesShareOneBudget(b *testing.B) {
	_, prefix := needRedis(b)
	for i := range b.N {
		use, stall := acceptanceRun(b, prefix+"-"+strconv.Itoa(i), 12*time.Second)
		b.ReportMetric(100*use, "%limit")
		b.ReportMetric(float64(stall.Milliseconds()), "stall-ms")
	}
	b.ReportMetric(0, "ns/op")
}

// acceptanceRun runs the four sender processes once. It reports the
// combined use of the limit and the longest stall the test process saw,
// and fails the test on 429s or other failures.
func acceptanceRun(t testing.TB, prefix string, run time.Duration) (use float64, stall time.Duration) {
	t.Helper()
	srv := brazetest.NewServer(t,
		brazetest.WithRateLimit(brazetest.RateLimit{Limit: acceptLimit, Window: time.Second}),
		brazetest.WithRequestHistory(0))
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(helperWarmup)
	end := start.Add(run)
	ctx, cancel := context.WithTimeout(context.Background(), helperWarmup+run+60*time.Second)
	defer cancel()

	type proc struct {
		cmd            *exec.Cmd
		stdout, stderr bytes.Buffer
	}
	procs := make([]*proc, acceptProcs)
	for i := range procs {
		p := &proc{cmd: exec.CommandContext(ctx, exe)}
		p.cmd.Env = append(os.Environ(),
			helperEnv+"=1",
			"REDISLIMIT_ID=p"+strconv.Itoa(i),
			"REDISLIMIT_URL="+srv.URL,
			"REDISLIMIT_REDIS="+testRedisAddr(),
			"REDISLIMIT_PREFIX="+prefix,
			"REDISLIMIT_START="+strconv.FormatInt(start.UnixNano(), 10),
			"REDISLIMIT_END="+strconv.FormatInt(end.UnixNano(), 10),
		)
		p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
		if err := p.cmd.Start(); err != nil {
			t.Fatalf("starting sender process %d: %v", i, err)
		}
		procs[i] = p
	}
	stallDone := make(chan time.Duration)
	go func() {
		time.Sleep(time.Until(start))
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		var longest time.Duration
		last := time.Now()
		for now := range tick.C {
			longest = max(longest, now.Sub(last))
			last = now
			if now.After(end) {
				break
			}
		}
		stallDone <- longest
	}()
	var total helperReport
	for i, p := range procs {
		err := p.cmd.Wait()
		var rep helperReport
		if jerr := json.Unmarshal(p.stdout.Bytes(), &rep); jerr != nil || err != nil || rep.Error != "" {
			t.Fatalf("sender process %d: exit %v, report %q (%v), stderr:\n%s", i, err, p.stdout.String(), jerr, p.stderr.String())
		}
		t.Logf("process %d: %d accepted, %d rate-limited, %d failed otherwise", i, rep.Accepted, rep.RateLimited, rep.OtherFailed)
		if os.Getenv("REDISLIMIT_DEBUG") != "" {
			t.Logf("process %d stderr:\n%s", i, p.stderr.String())
		}
		if rep.Accepted == 0 {
			t.Errorf("process %d got no request through", i)
		}
		total.Accepted += rep.Accepted
		total.RateLimited += rep.RateLimited
		total.OtherFailed += rep.OtherFailed
	}
	stall = <-stallDone
	st := srv.Stats()
	use = float64(st.Accepted) / (float64(acceptLimit) * run.Seconds())
	t.Logf("FIGURE: %d processes, fake Braze at %d req/s, %s: %d requests accepted = %.1f req/s = %.1f%% of the limit; %d rate-limit 429s (server); results: %d accepted, %d failed otherwise; longest stall %s",
		acceptProcs, acceptLimit, run, st.Accepted, float64(st.Accepted)/run.Seconds(), 100*use, st.RateLimited, total.Accepted, total.OtherFailed, stall.Round(time.Millisecond))
	if st.RateLimited != 0 || total.RateLimited != 0 {
		t.Errorf("fake Braze answered %d rate-limit 429s (%d results failed with one); want 0", st.RateLimited, total.RateLimited)
	}
	if total.OtherFailed != 0 {
		t.Errorf("%d results failed for another reason than the run's end", total.OtherFailed)
	}
	return use, stall
}
