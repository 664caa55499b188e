package diff

import (
	"errors"
	"testing"
)

func TestStateRoundTrip(t *testing.T) {
	slots := []slot{{id: 0, v: 1}, {id: 3, float: true, v: 1 << 62}, {id: 7, rejected: true, v: 99}, {id: 1 << 31, unknown: true}}
	b := appendState(nil, slots)
	got, err := decodeState(b, nil)
	if err != nil || len(got) != len(slots) {
		t.Fatalf("decode: %v %v", got, err)
	}
	for i := range slots {
		if got[i] != slots[i] {
			t.Errorf("slot %d: %+v, want %+v", i, got[i], slots[i])
		}
	}
	for _, bad := range [][]byte{nil, {1}, {1, 1, 0}, {1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0}, {1, 0, 0}, {1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0, 0, 0, 0, 0, 0, 0, 0}} {
		if _, err := decodeState(bad, nil); err == nil {
			t.Errorf("decodeState(%v): no error", bad)
		}
	}
	if _, err := decodeState([]byte{2, 0}, nil); !errors.Is(err, ErrUnsupportedVersion) {
		t.Errorf("version 2: %v", err)
	}
}

// FuzzDecodeState: persisted state values are parsed without panics, and
// whatever parses re-encodes to the same bytes (one encoding per state).
func FuzzDecodeState(f *testing.F) {
	f.Add(appendState(nil, []slot{{id: 1, v: 42}, {id: 2, float: true, v: 7}}))
	f.Add(appendState(nil, nil))
	f.Add([]byte{1, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	f.Add([]byte{9})
	f.Fuzz(func(t *testing.T, b []byte) {
		slots, err := decodeState(b, nil)
		if err != nil {
			return
		}
		// Non-minimal varints decode but re-encode shorter; compare by value.
		again, err := decodeState(appendState(nil, slots), nil)
		if err != nil || len(again) != len(slots) {
			t.Fatalf("re-encoding of %x fails: %v", b, err)
		}
		for i := range slots {
			if again[i] != slots[i] {
				t.Fatalf("slot %d changed", i)
			}
		}
	})
}
