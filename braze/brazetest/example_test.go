package brazetest_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/ampbraze/ampbraze/braze"
	"github.com/ampbraze/ampbraze/braze/brazetest"
)

// SignupService is the code under test: a service that tells Braze about
// new sign-ups.
type SignupService struct {
	Braze *braze.Client
}

// SignUp records the user's email and a "signed_up" event.
func (s *SignupService) SignUp(ctx context.Context, userID, email string, at time.Time) error {
	a := &braze.UserAttributes{ExternalID: userID}
	if err := a.Set("email", email); err != nil {
		return err
	}
	if err := a.Set("plan", "trial"); err != nil {
		return err
	}
	ev := &braze.Event{UserRef: braze.UserRef{ExternalID: userID}, Name: "signed_up", Time: at}
	resp, err := s.Braze.Track(ctx, braze.TrackRequest{Attributes: []*braze.UserAttributes{a}, Events: []*braze.Event{ev}})
	if err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		return fmt.Errorf("braze rejected %d object(s): %s", len(resp.Errors), resp.Errors[0].Type)
	}
	return nil
}

// A service's test points its Braze client at the fake and then inspects
// what Braze would hold. In a real test use brazetest.NewServer(t), which
// closes the server when the test ends; an Example has no *testing.T, so it
// uses Start and Close.
func Example() {
	srv := brazetest.Start()
	defer srv.Close()

	svc := &SignupService{Braze: srv.Client()}
	at := time.Date(2025, 3, 1, 9, 30, 0, 0, time.UTC)
	if err := svc.SignUp(context.Background(), "user-42", "ada@example.com", at); err != nil {
		fmt.Println("sign-up failed:", err)
		return
	}

	u, _ := srv.User("user-42")
	fmt.Println("email:", u.Attributes["email"])
	fmt.Println("plan:", u.Attributes["plan"])
	for _, e := range srv.Events() {
		fmt.Println("event:", e.Name, e.ExternalID, e.Time.Format(time.RFC3339))
	}
	fmt.Println("requests:", srv.Stats().Requests)
	// Output:
	// email: ada@example.com
	// plan: trial
	// event: signed_up user-42 2025-03-01T09:30:00Z
	// requests: 1
}

// Per-object rejects make Braze refuse some objects of a request while
// accepting the rest; here every event is refused and the service's error
// path is exercised. Faults like this can be changed while the server runs.
func ExampleServer_RejectObjects() {
	srv := brazetest.Start()
	defer srv.Close()
	srv.RejectObjects(func(o brazetest.Object) bool { return o.Array == "events" }, "'name' is not valid")

	svc := &SignupService{Braze: srv.Client()}
	err := svc.SignUp(context.Background(), "user-7", "u7@example.com", time.Now())
	fmt.Println(err)
	u, _ := srv.User("user-7")
	fmt.Println("email:", u.Attributes["email"])
	// Output:
	// braze rejected 1 object(s): 'name' is not valid
	// email: u7@example.com
}

// The fake answers a request without the right key as Braze does.
func ExampleServer_Requests() {
	srv := brazetest.Start(brazetest.WithAPIKey("secret-key"))
	defer srv.Close()

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/users/track", nil)
	req.Header.Set("Authorization", `Bearer "secret-key"`) // quoted: a classic 401
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	r := srv.Requests()[0]
	fmt.Println(resp.StatusCode, r.Header.Get("Authorization"))
	// Output:
	// 401 Bearer [REDACTED]
}

// A rate limit answers 429 once the window's budget is spent, with the
// header variant the client under test must handle. A fixed clock keeps the
// example deterministic.
func ExampleServer_SetRateLimit() {
	now := time.Date(2025, 6, 1, 12, 0, 1, 0, time.UTC)
	srv := brazetest.Start(brazetest.WithClock(func() time.Time { return now }))
	defer srv.Close()
	srv.SetRateLimit(brazetest.RateLimit{Limit: 1, Window: 3 * time.Second, Headers: brazetest.HeadersDelta, RetryAfter: true})

	for range 2 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/users/track",
			strings.NewReader(`{"attributes":[{"external_id":"u1"}]}`))
		req.Header.Set("Authorization", "Bearer "+srv.APIKey())
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		resp.Body.Close()
		fmt.Printf("%d remaining=%s reset=%s retry-after=%q\n", resp.StatusCode,
			resp.Header.Get("X-RateLimit-Remaining"),
			resp.Header.Get("X-RateLimit-Reset"),
			resp.Header.Get("X-RateLimit-Retry-After"))
	}
	// Output:
	// 201 remaining=0 reset=2 retry-after=""
	// 429 remaining=0 reset=2 retry-after="2"
}
