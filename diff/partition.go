package diff

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// WithPartition makes the plan handle only partition i of n of the keys
// (by a hash of the key), so that n processes can share one scope: each
// plans, sends and records its own keys, and in FullSnapshot mode removes
// only its own vanished keys. Every worker reads the whole input (the
// other partitions' records are skipped unread by the comparison) and
// keeps its own key count and limits. Every plan of a scope must use the
// same n, or none: the first plan that writes the scope records its
// partitioning, and a later plan with another n, or without WithPartition
// (or with it, on a scope planned without), fails at Engine.Plan with a
// *PartitionError (ErrPartitionMismatch). On a store shared between processes (a ScopeLocker, such as
// diff/pgstore) each partition is locked for the plan's life, and new
// attribute names and scopes are registered under a lock of the store, so
// that two workers never give one id to two names.
func WithPartition(i, n int) PlanOption {
	return func(c *planConfig) { c.part, c.parts = i, n }
}

// partitionName is the name a partitioned plan locks: the scope, and its
// partition.
func (c *planConfig) lockName(scope string) (string, error) {
	if c.parts == 0 {
		return scope, nil
	}
	if c.parts < 0 || c.part < 0 || c.part >= c.parts {
		return "", fmt.Errorf("diff: WithPartition(%d, %d): want 0 <= i < n", c.part, c.parts)
	}
	return fmt.Sprintf("%s#%d/%d", scope, c.part, c.parts), nil
}

// mine reports whether the key hashed kh belongs to the plan's partition.
func (p *Plan) mine(kh uint64) bool {
	return p.cfg.parts == 0 || kh%uint64(p.cfg.parts) == uint64(p.cfg.part)
}

// countKey is where the plan's key count lives: the scope's, or its
// partition's.
func (p *Plan) countKey() []byte {
	k := keyCountKey(p.scopeID)
	if p.cfg.parts == 0 {
		return k
	}
	k = append(k, 'p')
	k = binary.BigEndian.AppendUint32(k, uint32(p.cfg.part))
	return binary.BigEndian.AppendUint32(k, uint32(p.cfg.parts))
}

// sharedLockWait bounds how long a registration waits for the store's
// lock that another process holds (it is held for milliseconds).
const sharedLockWait = 30 * time.Second

// underSharedLock runs fn under the store's lock of name when the store is
// shared between processes (a ScopeLocker), and under the engine's own
// lock otherwise.
func (e *Engine) underSharedLock(ctx context.Context, name string, fn func() error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.store.(*guardedStore).s.(ScopeLocker)
	if !ok || e.readOnly {
		return fn()
	}
	deadline := time.Now().Add(sharedLockWait)
	wait := 5 * time.Millisecond
	for {
		unlock, err := l.LockScope(ctx, name)
		if err == nil {
			ferr := fn()
			if uerr := unlock(); uerr != nil && ferr == nil {
				ferr = fmt.Errorf("diff: the store's lock %q was lost while it was held: %w", name, uerr)
			}
			return ferr
		}
		if !errors.Is(err, ErrScopeLocked) || time.Now().After(deadline) {
			return fmt.Errorf("diff: taking the store's lock %q: %w", name, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// registerName gives the new attribute name an id, durably and at once,
// under the store's lock of the scope's dictionary, taking the ids other
// workers registered meanwhile: partitioned plans of one scope run at the
// same time, and two of them must never give one id to two names. p.dictMu
// must be held.
func (p *Plan) registerName(name string) (uint32, error) {
	var id uint32
	err := p.eng.underSharedLock(p.ctx, fmt.Sprintf("\x00dictionary %d", p.scopeID), func() error {
		names, ids, err := p.eng.loadNames(p.ctx, p.scopeID)
		if err != nil {
			return err
		}
		// Take what the store holds (it includes what this plan wrote).
		for i, n := range names {
			if n == "" {
				continue
			}
			for len(p.names) <= i {
				p.names = append(p.names, "")
			}
			p.names[i], p.ids[n] = n, uint32(i)
		}
		if known, ok := ids[name]; ok {
			id = known
			return nil
		}
		id = uint32(max(len(names), len(p.names)))
		if err := p.eng.store.Apply(context.WithoutCancel(p.ctx), []Op{{Key: attrKey(p.scopeID, name), Value: binary.AppendUvarint(nil, uint64(id))}}, true); err != nil {
			return err
		}
		for len(p.names) <= int(id) {
			p.names = append(p.names, "")
		}
		p.names[id], p.ids[name] = name, id
		return nil
	})
	return id, err
}
