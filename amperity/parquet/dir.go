package parquet

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/ampbraze/ampbraze/amperity"
)

// OpenDir opens the part files of an Amperity Parquet export, which is a
// folder, as one row source (see amperity.Concat). Parts are read in name
// order; names starting with '.' or '_' (checksums, _SUCCESS) and ending in
// ".DONE" (Amperity's success marker) are skipped. Every part must have the
// same schema. Files must support io.ReaderAt (os.DirFS, embed.FS and
// fstest.MapFS files do). Call the returned close function when done.
func OpenDir(ctx context.Context, fsys fs.FS, dir string) (amperity.RowSource, func() error, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, nil, &amperity.InputError{Source: dir, Err: fmt.Errorf("%w: %v", amperity.ErrRead, err)}
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.HasPrefix(n, "_") || strings.HasSuffix(n, ".DONE") {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, nil, &amperity.InputError{Source: dir, Err: fmt.Errorf("%w: no part files", amperity.ErrRead)}
	}
	var files []fs.File
	closeAll := func() error {
		var first error
		for _, f := range files {
			if err := f.Close(); err != nil && first == nil {
				first = err
			}
		}
		return first
	}
	parts := make([]amperity.RowSource, 0, len(names))
	for _, n := range names {
		name := path.Join(dir, n)
		f, err := fsys.Open(name)
		if err != nil {
			closeAll()
			return nil, nil, &amperity.InputError{Source: name, Err: fmt.Errorf("%w: %v", amperity.ErrRead, err)}
		}
		files = append(files, f)
		ra, ok := f.(io.ReaderAt)
		st, err := f.Stat()
		if !ok || err != nil {
			closeAll()
			return nil, nil, &amperity.InputError{Source: name, Err: fmt.Errorf("%w: the file does not support random access (io.ReaderAt)", amperity.ErrRead)}
		}
		r, err := NewReader(ctx, ra, st.Size(), WithSource(name))
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		parts = append(parts, r)
	}
	src, err := amperity.Concat(parts...)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return src, closeAll, nil
}
