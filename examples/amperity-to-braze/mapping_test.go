package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestMappingErrorsSayWhere(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"unknown key", "{\n  \"columns\": {\"customer_id\": \"external_id\"},\n  \"ignroe\": [\"x\"]\n}",
			`:3:3: unknown key "ignroe" (the keys are columns, ignore,`},
		{"wrong type in a list", "{\n  \"ignore\": [\"x\", 3]\n}",
			`:2:19: "ignore": want a list of column names, found a JSON number`},
		{"wrong type of a flag", "{\n  \"omit_nulls\": \"yes\"\n}",
			`:2:17: "omit_nulls": want true or false, found a JSON string`},
		{"wrong type of an object", "{\"precedence\": {\"email\": \"a\"}}",
			`:1:26: "precedence": want an object of "Braze attribute": ["column", ...] lists, found a JSON string`},
		{"syntax", "{\n  \"ignore\": [\"x\",\n}",
			`:3:1: invalid JSON: invalid character '}'`},
		{"cut short", "{\n  \"ignore\": [\"x\"]",
			`:2:18: the mapping file ends inside its JSON object`},
		{"duplicate key", "{\"ignore\": [],\n\"ignore\": [\"a\"]}",
			`:2:1: key "ignore" given twice (first at `},
		{"not an object", "[1]",
			`:1:1: a mapping file holds one JSON object ({...}), not a list`},
		{"text after", "{}\n{}",
			`:2:1: invalid JSON: invalid character '{' after top-level value`},
		{"unknown zone", "{\n \"timezone\": \"Mars/Olympus\"}",
			`:2:14: "timezone": unknown time zone "Mars/Olympus"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mapping.json")
			writeFile(t, path, []byte(tt.json))
			_, err := loadMapping(path)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), path+":") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q, want %s...%q", err, path, tt.want)
			}
			if strings.Contains(err.Error(), "Go struct") || strings.Contains(err.Error(), "mappingFile") {
				t.Errorf("err = %q speaks Go", err)
			}
		})
	}
}

// The mapper's configuration errors and its plan name the mapping file's
// keys, not the Go options behind them.
func TestMapperErrorsNameMappingKeys(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	writeFile(t, f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id", "given_name": "last_name"}}`))
	code, _, errOut := f.run(ctx, "-input", f.path("day1.csv"))
	if code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s", code, exitFatal, errOut)
	}
	for _, want := range []string{`field \"last_name\"`, `drop one with mapping \"ignore\" or order them with mapping \"precedence\"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %s:\n%s", want, errOut)
		}
	}
	writeFile(t, f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id"}, "ignore": ["nope"]}`))
	_, _, errOut = f.run(ctx, "-input", f.path("day1.csv"))
	if !strings.Contains(errOut, `named in mapping \"ignore\" but not in the schema`) {
		t.Errorf("missing ignored column:\n%s", errOut)
	}
	_, _, errOut = f.run(ctx, "-input", f.path("day1.csv"), "-id-column", "client_id")
	if !strings.Contains(errOut, `-id-column \"client_id\": the export has no such column`) {
		t.Errorf("missing -id-column:\n%s", errOut)
	}
	writeFile(t, f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id"}}`))
	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"), "-dry-run")
	if code != exitOK {
		t.Fatalf("dry run: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{`unless mapped with mapping "columns"`, `(enable with mapping "consent_fields": true)`} {
		if !strings.Contains(out, want) {
			t.Errorf("mapping plan lacks %s:\n%s", want, out)
		}
	}
	for _, goName := range []string{"MapColumn", "IgnoreColumns", "Precedence", "WithConsentFields"} {
		if strings.Contains(out+errOut, goName) {
			t.Errorf("output names the Go option %s:\n%s\n%s", goName, out, errOut)
		}
	}
}

// FuzzDecodeMapping: any file is either a mapping or an error that says
// where (file:line:column), never a panic.
func FuzzDecodeMapping(f *testing.F) {
	for _, s := range []string{
		`{"columns": {"customer_id": "external_id"}, "ignore": ["a"], "precedence": {"email": ["a", "b"]}}`,
		"{\n \"ignroe\": [1]}", `{"omit_nulls": "x"}`, `{"ignore": ["\"", 3]}`, `[`, ``, `{}{}`, `{"timezone": "UTC"}`,
	} {
		f.Add([]byte(s))
	}
	where := regexp.MustCompile(`^m\.json:[0-9]+:[0-9]+: `)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m mappingFile
		_, err := decodeMapping("m.json", b, &m)
		if err != nil && !where.MatchString(err.Error()) {
			t.Errorf("error without a position: %v", err)
		}
	})
}
