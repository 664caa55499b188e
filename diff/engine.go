package diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
)

// Engine plans deltas of keyed attribute sets against the state last
// acknowledged, per scope, in one Store. It is safe for concurrent use;
// each scope has at most one open Plan at a time.
type Engine struct {
	store    Store // a *guardedStore
	readOnly bool  // the store is a ReadOnlyStore that reports ReadOnly
	cfg      engineConfig

	mu     sync.Mutex
	busy   map[string]bool
	unlock map[string]func() error // scope locks of a shared store (ScopeLocker), by scope
	closed bool
}

// NewEngine returns an engine on store: pebblestore.Open's for the
// embedded default (pebblestore.OpenEngine does both), NewMemoryStore() in
// tests, or any other Store. The engine owns the store from then on:
// Engine.Close closes it; if NewEngine fails, the store is the caller's to
// close. A state written by an incompatible version of this package is
// refused with an error matching ErrUnsupportedVersion. A store that
// implements ReadOnlyStore and reports ReadOnly is never written.
func NewEngine(ctx context.Context, store Store, opts ...Option) (*Engine, error) {
	cfg := defaultEngineConfig()
	for _, o := range opts {
		o(&cfg)
	}
	g := &guardedStore{s: store, readOnly: storeReadOnly(store)}
	e := &Engine{store: g, readOnly: g.readOnly, cfg: cfg, busy: make(map[string]bool), unlock: make(map[string]func() error)}
	// Processes sharing a new store (several workers starting at once on
	// an empty database) must not see each other's first write as data of
	// an unknown format: the check and the claim are one step.
	if err := e.underSharedLock(ctx, "\x00format version", func() error { return checkVersion(ctx, g) }); err != nil {
		return nil, err
	}
	return e, nil
}

var metaVersionKey = []byte{keyMeta, 'v', 'e', 'r', 's', 'i', 'o', 'n'}

var errStopScan = errors.New("stop")

func checkVersion(ctx context.Context, store Store) error {
	v, ok, err := store.Get(ctx, metaVersionKey, nil)
	if err != nil {
		return err
	}
	if ok {
		if string(v) != formatVersion {
			return &VersionError{Found: string(v), Supported: formatVersion}
		}
		return nil
	}
	// No version: only an empty store may be claimed, anything else was
	// written by something that is not this package.
	nonEmpty := false
	err = store.Scan(ctx, nil, func(k, _ []byte) error {
		nonEmpty = true
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) {
		return err
	}
	if nonEmpty {
		return &VersionError{Found: "unversioned data", Supported: formatVersion}
	}
	if g, ok := store.(*guardedStore); ok && g.readOnly {
		return nil // an empty state read-only: nothing to claim
	}
	return store.Apply(ctx, []Op{{Key: metaVersionKey, Value: []byte(formatVersion)}}, true)
}

// Close closes the store, once the store calls in flight have returned.
// Plans still open are abandoned: their acknowledgements not yet committed
// are lost and planned again next run, and their Ack, Commit and Changes
// fail with an error matching ErrClosed.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.mu.Unlock()
	return e.store.Close()
}

// Plan starts planning records against the state of scope. The plan holds
// the scope until Commit or Close; a second Plan on the same scope gets an
// error matching ErrScopeLocked. ctx governs the whole plan, including
// reading the records while Changes is iterated.
func (e *Engine) Plan(ctx context.Context, scope string, records iter.Seq2[Record, error], opts ...PlanOption) (*Plan, error) {
	if scope == "" || strings.IndexByte(scope, 0) >= 0 {
		return nil, fmt.Errorf("diff: invalid scope name %q", scope)
	}
	var pc planConfig
	for _, o := range opts {
		o(&pc)
	}
	lockName, err := pc.lockName(scope)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("diff: %w", ErrClosed)
	}
	if e.busy[lockName] {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: scope %q has an open plan", ErrScopeLocked, lockName)
	}
	e.busy[lockName] = true
	e.mu.Unlock()

	// A store shared by several processes locks the scope across them too,
	// for the plan's life.
	if l, ok := e.store.(*guardedStore).s.(ScopeLocker); ok && !e.readOnly {
		unlock, err := l.LockScope(ctx, lockName)
		if err != nil {
			e.release(lockName)
			return nil, fmt.Errorf("diff: scope %q: %w", lockName, err)
		}
		e.mu.Lock()
		e.unlock[lockName] = unlock
		e.mu.Unlock()
	}

	p, err := e.newPlan(ctx, scope, records, opts)
	if err != nil {
		e.release(lockName)
		return nil, err
	}
	p.lockName = lockName
	return p, nil
}

func (e *Engine) release(scope string) {
	e.mu.Lock()
	unlock := e.unlock[scope]
	delete(e.unlock, scope)
	delete(e.busy, scope)
	e.mu.Unlock()
	if unlock != nil {
		if err := unlock(); err != nil {
			// Another process may have planned the scope meanwhile; what
			// this plan wrote is still only what the destination accepted.
			e.cfg.logger.Warn("diff: the scope lock was lost during the plan", "scope", scope, "err", err)
		}
	}
}

// lookupScopeID returns the id of scope, and false if the scope has none
// yet. It never writes.
func (e *Engine) lookupScopeID(ctx context.Context, scope string) (id uint32, ok bool, err error) {
	v, ok, err := e.store.Get(ctx, append([]byte{keyScope}, scope...), nil)
	if err != nil || !ok {
		return 0, false, err
	}
	if len(v) != 4 {
		return 0, false, fmt.Errorf("%w: scope %q: bad id", ErrCorrupt, scope)
	}
	return binary.BigEndian.Uint32(v), true, nil
}

// scopeID returns the id of scope, allocating one durably if new. On a
// read-only engine a new scope is not created: its id is 0, which no scope
// has (ids start at 1), so the scope reads as empty.
func (e *Engine) scopeID(ctx context.Context, scope string) (uint32, error) {
	id, ok, err := e.lookupScopeID(ctx, scope)
	if err != nil || ok || e.readOnly {
		return id, err
	}
	// Another process sharing the store may allocate a scope at the same
	// moment: allocate under the store's lock, looking again inside it.
	err = e.underSharedLock(ctx, "\x00scope ids", func() error {
		var found bool
		if id, found, err = e.lookupScopeID(ctx, scope); err != nil || found {
			return err
		}
		id, err = e.allocScopeID(ctx, scope)
		return err
	})
	return id, err
}

// allocScopeID gives scope the next free id, durably.
func (e *Engine) allocScopeID(ctx context.Context, scope string) (uint32, error) {
	var id uint32
	key := append([]byte{keyScope}, scope...)
	nextKey := []byte{keyNext, 's', 'c', 'o', 'p', 'e'}
	nv, ok, err := e.store.Get(ctx, nextKey, nil)
	if err != nil {
		return 0, err
	}
	id = 1
	if ok {
		if len(nv) != 4 {
			return 0, fmt.Errorf("%w: bad next scope id", ErrCorrupt)
		}
		id = binary.BigEndian.Uint32(nv)
	}
	idb := binary.BigEndian.AppendUint32(nil, id)
	next := binary.BigEndian.AppendUint32(nil, id+1)
	if err := e.store.Apply(ctx, []Op{{Key: key, Value: idb}, {Key: nextKey, Value: next}}, true); err != nil {
		return 0, err
	}
	return id, nil
}

// loadNames reads the attribute dictionary of a scope.
func (e *Engine) loadNames(ctx context.Context, scope uint32) ([]string, map[string]uint32, error) {
	prefix := attrKey(scope, "")
	var names []string
	ids := make(map[string]uint32)
	err := e.store.Scan(ctx, prefix, func(k, v []byte) error {
		id, n := binary.Uvarint(v)
		if n <= 0 || n != len(v) || id > 1<<31 {
			return fmt.Errorf("%w: attribute %q: bad id", ErrCorrupt, k[len(prefix):])
		}
		name := string(bytes.Clone(k[len(prefix):]))
		for uint64(len(names)) <= id {
			names = append(names, "")
		}
		if names[id] != "" {
			return fmt.Errorf("%w: attribute id %d used twice", ErrCorrupt, id)
		}
		names[id] = name
		ids[name] = uint32(id)
		return nil
	})
	return names, ids, err
}
