package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
)

// writeCurrents writes one synthetic file of eventType under its Currents
// key in dir: a stand-in schema (currentstest.WithAddedFields) for a type
// without a published one, with the fields given.
func writeCurrents(t *testing.T, dir, eventType string, version int, recs []map[string]any, fields ...currentstest.Field) {
	t.Helper()
	key := currentsdemo.Key("currents", eventType, time.Date(2026, 9, 3, 10, 0, 0, 0, time.UTC), 0)
	key = strings.Replace(key, "/version=1/", "/version="+strconv.Itoa(version)+"/", 1)
	var buf bytes.Buffer
	if err := currentstest.WriteFile(&buf, eventType, recs, currentstest.WithAddedFields(fields...)); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// -types takes a v11 type (no Go struct; decoded generically, every field
// exported), a users.* type found in the input though nobody announced it,
// and v12 files of a known type, whose added fields reach the output.
func TestTypesNewerReleases(t *testing.T) {
	in := t.TempDir()
	writeCurrents(t, in, "users.messages.survey.Response", 11, []map[string]any{
		{"id": "s1", "user_id": "u1", "time": 1788000000, "survey_id": "sv-1", "answer": "yes"},
	}, currentstest.Field{Name: "survey_id", Type: "string"}, currentstest.Field{Name: "answer", Type: "string"})
	writeCurrents(t, in, "users.messages.hologram.Beam", 13, []map[string]any{
		{"id": "h1", "user_id": "u1", "time": 1788000000},
	})
	writeCurrents(t, in, "users.messages.email.Click", 12, []map[string]any{
		{"id": "c1", "user_id": "u1", "time": 1788000000, "email_address": "a@b", "send_time": 1787990000, "has_url_parameters": true},
	}, currentstest.AddedFields("users.messages.email.Click", 12)...)

	out := t.TempDir()
	code, stdout, stderr := runExport(t, "-input", in, "-out", out,
		"-types", "users.messages.survey.Response,users.messages.hologram.Beam,users.messages.email.Click,users.messages.landingpage.Click")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for typ, id := range map[string]string{"users.messages.survey.Response": "s1", "users.messages.hologram.Beam": "h1", "users.messages.email.Click": "c1"} {
		if got := ids(t, out, typ); len(got) != 1 || got[0] != id {
			t.Errorf("%s: ids %v, want [%s]", typ, got, id)
		}
	}
	for typ, want := range map[string]string{
		"users.messages.survey.Response": `"survey_id":"sv-1","answer":"yes"}`,
		"users.messages.email.Click":     `"send_time":1787990000,"has_url_parameters":true,"link_aliasing_enabled":null}`,
	} {
		parts, _ := filepath.Glob(filepath.Join(out, typ, "part-*.ndjson"))
		if len(parts) != 1 {
			t.Fatalf("%s: parts %v", typ, parts)
		}
		b, _ := os.ReadFile(parts[0])
		if !strings.HasSuffix(strings.TrimSpace(string(b)), want) {
			t.Errorf("%s: output %s lacks %s", typ, b, want)
		}
	}
	// CSV: the generic type's columns are its file's fields.
	out = t.TempDir()
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "csv", "-types", "users.messages.survey.Response"); code != exitOK {
		t.Fatalf("csv: exit %d\n%s\n%s", code, stdout, stderr)
	}
	parts, _ := filepath.Glob(filepath.Join(out, "users.messages.survey.Response", "part-*.csv"))
	if len(parts) != 1 {
		t.Fatalf("csv parts %v", parts)
	}
	if b, _ := os.ReadFile(parts[0]); !strings.Contains(string(b), "survey_id,answer") || !strings.Contains(string(b), "sv-1,yes") {
		t.Errorf("csv output:\n%s", b)
	}
}

// A well-formed users.* type that is neither known nor in the input is
// refused before anything is written, naming the input; so is a type
// outside users.* that nobody announced, without listing anything.
func TestTypesNotFound(t *testing.T) {
	in := t.TempDir()
	if _, err := currentsdemo.WriteDir(in, "currents"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ types, quoted, where string }{
		{"users.messages.email.Send,users.messages.email.Clik", `"users.messages.email.Clik"`, "no file of it under " + in},
		{"users.messages.email.Send,contentoptimizer.ComponentStor", `"contentoptimizer.ComponentStor"`, ""},
		{"users.messages..Send", `"users.messages..Send"`, ""},
	} {
		out := t.TempDir()
		code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-types", tc.types)
		if code != exitFatal {
			t.Errorf("-types %s: exit %d\n%s", tc.types, code, stdout)
		}
		for _, s := range []string{tc.quoted, tc.where, "known types", "users.messages.landingpage.FormSubmission", "users.messages.email.Open"} {
			if !strings.Contains(stderr, s) {
				t.Errorf("-types %s: stderr lacks %q:\n%s", tc.types, s, stderr)
			}
		}
		if tc.where == "" && strings.Contains(stderr, "no file of it") {
			t.Errorf("-types %s: a malformed or non-users type was looked for:\n%s", tc.types, stderr)
		}
		if entries, _ := os.ReadDir(out); len(entries) > 0 {
			t.Errorf("-types %s: output written: %v", tc.types, entries)
		}
	}
	// Announced and known types need no listing.
	if unlisted, err := checkTypes([]string{"users.messages.survey.Response", "contentoptimizer.ComponentStore", "users.canvas.costep.Conversion", "users.messages.email.Send"}); err != nil || len(unlisted) != 0 {
		t.Errorf("checkTypes = %v, %v", unlisted, err)
	}
}
