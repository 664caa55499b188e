package currents_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/objstore"
)

// writeAvro writes a synthetic Currents file of eventType at path.
func writeAvro(t *testing.T, path, eventType string, ids ...string) {
	t.Helper()
	var recs []map[string]any
	for _, id := range ids {
		recs = append(recs, map[string]any{"id": id, "user_id": "u", "time": int64(1795773600)})
	}
	var b bytes.Buffer
	if err := currentstest.WriteFile(&b, eventType, recs); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// collectAll reads every event of src as "type id", and every error.
func collectAll(t *testing.T, src *currents.Source) (events []string, errs []error) {
	t.Helper()
	for ke, err := range src.All(context.Background()) {
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ke.Key.EventType != ke.Event.EventType() {
			t.Errorf("%s: key type %q, event type %q", ke.Key.Raw, ke.Key.EventType, ke.Event.EventType())
		}
		events = append(events, ke.Key.EventType+" "+ke.Event.EventID())
	}
	slices.Sort(events)
	return events, errs
}

// A flat folder of Currents files (no event_type= folders) is read: each
// file's event type comes from its writer schema, not reported as a key
// without an event_type= segment.
func TestRegression_Issue16_FlatFolderTypeFromSchema(t *testing.T) {
	dir := t.TempDir()
	writeAvro(t, filepath.Join(dir, "a.avro"), "users.messages.email.Send", "s1", "s2")
	writeAvro(t, filepath.Join(dir, "b.avro"), "users.behaviors.CustomEvent", "c1")
	writeAvro(t, filepath.Join(dir, "sub", "c.avro"), "agentconsole.AgentExecuted", "x1")
	store := objstore.NewFSStore(os.DirFS(dir))

	events, errs := collectAll(t, currents.NewSource(store, ""))
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := []string{"agentconsole.AgentExecuted x1", "users.behaviors.CustomEvent c1",
		"users.messages.email.Send s1", "users.messages.email.Send s2"}
	if !slices.Equal(events, want) {
		t.Errorf("events %q, want %q", events, want)
	}

	// The event type filter applies to them too, and so does the checkpoint.
	cp, err := objstore.OpenFileCheckpoint(filepath.Join(t.TempDir(), "cp"))
	if err != nil {
		t.Fatal(err)
	}
	src := currents.NewSource(store, "", currents.WithEventTypes("users.messages.email.Send"), currents.WithCheckpoint(cp))
	if events, errs = collectAll(t, src); len(errs) > 0 || !slices.Equal(events, want[2:]) {
		t.Errorf("filtered: events %q, errors %v", events, errs)
	}
	if events, errs = collectAll(t, src); len(errs) > 0 || len(events) > 0 {
		t.Errorf("after the checkpoint: events %q, errors %v", events, errs)
	}

	// A flat file that is not Avro is reported as a decoding error naming it.
	os.WriteFile(filepath.Join(dir, "junk.avro"), []byte("not avro"), 0o644)
	_, errs = collectAll(t, currents.NewSource(store, ""))
	var fe *currents.FileError
	if len(errs) != 1 || !errors.As(errs[0], &fe) || fe.Key != "junk.avro" || !errors.Is(errs[0], currents.ErrNotAvro) {
		t.Errorf("junk: errors %v", errs)
	}
}

// Symbolic links to files are followed; a link to a directory and a
// dangling link are reported, naming the link, instead of skipped
// silently.
func TestRegression_Issue16_Symlinks(t *testing.T) {
	root, elsewhere := t.TempDir(), t.TempDir()
	target := filepath.Join(elsewhere, "send.avro")
	writeAvro(t, target, "users.messages.email.Send", "s1")
	os.MkdirAll(filepath.Join(root, "in"), 0o755)
	for link, to := range map[string]string{
		"in/link.avro":     target,
		"in/dirlink.avro":  elsewhere,
		"in/dangling.avro": filepath.Join(elsewhere, "gone.avro"),
	} {
		if err := os.Symlink(to, filepath.Join(root, link)); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("symlinks unavailable (CI is set): %v", err)
			}
			t.Skipf("symlinks unavailable on this filesystem: %v; the symlink cases of issue 16 are not checked", err)
		}
	}
	store := objstore.NewFSStore(os.DirFS(root))
	for _, src := range []*currents.Source{
		currents.NewSource(store, "in/"),
		// With a filter, the Source lists folder by folder (ListDir).
		currents.NewSource(store, "in/", currents.WithEventTypes("users.messages.email.Send")),
	} {
		events, errs := collectAll(t, src)
		if want := []string{"users.messages.email.Send s1"}; !slices.Equal(events, want) {
			t.Errorf("events %q, want %q", events, want)
		}
		var reported []string
		for _, err := range errs {
			var fe *currents.FileError
			if !errors.As(err, &fe) || !errors.Is(err, objstore.ErrSymlink) {
				t.Errorf("error %v (%T), want a *FileError matching ErrSymlink", err, err)
				continue
			}
			reported = append(reported, fe.Key)
		}
		slices.Sort(reported)
		if want := []string{"in/dangling.avro", "in/dirlink.avro"}; !slices.Equal(reported, want) {
			t.Errorf("reported %q, want %q", reported, want)
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), "dirlink") && !strings.Contains(err.Error(), "directory") {
				t.Errorf("message does not say why: %v", err)
			}
		}
	}
}

// A flat file of a type newer than this package (v11's
// contentoptimizer.ComponentStore, outside users.) takes its type from
// what follows "inner." in Braze's namespace, not the whole full name.
func TestRegression_Issue16_FlatFolderNewType(t *testing.T) {
	const schema = `{"type":"record","name":"ComponentStore","namespace":"dataexport.S3.inner.contentoptimizer",
		"fields":[{"name":"id","type":"string"},{"name":"time","type":"int"},{"name":"component","type":["null","string"],"default":null}]}`
	var b bytes.Buffer
	recs := []map[string]any{{"id": "co-1", "time": int64(1795773600), "component": "hero"}}
	if err := currentstest.WriteFile(&b, "contentoptimizer.ComponentStore", recs, currentstest.WithSchema(schema)); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "co.avro"), b.Bytes(), 0o644)
	src := currents.NewSource(objstore.NewFSStore(os.DirFS(dir)), "", currents.WithEventTypes("contentoptimizer.ComponentStore"))
	var got []currents.KeyedEvent
	for ke, err := range src.All(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ke)
	}
	if len(got) != 1 || got[0].Key.EventType != "contentoptimizer.ComponentStore" {
		t.Fatalf("got %+v", got)
	}
	g, ok := got[0].Event.(*currents.Generic)
	if !ok {
		t.Fatalf("event %T, want *Generic", got[0].Event)
	}
	if v, _ := g.Get("component"); v != "hero" {
		t.Errorf("component = %v", v)
	}
}
