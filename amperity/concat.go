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

// Rows yields the rows of each part in turn. A part's fatal error (see
// FatalError) ends the whole sequence, since the rows after it in that
// part are lost; an error that is neither an *InputError nor fatal, from a
// part that is not one of this module's readers, is made fatal for the
// same reason. A cancelled ctx between parts is fatal too.
func (c concat) Rows(ctx context.Context) iter.Seq2[Row, error] {
	return func(yield func(Row, error) bool) {
		for i, p := range c.parts {
			if err := ctx.Err(); err != nil {
				yield(Row{}, &FatalError{Err: fmt.Errorf("part %d of %d: %w", i+1, len(c.parts), err)})
				return
			}
			for row, err := range p.Rows(ctx) {
				if err != nil && !isRowError(err) {
					yield(Row{}, fatal(err))
					return
				}
				if !yield(row, err) {
					return
				}
			}
		}
	}
}

// isRowError reports whether err is about one row only, so that the stream
// that yielded it goes on: an *InputError that is not fatal.
func isRowError(err error) bool {
	var ie *InputError
	return errors.As(err, &ie) && !isFatal(err)
}
