package aer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// Caps on text headers of AEDAT files: a hostile file cannot make a reader
// buffer more than this before the first event.
const (
	maxHeaderBytes = 1 << 20
	maxHeaderLine  = 1 << 15
)

// readHeaderLines reads the '#' lines that open every AEDAT file and
// returns them without line ends. If end is not empty, reading stops after
// the line equal to end (AEDAT 3.1's "#!END-HEADER"); otherwise it stops
// before the first byte that is not '#'. n is the number of bytes consumed.
func readHeaderLines(br *bufio.Reader, format, end string) (lines []string, n int64, err error) {
	for {
		if end == "" {
			b, err := br.Peek(1)
			if err != nil || b[0] != '#' {
				return lines, n, nil
			}
		}
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull || len(line) > maxHeaderLine {
			return lines, n, corrupt(format, n, "header line longer than %d bytes", maxHeaderLine)
		}
		if err != nil {
			if err == io.EOF {
				return lines, n + int64(len(line)), truncated(format, n+int64(len(line)), "header ends without a line end")
			}
			return lines, n, err
		}
		if len(line) == 0 || line[0] != '#' {
			return lines, n, corrupt(format, n, "header line does not start with '#'")
		}
		n += int64(len(line))
		if n > maxHeaderBytes {
			return lines, n, corrupt(format, n, "header longer than %d bytes", maxHeaderBytes)
		}
		s := string(bytes.TrimRight(line, "\r\n"))
		lines = append(lines, s)
		if end != "" && s == end {
			return lines, n, nil
		}
	}
}

// readFull reads exactly len(b) bytes and turns a short read into a
// truncation error at offset off+read.
func readFull(r io.Reader, b []byte, format string, off int64, what string) error {
	k, err := io.ReadFull(r, b)
	if err == nil {
		return nil
	}
	if err == io.EOF && k == 0 {
		return io.EOF
	}
	if err == io.ErrUnexpectedEOF || err == io.EOF {
		return truncated(format, off+int64(k), "%s: %d of %d bytes", what, k, len(b))
	}
	return fmt.Errorf("aer: %s: %w", format, err)
}

// readBlock reads n bytes into buf (reused), growing it only as bytes
// arrive, so that a length field cannot make the reader allocate more than
// the input holds (plus one chunk).
func readBlock(r io.Reader, buf []byte, n int, format string, off int64, what string) ([]byte, error) {
	const chunk = 1 << 20
	buf = buf[:0]
	for len(buf) < n {
		k := min(n-len(buf), chunk)
		if cap(buf)-len(buf) < k {
			nb := make([]byte, len(buf), len(buf)+max(k, len(buf)))
			copy(nb, buf)
			buf = nb
		}
		got, err := io.ReadFull(r, buf[len(buf):len(buf)+k])
		buf = buf[:len(buf)+got]
		if err != nil {
			return buf, truncated(format, off+int64(len(buf)), "%s: %d of %d bytes", what, len(buf), n)
		}
	}
	return buf, nil
}
