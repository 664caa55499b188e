package currents_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/ampbraze/ampbraze/currents"
	"github.com/ampbraze/ampbraze/currents/currentstest"
)

// exampleFile writes a small synthetic Currents file, as Braze would put
// under event_type=users.messages.email.Send/.
func exampleFile() []byte {
	var buf bytes.Buffer
	err := currentstest.WriteFile(&buf, "users.messages.email.Send", []map[string]any{
		{"id": "a1", "user_id": "u1", "time": 1767225600, "email_address": "ada@example.com", "campaign_name": "Welcome"},
		{"id": "a2", "user_id": "u2", "time": 1767225660, "email_address": "bob@example.com"},
	}, currentstest.WithCodec("deflate"))
	if err != nil {
		panic(err)
	}
	return buf.Bytes()
}

func Example() {
	dec := currents.NewDecoder()
	for ev, err := range dec.Events(bytes.NewReader(exampleFile()), "users.messages.email.Send") {
		if err != nil {
			fmt.Println(err)
			return
		}
		send := ev.(*currents.EmailSend)
		fmt.Println(send.EventID(), send.UserID(), send.EmailAddress, send.Time().Format("2006-01-02 15:04"), send.CampaignName)
	}
	// Output:
	// a1 u1 ada@example.com 2026-01-01 00:00 Welcome
	// a2 u2 bob@example.com 2026-01-01 00:01
}

func ExampleDecoder_NewScanner() {
	dec := currents.NewDecoder(currents.WithMaxBlockSize(16 << 20))
	data := exampleFile()
	s := dec.NewScanner(bytes.NewReader(data[:len(data)-4]), "users.messages.email.Send",
		currents.WithFileName("event_type=users.messages.email.Send/date=2026-01-01-00/x+0+1.avro"))
	for s.Next() {
		fmt.Println("event", s.Event().EventID())
	}
	if err := s.Err(); err != nil {
		var cerr *currents.Error
		fmt.Println(errors.Is(err, currents.ErrTruncated), errors.As(err, &cerr) && cerr.Block == 0)
		fmt.Println(err)
	}
	// Output:
	// true true
	// currents: event_type=users.messages.email.Send/date=2026-01-01-00/x+0+1.avro: block 0 (offset 1445): file truncated
}

func ExampleEmailSend_MarshalJSON() {
	dec := currents.NewDecoder()
	for ev := range dec.Events(bytes.NewReader(exampleFile()), "") {
		b, _ := json.Marshal(ev)
		fmt.Println(string(b))
		break
	}
	// Output:
	// {"id":"a1","user_id":"u1","dispatch_id":null,"external_user_id":null,"time":1767225600,"timezone":null,"campaign_id":null,"campaign_name":"Welcome","message_variation_id":null,"message_variation_name":null,"email_address":"ada@example.com","canvas_id":null,"canvas_name":null,"canvas_variation_id":null,"canvas_variation_name":null,"canvas_step_id":null,"canvas_step_name":null,"send_id":null,"ip_pool":null,"message_extras":null,"app_group_id":null,"from_domain":null}
}

func ExampleCustomEvent_DecodeProperties() {
	var buf bytes.Buffer
	currentstest.WriteFile(&buf, "users.behaviors.CustomEvent", []map[string]any{
		{"id": "c1", "user_id": "u1", "time": 1767225600, "name": "added_to_cart", "properties": `{"sku":"B-42","qty":2}`},
	})
	for ev := range currents.NewDecoder().Events(&buf, "users.behaviors.CustomEvent") {
		ce := ev.(*currents.CustomEvent)
		var props struct {
			SKU string `json:"sku"`
			Qty int    `json:"qty"`
		}
		if err := ce.DecodeProperties(&props); err != nil {
			fmt.Println(err)
		}
		fmt.Println(ce.Name, props.SKU, props.Qty)
	}
	// Output:
	// added_to_cart B-42 2
}

func ExampleNewCSVWriter() {
	w := currents.NewCSVWriter(os.Stdout, "users.messages.email.Send",
		currents.WithColumns("id", "user_id", "time", "email_address", "campaign_name"))
	for ev := range currents.NewDecoder().Events(bytes.NewReader(exampleFile()), "users.messages.email.Send") {
		w.Write(ev)
	}
	w.Flush()
	// Output:
	// id,user_id,time,email_address,campaign_name
	// a1,u1,1767225600,ada@example.com,Welcome
	// a2,u2,1767225660,bob@example.com,
}
