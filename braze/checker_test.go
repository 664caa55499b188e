package braze

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// A checker answers as isTimeZone does, from its memory after the first
// lookup, and holds at most maxCachedZones names.
func TestCheckerTimeZone(t *testing.T) {
	k := newChecker(DefaultMaxArrayLength)
	for range 2 { // the second round is answered from memory
		for _, tc := range []struct {
			name string
			want bool
		}{
			{"America/New_York", true}, {"Europe/Paris", true}, {"UTC", true},
			{"Mars/Olympus_Mons", false}, {"", false}, {"Local", false},
		} {
			if got := k.timeZone(tc.name); got != tc.want || got != isTimeZone(tc.name) {
				t.Errorf("timeZone(%q) = %v, want %v", tc.name, got, tc.want)
			}
		}
	}
	if _, hit := k.zones["Europe/Paris"]; !hit {
		t.Error("Europe/Paris not remembered")
	}
	for i := range maxCachedZones + 100 {
		if k.timeZone(fmt.Sprintf("Nowhere/Zone_%d", i)) {
			t.Fatalf("Nowhere/Zone_%d accepted", i)
		}
	}
	if len(k.zones) != maxCachedZones {
		t.Errorf("%d names held, want the cap %d", len(k.zones), maxCachedZones)
	}
	if !k.timeZone("Asia/Tokyo") {
		t.Error("a valid zone past the cap is refused")
	}
}

// One checker serves a Client's concurrent senders.
func TestCheckerConcurrent(t *testing.T) {
	k := newChecker(DefaultMaxArrayLength)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				name := []string{"America/New_York", "Europe/Paris", "Bad/Zone"}[(g+i)%3]
				if k.timeZone(name) != (name != "Bad/Zone") {
					t.Errorf("timeZone(%q) wrong", name)
				}
			}
		})
	}
	wg.Wait()
}

// A Client rejects a bad time_zone and accepts a good one as Validate does,
// also once the names are remembered.
func TestClientValidatesTimeZone(t *testing.T) {
	k := newChecker(DefaultMaxArrayLength)
	for range 2 {
		good := &UserAttributes{ExternalID: "u", TimeZone: FieldOf("Europe/Paris")}
		if err := good.validate(k); err != nil {
			t.Errorf("Europe/Paris: %v", err)
		}
		bad := &UserAttributes{ExternalID: "u", TimeZone: FieldOf("Mars/Olympus_Mons")}
		if err := bad.validate(k); err == nil || err.Error() != bad.Validate().Error() {
			t.Errorf("Mars/Olympus_Mons: %v, want %v", err, bad.Validate())
		}
	}
}

// BenchmarkValidateTimeZone validates objects that set time_zone the way a
// Client does (its checker remembers the names) beside the baseline of a
// zone database lookup for each object (UserAttributes.Validate), in the
// same loop, and reports both costs per object and their ratio.
//
//	go test -run '^$' -bench ValidateTimeZone -count 6 ./braze/
func BenchmarkValidateTimeZone(b *testing.B) {
	zones := []string{"America/New_York", "Europe/Paris", "Asia/Tokyo", "Australia/Sydney", "America/Los_Angeles"}
	objs := make([]*UserAttributes, 1000)
	for i := range objs {
		objs[i] = &UserAttributes{ExternalID: fmt.Sprint(i), TimeZone: FieldOf(zones[i%len(zones)])}
	}
	k := newChecker(DefaultMaxArrayLength)
	var client, lookup time.Duration
	for b.Loop() {
		t0 := time.Now()
		for _, a := range objs {
			if err := a.validate(k); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for _, a := range objs {
			if err := a.Validate(); err != nil {
				b.Fatal(err)
			}
		}
		client += t1.Sub(t0)
		lookup += time.Since(t1)
	}
	n := float64(b.N * len(objs))
	b.ReportMetric(float64(client.Nanoseconds())/n, "client-ns/object")
	b.ReportMetric(float64(lookup.Nanoseconds())/n, "lookup-ns/object")
	b.ReportMetric(float64(lookup)/float64(client), "speedup")
}
