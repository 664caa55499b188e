package brazetest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// result is one answer of the fake, decoded.
type result struct {
	status int
	resp   response
	header http.Header
}

// send posts body to /users/track through ServeHTTP with the default key and
// a JSON content type; mods change the request first.
func send(t testing.TB, s *Server, body string, mods ...func(*http.Request)) result {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/users/track", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+s.APIKey())
	r.Header.Set("Content-Type", "application/json")
	for _, m := range mods {
		m(r)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	res := result{status: w.Code, header: w.Header()}
	if err := json.Unmarshal(w.Body.Bytes(), &res.resp); err != nil {
		t.Fatalf("response %q is not JSON: %v", w.Body.String(), err)
	}
	return res
}

// mustSend is send that fails the test unless the answer is 201 without
// object errors.
func mustSend(t testing.TB, s *Server, body string) result {
	t.Helper()
	res := send(t, s, body)
	if res.status != http.StatusCreated || len(res.resp.Errors) > 0 {
		t.Fatalf("sending %s: status %d, response %+v", body, res.status, res.resp)
	}
	return res
}

func header(name, value string) func(*http.Request) {
	return func(r *http.Request) {
		if value == "" {
			r.Header.Del(name)
			return
		}
		r.Header.Set(name, value)
	}
}

// attrs builds a body of one attributes object from JSON members.
func attrs(members string) string { return `{"attributes":[{` + members + `}]}` }

// objects returns n copies of obj joined as a JSON array's content.
func objects(n int, obj string) string {
	return strings.TrimSuffix(strings.Repeat(obj+",", n), ",")
}

func mustUser(t testing.TB, s *Server, id string) User {
	t.Helper()
	u, ok := s.User(id)
	if !ok {
		t.Fatalf("no user %q; users: %+v", id, s.Users())
	}
	return u
}
