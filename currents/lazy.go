package currents

// Fields a newer writer schema adds to a typed event (Currents adds a few
// optional fields to existing types in most monthly releases) are lazy:
// the per-record decode only skips them, and Get and the JSON view read
// them from the record's own bytes (Record.raw) when asked. Decoding
// them up front into plain Go values, as before, cost 1.49x the CPU of
// the same records without them and 5 allocations per event instead of
// 2; skipped, 1.09x (their bytes) and 2 (BenchmarkDecodeAddedFields,
// currents/BENCHMARKS.md).
// Only primitives and ["null", primitive] are lazy: skipping those checks
// everything reading them would, so a value read later cannot fail.

// skipPrimitive advances past the value of a lazy step.
func (b *bin) skipPrimitive(st *step) {
	if st.union {
		br := b.long()
		if br == st.nullBr {
			return
		}
		if br != st.valBr {
			b.fail(errUnionIndex)
			return
		}
	}
	switch st.w {
	case wString, wBytes:
		b.skip(b.length())
	case wInt, wLong:
		b.long()
	case wFloat:
		b.skip(4)
	case wDouble:
		b.skip(8)
	case wBool:
		b.skip(1)
	}
}

// skipStep advances past the value of any step.
func (b *bin) skipStep(st *step) {
	if st.w == wOther {
		b.skipValue(st.schema, 0)
		return
	}
	b.skipPrimitive(st)
}

// readPrimitive reads the value of a lazy step as Generic.Get returns it.
func (b *bin) readPrimitive(st *step) any {
	if st.union {
		br := b.long()
		if br == st.nullBr {
			return nil
		}
		if br != st.valBr {
			b.fail(errUnionIndex)
			return nil
		}
	}
	switch st.w {
	case wString:
		return b.str()
	case wBytes:
		return []byte(b.str())
	case wInt, wLong:
		return b.long()
	case wFloat:
		return b.float()
	case wDouble:
		return b.double()
	case wBool:
		return b.boolean()
	}
	return nil
}

// appendPrimitiveJSON appends the JSON of a lazy step's value without
// boxing it.
func (b *bin) appendPrimitiveJSON(buf []byte, st *step) []byte {
	if st.union {
		br := b.long()
		if br == st.nullBr || br != st.valBr {
			return append(buf, "null"...)
		}
	}
	switch st.w {
	case wString:
		return appendJSONString(buf, b.str())
	case wInt, wLong:
		return appendInt(buf, b.long())
	case wFloat:
		return appendFloat(buf, float64(b.float()), true)
	case wDouble:
		return appendFloat(buf, b.double(), false)
	case wBool:
		return appendBool(buf, b.boolean())
	case wBytes:
		buf, _ = appendJSONValue(buf, []byte(b.str()), 0)
		return buf
	}
	return append(buf, "null"...)
}

// lazyCursor walks a record's bytes step by step, so that the JSON view
// reads every lazy field in one pass.
type lazyCursor struct {
	b    bin
	next int // index of the step b is positioned at
}

// seek positions c at step i of p (i >= c.next).
func (c *lazyCursor) seek(p *program, i int) {
	for ; c.next < i && c.b.err == nil; c.next++ {
		c.b.skipStep(&p.steps[c.next])
	}
}

// lazyValue returns the value of lazy step i.
func (r *Record) lazyValue(p *program, i int) any {
	c := lazyCursor{b: bin{s: r.raw}}
	c.seek(p, i)
	v := c.b.readPrimitive(&p.steps[i])
	if c.b.err != nil {
		return nil // not reached: the record decoded, so its bytes are whole
	}
	return v
}
