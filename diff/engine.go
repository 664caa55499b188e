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
	store Store
	cfg   engineConfig

	mu     sync.Mutex
	busy   map[string]bool
	closed bool
}

// Open opens the persistent state store in the directory path (created if
// needed) and returns an engine on it. Only one process, and one Engine
// in a process, may have the directory open for writing: another gets an
// error matching ErrScopeLocked. A store written by an incompatible version
// of this package is refused with an error matching ErrUnsupportedVersion,
// a damaged one with an error matching ErrCorrupt, and one that lost data
// it had durably written (deleted or truncated files) with an error
// matching ErrStateLost (see WithResetState). Failures of the disk match
// ErrStoreIO, ErrDiskFull or ErrPermission and name the path (see
// StoreError). With ReadOnly, no file is created, changed or removed.
func Open(ctx context.Context, path string, opts ...Option) (*Engine, error) {
	cfg := defaultEngineConfig()
	for _, o := range opts {
		o(&cfg)
	}
	var store Store
	s, err := openPebble(ctx, path, pebbleOptions{
		cacheBytes: cfg.cacheBytes,
		readOnly:   cfg.store.readOnly,
		reset:      cfg.store.reset,
		logger:     cfg.logger,
	})
	switch {
	case errors.Is(err, errNoState):
		// A dry run before the first sync: nothing to read, nothing created.
		cfg.logger.Info("diff: no state store yet; planning read-only against an empty state", "path", path)
		store = NewMemoryStore()
	case err != nil:
		return nil, err
	default:
		store = s
	}
	e, err := NewEngine(ctx, store, opts...)
	if err != nil {
		store.Close()
		return nil, err
	}
	return e, nil
}

// NewEngine returns an engine on store, for example NewMemoryStore() in tests.
// The engine owns the store from then on: Engine.Close closes it.
func NewEngine(ctx context.Context, store Store, opts ...Option) (*Engine, error) {
	cfg := defaultEngineConfig()
	for _, o := range opts {
		o(&cfg)
	}
	g := &guardedStore{s: store, readOnly: cfg.store.readOnly}
	if err := checkVersion(ctx, g); err != nil {
		return nil, err
	}
	return &Engine{store: g, cfg: cfg, busy: make(map[string]bool)}, nil
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
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, fmt.Errorf("diff: engine is closed")
	}
	if e.busy[scope] {
		e.mu.Unlock()
		return nil, fmt.Errorf("%w: scope %q has an open plan", ErrScopeLocked, scope)
	}
	e.busy[scope] = true
	e.mu.Unlock()

	p, err := e.newPlan(ctx, scope, records, opts)
	if err != nil {
		e.release(scope)
		return nil, err
	}
	return p, nil
}

func (e *Engine) release(scope string) {
	e.mu.Lock()
	delete(e.busy, scope)
	e.mu.Unlock()
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
	if err != nil || ok || e.cfg.store.readOnly {
		return id, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
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
