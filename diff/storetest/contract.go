package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ampbraze/ampbraze/diff"
)

// A contract check exercises one promise of diff.Store on an empty store
// and returns what it found broken, so the suite's own tests can show
// that each check fails on a store that breaks its promise.
type contractCheck struct {
	name  string
	check func(ctx context.Context, s diff.Store) error
}

var contractChecks = []contractCheck{
	{"GetMissing", checkGetMissing},
	{"ApplyGet", checkApplyGet},
	{"BatchOrder", checkBatchOrder},
	{"LargeBatch", checkLargeBatch},
	{"AbsentHintWrong", checkAbsentHintWrong},
	{"ApplyCanceled", checkApplyCanceled},
	{"ScanOrderAndPrefix", checkScanOrder},
	{"ScanStopsOnError", checkScanStops},
	{"ScanSnapshot", checkScanSnapshot},
	{"ScanCanceled", checkScanCanceled},
	{"Concurrent", checkConcurrent},
}

// put is a write op.
func put(k, v string) diff.Op { return diff.Op{Key: []byte(k), Value: []byte(v)} }

// del is a delete op.
func del(k string) diff.Op { return diff.Op{Key: []byte(k), Delete: true} }

// wantValue checks that key holds value (or is absent, when absent).
func wantValue(ctx context.Context, s diff.Store, key, value string, absent bool) error {
	v, ok, err := s.Get(ctx, []byte(key), nil)
	switch {
	case err != nil:
		return fmt.Errorf("storetest: Get(%q): %w", key, err)
	case absent && ok:
		return fmt.Errorf("storetest: Get(%q) = %q, want absent", key, v)
	case !absent && !ok:
		return fmt.Errorf("storetest: Get(%q): absent, want %q", key, value)
	case !absent && string(v) != value:
		return fmt.Errorf("storetest: Get(%q) = %q, want %q", key, v, value)
	}
	return nil
}

// scanAll returns the keys and values under prefix, in the order Scan
// gave them.
func scanAll(ctx context.Context, s diff.Store, prefix []byte) (keys, values []string, err error) {
	err = s.Scan(ctx, prefix, func(k, v []byte) error {
		keys = append(keys, string(k))
		values = append(values, string(v))
		return nil
	})
	return keys, values, err
}

// checkGetMissing: an absent key is (nil-length, false, nil), and the
// value is appended to dst[:0].
func checkGetMissing(ctx context.Context, s diff.Store) error {
	dst := []byte("garbage")
	v, ok, err := s.Get(ctx, []byte("\x03missing"), dst)
	if err != nil || ok || len(v) != 0 {
		return fmt.Errorf("storetest: Get of an absent key = %q, %v, %v; want empty, false, nil", v, ok, err)
	}
	if err := s.Apply(ctx, []diff.Op{put("\x03k", "value")}, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	buf := make([]byte, 0, 64)
	v, ok, err = s.Get(ctx, []byte("\x03k"), append(buf, "old"...))
	if err != nil || !ok || string(v) != "value" {
		return fmt.Errorf("storetest: Get into a non-empty dst = %q, %v, %v; want \"value\", true, nil", v, ok, err)
	}
	if &v[0] != &buf[:1][0] {
		return errors.New("storetest: Get did not append to dst[:0] although dst had room")
	}
	return nil
}

// checkApplyGet: puts, overwrites, deletes, empty values and binary keys
// and values read back as written.
func checkApplyGet(ctx context.Context, s diff.Store) error {
	bin := "\x03\x00\xff\x00k"
	binVal := "\x00\xff\x01\x00"
	if err := s.Apply(ctx, []diff.Op{put("\x03a", "1"), put("\x03b", "2"), put("\x03empty", ""), put(bin, binVal), put("\x03gone", "x")}, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	if err := s.Apply(ctx, []diff.Op{put("\x03a", "one"), del("\x03gone"), del("\x03never")}, false); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	for _, c := range []struct {
		k, v   string
		absent bool
	}{{"\x03a", "one", false}, {"\x03b", "2", false}, {"\x03empty", "", false}, {bin, binVal, false}, {"\x03gone", "", true}, {"\x03never", "", true}} {
		if err := wantValue(ctx, s, c.k, c.v, c.absent); err != nil {
			return err
		}
	}
	return nil
}

// checkBatchOrder: the ops of one batch apply in order, so a later op on
// the same key wins (the engine may write a key twice in one batch).
func checkBatchOrder(ctx context.Context, s diff.Store) error {
	if err := s.Apply(ctx, []diff.Op{put("\x03x", "old")}, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	ops := []diff.Op{
		put("\x03k", "1"), put("\x03k", "2"), // put twice: the second wins
		put("\x03d", "1"), del("\x03d"), // put then delete: absent
		del("\x03x"), put("\x03x", "new"), // delete then put: present
	}
	if err := s.Apply(ctx, ops, true); err != nil {
		return fmt.Errorf("storetest: Apply of a batch writing keys twice: %w", err)
	}
	for _, c := range []struct {
		k, v   string
		absent bool
	}{{"\x03k", "2", false}, {"\x03d", "", true}, {"\x03x", "new", false}} {
		if err := wantValue(ctx, s, c.k, c.v, c.absent); err != nil {
			return fmt.Errorf("after one batch: %w", err)
		}
	}
	return nil
}

// checkLargeBatch: a batch of 10,000 ops (an engine's acknowledgement
// batches reach thousands) is applied whole.
func checkLargeBatch(ctx context.Context, s diff.Store) error {
	const n = 10_000
	ops := make([]diff.Op, n)
	for i := range ops {
		ops[i] = put(fmt.Sprintf("\x03u%06d", i), fmt.Sprintf("v%d", i))
	}
	if err := s.Apply(ctx, ops, true); err != nil {
		return fmt.Errorf("storetest: Apply of %d ops: %w", n, err)
	}
	keys, values, err := scanAll(ctx, s, []byte("\x03u"))
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if len(keys) != n {
		return fmt.Errorf("after one batch of %d puts, Scan sees %d keys", n, len(keys))
	}
	for i := range keys {
		if keys[i] != string(ops[i].Key) || values[i] != string(ops[i].Value) {
			return fmt.Errorf("key %d: %q=%q, want %q=%q", i, keys[i], values[i], ops[i].Key, ops[i].Value)
		}
	}
	return nil
}

// checkAbsentHintWrong: puts hinted diff.Op.Absent (many, so that a
// store's bulk path for them runs) write their values, also the one whose
// key did hold a value, and in a batch that deletes and rewrites keys too.
func checkAbsentHintWrong(ctx context.Context, s diff.Store) error {
	if err := s.Apply(ctx, []diff.Op{put("\x03u000100", "old"), put("\x03gone", "x")}, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	const n = 1000
	ops := []diff.Op{del("\x03gone")}
	for i := range n {
		op := put(fmt.Sprintf("\x03u%06d", i), fmt.Sprintf("v%d", i))
		op.Absent = true
		ops = append(ops, op)
	}
	ops = append(ops, put("\x03u000007", "rewritten"))
	if err := s.Apply(ctx, ops, true); err != nil {
		return fmt.Errorf("storetest: Apply of %d puts hinted Absent, one of an existing key: %w", n, err)
	}
	keys, values, err := scanAll(ctx, s, []byte("\x03"))
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if len(keys) != n {
		return fmt.Errorf("after %d puts hinted Absent and a delete, Scan sees %d keys, want %d", n, len(keys), n)
	}
	for i := range keys {
		want := fmt.Sprintf("v%d", i)
		if i == 7 {
			want = "rewritten"
		}
		if keys[i] != fmt.Sprintf("\x03u%06d", i) || values[i] != want {
			return fmt.Errorf("key %d: %q=%q, want %q", i, keys[i], values[i], want)
		}
	}
	return nil
}

// checkApplyCanceled: Apply on a cancelled context fails with the
// context's error and writes nothing of the batch.
func checkApplyCanceled(ctx context.Context, s diff.Store) error {
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := s.Apply(cctx, []diff.Op{put("\x03a", "1"), put("\x03b", "2")}, true)
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("storetest: Apply on a cancelled context: %v, want an error matching context.Canceled", err)
	}
	keys, _, err := scanAll(ctx, s, nil)
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if len(keys) != 0 {
		return fmt.Errorf("a failed Apply wrote %q", keys)
	}
	return nil
}

// checkScanOrder: Scan yields exactly the keys with the prefix, in
// ascending byte order, whatever order they were written in; a prefix
// that ends in 0xff bytes, a prefix that is itself a key, and the nil
// prefix (every key) included.
func checkScanOrder(ctx context.Context, s diff.Store) error {
	all := []string{
		"\x00version", "\x01scope", "\x02\x00\x00\x00\x01a",
		"\x03", "\x03\x00", "\x03\x00\x00", "\x03\x00\x01",
		"\x03\x01", "\x03\x01\xff", "\x03\x01\xff\x00", "\x03\x01\xff\xff", "\x03\x01\xff\xff\x01",
		"\x03\x02", "\x03a", "\x03ab", "\x03b", "\x03\x7f", "\x03\x80", "\x03\xfe", "\x03\xff", "\x03\xff\xff",
		"\x04scope", "\x04scopf",
	}
	ops := make([]diff.Op, len(all))
	for i, k := range all {
		ops[i] = put(k, "v"+k)
	}
	// Written in reverse, over two batches: the order must come from the
	// store, not from the writes.
	slices.Reverse(ops)
	if err := s.Apply(ctx, ops[:10], false); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	if err := s.Apply(ctx, ops[10:], true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	sorted := slices.Clone(all)
	slices.SortFunc(sorted, func(a, b string) int { return bytes.Compare([]byte(a), []byte(b)) })
	for _, prefix := range []string{"", "\x03", "\x03\x00", "\x03\x01\xff", "\x03\x01\xff\xff", "\x03\xff", "\x03a", "\x04scope", "\x05", "\x03\x01\xff\xff\x01\x00"} {
		var want []string
		for _, k := range sorted {
			if bytes.HasPrefix([]byte(k), []byte(prefix)) {
				want = append(want, k)
			}
		}
		var p []byte
		if prefix != "" {
			p = []byte(prefix)
		}
		keys, values, err := scanAll(ctx, s, p)
		if err != nil {
			return fmt.Errorf("storetest: Scan(%q): %w", prefix, err)
		}
		if !slices.Equal(keys, want) {
			return fmt.Errorf("storetest: Scan(%q) yielded\n%q\nwant\n%q", prefix, keys, want)
		}
		for i, k := range keys {
			if values[i] != "v"+k {
				return fmt.Errorf("storetest: Scan(%q): %q=%q, want %q", prefix, k, values[i], "v"+k)
			}
		}
	}
	return nil
}

// checkScanStops: an error of fn ends the Scan at once and is returned
// as it is.
func checkScanStops(ctx context.Context, s diff.Store) error {
	ops := make([]diff.Op, 100)
	for i := range ops {
		ops[i] = put(fmt.Sprintf("\x03k%03d", i), "v")
	}
	if err := s.Apply(ctx, ops, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	stop := errors.New("stop here")
	calls := 0
	err := s.Scan(ctx, []byte("\x03"), func(k, v []byte) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		return fmt.Errorf("storetest: Scan whose fn failed returned %v, want fn's error", err)
	}
	if calls != 10 {
		return fmt.Errorf("storetest: Scan called fn %d times after it failed at the 10th", calls)
	}
	return nil
}

// checkScanSnapshot: a Scan sees the store as it was when the Scan began,
// although fn writes to it (a put, a change and a delete of keys not yet
// reached); and store calls from inside fn return (no deadlock).
func checkScanSnapshot(ctx context.Context, s diff.Store) error {
	if err := s.Apply(ctx, []diff.Op{put("\x03a", "1"), put("\x03c", "3"), put("\x03d", "4")}, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	var keys, values []string
	err := s.Scan(ctx, []byte("\x03"), func(k, v []byte) error {
		keys = append(keys, string(k))
		values = append(values, string(v))
		if string(k) != "\x03a" {
			return nil
		}
		if err := s.Apply(ctx, []diff.Op{put("\x03b", "2"), put("\x03c", "changed"), del("\x03d")}, true); err != nil {
			return fmt.Errorf("storetest: Apply from inside Scan: %w", err)
		}
		if v, ok, err := s.Get(ctx, []byte("\x03c"), nil); err != nil || !ok || string(v) != "changed" {
			return fmt.Errorf("storetest: Get from inside Scan, after an Apply = %q, %v, %v; want \"changed\"", v, ok, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if want := []string{"\x03a", "\x03c", "\x03d"}; !slices.Equal(keys, want) || !slices.Equal(values, []string{"1", "3", "4"}) {
		return fmt.Errorf("storetest: Scan during writes saw %q=%q, want the snapshot %q=%q", keys, values, want, []string{"1", "3", "4"})
	}
	keys, values, err = scanAll(ctx, s, []byte("\x03"))
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if want := []string{"\x03a", "\x03b", "\x03c"}; !slices.Equal(keys, want) || !slices.Equal(values, []string{"1", "2", "changed"}) {
		return fmt.Errorf("a Scan after the writes saw %q=%q", keys, values)
	}
	return nil
}

// checkScanCanceled: a Scan whose context ends stops early with the
// context's error (stores may check the context every so many keys: the
// check allows 1,500 of 5,000).
func checkScanCanceled(ctx context.Context, s diff.Store) error {
	const n = 5000
	ops := make([]diff.Op, n)
	for i := range ops {
		ops[i] = put(fmt.Sprintf("\x03k%05d", i), "v")
	}
	if err := s.Apply(ctx, ops, true); err != nil {
		return fmt.Errorf("storetest: Apply: %w", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	calls := 0
	err := s.Scan(cctx, []byte("\x03"), func(k, v []byte) error {
		calls++
		if calls == 1 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		return fmt.Errorf("storetest: Scan whose context was cancelled returned %v after %d keys, want an error matching context.Canceled", err, calls)
	}
	if calls > 1500 {
		return fmt.Errorf("storetest: Scan went on for %d keys after its context was cancelled", calls)
	}
	return nil
}

// checkConcurrent: Apply, Get and Scan from several goroutines at once
// (run with -race) lose nothing.
func checkConcurrent(ctx context.Context, s diff.Store) error {
	const workers, batches, per = 4, 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*2)
	for w := range workers {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for b := range batches {
				ops := make([]diff.Op, per)
				for i := range ops {
					ops[i] = put(fmt.Sprintf("\x03w%d-%03d-%03d", w, b, i), fmt.Sprint(w))
				}
				if err := s.Apply(ctx, ops, b%4 == 0); err != nil {
					errs <- fmt.Errorf("worker %d: Apply: %w", w, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			for i := range batches {
				if _, _, err := s.Get(ctx, fmt.Appendf(nil, "\x03w%d-%03d-000", (w+1)%workers, i), nil); err != nil {
					errs <- fmt.Errorf("reader %d: Get: %w", w, err)
					return
				}
				if err := s.Scan(ctx, fmt.Appendf(nil, "\x03w%d", (w+1)%workers), func(k, v []byte) error { return nil }); err != nil {
					errs <- fmt.Errorf("reader %d: Scan: %w", w, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	keys, _, err := scanAll(ctx, s, []byte("\x03w"))
	if err != nil {
		return fmt.Errorf("storetest: Scan: %w", err)
	}
	if len(keys) != workers*batches*per {
		return fmt.Errorf("after concurrent writes the store holds %d keys, want %d", len(keys), workers*batches*per)
	}
	return nil
}
