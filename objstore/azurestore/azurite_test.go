package azurestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
	"github.com/ampbraze/ampbraze/internal/azuritetest"
	"github.com/ampbraze/ampbraze/objstore"
	"github.com/ampbraze/ampbraze/objstore/storetest"
)

// countingTransport counts the list requests that reach the server.
type countingTransport struct {
	lists atomic.Int32
	next  *http.Client
}

func (c *countingTransport) Do(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("comp") == "list" {
		c.lists.Add(1)
	}
	return c.next.Do(r)
}

// fixture is a container in Azurite with a shared-key client whose list
// requests are counted.
type fixture struct {
	server *azuritetest.Server
	client *container.Client
	ct     *countingTransport
	name   string
}

func newFixture(t *testing.T, server *azuritetest.Server, name string) *fixture {
	t.Helper()
	server.Container(t, name)
	ct := &countingTransport{next: &http.Client{}}
	cred, err := container.NewSharedKeyCredential(azuritetest.Account, azuritetest.Key)
	if err != nil {
		t.Fatal(err)
	}
	client, err := container.NewClientWithSharedKeyCredential(server.ServiceURL+name, cred,
		&container.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: ct}})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{server: server, client: client, ct: ct, name: name}
}

func (f *fixture) put(t *testing.T, key string, body []byte, metadata map[string]*string) {
	t.Helper()
	_, err := f.client.NewBlockBlobClient(key).UploadBuffer(context.Background(), body, &blockblob.UploadBufferOptions{Metadata: metadata})
	if err != nil {
		t.Fatalf("uploading %q: %v", key, err)
	}
}

// TestAzurite runs the Store against one Azurite blob service, each case
// in a container of its own. Azurite takes seconds to start, so the cases
// share it.
func TestAzurite(t *testing.T) {
	server := azuritetest.Start(t)
	t.Run("Conformance", func(t *testing.T) { testConformance(t, server) })
	t.Run("FoldersAndRequests", func(t *testing.T) { testFolders(t, newFixture(t, server, "folders")) })
	t.Run("ListManyPages", func(t *testing.T) { testManyPages(t, newFixture(t, server, "pages")) })
	t.Run("Missing", func(t *testing.T) { testMissing(t, newFixture(t, server, "missing")) })
	t.Run("Source", func(t *testing.T) { testSource(t, newFixture(t, server, "source")) })
	t.Run("OpenURL", func(t *testing.T) { testOpenURL(t, newFixture(t, server, "openurl")) })
}

// testConformance runs the objstore suite, a container for each store
// the suite asks for.
func testConformance(t *testing.T, server *azuritetest.Server) {
	containers := 0
	storetest.Run(t, func(t *testing.T, objects map[string][]byte) objstore.Store {
		containers++
		f := newFixture(t, server, fmt.Sprintf("conformance%d", containers))
		for k, v := range objects {
			f.put(t, k, v, nil)
		}
		return New(f.client)
	}, storetest.WithPageSize(func(s objstore.Store, n int) objstore.Store {
		return New(s.(*Store).client, WithPageSize(n))
	}))
}

// testFolders: folders are not files, whether a marker blob (a name
// ending in "/", as tools write for an empty folder) or a Data Lake
// directory (hdi_isfolder metadata); ModTime is the blob's Last-Modified;
// a consumer that stops early stops the requests for pages.
func testFolders(t *testing.T, f *fixture) {
	ks := []string{"c/a-b/x", "c/a.avro", "c/a/x", "c/a/y", "c/b"}
	for _, k := range ks {
		f.put(t, k, []byte("xy"), nil)
	}
	f.put(t, "c/a/", nil, nil)     // the marker of a folder that has blobs
	f.put(t, "c/empty/", nil, nil) // and of one that has none
	isFolder := "true"
	f.put(t, "c/adls-dir", nil, map[string]*string{"hdi_isfolder": &isFolder})

	for _, size := range []int{1, 2, 5000} {
		store := New(f.client, WithPageSize(size))
		objs := storetest.List(t, store, "")
		if got := storetest.Keys(objs); !slices.Equal(got, ks) {
			t.Errorf("page size %d: List = %q, want %q", size, got, ks)
		}
		want := []string{"c/a-b/", "c/a.avro", "c/a/", "c/b", "c/empty/"}
		if top := storetest.DirKeys(t, store, "c/"); !slices.Equal(top, want) {
			t.Errorf("page size %d: ListDir = %q, want %q", size, top, want)
		}
	}

	for _, o := range storetest.List(t, New(f.client), "") {
		props, err := f.client.NewBlobClient(o.Key).GetProperties(context.Background(), nil)
		if err != nil || props.LastModified == nil || !props.LastModified.Equal(o.ModTime) {
			t.Errorf("ModTime of %q = %v, blob's Last-Modified %v (%v)", o.Key, o.ModTime, props.LastModified, err)
		}
	}

	f.ct.lists.Store(0)
	n := 0
	for range New(f.client, WithPageSize(2)).List(context.Background(), "") {
		n++
		if n == 3 {
			break
		}
	}
	if got := f.ct.lists.Load(); got != 2 {
		t.Errorf("breaking after 3 blobs made %d list requests, want 2", got)
	}
}

// testManyPages lists a few hundred blobs, page by page. (Azure's largest
// page is 5,000; an in-memory Azurite holding that many is slow to fill,
// and the paging code is the same at any size.)
func testManyPages(t *testing.T, f *fixture) {
	const n = 230
	var want []string
	for i := range n {
		k := fmt.Sprintf("p/%d.avro", i) // not zero-padded: the order is by bytes, not numbers
		f.put(t, k, []byte("x"), nil)
		want = append(want, k)
	}
	slices.Sort(want)
	for _, c := range []struct{ pageSize, requests int }{{5000, 1}, {100, 3}, {7, 33}} {
		f.ct.lists.Store(0)
		if got := storetest.Keys(storetest.List(t, New(f.client, WithPageSize(c.pageSize)), "p/")); !slices.Equal(got, want) {
			t.Errorf("page size %d: List gave %d keys, want %d in byte order", c.pageSize, len(got), len(want))
		}
		if got := f.ct.lists.Load(); got != int32(c.requests) {
			t.Errorf("page size %d: %d list requests for %d blobs, want %d", c.pageSize, got, n, c.requests)
		}
	}
}

// testMissing: a missing blob, or any blob of a missing container, is an
// *azcore.ResponseError and the message names the blob's URL (that it
// matches fs.ErrNotExist is the suite's); listing a missing container is
// one error, naming it.
func testMissing(t *testing.T, f *fixture) {
	cred, _ := container.NewSharedKeyCredential(azuritetest.Account, azuritetest.Key)
	missing, err := container.NewClientWithSharedKeyCredential(f.server.ServiceURL+"no-such-container", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Store{New(f.client), New(missing)} {
		_, err = s.Open(context.Background(), "currents/missing.avro")
		var re *azcore.ResponseError
		if !errors.Is(err, fs.ErrNotExist) || !errors.As(err, &re) || !strings.Contains(err.Error(), s.URL("currents/missing.avro")) {
			t.Errorf("missing blob in %s: %v", s.URL(""), err)
		}
	}
	var errs []error
	for _, err := range New(missing).List(context.Background(), "p/") {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "/no-such-container/p/") {
		t.Errorf("listing a missing container: %v", errs)
	}
}

// testSource reads synthetic Currents files from Azurite with
// currents.Source, end to end: folder pruning through ListDir, key
// parsing, streaming reads, decoding, and a broken blob reported without
// stopping the others.
func testSource(t *testing.T, f *fixture) {
	key := func(typ, hour string, off int) string {
		return fmt.Sprintf("currents/event_type=%s/date=%s/version=6/us-01/dataexport.prod-01.AZURE.integration.0123456789abcdef01234567+0+%d.avro", typ, hour, off)
	}
	file := func(typ string, ids ...string) []byte {
		var recs []map[string]any
		for _, id := range ids {
			recs = append(recs, map[string]any{"id": id, "user_id": "u", "time": 1743526800})
		}
		var buf bytes.Buffer
		if err := currentstest.WriteFile(&buf, typ, recs, currentstest.WithCodec("snappy"), currentstest.WithBlockRecords(2)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	const send, open = "users.messages.email.Send", "users.messages.email.Open"
	f.put(t, key(send, "2025-04-01-18", 3), file(send, "d"), nil)
	f.put(t, key(send, "2025-04-01-17", 1), file(send, "a", "b", "c"), nil)
	f.put(t, key(send, "2025-04-01-17", 2), []byte("Obj\x01 broken"), nil)
	f.put(t, key(open, "2025-04-01-17", 4), file(open, "o"), nil)
	f.put(t, "currents/readme.txt", []byte("not Currents"), nil)

	loc, err := ParseURL(f.server.ServiceURL + f.name + "/currents")
	if err != nil {
		t.Fatal(err)
	}
	f.ct.lists.Store(0)
	src := currents.NewSource(New(f.client, WithPageSize(2)), loc.Path, currents.WithEventTypes(send))
	var got []string
	for ke, err := range src.All(context.Background()) {
		var fe *currents.FileError
		switch {
		case errors.As(err, &fe):
			got = append(got, "ERR "+fe.Key[len(fe.Key)-7:])
		case err != nil:
			t.Fatal(err)
		default:
			got = append(got, ke.Event.EventID())
		}
	}
	if want := []string{"a", "b", "c", "ERR +2.avro", "d"}; !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
	// The Open folder is never listed: two pages of the top level (two
	// event type folders and readme.txt, 2 a page: Azure counts folders
	// and blobs together), then the Send folder's dates and each date's
	// version, environment and files.
	if n := f.ct.lists.Load(); n != 2+1+2*3 {
		t.Errorf("%d list requests, want %d", n, 2+1+2*3)
	}
}

// testOpenURL opens the container through each URL form and credential
// source OpenURL documents.
func testOpenURL(t *testing.T, f *fixture) {
	f.put(t, "x/1.avro", []byte("1"), nil)
	f.put(t, "x-old/2.avro", []byte("2"), nil)
	sasURL, err := New(f.client).client.GetSASURL(sas.ContainerPermissions{Read: true, List: true}, time.Now().Add(time.Hour), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, sasQuery, _ := strings.Cut(sasURL, "?")
	emulator := f.server.ServiceURL + f.name + "/x"
	cases := []struct {
		name, url string
		env       map[string]string
	}{
		{"emulator URL, account and key", emulator, map[string]string{EnvAccount: azuritetest.Account, EnvKey: azuritetest.Key}},
		{"emulator URL, key only", emulator, map[string]string{EnvKey: azuritetest.Key}},
		{"emulator URL, connection string", emulator, map[string]string{EnvConnectionString: f.server.ConnectionString()}},
		{"azure://, connection string", "azure://" + f.name + "/x", map[string]string{EnvConnectionString: f.server.ConnectionString()}},
		{"SAS in the URL", emulator + "?" + sasQuery, nil},
		{"SAS in the connection string", "azure://" + f.name + "/x/",
			map[string]string{EnvConnectionString: "BlobEndpoint=" + f.server.ServiceURL + ";SharedAccessSignature=" + sasQuery}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, k := range []string{EnvConnectionString, EnvAccount, EnvKey} {
				t.Setenv(k, c.env[k])
			}
			store, prefix, err := OpenURL(context.Background(), c.url)
			if err != nil {
				t.Fatal(err)
			}
			if prefix != "x/" {
				t.Errorf("prefix %q", prefix)
			}
			if got := storetest.Keys(storetest.List(t, store, prefix)); !slices.Equal(got, []string{"x/1.avro"}) {
				t.Errorf("List = %q", got)
			}
			rc, err := store.Open(context.Background(), "x/1.avro")
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || string(b) != "1" {
				t.Errorf("read %q, %v", b, err)
			}
			if strings.Contains(store.URL("k"), "sig=") {
				t.Errorf("URL for messages carries the SAS token: %s", store.URL("k"))
			}
		})
	}

	// Without credentials the requests are anonymous, which a private
	// container refuses.
	for _, k := range []string{EnvConnectionString, EnvAccount, EnvKey} {
		t.Setenv(k, "")
	}
	store, prefix, err := OpenURL(context.Background(), emulator)
	if err != nil {
		t.Fatal(err)
	}
	var errs []error
	for _, err := range store.List(context.Background(), prefix) {
		errs = append(errs, err)
	}
	var re *azcore.ResponseError
	if len(errs) != 1 || !errors.As(errs[0], &re) {
		t.Errorf("anonymous listing of a private container: %v", errs)
	}
}
