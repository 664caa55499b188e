package parquet

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/ampbraze/ampbraze/amperity"
	pq "github.com/parquet-go/parquet-go"
)

func TestOpenDir(t *testing.T) {
	type row struct {
		ExternalID string `parquet:"external_id"`
		N          int64  `parquet:"n"`
	}
	part := func(rows ...row) *fstest.MapFile {
		var buf bytes.Buffer
		w := pq.NewGenericWriter[row](&buf)
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return &fstest.MapFile{Data: buf.Bytes()}
	}
	fsys := fstest.MapFS{
		"out/part-0000002.parquet": part(row{"u3", 3}),
		"out/part-0000001.parquet": part(row{"u1", 1}, row{"u2", 2}),
		"out/_SUCCESS":             &fstest.MapFile{},
		"out/export.DONE":          &fstest.MapFile{},
	}
	src, closeFn, err := OpenDir(context.Background(), fsys, "out")
	if err != nil {
		t.Fatal(err)
	}
	defer closeFn()
	var got []string
	for r, err := range src.Rows(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Source+":"+r.Cells[0].Text)
	}
	if want := "out/part-0000001.parquet:u1 out/part-0000001.parquet:u2 out/part-0000002.parquet:u3"; strings.Join(got, " ") != want {
		t.Errorf("rows %q", got)
	}
	if _, _, err := OpenDir(context.Background(), fstest.MapFS{"empty/_SUCCESS": &fstest.MapFile{}}, "empty"); !errors.Is(err, amperity.ErrRead) {
		t.Errorf("empty dir: %v", err)
	}
}
