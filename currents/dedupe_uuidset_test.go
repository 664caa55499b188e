package currents

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// The table agrees with a map under random adds and deletes, through
// growing and shrinking, with ids that share most of their bytes (as
// sequential ids do) and random ones.
func TestUUIDSetMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := newUUIDSet()
	model := map[[16]byte]int32{}
	key := func() [16]byte {
		var u [16]byte
		if rng.IntN(2) == 0 {
			u[15] = byte(rng.IntN(256))
			u[14] = byte(rng.IntN(64))
		} else {
			for i := range u {
				u[i] = byte(rng.IntN(256))
			}
		}
		return u
	}
	for step := range 200_000 {
		u := key()
		switch op := rng.IntN(10); {
		case op < 6 || step < 50_000:
			h := int32(rng.IntN(2*maxHour+1) - maxHour)
			_, had := model[u]
			if got := s.add(u, h); got != had {
				t.Fatalf("step %d: add reported held %v, model %v", step, got, had)
			}
			if !had {
				model[u] = h
			}
		default:
			_, had := model[u]
			if got := s.del(u); got != had {
				t.Fatalf("step %d: del reported %v, model %v", step, got, had)
			}
			delete(model, u)
		}
		if s.len() != len(model) {
			t.Fatalf("step %d: len %d, model %d", step, s.len(), len(model))
		}
	}
	for u, h := range model {
		if got, ok := s.get(u); !ok || got != h {
			t.Fatalf("get: %d, %v; want %d", got, ok, h)
		}
	}
	for u := range model {
		s.del(u)
	}
	for i := range s.tables {
		if tb := &s.tables[i]; tb.n != 0 || len(tb.slots) != uuidTableMin {
			t.Fatalf("emptied: table %d holds %d in %d slots", i, tb.n, len(tb.slots))
		}
	}
	if s.len() != 0 {
		t.Errorf("emptied: len %d", s.len())
	}
}

// Ids that differ only in a few bytes (as Braze's do not, but synthetic
// ones do) spread over the table: a weak hash once put 300,000 such ids
// 275 slots from home on average, and made the export slower than the map
// it replaced.
func TestUUIDSetSpreadsSequentialIDs(t *testing.T) {
	s := newUUIDSet()
	for i := range 300 {
		for j := range 1000 {
			u, ok := parseUUID(fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j))
			if !ok {
				t.Fatal("not a UUID")
			}
			s.add(u, 1)
		}
	}
	total := 0
	for i := range s.tables {
		tb := &s.tables[i]
		mask := uint64(len(tb.slots) - 1)
		for k := range tb.slots {
			if tb.slots[k].tag != 0 {
				_, h := splitHash(&tb.slots[k].u)
				total += int((uint64(k) - tb.home(h)) & mask)
			}
		}
	}
	if avg := float64(total) / float64(s.len()); avg > 2 {
		t.Errorf("ids sit %.1f slots from home on average", avg)
	}
}

// SeenBatch answers as Seen called for each id in turn: duplicates of
// earlier calls, of ids earlier in the batch, UUIDs and other ids alike,
// and counts them the same.
func TestDeduperSeenBatch(t *testing.T) {
	one := NewDeduper(2*time.Hour, WithMaxIDs(0))
	batch := NewDeduper(2*time.Hour, WithMaxIDs(0))
	rng := rand.New(rand.NewPCG(3, 4))
	dup := make([]bool, 64)
	for hour := range 8 {
		ids := make([]string, 64)
		for i := range ids {
			n := rng.IntN(300)
			if n%3 == 0 {
				ids[i] = fmt.Sprintf("other-%d", n)
			} else {
				ids[i] = uuidN(n)
			}
		}
		n := batch.SeenBatch(typSend, ids, at(hour), dup)
		want := 0
		for i, id := range ids {
			d := one.Seen(typSend, id, at(hour))
			if d != dup[i] {
				t.Fatalf("hour %d, id %d (%s): batch says %v, Seen %v", hour, i, id, dup[i], d)
			}
			if d {
				want++
			}
		}
		if n != want {
			t.Errorf("hour %d: %d duplicates, want %d", hour, n, want)
		}
	}
	if one.Stats() != batch.Stats() {
		t.Errorf("stats %+v, want %+v", batch.Stats(), one.Stats())
	}
}
