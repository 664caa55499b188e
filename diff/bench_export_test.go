package diff

// BenchHasher gives the external sync benchmark (package diff_test, which
// imports pebblestore and so cannot be an internal test) the canonical
// hash of its in-memory baseline, with the encoder the engine uses.
type BenchHasher struct{ enc encoder }

// Hash returns the canonical hash of v.
func (h *BenchHasher) Hash(v Value) (uint64, error) { return h.enc.hash(v) }

// mix64 is a 64-bit finaliser (murmur3's), spreading test keys.
func mix64(x uint64) uint64 {
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	x *= 0xc4ceb9fe1a85ec53
	x ^= x >> 33
	return x
}
