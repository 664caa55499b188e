// Package currentsdemo writes a small tree of synthetic Braze Currents files
// (made with the project's own writer, never Braze samples) laid out the way
// Braze lays them out in a bucket, for the examples and their tests.
package currentsdemo

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"time"

	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// Integration is the integration id in the demo keys.
const Integration = "0123456789abcdef01234567"

// File is one synthetic Currents object: its key and its Avro bytes.
type File struct {
	Key  string
	Data []byte
}

// Key returns the object key Braze would write for eventType in the queue
// hour, as file number n of that hour.
func Key(prefix, eventType string, hour time.Time, n int) string {
	dir := "dataexport.prod-01.S3.integration." + Integration
	name := fmt.Sprintf("%s+0+%010d.avro", dir, n)
	return path.Join(prefix, dir, "event_type="+eventType, "date="+hour.UTC().Format("2006-01-02-15"), "version=1", "us-01", name)
}

// Files returns the demo files under prefix: email sends, opens and clicks
// and custom events for the quickstart's users over two queue hours, one
// event delivered twice (Currents delivers at least once) so that
// deduplication has something to do.
func Files(prefix string) ([]File, error) {
	h1 := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	h2 := h1.Add(time.Hour)
	users := []string{"C-1001", "C-1002", "C-1003", "C-1004", "C-1005", "C-1006", "C-1007", "C-1008"}
	rec := func(id string, i int, at time.Time, extra map[string]any) map[string]any {
		m := map[string]any{
			"id":               id,
			"user_id":          fmt.Sprintf("65a0000000000000000000%02d", i),
			"external_user_id": users[i%len(users)],
			"time":             at.Unix(),
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	var sends, opens, clicks, custom []map[string]any
	for i := range users {
		sends = append(sends, rec(fmt.Sprintf("send-%02d", i), i, h1.Add(time.Duration(i)*time.Minute), map[string]any{"email_address": "user@example.com"}))
	}
	for i := range 5 {
		opens = append(opens, rec(fmt.Sprintf("open-%02d", i), i, h1.Add(20*time.Minute+time.Duration(i)*time.Minute), nil))
	}
	for i := range 2 {
		clicks = append(clicks, rec(fmt.Sprintf("click-%02d", i), i, h2.Add(time.Duration(i)*time.Minute), map[string]any{"url": "https://example.com/offer"}))
	}
	for i := range 3 {
		custom = append(custom, rec(fmt.Sprintf("custom-%02d", i), i, h2.Add(10*time.Minute), map[string]any{"name": "viewed_product", "properties": `{"sku":"SKU-42"}`}))
	}
	// The second queue hour redelivers the last open: same event id.
	redelivered := opens[len(opens)-1:]

	specs := []struct {
		eventType string
		hour      time.Time
		n         int
		recs      []map[string]any
	}{
		{"users.messages.email.Send", h1, 0, sends},
		{"users.messages.email.Open", h1, 0, opens},
		{"users.messages.email.Open", h2, 1, redelivered},
		{"users.messages.email.Click", h2, 0, clicks},
		{"users.behaviors.CustomEvent", h2, 0, custom},
	}
	files := make([]File, 0, len(specs))
	for _, s := range specs {
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, s.eventType, s.recs); err != nil {
			return nil, fmt.Errorf("currentsdemo: %s: %w", s.eventType, err)
		}
		files = append(files, File{Key: Key(prefix, s.eventType, s.hour, s.n), Data: buf.Bytes()})
	}
	return files, nil
}

// WriteDir writes the demo files under dir, keys as relative paths.
func WriteDir(dir, prefix string) ([]File, error) {
	files, err := Files(prefix)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return nil, err
		}
	}
	return files, nil
}
