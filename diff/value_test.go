package diff

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

type dateText string

func (d dateText) MarshalText() ([]byte, error) { return []byte(d), nil }

type otherText string

func (d otherText) MarshalText() ([]byte, error) { return []byte(d), nil }

func mustHash(t *testing.T, v any) uint64 {
	t.Helper()
	h, err := Hash(v)
	if err != nil {
		t.Fatalf("Hash(%#v): %v", v, err)
	}
	return h
}

func TestHashEqualValues(t *testing.T) {
	paris, _ := time.LoadLocation("Europe/Paris")
	if paris == nil {
		paris = time.FixedZone("CET", 3600)
	}
	instant := time.Date(2024, 3, 1, 12, 0, 0, 5, time.UTC)
	equal := [][2]any{
		{json.Number("1.50"), json.Number("1.5")},
		{json.Number("1e2"), json.Number("100")},
		{json.Number("100"), int64(100)},
		{json.Number("-0.0"), int64(0)},
		{json.Number("0.001"), json.Number("1E-3")},
		{json.Number("+7"), int(7)},
		{1.5, json.Number("1.5")},
		{float32(0.5), 0.5},
		{uint64(1 << 63), json.Number("9223372036854775808")},
		{int32(-3), int64(-3)},
		{instant, instant.In(paris)},
		{dateText("2024-01-02"), dateText("2024-01-02")},
		{map[string]any{"a": int64(1), "b": "x"}, map[string]any{"b": "x", "a": json.Number("1.0")}},
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]any{map[string]any{"k": true}}, []any{map[string]any{"k": true}}},
	}
	for _, c := range equal {
		if a, b := mustHash(t, c[0]), mustHash(t, c[1]); a != b {
			t.Errorf("Hash(%#v) != Hash(%#v)", c[0], c[1])
		}
	}
}

func TestHashDifferentValues(t *testing.T) {
	instant := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	different := [][2]any{
		{json.Number("1.5"), json.Number("1.51")},
		{json.Number("15"), json.Number("1.5")},
		{"5", int64(5)},
		{true, false},
		{nil, false},
		{nil, ""},
		{"", []string{}},
		{[]string{"ab"}, []string{"a", "b"}},
		{[]string{"a"}, []any{"a"}},
		{map[string]any{}, []any{}},
		{instant, instant.Add(time.Nanosecond)},
		{dateText("2024-01-02"), otherText("2024-01-02")},
		{dateText("2024-01-02"), "2024-01-02"},
		{map[string]any{"a": "b"}, map[string]any{"ab": ""}},
		{[]any{"a", "b"}, []any{"ab"}},
	}
	for _, c := range different {
		if a, b := mustHash(t, c[0]), mustHash(t, c[1]); a == b {
			t.Errorf("Hash(%#v) == Hash(%#v)", c[0], c[1])
		}
	}
}

func TestHashRejects(t *testing.T) {
	bad := []any{
		json.Number("1.2.3"), json.Number(""), json.Number("abc"), json.Number("1e"),
		struct{}{}, []int{1}, map[string]string{"a": "b"},
		map[string]any{"x": make(chan int)},
	}
	for _, v := range bad {
		if _, err := Hash(v); err == nil {
			t.Errorf("Hash(%#v): no error", v)
		}
	}
	var uve *UnsupportedValueError
	if _, err := Hash([]any{1, struct{}{}}); !errors.As(err, &uve) || !strings.Contains(err.Error(), "index 1") {
		t.Errorf("nested error does not say where: %v", err)
	}
	deep := any("x")
	for range maxDepth + 2 {
		deep = []any{deep}
	}
	if _, err := Hash(deep); err == nil {
		t.Error("no error for a value nested too deep")
	}
}

func TestCanonicalDecimal(t *testing.T) {
	cases := map[string]string{
		"0": "0", "-0": "0", "00.000": "0", "1": "1e0", "10": "1e1", "1.50": "15e-1",
		"-2.5e3": "-25e2", "0.0012": "12e-4", "1E+2": "1e2", "123456789012345678901234567890": "12345678901234567890123456789e1",
	}
	for in, want := range cases {
		got, err := appendCanonicalDecimal(nil, in)
		if err != nil || string(got) != want {
			t.Errorf("canonical(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// FuzzCanonicalDecimal checks that the canonical form denotes the same
// rational number as the input, by math/big.
func FuzzCanonicalDecimal(f *testing.F) {
	for _, s := range []string{"1.50", "1e2", "-0.0", "0.001", "12345.6789e-10", ".5", "5.", "+1", "1e-99999999999", "--1", "1..2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := appendCanonicalDecimal(nil, s)
		if err != nil {
			return
		}
		want, ok := new(big.Rat).SetString(s)
		if !ok {
			// big.Rat also accepts forms we reject, never the reverse.
			t.Fatalf("accepted %q, which big.Rat rejects", s)
		}
		back, ok := new(big.Rat).SetString(string(got))
		if !ok || back.Cmp(want) != 0 {
			t.Fatalf("canonical(%q) = %q, a different number", s, got)
		}
		again, err := appendCanonicalDecimal(nil, string(got))
		if err != nil || string(again) != string(got) {
			t.Fatalf("canonical form %q is not stable: %q, %v", got, again, err)
		}
	})
}
