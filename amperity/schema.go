package amperity

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// Type is an Amperity data type. Varchar, which Amperity's SQL uses as a
// cast target, is read as String.
type Type uint8

// The Amperity data types.
const (
	TypeString Type = iota + 1
	TypeBoolean
	TypeDate
	TypeDatetime
	TypeDecimal
	TypeFloat
	TypeInteger
)

var typeNames = [...]string{TypeString: "String", TypeBoolean: "Boolean", TypeDate: "Date", TypeDatetime: "Datetime",
	TypeDecimal: "Decimal", TypeFloat: "Float", TypeInteger: "Integer"}

// String returns Amperity's name for the type.
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("Type(%d)", uint8(t))
}

// ParseType reads a type name, ignoring case and a parenthesised precision
// ("Decimal(12,2)", "varchar(255)").
func ParseType(s string) (Type, error) {
	name := strings.TrimSpace(s)
	if i := strings.IndexByte(name, '('); i >= 0 && strings.HasSuffix(name, ")") {
		name = strings.TrimSpace(name[:i])
	}
	switch strings.ToLower(name) {
	case "string", "varchar":
		return TypeString, nil
	case "boolean":
		return TypeBoolean, nil
	case "date":
		return TypeDate, nil
	case "datetime":
		return TypeDatetime, nil
	case "decimal":
		return TypeDecimal, nil
	case "float":
		return TypeFloat, nil
	case "integer":
		return TypeInteger, nil
	}
	return 0, &ConfigError{Err: ErrInvalidSchema, Detail: fmt.Sprintf("unknown type %q (want Boolean, Date, Datetime, Decimal, Float, Integer, String or Varchar)", s)}
}

// Column is a named, typed column of an export.
type Column struct {
	Name string
	Type Type
}

// Schema is the ordered list of columns of an export. Build one with
// NewSchema or ParseSchema, or get one from a reader, which returns the
// columns in file order.
type Schema struct {
	cols []Column
}

// NewSchema checks that names are non-empty and unique (exactly, since
// Braze names are case-sensitive) and that every type is known.
func NewSchema(cols ...Column) (Schema, error) {
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		if c.Name == "" {
			return Schema{}, &ConfigError{Err: ErrEmptyColumn, Detail: fmt.Sprintf("column %d", i+1)}
		}
		if seen[c.Name] {
			return Schema{}, &ConfigError{Column: c.Name, Err: ErrDuplicateColumn}
		}
		if c.Type < TypeString || c.Type > TypeInteger {
			return Schema{}, &ConfigError{Column: c.Name, Err: ErrInvalidSchema, Detail: fmt.Sprintf("unknown type %d", c.Type)}
		}
		seen[c.Name] = true
	}
	return Schema{cols: append([]Column(nil), cols...)}, nil
}

// ParseSchema reads a schema file: one `column:type` line per column, in
// any order. Blank lines and lines starting with '#' are ignored. The type
// follows the last colon, so column names may contain colons and spaces.
func ParseSchema(r io.Reader) (Schema, error) {
	sc := bufio.NewScanner(r)
	var cols []Column
	seen := map[string]int{}
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if line == 1 {
			text = strings.TrimPrefix(text, "\uFEFF")
		}
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		i := strings.LastIndexByte(text, ':')
		if i < 0 {
			return Schema{}, &ConfigError{Line: line, Err: ErrInvalidSchema, Detail: fmt.Sprintf("%q is not a column:type line", shorten(text))}
		}
		name := strings.TrimSpace(text[:i])
		if name == "" {
			return Schema{}, &ConfigError{Line: line, Err: ErrEmptyColumn}
		}
		t, err := ParseType(text[i+1:])
		if err != nil {
			err.(*ConfigError).Line = line
			err.(*ConfigError).Column = name
			return Schema{}, err
		}
		if prev, ok := seen[name]; ok {
			return Schema{}, &ConfigError{Line: line, Column: name, Err: ErrDuplicateColumn, Detail: fmt.Sprintf("also on line %d", prev)}
		}
		seen[name] = line
		cols = append(cols, Column{Name: name, Type: t})
	}
	if err := sc.Err(); err != nil {
		return Schema{}, &ConfigError{Line: line + 1, Err: ErrInvalidSchema, Detail: err.Error()}
	}
	return Schema{cols: cols}, nil
}

// Columns returns a copy of the columns in order.
func (s Schema) Columns() []Column { return append([]Column(nil), s.cols...) }

// Len returns the number of columns.
func (s Schema) Len() int { return len(s.cols) }

// Column returns the i-th column.
func (s Schema) Column(i int) Column { return s.cols[i] }

// Names returns the column names in order.
func (s Schema) Names() []string {
	out := make([]string, len(s.cols))
	for i, c := range s.cols {
		out[i] = c.Name
	}
	return out
}

// Lookup returns the column with exactly this name.
func (s Schema) Lookup(name string) (Column, bool) {
	for _, c := range s.cols {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// String renders the schema in the `column:type` file format.
func (s Schema) String() string {
	var b strings.Builder
	for _, c := range s.cols {
		b.WriteString(c.Name)
		b.WriteByte(':')
		b.WriteString(c.Type.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// bind orders the schema by a file's header. Every header name must be a
// schema column and every schema column must be in the header; anything
// else is ErrHeaderMismatch naming the first difference.
func (s Schema) bind(header []string) (Schema, error) {
	out := make([]Column, len(header))
	used := make(map[string]bool, len(header))
	for i, h := range header {
		c, ok := s.Lookup(h)
		if !ok {
			return Schema{}, fmt.Errorf("%w: header column %d %q is not in the schema", ErrHeaderMismatch, i+1, h)
		}
		out[i] = c
		used[h] = true
	}
	for _, c := range s.cols {
		if !used[c.Name] {
			return Schema{}, fmt.Errorf("%w: schema column %q is missing from the header", ErrHeaderMismatch, c.Name)
		}
	}
	return Schema{cols: out}, nil
}

// checkHeader rejects empty and duplicate header names.
func checkHeader(header []string) error {
	seen := make(map[string]int, len(header))
	for i, h := range header {
		if strings.TrimSpace(h) == "" {
			return fmt.Errorf("%w: header column %d", ErrEmptyColumn, i+1)
		}
		if j, ok := seen[h]; ok {
			return fmt.Errorf("%w: %q is header column %d and %d", ErrDuplicateColumn, h, j+1, i+1)
		}
		seen[h] = i
	}
	return nil
}

// stringSchema types every column as String, for files read without a schema.
func stringSchema(names []string) Schema {
	cols := make([]Column, len(names))
	for i, n := range names {
		cols[i] = Column{Name: n, Type: TypeString}
	}
	return Schema{cols: cols}
}
