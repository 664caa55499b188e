// Package currents decodes Braze Currents Avro files.
//
// Braze Currents exports engagement and behaviour events to S3, GCS or
// Azure as Avro object container files, one event type per file. A
// Decoder reads such a file from any io.Reader and yields one Event per
// record:
//
//	dec := currents.NewDecoder()
//	for ev, err := range dec.Events(r, "users.messages.email.Send") {
//		if err != nil {
//			return err // an *Error naming file, block and record
//		}
//		send := ev.(*currents.EmailSend)
//		fmt.Println(send.ID, send.EmailAddress, send.Time())
//	}
//
// # Event types
//
// Every event type of Currents v10 (94 of them) has a generated struct,
// such as EmailSend or CustomEvent; KnownEventTypes lists them. Field
// names follow the Avro names (campaign_id is CampaignID), except that
// user_id is BrazeUserID and time is UnixTime, because UserID() and
// Time() are Event methods. Strings, nullable or not, are Go strings;
// int and long are int64; float and double are float64; booleans bool.
// An event type the package does not know (a new one, a retired one)
// decodes into *Generic, a list of fields with plain Go values; it is
// never an error. AnnouncedEventTypes lists the ones Braze has announced
// without publishing their schemas, such as the landing page, survey and
// Content Optimizer types Currents v11 added.
//
// # Schema drift and newer releases
//
// Braze ships a Currents release a month (version=<n> in the object key;
// ParseKey reads it, and the bare schema id of older keys), and most
// releases add optional fields to existing types. Each file is decoded
// with its own writer schema, matched to the Go struct by field name:
// fields the struct lacks are kept for Get and the JSON view (a field of
// a primitive type is only skipped while decoding and read from the
// record's bytes when asked, so that newer files decode as fast as
// older ones), fields the file lacks stay zero, "string" and
// ["null","string"] both fill a string field, "int" and "long" both fill
// an int64, and the record's name and namespace are ignored. The event
// type comes from the object key (event_type=...) given to Events, or,
// when that is "", from the schema's record name. A field whose writer
// type the Go field cannot hold (say an int where the struct has a
// string) leaves the Go field zero; its value is still in Get and the
// JSON view.
//
// # JSON view
//
// json.Marshal of a decoded event (a pointer) gives an object whose keys
// are exactly the file's field names in file order, with plain values:
// null for null, no Avro union wrapping, time as the integer in the file.
// JSON held in strings (properties, message_extras, ...) is left as text;
// DecodeJSONField and the generated Decode<Field> methods parse it on
// demand. NDJSONWriter and CSVWriter write events for loading elsewhere.
//
// # Reading a bucket
//
// A Source walks the Currents files of any objstore.Store (a local folder,
// objstore.NewFSStore; a bucket, objstore/s3store), in key order, with
// filters on event type and queue hour, and skips the files an
// objstore.FileCheckpoint (or any Checkpoint) reports done. Storage is
// package objstore's concern; this package knows Currents keys and files.
//
// # Limits and performance
//
// The container reader checks the magic, the codec (null, deflate,
// snappy with its CRC, zstandard), every sync marker and every block
// size before allocating it (WithMaxBlockSize caps both the stored and
// the decompressed size). Memory is bounded by one block plus the events
// the caller keeps. Parsed writer schemas are cached by their exact
// bytes, and each (schema, event type) pair is compiled once into a
// program that decodes Avro binary straight into the struct fields, with
// one allocation for the event and one for all of its strings.
//
// Braze's own sample files and schemas may not be redistributed; the
// package's tests read them from ../shared/currents when present. The
// currentstest package writes synthetic files for tests and examples.
package currents
