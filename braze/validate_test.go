package braze

import (
	"context"
	"errors"
	"testing"
	"time"
)

// Braze rejects an object with two primary identifiers (external_id,
// braze_id, user_alias); email and phone are secondary and may accompany
// one.
func TestRegression_Issue17_TwoPrimaryIdentifiers(t *testing.T) {
	alias := &UserAlias{Name: "n", Label: "l"}
	when := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"external_id and braze_id", (&UserAttributes{ExternalID: "u", BrazeID: "b"}).Validate()},
		{"external_id and user_alias", (&UserAttributes{ExternalID: "u", UserAlias: alias}).Validate()},
		{"braze_id and user_alias", (&UserAttributes{BrazeID: "b", UserAlias: alias}).Validate()},
		{"event", (&Event{UserRef: UserRef{ExternalID: "u", UserAlias: alias}, Name: "e", Time: when}).Validate()},
		{"purchase", (&Purchase{UserRef: UserRef{BrazeID: "b", ExternalID: "u"}, ProductID: "p", Currency: "USD", Quantity: 1, Time: when}).Validate()},
	} {
		var ve *ValidationError
		if !errors.As(tc.err, &ve) || !errors.Is(tc.err, ErrValidation) {
			t.Errorf("%s: err = %v, want a *ValidationError", tc.name, tc.err)
		}
	}
	for _, ok := range []*UserAttributes{
		{ExternalID: "u", Email: FieldOf("a@x.com"), Phone: FieldOf("+15555550100")},
		{UserAlias: alias, Email: FieldOf("a@x.com")},
		{Email: FieldOf("a@x.com"), Phone: FieldOf("+15555550100")},
	} {
		if err := ok.Validate(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}

	// TrackAll answers such an object without sending it.
	rec := &recorder{}
	c, _ := newTestClient(t, rec)
	for r := range c.TrackAll(context.Background(), func(yield func(Update) bool) {
		yield(Update{Attributes: &UserAttributes{ExternalID: "u", BrazeID: "b", FirstName: FieldOf("A")}})
	}) {
		if r.Kind() != ResultRejected || !errors.Is(r.Err, ErrValidation) {
			t.Errorf("result %+v", r)
		}
	}
	if rec.requests() != 0 {
		t.Errorf("%d requests sent", rec.requests())
	}
}
