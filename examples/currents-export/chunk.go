package main

import (
	"fmt"
	"time"

	"github.com/ampbraze/ampbraze/currents"
)

// chunkEvents is the number of events a chunk carries: enough to make the
// hand-over between the goroutines cheap, few enough to bound the memory
// held ahead of the writer.
const chunkEvents = 1024

// chunk is a run of one Currents file's events, decoded (and, for NDJSON,
// encoded) ahead of the writer, or an error of the listing.
type chunk struct {
	file  currents.File
	first bool // the file's first chunk
	// events are the chunk's events within -from and -to.
	events []currents.Event
	// read counts the events decoded; outside counts those of them
	// outside -from and -to, which were dropped.
	read, outside int64
	// encoded is set when the output is NDJSON: lines then holds the
	// events' lines, one after the other, events[i]'s ending at ends[i].
	// encodeErr, when set, is the failure to encode the last event, which
	// has no line; it ends the run when the writer reaches it.
	encoded   bool
	lines     []byte
	ends      []int
	encodeErr error
	// err ends the file (a decoding failure, after events) or, with no
	// file, reports a listing or key failure.
	err error
	// done is set on the file's last chunk when the file was read to its
	// end without error.
	done bool
	// last marks the file's last chunk, or a listing failure's only one.
	last bool
}

// line returns events[i]'s NDJSON line, or false when it has none (the
// event that failed to encode).
func (c *chunk) line(i int) ([]byte, bool) {
	if i >= len(c.ends) {
		return nil, false
	}
	start := 0
	if i > 0 {
		start = c.ends[i-1]
	}
	return c.lines[start:c.ends[i]], true
}

// keep drops the events for which drop is true, and their lines, in
// place. Dropping the event that failed to encode drops its error too.
func (c *chunk) keep(drop []bool) {
	withLines := len(c.ends)
	n, m, end, prev := 0, 0, 0, 0 // n events kept, m of them with lines
	for i, ev := range c.events {
		if i < withLines {
			lineEnd := c.ends[i]
			if !drop[i] {
				end += copy(c.lines[end:], c.lines[prev:lineEnd])
				c.ends[m] = end
				m++
			}
			prev = lineEnd
		} else if drop[i] {
			c.encodeErr = nil
		}
		if !drop[i] {
			c.events[n] = ev
			n++
		}
	}
	if withLines > 0 {
		c.ends = c.ends[:m]
		c.lines = c.lines[:end]
	}
	clear(c.events[n:])
	c.events = c.events[:n]
}

// preparation is the work on a chunk that a read-ahead decoder does after
// decoding it, so that the writer's share of the export is only what needs
// its state (the deduplicator and the output files): the work spreads over
// the cores, and encoding an event costs about half of decoding it.
type preparation struct {
	from, to time.Time // -from and -to; zero for no bound
	ndjson   bool      // encode each event's NDJSON line
}

func prepareFor(c *config) preparation {
	return preparation{from: c.from, to: c.to, ndjson: c.format == "ndjson"}
}

// prepare drops the chunk's events outside -from and -to and, for NDJSON,
// encodes the rest. An event that cannot be encoded is not an error of the
// file (it decoded): the writer reports it when it reaches it. Encoding
// events that the deduplicator then drops costs little: duplicates are
// rare.
func (p preparation) prepare(c *chunk) {
	c.read = int64(len(c.events))
	if !p.from.IsZero() || !p.to.IsZero() {
		kept := c.events[:0]
		for _, ev := range c.events {
			t := ev.Time()
			if (!p.from.IsZero() && t.Before(p.from)) || (!p.to.IsZero() && !t.Before(p.to)) {
				c.outside++
				continue
			}
			kept = append(kept, ev)
		}
		clear(c.events[len(kept):])
		c.events = kept
	}
	if !p.ndjson {
		return
	}
	c.encoded = true
	buf := c.lines[:0]
	for _, ev := range c.events {
		b, err := currents.AppendJSON(buf, ev)
		if err != nil {
			// The events after it are never written: the run ends there.
			c.encodeErr = fmt.Errorf("event %s: %w", ev.EventID(), err)
			clear(c.events[len(c.ends)+1:])
			c.events = c.events[:len(c.ends)+1]
			break
		}
		buf = append(b, '\n')
		c.ends = append(c.ends, len(buf))
	}
	c.lines = buf
}
