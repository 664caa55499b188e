package currents

import (
	"encoding/binary"
	"math/bits"
)

// uuidSet maps UUID ids to the hour that holds them: 256 open-addressing
// hash tables with linear probing, 20 bytes a slot, chosen by the hash's
// top byte.
//
// It replaced a map[[16]byte]int32 in the Deduper, which cost, per new id,
// a lookup and then an insertion (two hashes and two probes, the first a
// cache miss on a table of millions of ids): in currents-export's profile
// the map was the export's largest cost after decoding. Here Seen finds
// the id or its empty slot in one probe sequence. Each table grows on its
// own, so a resize moves 1/256 of the ids within memory the cache holds,
// not the whole set at once. Deletion shifts the following entries back
// (no tombstones), so lookups do not slow down as ids expire.
type uuidSet struct {
	tables [256]uuidTable
	n      int
}

type uuidTable struct {
	slots []uuidSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

// uuidSlot is one entry; tag 0 marks an empty slot, otherwise tag is the
// hour offset by hourBias.
type uuidSlot struct {
	u   [16]byte
	tag uint32
}

// hourBias makes every hour a Deduper uses (within ±maxHour) a positive
// tag.
const hourBias = maxHour + 1

// uuidTableMin is a table's smallest size (a power of two).
const uuidTableMin = 16

func newUUIDSet() *uuidSet {
	s := &uuidSet{}
	for i := range s.tables {
		s.tables[i].resize(uuidTableMin)
	}
	return s
}

func (s *uuidSet) len() int { return s.n }

// uuidHash mixes both halves of u: ids need not be random (synthetic ones
// differ in a few bytes).
func uuidHash(u *[16]byte) uint64 {
	a := binary.LittleEndian.Uint64(u[:8])
	b := binary.LittleEndian.Uint64(u[8:])
	return fmix64(fmix64(a) ^ b)
}

// fmix64 is MurmurHash3's finaliser: every input bit affects every output
// bit.
func fmix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	return x ^ x>>33
}

// table returns u's table and its hash bits within the table.
func (s *uuidSet) table(u *[16]byte) (*uuidTable, uint64) {
	h := uuidHash(u)
	return &s.tables[h>>56], h << 8
}

// get returns the hour holding u.
func (s *uuidSet) get(u [16]byte) (int32, bool) {
	t, h := s.table(&u)
	i, ok := t.find(&u, h)
	if !ok {
		return 0, false
	}
	return int32(int64(t.slots[i].tag) - hourBias), true
}

// add records u at hour unless it is held; it reports whether it was.
func (s *uuidSet) add(u [16]byte, hour int32) (held bool) {
	t, h := s.table(&u)
	i, ok := t.find(&u, h)
	if ok {
		return true
	}
	t.slots[i] = uuidSlot{u: u, tag: uint32(int64(hour) + hourBias)}
	t.n++
	s.n++
	if t.n*4 > len(t.slots)*3 {
		t.resize(len(t.slots) * 2)
	}
	return false
}

// del removes u and reports whether it was held.
func (s *uuidSet) del(u [16]byte) bool {
	t, h := s.table(&u)
	if !t.del(&u, h) {
		return false
	}
	s.n--
	return true
}

func (t *uuidTable) home(h uint64) uint64 { return h >> t.shift }

// find returns the slot of u (whose hash bits are h), or the empty slot
// where it would go.
func (t *uuidTable) find(u *[16]byte, h uint64) (i uint64, found bool) {
	mask := uint64(len(t.slots) - 1)
	for i = t.home(h); ; i = (i + 1) & mask {
		sl := &t.slots[i]
		if sl.tag == 0 {
			return i, false
		}
		if sl.u == *u {
			return i, true
		}
	}
}

func (t *uuidTable) del(u *[16]byte, h uint64) bool {
	i, ok := t.find(u, h)
	if !ok {
		return false
	}
	// Backward-shift deletion: move each following entry of the run into
	// the hole when its home slot is not between the hole and it.
	mask := uint64(len(t.slots) - 1)
	for j := (i + 1) & mask; t.slots[j].tag != 0; j = (j + 1) & mask {
		_, hj := splitHash(&t.slots[j].u)
		if home := t.home(hj); (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = uuidSlot{}
	t.n--
	if len(t.slots) > uuidTableMin && t.n*8 < len(t.slots) {
		t.resize(len(t.slots) / 2)
	}
	return true
}

// splitHash returns u's table number and its hash bits within the table.
func splitHash(u *[16]byte) (int, uint64) {
	h := uuidHash(u)
	return int(h >> 56), h << 8
}

func (t *uuidTable) resize(n int) {
	old := t.slots
	t.slots = make([]uuidSlot, n)
	t.shift = uint(64 - bits.TrailingZeros(uint(n)))
	for k := range old {
		if old[k].tag != 0 {
			_, h := splitHash(&old[k].u)
			i, _ := t.find(&old[k].u, h)
			t.slots[i] = old[k]
		}
	}
}
