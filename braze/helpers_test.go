package braze

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

const testKey = "test-key-5f0c1d2e-abcd-4e5f-9a8b-7c6d5e4f3a2b"

// recorder is an httptest handler that records request bodies and answers
// through a caller-provided function.
type recorder struct {
	mu     sync.Mutex
	bodies [][]byte
	heads  []http.Header
	answer func(n int, body map[string]json.RawMessage, w http.ResponseWriter)
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.bodies = append(r.bodies, b)
	r.heads = append(r.heads, req.Header.Clone())
	n := len(r.bodies)
	r.mu.Unlock()
	var m map[string]json.RawMessage
	_ = json.Unmarshal(b, &m)
	if r.answer != nil {
		r.answer(n, m, w)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"message":"success"}`)
}

func (r *recorder) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// newTestClient starts a server and a client with fast retries.
// newBubbleClient returns a client whose requests are served by h in
// memory, without a network, so that it works inside a testing/synctest
// bubble: timing tests then run on the bubble's fake clock instead of
// sleeping.
func newBubbleClient(t *testing.T, h http.Handler, opts ...Option) *Client {
	t.Helper()
	hc := &http.Client{Transport: handlerTransport{h}}
	base := []Option{WithBaseURL("http://127.0.0.1:9"), WithHTTPClient(hc), WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond})}
	c, err := NewClient(testKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// handlerTransport serves requests with a handler, in memory.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := r.Context().Err(); err != nil {
		return nil, err
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

func newTestClient(t *testing.T, h http.Handler, opts ...Option) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	base := []Option{WithBaseURL(srv.URL), WithRetryPolicy(RetryPolicy{MaxRetries: 3, MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxWait: 50 * time.Millisecond})}
	c, err := NewClient(testKey, append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}
