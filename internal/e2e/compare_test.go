package e2e

import (
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
)

// canonical renders a value, either the expected one (value model) or the
// one the fake holds (decoded JSON), so that values Braze holds
// identically compare equal: numbers by exact decimal value whatever their
// Go type, dates by their calendar text, datetimes by instant. It never
// converts through the SDK, so it cannot share the SDK's mistakes.
func canonical(k kind, v any) string {
	if v == nil {
		return "null"
	}
	switch k {
	case kindString:
		if s, ok := v.(string); ok {
			return "s:" + s
		}
	case kindBool:
		if b, ok := v.(bool); ok {
			return "b:" + strconv.FormatBool(b)
		}
	case kindDate:
		switch d := v.(type) {
		case braze.Date:
			return fmt.Sprintf("d:%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
		case string:
			if t, err := time.Parse(time.DateOnly, d); err == nil {
				return "d:" + t.Format(time.DateOnly)
			}
		}
	case kindTime:
		switch t := v.(type) {
		case time.Time:
			return "t:" + t.UTC().Format(time.RFC3339Nano)
		case string:
			if p, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return "t:" + p.UTC().Format(time.RFC3339Nano)
			}
		}
	case kindNumber:
		var text string
		switch n := v.(type) {
		case int64:
			text = strconv.FormatInt(n, 10)
		case int:
			text = strconv.Itoa(n)
		case float64:
			text = strconv.FormatFloat(n, 'g', -1, 64)
		case json.Number:
			text = string(n)
		}
		if r, ok := new(big.Rat).SetString(text); ok && text != "" {
			return "n:" + r.RatString()
		}
	}
	return fmt.Sprintf("unexpected %T %v", v, v)
}

// same reports whether two values are equal under canonical, with fast
// paths for the common cases so that comparing 100,000 profiles is cheap.
func same(k kind, want, got any) bool {
	switch w := want.(type) {
	case string:
		if g, ok := got.(string); ok && k == kindString {
			return w == g
		}
	case bool:
		if g, ok := got.(bool); ok {
			return w == g
		}
	case int64:
		if g, ok := got.(int64); ok {
			return w == g
		}
	case float64:
		if g, ok := got.(float64); ok {
			return w == g
		}
	case time.Time:
		if g, ok := got.(string); ok {
			p, err := time.Parse(time.RFC3339Nano, g)
			return err == nil && p.Equal(w)
		}
	}
	return canonical(k, want) == canonical(k, got)
}

// attrDiff compares a profile's attributes with the expected ones and
// describes every difference, sorted by attribute name.
func attrDiff(kinds map[string]kind, want, got map[string]any) []string {
	var out []string
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			out = append(out, fmt.Sprintf("%s: missing, want %s", name, canonical(kinds[name], w)))
			continue
		}
		if !same(kinds[name], w, g) {
			out = append(out, fmt.Sprintf("%s: got %s, want %s", name, canonical(kinds[name], g), canonical(kinds[name], w)))
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			out = append(out, fmt.Sprintf("%s: unexpected %s", name, canonical(kinds[name], g)))
		}
	}
	slices.Sort(out)
	return out
}

func short(xs []string, n int) string {
	if len(xs) > n {
		return strings.Join(xs[:n], "; ") + fmt.Sprintf("; ... (%d more)", len(xs)-n)
	}
	return strings.Join(xs, "; ")
}

// TestSame checks the comparison the suite relies on, so that a passing
// suite cannot come from a comparison that says yes to everything.
func TestSame(t *testing.T) {
	at := time.Date(2024, 3, 1, 10, 0, 0, 500_000_000, time.UTC)
	for _, c := range []struct {
		k         kind
		want, got any
		equal     bool
	}{
		{kindString, "Ann", "Ann", true},
		{kindString, "Ann", "ann", false},
		{kindString, "Ann", nil, false},
		{kindBool, false, false, true},
		{kindBool, false, nil, false},
		{kindBool, true, "true", false},
		{kindNumber, json.Number("120.5"), 120.5, true},
		{kindNumber, json.Number("12"), int64(12), true},
		{kindNumber, json.Number("12"), 12.0, true},
		{kindNumber, json.Number("2062.53"), 2062.53, true},
		{kindNumber, json.Number("2062.53"), 2062.5299999, false},
		{kindNumber, int64(5), int64(6), false},
		{kindNumber, 1000.0, int64(1000), true},
		{kindDate, braze.Date{Year: 1980, Month: 1, Day: 2}, "1980-01-02", true},
		{kindDate, braze.Date{Year: 1980, Month: 1, Day: 2}, "1980-01-03", false},
		{kindTime, at, "2024-03-01T10:00:00.5Z", true},
		{kindTime, at, "2024-03-01T11:00:00.5+01:00", true},
		{kindTime, at, "2024-03-01T10:00:00Z", false},
	} {
		if got := same(c.k, c.want, c.got); got != c.equal {
			t.Errorf("same(%v, %#v, %#v) = %v, want %v", c.k, c.want, c.got, got, c.equal)
		}
	}
	d := attrDiff(map[string]kind{"n": kindNumber}, map[string]any{"a": "x", "n": int64(1)}, map[string]any{"n": int64(2), "b": true})
	if len(d) != 3 {
		t.Errorf("attrDiff found %d differences (%v), want 3: a missing, b unexpected, n changed", len(d), d)
	}
}
