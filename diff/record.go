package diff

// Record is one input to a plan: a user key and the attribute values the
// caller wants Braze to hold for it (see Value for the value model).
//
// A plan copies a record's Attrs slice as it reads the record, so the input
// may reuse the slice for its next record (as amperity.ReuseRecords does);
// the values themselves are kept until the record is planned and must not
// be modified.
type Record struct {
	// Key identifies the user (for Braze, usually the external_id).
	Key string
	// Attrs are the attribute values, in the caller's order. Names must be
	// unique within a record.
	Attrs []Attr
}

// Attr is one named attribute value.
type Attr struct {
	Name  string
	Value Value
}
