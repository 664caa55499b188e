package brazetest

import "testing"

// TestEventAndPurchaseValidation covers event and purchase objects beyond
// their identifiers.
func TestEventAndPurchaseValidation(t *testing.T) {
	checkObjects(t, []objectCase{
		// Events.
		{array: "events", name: "event", object: ev},
		{array: "events", name: "event with properties", object: ev + `,"app_id":"a","properties":{"movie":"x","n":1,"list":[1,2],"obj":{"k":"v"}}`},
		{array: "events", name: "event without identifier", object: `"name":"x","time":"2024-01-02T03:04:05Z"`, wantErr: MsgIdentifierRequired},
		{array: "events", name: "event by alias", object: `"user_alias":{"alias_name":"n","alias_label":"l"},"name":"x","time":"2024-01-02"`},
		{array: "events", name: "event without name", object: `"external_id":"u1","time":"2024-01-02T03:04:05Z"`, wantErr: required("name")},
		{array: "events", name: "event empty name", object: `"external_id":"u1","name":"","time":"2024-01-02T03:04:05Z"`, wantErr: notValid("name")},
		{array: "events", name: "event without time", object: `"external_id":"u1","name":"x"`, wantErr: required("time")},
		{array: "events", name: "event bad time", object: `"external_id":"u1","name":"x","time":"2024-13-02T03:04:05Z"`, wantErr: notValid("time")},
		{array: "events", name: "event time formats", object: `"external_id":"u1","name":"x","time":"2013-07-16T19:20:45+01:00"`},
		{array: "events", name: "event time with millis after colon", object: `"external_id":"u1","name":"x","time":"2013-07-16T19:20:45:123Z"`},
		{array: "events", name: "event time US date", object: `"external_id":"u1","name":"x","time":"07/16/2013"`},
		{array: "events", name: "property with $", object: ev + `,"properties":{"$x":1}`, wantErr: notValid("properties")},
		{array: "events", name: "reserved property time", object: ev + `,"properties":{"time":1}`, wantErr: notValid("properties")},
		{array: "events", name: "reserved property event_name", object: ev + `,"properties":{"event_name":"x"}`, wantErr: notValid("properties")},
		{array: "events", name: "property value too long", object: ev + `,"properties":{"x":"` + long + `"}`, wantErr: notValid("properties")},
		{array: "events", name: "properties not an object", object: ev + `,"properties":[1]`, wantErr: notValid("properties")},
		{array: "events", name: "event properties over 100 KB", object: ev + `,"properties":{"p":` + nested100K + `}`, wantErr: notValid("properties")},
		{array: "events", name: "event properties of 60 KB", object: ev + `,"properties":{"p":` + nested60K + `}`},
		// Purchases.
		{array: "purchases", name: "purchase", object: pur + `,"quantity":100`},
		{array: "purchases", name: "quantity 101", object: pur + `,"quantity":101`, wantErr: notValid("quantity")},
		{array: "purchases", name: "quantity 0", object: pur + `,"quantity":0`, wantErr: notValid("quantity")},
		{array: "purchases", name: "quantity fraction", object: pur + `,"quantity":1.5`, wantErr: notValid("quantity")},
		{array: "purchases", name: "no product_id", object: `"external_id":"u1","currency":"USD","price":1,"time":"2024-01-02"`, wantErr: required("product_id")},
		{array: "purchases", name: "product_id too long", object: `"external_id":"u1","product_id":"` + long + `","currency":"USD","price":1,"time":"2024-01-02"`, wantErr: notValid("product_id")},
		{array: "purchases", name: "no currency", object: `"external_id":"u1","product_id":"p","price":1,"time":"2024-01-02"`, wantErr: required("currency")},
		{array: "purchases", name: "lowercase currency", object: `"external_id":"u1","product_id":"p","currency":"usd","price":1,"time":"2024-01-02"`, wantErr: notValid("currency")},
		{array: "purchases", name: "unknown currency", object: `"external_id":"u1","product_id":"p","currency":"ABC","price":1,"time":"2024-01-02"`, wantErr: notValid("currency")},
		{array: "purchases", name: "no price", object: `"external_id":"u1","product_id":"p","currency":"EUR","time":"2024-01-02"`, wantErr: required("price")},
		{array: "purchases", name: "price as string", object: `"external_id":"u1","product_id":"p","currency":"EUR","price":"1","time":"2024-01-02"`, wantErr: notValid("price")},
		{array: "purchases", name: "no time", object: `"external_id":"u1","product_id":"p","currency":"EUR","price":1`, wantErr: required("time")},
		{array: "purchases", name: "purchase properties of 60 KB", object: pur + `,"properties":{"p":` + nested60K + `}`, wantErr: notValid("properties")},
	})
}
