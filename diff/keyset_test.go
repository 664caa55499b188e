package diff

import "testing"

func TestKeySet(t *testing.T) {
	var s keySet
	defer s.release()
	if s.has(5) {
		t.Fatal("empty set has 5")
	}
	for i := range uint64(100_000) {
		h := mix64(i + 1)
		if i == 7 {
			h = 0 // stored as 1
		}
		if s.add(h) {
			t.Fatalf("%d reported present before insertion", i)
		}
	}
	for i := range uint64(100_000) {
		h := mix64(i + 1)
		if i == 7 {
			h = 0
		}
		if !s.has(h) || !s.add(h) {
			t.Fatalf("%d lost", i)
		}
	}
	if s.has(mix64(100_001)) {
		t.Error("absent hash found")
	}
	if s.n != 100_000 || 4*s.n > 3*len(s.slots) {
		t.Errorf("n %d, %d slots", s.n, len(s.slots))
	}
}
