package isokey

import "testing"

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"U.S.A.":          "u s a",
		" Côte d'Ivoire ": "cote divoire",
		"Cote d Ivoire":   "cote d ivoire",
		"CURAÇAO":         "curacao",
		"":                "",
	} {
		if got := Key(in); got != want {
			t.Errorf("Key(%q) = %q, want %q", in, got, want)
		}
	}
}
