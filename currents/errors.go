package currents

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors, matched with errors.Is against an *Error from the
// decoder. Each names one way a container file can be broken.
var (
	// ErrNotAvro: the file does not start with the Avro magic "Obj\x01".
	ErrNotAvro = errors.New("not an Avro object container file (bad magic)")
	// ErrTruncated: the file ends inside the header or a block.
	ErrTruncated = errors.New("file truncated")
	// ErrSyncMarker: a block is not followed by the file's sync marker.
	ErrSyncMarker = errors.New("sync marker mismatch")
	// ErrUnknownCodec: the avro.codec header names a codec this package does not support.
	ErrUnknownCodec = errors.New("unknown codec")
	// ErrCorruptBlock: a compressed block does not decompress or fails its checksum.
	ErrCorruptBlock = errors.New("corrupt compressed block")
	// ErrSchema: the avro.schema header is missing, does not parse, or is not a record.
	ErrSchema = errors.New("bad writer schema")
	// ErrHeader: the header metadata is malformed.
	ErrHeader = errors.New("malformed header")
	// ErrBlockTooLarge: a block declares more bytes (compressed or
	// decompressed) or records than the configured limit.
	ErrBlockTooLarge = errors.New("block exceeds size limit")
	// ErrBlockCount: a block's record count disagrees with its data.
	ErrBlockCount = errors.New("block record count does not match its data")
	// ErrRecord: a record's bytes do not match the writer schema.
	ErrRecord = errors.New("malformed record")
)

// Error reports where in a container file decoding failed. Err wraps one of
// the sentinel errors above.
type Error struct {
	// File is the file name or object key, when the caller supplied it.
	File string
	// Block is the 0-based index of the data block, or -1 for the header.
	Block int
	// Record is the 0-based index of the record within the block, or -1
	// when the fault is not in a record (block header, compression, sync).
	Record int
	// Offset is the byte offset in the file where the block (or header) starts.
	Offset int64
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("currents: ")
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteString(": ")
	}
	if e.Block < 0 {
		b.WriteString("header")
	} else {
		fmt.Fprintf(&b, "block %d (offset %d)", e.Block, e.Offset)
		if e.Record >= 0 {
			fmt.Fprintf(&b, ", record %d", e.Record)
		}
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }
