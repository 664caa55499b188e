package diff_test

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/diff"
)

// The hashes of these values were printed by the package before Value
// existed (commit 8d5a31f, when Attr.Value was an interface). They are in
// every state file written since: a change here would make every stored
// value look changed, and the next run would send everything again.
var storedHashes = []struct {
	v    any
	hash uint64
}{
	{nil, 0xe934a84adb052768},
	{true, 0x4b79b8c95732b0e7},
	{false, 0x8a4127811b21e730},
	{"", 0x4cf90c867d984a54},
	{"Lyon", 0xbc10ed998542c699},
	{int64(0), 0x6c2ee961b39cc0a7},
	{int64(-42), 0x224567e50cacebaa},
	{int64(1) << 62, 0x88dcb42376ba65e3},
	{uint64(1) << 63, 0xfd41f34bc363d134},
	{1.5, 0xa413dbf29263e93d},
	{math.Copysign(0, -1), 0x6c2ee961b39cc0a7},
	{1e-7, 0x3e04d32aac67d19c},
	{json.Number("10.50"), 0xdd3f62effe9b1b73},
	{json.Number("-3e2"), 0xf71a2aa9a1edbec7},
	{time.Date(2024, 2, 29, 13, 4, 5, 123456789, time.UTC), 0x3ea5ced57a8e2151},
	{time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600)), 0x51ac55c0365feea9},
	{braze.Date{Year: 1990, Month: 5, Day: 17}, 0x3e22cc249bfd745b},
	{[]string{"a", "b"}, 0xcccf0a97550e0db6},
	{map[string]any{"k": json.Number("1"), "t": true}, 0x15d025a63715b0f4},
	{[]any{map[string]any{"a": "b"}, nil}, 0x30c9724ec0512374},
}

func TestValueHashesMatchStoredState(t *testing.T) {
	for _, c := range storedHashes {
		for _, v := range []any{c.v, diff.AnyValue(c.v)} {
			h, err := diff.Hash(v)
			if err != nil || h != c.hash {
				t.Errorf("Hash(%#v) = %#x, %v; stored state holds %#x", v, h, err, c.hash)
			}
		}
	}
}

func TestValueConstructorsAndAny(t *testing.T) {
	at := time.Date(2024, 2, 29, 13, 4, 5, 123456789, time.FixedZone("CET", 3600))
	cases := []struct {
		v    diff.Value
		kind diff.Kind
		any  any
	}{
		{diff.Value{}, diff.KindNull, nil},
		{diff.NullValue(), diff.KindNull, nil},
		{diff.BoolValue(true), diff.KindBool, true},
		{diff.BoolValue(false), diff.KindBool, false},
		{diff.IntValue(-7), diff.KindInt, int64(-7)},
		{diff.FloatValue(2.5), diff.KindFloat, 2.5},
		{diff.NumberValue("10.50"), diff.KindNumber, json.Number("10.50")},
		{diff.StringValue("Lyon"), diff.KindString, "Lyon"},
		{diff.TimeValue(at), diff.KindTime, at},
		{diff.AnyValue(int32(3)), diff.KindInt, int64(3)},
		{diff.AnyValue(uint8(200)), diff.KindInt, int64(200)},
		{diff.AnyValue(uint64(math.MaxUint64)), diff.KindOther, uint64(math.MaxUint64)},
		{diff.AnyValue(float32(0.5)), diff.KindFloat, 0.5},
		{diff.AnyValue([]string{"a"}), diff.KindOther, []string{"a"}},
		{diff.AnyValue(braze.Date{Year: 2000, Month: 1, Day: 2}), diff.KindOther, braze.Date{Year: 2000, Month: 1, Day: 2}},
		{diff.AnyValue(diff.StringValue("x")), diff.KindString, "x"},
		{diff.StringValue(""), diff.KindString, ""},
		{diff.NumberValue("0"), diff.KindNumber, json.Number("0")},
		{diff.TimeValue(time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)), diff.KindTime, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{diff.TimeValue(time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)), diff.KindTime, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)},
		{diff.TimeValue(time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)), diff.KindTime, time.Date(1969, 12, 31, 23, 59, 59, 5, time.UTC)},
	}
	for _, c := range cases {
		if c.v.Kind() != c.kind {
			t.Errorf("%v: kind %v, want %v", c.v, c.v.Kind(), c.kind)
		}
		if c.v.IsNull() != (c.kind == diff.KindNull) {
			t.Errorf("%v: IsNull %v", c.v, c.v.IsNull())
		}
		got := c.v.Any()
		if tm, ok := c.any.(time.Time); ok {
			g, _ := got.(time.Time)
			if !g.Equal(tm) || g.Location().String() != tm.Location().String() {
				t.Errorf("Time: Any() = %v, want %v", got, tm)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.any) {
			t.Errorf("%v: Any() = %#v, want %#v", c.v, got, c.any)
		}
		if back := diff.AnyValue(got); back.Kind() != c.v.Kind() || !back.Equal(c.v) {
			t.Errorf("Of(%#v) = %v (%v), want %v (%v)", got, back, back.Kind(), c.v, c.v.Kind())
		}
	}
	// Times in two zones are the same instant, and hash alike.
	h1, _ := diff.Hash(diff.TimeValue(at))
	h2, _ := diff.Hash(diff.TimeValue(at.UTC()))
	if h1 != h2 {
		t.Error("the same instant in two zones hashes apart")
	}
	if s := diff.StringValue("Lyon").String(); s != "Lyon" {
		t.Errorf("String() = %q", s)
	}
	if s := diff.IntValue(5).String(); s != "5" {
		t.Errorf("String() = %q", s)
	}
}

func TestValueEqual(t *testing.T) {
	at := time.Date(2024, 2, 29, 13, 4, 5, 0, time.UTC)
	// Two strings with the same bytes at different addresses.
	b := []byte("Lyon")
	other := string(b)
	equal := [][2]diff.Value{
		{diff.StringValue("Lyon"), diff.StringValue(other)},
		{diff.IntValue(5), diff.NumberValue("5.00")},
		{diff.FloatValue(1.5), diff.NumberValue("1.50")},
		{diff.TimeValue(at), diff.TimeValue(at.In(time.FixedZone("x", -7200)))},
		{diff.NullValue(), diff.Value{}},
		{diff.AnyValue([]string{"a"}), diff.AnyValue([]string{"a"})},
	}
	for _, p := range equal {
		if !p[0].Equal(p[1]) {
			t.Errorf("%v (%v) != %v (%v)", p[0], p[0].Kind(), p[1], p[1].Kind())
		}
	}
	differ := [][2]diff.Value{
		{diff.StringValue("Lyon"), diff.StringValue("Lyom")},
		{diff.StringValue("5"), diff.IntValue(5)},
		{diff.BoolValue(false), diff.NullValue()},
		{diff.TimeValue(at), diff.TimeValue(at.Add(time.Nanosecond))},
		{diff.NumberValue("not a number"), diff.NumberValue("not a number")}, // cannot be encoded
	}
	for _, p := range differ {
		if p[0].Equal(p[1]) {
			t.Errorf("%v (%v) == %v (%v)", p[0], p[0].Kind(), p[1], p[1].Kind())
		}
	}
}
