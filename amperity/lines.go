package amperity

import (
	"bufio"
	"fmt"
	"io"
)

// lineReader hands out lines of a text input with bounded memory.
type lineReader struct {
	br      *bufio.Reader
	max     int
	line    int64 // lines consumed so far
	lineBuf []byte
}

// readLine returns the next line with its '\n' ("\r\n" becomes "\n"); the
// last line of a file may have none. It returns io.EOF at the end. The
// slice is valid until the next call.
func (r *lineReader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		r.lineBuf = append(r.lineBuf[:0], line...)
		for err == bufio.ErrBufferFull {
			if len(r.lineBuf) > r.max {
				return nil, &FatalError{Err: fmt.Errorf("%w: line %d is longer than %d bytes", ErrRecordTooLarge, r.line+1, r.max)}
			}
			line, err = r.br.ReadSlice('\n')
			r.lineBuf = append(r.lineBuf, line...)
		}
		line = r.lineBuf
	}
	if len(line) > 0 && err == io.EOF {
		err = nil
	}
	if err != nil {
		if err == io.EOF {
			return nil, err
		}
		return nil, &FatalError{Err: fmt.Errorf("%w: %v", ErrRead, err)}
	}
	r.line++
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	return line, nil
}
