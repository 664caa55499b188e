package diff

import (
	"encoding"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/cespare/xxhash/v2"
)

// Type tags of the canonical encoding. They are part of the persisted state
// format (hashes of these bytes are stored): never renumber them.
const (
	tagNull   = 0
	tagFalse  = 1
	tagTrue   = 2
	tagNumber = 3
	tagString = 4
	tagTime   = 5
	tagText   = 6
	tagList   = 7
	tagObject = 8
	tagArray  = 9
)

// encoder appends the canonical encoding of values to a reusable buffer,
// so hashing a record allocates nothing in the common case.
type encoder struct {
	buf  []byte
	num  []byte
	keys []string
}

// Hash returns the 64-bit hash of the canonical encoding of v (a Value or
// any value AnyValue accepts). Two values that Braze would hold identically hash
// identically: numbers compare by decimal value whatever their Go type
// (int64(5), 5.0 and json.Number("5.00") are equal), times by instant,
// encoding.TextMarshaler values by type and text.
func Hash(v any) (uint64, error) {
	var e encoder
	return e.hash(AnyValue(v))
}

func (e *encoder) hash(v Value) (uint64, error) {
	e.buf = e.buf[:0]
	if err := e.value(v, 0); err != nil {
		return 0, err
	}
	return xxhash.Sum64(e.buf), nil
}

const maxDepth = 64

// value appends the canonical encoding of v. Each kind encodes exactly as
// the plain Go value it stands for did before Value existed: the hashes
// in stored state stay valid.
func (e *encoder) value(v Value, depth int) error {
	switch x := v.any.(type) {
	case nil:
		e.buf = append(e.buf, tagNull)
	case kindTag:
		switch Kind(x) {
		case KindBool:
			if v.num == 1 {
				e.buf = append(e.buf, tagTrue)
			} else {
				e.buf = append(e.buf, tagFalse)
			}
		case KindInt:
			e.intNumber(int64(v.num))
		case KindFloat:
			e.float(math.Float64frombits(v.num))
		}
	case stringPtr:
		e.str(tagString, v.str())
	case numberPtr:
		return e.number(v.str())
	case timeLoc:
		sec, nsec := int64(v.num)/1e9, int64(v.num)%1e9
		if nsec < 0 {
			sec, nsec = sec-1, nsec+1e9
		}
		e.time(sec, nsec)
	case timeWide:
		e.time(x.t.Unix(), int64(x.t.Nanosecond()))
	default:
		return e.other(v.any, depth)
	}
	return nil
}

// encode appends the canonical encoding of an element of a list or object.
func (e *encoder) encode(v any, depth int) error { return e.value(AnyValue(v), depth) }

// other encodes the values of KindOther.
func (e *encoder) other(v any, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("value nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case uint64:
		var tmp [24]byte
		return e.number(string(strconv.AppendUint(tmp[:0], x, 10)))
	case uint:
		var tmp [24]byte
		return e.number(string(strconv.AppendUint(tmp[:0], uint64(x), 10)))
	case []string:
		e.buf = append(e.buf, tagList)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x)))
		for _, s := range x {
			e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
			e.buf = append(e.buf, s...)
		}
	case map[string]any:
		e.buf = append(e.buf, tagObject)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x)))
		start := len(e.keys)
		for k := range x {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[start:]
		slices.Sort(keys)
		for _, k := range keys {
			e.buf = binary.AppendUvarint(e.buf, uint64(len(k)))
			e.buf = append(e.buf, k...)
			if err := e.encode(x[k], depth+1); err != nil {
				return fmt.Errorf("key %q: %w", k, err)
			}
		}
		e.keys = e.keys[:start]
	case []any:
		e.buf = append(e.buf, tagArray)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(x)))
		for i, el := range x {
			if err := e.encode(el, depth+1); err != nil {
				return fmt.Errorf("index %d: %w", i, err)
			}
		}
	case encoding.TextMarshaler:
		text, err := x.MarshalText()
		if err != nil {
			return fmt.Errorf("%T: %w", v, err)
		}
		e.buf = append(e.buf, tagText)
		name := reflect.TypeOf(v).String()
		e.buf = binary.AppendUvarint(e.buf, uint64(len(name)))
		e.buf = append(e.buf, name...)
		e.buf = binary.AppendUvarint(e.buf, uint64(len(text)))
		e.buf = append(e.buf, text...)
	default:
		return &UnsupportedValueError{Type: fmt.Sprintf("%T", v)}
	}
	return nil
}

func (e *encoder) time(sec, nsec int64) {
	e.buf = append(e.buf, tagTime)
	e.buf = binary.LittleEndian.AppendUint64(e.buf, uint64(sec))
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(nsec))
}

func (e *encoder) str(tag byte, s string) {
	e.buf = append(e.buf, tag)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) intNumber(x int64) {
	var tmp [24]byte
	// Integers are valid decimals: canonicalDecimal never fails on them.
	_ = e.number(string(strconv.AppendInt(tmp[:0], x, 10)))
}

func (e *encoder) float(f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Not representable in JSON; hashed apart from every number.
		e.str(tagNumber, strconv.FormatFloat(f, 'g', -1, 64))
		return
	}
	var tmp [32]byte
	_ = e.number(string(strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)))
}

func (e *encoder) number(s string) error {
	var err error
	e.num, err = appendCanonicalDecimal(e.num[:0], s)
	if err != nil {
		return err
	}
	e.buf = append(e.buf, tagNumber)
	e.buf = binary.AppendUvarint(e.buf, uint64(len(e.num)))
	e.buf = append(e.buf, e.num...)
	return nil
}

// appendCanonicalDecimal appends the canonical form of the decimal s:
// an optional '-', the significant digits without leading or trailing
// zeros, 'e' and the exponent of the last digit ("1.50" -> "15e-1",
// "100" -> "1e2", "-0.0" -> "0").
func appendCanonicalDecimal(dst []byte, s string) ([]byte, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := len(dst)
	if neg {
		dst = append(dst, '-')
	}
	digitsAt := len(dst)
	var exp int64
	sawDigit, sawPoint := false, false
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			sawDigit = true
			if sawPoint {
				exp--
			}
			if c == '0' && len(dst) == digitsAt {
				continue // leading zero
			}
			dst = append(dst, c)
		case c == '.' && !sawPoint:
			sawPoint = true
		default:
			goto exponent
		}
	}
exponent:
	if !sawDigit {
		return dst[:start], fmt.Errorf("invalid decimal %q", s)
	}
	if i < len(s) {
		if s[i] != 'e' && s[i] != 'E' {
			return dst[:start], fmt.Errorf("invalid decimal %q", s)
		}
		e, err := strconv.ParseInt(s[i+1:], 10, 32)
		if err != nil {
			return dst[:start], fmt.Errorf("invalid decimal %q: exponent", s)
		}
		exp += e
	}
	// Trailing zeros move into the exponent.
	for len(dst) > digitsAt && dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
		exp++
	}
	if len(dst) == digitsAt {
		return append(dst[:start], '0'), nil
	}
	if exp > maxExponent || exp < -maxExponent {
		return dst[:start], fmt.Errorf("decimal %q: exponent out of range", s)
	}
	dst = append(dst, 'e')
	return strconv.AppendInt(dst, exp, 10), nil
}

// maxExponent bounds decimal exponents, far beyond any JSON number a
// destination accepts, so hostile input cannot make comparisons expensive.
const maxExponent = 100000
