package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// reject is one line of the rejects file: a row the mapper could not use or
// an object Braze (or the client's validation) did not accept.
type reject struct {
	RunID  string `json:"run_id,omitempty"`
	Time   string `json:"time,omitempty"` // RFC 3339, when the reject was written
	File   string `json:"file"`
	Row    int64  `json:"row,omitempty"`
	Line   int64  `json:"line,omitempty"`
	Column string `json:"column,omitempty"`
	Value  string `json:"value,omitempty"`
	Key    string `json:"key,omitempty"`
	Field  string `json:"field,omitempty"`
	Stage  string `json:"stage"` // "read", "map", "plan", "validate" or "braze"
	Reason string `json:"reason"`
}

// rejectsFile appends rejects as NDJSON. A nil *rejectsFile (no -rejects
// flag) only counts. The first failed write is kept and reported by flush:
// a rejects file that cannot be written is fatal, since the rows it should
// list would otherwise be lost without a word.
type rejectsFile struct {
	mu    sync.Mutex
	w     io.Writer
	enc   *json.Encoder
	err   error
	runID string
	now   func() time.Time
}

// setRun stamps the lines written from now on with the run's id.
func (f *rejectsFile) setRun(id string) {
	if f == nil {
		return
	}
	f.mu.Lock()
	f.runID = id
	f.mu.Unlock()
}

func newRejectsFile(w io.Writer) *rejectsFile {
	if w == nil {
		return nil
	}
	return &rejectsFile{w: w, enc: json.NewEncoder(w), now: time.Now}
}

// flush makes what was written durable, and returns the first error of
// any write.
func (f *rejectsFile) flush() error {
	if f == nil {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.w.(interface{ Sync() error }); ok && f.err == nil {
		// A pipe or a terminal (-rejects /dev/stderr) cannot be synced.
		if err := s.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
			f.err = err
		}
	}
	return f.err
}

func (f *rejectsFile) write(r reject) {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r.RunID, r.Time = f.runID, f.now().UTC().Format(time.RFC3339)
	if f.err == nil {
		f.err = f.enc.Encode(r)
	}
}

// rowReject describes an input error from the reader, the mapper or the
// plan (which wraps the first two in a *diff.RecordError).
func rowReject(file string, err error) reject {
	r := reject{File: file, Stage: "plan", Reason: err.Error()}
	var ie *amperity.InputError
	var re *diff.RecordError
	var de *diff.DuplicateKeyError
	switch {
	case errors.As(err, &de):
		r.Row, r.Key = inputRow(de.Index), de.Key
		r.Reason = fmt.Sprintf("duplicate id %q: an earlier row of this export has the same id; only the first row is sent", de.Key)
	case errors.As(err, &ie):
		r.Stage = "map"
		if ie.Column == "" {
			r.Stage = "read"
		}
		r.Row, r.Line, r.Column, r.Value, r.Reason = ie.Row, ie.Line, ie.Column, ie.Value, ie.Err.Error()
	case errors.As(err, &re):
		r.Row, r.Key, r.Field, r.Reason = inputRow(re.Index), re.Key, re.Attr, re.Err.Error()
	}
	return r
}

// inputRow is the 1-based data row of the plan's input position: the
// mapper yields exactly one record or error per row of the export.
func inputRow(index int64) int64 {
	if index < 0 {
		return 0 // a removal: the key is not in this export
	}
	return index + 1
}

// objectReject describes a change that Braze or the client refused.
func objectReject(file string, ch diff.Change, err error) reject {
	r := reject{File: file, Row: inputRow(ch.Index), Key: ch.Key, Stage: "braze", Reason: err.Error()}
	var ve *braze.ValidationError
	var ie *braze.ItemError
	switch {
	case errors.As(err, &ve):
		r.Stage, r.Field, r.Reason = "validate", ve.Field, ve.Reason
	case errors.As(err, &ie):
		r.Reason = ie.Type
	}
	return r
}
