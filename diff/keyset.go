package diff

// keySet is an open-addressing set of 64-bit key hashes: 8 bytes a slot at
// a load factor of at most 3/4, a fraction of what a map[string]struct{}
// would take for the same keys. Zero marks an empty slot, so the hash 0 is
// stored as 1.
type keySet struct {
	slots []uint64
	n     int
	free  func() // releases slots
}

// release frees the slots; the set is empty afterwards.
func (s *keySet) release() {
	if s.free != nil {
		s.free()
	}
	*s = keySet{}
}

// add inserts h and reports whether it was already present.
func (s *keySet) add(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if 4*(s.n+1) > 3*len(s.slots) {
		s.grow()
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			s.slots[i] = h
			s.n++
			return false
		case h:
			return true
		}
	}
}

func (s *keySet) has(h uint64) bool {
	if h == 0 {
		h = 1
	}
	if len(s.slots) == 0 {
		return false
	}
	mask := uint64(len(s.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case 0:
			return false
		case h:
			return true
		}
	}
}

func (s *keySet) grow() {
	old := s.slots
	size := 1 << 12
	if len(old) > 0 {
		size = 2 * len(old)
	}
	oldFree := s.free
	s.slots, s.free = allocSlots(size)
	s.n = 0
	mask := uint64(size - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for s.slots[i] != 0 {
			i = (i + 1) & mask
		}
		s.slots[i] = h
		s.n++
	}
	if oldFree != nil {
		oldFree()
	}
}
