package objstore_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ampbraze/ampbraze/objstore"
)

// A local folder as a Store: keys are slash-separated paths, listed in the
// order S3 would list them, each with its size and modification time.
func ExampleFSStore() {
	dir, _ := os.MkdirTemp("", "objstore-example")
	defer os.RemoveAll(dir)
	os.MkdirAll(filepath.Join(dir, "exports"), 0o755)
	os.WriteFile(filepath.Join(dir, "exports", "customers_2026-11-28.csv"), []byte("id\n1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "exports", "customers_2026-11-29.csv"), []byte("id\n1\n2\n"), 0o644)

	ctx := context.Background()
	var store objstore.Store = objstore.NewFSStore(os.DirFS(dir))
	for obj, err := range store.List(ctx, "exports/") {
		if err != nil {
			fmt.Println(err) // one object (a dangling link) or the listing
			continue
		}
		rc, err := store.Open(ctx, obj.Key)
		if err != nil {
			fmt.Println(err)
			continue
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		fmt.Println(obj.Key, obj.Size, len(b), !obj.ModTime.IsZero())
	}
	// Output:
	// exports/customers_2026-11-28.csv 5 5 true
	// exports/customers_2026-11-29.csv 7 7 true
}

// A checkpoint remembers the objects a job processed, so that a rerun
// skips them. Save after each object makes it durable.
func ExampleFileCheckpoint() {
	dir, _ := os.MkdirTemp("", "objstore-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "processed.txt")
	ctx := context.Background()

	cp, err := objstore.OpenFileCheckpoint(path) // a missing file is an empty checkpoint
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, key := range []string{"exports/a.csv", "exports/b.csv"} {
		if done, _ := cp.Done(ctx, key); done {
			continue
		}
		// ... process the object, then:
		cp.MarkDone(ctx, key)
		if err := cp.Save(); err != nil {
			fmt.Println(err)
			return
		}
	}

	rerun, _ := objstore.OpenFileCheckpoint(path)
	done, _ := rerun.Done(ctx, "exports/b.csv")
	fmt.Println(rerun.Len(), done)
	// Output: 2 true
}
