package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/examples/internal/currentsdemo"
)

func runExport(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// ids reads the event ids of every output file of an event type.
func ids(t *testing.T, out, eventType string) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(out, eventType, "part-*"))
	var got []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, ".csv") {
			rows, err := csv.NewReader(f).ReadAll()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			col := slices.Index(rows[0], "id")
			for _, r := range rows[1:] {
				got = append(got, r[col])
			}
		} else {
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				var m map[string]any
				if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				got = append(got, m["id"].(string))
			}
		}
		f.Close()
	}
	slices.Sort(got)
	return got
}

// truncatedFile is a Currents file of two blocks whose second block is cut
// short: the decoder delivers the first block's events, then fails.
func truncatedFile(t *testing.T) []byte {
	t.Helper()
	recs := []map[string]any{}
	for _, id := range []string{"bounce-1", "bounce-2", "bounce-3", "bounce-4"} {
		recs = append(recs, map[string]any{"id": id, "user_id": "u", "time": int64(1795773600)})
	}
	var b bytes.Buffer
	if err := currentstest.WriteFile(&b, "users.messages.email.Bounce", recs, currentstest.WithBlockRecords(2)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()[:b.Len()-20]
}

func TestExportDirectory(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	if _, err := currentsdemo.WriteDir(in, "currents"); err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	bad := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", "users.messages.email.Bounce", hour, 0)))
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, truncatedFile(t), 0o644); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(in, "currents", "README.txt"), []byte("not a Currents file"), 0o644)

	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitCorrupt {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitCorrupt, stdout, stderr)
	}
	want := map[string]int{
		"users.messages.email.Send":   8,
		"users.messages.email.Open":   5, // the redelivered open is dropped
		"users.messages.email.Click":  2,
		"users.behaviors.CustomEvent": 3,
		"users.messages.email.Bounce": 0, // corrupt: its first block is not exported
	}
	for typ, n := range want {
		if got := ids(t, out, typ); len(got) != n {
			t.Errorf("%s: %d events %v, want %d", typ, len(got), got, n)
		}
	}
	for _, s := range []string{"1 duplicates dropped", "Corrupt, not exported", "Bounce"} {
		if !strings.Contains(stdout, s) {
			t.Errorf("summary lacks %q:\n%s", s, stdout)
		}
	}

	// A rerun reads only what was not done: the corrupt file, again.
	code, stdout, stderr = runExport(t, "-input", in, "-out", out)
	if code != exitCorrupt || !strings.Contains(stdout, "Read 1 files, 0 events: 0 written") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Send"); len(got) != 8 {
		t.Errorf("rerun duplicated output: %d sends", len(got))
	}
	// Repaired, it is exported on the next run.
	var b bytes.Buffer
	currentstest.WriteFile(&b, "users.messages.email.Bounce", []map[string]any{{"id": "bounce-1", "user_id": "u", "time": int64(1795773600)}})
	os.WriteFile(bad, b.Bytes(), 0o644)
	if code, stdout, stderr = runExport(t, "-input", in, "-out", out); code != exitOK {
		t.Fatalf("after repair: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Bounce"); !slices.Equal(got, []string{"bounce-1"}) {
		t.Errorf("bounces = %v", got)
	}
}

func TestExportFiltersToCSV(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	if _, err := currentsdemo.WriteDir(in, "currents"); err != nil {
		t.Fatal(err)
	}
	// Opens happen at 10:20..10:24; keep 10:22 onwards.
	code, stdout, stderr := runExport(t, "-input", in, "-out", out, "-format", "csv",
		"-types", "users.messages.email.Open,users.messages.email.Click",
		"-from", "2026-11-27T10:22:00Z", "-to", "2026-11-28")
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Open"); !slices.Equal(got, []string{"open-02", "open-03", "open-04"}) {
		t.Errorf("opens = %v", got)
	}
	if got := ids(t, out, "users.messages.email.Click"); len(got) != 2 {
		t.Errorf("clicks = %v", got)
	}
	if _, err := os.Stat(filepath.Join(out, "users.messages.email.Send")); !os.IsNotExist(err) {
		t.Errorf("sends were exported despite -types")
	}
	if !strings.Contains(stdout, "2 outside the time range") {
		t.Errorf("summary:\n%s", stdout)
	}
}

func TestExportS3(t *testing.T) {
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
		BaseEndpoint: aws.String(ts.URL), UsePathStyle: true, Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "SECRETTEST", ""),
	})
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acme")}); err != nil {
		t.Fatal(err)
	}
	files, err := currentsdemo.Files("currents")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acme"), Key: aws.String(f.Key), Body: bytes.NewReader(f.Data)}); err != nil {
			t.Fatal(err)
		}
	}
	out := t.TempDir()
	code, stdout, stderr := runExport(t, "-input", "s3://acme/currents/", "-s3-endpoint", ts.URL, "-out", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if got := ids(t, out, "users.messages.email.Send"); len(got) != 8 {
		t.Errorf("sends = %v", got)
	}
	if code, stdout, _ = runExport(t, "-input", "s3://acme/currents/", "-s3-endpoint", ts.URL, "-out", out); code != exitOK || !strings.Contains(stdout, "Read 0 files") {
		t.Errorf("rerun: exit %d\n%s", code, stdout)
	}
}

func TestExportBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-input", t.TempDir()},
		{"-input", t.TempDir(), "-out", t.TempDir(), "-format", "xml"},
		{"-input", t.TempDir(), "-out", t.TempDir(), "-from", "yesterday"},
		{"-input", t.TempDir(), "-out", t.TempDir(), "-from", "2026-02-01", "-to", "2026-01-01"},
	} {
		if code, _, _ := runExport(t, args...); code != exitFatal {
			t.Errorf("%q: exit %d, want %d", args, code, exitFatal)
		}
	}
}

// A copy of an event that Braze delivers again in a later run's file is
// dropped too: the deduplicator's ids persist beside the checkpoint.
func TestExportDedupesAcrossRuns(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	if _, err := currentsdemo.WriteDir(in, "currents"); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := runExport(t, "-input", in, "-out", out); code != exitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	sends := ids(t, out, "users.messages.email.Send")
	if len(sends) == 0 {
		t.Fatal("first run exported no sends")
	}

	hour := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	late := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", "users.messages.email.Send", hour, 7)))
	if err := os.MkdirAll(filepath.Dir(late), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	recs := []map[string]any{
		{"id": sends[0], "user_id": "u", "time": hour.Unix()},     // redelivered
		{"id": "send-fresh", "user_id": "u", "time": hour.Unix()}, // new
	}
	if err := currentstest.WriteFile(&b, "users.messages.email.Send", recs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(late, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || !strings.Contains(stdout, "1 duplicates dropped") {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	got := ids(t, out, "users.messages.email.Send")
	if len(got) != len(sends)+1 || !slices.Contains(got, "send-fresh") {
		t.Errorf("sends after second run = %v, want the first run's %d plus send-fresh", got, len(sends))
	}
}

// An unknown -types entry is an error that lists the known types (exit 2),
// not a run over no files that exits 0.
func TestRegression_Issue16_UnknownTypeIsError(t *testing.T) {
	in := t.TempDir()
	if _, err := currentsdemo.WriteDir(in, "currents"); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runExport(t, "-input", in, "-out", t.TempDir(),
		"-types", "users.messages.email.Send,users.messages.email.Bogus")
	if code != exitFatal {
		t.Errorf("exit %d, want %d\n%s", code, exitFatal, stdout)
	}
	for _, s := range []string{`"users.messages.email.Bogus"`, "known types", "users.messages.email.Open", "agentconsole.AgentExecuted"} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
	if strings.Contains(stderr, `"users.messages.email.Send"`) {
		t.Errorf("a known type is called unknown:\n%s", stderr)
	}
}

// A flat folder of Currents files (no Currents key layout) exports by the
// event type its writer schemas name, with no "Corrupt" report.
func TestRegression_Issue16_FlatFolderExports(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	files, err := currentsdemo.Files("currents")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		if err := os.WriteFile(filepath.Join(in, fmt.Sprintf("file-%02d.avro", i)), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, stdout, stderr := runExport(t, "-input", in, "-out", out)
	if code != exitOK || strings.Contains(stdout, "Corrupt") {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	want := map[string]int{
		"users.messages.email.Send":   8,
		"users.messages.email.Open":   5, // the redelivered open is dropped
		"users.messages.email.Click":  2,
		"users.behaviors.CustomEvent": 3,
	}
	for typ, n := range want {
		if got := ids(t, out, typ); len(got) != n {
			t.Errorf("%s: %d events %v, want %d", typ, len(got), got, n)
		}
	}
	// -types filters them too.
	out2 := t.TempDir()
	if code, stdout, _ := runExport(t, "-input", in, "-out", out2, "-types", "users.messages.email.Click"); code != exitOK ||
		len(ids(t, out2, "users.messages.email.Click")) != 2 || len(ids(t, out2, "users.messages.email.Send")) != 0 {
		t.Errorf("-types: exit %d\n%s", code, stdout)
	}
}

// A run whose only file is corrupt leaves no empty part behind: parts are
// closed at the end even when no file was committed.
func TestExportNoEmptyPartAfterRollback(t *testing.T) {
	in, out := t.TempDir(), t.TempDir()
	hour := time.Date(2026, 11, 27, 11, 0, 0, 0, time.UTC)
	bad := filepath.Join(in, filepath.FromSlash(currentsdemo.Key("currents", "users.messages.email.Bounce", hour, 0)))
	os.MkdirAll(filepath.Dir(bad), 0o755)
	if err := os.WriteFile(bad, truncatedFile(t), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := runExport(t, "-input", in, "-out", out); code != exitCorrupt {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	if files, _ := filepath.Glob(filepath.Join(out, "users.messages.email.Bounce", "part-*")); len(files) > 0 {
		t.Errorf("empty parts left: %q", files)
	}
}
