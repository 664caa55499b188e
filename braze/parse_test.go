package braze

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestParseResponse(t *testing.T) {
	tr, err := ParseResponse(201, http.Header{"X-Ratelimit-Limit": {"3000"}, "X-Ratelimit-Remaining": {"2999"}}, []byte(`{"message":"success","attributes_processed":2,"events_processed":1,"errors":[{"type":"bad","input_array":"events","index":0}]}`))
	if err != nil || tr.AttributesProcessed != 2 || tr.EventsProcessed != 1 || len(tr.Errors) != 1 || tr.RateLimit.Limit != 3000 || tr.RateLimit.Remaining != 2999 {
		t.Fatalf("%+v %v", tr, err)
	}
	for _, body := range []string{`{"message":"success","errors":[{"type":"x","input_array":"nope","index":0}]}`,
		`{"message":"success","errors":[{"type":"x","input_array":"events","index":-1}]}`,
		`{"message":"success","errors":[{"type":"x","input_array":"events","index":1.5}]}`,
		`[]`, ``, `{"message":5}`} {
		_, err := ParseResponse(201, nil, []byte(body))
		var re *RequestError
		if !errors.As(err, &re) || !re.Ambiguous {
			t.Errorf("%s: %v", body, err)
		}
	}
}

func FuzzParseResponse(f *testing.F) {
	f.Add(201, []byte(`{"message":"success","attributes_processed":1}`), "", "")
	f.Add(201, []byte(`{"message":"success","errors":[{"type":"t","input_array":"events","index":1}]}`), "0", "1700000000")
	f.Add(400, []byte(`{"message":"Valid data must be provided"}`), "", "")
	f.Add(429, []byte(``), "0", "5")
	f.Add(429, []byte("\xff\x00garbage"), "-1", "NaN")
	f.Add(500, []byte(`{"message":null,"errors":null}`), "x", "1e308")
	f.Add(201, []byte(`{"message":"success"}`), "0", "1e300")
	f.Add(201, []byte(`{"message":"success"}`), "5", "99999999999")
	f.Fuzz(func(t *testing.T, status int, body []byte, remaining, reset string) {
		h := http.Header{}
		h.Set("X-RateLimit-Remaining", remaining)
		h.Set("X-RateLimit-Reset", reset)
		h.Set("X-RateLimit-Retry-After", reset)
		tr, err := ParseResponse(status, h, body)
		if (tr == nil) == (err == nil) {
			t.Fatalf("tr=%v err=%v", tr, err)
		}
		if err != nil {
			_ = err.Error()
			if status >= 200 && status < 300 {
				var re *RequestError
				var ae *APIError
				if !errors.As(err, &re) && !errors.As(err, &ae) {
					t.Fatalf("2xx error of type %T", err)
				}
			}
			return
		}
		if status < 200 || status >= 300 {
			t.Fatalf("success for status %d", status)
		}
		for _, e := range tr.Errors {
			if e.Index < 0 {
				t.Fatal("negative index accepted")
			}
		}
		now := time.Now()
		if w, ok := serverWait(h, now); ok && (w < 0 || w > maxHeaderWait) {
			t.Fatalf("wait %v", w)
		}
		if r := tr.RateLimit.Reset; !r.IsZero() && (r.Sub(now) > maxHeaderWait+time.Minute || now.Sub(r) > maxHeaderWait+time.Minute) {
			t.Fatalf("reset %v", r)
		}
	})
}
