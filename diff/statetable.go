package diff

import (
	"math/bits"

	"github.com/cespare/xxhash/v2"
)

// stateTable is the plan's table of keys when the scope already holds
// state: an open-addressing table of 64-bit key hashes, each with the
// fingerprint of the key's stored state (loaded by one sequential scan
// when Changes starts) and a bit saying whether the input has carried the
// key yet. It serves three purposes with one probe per input record:
// duplicate keys, vanished keys (FullSnapshot) and the fast path that
// skips the store lookup of a record whose would-be state has the stored
// fingerprint. 16 bytes and one bit per slot, sized for a load factor of
// 3/4 (not rounded to a power of two: the slot of a hash is found by a
// multiply, not a mask), kept off the Go heap (allocSlots): about 204 MiB
// for 10 million stored keys.
//
// Fingerprint 0 means "no usable stored state": the key is not in the
// state, or two stored keys share its key hash (then both always take the
// store lookup).
type stateTable struct {
	slots []uint64 // pairs: key hash (0 = empty slot), state fingerprint
	seen  []uint64 // bitmap: slot i carried by the input
	n     int
	free  func()
	// stored counts the keys loaded from the state and storedSeen those
	// of them the input has carried; collided is set when two stored keys
	// share a key hash (then stored undercounts the keys).
	stored, storedSeen int
	collided           bool
	freeSeen           func()
}

// stateFingerprint is the fingerprint of a serialized state value: its
// 64-bit xxhash, never 0.
func stateFingerprint(state []byte) uint64 {
	if h := xxhash.Sum64(state); h != 0 {
		return h
	}
	return 1
}

// newStateTable returns a table sized for n keys without growing.
func newStateTable(n int) *stateTable {
	size := max(4*n/3+1, 1<<12)
	t := &stateTable{}
	t.alloc(size)
	return t
}

func (t *stateTable) alloc(size int) {
	t.slots, t.free = allocSlots(2 * size)
	t.seen, t.freeSeen = allocSlots(size/64 + 1)
	t.n = 0
}

// release frees the table; it is empty afterwards.
func (t *stateTable) release() {
	if t.free != nil {
		t.free()
	}
	if t.freeSeen != nil {
		t.freeSeen()
	}
	*t = stateTable{}
}

// find returns the slot of kh, or the empty slot where it belongs.
func (t *stateTable) find(kh uint64) (int, bool) {
	size := uint64(len(t.slots) / 2)
	i, _ := bits.Mul64(kh, size) // kh scaled to [0, size)
	for {
		switch t.slots[2*i] {
		case 0:
			return int(i), false
		case kh:
			return int(i), true
		}
		if i++; i == size {
			i = 0
		}
	}
}

func (t *stateTable) insertAt(i int, kh, fp uint64) {
	// Sized for 3/4 at load, grown past 7/8: keys new to the state fit in
	// the headroom (a sixth of the stored keys) without a second table.
	if 8*(t.n+1) > 7*(len(t.slots)/2) {
		t.grow()
		i, _ = t.find(kh)
	}
	t.slots[2*i], t.slots[2*i+1] = kh, fp
	t.n++
}

// load records the stored state fingerprint fp of the key hashed kh.
func (t *stateTable) load(kh, fp uint64) {
	kh = nonZero(kh)
	i, ok := t.find(kh)
	if ok {
		t.slots[2*i+1] = 0 // two stored keys share kh: no fast path for either
		t.collided = true
		return
	}
	t.insertAt(i, kh, fp)
	t.stored++
}

// visit marks the key hashed kh as carried by the input; it returns the
// stored state fingerprint (0 if none) and whether the input carried the
// key before.
func (t *stateTable) visit(kh uint64) (fp uint64, dup bool) {
	kh = nonZero(kh)
	i, ok := t.find(kh)
	if !ok {
		t.insertAt(i, kh, 0)
		i, _ = t.find(kh)
	}
	w, bit := i/64, uint64(1)<<(i%64)
	dup = t.seen[w]&bit != 0
	if ok && !dup {
		// A slot found unseen was loaded: slots the input inserts are
		// marked seen at once.
		t.storedSeen++
	}
	t.seen[w] |= bit
	return t.slots[2*i+1], dup
}

// allStoredSeen reports whether the input has carried every stored key
// (up to 64-bit key hash collisions, as has), so that no key vanished.
func (t *stateTable) allStoredSeen() bool {
	return !t.collided && t.storedSeen == t.stored
}

// has reports whether the input carried the key hashed kh.
func (t *stateTable) has(kh uint64) bool {
	i, ok := t.find(nonZero(kh))
	return ok && t.seen[i/64]&(1<<(i%64)) != 0
}

func (t *stateTable) grow() {
	oldSlots, oldSeen, oldFree, oldFreeSeen := t.slots, t.seen, t.free, t.freeSeen
	t.alloc(len(oldSlots)) // twice as many pairs: load 7/16
	for i := range len(oldSlots) / 2 {
		kh := oldSlots[2*i]
		if kh == 0 {
			continue
		}
		j, _ := t.find(kh)
		t.slots[2*j], t.slots[2*j+1] = kh, oldSlots[2*i+1]
		if oldSeen[i/64]&(1<<(i%64)) != 0 {
			t.seen[j/64] |= 1 << (j % 64)
		}
		t.n++
	}
	oldFree()
	oldFreeSeen()
}

func nonZero(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}
