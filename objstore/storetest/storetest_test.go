package storetest_test

import (
	"context"
	"errors"
	"io"
	"iter"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// mapStore opens an FSStore over an in-memory tree, the reference the
// faulty stores below depart from.
func mapStore(t *testing.T, objects map[string][]byte) *objstore.FSStore {
	fsys := fstest.MapFS{}
	for k, v := range objects {
		fsys[k] = &fstest.MapFile{Data: v, ModTime: time.Now()}
	}
	return objstore.NewFSStore(fsys)
}

// faults are stores that each break one rule of the contract; the suite
// must fail on every one.
var faults = map[string]func(s *objstore.FSStore) objstore.Store{
	// Lists in reverse order.
	"unordered": func(s *objstore.FSStore) objstore.Store { return reversed{s} },
	// Reports a missing object with an error that is not fs.ErrNotExist.
	"opaque-missing": func(s *objstore.FSStore) objstore.Store { return opaqueMissing{s} },
	// Ignores a cancelled context.
	"ignores-ctx": func(s *objstore.FSStore) objstore.Store { return ignoresCtx{s} },
}

type reversed struct{ *objstore.FSStore }

func (r reversed) List(ctx context.Context, prefix string) iter.Seq2[objstore.Object, error] {
	return func(yield func(objstore.Object, error) bool) {
		var all []objstore.Object
		for o, err := range r.FSStore.List(ctx, prefix) {
			if err != nil {
				yield(o, err)
				return
			}
			all = append(all, o)
		}
		slices.Reverse(all)
		for _, o := range all {
			if !yield(o, nil) {
				return
			}
		}
	}
}

type opaqueMissing struct{ *objstore.FSStore }

func (o opaqueMissing) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	rc, err := o.FSStore.Open(ctx, key)
	if err != nil {
		return nil, errors.New(err.Error())
	}
	return rc, nil
}

type ignoresCtx struct{ *objstore.FSStore }

func (i ignoresCtx) List(_ context.Context, prefix string) iter.Seq2[objstore.Object, error] {
	return i.FSStore.List(context.Background(), prefix)
}

// TestRunPasses: a store that keeps the contract passes.
func TestRunPasses(t *testing.T) {
	storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
		return mapStore(t, objects)
	})
}

const faultEnv = "STORETEST_FAULT"

// TestFaultChild runs the suite on the faulty store named by
// $STORETEST_FAULT, in the child process TestRunFails starts.
func TestFaultChild(t *testing.T) {
	fault := faults[os.Getenv(faultEnv)]
	if fault == nil {
		t.Skip("run by TestRunFails in a child process")
	}
	storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
		return fault(mapStore(t, objects))
	})
}

// TestRunFails: the suite fails each faulty store, naming what is wrong.
// It runs in a child process, as a failed subtest would fail this test.
func TestRunFails(t *testing.T) {
	want := map[string]string{
		"unordered":      "List(\"a\")",
		"opaque-missing": "want an error matching fs.ErrNotExist",
		"ignores-ctx":    "List, cancelled",
	}
	for name := range faults {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestFaultChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), faultEnv+"="+name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a store that is %s:\n%s", name, out)
			}
			if !strings.Contains(string(out), want[name]) {
				t.Errorf("the suite failed a store that is %s, but without saying %q:\n%s", name, want[name], out)
			}
		})
	}
}
