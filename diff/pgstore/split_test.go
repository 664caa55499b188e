package pgstore

import (
	"fmt"
	"slices"
	"testing"

	"github.com/ampbraze/ampbraze/diff"
)

// splitOps: the last op of a key wins; puts hinted Absent go to the COPY
// into the table only when there are at least minNew of them (and only
// when the key's last op is such a put); everything comes out in key order.
func TestSplitOps(t *testing.T) {
	ops := []diff.Op{
		{Key: []byte("c"), Value: []byte("1"), Absent: true},
		{Key: []byte("a"), Value: []byte("1"), Absent: true},
		{Key: []byte("b"), Value: []byte("old"), Absent: true},
		{Key: []byte("b"), Value: []byte("new")}, // not hinted: an upsert
		{Key: []byte("d"), Value: []byte("x"), Absent: true},
		{Key: []byte("d"), Delete: true},
		{Key: []byte("e"), Value: nil, Absent: true},
	}
	str := func(bs [][]byte) string { return fmt.Sprintf("%q", bs) }
	w := splitOps(ops, 3)
	if got := str(w.newK); got != `["a" "c" "e"]` {
		t.Errorf("inserted keys %s", got)
	}
	if w.newV[2] == nil {
		t.Error("a nil value is copied as NULL")
	}
	if got := str(w.putK) + str(w.putV); got != `["b"]["new"]` {
		t.Errorf("upserts %s", got)
	}
	if got := str(w.del); got != `["d"]` {
		t.Errorf("deletes %s", got)
	}
	w = splitOps(ops, 4) // too few hinted puts for a COPY of their own
	if len(w.newK) != 0 || !slices.EqualFunc(w.putK, [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("e")}, slices.Equal) {
		t.Errorf("below minNew: inserts %s, upserts %s", str(w.newK), str(w.putK))
	}
}
