package diff

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/cespare/xxhash/v2"
)

// loadStates builds p.states from the scope's state with one sequential
// scan. The table is sized from the key count kept in the store, so it
// does not grow while it is loaded (growing would hold the old and the new
// table at once); a store without the count (written before it was kept)
// has its keys counted by a first scan. The count only sizes the table: if
// it is too small the table grows, if too large memory is wasted. The
// exact number of keys found becomes the plan's running count (p.keyCount).
func (p *Plan) loadStates() error {
	prefix := userKey(nil, p.scopeID, "")
	start := time.Now()
	hint, ok, err := p.storedKeyCount()
	if err != nil {
		return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
	}
	counted := !ok
	if counted {
		hint = 0
		err := p.eng.store.Scan(p.ctx, prefix, func(_, _ []byte) error {
			hint++
			return nil
		})
		if err != nil {
			return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
		}
	}
	t := newStateTable(hint)
	p.states = t
	n, err := p.scanStates(prefix, t)
	if err != nil {
		return fmt.Errorf("diff: reading the state of scope %q: %w", p.scope, err)
	}
	p.mu.Lock()
	p.keyCount = int64(n)
	p.mu.Unlock()
	p.eng.cfg.logger.LogAttrs(p.ctx, slog.LevelDebug, "diff: state fingerprints loaded",
		slog.String("scope", p.scope), slog.Int("keys", n), slog.Int("hint", hint),
		slog.Bool("counted", counted), slog.Duration("took", time.Since(start)))
	return nil
}

// scanStates reads the scope's state in one sequential scan and loads
// each key's hash and fingerprint into t. The scan (and hashing) and the
// table inserts (a cache miss each, at random in a table of up to hundreds
// of MiB) take about the same time, so a second goroutine does the
// inserts, chunk by chunk; it has ended when scanStates returns.
func (p *Plan) scanStates(prefix []byte, t *stateTable) (int, error) {
	type entry struct{ kh, fp uint64 }
	const chunkLen = 4096
	full := make(chan []entry, 4)
	empty := make(chan []entry, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range full {
			for _, e := range c {
				t.load(e.kh, e.fp)
			}
			select {
			case empty <- c[:0]:
			default: // enough spare chunks already
			}
		}
	}()
	chunk := make([]entry, 0, chunkLen)
	n := 0
	err := p.eng.store.Scan(p.ctx, prefix, func(k, v []byte) error {
		kh := xxhash.Sum64(k[len(prefix):])
		if !p.mine(kh) {
			return nil // another partition's key
		}
		chunk = append(chunk, entry{kh, stateFingerprint(v)})
		n++
		if len(chunk) == chunkLen {
			full <- chunk
			select {
			case chunk = <-empty:
			default:
				chunk = make([]entry, 0, chunkLen)
			}
		}
		return nil
	})
	if len(chunk) > 0 {
		full <- chunk
	}
	close(full)
	<-done
	return n, err
}

// storedKeyCount reads the scope's stored key count, if there is a usable one.
func (p *Plan) storedKeyCount() (int, bool, error) {
	v, ok, err := p.eng.store.Get(p.ctx, p.countKey(), nil)
	if err != nil || !ok {
		return 0, false, err
	}
	n, ok := decodeKeyCount(v)
	return n, ok, nil
}
