package diff

import (
	"context"
	"fmt"
)

// ScopeKeys returns how many keys the state of scope holds, as of its last
// committed write: 0 for a scope never written. For a partitioned scope
// (WithPartition) it is the sum of its partitions' counts, each as of
// that partition's last committed write. A program can tell with it
// whether a missing checkpoint or a fresh input directory meets a state
// that has synced users before.
func (e *Engine) ScopeKeys(ctx context.Context, scope string) (int64, error) {
	id, ok, err := e.lookupScopeID(ctx, scope)
	if err != nil || !ok {
		return 0, err
	}
	parts, _, _, err := e.storedParts(ctx, id)
	if err != nil {
		return 0, err
	}
	if parts > 0 {
		return e.partitionKeys(ctx, id, parts)
	}
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
