package gcsstore_test

import (
	"bytes"
	"context"
	"fmt"

	"github.com/fsouza/fake-gcs-server/fakestorage"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/objstore/gcsstore"
)

// Example reads the Currents files under a GCS prefix. Against GCS, call
// gcsstore.OpenURL(ctx, "gs://acme-currents/currents"), which builds the
// client from Application Default Credentials; here a GCS emulator runs in
// the process and hands out a client of its own.
func Example() {
	ctx := context.Background()
	server, err := fakestorage.NewServerWithOptions(fakestorage.Options{NoListener: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer server.Stop()
	client := server.Client()
	defer client.Close()

	// Set up a bucket holding one synthetic Currents file.
	server.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: "acme-currents"})
	var file bytes.Buffer
	currentstest.WriteFile(&file, "users.messages.email.Send", []map[string]any{
		{"id": "a1", "user_id": "u1", "time": 1743526800},
		{"id": "a2", "user_id": "u2", "time": 1743526801},
	})
	server.CreateObject(fakestorage.Object{
		ObjectAttrs: fakestorage.ObjectAttrs{
			BucketName: "acme-currents",
			Name:       "currents/event_type=users.messages.email.Send/date=2025-04-01-17/version=6/us-01/f+0+1.avro",
		},
		Content: file.Bytes(),
	})

	bucket, prefix, err := gcsstore.ParseURL("gs://acme-currents/currents")
	if err != nil {
		fmt.Println(err)
		return
	}
	src := currents.NewSource(gcsstore.New(client, bucket), prefix)
	for ke, err := range src.All(ctx) {
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(ke.Key.EventType, ke.Event.EventID(), ke.Event.UserID(), ke.Event.Time().UTC().Format("2006-01-02 15:04:05"))
	}
	// Output:
	// users.messages.email.Send a1 u1 2025-04-01 17:00:00
	// users.messages.email.Send a2 u2 2025-04-01 17:00:01
}
