package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
)

// sendSchema is an email Send writer schema with the given extra fields
// beyond id, user_id and time, in the namespace Braze uses.
func sendSchema(extra ...string) string {
	fields := []string{`{"name":"id","type":"string"}`, `{"name":"user_id","type":"string"}`, `{"name":"time","type":"int"}`}
	for _, f := range extra {
		fields = append(fields, fmt.Sprintf(`{"name":%q,"type":["null","string"],"default":null}`, f))
	}
	return `{"type":"record","name":"Send","namespace":"dataexport.S3.inner.users.messages.email","fields":[` + strings.Join(fields, ",") + `]}`
}

// readCSVs reads every CSV part of a type: their headers and their rows as
// maps.
func readCSVs(t *testing.T, out, eventType string) (headers [][]string, rows []map[string]string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, eventType, "part-*.csv"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		headers = append(headers, recs[0])
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, c := range recs[0] {
				m[c] = r[i]
			}
			rows = append(rows, m)
		}
	}
	return headers, rows
}

// Files of one event type written with different writer schemas (older
// ones with fewer fields) share one CSV layout, the type's current fields,
// instead of a part per schema; a newer schema's extra field widens the
// layout once; -columns pins one column set for every part.
func TestRegression_Issue16_CSVColumnsPerType(t *testing.T) {
	in := t.TempDir()
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	schemas := []string{
		sendSchema(),
		sendSchema("campaign_id"),
		sendSchema("campaign_id", "email_address", "message_variation_id"),
		sendSchema("email_address", "ip_pool"),
		sendSchema("campaign_id", "v12_only_field"), // a newer release's field
	}
	for i, sch := range schemas {
		rec := map[string]any{"id": fmt.Sprintf("send-%d", i), "user_id": "u", "time": hour.Unix(), "campaign_id": "c", "v12_only_field": "new"}
		var b bytes.Buffer
		if err := currentstest.WriteFile(&b, "users.messages.email.Send", []map[string]any{rec}, currentstest.WithSchema(sch)); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", "users.messages.email.Send", hour, i)))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	out := t.TempDir()
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "csv"); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	headers, rows := readCSVs(t, out, "users.messages.email.Send")
	// Four schemas within the current one: one part; the newer one: a
	// second, wider part (the old program wrote five parts).
	if len(headers) != 2 || len(rows) != 5 {
		t.Fatalf("%d parts, %d rows: %q", len(headers), len(rows), headers)
	}
	slices.SortFunc(headers, func(a, b []string) int { return len(a) - len(b) })
	narrow, wide := headers[0], headers[1]
	for _, f := range []string{"id", "user_id", "time", "campaign_id", "email_address", "message_variation_id", "ip_pool"} {
		if !slices.Contains(narrow, f) {
			t.Errorf("layout lacks %s: %q", f, narrow)
		}
	}
	if !slices.Equal(wide[:len(narrow)], narrow) || wide[len(wide)-1] != "v12_only_field" {
		t.Errorf("wider layout %q is not the layout plus the new field", wide)
	}
	for _, r := range rows {
		if r["id"] == "send-4" && r["v12_only_field"] != "new" {
			t.Errorf("new field lost: %v", r)
		}
		if r["id"] == "send-1" && r["campaign_id"] != "c" {
			t.Errorf("campaign_id lost: %v", r)
		}
	}

	// -columns pins the layout.
	out = t.TempDir()
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "csv", "-columns", "id,time,v12_only_field"); code != exitOK {
		t.Fatalf("-columns: exit %d\n%s\n%s", code, stdout, stderr)
	}
	headers, rows = readCSVs(t, out, "users.messages.email.Send")
	if len(headers) != 1 || !slices.Equal(headers[0], []string{"id", "time", "v12_only_field"}) || len(rows) != 5 {
		t.Errorf("-columns: headers %q, %d rows", headers, len(rows))
	}
	if code, _, _ := runExport(t, "-input", in, "-out", t.TempDir(), "-columns", "id"); code != exitFatal {
		t.Errorf("-columns with ndjson: exit %d, want %d", code, exitFatal)
	}
}
