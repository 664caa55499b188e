package brazetest

import "testing"

// TestIdentityValidation covers identifiers: which objects name a user and
// which Braze refuses.
func TestIdentityValidation(t *testing.T) {
	checkObjects(t, []objectCase{
		// Identifiers.
		{name: "external_id", object: `"external_id":"u1"`},
		{name: "no identifier", object: `"first_name":"Jon"`, wantErr: MsgIdentifierRequired},
		{name: "numeric external_id", object: `"external_id":12`, wantErr: notValid("external_id")},
		{name: "empty external_id", object: `"external_id":""`, wantErr: notValid("external_id")},
		{name: "braze_id", object: `"braze_id":"abc"`},
		{name: "user_alias", object: `"user_alias":{"alias_name":"n","alias_label":"l"}`},
		{name: "user_alias without label", object: `"user_alias":{"alias_name":"n"}`, wantErr: notValid("user_alias")},
		{name: "user_alias as string", object: `"user_alias":"n"`, wantErr: notValid("user_alias")},
		{name: "email", object: `"email":"a@example.com"`},
		{name: "bad email", object: `"email":"not-an-email"`, wantErr: notValid("email")},
		{name: "phone", object: `"phone":"+15043277269"`},
		{name: "bad phone", object: `"phone":"call me"`, wantErr: notValid("phone")},
		{name: "null identifier only", object: `"external_id":null`, wantErr: MsgIdentifierRequired},
		// Issue 17: two primary identifiers are refused; email and phone may
		// accompany one.
		{name: "external_id and braze_id", object: `"external_id":"u1","braze_id":"b1"`, wantErr: MsgMultiplePrimaryIdentifiers},
		{name: "external_id and user_alias", object: `"external_id":"u1","user_alias":{"alias_name":"n","alias_label":"l"}`, wantErr: MsgMultiplePrimaryIdentifiers},
		{array: "events", name: "event with braze_id and user_alias", object: `"braze_id":"b1","user_alias":{"alias_name":"n","alias_label":"l"},"name":"x","time":"2024-01-02T03:04:05Z"`, wantErr: MsgMultiplePrimaryIdentifiers},
		{name: "external_id with email and phone", object: `"external_id":"u1","email":"a@example.com","phone":"+15043277269"`},
		{name: "bad _update_existing_only", object: `"external_id":"u1","_update_existing_only":"yes"`, wantErr: notValid("_update_existing_only")},
		{name: "push token import", object: `"push_token_import":true,"push_tokens":[{"app_id":"a","token":"t"}]`},
		{name: "push token import without tokens", object: `"push_token_import":true`, wantErr: required("push_tokens")},
		{name: "push token import with external_id", object: `"push_token_import":true,"external_id":"u1","push_tokens":[{"app_id":"a","token":"t"}]`, wantErr: notValid("push_token_import")},
	})
}
