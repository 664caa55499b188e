package amperity

//go:generate go run ./internal/isogen -in internal/isogen/data/iso-codes.json -kind amperity -o iso_tables.go

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ampbraze/ampbraze/amperity/internal/isokey"
)

// Normalisers bring standard Braze fields to one spelling before anything
// is hashed or sent, so that formatting noise never looks like a change.
// The country, language and gender ones are exported for callers who build
// records from another source (see the package doc); the email one is a
// trim, not worth an API.

// isoEntry is one row of a generated lookup table.
type isoEntry struct{ key, code string }

func lookup(table []isoEntry, key string) (string, bool) {
	i := sort.Search(len(table), func(i int) bool { return table[i].key >= key })
	if i < len(table) && table[i].key == key {
		return table[i].code, true
	}
	return "", false
}

// lookupName finds s in a table by its isoKey. Short ASCII input, the usual
// case, is folded in a stack buffer so that the lookup does not allocate.
func lookupName(table []isoEntry, s string) (string, bool) {
	var buf [48]byte
	key, ok := asciiKey(s, &buf)
	if !ok {
		return lookup(table, isoKey(s))
	}
	i := sort.Search(len(table), func(i int) bool { return table[i].key >= string(key) })
	if i < len(table) && table[i].key == string(key) {
		return table[i].code, true
	}
	return "", false
}

// asciiKey computes isoKey(s) into buf for ASCII input that fits; ok is
// false otherwise.
func asciiKey(s string, buf *[48]byte) ([]byte, bool) {
	n := 0
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return nil, false
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			if c <= 'Z' && c >= 'A' {
				c += 'a' - 'A'
			}
			if space && n > 0 {
				if n == len(buf) {
					return nil, false
				}
				buf[n] = ' '
				n++
			}
			space = false
			if n == len(buf) {
				return nil, false
			}
			buf[n] = c
			n++
		case c == '\'':
		default:
			space = true
		}
	}
	return buf[:n], true
}

// codeIndex maps every key of a table (and every code, lower-cased) to its
// code, for the mapper's hot path: one hash lookup and no allocation per
// value.
func codeIndex(table []isoEntry, codes []string) map[string]string {
	idx := make(map[string]string, len(table)+len(codes))
	for _, e := range table {
		idx[e.key] = e.code
	}
	for _, c := range codes {
		idx[strings.ToLower(c)] = c
	}
	return idx
}

// lookupIndex finds s in a codeIndex, or reports false when s needs the
// general path (non-ASCII, or not found).
func lookupIndex(idx map[string]string, s string) (string, bool) {
	var buf [48]byte
	key, ok := asciiKey(s, &buf)
	if !ok {
		return "", false
	}
	v, ok := idx[string(key)]
	return v, ok
}

// isoKey is the key the ISO tables are indexed by; the generator of the
// tables uses the same function.
func isoKey(s string) string { return isokey.Key(s) }

// NormalizeCountry returns the ISO 3166-1 alpha-2 code for an alpha-2 or
// alpha-3 code or an English country name, ignoring case, accents and
// punctuation ("usa", "DEU", "United Kingdom", "Côte d'Ivoire"). Names that
// stand for more than one country ("Korea") and anything unknown are errors:
// Braze would store them as null.
func NormalizeCountry(s string) (string, error) {
	if len(s) == 2 && isASCIIAlpha(s) {
		up := [2]byte{s[0] &^ 0x20, s[1] &^ 0x20}
		i := sort.Search(len(isoAlpha2), func(i int) bool { return isoAlpha2[i] >= string(up[:]) })
		if i < len(isoAlpha2) && isoAlpha2[i] == string(up[:]) {
			return isoAlpha2[i], nil
		}
	}
	if code, ok := lookupName(countryTable[:], s); ok {
		return code, nil
	}
	return "", fmt.Errorf("%w: not an ISO 3166-1 country code or unambiguous English country name", ErrInvalidValue)
}

func isASCIIAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// NormalizeLanguage returns the ISO 639-1 code for a 639-1 or 639-2 code, a
// locale tag whose language part is one ("en-US", "pt_BR"), or an English
// language name ("German", "Spanish; Castilian").
func NormalizeLanguage(s string) (string, error) {
	t := languagePrimary(strings.TrimSpace(s))
	if code, ok := lookupName(languageTable[:], t); ok {
		return code, nil
	}
	return "", fmt.Errorf("%w: not an ISO 639 language code or English language name", ErrInvalidValue)
}

// languagePrimary cuts a locale tag to its language part ("pt-BR" -> "pt").
func languagePrimary(s string) string {
	if i := strings.IndexAny(s, "-_"); (i == 2 || i == 3) && i+1 < len(s) {
		return s[:i]
	}
	return s
}

// NormalizeGender maps the usual spellings to Braze's letters: M, F, O
// (other), N (not applicable), P (prefer not to say). "U" and "unknown"
// mean null for Braze, reported as ok with an empty result.
func NormalizeGender(s string) (letter string, err error) {
	// Fast path for the forms exports usually hold.
	switch len(s) {
	case 1:
		switch s[0] | 0x20 {
		case 'm':
			return "M", nil
		case 'f':
			return "F", nil
		case 'o':
			return "O", nil
		case 'n':
			return "N", nil
		case 'p':
			return "P", nil
		case 'u':
			return "", nil
		}
	case 4:
		if strings.EqualFold(s, "male") {
			return "M", nil
		}
	case 6:
		if strings.EqualFold(s, "female") {
			return "F", nil
		}
	}
	switch strings.ToLower(strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == ' ' || r == '_' || r == '-' || r == '/'
	}), " ")) {
	case "m", "male", "man", "masculine":
		return "M", nil
	case "f", "female", "woman", "feminine":
		return "F", nil
	case "o", "other", "non binary", "nonbinary", "diverse", "x":
		return "O", nil
	case "n", "not applicable", "n a", "na":
		return "N", nil
	case "p", "prefer not to say", "prefer not to answer", "undisclosed", "declined":
		return "P", nil
	case "u", "unknown":
		return "", nil
	}
	return "", fmt.Errorf("%w: not a gender Braze knows (M, F, O, N, P or a spelled-out form)", ErrInvalidValue)
}

// normalizeEmail trims surrounding space. The case is kept unless lower is
// set: the local part of an address is case-sensitive in principle.
func normalizeEmail(s string, lower bool) string {
	s = strings.TrimSpace(s)
	if lower {
		s = strings.ToLower(s)
	}
	return s
}
