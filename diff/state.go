package diff

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// The persisted layout. Everything lives under one of these first bytes, so
// a store can hold many scopes and a future layout can sit beside this one.
const (
	keyMeta  = 0x00 // 0x00 "version" -> formatVersion; 0x00 "keys" scope id -> key count
	keyScope = 0x01 // 0x01 scope name -> scope id (4 bytes, big-endian)
	keyAttr  = 0x02 // 0x02 scope id, attribute name -> attribute id (uvarint)
	keyUser  = 0x03 // 0x03 scope id, user key -> state value
	keyNext  = 0x04 // 0x04 "scope" -> next scope id
)

// formatVersion names the persisted layout. A store holding another value
// is refused with a VersionError.
const formatVersion = "ampbraze-diff-state/1"

// stateValueVersion is the first byte of every per-user state value.
const stateValueVersion = 1

// slot is what the state keeps for one attribute of one user: the hash of
// the canonical encoding of the value Braze accepted, or, for attributes
// compared with a tolerance, the float64 bits of the value itself; or
// "unknown" after a failed send, when the destination may or may not have
// applied the change: an unknown slot equals no value, so the next run sends
// the attribute again, or its removal; or "rejected": the destination
// refused the value whose hash (or float bits) v holds, so the next run
// does not send that same value again (it sends any other value as for an
// unknown slot). A rejected slot also says whether the destination may hold
// an earlier value of the attribute (prior): only then is a removal sent
// when the attribute leaves the input. Its v keeps 63 bits of the hash, the
// top bit holding prior.
type slot struct {
	id       uint32
	float    bool
	unknown  bool
	rejected bool
	prior    bool // rejected slots only
	v        uint64
}

// rejectedBits is what a rejected slot keeps of a value's hash or bits.
const rejectedBits = 1<<63 - 1

func appendState(dst []byte, slots []slot) []byte {
	dst = append(dst, stateValueVersion)
	dst = binary.AppendUvarint(dst, uint64(len(slots)))
	for _, s := range slots {
		tag := uint64(s.id) << 2
		switch {
		case s.rejected:
			tag |= 3 // the float and unknown bits never meet otherwise
		case s.float:
			tag |= 1
		case s.unknown:
			tag |= 2
		}
		v := s.v
		if s.rejected {
			v &= rejectedBits
			if s.prior {
				v |= 1 << 63
			}
		}
		dst = binary.AppendUvarint(dst, tag)
		dst = binary.LittleEndian.AppendUint64(dst, v)
	}
	return dst
}

var errBadState = errors.New("malformed state value")

func decodeState(src []byte, slots []slot) ([]slot, error) {
	slots = slots[:0]
	if len(src) == 0 {
		return slots, fmt.Errorf("%w: empty", errBadState)
	}
	if src[0] != stateValueVersion {
		return slots, &VersionError{Found: fmt.Sprintf("state value v%d", src[0]), Supported: fmt.Sprintf("state value v%d", stateValueVersion)}
	}
	src = src[1:]
	n, k := binary.Uvarint(src)
	if k <= 0 || n > uint64(len(src)) {
		return slots, fmt.Errorf("%w: count", errBadState)
	}
	src = src[k:]
	for range n {
		tag, k := binary.Uvarint(src)
		if k <= 0 || len(src) < k+8 || tag>>2 > 1<<32-1 {
			return slots, fmt.Errorf("%w: slot", errBadState)
		}
		s := slot{id: uint32(tag >> 2), v: binary.LittleEndian.Uint64(src[k:])}
		switch tag & 3 {
		case 1:
			s.float = true
		case 2:
			s.unknown = true
		case 3:
			s.rejected, s.prior, s.v = true, s.v>>63 == 1, s.v&rejectedBits
		}
		slots = append(slots, s)
		src = src[k+8:]
	}
	if len(src) != 0 {
		return slots, fmt.Errorf("%w: trailing bytes", errBadState)
	}
	return slots, nil
}

func userKey(dst []byte, scope uint32, key string) []byte {
	dst = append(dst[:0], keyUser)
	dst = binary.BigEndian.AppendUint32(dst, scope)
	return append(dst, key...)
}

func attrKey(scope uint32, name string) []byte {
	k := []byte{keyAttr}
	k = binary.BigEndian.AppendUint32(k, scope)
	return append(k, name...)
}

// keyCountKey holds the number of state keys of a scope (uvarint), written
// in the same atomic batch as the state it counts. It sits outside the
// scope's user-key prefix, so scans of the state never meet it. It only
// sizes the plan's state table: a store written before it existed lacks it
// (the keys are then counted by a scan), and a wrong value costs memory or
// a table growth, never a wrong result.
func keyCountKey(scope uint32) []byte {
	k := []byte{keyMeta, 'k', 'e', 'y', 's'}
	return binary.BigEndian.AppendUint32(k, scope)
}

// maxKeyCountHint bounds a stored key count that is believed: a larger
// (corrupt) value falls back to counting rather than reserving the memory.
const maxKeyCountHint = 1 << 34

func decodeKeyCount(v []byte) (int, bool) {
	n, k := binary.Uvarint(v)
	if k <= 0 || k != len(v) || n > maxKeyCountHint {
		return 0, false
	}
	return int(n), true
}
