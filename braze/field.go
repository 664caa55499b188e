package braze

// Field holds an optional profile value with three states: unset (the zero
// Field, not sent), null (sent as JSON null, which clears the value in
// Braze) and set (sent as the value). The distinction matters because Braze
// treats a missing key as "leave unchanged" and null as "remove".
type Field[T any] struct {
	value T
	state fieldState
}

type fieldState uint8

const (
	fieldUnset fieldState = iota
	fieldNull
	fieldSet
)

// FieldOf returns a Field set to v.
func FieldOf[T any](v T) Field[T] { return Field[T]{value: v, state: fieldSet} }

// NullField returns a Field that is sent as JSON null, clearing the value in Braze.
func NullField[T any]() Field[T] { return Field[T]{state: fieldNull} }

// Get returns the value and whether the field holds one (false for unset and
// null fields).
func (f Field[T]) Get() (T, bool) { return f.value, f.state == fieldSet }

// IsSet reports whether the field is sent at all (as a value or as null).
func (f Field[T]) IsSet() bool { return f.state != fieldUnset }

// IsNull reports whether the field is sent as JSON null.
func (f Field[T]) IsNull() bool { return f.state == fieldNull }

// hasValue reports whether the field holds a value (not unset, not null).
func (f Field[T]) hasValue() bool { return f.state == fieldSet }
