package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
)

const typLocation = "users.behaviors.Location"

// pqFile is a Parquet part read back: its columns' types by name and its
// rows as maps (null as nil, a LIST as []any).
type pqFile struct {
	path  string
	types map[string]string
	rows  []map[string]any
}

// readParquets reads every Parquet part of an event type, in name order.
func readParquets(t *testing.T, out, eventType string) []pqFile {
	t.Helper()
	names, _ := filepath.Glob(filepath.Join(out, eventType, "part-*.parquet"))
	sort.Strings(names)
	var files []pqFile
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		schema := f.Schema()
		pf := pqFile{path: name, types: map[string]string{}}
		cols := schema.Columns()
		top := make([]string, len(cols))
		for i, path := range cols {
			top[i] = path[0]
			n := schema.Fields()[slices.IndexFunc(schema.Fields(), func(f parquet.Field) bool { return f.Name() == path[0] })]
			if !n.Optional() {
				t.Errorf("%s: column %s is not optional", name, path[0])
			}
			pf.types[path[0]] = n.Type().String()
		}
		for _, rg := range f.RowGroups() {
			rows := rg.Rows()
			buf := make([]parquet.Row, 64)
			for {
				n, err := rows.ReadRows(buf)
				for _, row := range buf[:n] {
					m := map[string]any{}
					for _, v := range row {
						col := top[v.Column()]
						if pf.types[col] == "LIST" {
							l, _ := m[col].([]any)
							switch {
							case v.DefinitionLevel() == 0:
								m[col] = nil
							case v.DefinitionLevel() == 1:
								m[col] = []any{}
							case v.IsNull():
								m[col] = append(l, nil)
							default:
								m[col] = append(l, string(v.ByteArray()))
							}
							continue
						}
						m[col] = pqGo(v)
					}
					pf.rows = append(pf.rows, m)
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			rows.Close()
		}
		files = append(files, pf)
	}
	return files
}

func pqGo(v parquet.Value) any {
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case parquet.Boolean:
		return v.Boolean()
	case parquet.Int64:
		return v.Int64()
	case parquet.Float:
		return v.Float()
	case parquet.Double:
		return v.Double()
	case parquet.ByteArray:
		return string(v.ByteArray())
	}
	return fmt.Sprint(v)
}

// locationOldSchema is an older Location writer schema: fewer fields than
// the current one, in Braze's namespace.
const locationOldSchema = `{"type":"record","name":"Location","namespace":"dataexport.S3.inner.users.behaviors","fields":[` +
	`{"name":"id","type":"string"},{"name":"user_id","type":"string"},{"name":"app_id","type":"string"},` +
	`{"name":"time","type":"int"},{"name":"latitude","type":"float"},{"name":"longitude","type":"float"}]}`

// writeLocationFiles writes Location files with three writer schemas:
// the older one, the current one, and a newer one with two added fields.
func writeLocationFiles(t *testing.T, in string, hour time.Time) {
	t.Helper()
	rec := func(id string) map[string]any {
		return map[string]any{
			"id": id, "user_id": "u-" + id, "app_id": "app", "time": hour.Unix() + 5,
			"latitude": 48.5, "longitude": -2.25, "altitude": 12.5, "ad_tracking_enabled": true,
			"v12_count": int64(7), "v12_tags": []any{"a", "b"},
		}
	}
	files := []struct {
		id   string
		opts []currentstest.Option
	}{
		{"loc-old", []currentstest.Option{currentstest.WithSchema(locationOldSchema)}},
		{"loc-current", nil},
		{"loc-newer", []currentstest.Option{currentstest.WithAddedFields(
			currentstest.Field{Name: "v12_count", Type: "long"},
			currentstest.Field{Name: "v12_tags", Type: `{"type":"array","items":"string"}`})}},
	}
	for i, f := range files {
		var b bytes.Buffer
		if err := currentstest.WriteFile(&b, typLocation, []map[string]any{rec(f.id)}, f.opts...); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", typLocation, hour, i)))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// -format parquet writes one typed Parquet schema per event type: the
// older and the current writer schema share one part, whose columns are
// the type's current fields; a newer schema's added fields start one
// wider part; timestamps, floats and booleans are typed, absent fields
// null. Each part is synced once, at the commit.
func TestRegression_Issue16_ParquetOneSchemaPerType(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	writeLocationFiles(t, in, hour)

	c := testConfig(t, in, out, "-format", "parquet")
	var syncs atomic.Int64
	c.syncFile = func(f *os.File) error { syncs.Add(1); return f.Sync() }
	rep, err := export(context.Background(), c, quiet(), newProgress(&bytes.Buffer{}, quiet()))
	if err != nil || rep.written != 3 {
		t.Fatalf("export: %v, %d written", err, rep.written)
	}
	files := readParquets(t, out, typLocation)
	if len(files) != 2 || syncs.Load() != 2 {
		t.Fatalf("%d parts, %d syncs; want 2 and 2", len(files), syncs.Load())
	}
	if len(rep.outputs) != 2 {
		t.Errorf("report names %q", rep.outputs)
	}
	slices.SortFunc(files, func(a, b pqFile) int { return len(a.types) - len(b.types) })
	first, wider := files[0], files[1]
	if len(first.rows) != 2 || len(wider.rows) != 1 {
		t.Fatalf("rows per part: %d, %d", len(first.rows), len(wider.rows))
	}
	cat := currents.NewEvent(typLocation).(currents.FieldEvent).Fields()
	if got := slices.Sorted(mapKeys(first.types)); !slices.Equal(got, slices.Sorted(slices.Values(cat))) {
		t.Errorf("first part's columns %q, want the current fields %q", got, cat)
	}
	wantTypes := map[string]string{
		"id": "STRING", "time": "TIMESTAMP(isAdjustedToUTC=true,unit=MILLIS)", "latitude": "FLOAT",
		"ad_tracking_enabled": "BOOLEAN", "altitude": "FLOAT",
	}
	for col, want := range wantTypes {
		if got := first.types[col]; got != want {
			t.Errorf("column %s: %s, want %s", col, got, want)
		}
	}
	for col, want := range map[string]string{"v12_count": "INT(64,true)", "v12_tags": "LIST"} {
		if got := wider.types[col]; got != want {
			t.Errorf("wider part: column %s: %s, want %s", col, got, want)
		}
	}
	if len(wider.types) != len(first.types)+2 {
		t.Errorf("wider part has %d columns, the first %d", len(wider.types), len(first.types))
	}

	byID := map[string]map[string]any{}
	for _, f := range files {
		for _, r := range f.rows {
			byID[r["id"].(string)] = r
		}
	}
	old, cur, newer := byID["loc-old"], byID["loc-current"], byID["loc-newer"]
	if old == nil || cur == nil || newer == nil {
		t.Fatalf("rows %v", byID)
	}
	wantTime := (hour.Unix() + 5) * 1000
	if old["time"] != wantTime || old["latitude"] != float32(48.5) || old["user_id"] != "u-loc-old" {
		t.Errorf("old schema's row: %v", old)
	}
	if old["altitude"] != nil || old["ad_tracking_enabled"] != nil {
		t.Errorf("fields the old schema lacks are not null: %v", old)
	}
	if cur["altitude"] != float32(12.5) || cur["ad_tracking_enabled"] != true {
		t.Errorf("current schema's row: %v", cur)
	}
	if newer["v12_count"] != int64(7) || !slices.Equal(newer["v12_tags"].([]any), []any{"a", "b"}) {
		t.Errorf("newer schema's row: %v", newer)
	}

	// -columns pins the columns: one part; a column the catalogue lacks
	// takes the first writer schema's type, or text, which holds any
	// value (the list as its JSON).
	out = t.TempDir()
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "parquet", "-columns", "id,time,latitude,v12_tags"); code != exitOK {
		t.Fatalf("-columns: exit %d\n%s\n%s", code, stdout, stderr)
	}
	files = readParquets(t, out, typLocation)
	if len(files) != 1 || len(files[0].rows) != 3 || len(files[0].types) != 4 {
		t.Fatalf("-columns: %d parts: %+v", len(files), files)
	}
	if files[0].types["time"] != wantTypes["time"] || files[0].types["v12_tags"] != "STRING" {
		t.Errorf("-columns: types %v", files[0].types)
	}
	for _, r := range files[0].rows {
		if r["id"] == "loc-newer" && r["v12_tags"] != `["a","b"]` {
			t.Errorf("-columns: %v", r)
		}
		if r["id"] == "loc-old" && r["v12_tags"] != nil {
			t.Errorf("-columns: %v", r)
		}
	}
}

// A second run in the same output folder starts its parts from the widest
// schema of the first: a newer schema's fields are not dropped at a
// commit boundary (the next batch's parts keep them).
func TestParquetWidestSchemaKeptAcrossCommits(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	hour := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	writeLocationFiles(t, in, hour)
	// A fourth file, current schema, read after the newer one.
	var b bytes.Buffer
	rec := map[string]any{"id": "loc-late", "user_id": "u", "app_id": "a", "time": hour.Unix(), "latitude": 1.0, "longitude": 2.0}
	if err := currentstest.WriteFile(&b, typLocation, []map[string]any{rec}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", typLocation, hour, 3)))
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "parquet", "-commit-events", "1"); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	files := readParquets(t, out, typLocation)
	if len(files) != 4 { // a commit after each file
		t.Fatalf("%d parts", len(files))
	}
	var late *pqFile
	for i := range files {
		if files[i].rows[0]["id"] == "loc-late" {
			late = &files[i]
		}
	}
	if late == nil || late.types["v12_count"] != "INT(64,true)" || late.rows[0]["v12_count"] != nil {
		t.Errorf("the part after the newer one: %+v", late)
	}
}

// A corrupt file's rows are rolled back from the Parquet part like from
// the other formats; the good files' rows stay.
func TestParquetRollbackOfCorruptFile(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	hour := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	good := make([]map[string]any, 0, 3)
	for _, id := range []string{"ok-1", "ok-2", "ok-3"} {
		good = append(good, map[string]any{"id": id, "user_id": "u", "time": hour.Unix()})
	}
	var b bytes.Buffer
	if err := currentstest.WriteFile(&b, "users.messages.email.Bounce", good); err != nil {
		t.Fatal(err)
	}
	for i, data := range [][]byte{b.Bytes(), truncatedFile(t), b.Bytes()[:0]} {
		if i == 2 {
			var c bytes.Buffer
			recs := []map[string]any{{"id": "ok-4", "user_id": "u", "time": hour.Unix()}}
			if err := currentstest.WriteFile(&c, "users.messages.email.Bounce", recs); err != nil {
				t.Fatal(err)
			}
			data = c.Bytes()
		}
		path := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", "users.messages.email.Bounce", hour, i)))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if code, stdout, _ := runExport(t, "-input", in, "-out", out, "-format", "parquet"); code != exitCorrupt {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	var got []string
	for _, f := range readParquets(t, out, "users.messages.email.Bounce") {
		for _, r := range f.rows {
			got = append(got, r["id"].(string))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"ok-1", "ok-2", "ok-3", "ok-4"}) {
		t.Errorf("rows %q", got)
	}
}

// The kinds of Avro types and their widening.
func TestParquetKinds(t *testing.T) {
	wk, err := parseKinds(`{"type":"record","name":"R","fields":[
		{"name":"time","type":"long"},{"name":"time_ms","type":["null","long"]},
		{"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
		{"name":"n","type":"int"},{"name":"f","type":"float"},{"name":"d","type":["null","double"]},
		{"name":"b","type":"boolean"},{"name":"s","type":"string"},{"name":"raw","type":"bytes"},
		{"name":"tags","type":{"type":"array","items":["null","string"]}},
		{"name":"m","type":{"type":"map","values":"string"}},{"name":"u","type":["null","string","long"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]pqKind{
		"time": pqTimeSec, "time_ms": pqTimeMS, "at": pqTimeUS, "n": pqInt, "f": pqFloat, "d": pqDouble,
		"b": pqBool, "s": pqString, "raw": pqBytes, "tags": pqStrings, "m": pqJSON, "u": pqJSON,
	}
	for name, k := range want {
		if wk.kinds[name] != k {
			t.Errorf("%s: kind %d, want %d", name, wk.kinds[name], k)
		}
	}
	for _, c := range []struct{ a, b, want pqKind }{
		{pqInt, pqInt, pqInt}, {pqInt, pqDouble, pqDouble}, {pqFloat, pqInt, pqDouble},
		{pqFloat, pqDouble, pqDouble}, {pqBool, pqInt, pqString}, {pqStrings, pqString, pqString},
		{pqTimeSec, pqInt, pqString}, {pqJSON, pqString, pqString},
	} {
		if got := widen(c.a, c.b); got != c.want {
			t.Errorf("widen(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if _, err := parseKinds(`"string"`); err == nil || !strings.Contains(err.Error(), "not a record") {
		t.Errorf("a non-record schema: %v", err)
	}
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
