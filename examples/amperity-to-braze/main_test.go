package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	pq "github.com/parquet-go/parquet-go"

	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// fixture is a working directory holding the quickstart's exports, schema
// and a mapping file, and a fake Braze.
type fixture struct {
	t    *testing.T
	dir  string
	fake *brazetest.Server
}

func newFixture(t *testing.T, opts ...brazetest.Option) *fixture {
	t.Helper()
	dir := t.TempDir()
	for _, name := range []string{"day1.csv", "day2.csv", "schema.txt"} {
		b, err := os.ReadFile(filepath.Join("..", "quickstart", "data", name))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, name), b)
	}
	writeFile(t, filepath.Join(dir, "mapping.json"), []byte(`{
		"columns": {"customer_id": "external_id"},
		"audiences": ["aud_high_value", "aud_winback"]
	}`))
	t.Setenv("BRAZE_API_KEY", brazetest.DefaultAPIKey)
	t.Setenv("BRAZE_INSTANCE", "")
	t.Setenv("BRAZE_REST_ENDPOINT", "")
	return &fixture{t: t, dir: dir, fake: brazetest.NewServer(t, opts...)}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) path(name string) string { return filepath.Join(f.dir, name) }

// run runs the program with the fixture's schema, mapping, state and
// rejects file, plus args.
func (f *fixture) run(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	f.t.Helper()
	base := []string{
		"-endpoint", f.fake.URL,
		"-schema", f.path("schema.txt"),
		"-mapping", f.path("mapping.json"),
		"-state", f.path("state"),
		"-rejects", f.path("rejects.ndjson"),
	}
	var out, errOut bytes.Buffer
	code = run(ctx, append(base, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

func (f *fixture) rejects() []reject {
	f.t.Helper()
	file, err := os.Open(f.path("rejects.ndjson"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	var out []reject
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		var r reject
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			f.t.Fatalf("rejects file line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// attributeObjects counts the attributes objects the fake has received.
func (f *fixture) attributeObjects() int { return f.fake.Stats().AttributesProcessed }

func TestTwoDaysSendOnlyChanges(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"))
	if code != exitOK {
		t.Fatalf("day 1: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := len(f.fake.Users()); got != 8 {
		t.Fatalf("day 1: fake has %d users, want 8", got)
	}
	u, _ := f.fake.User("C-1002")
	if u.Attributes["aud_high_value"] != true || u.Attributes["dob"] != "1976-12-09" {
		t.Errorf("day 1: C-1002 = %v", u.Attributes)
	}
	before := f.attributeObjects()

	code, out, errOut = f.run(ctx, "-input", f.path("day2.csv"))
	if code != exitRejected {
		t.Fatalf("day 2: exit %d, want %d (one bad row)\n%s\n%s", code, exitRejected, out, errOut)
	}
	// C-1001 and C-1002 changed, C-1009 is new; C-1003 (310.250) and
	// C-1005 (email without spaces) only changed formatting; C-1010 has
	// an impossible birthdate.
	if got := f.attributeObjects() - before; got != 3 {
		t.Errorf("day 2 sent %d attribute objects, want 3", got)
	}
	u, _ = f.fake.User("C-1002")
	if u.Attributes["aud_high_value"] != false {
		t.Errorf("day 2: C-1002 aud_high_value = %v, want false", u.Attributes["aud_high_value"])
	}
	if _, ok := f.fake.User("C-1010"); ok {
		t.Error("day 2: the row with an impossible birthdate reached Braze")
	}
	rej := f.rejects()
	if len(rej) != 1 {
		t.Fatalf("rejects = %+v, want one row", rej)
	}
	if r := rej[0]; r.Row != 10 || r.Column != "Birthdate" || r.Value != "1916-02-30" || r.Stage != "map" {
		t.Errorf("reject = %+v", r)
	}
	if !strings.Contains(out, "sent 3 users") {
		t.Errorf("summary does not say 3 users were sent:\n%s", out)
	}

	// Nothing changed since: a rerun sends nothing more.
	before = f.attributeObjects()
	if code, out, errOut = f.run(ctx, "-input", f.path("day2.csv")); code != exitRejected {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 0 {
		t.Errorf("rerun sent %d objects, want 0", got)
	}
}

func TestDryRunSendsAndRecordsNothing(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"), "-dry-run", "-sample", "2")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.fake.Stats().Requests; n != 0 {
		t.Errorf("dry run made %d requests", n)
	}
	for _, want := range []string{"Mapping plan:", "customer_id", `{"external_id":"C-1001"`, `"external_id":"C-1002"`, "8 new"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `"external_id":"C-1003"`) {
		t.Errorf("dry run showed more than -sample changes:\n%s", out)
	}
	// The state was not touched: the real run sends everyone.
	if code, out, errOut = f.run(ctx, "-input", f.path("day1.csv")); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects(); got != 8 {
		t.Errorf("real run after dry run sent %d objects, want 8", got)
	}
}

// A rejected object is reported, and (issue 13, item 8) not sent again
// until its data changes, as Braze asks; -resend-rejected sends it anyway.
func TestRejectedObjectIsReportedAndNotResentUntilChanged(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.fake.RejectExternalIDs(func(id string) bool { return id == "C-1004" })
	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"))
	if code != exitRejected {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitRejected, out, errOut)
	}
	rej := f.rejects()
	if len(rej) != 1 || rej[0].Key != "C-1004" || rej[0].Row != 4 || rej[0].Stage != "braze" || rej[0].Reason == "" {
		t.Fatalf("rejects = %+v", rej)
	}
	f.fake.ClearFaults()
	before := f.attributeObjects()
	if code, out, errOut = f.run(ctx, "-input", f.path("day1.csv")); code != exitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 0 || !strings.Contains(out, "1 still rejected") {
		t.Errorf("second run sent %d objects, want 0 and the user counted as still rejected\n%s", got, out)
	}
	if code, out, errOut = f.run(ctx, "-input", f.path("day1.csv"), "-resend-rejected"); code != exitOK {
		t.Fatalf("third run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 1 {
		t.Errorf("-resend-rejected sent %d objects, want 1 (C-1004)", got)
	}
	if _, ok := f.fake.User("C-1004"); !ok {
		t.Error("C-1004 never reached the fake")
	}
}

func TestFailedRequestIsFatalAndNotCommitted(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// A 400 is not retried: the whole request fails.
	f.fake.AddFault(brazetest.Fault{Status: 400, Count: 1})
	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"), "-batch-size", "4", "-concurrency", "1")
	if code != exitFatal {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFatal, out, errOut)
	}
	if !strings.Contains(out, "4 failed") {
		t.Errorf("summary does not report the 4 failed objects:\n%s", out)
	}
	before := f.attributeObjects()
	if code, out, errOut = f.run(ctx, "-input", f.path("day1.csv")); code != exitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 4 {
		t.Errorf("second run sent %d objects, want the 4 that failed", got)
	}
}

func TestInterruptCommitsAcceptedOnly(t *testing.T) {
	f := newFixture(t)
	f.fake.DelayResponses(100 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Ctrl-C once Braze has processed three requests: with one
		// request in flight at a time, the first two were answered.
		for f.fake.Stats().Accepted < 3 && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
		}
		cancel()
	}()
	code, out, errOut := f.run(ctx, "-input", f.path("day1.csv"), "-batch-size", "1", "-concurrency", "1")
	if code != exitFatal {
		t.Fatalf("interrupted run: exit %d, want %d\n%s\n%s", code, exitFatal, out, errOut)
	}
	if !strings.Contains(out, "interrupted") {
		t.Errorf("summary does not say the run was interrupted:\n%s", out)
	}
	if rej := f.rejects(); len(rej) != 0 {
		t.Errorf("the interruption was reported as rejects: %+v", rej)
	}
	var sent int
	for _, line := range strings.Split(out, "\n") {
		if _, rest, ok := strings.Cut(line, "sent "); ok {
			if _, err := fmt.Sscan(rest, &sent); err == nil {
				break
			}
		}
	}
	if sent == 0 || sent >= 8 {
		t.Fatalf("interrupted run accepted %d users; the test needs some but not all\n%s", sent, out)
	}
	// The next run sends the users whose answer was not seen, and only
	// them (abandoned requests may have reached Braze: those users are
	// sent again, never skipped).
	f.fake.DelayResponses(0)
	before := f.attributeObjects()
	code, out, errOut = f.run(context.Background(), "-input", f.path("day1.csv"))
	if code != exitOK {
		t.Fatalf("resumed run: exit %d\n%s\n%s", code, out, errOut)
	}
	// The fake applies an abandoned request once its handler sees the
	// cancellation, which under load can be after the interrupted run
	// returned and so be counted here: with one request of one object in
	// flight, at most one object more than the users left to send.
	if got := f.attributeObjects() - before; got != 8-sent && got != 8-sent+1 {
		t.Errorf("resumed run sent %d objects, want %d (or %d with the interrupted run's abandoned request)", got, 8-sent, 8-sent+1)
	}
	if got := len(f.fake.Users()); got != 8 {
		t.Errorf("fake has %d users, want 8", got)
	}
}

func TestFullSnapshotRemovesUsersAbsentFromTheExport(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	day1, _ := os.ReadFile(f.path("day1.csv"))
	lines := strings.SplitAfter(string(day1), "\n")
	var without []string
	for _, l := range lines {
		if !strings.Contains(l, "C-1006") {
			without = append(without, l)
		}
	}
	writeFile(t, f.path("snapshot2.csv"), []byte(strings.Join(without, "")))
	args := []string{"-full-snapshot", "-scope", "braze:snapshot"}
	if code, out, errOut := f.run(ctx, append(args, "-input", f.path("day1.csv"))...); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if u, _ := f.fake.User("C-1006"); u.Attributes["aud_high_value"] != true || u.Attributes["loyalty_tier"] != "gold" {
		t.Fatalf("C-1006 after day 1 = %v", u.Attributes)
	}
	before := f.attributeObjects()
	if code, out, errOut := f.run(ctx, append(args, "-input", f.path("snapshot2.csv"))...); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 1 {
		t.Errorf("sent %d objects, want 1 (the removal of C-1006)", got)
	}
	u, _ := f.fake.User("C-1006")
	if u.Attributes["aud_high_value"] != false {
		t.Errorf("C-1006 aud_high_value = %v, want false (audience flags are removed as false)", u.Attributes["aud_high_value"])
	}
	if v, ok := u.Attributes["loyalty_tier"]; ok {
		t.Errorf("C-1006 loyalty_tier = %v, want removed", v)
	}
}

func TestBadFlagsAreFatal(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"-nope"},
		{},                                // no input
		{"-input", f.path("missing.csv")}, // no such file
		{"-input", f.path("day1.csv"), "-format", "xml"},
		{"-input", f.path("day1.csv"), "-full-snapshot"}, // without a scope
	} {
		if code, out, errOut := f.run(context.Background(), args...); code != exitFatal {
			t.Errorf("%q: exit %d, want %d\n%s\n%s", args, code, exitFatal, out, errOut)
		}
	}
	// A typo in the mapping file is an error, not an unmapped column.
	writeFile(t, f.path("typo.json"), []byte(`{"colums": {"customer_id": "external_id"}}`))
	if code, _, errOut := f.run(context.Background(), "-input", f.path("day1.csv"), "-mapping", f.path("typo.json")); code != exitFatal || !strings.Contains(errOut, "colums") {
		t.Errorf("mapping typo: exit %d\n%s", code, errOut)
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != exitOK || !strings.Contains(errOut.String(), "-dry-run") {
		t.Errorf("-h: exit %d, usage:\n%s", code, errOut.String())
	}
	t.Setenv("BRAZE_API_KEY", "")
	if code, _, errOut := f.run(context.Background(), "-input", f.path("day1.csv")); code != exitFatal || !strings.Contains(errOut, "BRAZE_API_KEY") {
		t.Errorf("without a key: exit %d, stderr %s", code, errOut)
	}
}

// newS3 starts an in-process S3-protocol server with one bucket and points
// the AWS SDK's default configuration chain at it through the environment.
func newS3(t *testing.T, bucket string) (*s3.Client, string) {
	t.Helper()
	ts := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(ts.Close)
	home := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "SECRETTEST")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(home, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(home, "credentials"))
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(ts.URL),
		UsePathStyle: true,
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	})
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	return client, ts.URL
}

func putObject(t *testing.T, c *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func TestS3FolderWithCheckpoint(t *testing.T) {
	f := newFixture(t)
	client, endpoint := newS3(t, "acme")
	ctx := context.Background()
	day1, _ := os.ReadFile(f.path("day1.csv"))
	day2, _ := os.ReadFile(f.path("day2.csv"))
	putObject(t, client, "acme", "braze/customers_2026-11-27.csv", day1)
	putObject(t, client, "acme", "braze/customers_2026-11-28.csv", day2)
	putObject(t, client, "acme", "braze/_SUCCESS", nil)
	putObject(t, client, "acme", "elsewhere/other.csv", []byte("not,an,export\n"))

	args := []string{"-input", "s3://acme/braze/", "-s3-endpoint", endpoint}
	code, out, errOut := f.run(ctx, args...)
	if code != exitRejected { // day 2's bad row
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	// Both exports, oldest first: day 2's values win.
	if got := f.attributeObjects(); got != 8+3 {
		t.Errorf("sent %d objects, want 11", got)
	}
	u, _ := f.fake.User("C-1001")
	if u.Attributes["loyalty_tier"] != "platinum" {
		t.Errorf("C-1001 loyalty_tier = %v: files applied out of order?", u.Attributes["loyalty_tier"])
	}
	if rej := f.rejects(); len(rej) != 1 || rej[0].File != "s3://acme/braze/customers_2026-11-28.csv" {
		t.Errorf("rejects = %+v", rej)
	}

	// A rerun finds nothing new.
	code, out, errOut = f.run(ctx, args...)
	if code != exitOK || !strings.Contains(out, "Nothing to sync") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	// A new export is picked up alone.
	day3 := bytes.Replace(day2, []byte("Ada,Lovelace"), []byte("Augusta Ada,Lovelace"), 1)
	putObject(t, client, "acme", "braze/customers_2026-11-29.csv", day3)
	before := f.attributeObjects()
	code, out, errOut = f.run(ctx, args...)
	if code != exitRejected {
		t.Fatalf("day 3: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects() - before; got != 1 {
		t.Errorf("day 3 sent %d objects, want 1", got)
	}
	if u, _ := f.fake.User("C-1001"); u.Attributes["first_name"] != "Augusta Ada" {
		t.Errorf("C-1001 first_name = %v", u.Attributes["first_name"])
	}
}

func TestS3SingleObject(t *testing.T) {
	f := newFixture(t)
	client, endpoint := newS3(t, "acme")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	putObject(t, client, "acme", "exports/today.csv", day1)
	code, out, errOut := f.run(context.Background(), "-input", "s3://acme/exports/today.csv", "-s3-endpoint", endpoint)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if got := f.attributeObjects(); got != 8 {
		t.Errorf("sent %d objects, want 8", got)
	}
}

func TestEveryRunsUntilStopped(t *testing.T) {
	f := newFixture(t)
	dir := f.path("drop")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	writeFile(t, filepath.Join(dir, "a.csv"), day1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int)
	var out, errOut bytes.Buffer
	go func() {
		done <- run(ctx, []string{
			"-endpoint", f.fake.URL, "-schema", f.path("schema.txt"), "-mapping", f.path("mapping.json"),
			"-state", f.path("state"), "-input", dir, "-every", "20ms",
		}, &out, &errOut)
	}()
	// Wait for the first sync, then drop a second export.
	waitFor(t, func() bool { return len(f.fake.Users()) == 8 })
	day2, _ := os.ReadFile(f.path("day2.csv"))
	writeFile(t, filepath.Join(dir, "b.csv"), day2)
	waitFor(t, func() bool { u, _ := f.fake.User("C-1002"); return u.Attributes["aud_high_value"] == false })
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("run did not stop after cancel")
	}
	if got := f.attributeObjects(); got != 11 {
		t.Errorf("sent %d objects over the runs, want 11", got)
	}
}

func TestCheckpointFailureIsFatal(t *testing.T) {
	f := newFixture(t)
	dir := f.path("drop")
	day1, _ := os.ReadFile(f.path("day1.csv"))
	writeFile(t, filepath.Join(dir, "a.csv"), day1)
	code, out, errOut := f.run(context.Background(), "-input", dir, "-checkpoint", f.path("no/such/dir/checkpoint.txt"))
	if code != exitFatal || !strings.Contains(errOut, "checkpoint") {
		t.Errorf("exit %d, want %d\n%s\n%s", code, exitFatal, out, errOut)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type parquetCustomer struct {
	CustomerID string    `parquet:"customer_id"`
	GivenName  *string   `parquet:"given_name,optional"`
	Birthdate  int32     `parquet:"Birthdate,date"`
	Value      int64     `parquet:"lifetime_value,decimal(2:12)"`
	LastOrder  time.Time `parquet:"latest_order_datetime,timestamp(microsecond)"`
	HighValue  bool      `parquet:"aud_high_value"`
	WinBack    bool      `parquet:"aud_winback"`
}

func TestParquetFromS3(t *testing.T) {
	f := newFixture(t)
	client, endpoint := newS3(t, "acme")
	day := func(y int, m time.Month, d int) int32 {
		return int32(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	ada := "Ada"
	var buf bytes.Buffer
	w := pq.NewGenericWriter[parquetCustomer](&buf)
	if _, err := w.Write([]parquetCustomer{
		{"C-1001", &ada, day(1985, 12, 10), 124050, time.Date(2026, 11, 20, 9, 15, 0, 0, time.UTC), true, false},
		{"C-1002", nil, day(1976, 12, 9), 589000, time.Date(2026, 11, 25, 18, 2, 11, 0, time.UTC), false, true},
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	putObject(t, client, "acme", "exports/customers.parquet", buf.Bytes())

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{
		"-endpoint", f.fake.URL, "-mapping", f.path("mapping.json"), "-state", f.path("state"),
		"-input", "s3://acme/exports/customers.parquet", "-s3-endpoint", endpoint,
	}, &out, &errOut)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	u, _ := f.fake.User("C-1001")
	if u.Attributes["first_name"] != "Ada" || u.Attributes["dob"] != "1985-12-10" || u.Attributes["lifetime_value"] != 1240.5 {
		t.Errorf("C-1001 = %v", u.Attributes)
	}
	if u, _ := f.fake.User("C-1002"); u.Attributes["aud_winback"] != true {
		t.Errorf("C-1002 = %v", u.Attributes)
	}

	// A local file is read in place (no spooling), with the same result:
	// nothing changed, nothing sent.
	writeFile(t, f.path("customers.parquet"), buf.Bytes())
	before := f.attributeObjects()
	out.Reset()
	code = run(context.Background(), []string{
		"-endpoint", f.fake.URL, "-mapping", f.path("mapping.json"), "-state", f.path("state"),
		"-input", f.path("customers.parquet"),
	}, &out, &errOut)
	if code != exitOK || f.attributeObjects() != before || !strings.Contains(out.String(), "2 unchanged") {
		t.Errorf("local rerun: exit %d, %d objects sent\n%s", code, f.attributeObjects()-before, out.String())
	}
}
