// Package azuritetest starts Azurite, Microsoft's Azure Storage emulator
// (the npm package azurite), for tests of the Azure Blob code: one
// in-memory blob service per call, on a free loopback port, stopped when
// the test ends. A test that cannot start it skips with the reason, and
// fails instead when the CI variable is set, since CI must run it.
//
// Azurite is found at $AZURITE_BLOB, as azurite-blob on PATH, or where
// .ci/run installs it: npm install --prefix $HOME/.cache/ampbraze-azurite azurite@3.35.0.
package azuritetest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

// The emulator's well-known development account and key (public,
// published by Microsoft).
const (
	Account = "devstoreaccount1"
	Key     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// BinEnv names the variable that overrides where azurite-blob is.
const BinEnv = "AZURITE_BLOB"

// InstallCommand is how .ci/run installs Azurite, for skip messages.
const InstallCommand = "npm install --prefix $HOME/.cache/ampbraze-azurite azurite@3.35.0"

// Server is a running Azurite blob service.
type Server struct {
	// Host is its host:port.
	Host string
	// ServiceURL is the development account's blob endpoint, ending in
	// "/" (http://127.0.0.1:port/devstoreaccount1/).
	ServiceURL string
}

// find returns the azurite-blob command, or why there is none.
func find() (string, error) {
	if p := os.Getenv(BinEnv); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("azurite-blob"); err == nil {
		return p, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("azurite-blob is not on PATH and there is no home directory to look in: %w", err)
	}
	p := filepath.Join(home, ".cache", "ampbraze-azurite", "node_modules", ".bin", "azurite-blob")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("azurite-blob is neither on PATH nor at %s (nor named by $%s)", p, BinEnv)
	}
	return p, nil
}

// unavailable skips t, or fails it when CI is set.
func unavailable(t testing.TB, why string) {
	t.Helper()
	msg := "Azurite (the Azure Storage emulator) is not available: " + why
	if os.Getenv("CI") != "" {
		t.Fatal(msg + "; CI is set, so this test must run (.ci/run installs it with " + InstallCommand + ")")
	}
	t.Skip(msg + "; skipping (install it with " + InstallCommand + ", which needs Node.js; with CI set this fails)")
}

// Start starts Azurite's blob service with in-memory storage. It skips
// the test (fails it with CI set) when Node.js or Azurite is missing or
// does not come up.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := find()
	if err != nil {
		unavailable(t, err.Error())
	}
	if _, err := exec.LookPath("node"); err != nil {
		unavailable(t, "Node.js (node) is not on PATH")
	}
	var last error
	// A port found free can be taken before Azurite binds it; try again
	// with another.
	for range 3 {
		s, err := start(t, bin)
		if err == nil {
			return s
		}
		last = err
	}
	unavailable(t, last.Error())
	return nil
}

func start(t testing.TB, bin string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin, "--silent", "--inMemoryPersistence",
		"--blobHost", "127.0.0.1", "--blobPort", strconv.Itoa(port),
		// The Go SDK may speak a newer service version than this
		// Azurite knows; the blob calls used here are the same.
		"--skipApiVersionCheck")
	cmd.Dir = t.TempDir()
	ownProcessGroup(cmd)
	out := &tail{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		killProcessGroup(cmd)
		<-exited
	}
	s := &Server{Host: host, ServiceURL: "http://" + host + "/" + Account + "/"}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case err := <-exited:
			exited <- err
			return nil, fmt.Errorf("%s exited before answering (%v): %s", bin, err, out.String())
		default:
		}
		if s.answers() {
			t.Cleanup(stop)
			return s, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("%s did not answer on %s within 30 s: %s", bin, host, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// answers reports whether the blob service answers HTTP (any status: an
// unauthenticated request gets an error page, which is an answer).
func (s *Server) answers() bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.ServiceURL+"?comp=properties&restype=service", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return true
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// ConnectionString returns a connection string for the development
// account on this server.
func (s *Server) ConnectionString() string {
	return "DefaultEndpointsProtocol=http;AccountName=" + Account + ";AccountKey=" + Key + ";BlobEndpoint=" + s.ServiceURL + ";"
}

// Container creates a container and returns a shared-key client for it.
func (s *Server) Container(t testing.TB, name string) *container.Client {
	t.Helper()
	cred, err := container.NewSharedKeyCredential(Account, Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := container.NewClientWithSharedKeyCredential(s.ServiceURL+name, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Create(context.Background(), nil); err != nil {
		t.Fatalf("azuritetest: creating container %s: %v", name, err)
	}
	return c
}

// tail keeps the last 4 KiB written to it, for error messages.
type tail struct {
	buf []byte
}

func (w *tail) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	if len(w.buf) > 4096 {
		w.buf = w.buf[len(w.buf)-4096:]
	}
	return len(p), nil
}

func (w *tail) String() string { return string(w.buf) }
