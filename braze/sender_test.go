package braze

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func attrUpdates(n int, id func(i int) string) func(func(Update) bool) {
	return func(yield func(Update) bool) {
		for i := range n {
			if !yield(Update{Attributes: &UserAttributes{ExternalID: id(i), FirstName: FieldOf("A")}, Ref: i}) {
				return
			}
		}
	}
}

func collect(t *testing.T, c *Client, ctx context.Context, ups func(func(Update) bool), opts ...SendOption) map[int]Result {
	t.Helper()
	got := map[int]Result{}
	for r := range c.TrackAll(ctx, ups, opts...) {
		i := r.Ref.(int)
		if _, dup := got[i]; dup {
			t.Fatalf("two results for update %d", i)
		}
		got[i] = r
	}
	return got
}

func arrayLens(t *testing.T, body []byte) (a, e, p int, users []string) {
	var m struct {
		Attributes []map[string]any `json:"attributes"`
		Events     []map[string]any `json:"events"`
		Purchases  []map[string]any `json:"purchases"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("bad body %s: %v", body, err)
	}
	for _, x := range m.Attributes {
		users = append(users, fmt.Sprint(x["external_id"]))
	}
	return len(m.Attributes), len(m.Events), len(m.Purchases), users
}

func TestTrackAllBatching(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	got := collect(t, c, context.Background(), attrUpdates(1000, func(i int) string { return fmt.Sprint("u", i) }))
	if len(got) != 1000 {
		t.Fatalf("%d results", len(got))
	}
	for i, r := range got {
		if r.Err != nil || r.Kind() != ResultAccepted || r.Seq != int64(i) {
			t.Fatalf("result %d: %+v", i, r)
		}
	}
	if rec.requests() != 14 { // ceil(1000/75)
		t.Errorf("%d requests", rec.requests())
	}
	for _, b := range rec.bodies {
		if a, _, _, _ := arrayLens(t, b); a > 75 {
			t.Errorf("request with %d objects", a)
		}
	}
}

func mixedUpdates(n int) func(func(Update) bool) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	return func(yield func(Update) bool) {
		for i := range n {
			var u Update
			switch i % 3 {
			case 0:
				u.Attributes = &UserAttributes{ExternalID: fmt.Sprint("u", i)}
			case 1:
				u.Event = &Event{UserRef: UserRef{ExternalID: "u"}, Name: "e", Time: now}
			case 2:
				u.Purchase = &Purchase{UserRef: UserRef{ExternalID: "u"}, ProductID: "p", Currency: "USD", Price: 1, Time: now}
			}
			u.Ref = i
			if !yield(u) {
				return
			}
		}
	}
}

func TestTrackAllCombinedAndLegacy(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	collect(t, c, context.Background(), mixedUpdates(450), WithBatchSize(50))
	for _, b := range rec.bodies {
		a, e, p, _ := arrayLens(t, b)
		if a+e+p > 50 {
			t.Errorf("combined %d > 50", a+e+p)
		}
	}
	if rec.requests() != 9 {
		t.Errorf("%d requests, want 9", rec.requests())
	}
	rec2 := &recorder{}
	c2, _ := newTestClient(t, rec2)
	collect(t, c2, context.Background(), mixedUpdates(450), WithLegacyBatching())
	if rec2.requests() != 2 {
		t.Errorf("legacy: %d requests, want 2", rec2.requests())
	}
	for _, b := range rec2.bodies {
		a, e, p, _ := arrayLens(t, b)
		if a > 75 || e > 75 || p > 75 {
			t.Errorf("legacy array over 75: %d %d %d", a, e, p)
		}
	}
}

func TestTrackAllNoDuplicateUserInRequest(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	got := collect(t, c, context.Background(), attrUpdates(300, func(i int) string { return fmt.Sprint("u", i%7) }))
	if len(got) != 300 {
		t.Fatalf("%d results", len(got))
	}
	for _, b := range rec.bodies {
		_, _, _, users := arrayLens(t, b)
		seen := map[string]bool{}
		for _, u := range users {
			if seen[u] {
				t.Fatalf("user %s twice in one request", u)
			}
			seen[u] = true
		}
	}
}

func TestTrackAllByteCap(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	ups := func(yield func(Update) bool) {
		for i := range 40 {
			a := &UserAttributes{ExternalID: fmt.Sprint("u", i)}
			must(t, a.Set("blob", strings.Repeat("x", 200)))
			if !yield(Update{Attributes: a, Ref: i}) {
				return
			}
		}
		big := &UserAttributes{ExternalID: "big"}
		must(t, a2(big))
		yield(Update{Attributes: big, Ref: 40})
	}
	got := collect(t, c, context.Background(), ups, WithMaxRequestBytes(1000))
	for _, b := range rec.bodies {
		if len(b) > 1000 {
			t.Errorf("body of %d bytes", len(b))
		}
	}
	if len(got) != 41 || got[40].Kind() != ResultRejected {
		t.Errorf("oversized object: %+v", got[40])
	}
}

func a2(a *UserAttributes) error {
	return a.Set("nested", map[string]any{"a": strings.Repeat("y", 250), "b": strings.Repeat("y", 250), "c": strings.Repeat("y", 250), "d": strings.Repeat("y", 250)})
}

// Item errors map back to the right objects through the per-array index.
func TestTrackAllItemErrors(t *testing.T) {
	rec := &recorder{answer: func(_ int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success","errors":[
			{"type":"'quantity' is not valid","input_array":"purchases","index":1},
			{"type":"bad event","input_array":"events","index":0},
			{"type":"bad attr","input_array":"attributes","index":2},
			{"type":"phantom","input_array":"events","index":999}]}`)
	}}
	c, _ := newTestClient(t, rec)
	got := collect(t, c, context.Background(), mixedUpdates(9))
	// attributes: refs 0,3,6; events: 1,4,7; purchases: 2,5,8.
	want := map[int]string{6: "bad attr", 1: "bad event", 5: "'quantity' is not valid"}
	for i, r := range got {
		if w, ok := want[i]; ok {
			var ie *ItemError
			if !errors.As(r.Err, &ie) || ie.Type != w || r.Kind() != ResultRejected {
				t.Errorf("update %d: %v, want %q", i, r.Err, w)
			}
		} else if r.Err != nil {
			t.Errorf("update %d: unexpected %v", i, r.Err)
		}
	}
}

// A fatal answer that names objects (Braze's 400 when it refused every
// object one by one) rejects those objects for their own reason; the rest
// of the request only failed and may be sent again.
func TestTrackAllFatalWithItemErrors(t *testing.T) {
	rec := &recorder{answer: func(_ int, _ map[string]json.RawMessage, w http.ResponseWriter) {
		w.WriteHeader(400)
		io.WriteString(w, `{"message":"Valid data must be provided in the 'attributes', 'events', or 'purchases' fields.","errors":[
			{"type":"bad attr","input_array":"attributes","index":0},
			{"type":"bad event","input_array":"events","index":1}]}`)
	}}
	c, _ := newTestClient(t, rec)
	got := collect(t, c, context.Background(), mixedUpdates(6))
	// attributes: refs 0,3; events: 1,4; purchases: 2,5.
	want := map[int]string{0: "bad attr", 4: "bad event"}
	for i, r := range got {
		if w, ok := want[i]; ok {
			var ie *ItemError
			if !errors.As(r.Err, &ie) || ie.Type != w || r.Kind() != ResultRejected {
				t.Errorf("update %d: %v (%s), want rejected with %q", i, r.Err, r.Kind(), w)
			}
			continue
		}
		var ae *APIError
		if !errors.As(r.Err, &ae) || ae.StatusCode != 400 || r.Kind() != ResultFailed {
			t.Errorf("update %d: %v (%s), want failed with the request's 400", i, r.Err, r.Kind())
		}
	}
	if len(got) != 6 {
		t.Errorf("%d results, want 6", len(got))
	}
}

// A failed request fails each of its objects with the request's error;
// other requests are unaffected.
func TestTrackAllRequestFailure(t *testing.T) {
	rec := &recorder{answer: func(n int, body map[string]json.RawMessage, w http.ResponseWriter) {
		if strings.Contains(string(body["attributes"]), `"u0"`) {
			w.WriteHeader(201)
			io.WriteString(w, `{"message":"Max Input Length Exceeded"}`)
			return
		}
		w.WriteHeader(201)
		io.WriteString(w, `{"message":"success"}`)
	}}
	c, _ := newTestClient(t, rec)
	got := collect(t, c, context.Background(), attrUpdates(150, func(i int) string { return fmt.Sprint("u", i) }))
	failed := 0
	for _, r := range got {
		if r.Err != nil {
			var ae *APIError
			if !errors.As(r.Err, &ae) || r.Kind() != ResultFailed {
				t.Errorf("err %v", r.Err)
			}
			failed++
		}
	}
	if failed != 75 {
		t.Errorf("%d failed, want 75", failed)
	}
}

func TestTrackAllInvalidUpdates(t *testing.T) {
	c, _ := newTestClient(t, &recorder{})
	ups := func(yield func(Update) bool) {
		yield(Update{Ref: 0})
		yield(Update{Ref: 1, Attributes: &UserAttributes{ExternalID: "a"}, Event: &Event{}})
		yield(Update{Ref: 2, Attributes: &UserAttributes{FirstName: FieldOf("x")}})
		yield(Update{Ref: 3, Attributes: &UserAttributes{ExternalID: "ok"}})
	}
	got := collect(t, c, context.Background(), ups)
	for i := range 3 {
		var ve *ValidationError
		if !errors.As(got[i].Err, &ve) || !strings.HasPrefix(ve.Object, fmt.Sprintf("update %d", i)) {
			t.Errorf("update %d: %v", i, got[i].Err)
		}
	}
	if !strings.Contains(got[2].Err.Error(), "update 2 (attributes)") {
		t.Errorf("error does not name the object: %v", got[2].Err)
	}
	if got[3].Err != nil {
		t.Error(got[3].Err)
	}
}

// Updates are pulled lazily: results of early requests arrive while later
// updates have not been produced yet.
func TestTrackAllLazyPull(t *testing.T) {
	c, _ := newTestClient(t, &recorder{})
	var produced atomic.Int32
	ups := func(yield func(Update) bool) {
		for i := range 1000 {
			produced.Add(1)
			if !yield(Update{Attributes: &UserAttributes{ExternalID: fmt.Sprint(i)}, Ref: i}) {
				return
			}
			if i%75 == 74 {
				time.Sleep(2 * time.Millisecond) // a slow cursor
			}
		}
	}
	firstAt := int32(-1)
	n := 0
	for range c.TrackAll(context.Background(), ups, WithConcurrency(2)) {
		if firstAt < 0 {
			firstAt = produced.Load()
		}
		n++
	}
	if n != 1000 || firstAt >= 1000 {
		t.Errorf("n=%d, first result after %d produced", n, firstAt)
	}
}

func TestTrackAllConsumerStopsEarly(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	var produced atomic.Int32
	ups := func(yield func(Update) bool) {
		for i := range 100000 {
			produced.Add(1)
			if !yield(Update{Attributes: &UserAttributes{ExternalID: fmt.Sprint(i)}, Ref: i}) {
				return
			}
		}
	}
	n := 0
	for range c.TrackAll(context.Background(), ups) {
		n++
		if n == 10 {
			break
		}
	}
	if p := produced.Load(); p >= 100000 {
		t.Errorf("all %d updates pulled after an early stop", p)
	}
}

// On cancel, every pulled update gets exactly one result, and pulling
// stops.
func TestTrackAllCancel(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	c, _ := newTestClient(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	var produced atomic.Int32
	ups := func(yield func(Update) bool) {
		for i := range 100000 {
			produced.Add(1)
			if !yield(Update{Attributes: &UserAttributes{ExternalID: fmt.Sprint(i)}, Ref: i}) {
				return
			}
		}
	}
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	got := collect(t, c, ctx, ups, WithConcurrency(4))
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if int(produced.Load()) != len(got) {
		t.Fatalf("%d pulled, %d results", produced.Load(), len(got))
	}
	if len(got) > 1000 {
		t.Errorf("kept pulling after cancel: %d", len(got))
	}
	for i, r := range got {
		if !errors.Is(r.Err, context.Canceled) {
			t.Fatalf("update %d: %v", i, r.Err)
		}
	}
}

// A second object for a user goes in a later request, sent only after the
// earlier one completed, so Braze cannot apply them out of order: whether
// the duplicate meets the first in the batch being filled or after that
// batch has left.
func TestTrackAllSameUserOrdered(t *testing.T) {
	for name, ids := range map[string][]string{
		"same-batch": {"a", "b", "a", "c"},
		"next-batch": append(seqIDs(75), "a", "z"), // seqIDs(75)[0] == "a"
	} {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var spans [][2]time.Time
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.ReadAll(r.Body)
				start := time.Now()
				time.Sleep(30 * time.Millisecond)
				mu.Lock()
				spans = append(spans, [2]time.Time{start, time.Now()})
				mu.Unlock()
				w.WriteHeader(201)
				io.WriteString(w, `{"message":"success"}`)
			})
			c, _ := newTestClient(t, h)
			got := collect(t, c, context.Background(), attrUpdates(len(ids), func(i int) string { return ids[i] }))
			if len(got) != len(ids) || len(spans) != 2 {
				t.Fatalf("%d results, %d requests", len(got), len(spans))
			}
			if spans[1][0].Before(spans[0][1]) {
				t.Error("second request for user a started before the first finished")
			}
		})
	}
}

func seqIDs(n int) []string {
	ids := []string{"a"}
	for i := 1; i < n; i++ {
		ids = append(ids, fmt.Sprint("u", i))
	}
	return ids
}

func TestTrackAllNilAndEmpty(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	for range c.TrackAll(context.Background(), nil) {
		t.Error("result for a nil sequence")
	}
	for range c.TrackAll(context.Background(), func(func(Update) bool) {}) {
		t.Error("result for an empty sequence")
	}
	if rec.requests() != 0 {
		t.Error("request sent for nothing")
	}
}
