package amperity

import (
	"context"
	"errors"
	"fmt"
	"iter"
)

// Concat joins the parts of a split export (Amperity writes Parquet as a
// folder of part files, and splits large delimited files) into one source.
// Every part must have the same columns with the same types in the same
// order; rows keep their own part's Source and numbering, so errors still
// point at the right file.
func Concat(parts ...RowSource) (RowSource, error) {
	if len(parts) == 0 {
		return nil, &ConfigError{Err: ErrInvalidOption, Detail: "Concat needs at least one part"}
	}
	first := parts[0].Schema()
	for i, p := range parts[1:] {
		s := p.Schema()
		if s.Len() != first.Len() {
			return nil, &ConfigError{Err: ErrHeaderMismatch, Detail: fmt.Sprintf("part %d has %d columns, part 1 has %d", i+2, s.Len(), first.Len())}
		}
		for j := range s.Len() {
			if a, b := first.Column(j), s.Column(j); a != b {
				return nil, &ConfigError{Column: b.Name, Err: ErrHeaderMismatch,
					Detail: fmt.Sprintf("part %d column %d is %s %s, part 1 has %s %s", i+2, j+1, b.Name, b.Type, a.Name, a.Type)}
			}
		}
	}
	return concat{schema: first, parts: parts}, nil
}

type concat struct {
	schema Schema
	parts  []RowSource
}

func (c concat) Schema() Schema { return c.schema }

// Rows yields the rows of each part in turn. A part's fatal error ends the
// whole sequence, since the rows after it in that part are lost.
func (c concat) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for _, p := range c.parts {
			var last error
			for row, err := range p.Rows(ctx) {
				last = err
				if !yield(row, err) {
					return
				}
			}
			if last != nil && (errors.Is(last, ErrUnterminatedQuote) || errors.Is(last, ErrRead) ||
				errors.Is(last, ErrRecordTooLarge) || errors.Is(last, context.Canceled) || errors.Is(last, context.DeadlineExceeded)) {
				return
			}
		}
	}
}
