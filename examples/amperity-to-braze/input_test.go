package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		flag, delim, name string
		want              format
		err               bool
	}{
		{"", "", "customers.csv", format{"delimited", ','}, false},
		{"", "", "s3://b/customers.TSV.gz", format{"delimited", '\t'}, false},
		{"", "", "x.psv", format{"delimited", '|'}, false},
		{"", ";", "x.csv", format{"delimited", ';'}, false},
		{"csv", `\t`, "export", format{"delimited", '\t'}, false},
		{"", "", "x.jsonl", format{"ndjson", 0}, false},
		{"", "", "part-0.parquet", format{"parquet", 0}, false},
		{"", "", "x.xml", format{}, true},
		{"", "", "noextension", format{}, true},
		{"ndjson", ",", "x", format{}, true},
		{"csv", "ab", "x", format{}, true},
		{"csv", "é", "x", format{}, true},
	} {
		got, err := formatOf(tc.flag, tc.delim, tc.name)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("formatOf(%q, %q, %q) = %v, %v; want %v, error %v", tc.flag, tc.delim, tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestNDJSONAndTSV syncs the same users from NDJSON and from TSV: the
// second format finds nothing to send.
func TestNDJSONAndTSV(t *testing.T) {
	f := newFixture(t)
	ndjson := `{"customer_id":"C-1","given_name":"Ada","Birthdate":"1985-12-10","aud_high_value":true}
{"customer_id":"C-2","given_name":"Grace","Birthdate":"1976-12-09","aud_high_value":false}
`
	writeFile(t, f.path("users.ndjson"), []byte(ndjson))
	writeFile(t, f.path("users.tsv"), []byte("customer_id\tgiven_name\tBirthdate\taud_high_value\nC-1\tAda\t1985-12-10\ttrue\nC-2\tGrace\t1976-12-09\tfalse\n"))
	writeFile(t, f.path("small.schema"), []byte("customer_id:String\ngiven_name:String\nBirthdate:Date\naud_high_value:Boolean\n"))
	os.WriteFile(f.path("mapping.json"), []byte(`{"columns": {"customer_id": "external_id"}, "audiences": ["aud_high_value"]}`), 0o644)
	ctx := context.Background()
	for i, in := range []string{"users.ndjson", "users.tsv"} {
		code, out, errOut := f.run(ctx, "-input", f.path(in), "-schema", f.path("small.schema"))
		if code != exitOK {
			t.Fatalf("%s: exit %d\n%s\n%s", in, code, out, errOut)
		}
		want := []string{"sent 2 users", "sent 0 users"}[i]
		if !strings.Contains(out, want) {
			t.Errorf("%s: summary lacks %q:\n%s", in, want, out)
		}
	}
	if u, _ := f.fake.User("C-1"); u.Attributes["dob"] != "1985-12-10" || u.Attributes["aud_high_value"] != true {
		t.Errorf("C-1 = %v", u.Attributes)
	}
}
