package pebblestore

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Store is a diff.Store on an embedded LSM key-value store
// (github.com/cockroachdb/pebble) in one directory. It was chosen over
// go.etcd.io/bbolt by measurement: bbolt's random-order inserts ran at
// about 27,000 keys/s and its memory-mapped file makes resident memory grow
// with the state, while pebble reads through a bounded block cache and
// writes sequentially.
//
// Around pebble it adds what pebble alone does not give: every failure is
// an error (pebble panics, or calls Logger.Fatalf, on a failed WAL write
// and on a checksum mismatch, and retries a failed flush forever), after
// which the store is broken and every call fails at once; a lock of the
// directory that cannot be bypassed by deleting a file (lock.go); and a
// sentinel outside pebble's own recovery path that refuses a state that
// came back with less than it durably held (sentinel.go).
//
// A Store is safe for concurrent use. Once an Engine owns it (see
// diff.NewEngine), only the engine should use it.
type Store struct {
	db       *pebble.DB // nil: read-only, and there is no state yet (empty)
	dir      string
	minFree  uint64 // see WithMinFreeSpace
	readOnly bool
	log      *slog.Logger
	lock     *dirLock
	ev       *pebbleEvents

	// Durable applies are serialized by genSem (a semaphore, so waiting
	// for it can give up when the store breaks): each advances the commit
	// generation, in the batch and then in the sentinel file.
	genSem   chan struct{}
	gen      uint64
	id       []byte
	sentinel *sentinelFile

	fsCloser io.Closer // stops the disk health checks

	closeOnce sync.Once
	closeErr  error
}

var _ diff.ReadOnlyStore = (*Store)(nil)

// closeWait bounds Close of a broken store: pebble may hold its own locks
// forever after a failed write (it was written to crash the process then).
const closeWait = 3 * time.Second

// diskSlowAfter is how long a write may take before it is logged as slow.
const diskSlowAfter = 5 * time.Second

// errNoState is returned by openLocked in read-only mode when there is no
// state to open: a dry run before the first sync plans against nothing.
var errNoState = errors.New("no state store")

// Open opens the state store in the directory dir, creating the directory
// and the store if needed, with a bounded block cache so resident memory
// does not grow with the state (WithCacheSize). Only one process, and one
// Store in a process, may have the directory open for writing: another
// gets an error matching diff.ErrScopeLocked. A damaged store is refused
// with an error matching diff.ErrCorrupt, and one that lost data it had
// durably written (deleted or truncated files) with an error matching
// diff.ErrStateLost (see WithResetState). Failures of the disk match
// diff.ErrStoreIO, diff.ErrDiskFull or diff.ErrPermission and name the path
// (see diff.StoreError).
//
// With ReadOnly, no file is created, changed or removed; a directory that
// holds no state yet opens as an empty store, so a dry run before the
// first sync plans everything as new.
//
// ctx bounds the open (a flush of the write-ahead log that cannot make
// progress is given up on); the Store does not keep it.
func Open(ctx context.Context, dir string, opts ...Option) (*Store, error) {
	o := config{cacheBytes: defaultCacheBytes, logger: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	empty := &Store{dir: dir, readOnly: true, log: o.logger}
	if o.readOnly {
		fi, err := statDir(dir)
		if err != nil {
			return nil, err
		}
		if fi == nil {
			o.logger.Info("pebblestore: no state store yet; opened read-only as an empty state", "path", dir)
			return empty, nil
		}
	} else if err := mkdirState(dir); err != nil {
		return nil, err
	}
	lock, err := lockDir(dir, o.readOnly)
	if err != nil {
		return nil, err
	}
	s, err := openLocked(ctx, dir, o, lock)
	if err != nil {
		lock.release()
		if errors.Is(err, errNoState) {
			o.logger.Info("pebblestore: no state store yet; opened read-only as an empty state", "path", dir)
			return empty, nil
		}
		return nil, err
	}
	return s, nil
}

// ReadOnly reports whether the store was opened with ReadOnly: every
// Apply then fails with diff.ErrReadOnly. It implements
// diff.ReadOnlyStore, which tells an engine to write nothing.
func (s *Store) ReadOnly() bool { return s.readOnly }

// Dir returns the directory of the store.
func (s *Store) Dir() string { return s.dir }

func openLocked(ctx context.Context, dir string, o config, lock *dirLock) (*Store, error) {
	sent, err := readSentinel(dir)
	if err != nil && !o.reset {
		return nil, err
	}
	minFree := uint64(DefaultMinFreeBytes)
	if o.minFreeSet {
		minFree = o.minFree
	}
	s := &Store{
		dir: dir, readOnly: o.readOnly, log: o.logger, lock: lock, minFree: minFree,
		ev:       newPebbleEvents(dir, o.logger),
		genSem:   make(chan struct{}, 1),
		sentinel: sent,
	}
	fs := o.fs
	if fs == nil {
		fs = vfs.Default
	}
	if o.readOnly {
		fs = readOnlyFS{FS: fs, locked: lock != nil}
	}
	// Disk health checks report a write that takes over diskSlowAfter
	// (DiskSlow), so a stuck disk is logged while the write waits.
	fs, s.fsCloser = vfs.WithDiskHealthChecks(fs, diskSlowAfter, nil, s.ev.diskSlow)
	cache := pebble.NewCache(o.cacheBytes)
	defer cache.Unref()
	opts := &pebble.Options{
		Cache: cache,
		FS:    fs,
		// 16 MiB memtables (pebble holds several while it flushes)
		// keep a 10M-user re-sync under its 512 MiB budget; 32 MiB
		// measured 528-548 MiB peaks there, 16 MiB 383 MiB.
		MemTableSize: memTableBytes,
		Logger:       pebbleLogger{s.ev},
		ReadOnly:     o.readOnly,
		// A state the sentinel says exists must not be created afresh
		// over its remains (pebble would delete them as obsolete).
		ErrorIfNotExists: sent != nil && !o.reset,
	}
	opts.EventListener = s.ev.listener()
	// Bloom filters make lookups of new keys cheap; values are hashes,
	// which do not compress, so compression would only cost time.
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
		opts.Levels[i].Compression = func() *sstable.CompressionProfile { return sstable.NoCompression }
	}
	db, err := s.openDB(ctx, opts)
	if err != nil {
		if !s.ev.opening.Load() { // else pebble.Open still runs, on the checker
			s.fsCloser.Close()
		}
		if errors.Is(err, pebble.ErrDBDoesNotExist) {
			if o.readOnly && sent == nil {
				return nil, errNoState
			}
			return nil, &diff.StoreError{Op: "open", Path: dir, Kind: diff.ErrStateLost,
				Err:  errors.New("the sentinel file says a state was written here, but pebble's MANIFEST or its marker is missing"),
				Hint: hintLost}
		}
		return nil, s.classify("open", err)
	}
	s.db = db
	if err := s.verify(ctx, o.reset); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openDB runs pebble.Open and gives up as soon as pebble reports that it
// cannot make progress: a flush that fails at open is retried by pebble
// forever, so waiting for Open alone would hang on a full disk.
func (s *Store) openDB(ctx context.Context, opts *pebble.Options) (*pebble.DB, error) {
	type result struct {
		db  *pebble.DB
		err error
	}
	done := make(chan result, 1)
	var mu sync.Mutex // orders the result with giving up on it
	abandoned := false
	// opening stays set if Open is given up on: nothing will ever close
	// what it leaves behind.
	s.ev.opening.Store(true)
	go func() {
		var db *pebble.DB
		err := pebbleGuarded(func() error {
			var err error
			db, err = pebble.Open(s.dir, opts)
			return err
		})
		mu.Lock()
		defer mu.Unlock()
		if abandoned {
			if db != nil {
				// Open gave up waiting: release what pebble opened.
				pebbleGuarded(db.Close)
			}
			return
		}
		done <- result{db, err}
	}()
	abandon := func() {
		mu.Lock()
		defer mu.Unlock()
		abandoned = true
		select {
		case r := <-done:
			if r.db != nil {
				go pebbleGuarded(r.db.Close) // may never return on a broken disk
			}
		default:
		}
	}
	select {
	case r := <-done:
		s.ev.opening.Store(false) // pebble.Open returned: nothing of it runs on
		if r.err == nil {
			if err := s.ev.failure(); err != nil {
				go pebbleGuarded(r.db.Close) // may never return on a broken disk
				return nil, err
			}
		}
		return r.db, r.err
	case <-s.ev.failed:
		abandon()
		return nil, s.ev.failure()
	case <-ctx.Done():
		abandon()
		return nil, ctx.Err()
	}
}

// Reserved keys: the store's own records inside pebble, under a prefix the
// engine's key layout never uses (its first bytes are 0x00-0x04) and that
// Scan never shows.
var (
	reservedPrefix = []byte{0xff, 0xff}
	storeIDKey     = []byte("\xff\xffampbraze/store-id")
	storeGenKey    = []byte("\xff\xffampbraze/generation")
)

// usable returns the error every call gets on a broken or closed store.
func (s *Store) usable() error {
	return s.ev.failure()
}

// Get implements diff.Store.
func (s *Store) Get(ctx context.Context, key, dst []byte) (value []byte, ok bool, err error) {
	if s.db == nil {
		return dst[:0], false, nil
	}
	if err := s.usable(); err != nil {
		return dst[:0], false, err
	}
	value = dst[:0]
	err = pebbleGuarded(func() error {
		v, closer, err := s.db.Get(key)
		if errors.Is(err, pebble.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		value = append(value, v...)
		ok = true
		return closer.Close()
	})
	if err != nil {
		return dst[:0], false, s.failWith("read", err)
	}
	return value, ok, nil
}

// Apply implements diff.Store. A durable Apply returns once the batch is
// synced to the disk; every Apply first checks that the store still holds
// the lock of its directory.
func (s *Store) Apply(ctx context.Context, ops []diff.Op, durable bool) error {
	if s.readOnly {
		return diff.ErrReadOnly
	}
	if err := s.usable(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.lock.check(); err != nil {
		// Someone removed the lock file: stop writing for good.
		return s.ev.fail(err)
	}
	if err := s.checkSpace(); err != nil {
		return err // not a failure of the store: writes go on once there is room
	}
	if durable {
		select {
		case s.genSem <- struct{}{}:
			defer func() { <-s.genSem }()
		case <-s.ev.failed:
			return s.ev.failure()
		}
	}
	var gen uint64
	if durable {
		gen = s.gen + 1
	}
	if err := s.commit(ops, durable, gen); err != nil {
		return err
	}
	if durable {
		s.gen = gen
		if err := s.sentinel.advance(gen); err != nil {
			return s.ev.fail(err)
		}
	}
	return nil
}

// commit writes one batch. pebble may block in it for good (a write stall
// behind a flush that keeps failing) or panic holding its commit lock, so
// the batch is committed on a goroutine of its own that Apply stops
// waiting for as soon as the store reports a failure.
func (s *Store) commit(ops []diff.Op, durable bool, gen uint64) error {
	done := make(chan error, 1)
	go func() {
		done <- pebbleGuarded(func() error {
			b := s.db.NewBatch()
			defer b.Close()
			for _, op := range ops {
				var err error
				if op.Delete {
					err = b.Delete(op.Key, nil)
				} else {
					err = b.Set(op.Key, op.Value, nil)
				}
				if err != nil {
					return err
				}
			}
			wo := pebble.NoSync
			if durable {
				var g [8]byte
				if err := b.Set(storeGenKey, appendUint64(g[:0], gen), nil); err != nil {
					return err
				}
				wo = pebble.Sync
			}
			return b.Commit(wo)
		})
	}()
	for {
		select {
		case err := <-done:
			if err != nil {
				return s.failWith("write", err)
			}
			return nil
		case <-s.ev.failed:
			return s.ev.failure()
		case info := <-s.ev.slow:
			s.log.Warn("pebblestore: state store disk is slow; still waiting for the write", "path", info.Path, "op", info.OpType.String(), "waited", info.Duration)
		}
	}
}

// Scan implements diff.Store. The store's own keys (under the prefix
// 0xff 0xff) are never shown.
func (s *Store) Scan(ctx context.Context, prefix []byte, fn func(key, value []byte) error) error {
	if s.db == nil {
		return nil
	}
	if err := s.usable(); err != nil {
		return err
	}
	upper := prefixEnd(prefix)
	if upper == nil || bytes.Compare(upper, reservedPrefix) > 0 {
		upper = reservedPrefix
	}
	if bytes.Compare(prefix, upper) >= 0 {
		return nil
	}
	var fnErr error // an error of fn, returned as it is
	err := pebbleGuarded(func() error {
		it, err := s.db.NewIterWithContext(ctx, &pebble.IterOptions{LowerBound: prefix, UpperBound: upper})
		if err != nil {
			return err
		}
		defer it.Close()
		n := 0
		for ok := it.First(); ok; ok = it.Next() {
			if n++; n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					fnErr = err
					return nil
				}
				if err := s.usable(); err != nil {
					fnErr = err
					return nil
				}
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			if err := callScanFn(fn, it.Key(), v); err != nil {
				fnErr = err
				return nil
			}
		}
		return it.Error()
	})
	if err != nil {
		return s.failWith("scan", err)
	}
	return fnErr
}

// Close closes the store. A broken store is closed within closeWait at
// most (pebble may never release its locks after a failed write); its
// goroutines are then left behind, and Close reports the failure.
func (s *Store) Close() error {
	if s.db == nil {
		return nil
	}
	s.closeOnce.Do(func() {
		broken := s.ev.failure()
		s.ev.close()
		done := make(chan error, 1)
		go func() { done <- pebbleGuarded(s.db.Close) }()
		if broken == nil {
			s.closeErr = <-done
		} else {
			select {
			case <-done:
			case <-time.After(closeWait):
				s.log.Error("pebblestore: state store did not close after its failure; abandoning it", "path", s.dir)
			}
			s.closeErr = broken
		}
		s.fsCloser.Close()
		if err := s.sentinel.close(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
		if err := s.lock.release(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
		if s.closeErr != nil && broken == nil {
			s.closeErr = s.classify("close", s.closeErr)
		}
	})
	return s.closeErr
}

// failWith breaks the store with the error of a call into pebble: after
// a failed read or write pebble's state is unknown (it may have panicked
// holding its locks), so nothing more is attempted. The caller's context
// ending breaks nothing.
func (s *Store) failWith(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return s.ev.fail(s.classify(op, err))
}

// classify turns an error of pebble into a *diff.StoreError naming the state
// directory, the operation and the class of failure.
func (s *Store) classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *diff.StoreError
	switch {
	case errors.As(err, &se), errors.Is(err, diff.ErrClosed), errors.Is(err, diff.ErrReadOnly),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, pebble.ErrClosed):
		return diff.ErrClosed
	case errors.Is(err, pebble.ErrReadOnly):
		return diff.ErrReadOnly
	case pebble.IsCorruptionError(err):
		return &diff.StoreError{Op: op, Path: s.dir, Kind: diff.ErrCorrupt, Err: err, Hint: hintCorrupt}
	case op == "open" && (errors.Is(err, syscall.EAGAIN) || strings.Contains(err.Error(), "lock held")):
		// pebble's own LOCK, held by a writer of an older version, or by
		// an engine of this process whose lock file was removed.
		return &diff.StoreError{Op: op, Path: s.dir, Kind: diff.ErrScopeLocked, Err: err, Hint: hintLocked}
	}
	return storeErr(op, s.dir, err)
}

// prefixEnd returns the smallest key greater than every key with the prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func appendUint64(dst []byte, v uint64) []byte {
	for i := 7; i >= 0; i-- {
		dst = append(dst, byte(v>>(8*i)))
	}
	return dst
}

func readUint64(b []byte) (uint64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// callScanFn calls the caller's scan function, marking a panic of its own
// so pebbleGuarded passes it on instead of taking it for pebble's.
func callScanFn(fn func(key, value []byte) error, k, v []byte) error {
	defer func() {
		if r := recover(); r != nil {
			panic(callerPanic{r})
		}
	}()
	return fn(k, v)
}
