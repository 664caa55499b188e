// Package jsonenc appends JSON strings to byte slices without reflection,
// for the hand-written encoders of packages braze and currents.
package jsonenc

import "unicode/utf8"

const hexDigits = "0123456789abcdef"

// plainSafe and htmlSafe mark the ASCII bytes written as they are, without
// and with HTML escaping: one table lookup per byte on the hot path.
// Filled once at init and only read after.
var plainSafe, htmlSafe = func() (p, h [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

// AppendString appends s as a JSON string. It escapes what encoding/json
// escapes: quotes, backslashes and control characters (\n, \r and \t
// short, the others, \b and \f included, as \u00XX), U+2028 and U+2029,
// and <, > and & when escapeHTML is set (encoding/json's default); invalid
// UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string, escapeHTML bool) []byte {
	safe := &plainSafe
	if escapeHTML {
		safe = &htmlSafe
	}
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
