package s3store_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/objstore/s3store"
)

// Example reads the Currents files under an S3 prefix. Against AWS, build
// the client with s3.NewFromConfig(cfg) from config.LoadDefaultConfig; here
// an S3-compatible server runs in the process, which needs path-style
// addressing and an explicit endpoint.
func Example() {
	ctx := context.Background()
	server := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	defer server.Close()
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(server.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("key", "secret", ""),
	})

	// Set up a bucket holding one synthetic Currents file.
	client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme-currents")})
	var file bytes.Buffer
	currentstest.WriteFile(&file, "users.messages.email.Send", []map[string]any{
		{"id": "a1", "user_id": "u1", "time": 1743526800},
		{"id": "a2", "user_id": "u2", "time": 1743526801},
	})
	client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("acme-currents"),
		Key:    aws.String("currents/event_type=users.messages.email.Send/date=2025-04-01-17/version=6/us-01/f+0+1.avro"),
		Body:   bytes.NewReader(file.Bytes()),
	})

	bucket, prefix, err := s3store.ParseURL("s3://acme-currents/currents")
	if err != nil {
		fmt.Println(err)
		return
	}
	src := currents.NewSource(s3store.New(client, bucket), prefix)
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
