package brazetest

import (
	"fmt"
	"testing"
)

func TestDeferredApply(t *testing.T) {
	s := NewHandler(WithDeferredApply())
	mustSend(t, s, attrs(`"external_id":"u1","email":"old@x.co"`))
	mustSend(t, s, `{"attributes":[{"external_id":"u1","email":"new@x.co"}],"events":[{`+ev+`}]}`)
	if _, ok := s.User("u1"); ok || s.Pending() != 2 || len(s.Events()) != 0 {
		t.Fatalf("applied before ApplyPending: pending %d", s.Pending())
	}
	// Reverse order: the older email lands last and wins, the race Braze's
	// asynchronous processing allows.
	if n := s.ApplyPending(ReverseOrder); n != 2 {
		t.Errorf("applied %d, want 2", n)
	}
	if got := mustUser(t, s, "u1").Attributes["email"]; got != "old@x.co" {
		t.Errorf("email = %v, want the older value applied last", got)
	}
	if len(s.Events()) != 1 || s.Pending() != 0 {
		t.Errorf("events %d, pending %d", len(s.Events()), s.Pending())
	}

	s.SetDeferredApply(false)
	mustSend(t, s, attrs(`"external_id":"u1","email":"now@x.co"`))
	if got := mustUser(t, s, "u1").Attributes["email"]; got != "now@x.co" {
		t.Errorf("immediate mode: email = %v", got)
	}
}

func TestDeferredApplyKeepsRejectsAndOrder(t *testing.T) {
	run := func(order ApplyOrder) []string {
		s := NewHandler(WithDeferredApply(), WithSeed(3))
		s.RejectExternalIDs(func(id string) bool { return id == "bad" })
		for i := range 6 {
			mustSend(t, s, fmt.Sprintf(`{"attributes":[{"external_id":"u","last":%d,"seen":{"add":["v%d"]}}]}`, i, i))
		}
		send(t, s, `{"attributes":[{"external_id":"bad"},{"external_id":"ok"}]}`)
		s.ClearFaults() // the reject decided at arrival must hold at apply time
		s.ApplyPending(order)
		if _, ok := s.User("bad"); ok {
			t.Error("an object rejected at arrival was applied")
		}
		return mustUser(t, s, "u").Attributes["seen"].([]string)
	}
	if got := fmt.Sprint(run(ArrivalOrder)); got != "[v0 v1 v2 v3 v4 v5]" {
		t.Errorf("arrival order: %s", got)
	}
	if got := fmt.Sprint(run(ReverseOrder)); got != "[v5 v4 v3 v2 v1 v0]" {
		t.Errorf("reverse order: %s", got)
	}
	a, b := fmt.Sprint(run(ShuffledOrder)), fmt.Sprint(run(ShuffledOrder))
	if a != b || a == "[v0 v1 v2 v3 v4 v5]" {
		t.Errorf("shuffled: %s then %s; want the same non-arrival order for one seed", a, b)
	}
}
