package main

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/ampbraze/ampbraze/amperity"
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
		// amperity has no Parquet reader yet (see the README).
		return format{}, fmt.Errorf("%s: Parquet input needs a Parquet reader in package amperity, which it does not have yet", name)
	default:
		return format{}, fmt.Errorf("%s: unknown format %q (use -format csv, tsv, psv or ndjson)", name, f)
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
// the -schema file when given) and its rows.
func openRows(ctx context.Context, r io.Reader, name string, f format, schema *amperity.Schema, nullTokens []string) (amperity.RowSource, error) {
	opts := []amperity.ReaderOption{amperity.WithSource(name)}
	if schema != nil {
		opts = append(opts, amperity.WithSchema(*schema))
	}
	if nullTokens != nil {
		opts = append(opts, amperity.WithNullTokens(nullTokens...))
	}
	if f.kind == "ndjson" {
		return amperity.NewNDJSONReader(ctx, r, opts...)
	}
	return amperity.NewCSVReader(ctx, r, append(opts, amperity.WithDelimiter(f.delimiter))...)
}
