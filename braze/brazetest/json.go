package brazetest

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// The fake decodes request bodies with its own small JSON parser instead of
// encoding/json: a 75-object request decodes about five times faster, which
// keeps the fake from being the bottleneck of the client's benchmarks. The
// parser works on one string copy of the body, so unescaped strings and
// number texts are substrings of it and cost no allocation; anything kept in
// server state is cloned first so that state does not pin request bodies.
// FuzzParseJSON checks it against encoding/json.

// kind is the JSON type of a jv.
type kind uint8

const (
	kNull kind = iota
	kBool
	kNumber
	kString
	kArray
	kObject
)

func (k kind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// jv is one decoded JSON value. It is kept small (48 bytes) because the
// parser copies it around: arrays and objects share one slice of members,
// the elements of an array being members without keys.
type jv struct {
	k kind
	b bool     // kBool
	s string   // kString: the text; kNumber: the literal as written; kArray, kObject: the raw JSON text
	o []member // kObject: members in the order written (duplicates kept; get returns the last); kArray: elements
}

// member is one key/value pair of a JSON object, or (with an empty key) one
// element of an array.
type member struct {
	key string
	val jv
}

// get returns the value of key in an object, the last one when the key is
// repeated (as encoding/json does).
func (v *jv) get(key string) (*jv, bool) {
	for i := len(v.o) - 1; i >= 0; i-- {
		if v.o[i].key == key {
			return &v.o[i].val, true
		}
	}
	return nil, false
}

// isIntLiteral reports whether a number literal is written as an integer.
func isIntLiteral(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			return false
		}
	}
	return true
}

// syntaxError is a JSON syntax error at a byte offset of the body.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("invalid JSON at byte %d: %s", e.off, e.msg) }

const maxDepth = 1000

// parseJSON decodes one JSON value that must fill the whole input (white
// space around it allowed).
func parseJSON(s string) (jv, error) {
	p := parser{}
	return p.parse(s)
}

// parse decodes s with the parser's buffers; the result is valid until the
// next parse or reset.
func (p *parser) parse(s string) (jv, error) {
	p.s, p.i = s, 0
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return jv{}, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return jv{}, p.errorf("unexpected data after the top-level value")
	}
	return v, nil
}

type parser struct {
	s string
	i int
	// Members are collected on a scratch stack while a container is open,
	// then copied into an exactly-sized slice cut from a shared chunk: a few
	// allocations per body instead of a growing slice per container.
	mstack []member
	mchunk []member

	// Scratch space for processing the parsed request, pooled with the
	// parser.
	acc      []acceptedObject
	verdicts []verdict
}

const chunkSize = 512

// reset forgets the last parse so the parser can be reused (pooled). The
// buffers are not cleared: a pooled parser may keep its last body alive,
// which costs less than clearing tens of kilobytes per request.
func (p *parser) reset() {
	p.mchunk = p.mchunk[:0]
	p.mstack = p.mstack[:0]
	p.acc = p.acc[:0]
	p.verdicts = p.verdicts[:0]
	p.s = ""
}

func (p *parser) members(from int) []member {
	n := len(p.mstack) - from
	if n > cap(p.mchunk)-len(p.mchunk) {
		p.mchunk = make([]member, 0, max(chunkSize, n, 2*cap(p.mchunk)))
	}
	start := len(p.mchunk)
	p.mchunk = append(p.mchunk, p.mstack[from:]...)
	p.mstack = p.mstack[:from]
	return p.mchunk[start:len(p.mchunk):len(p.mchunk)]
}

func (p *parser) errorf(format string, args ...any) error {
	return &syntaxError{off: p.i, msg: fmt.Sprintf(format, args...)}
}

func (p *parser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (jv, error) {
	if depth > maxDepth {
		return jv{}, p.errorf("nested too deeply")
	}
	if p.i >= len(p.s) {
		return jv{}, p.errorf("unexpected end of input")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return jv{k: kString, s: s}, err
	case c == 't':
		return jv{k: kBool, b: true}, p.literal("true")
	case c == 'f':
		return jv{k: kBool}, p.literal("false")
	case c == 'n':
		return jv{k: kNull}, p.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		return jv{}, p.errorf("unexpected character %q", c)
	}
}

func (p *parser) literal(lit string) error {
	if !strings.HasPrefix(p.s[p.i:], lit) {
		return p.errorf("invalid literal")
	}
	p.i += len(lit)
	return nil
}

func (p *parser) object(depth int) (jv, error) {
	start := p.i
	p.i++ // {
	v := jv{k: kObject}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		v.o = []member{}
		v.s = p.s[start:p.i]
		return v, nil
	}
	from := len(p.mstack)
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return jv{}, p.errorf("expected a string key")
		}
		key, err := p.str()
		if err != nil {
			return jv{}, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return jv{}, p.errorf("expected ':' after an object key")
		}
		p.i++
		p.skipSpace()
		var val jv
		if p.i < len(p.s) && p.s[p.i] == '"' { // the common case, without the generic dispatch
			val.k = kString
			val.s, err = p.str()
		} else {
			val, err = p.value(depth + 1)
		}
		if err != nil {
			return jv{}, err
		}
		p.mstack = append(p.mstack, member{key: key, val: val})
		p.skipSpace()
		if p.i >= len(p.s) {
			return jv{}, p.errorf("unexpected end of input in an object")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			v.s = p.s[start:p.i]
			v.o = p.members(from)
			return v, nil
		default:
			return jv{}, p.errorf("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (jv, error) {
	start := p.i
	p.i++ // [
	v := jv{k: kArray}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		v.o = []member{}
		v.s = p.s[start:p.i]
		return v, nil
	}
	from := len(p.mstack)
	for {
		p.skipSpace()
		el, err := p.value(depth + 1)
		if err != nil {
			return jv{}, err
		}
		p.mstack = append(p.mstack, member{val: el})
		p.skipSpace()
		if p.i >= len(p.s) {
			return jv{}, p.errorf("unexpected end of input in an array")
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			v.s = p.s[start:p.i]
			v.o = p.members(from)
			return v, nil
		default:
			return jv{}, p.errorf("expected ',' or ']' in an array")
		}
	}
}

// number scans a number literal following the JSON grammar exactly.
func (p *parser) number() (jv, error) {
	start := p.i
	s := p.s
	i := p.i
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		p.i = i
		return jv{}, p.errorf("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return jv{}, p.errorf("invalid number: no digits after '.'")
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			p.i = i
			return jv{}, p.errorf("invalid number: no digits in the exponent")
		}
	}
	p.i = i
	return jv{k: kNumber, s: s[start:i]}, nil
}

// str scans a string literal. Without escapes and with valid UTF-8 the result
// is a substring of the input; otherwise it is rebuilt, replacing invalid
// UTF-8 with U+FFFD as encoding/json does.
func (p *parser) str() (string, error) {
	p.i++ // opening quote
	start := p.i
	s := p.s
	ascii := true
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			if ascii || utf8.ValidString(s[start:i]) {
				return s[start:i], nil
			}
			return p.slowStr(start)
		case c == '\\':
			return p.slowStr(start)
		case c < 0x20:
			p.i = i
			return "", p.errorf("control character in a string")
		case c >= 0x80:
			ascii = false
		}
	}
	p.i = len(s)
	return "", p.errorf("unterminated string")
}

func (p *parser) slowStr(start int) (string, error) {
	s := p.s
	var b strings.Builder
	i := start
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			p.i = i + 1
			return b.String(), nil
		case c < 0x20:
			p.i = i
			return "", p.errorf("control character in a string")
		case c == '\\':
			if i+1 >= len(s) {
				p.i = i
				return "", p.errorf("unterminated escape")
			}
			switch e := s[i+1]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
				i += 2
			case 'b':
				b.WriteByte('\b')
				i += 2
			case 'f':
				b.WriteByte('\f')
				i += 2
			case 'n':
				b.WriteByte('\n')
				i += 2
			case 'r':
				b.WriteByte('\r')
				i += 2
			case 't':
				b.WriteByte('\t')
				i += 2
			case 'u':
				r, ok := hex4(s, i+2)
				if !ok {
					p.i = i
					return "", p.errorf("invalid \\u escape")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2, ok2 := rune(0), false
					if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
						r2, ok2 = hex4(s, i+2)
					}
					if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				b.WriteRune(r)
			default:
				p.i = i
				return "", p.errorf("invalid escape %q", e)
			}
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
		}
	}
	p.i = len(s)
	return "", p.errorf("unterminated string")
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	n, err := strconv.ParseUint(s[i:i+4], 16, 32)
	if err != nil {
		return 0, false
	}
	return rune(n), true
}

// toAny converts a jv to the plain Go values the fake hands out: nil, bool,
// int64 (integer literals that fit), float64 (other numbers), string, []any,
// map[string]any. Strings are cloned so the result does not pin the body.
func (v *jv) toAny() any {
	switch v.k {
	case kBool:
		return v.b
	case kNumber:
		return numberValue(v.s)
	case kString:
		return strings.Clone(v.s)
	case kArray:
		out := make([]any, len(v.o))
		for i := range v.o {
			out[i] = v.o[i].val.toAny()
		}
		return out
	case kObject:
		out := make(map[string]any, len(v.o))
		for i := range v.o {
			out[strings.Clone(v.o[i].key)] = v.o[i].val.toAny()
		}
		return out
	}
	return nil
}

// toJSONAny converts like encoding/json with UseNumber (numbers as
// json.Number); the fuzz test compares it with encoding/json's result.
func (v *jv) toJSONAny() any {
	switch v.k {
	case kNumber:
		return json.Number(v.s)
	case kArray:
		out := make([]any, len(v.o))
		for i := range v.o {
			out[i] = v.o[i].val.toJSONAny()
		}
		return out
	case kObject:
		out := make(map[string]any, len(v.o))
		for i := range v.o {
			out[v.o[i].key] = v.o[i].val.toJSONAny()
		}
		return out
	}
	return v.toAny()
}

// numberValue turns a number literal into int64 when it is written as an
// integer and fits, float64 otherwise.
func numberValue(s string) any {
	if isIntLiteral(s) {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil { // out of float64 range: keep the exact text
		return json.Number(strings.Clone(s))
	}
	return f
}
