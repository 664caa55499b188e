package e2e

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// fakeBraze is the brazetest fake mounted behind a thin probe that counts
// requests in flight (so a "restarted process" starts only once the fake
// has finished with the old one's requests, as after a real restart),
// tallies what the fake answered, and looks for the API key in every body
// the client sent.
type fakeBraze struct {
	*brazetest.Server
	url    string
	apiKey []byte

	inflight atomic.Int64

	mu        sync.Mutex
	statuses  map[int]int
	cuts      int
	keyInBody int
}

func newFakeBraze(t *testing.T, seed uint64, apiKey string) *fakeBraze {
	f := &fakeBraze{
		Server: brazetest.NewHandler(
			brazetest.WithAPIKey(apiKey),
			brazetest.WithSeed(seed),
			// Bodies of 75 users are large; the last few hundred requests
			// are enough to check the recorded dumps for the key.
			brazetest.WithRequestHistory(300),
		),
		apiKey:   []byte(apiKey),
		statuses: map[int]int{},
	}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	f.url = ts.URL
	return f
}

func (f *fakeBraze) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.inflight.Add(1)
	defer f.inflight.Add(-1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away while sending
	}
	if bytes.Contains(body, f.apiKey) {
		f.mu.Lock()
		f.keyInBody++
		f.mu.Unlock()
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	p := &probe{ResponseWriter: w}
	defer func() {
		f.mu.Lock()
		if p.hijacked {
			f.cuts++
		} else {
			f.statuses[p.status]++
		}
		f.mu.Unlock()
	}()
	f.Server.ServeHTTP(p, r)
}

// quiesce waits until the fake has finished every request, including
// those the client abandoned.
func (f *fakeBraze) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for f.inflight.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the fake still has %d requests in flight after 10 s", f.inflight.Load())
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *fakeBraze) tally() (statuses map[int]int, cuts, keyInBody int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	statuses = make(map[int]int, len(f.statuses))
	for k, v := range f.statuses {
		statuses[k] = v
	}
	return statuses, f.cuts, f.keyInBody
}

// probe records the status the fake answered, and whether it cut the
// connection, passing the hijack through.
type probe struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (p *probe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
	p.ResponseWriter.WriteHeader(code)
}

func (p *probe) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return p.ResponseWriter.Write(b)
}

func (p *probe) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	p.hijacked = true
	return p.ResponseWriter.(http.Hijacker).Hijack()
}

// faultRegime is the network the sync must survive: slow responses, an
// outage at the start long enough to exhaust some retries, connections cut
// after the body was read (with and without the request applied), 5% 429s,
// 2% 503s, a few 502s answered after the request was applied, and
// about 1% of users rejected one by one. (Braze's own rate limit is left
// to the braze package's tests: with it the client pauses before the
// budget runs out, which only slows this suite down.)
func (f *fakeBraze) faultRegime(rejectSeed uint64) {
	f.ClearFaults()
	f.AddFault(brazetest.Fault{Delay: 20 * time.Millisecond, Probability: 0.03})
	f.AddFault(brazetest.Fault{Status: http.StatusServiceUnavailable, Probability: 0.6, Count: 30})
	f.AddFault(brazetest.Fault{Disconnect: true, Apply: true, Probability: 0.02, Count: 3})
	f.AddFault(brazetest.Fault{Disconnect: true, Probability: 0.02, Count: 3})
	f.AddFault(brazetest.Fault{Status: http.StatusTooManyRequests, Probability: 0.05})
	f.AddFault(brazetest.Fault{Status: http.StatusServiceUnavailable, Probability: 0.02})
	f.AddFault(brazetest.Fault{Status: http.StatusBadGateway, Apply: true, Probability: 0.003})
	f.RejectExternalIDs(rejectedByBraze(rejectSeed))
}

// calm removes the network faults but keeps Braze's per-user rejections,
// which are a property of the data, not of the network.
func (f *fakeBraze) calm(seed uint64) {
	f.ClearFaults()
	f.RejectExternalIDs(rejectedByBraze(seed))
}

// logBuffer collects log output from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
