package braze

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSecretFormatting(t *testing.T) {
	s := &secret{key: testKey}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "key", s)
	out := fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s) + buf.String()
	if strings.Contains(out, testKey) {
		t.Errorf("key printed: %s", out)
	}
}

type countingTransport struct {
	n    atomic.Int32
	base http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

func TestWithHTTPClient(t *testing.T) {
	ct := &countingTransport{base: http.DefaultTransport}
	hc := &http.Client{Transport: ct, Timeout: 5 * time.Second}
	c, _ := newTestClient(t, &recorder{}, WithHTTPClient(hc))
	if _, err := c.Track(context.Background(), attrsReq("u")); err != nil {
		t.Fatal(err)
	}
	if ct.n.Load() != 1 {
		t.Errorf("caller's transport used %d times", ct.n.Load())
	}
	if hc.Transport != ct || hc.CheckRedirect != nil {
		t.Error("caller's client was modified")
	}
	if _, err := NewClient(testKey, WithInstance("US-01"), WithHTTPClient(nil)); err == nil {
		t.Error("nil client accepted")
	}
}

func TestValidateCustomValues(t *testing.T) {
	long := strings.Repeat("x", 256)
	for name, v := range map[string]any{
		"when":      time.Date(3001, 1, 1, 0, 0, 0, 0, time.UTC),
		"day":       Date{2023, 2, 30},
		"arr_add":   ArrayUpdate{Add: make([]string, 26)},
		"arr_long":  ArrayUpdate{Remove: []string{long}},
		"arr_elem":  []string{long},
		"obj_key":   ObjectArrayUpdate{Add: []map[string]any{{"a b": int64(1)}}},
		"obj_upd":   ObjectArrayUpdate{Update: []ObjectUpdate{{Key: "id", Value: 1, NewObject: map[string]any{"$x": 1}}}},
		"nested_s":  map[string]any{"k": long},
		"list_key":  []any{map[string]any{"a.b": int64(1)}},
		"deep_key":  map[string]any{"a": map[string]any{"b c": 1}},
		"deep_list": map[string]any{"a": []any{map[string]any{"$": 1}}},
		"nan":       math.Inf(1),
	} {
		a := &UserAttributes{ExternalID: "u"}
		if err := a.Set(name, v); err != nil {
			t.Fatalf("Set(%s): %v", name, err)
		}
		var ve *ValidationError
		if err := a.Validate(); !errors.As(err, &ve) || !strings.HasPrefix(ve.Field, name) {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := &UserAttributes{ExternalID: "u"}
	must(t, ok.Set("n", json.Number("-1.5e3")))
	must(t, ok.Set("t", time.Now()))
	must(t, ok.Set("d", Date{2020, 1, 1}))
	must(t, ok.RemoveObjects("o", "id", "x"))
	if err := ok.Validate(); err != nil {
		t.Error(err)
	}
}

func TestValidateProperties(t *testing.T) {
	now := time.Now()
	big := map[string]any{"blob": strings.Repeat("y", 250), "list": bigList()}
	ev := func(p map[string]any) *Event {
		return &Event{UserRef: UserRef{BrazeID: "b"}, Name: "e", Time: now, Properties: p}
	}
	for field, e := range map[string]*Event{
		"properties":      ev(map[string]any{"": 1}),
		"properties.s":    ev(map[string]any{"s": strings.Repeat("x", 256)}),
		"properties.bad":  ev(map[string]any{"bad": struct{}{}}),
		"properties.nan":  ev(map[string]any{"nan": math.Inf(1)}),
		"properties.obj":  ev(map[string]any{"obj": map[string]any{"x": make(chan int)}}),
		"properties.size": ev(map[string]any{"size": big}),
	} {
		err := e.Validate()
		var ve *ValidationError
		if !errors.As(err, &ve) || (ve.Field != field && !(field == "properties.size" && ve.Field == "properties")) {
			t.Errorf("%s: %v", field, err)
		}
	}
	okEv := ev(map[string]any{"n": int64(1), "f": 1.5, "b": true, "t": now, "d": Date{2020, 1, 1}, "l": []string{"a"}, "o": map[string]any{"k": []any{int64(1)}}, "z": nil, "num": json.Number("2")})
	if err := okEv.Validate(); err != nil {
		t.Error(err)
	}
	p := &Purchase{UserRef: UserRef{Email: "a@b"}, ProductID: "p", Currency: "EUR", Price: 1, Time: now,
		Properties: map[string]any{"l": []any{map[string]any{"v": strings.Repeat("z", 200)}}}}
	for range 300 {
		p.Properties["l"] = append(p.Properties["l"].([]any), map[string]any{"v": strings.Repeat("z", 200)})
	}
	if err := p.Validate(); err == nil || !strings.Contains(err.Error(), "50000") {
		t.Errorf("purchase properties over 50 KB: %v", err)
	}
	for field, bad := range map[string]*Purchase{
		"":      {ProductID: "p", Currency: "USD", Time: now},
		"price": {UserRef: UserRef{Phone: "+1"}, ProductID: "p", Currency: "USD", Price: math.Inf(1), Time: now},
	} {
		var ve *ValidationError
		if err := bad.Validate(); !errors.As(err, &ve) || ve.Field != field {
			t.Errorf("%q: %v", field, err)
		}
	}
}

// Two objects of one user are never in one request, whatever identifier
// names the user.
func TestTrackAllDuplicateUsersByIdentifier(t *testing.T) {
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	mk := []func() *UserAttributes{
		func() *UserAttributes { return &UserAttributes{BrazeID: "b1"} },
		func() *UserAttributes { return &UserAttributes{UserAlias: &UserAlias{Name: "n", Label: "l"}} },
		func() *UserAttributes { return &UserAttributes{Email: FieldOf("a@example.com")} },
		func() *UserAttributes { return &UserAttributes{Phone: FieldOf("+15550000")} },
	}
	ups := func(yield func(Update) bool) {
		for i := range 8 {
			if !yield(Update{Attributes: mk[i%4](), Ref: i}) {
				return
			}
		}
	}
	got := collect(t, c, context.Background(), ups)
	if len(got) != 8 || rec.requests() != 2 {
		t.Errorf("%d results in %d requests, want 8 in 2", len(got), rec.requests())
	}
}

func TestDateText(t *testing.T) {
	d := Date{2024, 2, 29}
	b, err := d.MarshalText()
	if err != nil || string(b) != "2024-02-29" {
		t.Errorf("%s %v", b, err)
	}
	var back Date
	if err := back.UnmarshalText(b); err != nil || back != d {
		t.Errorf("%v %v", back, err)
	}
	if _, err := (Date{2023, 2, 29}).MarshalText(); err == nil {
		t.Error("invalid date marshalled")
	}
	if err := back.UnmarshalText([]byte("2023-02-29")); err == nil {
		t.Error("invalid date unmarshalled")
	}
	if !(Date{}).IsZero() || d.IsZero() {
		t.Error("IsZero")
	}
}
