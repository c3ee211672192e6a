// Package stricttoml decodes TOML into Go structs strictly: every key in the
// document must match a `toml:"..."` tag exactly (case included), and errors
// name the key and the line where it appears. BurntSushi/toml alone matches
// keys case-insensitively and ignores unknown keys, which turns a typo in a
// chip description into a silently different chip.
//
// Every TOML reader of aerie (chip descriptions, training configs, network
// descriptions) decodes through this package, which therefore also holds
// the rules that no reader should have to repeat:
//
//   - Limits (limits.go): a document of more than MaxBytes, a key path
//     deeper than MaxDepth, a key part longer than MaxKeyBytes or more than
//     MaxTables tables is refused by a linear pre-scan before decoding, so
//     that a hostile file cannot make the decoder spend quadratic time and
//     memory.
//   - Numbers: nan and ±inf are refused in every float field (no aerie
//     setting takes them), and a negative integer is refused in an
//     unsigned field (BurntSushi/toml stores −5 in a uint64 as
//     18446744073709551611). The error names the key and its line.
//   - Written keys: DecodeKeys reports which keys the document wrote, so
//     that a caller fills a default only where a key is absent and refuses
//     a written value outside its range (a written 0 is a value, not
//     "use the default").
package stricttoml

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/BurntSushi/toml"
)

// Decode decodes the TOML document src (named name in errors) into v, which
// must be a pointer to a struct. It rejects documents over the limits,
// syntax errors (with line and column), type mismatches, unknown keys,
// keys whose case differs from the struct tag, nan and infinite floats and
// negative values of unsigned fields.
func Decode(name, src string, v any) error {
	_, err := DecodeKeys(name, src, v)
	return err
}

// Keys tells which keys a decoded document wrote.
type Keys struct {
	md  toml.MetaData
	src string
}

// Has reports whether the document wrote the key whose parts are key
// (Has("train", "epochs") for [train] epochs = 3); a table counts as
// written when it has a header or any key of its own.
func (k *Keys) Has(key ...string) bool {
	if k == nil {
		return false
	}
	return k.md.IsDefined(key...)
}

// Line is the 1-based line where key is written, or 0 if it cannot tell.
func (k *Keys) Line(key ...string) int {
	if k == nil || len(key) == 0 {
		return 0
	}
	return lineOf(k.src, toml.Key(key))
}

// DecodeKeys is Decode that also returns the keys the document wrote.
func DecodeKeys(name, src string, v any) (*Keys, error) {
	if err := CheckLimits(name, src); err != nil {
		return nil, err
	}
	md, err := toml.Decode(src, v)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("%s:%d:%d: %s", name, pe.Position.Line, pe.Position.Col, pe.Message)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	rv := reflect.ValueOf(v)
	t := rv.Type()
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, k := range md.Keys() {
		if err := checkKey(t, k); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", name, lineOf(src, k), err)
		}
	}
	seen := map[string]bool{} // a key of an array of tables is listed once per element
	for _, k := range md.Keys() {
		if seen[k.String()] {
			continue
		}
		seen[k.String()] = true
		for _, fv := range fieldValues(rv, k, nil) {
			if msg := badNumber(fv); msg != "" {
				return nil, fmt.Errorf("%s:%d: key %q: %s", name, lineOf(src, k), k.String(), msg)
			}
		}
	}
	return &Keys{md: md, src: src}, nil
}

// fieldValues appends to out the values that key reaches from v: one for
// a key of tables, one per element for a key inside an array of tables.
func fieldValues(v reflect.Value, key toml.Key, out []reflect.Value) []reflect.Value {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return out
		}
		v = v.Elem()
	}
	if len(key) == 0 {
		return append(out, v)
	}
	switch v.Kind() {
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			out = fieldValues(v.Index(i), key, out)
		}
	case reflect.Struct:
		if idx, ok := fieldIndex(v.Type(), key[0]); ok {
			out = fieldValues(v.FieldByIndex(idx), key[1:], out)
		}
	case reflect.Map:
		if v.Type().Key().Kind() == reflect.String {
			if mv := v.MapIndex(reflect.ValueOf(key[0]).Convert(v.Type().Key())); mv.IsValid() {
				out = fieldValues(mv, key[1:], out)
			}
		}
	}
	return out
}

// fieldIndex is the index path of the field tagged name (embedded structs
// included).
func fieldIndex(t reflect.Type, name string) ([]int, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if idx, ok := fieldIndex(f.Type, name); ok {
				return append([]int{i}, idx...), true
			}
			continue
		}
		if f.IsExported() && tagName(f) == name {
			return []int{i}, true
		}
	}
	return nil, false
}

// badNumber describes a decoded value no aerie setting may hold: a float
// that is nan or infinite, an unsigned integer that came from a negative
// TOML integer (TOML integers are int64, so a uint64 above MaxInt64 can
// only be a wrapped negative), in v or in the elements of an array v.
// Tables are left to their own keys.
func badNumber(v reflect.Value) string {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return ""
		}
		v = v.Elem()
	}
	switch v.Kind() {
	case reflect.Float32, reflect.Float64:
		if f := v.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("%v is not a finite number", f)
		}
	case reflect.Uint, reflect.Uint64, reflect.Uintptr:
		if u := v.Uint(); u > math.MaxInt64 {
			return fmt.Sprintf("%d is negative; want 0 … %d", int64(u), uint64(math.MaxUint64))
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return ""
		}
		for i := 0; i < v.Len(); i++ {
			if msg := badNumber(v.Index(i)); msg != "" {
				return fmt.Sprintf("element %d: %s", i, msg)
			}
		}
	}
	return ""
}

// checkKey walks the struct type along key and reports the first piece that
// has no exactly matching tag.
func checkKey(t reflect.Type, key toml.Key) error {
	for i, piece := range key {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Map:
			t = t.Elem()
			continue
		case reflect.Struct:
		default:
			return fmt.Errorf("key %q: %q is not a table", key.String(), strings.Join(key[:i], "."))
		}
		f, ok := fieldByTag(t, piece)
		if !ok {
			if alt, ok := fieldByFoldedTag(t, piece); ok {
				return fmt.Errorf("unknown key %q (did you mean %q? keys are case-sensitive)", key.String(), alt)
			}
			return fmt.Errorf("unknown key %q (allowed here: %s)", key.String(), strings.Join(tags(t), ", "))
		}
		t = f.Type
	}
	return nil
}

func tagName(f reflect.StructField) string {
	tag := f.Tag.Get("toml")
	if tag == "-" {
		return ""
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			if g, ok := fieldByTag(f.Type, name); ok {
				return g, true
			}
			continue
		}
		if f.IsExported() && tagName(f) == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func fieldByFoldedTag(t reflect.Type, name string) (string, bool) {
	for _, n := range tags(t) {
		if strings.EqualFold(n, name) {
			return n, true
		}
	}
	return "", false
}

func tags(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			out = append(out, tags(f.Type)...)
			continue
		}
		if n := tagName(f); n != "" && f.IsExported() {
			out = append(out, n)
		}
	}
	return out
}

// lineOf finds the line where the last piece of key is defined: a table
// header naming the key, or "piece =" inside the key's parent table. It
// returns 0 when it cannot tell.
func lineOf(src string, key toml.Key) int {
	table := ""
	want := strings.Join(key[:len(key)-1], ".")
	last := key[len(key)-1]
	for i, line := range strings.Split(src, "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "[") {
			h := strings.Trim(s, "[] \t")
			if j := strings.Index(h, "#"); j >= 0 {
				h = strings.TrimSpace(strings.Trim(h[:j], "[] \t"))
			}
			table = h
			if h == key.String() {
				return i + 1
			}
			continue
		}
		if table != want && !(want == "" && table == "") {
			// dotted keys inside another table are rare in our files; fall through only on an exact table match
			if !strings.HasPrefix(s, want+".") {
				continue
			}
			s = strings.TrimPrefix(s, want+".")
		}
		if k, _, ok := strings.Cut(s, "="); ok && strings.Trim(strings.TrimSpace(k), `"'`) == last {
			return i + 1
		}
	}
	return 0
}
