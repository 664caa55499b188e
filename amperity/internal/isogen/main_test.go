package main

import (
	"bytes"
	"encoding/json"
	"go/format"
	"os"
	"path/filepath"
	"testing"
)

// Every generated ISO list is what the pinned input gives (the Go form of
// the check .ci/check-generated makes for every generator).
func TestGeneratedFilesMatchThePinnedInput(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("data", "iso-codes.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d isoData
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Countries) < 240 || len(d.Languages) < 180 || len(d.Currencies) < 150 {
		t.Fatalf("pinned input holds %d countries, %d languages, %d currencies", len(d.Countries), len(d.Languages), len(d.Currencies))
	}
	for _, tt := range []struct {
		kind, file string
		write      func(*bytes.Buffer, *isoData)
	}{
		{"amperity", "../../iso_tables.go", writeAmperity},
		{"braze", "../../../braze/iso_codes.go", writeBraze},
		{"brazetest", "../../../braze/brazetest/codes.go", writeBrazetest},
	} {
		var buf bytes.Buffer
		buf.WriteString(header)
		tt.write(&buf, &d)
		want, err := format.Source(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what -kind %s generates: run go generate in its package", tt.file, tt.kind)
		}
	}
}
