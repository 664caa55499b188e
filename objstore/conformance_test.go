package objstore_test

import (
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// TestConformance runs the objstore suite on FSStore over an in-memory
// tree and over a real folder.
func TestConformance(t *testing.T) {
	t.Run("MapFS", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
			fsys := fstest.MapFS{}
			for k, v := range objects {
				fsys[k] = &fstest.MapFile{Data: v, ModTime: time.Now()}
			}
			return objstore.NewFSStore(fsys)
		}, storetest.WithModTimeSlack(0)) // the times are set while Open runs: no slack needed
	})
	t.Run("DirFS", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
			root := t.TempDir()
			for k, v := range objects {
				p := filepath.Join(root, filepath.FromSlash(k))
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, v, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			return objstore.NewFSStore(os.DirFS(root))
		})
	})
}
