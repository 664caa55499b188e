package currents

import (
	"errors"
	"io"
	"iter"
)

// Decoder decodes Currents Avro object container files. It is safe for
// concurrent use and caches parsed writer schemas across files.
type Decoder struct{}

// DecoderOption configures a Decoder.
type DecoderOption func(*Decoder)

// NewDecoder returns a Decoder.
func NewDecoder(opts ...DecoderOption) *Decoder {
	d := &Decoder{}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Events decodes one container file of the given event type.
// CONTRACT STUB: replaced by the real decoder.
func (d *Decoder) Events(r io.Reader, eventType string) iter.Seq2[Event, error] {
	return func(yield func(Event, error) bool) {
		yield(nil, errors.New("currents: decoder not implemented yet"))
	}
}
