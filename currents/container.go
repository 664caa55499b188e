package currents

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
)

// avroMagic starts every Avro object container file.
var avroMagic = [4]byte{'O', 'b', 'j', 1}

// Codec names as they appear in the avro.codec header.
const (
	CodecNull      = "null"
	CodecDeflate   = "deflate"
	CodecSnappy    = "snappy"
	CodecZstandard = "zstandard"
)

// container reads the framing of one object container file: header, then
// blocks of (count, size, data, sync). It holds at most one compressed and
// one decompressed block, in buffers reused from block to block.
type container struct {
	r        *bufio.Reader
	off      int64 // bytes consumed from r
	maxBlock int
	maxMeta  int

	meta  map[string][]byte
	sync  [16]byte
	codec string

	comp []byte // raw block bytes (reused)
	data []byte // decompressed block bytes (reused)
	fl   io.ReadCloser
	zd   *zstd.Decoder
}

func (c *container) close() {
	if c.zd != nil {
		c.zd.Close()
		c.zd = nil
	}
}

func (c *container) readByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.off++
	}
	return b, err
}

// readLong reads a zig-zag varint from the stream. A clean EOF before the
// first byte is returned as io.EOF; an EOF inside it as ErrTruncated.
func (c *container) readLong() (int64, error) {
	var v uint64
	var shift uint
	for i := 0; ; i++ {
		b, err := c.readByte()
		if err != nil {
			if err == io.EOF && i > 0 {
				return 0, ErrTruncated
			}
			return 0, err
		}
		if i == 9 && b > 1 {
			return 0, fmt.Errorf("%w: malformed varint", ErrHeader)
		}
		v |= uint64(b&0x7f) << shift
		if b < 0x80 {
			break
		}
		shift += 7
	}
	return int64(v>>1) ^ -int64(v&1), nil
}

// readN reads exactly n bytes into buf (reused), growing it as data arrives
// rather than trusting n up front, so a lying size on a short file does not
// allocate the lie.
func (c *container) readN(buf []byte, n int) ([]byte, error) {
	if n <= cap(buf) {
		buf = buf[:n]
		m, err := io.ReadFull(c.r, buf)
		c.off += int64(m)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return buf[:m], ErrTruncated
		}
		return buf, err
	}
	buf = buf[:0]
	for len(buf) < n {
		chunk := max(len(buf), 64<<10)
		chunk = min(chunk, n-len(buf))
		start := len(buf)
		buf = append(buf, make([]byte, chunk)...)[:start+chunk]
		m, err := io.ReadFull(c.r, buf[start:])
		c.off += int64(m)
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return buf, ErrTruncated
			}
			return buf, err
		}
	}
	return buf, nil
}

func noEOF(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return ErrTruncated
	}
	return err
}

// readHeader reads magic, metadata and sync marker.
func (c *container) readHeader() error {
	var magic [4]byte
	n, err := io.ReadFull(c.r, magic[:])
	c.off += int64(n)
	if err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			if n == 0 || bytes.HasPrefix(avroMagic[:], magic[:n]) {
				return ErrTruncated
			}
			return ErrNotAvro
		}
		return err
	}
	if magic != avroMagic {
		return fmt.Errorf("%w: starts with %q", ErrNotAvro, magic[:])
	}
	c.meta = map[string][]byte{}
	total := 0
	for {
		count, err := c.readLong()
		if err != nil {
			return noEOF(err)
		}
		if count == 0 {
			break
		}
		if count < 0 {
			count = -count
			if _, err := c.readLong(); err != nil { // block byte size, unused
				return noEOF(err)
			}
		}
		if count > int64(c.maxMeta) {
			return fmt.Errorf("%w: %d metadata entries", ErrHeader, count)
		}
		for ; count > 0; count-- {
			var kv [2][]byte
			for i := range kv {
				l, err := c.readLong()
				if err != nil {
					return noEOF(err)
				}
				if l < 0 {
					return fmt.Errorf("%w: negative metadata length", ErrHeader)
				}
				total += int(min(l, int64(c.maxMeta)+1))
				if total > c.maxMeta {
					return fmt.Errorf("%w: metadata larger than %d bytes", ErrBlockTooLarge, c.maxMeta)
				}
				kv[i], err = c.readN(nil, int(l))
				if err != nil {
					return err
				}
			}
			c.meta[string(kv[0])] = kv[1]
		}
	}
	n, err = io.ReadFull(c.r, c.sync[:])
	c.off += int64(n)
	if err != nil {
		return noEOF(err)
	}
	c.codec = string(c.meta["avro.codec"])
	switch c.codec {
	case "", CodecNull:
		c.codec = CodecNull
	case CodecDeflate, CodecSnappy:
	case CodecZstandard, "zstd":
		c.codec = CodecZstandard
	default:
		return fmt.Errorf("%w %q", ErrUnknownCodec, c.codec)
	}
	return nil
}

// blockHeader reads a block's record count and byte size. It returns
// io.EOF at a clean end of file.
func (c *container) blockHeader() (count, size int64, err error) {
	count, err = c.readLong()
	if err != nil {
		return 0, 0, err
	}
	size, err = c.readLong()
	if err != nil {
		return 0, 0, noEOF(err)
	}
	if count < 0 {
		return 0, 0, fmt.Errorf("%w: negative record count %d", ErrBlockCount, count)
	}
	if size < 0 {
		return 0, 0, fmt.Errorf("%w: negative block size %d", ErrCorruptBlock, size)
	}
	if size > int64(c.maxBlock) {
		return 0, 0, fmt.Errorf("%w: block declares %d bytes, limit %d", ErrBlockTooLarge, size, c.maxBlock)
	}
	return count, size, nil
}

// blockData reads size bytes of block data plus the sync marker and
// returns the decompressed data. The result aliases a reused buffer.
func (c *container) blockData(size int64) ([]byte, error) {
	var err error
	c.comp, err = c.readN(c.comp, int(size))
	if err != nil {
		return nil, err
	}
	var sync [16]byte
	n, err := io.ReadFull(c.r, sync[:])
	c.off += int64(n)
	if err != nil {
		return nil, noEOF(err)
	}
	if sync != c.sync {
		return nil, ErrSyncMarker
	}
	return c.decompress(c.comp)
}

func (c *container) decompress(in []byte) ([]byte, error) {
	switch c.codec {
	case CodecNull:
		return in, nil
	case CodecDeflate:
		if c.fl == nil {
			c.fl = flate.NewReader(bytes.NewReader(in))
		} else if err := c.fl.(flate.Resetter).Reset(bytes.NewReader(in), nil); err != nil {
			return nil, fmt.Errorf("%w: deflate: %v", ErrCorruptBlock, err)
		}
		c.data = c.data[:0]
		for {
			if len(c.data) == cap(c.data) {
				c.data = append(c.data, 0)[:len(c.data)]
			}
			n, err := c.fl.Read(c.data[len(c.data):cap(c.data)])
			c.data = c.data[:len(c.data)+n]
			if len(c.data) > c.maxBlock {
				return nil, fmt.Errorf("%w: deflate block inflates past %d bytes", ErrBlockTooLarge, c.maxBlock)
			}
			if err == io.EOF {
				return c.data, nil
			}
			if err != nil {
				return nil, fmt.Errorf("%w: deflate: %v", ErrCorruptBlock, err)
			}
		}
	case CodecSnappy:
		if len(in) < 4 {
			return nil, fmt.Errorf("%w: snappy block shorter than its checksum", ErrCorruptBlock)
		}
		body, sum := in[:len(in)-4], binary.BigEndian.Uint32(in[len(in)-4:])
		n, err := snappy.DecodedLen(body)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %v", ErrCorruptBlock, err)
		}
		if n > c.maxBlock {
			return nil, fmt.Errorf("%w: snappy block inflates to %d bytes, limit %d", ErrBlockTooLarge, n, c.maxBlock)
		}
		if cap(c.data) < n {
			c.data = make([]byte, n)
		}
		out, err := snappy.Decode(c.data[:n], body)
		if err != nil {
			return nil, fmt.Errorf("%w: snappy: %v", ErrCorruptBlock, err)
		}
		if crc32.ChecksumIEEE(out) != sum {
			return nil, fmt.Errorf("%w: snappy CRC32 mismatch", ErrCorruptBlock)
		}
		return out, nil
	case CodecZstandard:
		if c.zd == nil {
			zd, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1),
				zstd.WithDecoderMaxMemory(uint64(c.maxBlock)), zstd.WithDecoderMaxWindow(uint64(max(c.maxBlock, zstd.MinWindowSize))))
			if err != nil {
				return nil, fmt.Errorf("%w: zstandard: %v", ErrCorruptBlock, err)
			}
			c.zd = zd
		}
		out, err := c.zd.DecodeAll(in, c.data[:0])
		if err != nil {
			if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
				return nil, fmt.Errorf("%w: zstandard block inflates past %d bytes", ErrBlockTooLarge, c.maxBlock)
			}
			return nil, fmt.Errorf("%w: zstandard: %v", ErrCorruptBlock, err)
		}
		c.data = out
		return out, nil
	}
	return nil, fmt.Errorf("%w %q", ErrUnknownCodec, c.codec)
}
