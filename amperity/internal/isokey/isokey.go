// Package isokey holds the one normalisation of country and language names
// shared by the amperity package's lookups and the generator of its ISO
// tables, so that the two can never disagree.
package isokey

import (
	"strings"
	"unicode"
)

// Fold strips the accents found in ISO names ("Côte d'Ivoire", "Curaçao").
var Fold = map[rune]rune{
	'à': 'a', 'á': 'a', 'â': 'a', 'ã': 'a', 'ä': 'a', 'å': 'a', 'ç': 'c', 'è': 'e', 'é': 'e', 'ê': 'e', 'ë': 'e',
	'ì': 'i', 'í': 'i', 'î': 'i', 'ï': 'i', 'ñ': 'n', 'ò': 'o', 'ó': 'o', 'ô': 'o', 'õ': 'o', 'ö': 'o',
	'ù': 'u', 'ú': 'u', 'û': 'u', 'ü': 'u', 'ý': 'y', 'ÿ': 'y',
}

// Key lowercases, folds accents, drops apostrophes and turns any run of
// other punctuation or space into one space: "U.S.A." -> "u s a",
// "Côte d'Ivoire" -> "cote divoire".
func Key(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if f, ok := Fold[r]; ok {
				r = f
			}
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// "Côte d'Ivoire" and "Cote d Ivoire" meet at "cote divoire".
		default:
			space = true
		}
	}
	return b.String()
}
