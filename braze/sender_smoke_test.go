package braze

import (
	"context"
	"iter"
	"testing"
)

func TestTrackAllSmoke(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	updates := func(yield func(Update) bool) {
		for i := range 200 {
			a := &UserAttributes{}
			if err := a.Set("external_id", "u"+itoa(i)); err != nil {
				t.Fatal(err)
			}
			_ = a.Set("first_name", "X")
			if !yield(Update{Attributes: a, Ref: i}) {
				return
			}
		}
	}
	seen := map[int]bool{}
	for r := range c.TrackAll(context.Background(), iter.Seq[Update](updates)) {
		if r.Err != nil {
			t.Fatalf("update %v: %v", r.Ref, r.Err)
		}
		seen[r.Ref.(int)] = true
	}
	if len(seen) != 200 {
		t.Fatalf("got %d results, want 200", len(seen))
	}
	if got := rec.requests(); got != 3 {
		t.Fatalf("got %d requests, want 3", got)
	}
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	return string(b)
}
