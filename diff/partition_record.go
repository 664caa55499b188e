package diff

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrPartitionMismatch is matched by a *PartitionError.
var ErrPartitionMismatch = errors.New("diff: the plan partitions the scope differently from the plans before it")

// PartitionError reports a plan whose partitioning (WithPartition's n, or
// none) differs from the one the scope was planned with: each partition
// keeps its own key count and plans the removals of its own keys only, so
// plans of one scope with different partitionings would count, and
// remove, the same keys twice or not at all. Nothing was planned or
// written. A value of 0 means unpartitioned.
type PartitionError struct {
	Scope   string
	Stored  int // the scope's partitioning, recorded by its first plan
	Planned int // this plan's
}

func (e *PartitionError) Error() string {
	return fmt.Sprintf("diff: scope %q is planned %s, this plan %s: the plans of one scope must all use the same partitioning; plan it %s, or sync into a new scope",
		e.Scope, partsText(e.Stored), partsText(e.Planned), partsOption(e.Stored))
}

// Is reports whether target is ErrPartitionMismatch.
func (e *PartitionError) Is(target error) bool { return target == ErrPartitionMismatch }

func partsText(n int) string {
	if n == 0 {
		return "without partitions"
	}
	return fmt.Sprintf("in %d partitions", n)
}

func partsOption(n int) string {
	if n == 0 {
		return "without WithPartition"
	}
	return fmt.Sprintf("with WithPartition(i, %d)", n)
}

// partsKey holds the partitioning of a scope (uvarint n, 0 for none),
// recorded durably by the first plan that writes the scope.
func partsKey(scope uint32) []byte {
	k := []byte{keyMeta, 'p', 'a', 'r', 't', 's'}
	return binary.BigEndian.AppendUint32(k, scope)
}

// partCountPrefix is the prefix of the key counts of a scope's partitions
// (see Plan.countKey).
func partCountPrefix(scope uint32) []byte { return append(keyCountKey(scope), 'p') }

// storedParts returns the partitioning of scope id: the recorded one, or
// for a scope written before it was recorded, the one its key counts and
// keys tell; known is false for a scope with no state at all. recorded
// says whether it came from the record.
func (e *Engine) storedParts(ctx context.Context, id uint32) (n int, known, recorded bool, err error) {
	v, ok, err := e.store.Get(ctx, partsKey(id), nil)
	if err != nil {
		return 0, false, false, err
	}
	if ok {
		u, k := binary.Uvarint(v)
		if k <= 0 || k != len(v) || u > 1<<31 {
			return 0, false, false, fmt.Errorf("%w: scope id %d: bad partition count", ErrCorrupt, id)
		}
		return int(u), true, true, nil
	}
	if _, ok, err := e.store.Get(ctx, keyCountKey(id), nil); err != nil || ok {
		return 0, ok, false, err
	}
	prefix := partCountPrefix(id)
	err = e.store.Scan(ctx, prefix, func(k, _ []byte) error {
		if len(k) == len(prefix)+8 {
			n, known = int(binary.BigEndian.Uint32(k[len(prefix)+4:])), true
		}
		return errStopScan
	})
	if err != nil && !errors.Is(err, errStopScan) || known {
		return n, known, false, ignoreStop(err)
	}
	err = e.store.Scan(ctx, userKey(nil, id, ""), func(_, _ []byte) error {
		known = true // keys written before counts were kept: unpartitioned
		return errStopScan
	})
	return 0, known, false, ignoreStop(err)
}

func ignoreStop(err error) error {
	if errors.Is(err, errStopScan) {
		return nil
	}
	return err
}

// checkParts fails with a *PartitionError when the plan's partitioning
// (parts, 0 for none) is not the scope's, and records it for a scope that
// has none recorded, unless write is false (a dry run, a read-only
// store). Workers starting together on a new scope record under the
// store's lock, so the first one's partitioning is the one the others
// are checked against.
func (e *Engine) checkParts(ctx context.Context, scope string, id uint32, parts int, write bool) error {
	if id == 0 {
		return nil // a scope that does not exist (dry run): nothing to differ from
	}
	check := func() (bool, error) {
		n, known, recorded, err := e.storedParts(ctx, id)
		if err != nil {
			return false, err
		}
		if known && n != parts {
			return false, &PartitionError{Scope: scope, Stored: n, Planned: parts}
		}
		return recorded, nil
	}
	recorded, err := check()
	if err != nil || recorded || !write {
		return err
	}
	return e.underSharedLock(ctx, fmt.Sprintf("\x00partitions %d", id), func() error {
		recorded, err := check()
		if err != nil || recorded {
			return err
		}
		return e.store.Apply(ctx, []Op{{Key: partsKey(id), Value: binary.AppendUvarint(nil, uint64(parts))}}, true)
	})
}

// partitionKeys sums the key counts of a scope's partitions, those of its
// recorded partitioning n.
func (e *Engine) partitionKeys(ctx context.Context, id uint32, n int) (int64, error) {
	prefix := partCountPrefix(id)
	var sum int64
	err := e.store.Scan(ctx, prefix, func(k, v []byte) error {
		if len(k) != len(prefix)+8 || !bytes.Equal(k[len(prefix)+4:], binary.BigEndian.AppendUint32(nil, uint32(n))) {
			return nil // another partitioning's count, left by an older version
		}
		c, ok := decodeKeyCount(v)
		if !ok {
			return fmt.Errorf("%w: scope id %d: bad key count of partition %d/%d", ErrCorrupt, id, binary.BigEndian.Uint32(k[len(prefix):]), n)
		}
		sum += int64(c)
		return nil
	})
	return sum, err
}
