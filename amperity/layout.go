package amperity

import (
	"fmt"
	"slices"
	"strings"
)

// layout is the mapper's plan with column positions resolved against one
// column order of rows: the mapper's own schema, or a reader's.
type layout struct {
	first    *Column // identity of the row schema: the address of its first column
	n        int     // its number of columns
	names    []string
	idCols   []int
	targets  []target
	arrayAud []audienceSource
}

// layoutOf returns the plan for the row's column order, resolving it by
// name the first time that order is met.
func (m *Mapper) layoutOf(row Row) (*layout, error) {
	n := len(row.Schema.cols)
	if n == 0 {
		return m.own, nil
	}
	first := &row.Schema.cols[0]
	if l := m.own; l.first == first && l.n == n {
		return l, nil
	}
	if l := m.last.Load(); l != nil && l.first == first && l.n == n {
		return l, nil
	}
	l, err := m.bind(row.Schema)
	if err != nil {
		return nil, &FatalError{Err: &InputError{Source: row.Source, Row: row.Number, Line: row.Line, Err: err}}
	}
	m.last.Store(l)
	return l, nil
}

// bind resolves the plan against the column order of rows: every column of
// the mapper's schema must be among the rows' columns, and every column of
// the rows in the mapper's schema, matched by exact name. Types are the
// mapper's: it converts the cells' text by its own schema.
func (m *Mapper) bind(s Schema) (*layout, error) {
	pos := make(map[string]int, len(s.cols))
	for i, c := range s.cols {
		pos[c.Name] = i
	}
	perm := make([]int, len(m.schema.cols))
	for i, c := range m.schema.cols {
		j, ok := pos[c.Name]
		if !ok {
			return nil, fmt.Errorf("%w: the mapper's column %q is not among the rows' columns (%s)", ErrHeaderMismatch, c.Name, strings.Join(s.Names(), ", "))
		}
		perm[i] = j
	}
	for _, c := range s.cols {
		if _, ok := m.schema.Lookup(c.Name); !ok {
			return nil, fmt.Errorf("%w: the rows have a column %q that the mapper's schema does not list (%s); add it to the schema, ignored if need be", ErrHeaderMismatch, c.Name, strings.Join(m.schema.Names(), ", "))
		}
	}
	own := m.own
	l := &layout{first: &s.cols[0], n: len(s.cols), names: s.Names(), idCols: make([]int, len(own.idCols)),
		targets: make([]target, len(own.targets)), arrayAud: make([]audienceSource, len(own.arrayAud))}
	for i, c := range own.idCols {
		l.idCols[i] = perm[c]
	}
	for i, t := range own.targets {
		t.sources = slices.Clone(t.sources)
		for k := range t.sources {
			t.sources[k].col = perm[t.sources[k].col]
		}
		l.targets[i] = t
	}
	for i, a := range own.arrayAud {
		if a.col >= 0 {
			a.col = perm[a.col]
		}
		l.arrayAud[i] = a
	}
	return l, nil
}
