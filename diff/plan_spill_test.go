package diff

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"
)

type textDate struct{ y, m, d int }

func (t textDate) MarshalText() ([]byte, error) {
	return fmt.Appendf(nil, "%04d-%02d-%02d", t.y, t.m, t.d), nil
}

// Every kind of value survives the spill file: what comes back is equal,
// of the same kind, and in the same order.
func TestSpillRoundTrip(t *testing.T) {
	s, err := newSpill()
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	berlin := time.FixedZone("CET", 3600)
	values := []Value{NullValue(), BoolValue(true), BoolValue(false), IntValue(-42), FloatValue(3.25), NumberValue("12.50"), StringValue("Ada"), StringValue(""),
		TimeValue(time.Date(2026, 11, 20, 9, 15, 0, 0, berlin)), TimeValue(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)),
		AnyValue(textDate{1985, 12, 10}), AnyValue([]string{"a", "b"}), AnyValue(map[string]any{"k": int64(1)})}
	var in []Change
	for i := range 50 {
		ch := Change{Key: fmt.Sprintf("u%d", i), Index: int64(i - 1), Delta: Delta(i % 4), overwrites: i%3 == 0,
			state: []byte{1, byte(i)}, fail: []byte{2}, sent: []slot{{id: 1, v: 7}, {id: 2, unknown: true}, {id: 3, rejected: true, prior: true, v: 9}, {id: 4, float: true, v: 1}}}
		if i%2 == 0 {
			ch.orig = []byte{3, 4}
		}
		for j, v := range values {
			ch.Attrs = append(ch.Attrs, Attr{Name: fmt.Sprintf("a%d", j), Value: v})
		}
		in = append(in, ch)
		if err := s.put(ch); err != nil {
			t.Fatal(err)
		}
	}
	p := &Plan{}
	var out []Change
	if err := s.all(p, func(ch Change) bool { out = append(out, ch); return true }); err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("%d changes back, want %d", len(out), len(in))
	}
	for i := range in {
		a, b := in[i], out[i]
		if a.Key != b.Key || a.Index != b.Index || a.Delta != b.Delta || a.overwrites != b.overwrites || b.plan != p ||
			!slices.Equal(a.orig, b.orig) || (a.orig == nil) != (b.orig == nil) || !slices.Equal(a.state, b.state) || !slices.Equal(a.fail, b.fail) || !slices.Equal(a.sent, b.sent) {
			t.Fatalf("change %d: %+v, want %+v", i, b, a)
		}
		for j := range a.Attrs {
			x, y := a.Attrs[j], b.Attrs[j]
			if x.Name != y.Name || x.Value.Kind() != y.Value.Kind() || !x.Value.Equal(y.Value) || fmt.Sprint(x.Value.Any()) != fmt.Sprint(y.Value.Any()) {
				t.Errorf("change %d attr %s: %v (%v), want %v (%v)", i, x.Name, y.Value, y.Value.Kind(), x.Value, x.Value.Kind())
			}
		}
	}
}

// A plan that holds more changes than it keeps in memory spills them, and
// yields exactly what a plan without limits yields.
func TestHeldChangesSpillToDisk(t *testing.T) {
	const n = heldInMemory + 1500
	input := func(v int) func(yield func(Record, error) bool) {
		return func(yield func(Record, error) bool) {
			for i := range n {
				r := rec(fmt.Sprintf("u%05d", i), "tier", fmt.Sprint("t", v), "ltv", json.Number(fmt.Sprint(i, ".50")), "seen", time.Unix(int64(i+v), 0), "dob", textDate{1980, 1, 1 + v})
				if !yield(r, nil) {
					return
				}
			}
		}
	}
	mem := NewMemoryStore()
	e := newTestEngine(t, mem)
	run(t, e, "s", input(1), accept)
	want, _, _ := run(t, e, "s", input(2), nil, WithMode(FullSnapshot), WithDryRun(), WithMaxChanges(NoLimit))
	p, err := e.Plan(context.Background(), "s", input(2), WithMode(FullSnapshot), WithMaxChanges(MaxFraction(1)))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		if p.Progress().Emitted == 1 && len(got) == 0 && p.Progress().Read != n {
			t.Fatalf("a held change was yielded after %d of %d records", p.Progress().Read, n)
		}
		got = append(got, changeString(ch))
		if err := p.Ack(ch, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if len(want) != n || !slices.Equal(got, want) {
		t.Fatalf("%d changes, want %d equal to the dry run's", len(got), len(want))
	}
	again, _, _ := run(t, e, "s", input(2), accept)
	wantChanges(t, again)
}
