package main

import "github.com/ampbraze/ampbraze/currents"

// seenBatch deduplicates a chunk of one file's events at once
// (currents.Deduper.SeenBatch): one lock per chunk. In the export's CPU
// profile the deduplicator's lookups are the writer's largest cost (a
// cache miss per new id). The slices are reused from chunk to chunk.
type seenBatch struct {
	ids []string
	dup []bool
}

// duplicates reports for each event whether the deduplicator holds its id
// already (recording it if not). The events of a file in Braze's key
// layout share its queue hour; a file outside the layout has none, and
// each event's own time stands in, one call each.
func (s *seenBatch) duplicates(d *currents.Deduper, f currents.File, events []currents.Event) []bool {
	if cap(s.dup) < len(events) {
		s.dup = make([]bool, len(events))
	}
	dup := s.dup[:len(events)]
	if f.Key.Hour.IsZero() {
		for i, ev := range events {
			dup[i] = d.Seen(f.Key.EventType, ev.EventID(), ev.Time())
		}
		return dup
	}
	ids := s.ids[:0]
	for _, ev := range events {
		ids = append(ids, ev.EventID())
	}
	d.SeenBatch(f.Key.EventType, ids, f.Key.Hour, dup)
	clear(ids) // the ids share the events' memory: let it go
	s.ids = ids
	return dup
}
