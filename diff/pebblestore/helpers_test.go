package pebblestore

import (
	"context"
	"fmt"
	"iter"
	"sort"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// Helpers shared by this package's tests: the engine's API driven the way
// a sync drives it.

// keyUser is the first byte of the engine's per-user state keys (see
// diff's state.go), for tests that write raw keys.
const keyUser = 0x03

// unlimited lifts the plan limits, which these tests of the store do not
// exercise (every input version changes every key).
var unlimited = []diff.PlanOption{diff.WithMaxChanges(diff.NoLimit), diff.WithMaxRemovals(diff.NoLimit)}

func with(opts ...diff.PlanOption) []diff.PlanOption { return append(opts, unlimited...) }

// openEngine opens the store in dir and an engine on it; the store is
// returned too, for the tests that reach into pebble.
func openEngine(dir string, sopts []Option, eopts ...diff.Option) (*diff.Engine, *Store, error) {
	ctx := context.Background()
	s, err := Open(ctx, dir, sopts...)
	if err != nil {
		return nil, nil, err
	}
	e, err := diff.NewEngine(ctx, s, eopts...)
	if err != nil {
		s.Close()
		return nil, nil, err
	}
	return e, s, nil
}

func newTestEngine(t *testing.T, s diff.Store, opts ...diff.Option) *diff.Engine {
	t.Helper()
	e, err := diff.NewEngine(context.Background(), s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func recs(rs ...diff.Record) iter.Seq2[diff.Record, error] {
	return func(yield func(diff.Record, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func rec(key string, kv ...any) diff.Record {
	r := diff.Record{Key: key}
	for i := 0; i+1 < len(kv); i += 2 {
		r.Attrs = append(r.Attrs, diff.Attr{Name: kv[i].(string), Value: diff.AnyValue(kv[i+1])})
	}
	return r
}

func accept(diff.Change) error { return nil }

// run plans input, acknowledges every change with ack and commits; it
// returns the changes rendered "key: a=1 b=x", sorted.
func run(t *testing.T, e *diff.Engine, scope string, input iter.Seq2[diff.Record, error], ack func(diff.Change) error, opts ...diff.PlanOption) []string {
	t.Helper()
	ctx := context.Background()
	p, err := e.Plan(ctx, scope, input, opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var out []string
	for ch, err := range p.Changes() {
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for n, v := range ch.All() {
			parts = append(parts, fmt.Sprintf("%s=%v", n, v))
		}
		sort.Strings(parts)
		s := ch.Key + ":"
		for _, p := range parts {
			s += " " + p
		}
		out = append(out, s)
		if err := p.Ack(ch, ack(ch)); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func wantChanges(t *testing.T, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes:\n got %q\nwant %q", got, want)
	}
}
