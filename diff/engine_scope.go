package diff

import (
	"context"
	"encoding/binary"
	"fmt"
)

// ScopeKeys returns how many keys the state of scope holds, as of its last
// committed write: 0 for a scope never written. A program can tell with it
// whether a missing checkpoint or a fresh input directory meets a state
// that has synced users before.
func (e *Engine) ScopeKeys(ctx context.Context, scope string) (int64, error) {
	v, ok, err := e.store.Get(ctx, append([]byte{keyScope}, scope...), nil)
	if err != nil || !ok {
		return 0, err
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("%w: scope %q: bad id", ErrCorrupt, scope)
	}
	id := binary.BigEndian.Uint32(v)
	c, ok, err := e.store.Get(ctx, keyCountKey(id), nil)
	if err != nil || !ok {
		return 0, err
	}
	n, ok := decodeKeyCount(c)
	if !ok {
		return 0, fmt.Errorf("%w: scope %q: bad key count", ErrCorrupt, scope)
	}
	return int64(n), nil
}
