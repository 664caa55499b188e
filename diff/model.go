package diff

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// Kind is the type of a Value.
type Kind uint8

// The kinds of Value. The zero Value is KindNull.
const (
	KindNull   Kind = iota // no value: Braze removes the attribute
	KindBool               // true or false
	KindInt                // a 64-bit integer
	KindFloat              // a float64
	KindNumber             // an exact decimal, kept as its text (json.Number)
	KindString             // a string
	KindTime               // an instant
	KindOther              // any other value of the model, held as given (see AnyValue)
)

// StringValue returns the kind's name ("null", "bool", "int", ...).
func (k Kind) String() string {
	switch k {
	case KindNull:
		return "null"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindNumber:
		return "number"
	case KindString:
		return "string"
	case KindTime:
		return "time"
	case KindOther:
		return "other"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Value is one attribute value of the value model. The common scalars
// (null, bool, int64, float64, exact decimal, string, time) are held
// unboxed, so a producer such as the amperity mapper fills a record
// without allocating for each value; anything else of the model (a date
// or another encoding.TextMarshaler, []string, map[string]any, []any)
// is held as given (KindOther).
//
// Build values with BoolValue, IntValue, FloatValue, NumberValue,
// StringValue, TimeValue or AnyValue; the zero
// Value is null. Compare them with Equal: == does not compile, because
// two equal strings may be held at different addresses.
type Value struct {
	_ [0]func() // no ==: see Equal

	// Like log/slog.Value, three words: num holds a scalar's bits or a
	// string's length, any tells the kind (a kindTag, a string pointer
	// type, a time's location) or holds the value itself.
	num uint64
	any any
}

// The types any holds for the unboxed kinds. They are unexported, so no
// value given to AnyValue can be mistaken for one of them.
type (
	kindTag   Kind                  // KindBool, KindInt, KindFloat: the value is in num
	stringPtr *byte                 // KindString: the bytes; num is the length
	numberPtr *byte                 // KindNumber: the text's bytes; num is the length
	timeLoc   *time.Location        // KindTime: num is the UnixNano instant
	timeWide  struct{ t time.Time } // KindTime beyond UnixNano's years 1678-2262 (boxed)
)

// maxUnixNanoSec bounds the seconds whose instant UnixNano can hold
// (math.MaxInt64 nanoseconds is 9,223,372,036.85 seconds).
const maxUnixNanoSec = math.MaxInt64 / int64(time.Second)

// NullValue returns the null Value (the zero Value).
func NullValue() Value { return Value{} }

// BoolValue returns a boolean Value.
func BoolValue(b bool) Value {
	v := Value{any: kindTag(KindBool)}
	if b {
		v.num = 1
	}
	return v
}

// IntValue returns an integer Value.
func IntValue(i int64) Value { return Value{num: uint64(i), any: kindTag(KindInt)} }

// FloatValue returns a floating-point Value. NaN and infinities are kept, but
// Braze cannot take them (JSON has no such numbers).
func FloatValue(f float64) Value { return Value{num: math.Float64bits(f), any: kindTag(KindFloat)} }

// NumberValue returns an exact decimal Value, kept as its text (money, for
// example, is never rounded through a float). The text is checked when
// the value is hashed.
func NumberValue(n json.Number) Value {
	return Value{num: uint64(len(n)), any: numberPtr(unsafe.StringData(string(n)))}
}

// StringValue returns a string Value.
func StringValue(s string) Value {
	return Value{num: uint64(len(s)), any: stringPtr(unsafe.StringData(s))}
}

// TimeValue returns an instant. The monotonic clock reading is dropped; the
// location is kept for Any.
func TimeValue(t time.Time) Value {
	if sec := t.Unix(); sec > -maxUnixNanoSec && sec < maxUnixNanoSec {
		return Value{num: uint64(t.UnixNano()), any: timeLoc(t.Location())}
	}
	return Value{any: timeWide{t.Round(0)}}
}

// AnyValue returns the Value of v, a value of the model: nil, bool, any Go
// integer or float type, json.Number, string and time.Time become the
// corresponding kind (an unsigned integer beyond int64 stays KindOther);
// a Value is returned as it is; anything else (a calendar date or another
// encoding.TextMarshaler, []string, map[string]any, []any) is held as
// given, KindOther, and checked when hashed.
func AnyValue(v any) Value {
	switch x := v.(type) {
	case nil:
		return Value{}
	case Value:
		return x
	case bool:
		return BoolValue(x)
	case string:
		return StringValue(x)
	case int64:
		return IntValue(x)
	case int:
		return IntValue(int64(x))
	case int32:
		return IntValue(int64(x))
	case int16:
		return IntValue(int64(x))
	case int8:
		return IntValue(int64(x))
	case uint64:
		if x <= math.MaxInt64 {
			return IntValue(int64(x))
		}
	case uint:
		if uint64(x) <= math.MaxInt64 {
			return IntValue(int64(x))
		}
	case uint32:
		return IntValue(int64(x))
	case uint16:
		return IntValue(int64(x))
	case uint8:
		return IntValue(int64(x))
	case float64:
		return FloatValue(x)
	case float32:
		return FloatValue(float64(x))
	case json.Number:
		return NumberValue(x)
	case time.Time:
		return TimeValue(x)
	}
	return Value{any: v}
}

// Kind returns the kind of v.
func (v Value) Kind() Kind {
	switch x := v.any.(type) {
	case nil:
		return KindNull
	case kindTag:
		return Kind(x)
	case stringPtr:
		return KindString
	case numberPtr:
		return KindNumber
	case timeLoc, timeWide:
		return KindTime
	}
	return KindOther
}

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.any == nil }

// Any returns v as a plain Go value, as braze.UserAttributes.Set takes
// it: nil, bool, int64, float64, json.Number, string, time.Time, or the
// value given to AnyValue for KindOther. It allocates for most kinds: call it
// when sending, not when planning.
func (v Value) Any() any {
	switch x := v.any.(type) {
	case kindTag:
		switch Kind(x) {
		case KindBool:
			return v.num == 1
		case KindInt:
			return int64(v.num)
		case KindFloat:
			return math.Float64frombits(v.num)
		}
	case stringPtr:
		return v.str()
	case numberPtr:
		return json.Number(v.str())
	case timeLoc, timeWide:
		return v.time()
	}
	return v.any
}

// str returns the text of a KindString or KindNumber value.
func (v Value) str() string {
	switch p := v.any.(type) {
	case stringPtr:
		return unsafe.String(p, int(v.num))
	case numberPtr:
		return unsafe.String(p, int(v.num))
	}
	return ""
}

// time returns the instant of a KindTime value.
func (v Value) time() time.Time {
	switch x := v.any.(type) {
	case timeLoc:
		t := time.Unix(0, int64(v.num))
		if x != nil {
			return t.In(x)
		}
		return t.UTC()
	case timeWide:
		return x.t
	}
	return time.Time{}
}

// Equal reports whether v and w are the same value as Braze would hold
// it: whether their canonical encodings, which plans compare, are equal.
// So Int(5) equals Number("5.0"), and an instant equals itself in any
// zone. A value that cannot be encoded equals nothing.
func (v Value) Equal(w Value) bool {
	var e1, e2 encoder
	h1, err1 := e1.hash(v)
	h2, err2 := e2.hash(w)
	return err1 == nil && err2 == nil && h1 == h2 && string(e1.buf) == string(e2.buf)
}

// String formats the value as fmt formats Any, for messages.
func (v Value) String() string {
	if s, ok := v.any.(stringPtr); ok {
		return unsafe.String(s, int(v.num))
	}
	return fmt.Sprint(v.Any())
}

// float returns the value of a numeric kind as a float64, for attributes
// compared with a tolerance.
func (v Value) float() (float64, bool) {
	switch v.Kind() {
	case KindInt:
		return float64(int64(v.num)), true
	case KindFloat:
		f := math.Float64frombits(v.num)
		return f, !math.IsNaN(f)
	case KindNumber:
		f, err := strconv.ParseFloat(v.str(), 64)
		return f, err == nil
	}
	return 0, false
}
