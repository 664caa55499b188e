package braze

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestRetryStopsOnCancel(t *testing.T) {
	rec := &recorder{answer: answerStatus(503, ``, map[string]string{"X-RateLimit-Retry-After": "30"})}
	c, _ := newTestClient(t, rec, WithRetryPolicy(RetryPolicy{MaxRetries: 10, MaxWait: time.Minute}))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := c.Track(ctx, attrsReq("u1"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if rec.requests() > 1 {
		t.Errorf("%d requests", rec.requests())
	}
}

// A server that reads the request and drops the connection causes an
// ambiguous failure: retried for idempotent attribute updates, not for
// events (unless the caller opts in).
func TestAmbiguousFailurePolicy(t *testing.T) {
	var calls atomic.Int32
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		if calls.Add(1) == 1 {
			hj, _ := w.(http.Hijacker)
			conn, _, _ := hj.Hijack()
			conn.Close()
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	})
	ev := TrackRequest{Events: []*Event{{UserRef: UserRef{ExternalID: "u1"}, Name: "e", Time: time.Now()}}}
	inc := &UserAttributes{ExternalID: "u1"}
	must(t, inc.Increment("n", 1))
	for _, tc := range []struct {
		name    string
		req     TrackRequest
		policy  AmbiguousRetry
		wantErr bool
	}{
		{"attributes-default", attrsReq("u1"), RetryIdempotent, false},
		{"event-default", ev, RetryIdempotent, true},
		{"inc-default", TrackRequest{Attributes: []*UserAttributes{inc}}, RetryIdempotent, true},
		{"event-always", ev, RetryAlways, false},
		{"attributes-never", attrsReq("u1"), RetryNever, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			c, _ := newTestClient(t, handler, WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond, Ambiguous: tc.policy}))
			_, err := c.Track(context.Background(), tc.req)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if err != nil {
				var re *RequestError
				if !errors.As(err, &re) || !re.Ambiguous || re.Attempts != 1 {
					t.Errorf("err = %#v", err)
				}
			}
		})
	}
}

func TestTransportErrorBeforeWriteRetries(t *testing.T) {
	// A closed port: the request is never written, so even events retry.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	c, err := NewClient(testKey, WithBaseURL("http://"+addr), WithRetryPolicy(RetryPolicy{MaxRetries: 2, MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	must(t, err)
	_, err = c.Track(context.Background(), TrackRequest{Events: []*Event{{UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: time.Now()}}})
	var re *RequestError
	if !errors.As(err, &re) || re.Ambiguous || re.Attempts != 3 {
		t.Fatalf("err = %#v", err)
	}
}

// countingLimiter counts Wait calls (one per attempt).
type countingLimiter struct{ n atomic.Int32 }

func (l *countingLimiter) Wait(ctx context.Context) error { l.n.Add(1); return ctx.Err() }

func TestLimiterBeforeEveryAttempt(t *testing.T) {
	lim := &countingLimiter{}
	rec := &recorder{answer: func(n int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		if n < 3 {
			w.WriteHeader(503)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	}}
	c, _ := newTestClient(t, rec, WithLimiter(lim))
	resp, err := c.Track(context.Background(), attrsReq("u1"))
	must(t, err)
	if lim.n.Load() != 3 || resp.Attempts != 3 {
		t.Errorf("limiter waits %d, attempts %d", lim.n.Load(), resp.Attempts)
	}
	var _ Limiter = rate.NewLimiter(1, 1)
}

// A redirect is not followed: the key must not reach another server.
func TestRedirectNotFollowed(t *testing.T) {
	other := &recorder{}
	otherSrv := httptest.NewServer(other)
	defer otherSrv.Close()
	redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherSrv.URL+"/users/track", http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(t, redirect)
	_, err := c.Track(context.Background(), attrsReq("u"))
	if !isAPI(http.StatusTemporaryRedirect)(err) {
		t.Errorf("err = %v", err)
	}
	if other.requests() != 0 {
		t.Error("redirect followed")
	}
}
