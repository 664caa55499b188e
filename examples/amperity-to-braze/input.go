package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/amperity"
	"github.com/ampbraze/ampbraze/amperity/parquet"
)

// format is how an export file is read.
type format struct {
	kind      string // "delimited" or "ndjson"
	delimiter rune
}

// formatOf picks the format: the -format flag if given, else the file name's
// extension (ignoring .gz, which the readers detect themselves).
func formatOf(flagFormat, delimiter, name string) (format, error) {
	f := flagFormat
	if f == "" {
		base := strings.TrimSuffix(strings.ToLower(path.Base(name)), ".gz")
		f = strings.TrimPrefix(path.Ext(base), ".")
	}
	var out format
	switch f {
	case "csv", "txt":
		out = format{"delimited", ','}
	case "tsv", "tab":
		out = format{"delimited", '\t'}
	case "psv":
		out = format{"delimited", '|'}
	case "ndjson", "jsonl", "json":
		out = format{"ndjson", 0}
	case "parquet":
		out = format{"parquet", 0}
	default:
		return format{}, fmt.Errorf("%s: unknown format %q (use -format csv, tsv, psv, ndjson or parquet)", name, f)
	}
	if delimiter != "" {
		if out.kind != "delimited" {
			return format{}, fmt.Errorf("-delimiter applies to delimited text, not %s", f)
		}
		d := strings.ReplaceAll(delimiter, `\t`, "\t")
		r, n := utf8.DecodeRuneInString(d)
		if n != len(d) || r >= utf8.RuneSelf {
			return format{}, fmt.Errorf("-delimiter must be one ASCII character, got %q", delimiter)
		}
		out.delimiter = r
	}
	return out, nil
}

// openRows starts reading one export: its schema (from the header, typed by
// the -schema file when given, or from the Parquet file) and its rows.
// close releases what it opened.
func openRows(ctx context.Context, r io.Reader, name string, f format, schema *amperity.Schema, nullTokens []string, allStrings bool) (rows amperity.RowSource, close func(), err error) {
	if f.kind == "parquet" {
		if schema != nil {
			return nil, nil, fmt.Errorf("%s: -schema does not apply to Parquet, whose file carries the column types", name)
		}
		ra, size, close, err := readerAt(r)
		if err != nil {
			return nil, nil, err
		}
		rows, err := parquet.NewReader(ctx, ra, size, parquet.WithSource(name))
		if err != nil {
			close()
			return nil, nil, err
		}
		return rows, close, nil
	}
	if schema == nil && !allStrings {
		// Once Braze has typed a custom attribute as a string, it is hard
		// to undo: never guess silently.
		return nil, nil, errors.New(`no -schema: every column would reach Braze as a string ("8331.19", dates as text); give -schema FILE with column:type lines, or -all-strings if strings are what you want`)
	}
	opts := []amperity.ReaderOption{amperity.WithSource(name)}
	if schema != nil {
		opts = append(opts, amperity.WithSchema(*schema))
	}
	if nullTokens != nil {
		opts = append(opts, amperity.WithNullTokens(nullTokens...))
	}
	if f.kind == "ndjson" {
		rows, err = amperity.NewNDJSONReader(ctx, r, opts...)
	} else {
		rows, err = amperity.NewCSVReader(ctx, r, append(opts, amperity.WithDelimiter(f.delimiter))...)
	}
	return rows, func() {}, err
}

// readerAt gives Parquet, which reads its footer first, random access: a
// local file as it is, anything else (an S3 object) spooled to a temporary
// file.
func readerAt(r io.Reader) (io.ReaderAt, int64, func(), error) {
	if f, ok := r.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			return f, fi.Size(), func() {}, nil
		}
	}
	tmp, err := os.CreateTemp("", "amperity-to-braze-*.parquet")
	if err != nil {
		return nil, 0, nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	size, err := io.Copy(tmp, r)
	if err != nil {
		cleanup()
		return nil, 0, nil, err
	}
	return tmp, size, cleanup, nil
}
