package stricttoml

import (
	"errors"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

type inner struct {
	Bits int    `toml:"bits"`
	Mode string `toml:"mode"`
}

type doc struct {
	Name  string  `toml:"name"`
	Inner inner   `toml:"inner"`
	List  []inner `toml:"list"`
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"ok", "name = \"x\"\n[inner]\nbits = 3\n[[list]]\nmode = \"a\"\n", ""},
		{"unknown", "name = \"x\"\n[inner]\nbitz = 3\n", `doc.toml:3: unknown key "inner.bitz"`},
		{"case", "name = \"x\"\n[inner]\nBits = 3\n", `doc.toml:3: unknown key "inner.Bits" (did you mean "bits"?`},
		{"unknown table", "[outer]\nbits = 3\n", `doc.toml:1: unknown key "outer"`},
		{"in array table", "[[list]]\nmod = \"a\"\n", `doc.toml:2: unknown key "list.mod"`},
		{"syntax", "name = \"x\"\nbits = = 3\n", "doc.toml:2:"},
		{"type", "name = 3\n", "doc.toml:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode("doc.toml", tt.src, &d)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

type numbers struct {
	U    uint64    `toml:"u"`
	I    int       `toml:"i"`
	F    float64   `toml:"f"`
	P    *float64  `toml:"p"`
	List []float64 `toml:"list"`
	Rows []struct {
		U uint64 `toml:"u"`
	} `toml:"rows"`
	Free map[string]any `toml:"free"`
}

// TestNumbers: nan, ±inf and negative unsigned values are refused with the
// key and its line, wherever they sit.
func TestNumbers(t *testing.T) {
	tests := []struct {
		name, src, wantErr string
	}{
		{"ok", "u = 5\ni = -5\nf = -1.5\np = 2.0\nlist = [1.0, 2]\n[[rows]]\nu = 3\n[free]\nx = 1.5\n", ""},
		{"negative uint", "i = 1\nu = -5\n", `doc.toml:2: key "u": -5 is negative; want 0 … 18446744073709551615`},
		{"nan", "f = nan\n", `doc.toml:1: key "f": NaN is not a finite number`},
		{"inf", "f = -inf\n", `doc.toml:1: key "f": -Inf is not a finite number`},
		{"pointer", "p = +inf\n", `doc.toml:1: key "p": +Inf is not a finite number`},
		{"in an array", "list = [1.0, nan]\n", `doc.toml:1: key "list": element 1: NaN is not a finite number`},
		{"in an array of tables", "[[rows]]\nu = 1\n[[rows]]\nu = -1\n", `key "rows.u": -1 is negative`},
		{"in a map", "[free]\nx = nan\n", `doc.toml:2: key "free.x": NaN is not a finite number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d numbers
			err := Decode("doc.toml", tt.src, &d)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("got error %v, want none", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDecodeKeys(t *testing.T) {
	var d doc
	k, err := DecodeKeys("doc.toml", "name = \"\"\n\n[inner]\nbits = 0\n", &d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key  []string
		has  bool
		line int
	}{
		{[]string{"name"}, true, 1}, {[]string{"inner", "bits"}, true, 4}, {[]string{"inner"}, true, 3},
		{[]string{"inner", "mode"}, false, 0}, {[]string{"list"}, false, 0},
	} {
		if got := k.Has(c.key...); got != c.has {
			t.Errorf("Has(%q) = %v, want %v", c.key, got, c.has)
		}
		if got := k.Line(c.key...); got != c.line {
			t.Errorf("Line(%q) = %d, want %d", c.key, got, c.line)
		}
	}
}

// nestedHeaders is the document of the issue: about 100 KB of one table
// header nested 50,000 levels deep, which BurntSushi/toml alone decodes in
// seconds with gigabytes.
func nestedHeaders() string { return "[" + strings.Repeat("a.", 50000) + "b]\nx = 1\n" }

func TestLimits(t *testing.T) {
	deep := func(n int) string { return strings.TrimSuffix(strings.Repeat("a.", n), ".") }
	var tables strings.Builder
	for i := 0; i <= MaxTables; i++ {
		tables.WriteString("[[t]]\n")
	}
	tests := []struct {
		name, src, wantErr string
	}{
		{"nested headers", nestedHeaders(), "doc.toml:1: key nested deeper than 16 levels (the limit for TOML documents)"},
		{"deepest header", "[" + deep(16) + "]\n", ""},
		{"header too deep", "x = 1\n[" + deep(17) + "]\n", "doc.toml:2: key nested deeper than 16 levels"},
		{"dotted key", "[a.b]\n" + deep(14) + " = 1\n" + deep(15) + " = 2\n", "doc.toml:3: key nested deeper"},
		{"inline tables", "a = " + strings.Repeat("{b = ", 20) + "1" + strings.Repeat("}", 20) + "\n", "doc.toml:1: key nested deeper"},
		{"inline dotted", "a = {" + deep(30000) + " = 1}\n", "doc.toml:1: key nested deeper"},
		{"arrays", "a = " + strings.Repeat("[", 16) + strings.Repeat("]", 16) + "\n", "doc.toml:1: arrays nested deeper than 16 levels"},
		{"deepest array", "a = " + strings.Repeat("[", 15) + "1" + strings.Repeat("]", 15) + "\n", ""},
		{"long key", strings.Repeat("k", MaxKeyBytes+1) + " = 1\n", "is longer than 256 bytes"},
		{"long quoted key", `"` + strings.Repeat("k", MaxKeyBytes) + `" = 1` + "\n", "is longer than 256 bytes"},
		{"longest key", strings.Repeat("k", MaxKeyBytes) + " = 1\n", ""},
		{"too many tables", tables.String(), "more than 1048576 tables"},
		{"too large", strings.Repeat("#", MaxBytes+1), "doc.toml: 67108865 bytes, more than 64 MiB (the limit for TOML documents)"},
		// what only looks deep: strings, comments and multi-line values.
		{"dots in strings", "a = \"" + deep(100) + "\"\nb = '''\n[" + deep(100) + "]\n'''\nc = \"\"\"\\\"\"\"\"\"\n# [" + deep(100) + "]\n", ""},
		{"multi-line array", "a = [\n  [1, 2], # [" + deep(100) + "]\n  [3],\n]\n[x]\ny = 1\n", ""},
		{"date with a space", "d = 1979-05-27 07:32:00Z\n[" + deep(17) + "]\n", "doc.toml:2: key nested deeper"},
		{"syntax error first", "a = = 1\n[" + deep(17) + "]\n", "doc.toml:1:5:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v map[string]any
			err := Decode("doc.toml", tt.src, &v)
			var le *LimitError
			switch {
			case tt.wantErr == "" && errors.As(err, &le):
				t.Fatalf("got limit error %v, want none", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// BenchmarkNestedHeaders: the 100 KB nested document fails in the pre-scan,
// in microseconds.
func BenchmarkNestedHeaders(b *testing.B) {
	src := nestedHeaders()
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		var v map[string]any
		if err := Decode("doc.toml", src, &v); err == nil {
			b.Fatal("no error")
		}
	}
}

// FuzzLimits: the pre-scan never panics, and it never stops early on a
// document the decoder accepts (then it would not have checked the rest).
func FuzzLimits(f *testing.F) {
	for _, s := range []string{"a = 1\n", "[a.b]\nc = {d = [1, 2], e = 'x'}\n", "[[t]]\nx = \"\"\"\nq\"\"\"\n",
		"a = [\n1, # c\n2,\n]\n", "\"k.k\".'l' = 1979-05-27 07:32:00\n", "a = {\n b = 1,\n}\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 1<<12 {
			return
		}
		s := &scanner{src: src}
		err := s.document()
		if err != nil && err != errConfused {
			return // over a limit: not for the decoder
		}
		var v map[string]any
		if _, derr := toml.Decode(src, &v); derr == nil && err == errConfused {
			t.Fatalf("the decoder accepts %q, the pre-scan stopped at byte %d", src, s.i)
		}
	})
}
