package diff

import "slices"

// Progress returns the plan's counters; safe to call while it runs.
func (p *Plan) Progress() Progress {
	return Progress{
		Read:      p.read.Load(),
		Emitted:   p.emitted.Load(),
		Acked:     p.acked.Load(),
		Rejected:  p.rejected.Load(),
		Failed:    p.failed.Load(),
		Committed: p.committed.Load(),
	}
}

// Summary counts what the plan found so far; complete once Changes is
// exhausted. Safe to call while the plan runs.
func (p *Plan) Summary() Summary {
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	s := p.sum
	s.Records = p.read.Load()
	s.New, s.Changed, s.Removed, s.Unchanged = p.keys.new, p.keys.changed, p.keys.removed, p.keys.unchanged
	s.StillRejected = p.stillRejected
	s.Attrs = make(map[string]AttrSummary, len(p.attrCounts))
	for id, c := range p.attrCounts {
		if c == (keyCounts{}) {
			continue
		}
		s.Attrs[p.name(uint32(id))] = AttrSummary{New: c.new, Changed: c.changed, Removed: c.removed, Unchanged: c.unchanged}
	}
	return s
}

// Explain returns the explanation of key, if it was named with WithExplain
// and the plan reached it.
func (p *Plan) Explain(key string) (Explanation, bool) {
	p.sumMu.Lock()
	defer p.sumMu.Unlock()
	ex, ok := p.explanations[key]
	if !ok {
		return Explanation{}, false
	}
	c := *ex
	c.Attrs = slices.Clone(ex.Attrs)
	return c, true
}
