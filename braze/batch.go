package braze

// A batch is one /users/track request: TrackAll's sender assembles it from
// encoded objects, a worker sends it, and the sender reports it.

// array identifies one of the three arrays of a request.
type array uint8

const (
	arrAttributes array = iota
	arrEvents
	arrPurchases
)

var arrayNames = [...]string{"attributes", "events", "purchases"}

// userKey identifies the user of an attributes object, to keep two objects
// of one user out of one request.
type userKey struct {
	kind uint8
	a, b string
}

func attributesUser(a *UserAttributes) userKey {
	switch {
	case a.ExternalID != "":
		return userKey{kind: 1, a: a.ExternalID}
	case a.BrazeID != "":
		return userKey{kind: 2, a: a.BrazeID}
	case a.UserAlias != nil:
		return userKey{kind: 3, a: a.UserAlias.Name, b: a.UserAlias.Label}
	case a.Email.hasValue():
		return userKey{kind: 4, a: a.Email.value}
	case a.Phone.hasValue():
		return userKey{kind: 5, a: a.Phone.value}
	}
	return userKey{kind: 6, a: ""} // push token import: no user identity
}

// batch is one request being assembled, then sent, then reported.
type batch struct {
	bufs       [3][]byte  // comma-separated object JSON per array
	items      [3][]int32 // indexes into refs per array, in array order
	refs       []any
	seqs       []int64
	errs       []error
	users      map[userKey]struct{}
	idempotent bool
	body       []byte
}

func newBatch() *batch {
	return &batch{users: make(map[userKey]struct{}, DefaultBatchSize), idempotent: true}
}

func (b *batch) reset() {
	for i := range b.bufs {
		b.bufs[i] = b.bufs[i][:0]
		b.items[i] = b.items[i][:0]
	}
	clear(b.refs)
	b.refs = b.refs[:0]
	b.seqs = b.seqs[:0]
	clear(b.errs)
	b.errs = b.errs[:0]
	clear(b.users)
	b.idempotent = true
	b.body = b.body[:0]
}

func (b *batch) count() int { return len(b.refs) }

// size is the body size if obj were added to array arr.
func (b *batch) size() int {
	n := 2 // {}
	for i := range b.bufs {
		if len(b.items[i]) > 0 {
			n += len(arrayNames[i]) + 6 + len(b.bufs[i]) // "name":[...],
		}
	}
	return n
}

func (b *batch) add(arr array, obj []byte, ref any, seq int64, idempotent bool) {
	if len(b.items[arr]) > 0 {
		b.bufs[arr] = append(b.bufs[arr], ',')
	}
	b.bufs[arr] = append(b.bufs[arr], obj...)
	b.items[arr] = append(b.items[arr], int32(len(b.refs)))
	b.refs = append(b.refs, ref)
	b.seqs = append(b.seqs, seq)
	b.idempotent = b.idempotent && idempotent
}

// buildBody assembles the request body into b.body.
func (b *batch) buildBody() []byte {
	body := append(b.body[:0], '{')
	first := true
	for i := range b.bufs {
		if len(b.items[i]) == 0 {
			continue
		}
		if !first {
			body = append(body, ',')
		}
		first = false
		body = append(body, '"')
		body = append(body, arrayNames[i]...)
		body = append(body, `":[`...)
		body = append(body, b.bufs[i]...)
		body = append(body, ']')
	}
	body = append(body, '}')
	b.body = body
	return body
}

// fill sets every object's error to err.
func (b *batch) fill(err error) {
	b.errs = b.errs[:0]
	for range b.refs {
		b.errs = append(b.errs, err)
	}
}
