package stricttoml

import (
	"strings"
	"testing"
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
