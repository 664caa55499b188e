package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
)

// checkFaultsHappened makes sure the suite did what it claims: the faults
// of the regime hit requests, so passing means surviving them.
func (h *harness) checkFaultsHappened(n int) {
	t := h.t
	statuses, cuts, _ := h.fake.tally()
	total := cuts
	for _, c := range statuses {
		total += c
	}
	t.Logf("fake answered %d requests: %v, %d connections cut; %+v", total, statuses, cuts, h.fake.Stats())
	if statuses[201]+statuses[200] == 0 {
		t.Errorf("the fake accepted no request")
	}
	if total < 150 {
		return // too few requests to expect every fault
	}
	for _, code := range []int{429, 503} {
		if statuses[code] == 0 {
			t.Errorf("no request was answered %d: the fault regime did not run", code)
		}
	}
	if cuts == 0 {
		t.Errorf("no connection was cut: the fault regime did not run")
	}
	if h.fake.Stats().ObjectErrors == 0 {
		t.Errorf("the fake rejected no object")
	}
}

// checkNoKeyLeak searches everything the sync produced for the API key:
// logs (at debug level), every error seen, the rejects report, the fake's
// recorded request dumps, and every request body.
func (h *harness) checkNoKeyLeak() {
	t := h.t
	logs := h.logs.String()
	if len(logs) == 0 {
		t.Errorf("no log output at debug level: the key check would be vacuous")
	}
	if strings.Contains(logs, h.apiKey) {
		i := strings.Index(logs, h.apiKey)
		t.Errorf("the API key appears in the logs: ...%s...", logs[max(0, i-200):i])
	}
	for text := range h.errTexts {
		if strings.Contains(text, h.apiKey) {
			t.Errorf("the API key appears in an error: %s", strings.ReplaceAll(text, h.apiKey, "<KEY>"))
		}
	}
	if len(h.errTexts) == 0 {
		t.Errorf("no error was seen: the key check of errors would be vacuous")
	}
	if b, err := os.ReadFile(h.reports.Name()); err != nil || strings.Contains(string(b), h.apiKey) {
		t.Errorf("the API key appears in the rejects report (or it cannot be read: %v)", err)
	}
	reqs := h.fake.Requests()
	if len(reqs) == 0 {
		t.Errorf("the fake recorded no request")
	}
	for _, r := range reqs {
		if dump := fmt.Sprintf("%+v %#v", r, r); strings.Contains(dump, h.apiKey) {
			t.Errorf("the API key appears in the fake's dump of request %d", r.Seq)
		}
	}
	if _, _, n := h.fake.tally(); n > 0 {
		t.Errorf("the API key appears in %d request bodies", n)
	}
	for _, s := range []string{h.client.String(), fmt.Sprintf("%v %+v %#v", h.client, h.client, h.client)} {
		if strings.Contains(s, h.apiKey) {
			t.Errorf("the API key appears in the client's description: %s", s)
		}
	}
}

// checkLedger checks that, for every key of the world, the attributes
// mustSend gives were accepted by Braze during the day's runs, with those
// values (nil values included: a removal is an update too).
func (h *harness) checkLedger(w *world, mustSend func(key string) map[string]any) {
	t := h.t
	t.Helper()
	var lost []string
	keys := map[string]bool{}
	for k := range w.want {
		keys[k] = true
	}
	for _, u := range w.snap.users {
		keys[u.key] = true
	}
	for k := range keys {
		for name, v := range mustSend(k) {
			got, ok := h.ledger[k][name]
			switch {
			case !ok:
				lost = append(lost, fmt.Sprintf("%s.%s (never accepted)", k, name))
			case v == nil || got == nil:
				if v != got {
					lost = append(lost, fmt.Sprintf("%s.%s: accepted %v, want %v", k, name, got, v))
				}
			case !same(w.kinds[name], v, got):
				lost = append(lost, fmt.Sprintf("%s.%s: accepted %v, want %v", k, name, got, v))
			}
		}
	}
	if len(lost) > 0 {
		slices.Sort(lost)
		t.Errorf("%d attribute updates lost: %s", len(lost), short(lost, 10))
	}
}
