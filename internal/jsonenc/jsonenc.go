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
	i := plainPrefix(s, escapeHTML)
	if i == len(s) {
		b = append(b, s...)
		return append(b, '"')
	}
	for i < len(s) {
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

// Repeated bytes for the word-at-a-time scan of plainPrefix.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// plainPrefix returns the length of the longest prefix of s, in whole
// 8-byte words, that AppendString writes as it is: printable ASCII other
// than the quote and the backslash (and <, > and & with escapeHTML). It
// tests eight bytes at once, where the byte loop makes a table lookup and
// a branch per byte; most strings of a Currents event (ids, names,
// addresses) are written as they are.
func plainPrefix(s string, escapeHTML bool) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		// A byte >= 0x80, a byte < 0x20, a quote, a backslash.
		bad := w | (w - 0x20*ones) | hasByte(w, '"') | hasByte(w, '\\')
		if escapeHTML {
			bad |= hasByte(w, '<') | hasByte(w, '>') | hasByte(w, '&')
		}
		if bad&highs != 0 {
			break
		}
	}
	return i
}

// hasByte sets the high bit of each byte of the result where w's byte may
// equal c; it never misses one (a false alarm only sends the scan back to
// the byte loop, which decides exactly).
func hasByte(w uint64, c byte) uint64 {
	x := w ^ (ones * uint64(c))
	return (x - ones) & ^x
}
