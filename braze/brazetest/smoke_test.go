package brazetest

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSmoke(t *testing.T) {
	s := NewHandler()
	body := `{"attributes":[{"external_id":"u1","first_name":"Jon","logins":{"inc":2},"tags":["a","b","a"]},{"first_name":"x"}],"events":[{"external_id":"u1","name":"e","time":"2020-01-01T00:00:00Z"}]}`
	r := httptest.NewRequest("POST", "/users/track", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+DefaultAPIKey)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	t.Log(w.Code, w.Body.String())
	u, ok := s.User("u1")
	t.Logf("%v %+v", ok, u)
	t.Logf("%+v", s.Events())
	t.Logf("%+v", s.Requests())
}
