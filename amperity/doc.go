// Package amperity reads Amperity exports (the "Braze Customer Attributes"
// table or a campaign audience) and maps them to Braze attributes, ready
// for the delta engine in package diff.
//
// # Reading
//
// NewCSVReader reads delimited text (CSV, TSV, PSV or any single ASCII
// delimiter; quote and escape characters; LF, CRLF or CR-only line endings;
// an optional UTF-8 byte-order mark; gzip recognised by its magic bytes).
// NewNDJSONReader reads newline-delimited JSON. Package amperity/parquet
// reads Parquet, Amperity's recommended format, inferring the schema from
// the file. All readers stream with bounded memory and yield the same Row
// model through iter.Seq2; every bad row is reported with file, row, line
// and column, never dropped silently.
//
// Delimited text and NDJSON carry no types: give a Schema (NewSchema, or
// ParseSchema for a file of `column:type` lines, in any order) with
// WithSchema. NULL is an empty unquoted field by default; WithNullTokens
// adds "NULL" or `\N`. The setup of a sync:
//
//	schema, err := amperity.ParseSchema(schemaFile) // column:type lines, any order
//	mapper, err := amperity.NewMapper(schema, amperity.AudienceColumns("vip"))
//	reader, err := amperity.NewCSVReader(ctx, file, amperity.WithSchema(schema))
//	for rec, err := range mapper.Records(reader.Rows(ctx)) { ... }
//
// Each Row carries its reader's Schema, in file order, and the Mapper finds
// its columns in it by name, so the order of the schema file never matters;
// rows with a column the mapper's schema lacks, or lacking one it has, end
// the stream with a fatal ErrHeaderMismatch.
//
// # Errors in streams
//
// Every stream of this package (a reader's Rows, Concat, Mapper.Records)
// follows one convention. An error about one row is an *InputError naming
// the file, row, line, column and value; it is yielded in the row's place
// and the stream goes on (a caller who wants to stop breaks the loop). An
// error after which the input cannot be read further (an unterminated
// quote, an oversized record, a read or gzip failure, a cancelled context)
// is a *FatalError: it is yielded last, with a zero Record, and the stream
// ends. Recognise it with errors.Is(err, ErrFatal) or its method
// Fatal() bool; a consumer must not take a stream that ended with it as a
// complete export.
//
// # Mapping
//
// NewMapper plans, before any row is read, where each column goes:
//
//   - the identifier (external_id by default, or braze_id) becomes the
//     record's Key and is never an attribute; amperity_id is not sent
//     unless mapped explicitly;
//   - Braze standard profile fields are recognised ignoring case and through
//     aliases (birthdate, birthday, date_of_birth -> dob; given_name ->
//     first_name; surname -> last_name; city -> home_city; ...);
//   - consent fields are not sent unless WithConsentFields is given;
//   - everything else is a custom attribute under its column name;
//   - two columns landing on one attribute is an error unless Precedence
//     orders them.
//
// Mapper.Decisions and Mapper.Explain describe that plan, and MapColumn,
// IgnoreColumns and KeepAsWritten override any decision.
//
// Values follow the value model of ARCHITECTURE.md: diff.Values holding a
// bool, int64, float64, exact decimal (json.Number), string or time.Time
// unboxed, or a braze.Date, []string or map[string]any. Numbers that Braze,
// which reads every JSON number as a double, could not hold (a Decimal or
// Float beyond about ±1.8e308 or rounded to 0, an Integer beyond 64 bits,
// NaN, infinities) are per-row errors. They
// are normalised so that formatting noise never looks like a change: dob
// to a calendar date without zone shifts, datetimes to UTC, decimals to
// canonical text, gender to Braze's letters, country to ISO 3166-1 alpha-2,
// language to ISO 639-1, emails trimmed. NormalizeCountry,
// NormalizeLanguage and NormalizeGender are those normalisers, exported for
// records built from another source (a diff.Record of your own), so that
// their values are the ones Braze accepts and diff equal to what the mapper
// sends for the same input.
//
// Audience membership columns (AudienceColumns, typed Boolean; NewMapper
// refuses any other type) and whole-file audiences
// (InAudience) become boolean attributes, listed by
// Mapper.AudienceAttributes so that the delta engine can send false when a
// user leaves, or one array attribute (AudienceArray).
//
// # Records
//
// Mapper.Records turns the rows into diff.Records, in row order. It reads
// on one goroutine and maps batches of rows on up to GOMAXPROCS (at most
// 4) others (MapWorkers(0) maps on the caller's goroutine); ReuseRecords
// reuses the records' memory when the consumer copies what it keeps, as a
// diff.Plan does. A row that does not map is yielded as an *InputError,
// with a Record that holds only the Key when the identifier was read, so
// that a full snapshot plans no removal for that user, and the stream goes
// on; a fatal error ends it (see Errors in streams).
package amperity
