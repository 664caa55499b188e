package currents

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

var dedupeT0 = time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)

func at(hours int) time.Time { return dedupeT0.Add(time.Duration(hours) * time.Hour) }

func uuidN(n int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", n>>16, n)
}

func TestDeduperWindow(t *testing.T) {
	d := NewDeduper(3 * time.Hour)
	if d.Window() != 3*time.Hour {
		t.Fatalf("Window = %v", d.Window())
	}
	a, b, c := uuidN(1), uuidN(2), "not-a-uuid"
	steps := []struct {
		id   string
		hour int
		dup  bool
	}{
		{a, 0, false},
		{a, 0, true},  // same file or same hour
		{b, 1, false}, // another id
		{c, 1, false},
		{a, 3, true},  // 3 hours later: still inside the window
		{c, 4, true},  // recorded at 1, now 4: inside
		{a, 4, false}, // recorded at 0, window is 3: forgotten, recorded again at 4
		{a, 7, true},
		{b, 7, false}, // recorded at 1, forgotten
	}
	for i, s := range steps {
		if got := d.Seen(typSend, s.id, at(s.hour).Add(59*time.Minute)); got != s.dup {
			t.Fatalf("step %d: Seen(%q, hour %d) = %v, want %v", i, s.id, s.hour, got, s.dup)
		}
	}
	st := d.Stats()
	if st.Seen != 9 || st.Duplicates != 4 || st.EvictedEarly != 0 || st.Late != 0 {
		t.Errorf("stats %+v", st)
	}
	// Held: a (hour 4), b (7), and c's hour-1 entry expired at hour 5.
	if st.Held != 2 || st.Expired != 3 {
		t.Errorf("held %d expired %d, want 2 and 3", st.Held, st.Expired)
	}
}

func TestDeduperWindowRounding(t *testing.T) {
	for _, tt := range []struct {
		in, want time.Duration
	}{{0, time.Hour}, {-time.Hour, time.Hour}, {time.Minute, time.Hour}, {time.Hour, time.Hour}, {61 * time.Minute, 2 * time.Hour}, {48 * time.Hour, 48 * time.Hour}} {
		if got := NewDeduper(tt.in).Window(); got != tt.want {
			t.Errorf("NewDeduper(%v).Window() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestDeduperClockPerEventType(t *testing.T) {
	d := NewDeduper(2 * time.Hour)
	// The Source reads all Send hours, then all Open hours from the start.
	for h := range 10 {
		d.Seen(typSend, uuidN(h), at(h))
	}
	for h := range 10 {
		if d.Seen(typOpen, uuidN(1000+h), at(h)) {
			t.Fatalf("hour %d: first Open id reported as duplicate", h)
		}
		if h > 0 && !d.Seen(typOpen, uuidN(1000+h-1), at(h)) {
			t.Fatalf("hour %d: Open id from the previous hour not recognised", h)
		}
	}
	if st := d.Stats(); st.Late != 0 {
		t.Errorf("Late = %d: the Open clock was held back by Send", st.Late)
	}
}

func TestDeduperLate(t *testing.T) {
	d := NewDeduper(2 * time.Hour)
	d.Seen(typSend, "x", at(10))
	if d.Seen(typSend, "old", at(3)) { // outside [8, 10]
		t.Fatal("late id reported as duplicate")
	}
	if !d.Seen(typSend, "old", at(3)) {
		t.Fatal("late id not remembered")
	}
	if !d.Seen(typSend, "old", at(10)) { // kept as if recorded at hour 8
		t.Fatal("late id forgotten too early")
	}
	if d.Seen(typSend, "old", at(11)) {
		t.Fatal("late id kept beyond the window of hour 8")
	}
	if st := d.Stats(); st.Late != 2 {
		t.Errorf("Late = %d", st.Late)
	}
}

func TestDeduperIDForms(t *testing.T) {
	d := NewDeduper(time.Hour)
	lower := "0f8fad5b-d9cb-469f-a165-70867728950e"
	upper := "0F8FAD5B-D9CB-469F-A165-70867728950E"
	for _, id := range []string{lower, upper, "0f8fad5bd9cb469fa16570867728950e", "", "0f8fad5b-d9cb-469f-a165-70867728950g"} {
		if d.Seen(typSend, id, dedupeT0) {
			t.Errorf("%q reported as duplicate of a different id", id)
		}
	}
	for _, id := range []string{lower, upper, ""} {
		if !d.Seen(typSend, id, dedupeT0) {
			t.Errorf("%q not recognised", id)
		}
	}
	if u, ok := parseUUID(lower); !ok || u[0] != 0x0f || u[15] != 0x0e {
		t.Errorf("parseUUID(%q) = %x, %v", lower, u, ok)
	}
}

func TestDeduperMaxIDs(t *testing.T) {
	d := NewDeduper(24*time.Hour, WithMaxIDs(3))
	d.Seen(typSend, uuidN(1), at(0))
	d.Seen(typOpen, "o1", at(1))
	d.Seen(typSend, uuidN(2), at(2))
	d.Seen(typOpen, "o2", at(3)) // cap: the oldest hour (0) goes
	st := d.Stats()
	if st.Held != 3 || st.EvictedEarly != 1 {
		t.Fatalf("stats %+v", st)
	}
	if d.Seen(typSend, uuidN(1), at(3)) {
		t.Error("evicted id still recognised")
	} // re-recorded at 3; now o1 (hour 1) was evicted
	if d.Seen(typOpen, "o1", at(3)) {
		t.Error("o1 should have been evicted second")
	}
	if !d.Seen(typOpen, "o2", at(3)) {
		t.Error("newest id lost")
	}
	if st := d.Stats(); st.Held != 3 || st.EvictedEarly != 3 {
		t.Errorf("stats %+v", st)
	}
}

// TestDeduperMatchesModel compares Deduper with the definition on random
// input: per event type, hours never decrease; an id is a duplicate iff it
// was recorded at hour x and the current hour y has y-x <= window.
func TestDeduperMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for round := range 50 {
		window := 1 + r.IntN(5)
		d := NewDeduper(time.Duration(window)*time.Hour, WithMaxIDs(0))
		types := []string{"a", "b", "c"}
		clock := map[string]int{}
		model := map[string]int{} // id -> hour recorded
		for step := range 2000 {
			typ := types[r.IntN(len(types))]
			var id string
			if r.IntN(2) == 0 {
				id = fmt.Sprintf("%s-%d", typ, r.IntN(40))
			} else {
				id = uuidN(r.IntN(40)<<2 | map[string]int{"a": 0, "b": 1, "c": 2}[typ])
			}
			if r.IntN(20) == 0 { // undo a sighting, as after a rolled-back file
				x, ok := model[id]
				want := ok && clock[typ]-x <= window
				delete(model, id)
				if got := d.Forget(id); got != want {
					t.Fatalf("round %d step %d: Forget(%s) = %v, want %v", round, step, id, got, want)
				}
				continue
			}
			if r.IntN(10) == 0 {
				clock[typ] += r.IntN(window + 2)
			}
			y := clock[typ]
			x, ok := model[id]
			want := ok && y-x <= window
			if !want {
				model[id] = y
			}
			if got := d.Seen(typ, id, at(y).Add(time.Duration(r.IntN(3600))*time.Second)); got != want {
				t.Fatalf("round %d step %d: Seen(%s, %s, hour %d) = %v, want %v (recorded at %d, %v)", round, step, typ, id, y, got, want, x, ok)
			}
		}
		st := d.Stats()
		if st.Late != 0 || st.EvictedEarly != 0 {
			t.Fatalf("stats %+v", st)
		}
		// Held: the model's ids still inside their type's window. A UUID
		// id carries its type's index in its last hex digit.
		held := 0
		for id, x := range model {
			typ := id[:1]
			if len(id) == 36 {
				n, _ := strconv.ParseUint(id[35:], 16, 8)
				typ = types[n&3]
			}
			if clock[typ]-x <= window {
				held++
			}
		}
		if st.Held != held {
			t.Fatalf("round %d: Held %d, model %d", round, st.Held, held)
		}
	}
}

func TestDeduperSeenEvent(t *testing.T) {
	d := NewDeduper(time.Hour)
	k, err := ParseKey(srcKey(typSend, "2025-04-01-17", 1))
	if err != nil {
		t.Fatal(err)
	}
	ke := KeyedEvent{Key: k, Event: srcEvent{typSend, uuidN(7), time.Unix(0, 0)}}
	if d.SeenEvent(ke) || !d.SeenEvent(ke) {
		t.Error("SeenEvent does not record")
	}
	// The queue hour is the clock, not the event's own (1970) time.
	if st := d.Stats(); st.Late != 0 {
		t.Errorf("Late = %d", st.Late)
	}
}

func TestDeduperConcurrent(t *testing.T) {
	d := NewDeduper(2*time.Hour, WithMaxIDs(500))
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for g := range 4 {
		wg.Go(func() {
			n := 0
			for i := range 300 {
				if !d.Seen(typSend, uuidN(i), at(i/100)) {
					n++
				}
				d.Seen(fmt.Sprint(g), "x", at(i/50))
			}
			mu.Lock()
			firsts += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if firsts != 300 {
		t.Errorf("%d first sightings of 300 ids", firsts)
	}
	if st := d.Stats(); st.Held > 500 {
		t.Errorf("Held %d over the cap", st.Held)
	}
}

// BenchmarkDeduper measures Seen on Braze-like ids (lower-case UUID
// strings, one in ten a repeat of the previous id, 15,000 events per queue
// hour, a 24-hour window) beside a baseline: a plain map[string]struct{}
// set, with no window and no bound. The ids are allocated before the timer,
// as a decoder would hand them over. B/id is the heap held per id at the
// end; for the baseline it leaves out the id strings themselves (36 bytes
// plus allocation overhead each), which the set keeps alive and the
// Deduper does not.
//
//	go test -run '^$' -bench Deduper -benchtime 2000000x -count 5 ./currents/
func BenchmarkDeduper(b *testing.B) {
	const perHour = 15_000
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	makeIDs := func(n int, format func(int) string) []string {
		ids := make([]string, n)
		for i := range ids {
			k := i - i/10 // one in ten repeats the previous id
			if i > 0 && k == i-1-(i-1)/10 {
				ids[i] = ids[i-1]
				continue
			}
			ids[i] = format(k * 7919)
		}
		return ids
	}
	b.Run("sdk", func(b *testing.B) {
		ids := makeIDs(b.N, uuidN)
		before := heap()
		d := NewDeduper(24*time.Hour, WithMaxIDs(0))
		b.ReportAllocs()
		b.ResetTimer()
		for i, id := range ids {
			d.Seen(typSend, id, at(i/perHour))
		}
		b.StopTimer()
		held := d.Stats().Held
		b.ReportMetric((float64(heap())-float64(before))/float64(max(held, 1)), "B/id")
		runtime.KeepAlive(d)
		runtime.KeepAlive(ids)
	})
	// Ids that are not lower-case UUIDs are held as strings (the id's own
	// string is kept alive and not counted in B/id).
	b.Run("sdk-other-ids", func(b *testing.B) {
		ids := makeIDs(b.N, func(n int) string { return fmt.Sprintf("EVT-%031d", n) })
		before := heap()
		d := NewDeduper(24*time.Hour, WithMaxIDs(0))
		b.ReportAllocs()
		b.ResetTimer()
		for i, id := range ids {
			d.Seen(typSend, id, at(i/perHour))
		}
		b.StopTimer()
		held := d.Stats().Held
		b.ReportMetric((float64(heap())-float64(before))/float64(max(held, 1)), "B/id")
		runtime.KeepAlive(d)
		runtime.KeepAlive(ids)
	})
	b.Run("baseline", func(b *testing.B) {
		ids := makeIDs(b.N, uuidN)
		before := heap()
		set := make(map[string]struct{})
		b.ReportAllocs()
		b.ResetTimer()
		for _, id := range ids {
			if _, ok := set[id]; !ok {
				set[id] = struct{}{}
			}
		}
		b.StopTimer()
		b.ReportMetric((float64(heap())-float64(before))/float64(max(len(set), 1)), "B/id")
		runtime.KeepAlive(set)
		runtime.KeepAlive(ids)
	})
}

func ExampleDeduper() {
	d := NewDeduper(48 * time.Hour)
	queued := time.Date(2025, 4, 1, 17, 0, 0, 0, time.UTC)
	const id = "0f8fad5b-d9cb-469f-a165-70867728950e"
	fmt.Println(d.Seen("users.messages.email.Send", id, queued))
	// Braze re-processed its queue: the same event, a day later, in another file.
	fmt.Println(d.Seen("users.messages.email.Send", id, queued.Add(24*time.Hour)))
	fmt.Printf("%+v\n", d.Stats())
	// Output:
	// false
	// true
	// {Seen:2 Duplicates:1 Held:1 Late:0 Expired:0 EvictedEarly:0 TornTail:0}
}

func TestDeduperForget(t *testing.T) {
	a, b, c, e := uuidN(1), "b", uuidN(3), "e"
	d := NewDeduper(2 * time.Hour)
	if d.Forget(a) {
		t.Error("Forget of an unknown id reported true")
	}
	d.Seen(typSend, a, at(0))
	if !d.Forget(a) || d.Stats().Held != 0 {
		t.Fatalf("Forget: held %d", d.Stats().Held)
	}
	if d.Seen(typSend, a, at(1)) {
		t.Fatal("forgotten id reported as duplicate")
	}
	// The hour-0 bucket still lists a; expiring it must not remove the
	// sighting recorded at hour 1.
	d.Seen(typSend, e, at(3))
	if !d.Seen(typSend, a, at(3)) {
		t.Fatal("re-recorded id lost when its old hour expired")
	}
	if st := d.Stats(); st.Held != 2 || st.Expired != 0 {
		t.Errorf("stats %+v", st)
	}

	// Early eviction skips what Forget left behind.
	d = NewDeduper(24*time.Hour, WithMaxIDs(2))
	d.Seen(typSend, a, at(0))
	d.Forget(a)
	d.Seen(typSend, b, at(0))
	d.Seen(typSend, c, at(1))
	d.Seen(typSend, e, at(1)) // over the cap: b goes, not the stale a
	if st := d.Stats(); st.Held != 2 || st.EvictedEarly != 1 {
		t.Fatalf("stats %+v", st)
	}
	if !d.Seen(typSend, c, at(1)) || !d.Seen(typSend, e, at(1)) {
		t.Error("live ids evicted")
	}

	// Saved state leaves forgotten ids out.
	d = NewDeduper(time.Hour)
	d.Seen(typSend, a, at(0))
	d.Seen(typSend, b, at(0))
	d.Forget(a)
	d.Forget(b)
	d.Seen(typSend, c, at(0))
	var buf bytes.Buffer
	d.WriteTo(&buf)
	loaded := NewDeduper(time.Hour)
	if _, err := loaded.ReadFrom(&buf); err != nil {
		t.Fatal(err)
	}
	if loaded.Stats().Held != 1 || loaded.Seen(typSend, a, at(0)) || !loaded.Seen(typSend, c, at(0)) {
		t.Errorf("loaded state: %+v", loaded.Stats())
	}
}

func TestDeduperExtremeTimes(t *testing.T) {
	d := NewDeduper(time.Hour)
	for _, tm := range []time.Time{{}, time.Unix(-1<<62, 0), time.Unix(1<<62, 0), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)} {
		d.Seen(typSend, "x-"+tm.String(), tm)
		if !d.Seen(typSend, "x-"+tm.String(), tm) {
			t.Errorf("%v: not recognised", tm)
		}
	}
}
