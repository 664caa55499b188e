package objstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/internal/atomicfile"
)

// FileCheckpoint is the set of object keys a job has processed, kept in
// memory and saved to a text file, so that a rerun reads only new objects.
// It is safe for concurrent use. Package currents takes it as its
// Checkpoint (Done and MarkDone); the example programs use it for the
// Amperity exports they applied.
//
// The file holds one key per line. A key is written as it is, unless it
// holds a line feed, a carriage return or a NUL byte, is not valid UTF-8,
// or starts with a double quote: then it is written Go-quoted
// (strconv.Quote), so every key comes back exactly as it was marked, and a
// saved file never holds a raw NUL or carriage return.
//
// Save appends the keys marked since the last save and syncs the file, so
// saving after every object stays cheap however large the checkpoint
// grows (measured: under 1.1 ms to save one more key beside a million,
// against 5 seconds to rewrite them all). A crash during an append can
// only tear the keys being appended, which Save had not yet reported
// saved: on opening, a last line without its newline and lines holding NUL
// bytes (what a torn write leaves) are skipped, counted (Torn) and logged
// (WithCheckpointLogger), unless RefuseTornLines makes them an error;
// those objects are read again, and the next Save rewrites the file.
// Blank lines hold no key and are skipped. Any other line that no Save
// writes (a raw carriage return, a quoted key that does not parse) makes
// OpenFileCheckpoint fail with a *CheckpointError naming the line:
// dropping it would silently process that object again. A rewrite (the
// first save, after Prune, or after a torn tail) writes all keys, sorted,
// to a temporary file beside it, syncs it and renames it over the old one,
// so a crash leaves either the old or the new file.
//
// It holds every key in memory, each directory once and each file name
// without a directory segment it repeats (as Currents names repeat their
// topic): measured, about 80 bytes per key for 212-byte Currents keys at
// 12 files per hour folder (Braze's 5-minute cadence), against 270 for a
// plain set of strings; a year of Currents files for 100 event types (10.5
// million keys) takes about 840 MB. Use Prune to drop the keys of objects
// the store no longer holds.
type FileCheckpoint struct {
	path       string
	log        *slog.Logger
	torn       int  // lines skipped on opening as torn writes
	refuseTorn bool // a torn line is an error

	mu      sync.Mutex
	keys    keySet
	pending []string // keys marked since the last save, in order
	rewrite bool     // the next Save must rewrite the whole file
	exists  bool     // the file exists and ends with a complete line
}

// CheckpointOption configures OpenFileCheckpoint.
type CheckpointOption func(*FileCheckpoint)

// WithCheckpointLogger logs, at warning level, the torn lines that
// OpenFileCheckpoint skips. By default nothing is logged.
func WithCheckpointLogger(l *slog.Logger) CheckpointOption {
	return func(c *FileCheckpoint) {
		if l != nil {
			c.log = l
		}
	}
}

// RefuseTornLines makes a torn line an error of OpenFileCheckpoint (a
// *CheckpointError matching ErrTornLine) instead of a line it skips: for
// jobs where processing an object again, after later ones, does harm (an
// older export of full snapshots applied over a newer one), so that an
// operator looks at the file first.
func RefuseTornLines() CheckpointOption {
	return func(c *FileCheckpoint) { c.refuseTorn = true }
}

// ErrTornLine is matched by the *CheckpointError of a torn line when
// RefuseTornLines is set.
var ErrTornLine = errors.New("a torn line (NUL bytes, or no line feed at the end of the file): the remains of a save that a crash interrupted")

// CheckpointError reports a checkpoint file that cannot be read: a line
// that no Save writes, or a failure to read the file.
type CheckpointError struct {
	// Path is the checkpoint file.
	Path string
	// Line is the 1-based line number, or 0 when the error concerns the
	// whole file.
	Line int
	// Err is what went wrong.
	Err error
}

func (e *CheckpointError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("objstore: checkpoint %s line %d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("objstore: checkpoint %s: %v", e.Path, e.Err)
}

// Unwrap returns Err.
func (e *CheckpointError) Unwrap() error { return e.Err }

// OpenFileCheckpoint loads the checkpoint saved at path. A missing file is
// an empty checkpoint; the file is created by the first Save. A line that
// no Save writes is a *CheckpointError; torn lines are skipped (see
// FileCheckpoint).
func OpenFileCheckpoint(path string, opts ...CheckpointOption) (*FileCheckpoint, error) {
	c := &FileCheckpoint{path: path, log: slog.New(slog.DiscardHandler), keys: keySet{dirs: make(map[string]*dirKeys)}}
	for _, o := range opts {
		o(c)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, &CheckpointError{Path: path, Err: err}
	}
	defer f.Close()
	c.exists = true
	r := bufio.NewReaderSize(f, 64<<10)
	var firstTorn int
	for n := 1; ; n++ {
		line, err := r.ReadString('\n')
		if err != nil && err != io.EOF {
			return nil, &CheckpointError{Path: path, Line: n, Err: err}
		}
		if err == io.EOF && line == "" {
			break
		}
		key, ok, perr := parseLine(line, err == io.EOF)
		switch {
		case perr != nil:
			return nil, &CheckpointError{Path: path, Line: n, Err: perr}
		case !ok && line == "\n":
			// A blank line (an edit) holds no key: nothing is lost.
		case !ok && c.refuseTorn:
			return nil, &CheckpointError{Path: path, Line: n, Err: ErrTornLine}
		case !ok:
			c.torn++
			c.rewrite = true
			if firstTorn == 0 {
				firstTorn = n
			}
		default:
			c.keys.add(key)
		}
		if err == io.EOF {
			break
		}
	}
	if c.torn > 0 {
		c.log.Warn("objstore: checkpoint: skipped the torn lines of a save a crash interrupted; their objects will be processed again",
			"path", path, "lines", c.torn, "first_line", firstTorn)
	}
	return c, nil
}

// parseLine decodes one line of the file (with its newline, unless last
// is set and the file ended without one). ok is false for a torn line.
func parseLine(line string, last bool) (key string, ok bool, err error) {
	if last || strings.IndexByte(line, 0) >= 0 {
		return "", false, nil // a torn append: the key was not saved
	}
	line = strings.TrimSuffix(line, "\n")
	if line == "" {
		return "", false, nil
	}
	// Checked before unquoting: strconv.Unquote takes a raw CR between the
	// quotes, and a save that only appends would keep such a line as it is.
	if strings.IndexByte(line, '\r') >= 0 {
		return "", false, errors.New("a raw carriage return, which no saved key holds: the file was edited, or is not a checkpoint")
	}
	if strings.HasPrefix(line, `"`) {
		k, err := strconv.Unquote(line)
		if err != nil {
			return "", false, fmt.Errorf("a quoted key that does not parse (%v): the file was edited, or is not a checkpoint", err)
		}
		return k, true, nil
	}
	return line, true, nil
}

// appendLine writes key as one line of the file (see FileCheckpoint).
func appendLine(w *bufio.Writer, key string) {
	if key == "" || key[0] == '"' || strings.ContainsAny(key, "\n\r\x00") || !utf8.ValidString(key) {
		w.WriteString(strconv.Quote(key))
	} else {
		w.WriteString(key)
	}
	w.WriteByte('\n')
}

// Torn returns the number of lines OpenFileCheckpoint skipped as the
// remains of a save that a crash interrupted.
func (c *FileCheckpoint) Torn() int { return c.torn }

// Done reports whether key was marked done.
func (c *FileCheckpoint) Done(_ context.Context, key string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys.has(key), nil
}

// MarkDone records key in memory; Save persists it. Every key can be
// stored (see FileCheckpoint); the error is always nil, and is there so
// that FileCheckpoint fits interfaces whose stores can fail.
func (c *FileCheckpoint) MarkDone(_ context.Context, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys.add(key) {
		c.pending = append(c.pending, key)
	}
	return nil
}

// Len returns the number of keys in the checkpoint.
func (c *FileCheckpoint) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.keys.n
}

// Prune forgets the keys for which drop returns true and returns how many
// it dropped. Call it with the store's retention horizon (for Currents
// keys, currents.QueuedBefore) so that the checkpoint does not grow
// forever. drop is called with the checkpoint locked: it must not call
// the checkpoint's methods. The next Save rewrites the file.
func (c *FileCheckpoint) Prune(drop func(key string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var gone []string
	for k := range c.keys.all() {
		if drop(k) {
			gone = append(gone, k)
		}
	}
	for _, k := range gone {
		c.keys.remove(k)
	}
	if len(gone) > 0 {
		c.rewrite = true
	}
	return len(gone)
}

// PruneFolders forgets every key in the folders for which drop returns
// true, and returns how many keys it dropped. A folder is a key up to and
// including its last "/" ("" for a key without one). It is Prune for a
// retention horizon that a folder shows (a Currents date= folder), without
// building each key's string, which is most of Prune's time on a million
// keys. drop is called with the checkpoint locked: it must not call the
// checkpoint's methods. The next Save rewrites the file.
func (c *FileCheckpoint) PruneFolders(drop func(folder string) bool) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.keys.removeDirs(drop)
	if n > 0 {
		c.rewrite = true
	}
	return n
}

// Save makes the keys marked since the last save durable: it appends them
// to the file and syncs it, or rewrites the file atomically when it must
// (see FileCheckpoint). It does nothing when nothing changed.
func (c *FileCheckpoint) Save() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.rewrite && len(c.pending) == 0 {
		return nil
	}
	if c.rewrite || !c.exists {
		keys := slices.Sorted(c.keys.all())
		if err := atomicfile.Write(c.path, func(w *bufio.Writer) error {
			for _, k := range keys {
				appendLine(w, k)
			}
			return nil
		}); err != nil {
			return &CheckpointError{Path: c.path, Err: err}
		}
		c.rewrite, c.exists, c.pending = false, true, nil
		return nil
	}
	if err := c.appendPending(); err != nil {
		// The append may have stopped inside a key: rewrite next time.
		c.rewrite = true
		return &CheckpointError{Path: c.path, Err: err}
	}
	c.pending = nil
	return nil
}

func (c *FileCheckpoint) appendPending() error {
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 64<<10)
	for _, k := range c.pending {
		appendLine(w, k)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
