package pebblestore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/ampbraze/ampbraze/diff"
	"github.com/cockroachdb/pebble/v2"
)

// The sentinel is a small file beside pebble's, outside pebble's own
// recovery path, that says what the state durably held: the store's id
// (also kept inside pebble) and the commit generation, which every durable
// Apply advances, first inside pebble (in the synced batch), then here.
// So pebble is never behind the sentinel unless pebble lost a synced
// commit. At Open:
//
//   - sentinel present, pebble's MANIFEST gone: pebble would start an
//     empty state (and delete the old files); refused;
//   - sentinel present, pebble lacks the id or has another one: the state
//     came back empty (WAL files deleted) or was replaced; refused;
//   - pebble's generation behind the sentinel's: synced commits were lost
//     (a truncated or deleted WAL); refused;
//   - sentinel absent, pebble intact: re-created from pebble, which loses
//     nothing (a state written before the sentinel existed is adopted the
//     same way).
//
// A refusal matches diff.ErrStateLost; WithResetState accepts the state as
// pebble has it and rewrites the sentinel.
const sentinelFileName = "ampbraze-state"

const sentinelMagic = "ampbraze-state-sentinel 1"

// The file holds two fixed-size slots; generation g is written into slot
// g%2 in place, so a write torn by a crash damages only that slot and the
// other still holds g-1. Advancing needs no fsync: a slot that did not
// reach the disk (power loss) leaves the sentinel behind pebble, which is
// accepted; what the sentinel must never be is ahead of pebble, and pebble
// has synced the generation before the slot is written. The file is
// created (and reset) whole: a temporary file, synced, renamed over it,
// and the directory synced.
const sentinelSlot = 128

type sentinelFile struct {
	path string
	mu   sync.Mutex
	id   []byte
	gen  uint64
	f    *os.File // open for advancing; nil when read-only
}

func readSentinel(dir string) (*sentinelFile, error) {
	path := filepath.Join(dir, sentinelFileName)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storeErr("read the sentinel file", path, err)
	}
	s, err := parseSentinel(b)
	if err != nil {
		return nil, &diff.StoreError{Op: "read the sentinel file", Path: path, Kind: diff.ErrStateLost, Err: err,
			Hint: "the file that records what the state held is damaged, so a loss cannot be ruled out; " + hintLost}
	}
	s.path = path
	return s, nil
}

// parseSentinel reads the two slots and returns the later valid one.
func parseSentinel(b []byte) (*sentinelFile, error) {
	if len(b) != 2*sentinelSlot {
		return nil, fmt.Errorf("not a sentinel file of this version (%d bytes)", len(b))
	}
	var best *sentinelFile
	for i := range 2 {
		s, ok := parseSlot(b[i*sentinelSlot : (i+1)*sentinelSlot])
		if !ok {
			continue
		}
		if best != nil && !bytes.Equal(best.id, s.id) {
			return nil, errors.New("its two records name different states")
		}
		if best == nil || s.gen > best.gen {
			best = s
		}
	}
	if best == nil {
		return nil, errors.New("no valid record (checksum mismatch)")
	}
	return best, nil
}

func parseSlot(b []byte) (*sentinelFile, bool) {
	f := strings.Fields(string(b))
	// magic(2) "id" HEX "generation" N "crc" HEX
	if len(f) != 8 || f[0]+" "+f[1] != sentinelMagic || f[2] != "id" || f[4] != "generation" || f[6] != "crc" {
		return nil, false
	}
	body := strings.Join(f[:6], " ")
	if f[7] != fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(body))) {
		return nil, false
	}
	id, err1 := hex.DecodeString(f[3])
	gen, err2 := strconv.ParseUint(f[5], 10, 64)
	if err1 != nil || err2 != nil || len(id) == 0 {
		return nil, false
	}
	return &sentinelFile{id: id, gen: gen}, true
}

// slot renders the record of generation gen, padded to its slot.
func (s *sentinelFile) slot(gen uint64) []byte {
	body := fmt.Sprintf("%s id %x generation %d", sentinelMagic, s.id, gen)
	line := fmt.Sprintf("%s crc %08x", body, crc32.ChecksumIEEE([]byte(body)))
	b := make([]byte, sentinelSlot)
	for i := range b {
		b[i] = ' '
	}
	copy(b, line)
	b[sentinelSlot-1] = '\n'
	return b
}

// create writes the whole file for s.gen and opens it for advancing.
func (s *sentinelFile) create() error {
	one := s.slot(s.gen)
	if err := writeFileAtomic(s.path, append(one, one...), true); err != nil {
		return err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return storeErr("open the sentinel file", s.path, err)
	}
	s.f = f
	return nil
}

// open opens an existing file for advancing.
func (s *sentinelFile) open() error {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0)
	if err != nil {
		return storeErr("open the sentinel file", s.path, err)
	}
	s.f = f
	return nil
}

func (s *sentinelFile) close() error {
	if s == nil || s.f == nil {
		return nil
	}
	return s.f.Close()
}

// advance records generation gen, already durable in pebble.
func (s *sentinelFile) advance(gen uint64) error {
	if s == nil || s.f == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gen <= s.gen {
		return nil
	}
	if _, err := s.f.WriteAt(s.slot(gen), int64(gen%2)*sentinelSlot); err != nil {
		return storeErr("write the sentinel file", s.path, err)
	}
	s.gen = gen
	return nil
}

// writeFileAtomic replaces path with data: a temporary file, synced, then
// renamed over path (and the directory synced if syncDir), so a crash
// leaves either the old file or the new one, never a torn one.
func writeFileAtomic(path string, data []byte, syncDir bool) error {
	dir := filepath.Dir(path)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return storeErr("write the sentinel file", tmp, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return storeErr("write the sentinel file", path, err)
	}
	if !syncDir {
		return nil
	}
	d, err := os.Open(dir)
	if err == nil {
		err = d.Sync()
		d.Close()
	}
	if err != nil {
		return storeErr("sync the state directory", dir, err)
	}
	return nil
}

// verify compares what pebble opened with the sentinel, as described at
// sentinelFileName, and brings the two in step.
func (s *Store) verify(ctx context.Context, reset bool) error {
	id, idOK, err := s.getRaw(storeIDKey)
	if err != nil {
		return err
	}
	genB, genOK, err := s.getRaw(storeGenKey)
	if err != nil {
		return err
	}
	var gen uint64
	if genOK {
		if gen, genOK = readUint64(genB); !genOK {
			return &diff.StoreError{Op: "open", Path: s.dir, Kind: diff.ErrCorrupt, Err: errors.New("bad commit generation"), Hint: hintCorrupt}
		}
	}
	sent := s.sentinel
	var problem string
	switch {
	case sent == nil:
	case !idOK:
		problem = "pebble opened an empty or different state (its files were deleted or replaced) where the sentinel file records one with commit generation " + strconv.FormatUint(sent.gen, 10)
	case !bytes.Equal(id, sent.id):
		problem = fmt.Sprintf("the state in the directory (id %x) is not the one the sentinel file records (id %x): it was replaced", id, sent.id)
	case gen < sent.gen:
		problem = fmt.Sprintf("pebble recovered commit generation %d, the sentinel file records %d: synced writes were lost (a deleted or truncated WAL file)", gen, sent.gen)
	}
	if problem != "" {
		if !reset {
			return &diff.StoreError{Op: "open", Path: s.dir, Kind: diff.ErrStateLost, Err: errors.New(problem), Hint: hintLost}
		}
		s.log.Warn("pebblestore: state store reset: accepting the state as it is", "path", s.dir, "problem", problem)
	}
	s.gen = gen
	if s.readOnly {
		return nil
	}
	if !idOK {
		id = make([]byte, 16)
		rand.Read(id)
		s.gen = 0
		if err := s.setRaw(ctx, storeIDKey, id); err != nil {
			return err
		}
		if err := s.setRaw(ctx, storeGenKey, appendUint64(nil, 0)); err != nil {
			return err
		}
	}
	if sent == nil && idOK && !reset {
		s.log.Warn("pebblestore: state store sentinel file missing; re-created from the intact state (nothing is lost)", "path", filepath.Join(s.dir, sentinelFileName))
	}
	if sent == nil || problem != "" || reset || !bytes.Equal(sent.id, id) {
		ns := &sentinelFile{path: filepath.Join(s.dir, sentinelFileName), id: id, gen: s.gen}
		if err := ns.create(); err != nil {
			return err
		}
		sent = ns
	} else {
		if err := sent.open(); err != nil {
			return err
		}
		if err := sent.advance(s.gen); err != nil {
			return err
		}
	}
	s.sentinel = sent
	s.id = id
	return nil
}

// getRaw reads a key of the store's own, which Get would also read but
// which verify needs before the store is in use.
func (s *Store) getRaw(key []byte) ([]byte, bool, error) {
	return s.Get(context.Background(), key, nil)
}

// setRaw writes one of the store's own keys durably.
func (s *Store) setRaw(ctx context.Context, key, value []byte) error {
	err := pebbleGuarded(func() error { return s.db.Set(key, value, pebble.Sync) })
	if err != nil {
		return s.failWith("write", err)
	}
	return nil
}
