package main

import (
	"encoding/json"
	"io"
)

// writeJSON prints v as one indented JSON object followed by a newline: the
// contract of every --json flag.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
