package stricttoml

import (
	"fmt"
	"strings"
)

// Limits of a TOML document, checked by a linear pre-scan of the source
// before the decoder sees it. BurntSushi/toml spends time and memory
// quadratic in the length of a key path (100 KB of one dotted table header
// takes seconds and gigabytes), so a document that passes these limits
// decodes in time and memory linear in its size. They are far above what
// any aerie file needs (the deepest key of a network description is four
// levels down).
const (
	// MaxBytes caps a document: the largest file any aerie reader takes
	// (network descriptions, 64 MiB).
	MaxBytes = 64 << 20
	// MaxDepth caps the depth of every value below the document root:
	// the parts of its table header, of its dotted key, of the keys of
	// the inline tables it sits in, and one level per array around it.
	// A header or key of more than MaxDepth dotted parts is therefore
	// refused too.
	MaxDepth = 16
	// MaxKeyBytes caps one part of a key (bare or quoted, quotes
	// included).
	MaxKeyBytes = 256
	// MaxTables caps the table headers ([t] and [[t]]) and inline tables
	// ({ ... }) of a document.
	MaxTables = 1 << 20
)

// LimitError is a document that exceeds one of the limits above.
type LimitError struct {
	Name string // the document's name, as given to Decode
	Line int    // 1-based line of the offending key or value (0: the whole document)
	Msg  string
}

func (e *LimitError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.Name, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.Name, e.Line, e.Msg)
}

// CheckLimits pre-scans src (named name in errors) and returns a
// *LimitError if it exceeds MaxBytes, MaxDepth, MaxKeyBytes or MaxTables.
// The scan takes time linear in len(src) and no memory beyond a few words.
// Syntax errors are not its business: where the source stops looking like
// TOML the scan stops and the decoder reports the error with its position
// (the decoder has then read only the prefix the scan checked).
func CheckLimits(name, src string) error {
	if len(src) > MaxBytes {
		return &LimitError{Name: name, Msg: fmt.Sprintf("%d bytes, more than %d MiB (the limit for TOML documents)", len(src), MaxBytes>>20)}
	}
	s := &scanner{src: src}
	err := s.document()
	if err == errConfused {
		return nil
	}
	if le, ok := err.(*LimitError); ok {
		le.Name = name
		le.Line = 1 + strings.Count(src[:min(s.at, len(src))], "\n")
		return le
	}
	return err
}

// errConfused ends a scan at something that is not TOML.
var errConfused = &LimitError{Msg: "not TOML"}

type scanner struct {
	src    string
	i      int // next byte
	at     int // offset that an error refers to
	tables int
}

func (s *scanner) eof() bool { return s.i >= len(s.src) }

func (s *scanner) peek() byte {
	if s.i < len(s.src) {
		return s.src[s.i]
	}
	return 0
}

func (s *scanner) limit(at int, format string, args ...any) error {
	s.at = at
	return &LimitError{Msg: fmt.Sprintf(format, args...)}
}

// skipWS skips spaces and tabs.
func (s *scanner) skipWS() {
	for s.i < len(s.src) && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.i++
	}
}

// skipComment skips a comment to (not including) the end of its line.
func (s *scanner) skipComment() {
	if s.peek() != '#' {
		return
	}
	for s.i < len(s.src) && s.src[s.i] != '\n' && s.src[s.i] != '\r' {
		s.i++
	}
}

// skipBlank skips whitespace, newlines and comments.
func (s *scanner) skipBlank() {
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		case '#':
			s.skipComment()
		default:
			return
		}
	}
}

// endLine expects the end of a top-level line: blanks, a comment, a
// newline or the end of the document.
func (s *scanner) endLine() error {
	s.skipWS()
	s.skipComment()
	if s.eof() || s.peek() == '\n' || s.peek() == '\r' {
		return nil
	}
	return errConfused
}

func (s *scanner) table(at int) error {
	s.tables++
	if s.tables > MaxTables {
		return s.limit(at, "more than %d tables (the limit for TOML documents)", MaxTables)
	}
	return nil
}

func (s *scanner) document() error {
	for _, bom := range []string{"\xef\xbb\xbf", "\xff\xfe", "\xfe\xff"} {
		if strings.HasPrefix(s.src, bom) {
			s.i = len(bom)
			break
		}
	}
	base := 0 // parts of the current table header
	for {
		s.skipBlank()
		if s.eof() {
			return nil
		}
		start := s.i
		if s.peek() == '[' {
			s.i++
			array := s.peek() == '['
			if array {
				s.i++
			}
			parts, err := s.key(0)
			if err != nil {
				return err
			}
			s.skipWS()
			if s.peek() != ']' {
				return errConfused
			}
			s.i++
			if array {
				if s.peek() != ']' {
					return errConfused
				}
				s.i++
			}
			if err := s.table(start); err != nil {
				return err
			}
			base = parts
			if err := s.endLine(); err != nil {
				return err
			}
			continue
		}
		if err := s.keyValue(base); err != nil {
			return err
		}
		if err := s.endLine(); err != nil {
			return err
		}
	}
}

// keyValue scans "key = value" at depth.
func (s *scanner) keyValue(depth int) error {
	parts, err := s.key(depth)
	if err != nil {
		return err
	}
	s.skipWS()
	if s.peek() != '=' {
		return errConfused
	}
	s.i++
	s.skipWS()
	return s.value(depth + parts)
}

// key scans a dotted key whose first part sits at depth+1 and returns its
// number of parts.
func (s *scanner) key(depth int) (int, error) {
	parts := 0
	for {
		s.skipWS()
		start := s.i
		switch c := s.peek(); {
		case isBare(c):
			for s.i < len(s.src) && isBare(s.src[s.i]) {
				s.i++
			}
		case c == '"' || c == '\'':
			if err := s.lineString(c); err != nil {
				return 0, err
			}
		default:
			return 0, errConfused
		}
		if s.i-start > MaxKeyBytes {
			return 0, s.limit(start, "key %.20q… is longer than %d bytes (the limit for TOML documents)", s.src[start:s.i], MaxKeyBytes)
		}
		parts++
		if depth+parts > MaxDepth {
			return 0, s.limit(start, "key nested deeper than %d levels (the limit for TOML documents)", MaxDepth)
		}
		s.skipWS()
		if s.peek() != '.' {
			return parts, nil
		}
		s.i++
	}
}

func isBare(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// lineString scans a one-line basic ("...") or literal ('...') string.
func (s *scanner) lineString(q byte) error {
	s.i++
	for s.i < len(s.src) {
		switch c := s.src[s.i]; {
		case c == q:
			s.i++
			return nil
		case c == '\n' || c == '\r':
			return errConfused
		case c == '\\' && q == '"':
			s.i += 2
		default:
			s.i++
		}
	}
	return errConfused
}

// multiString scans a multi-line string from its opening triple quote.
func (s *scanner) multiString(q byte) error {
	s.i += 3
	for s.i < len(s.src) {
		c := s.src[s.i]
		if c == '\\' && q == '"' {
			s.i += 2
			continue
		}
		if c != q {
			s.i++
			continue
		}
		n := 0
		for s.i < len(s.src) && s.src[s.i] == q {
			s.i++
			n++
		}
		if n >= 3 {
			if n > 5 {
				return errConfused
			}
			return nil
		}
	}
	return errConfused
}

// value scans one value whose key path is depth parts long.
func (s *scanner) value(depth int) error {
	start := s.i
	switch c := s.peek(); c {
	case '"', '\'':
		if strings.HasPrefix(s.src[s.i:], strings.Repeat(string(c), 3)) {
			return s.multiString(c)
		}
		return s.lineString(c)
	case '[':
		if depth+1 > MaxDepth {
			return s.limit(start, "arrays nested deeper than %d levels (the limit for TOML documents)", MaxDepth)
		}
		s.i++
		for {
			s.skipBlank()
			if s.peek() == ']' {
				s.i++
				return nil
			}
			if err := s.value(depth + 1); err != nil {
				return err
			}
			s.skipBlank()
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return errConfused
			}
		}
	case '{':
		if err := s.table(start); err != nil {
			return err
		}
		s.i++
		for {
			s.skipBlank()
			if s.peek() == '}' {
				s.i++
				return nil
			}
			if err := s.keyValue(depth); err != nil {
				return err
			}
			s.skipBlank()
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return errConfused
			}
		}
	}
	// a number, date, boolean, inf or nan: up to the next delimiter
	// (dates may hold a space).
	if c := s.peek(); !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == 't' || c == 'f' || c == 'i' || c == 'n') {
		return errConfused
	}
	for s.i < len(s.src) {
		switch s.src[s.i] {
		case ',', ']', '}', '#', '\n', '\r':
			if s.i == start {
				return errConfused
			}
			return nil
		}
		s.i++
	}
	if s.i == start {
		return errConfused
	}
	return nil
}
