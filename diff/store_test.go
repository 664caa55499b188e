package diff

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestVersionRefused(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryStore()
	store.Apply(ctx, []Op{{Key: metaVersionKey, Value: []byte("ampbraze-diff-state/99")}}, true)
	_, err := NewEngine(ctx, store)
	var ve *VersionError
	if !errors.Is(err, ErrUnsupportedVersion) || !errors.As(err, &ve) || ve.Found != "ampbraze-diff-state/99" {
		t.Errorf("future version: %v", err)
	}

	store = NewMemoryStore()
	store.Apply(ctx, []Op{{Key: []byte("somebody else's key"), Value: []byte("x")}}, true)
	if _, err := NewEngine(ctx, store); !errors.Is(err, ErrUnsupportedVersion) || !strings.Contains(err.Error(), "unversioned") {
		t.Errorf("unversioned data: %v", err)
	}

	// A state value of an unknown format is reported, not misread.
	store = NewMemoryStore()
	e := newTestEngine(t, store)
	run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	store.Apply(ctx, []Op{{Key: userKey(nil, 1, "u1"), Value: []byte{9, 0}}}, true)
	_, errs, _ := run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	if len(errs) != 1 || !errors.Is(errs[0], ErrUnsupportedVersion) {
		t.Errorf("value of version 9: %v", errs)
	}
	store.Apply(ctx, []Op{{Key: userKey(nil, 1, "u1"), Value: []byte{1, 5, 1}}}, true)
	_, errs, _ = run(t, e, "s", recs(rec("u1", "a", "1")), accept)
	if len(errs) != 1 || !errors.Is(errs[0], ErrCorrupt) || !strings.Contains(errs[0].Error(), `"u1"`) {
		t.Errorf("truncated value: %v", errs)
	}
}

// readOnlyMemory is a MemoryStore that says it is read-only (a
// ReadOnlyStore) when ro is set, and counts the Applies that reach it.
type readOnlyMemory struct {
	*MemoryStore
	ro      bool
	applies int
}

func (s *readOnlyMemory) ReadOnly() bool { return s.ro }

func (s *readOnlyMemory) Apply(ctx context.Context, ops []Op, durable bool) error {
	s.applies++
	if s.ro {
		return ErrReadOnly
	}
	return s.MemoryStore.Apply(ctx, ops, durable)
}

// TestRegression_Issue15_ReadOnlyStore: read-only was an engine option
// read by diff.Open; with the store out of diff, an engine learns it from
// the store (ReadOnlyStore). On a store that reports ReadOnly it writes
// nothing: not its format version into an empty store, not a new scope; a
// dry run plans a new scope as empty, and a real plan's writes fail with
// ErrReadOnly. A ReadOnlyStore reporting false is written as any store.
func TestRegression_Issue15_ReadOnlyStore(t *testing.T) {
	ctx := context.Background()
	ro := &readOnlyMemory{MemoryStore: NewMemoryStore(), ro: true}
	e := newTestEngine(t, ro)
	got, _, _ := run(t, e, "new scope", numbered(5, 1), accept, WithDryRun())
	if len(got) != 5 {
		t.Errorf("dry run of a new scope on a read-only store planned %d changes, want 5", len(got))
	}
	if _, ok, err := e.lookupScopeID(ctx, "new scope"); ok || err != nil {
		t.Errorf("a read-only engine created its scope: %v %v", ok, err)
	}
	p, err := e.Plan(ctx, "s", numbered(5, 1))
	if err != nil {
		t.Fatal(err)
	}
	var planErr error
	for ch, err := range p.Changes() {
		if err != nil {
			planErr = err
			break
		}
		if err := p.Ack(ch, nil); err != nil {
			planErr = err
			break
		}
	}
	if planErr == nil {
		planErr = p.Commit(ctx)
	}
	p.Close()
	if !errors.Is(planErr, ErrReadOnly) {
		t.Errorf("a plan that writes, on a read-only store: %v, want ErrReadOnly", planErr)
	}
	if ro.applies != 0 || ro.Len() != 0 {
		t.Errorf("the read-only store got %d Applies and holds %d keys", ro.applies, ro.Len())
	}
	e.Close()

	rw := &readOnlyMemory{MemoryStore: NewMemoryStore()}
	e = newTestEngine(t, rw)
	got, _, _ = run(t, e, "s", numbered(5, 1), accept)
	if len(got) != 5 || rw.applies == 0 {
		t.Errorf("a ReadOnlyStore reporting false: %d changes, %d applies", len(got), rw.applies)
	}
	if got, _, _ := run(t, e, "s", numbered(5, 1), accept); len(got) != 0 {
		t.Errorf("re-sync on a writable ReadOnlyStore planned %d", len(got))
	}
}
