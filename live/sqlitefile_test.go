package live

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// readSQLite parses a file written by WriteSQLite, checking the header
// and every page's invariants on the way (independently of the writer's
// code): page type, no freeblocks or fragments, cell pointers in order
// and inside the content area, cells not overlapping, rowids ascending
// within their parent's bounds, overflow chains, every page used exactly
// once. It returns the tables with their rows as nil, int64, float64,
// string or []byte.
func readSQLite(b []byte) ([]SQLiteTable, error) {
	const U = sqlitePageSize
	if len(b) < U || len(b)%U != 0 {
		return nil, fmt.Errorf("size %d is not a positive multiple of %d", len(b), U)
	}
	np := len(b) / U
	want := map[int]uint32{24: 1, 28: uint32(np), 32: 0, 36: 0, 40: 1, 44: 4, 48: 0, 52: 0, 56: 1, 60: 0, 64: 0, 68: 0, 92: 1}
	if string(b[:16]) != "SQLite format 3\x00" || binary.BigEndian.Uint16(b[16:]) != U || b[18] != 1 || b[19] != 1 || b[20] != 0 ||
		b[21] != 64 || b[22] != 32 || b[23] != 32 {
		return nil, fmt.Errorf("header % x", b[:24])
	}
	for off, v := range want {
		if got := binary.BigEndian.Uint32(b[off:]); got != v {
			return nil, fmt.Errorf("header at %d: %d, want %d", off, got, v)
		}
	}
	if !bytes.Equal(b[72:92], make([]byte, 20)) || binary.BigEndian.Uint32(b[96:]) < 3_000_000 {
		return nil, fmt.Errorf("header reserved bytes or version % x", b[72:100])
	}
	used := make([]bool, np+1)
	page := func(pg uint32) ([]byte, error) {
		if pg < 1 || int(pg) > np {
			return nil, fmt.Errorf("page %d out of 1…%d", pg, np)
		}
		if used[pg] {
			return nil, fmt.Errorf("page %d used twice", pg)
		}
		used[pg] = true
		return b[(pg-1)*U : pg*U], nil
	}
	varint := func(p []byte, at int) (uint64, int, error) {
		var v uint64
		for i := 0; i < 9; i++ {
			if at+i >= len(p) {
				return 0, 0, fmt.Errorf("varint past the end")
			}
			c := p[at+i]
			if i == 8 {
				return v<<8 | uint64(c), at + 9, nil
			}
			v = v<<7 | uint64(c&0x7f)
			if c < 0x80 {
				return v, at + i + 1, nil
			}
		}
		panic("unreachable")
	}
	type row struct {
		rowid   uint64
		payload []byte
	}
	var walk func(pg uint32, lo, hi uint64, depth int) ([]row, error)
	walk = func(pg uint32, lo, hi uint64, depth int) ([]row, error) {
		if depth > 10 {
			return nil, fmt.Errorf("page %d: tree too deep", pg)
		}
		p, err := page(pg)
		if err != nil {
			return nil, err
		}
		h := 0
		if pg == 1 {
			h = 100
		}
		kind := p[h]
		hdr := 8
		if kind == 0x05 {
			hdr = 12
		} else if kind != 0x0D {
			return nil, fmt.Errorf("page %d: type %#x", pg, kind)
		}
		if fb, frag := binary.BigEndian.Uint16(p[h+1:]), p[h+7]; fb != 0 || frag != 0 {
			return nil, fmt.Errorf("page %d: freeblock %d, %d fragmented bytes", pg, fb, frag)
		}
		n := int(binary.BigEndian.Uint16(p[h+3:]))
		content := int(binary.BigEndian.Uint16(p[h+5:]))
		if content == 0 {
			content = 65536
		}
		if h+hdr+2*n > content || content > U {
			return nil, fmt.Errorf("page %d: %d cells, content at %d", pg, n, content)
		}
		type span struct{ at, end int }
		var spans []span
		var rows []row
		prev := lo
		for i := range n {
			at := int(binary.BigEndian.Uint16(p[h+hdr+2*i:]))
			if at < content || at >= U {
				return nil, fmt.Errorf("page %d cell %d at %d outside the content area %d", pg, i, at, content)
			}
			var key uint64
			var end int
			if kind == 0x05 {
				if at+4 > U {
					return nil, fmt.Errorf("page %d cell %d past the end", pg, i)
				}
				child := binary.BigEndian.Uint32(p[at:])
				if key, end, err = varint(p, at+4); err != nil {
					return nil, err
				}
				if key <= prev || key > hi {
					return nil, fmt.Errorf("page %d: key %d out of (%d, %d]", pg, key, prev, hi)
				}
				sub, err := walk(child, prev, key, depth+1)
				if err != nil {
					return nil, err
				}
				rows = append(rows, sub...)
			} else {
				size, k, err := varint(p, at)
				if err != nil {
					return nil, err
				}
				if key, k, err = varint(p, k); err != nil {
					return nil, err
				}
				if key <= prev || key > hi {
					return nil, fmt.Errorf("page %d: rowid %d out of (%d, %d]", pg, key, prev, hi)
				}
				local := int(size)
				if size > U-35 {
					m := (U-12)*32/255 - 23
					local = m + int(size-uint64(m))%(U-4)
					if local > U-35 {
						local = m
					}
				}
				if k+local > U {
					return nil, fmt.Errorf("page %d cell %d: payload past the end", pg, i)
				}
				payload := append([]byte(nil), p[k:k+local]...)
				end = k + local
				if local < int(size) {
					if end+4 > U {
						return nil, fmt.Errorf("page %d cell %d: overflow pointer past the end", pg, i)
					}
					ov := binary.BigEndian.Uint32(p[end:])
					end += 4
					for uint64(len(payload)) < size {
						if ov == 0 {
							return nil, fmt.Errorf("page %d cell %d: overflow chain short", pg, i)
						}
						o, err := page(ov)
						if err != nil {
							return nil, err
						}
						m := min(int(size)-len(payload), U-4)
						payload = append(payload, o[4:4+m]...)
						ov = binary.BigEndian.Uint32(o)
					}
					if ov != 0 {
						return nil, fmt.Errorf("page %d cell %d: overflow chain long", pg, i)
					}
				}
				rows = append(rows, row{key, payload})
			}
			end = max(end, at+4)
			spans = append(spans, span{at, end})
			prev = key
		}
		// the cells tile [content, U) exactly: no gaps (fragments), no overlaps
		covered := make([]bool, U)
		for _, s := range spans {
			for j := s.at; j < s.end; j++ {
				if covered[j] {
					return nil, fmt.Errorf("page %d: cells overlap at %d", pg, j)
				}
				covered[j] = true
			}
		}
		for j := content; j < U; j++ {
			if !covered[j] {
				return nil, fmt.Errorf("page %d: byte %d of the content area in no cell", pg, j)
			}
		}
		if kind == 0x05 {
			sub, err := walk(binary.BigEndian.Uint32(p[h+8:]), prev, hi, depth+1)
			if err != nil {
				return nil, err
			}
			rows = append(rows, sub...)
		}
		return rows, nil
	}
	record := func(p []byte) ([]any, error) {
		hs, at, err := varint(p, 0)
		if err != nil || hs > uint64(len(p)) {
			return nil, fmt.Errorf("record header size %d of %d", hs, len(p))
		}
		body := int(hs)
		var vals []any
		for at < int(hs) {
			var t uint64
			if t, at, err = varint(p, at); err != nil {
				return nil, err
			}
			size := map[uint64]int{0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 8, 8: 0, 9: 0}[t]
			if t >= 12 {
				size = int((t - 12) / 2)
			} else if t == 10 || t == 11 {
				return nil, fmt.Errorf("serial type %d", t)
			}
			if body+size > len(p) {
				return nil, fmt.Errorf("record body short")
			}
			v := p[body : body+size]
			body += size
			switch {
			case t == 0:
				vals = append(vals, nil)
			case t == 8 || t == 9:
				vals = append(vals, int64(t-8))
			case t == 7:
				vals = append(vals, math.Float64frombits(binary.BigEndian.Uint64(v)))
			case t <= 6:
				x := int64(int8(v[0]))
				for _, c := range v[1:] {
					x = x<<8 | int64(c)
				}
				vals = append(vals, x)
			case t%2 == 1:
				vals = append(vals, string(v))
			default:
				vals = append(vals, append([]byte{}, v...))
			}
		}
		if at != int(hs) || body != len(p) {
			return nil, fmt.Errorf("record: header ends at %d of %d, body at %d of %d", at, hs, body, len(p))
		}
		return vals, nil
	}

	master, err := walk(1, 0, math.MaxInt64, 0)
	if err != nil {
		return nil, err
	}
	var tables []SQLiteTable
	for i, m := range master {
		v, err := record(m.payload)
		if err != nil {
			return nil, fmt.Errorf("sqlite_master row %d: %w", i+1, err)
		}
		if m.rowid != uint64(i+1) || len(v) != 5 || v[0] != "table" || v[1] != v[2] {
			return nil, fmt.Errorf("sqlite_master row %d (rowid %d): %v", i+1, m.rowid, v)
		}
		root, _ := v[3].(int64)
		name, _ := v[1].(string)
		sql, _ := v[4].(string)
		rows, err := walk(uint32(root), 0, math.MaxInt64, 0)
		if err != nil {
			return nil, fmt.Errorf("table %s: %w", name, err)
		}
		t := SQLiteTable{Name: name, Create: sql}
		for j, r := range rows {
			if r.rowid != uint64(j+1) {
				return nil, fmt.Errorf("table %s: row %d has rowid %d", name, j+1, r.rowid)
			}
			vals, err := record(r.payload)
			if err != nil {
				return nil, fmt.Errorf("table %s row %d: %w", name, j+1, err)
			}
			t.Rows = append(t.Rows, vals)
		}
		tables = append(tables, t)
	}
	for pg := 1; pg <= np; pg++ {
		if !used[pg] {
			return nil, fmt.Errorf("page %d is never used", pg)
		}
	}
	return tables, nil
}

// normalized is tables as readSQLite returns them: int as int64, a
// trailing semicolon off the CREATE, nil Rows for no rows.
func normalized(tables []SQLiteTable) []SQLiteTable {
	var out []SQLiteTable
	for _, t := range tables {
		n := SQLiteTable{Name: t.Name, Create: strings.TrimRight(strings.TrimSpace(t.Create), "; \t\r\n")}
		for _, r := range t.Rows {
			var row []any
			for _, v := range r {
				switch x := v.(type) {
				case int:
					v = int64(x)
				case []byte:
					v = append([]byte{}, x...)
				}
				row = append(row, v)
			}
			n.Rows = append(n.Rows, row)
		}
		out = append(out, n)
	}
	return out
}

// sameTables compares tables value by value (floats with ==).
func sameTables(a, b []SQLiteTable) bool {
	return reflect.DeepEqual(a, b)
}

// roundTrip writes tables, reads them back with readSQLite and, when
// there is a python3 with sqlite3, has SQLite check and read the file.
func roundTrip(t *testing.T, tables []SQLiteTable) []byte {
	t.Helper()
	img, err := WriteSQLite(tables)
	if err != nil {
		t.Fatal(err)
	}
	again, err := WriteSQLite(tables)
	if err != nil || !bytes.Equal(img, again) {
		t.Fatal("two writes of the same tables differ")
	}
	got, err := readSQLite(img)
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	want := normalized(tables)
	if !sameTables(got, want) {
		t.Fatalf("read back differs:\n got %.500v\nwant %.500v", got, want)
	}
	pythonCheck(t, img, want)
	return img
}

var (
	pythonOnce sync.Once
	pythonPath string
)

// python3 is the path of a python3 that has the sqlite3 module, or "".
func python3() string {
	pythonOnce.Do(func() {
		p, err := exec.LookPath("python3")
		if err != nil {
			return
		}
		if exec.Command(p, "-c", "import sqlite3").Run() == nil {
			pythonPath = p
		}
	})
	return pythonPath
}

// pyDump opens the file with Python's sqlite3, runs PRAGMA
// integrity_check and prints every table's sql and rows (rowid first),
// values tagged by type.
const pyDump = `import sqlite3, sys, json
c = sqlite3.connect(sys.argv[1])
out = {"integrity": [r[0] for r in c.execute("PRAGMA integrity_check")], "tables": []}
def enc(v):
    if v is None: return None
    if isinstance(v, int): return {"i": str(v)}
    if isinstance(v, float): return {"f": v.hex()}
    if isinstance(v, str): return {"t": v}
    return {"b": bytes(v).hex()}
for name, sql in c.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall():
    rows = [[enc(v) for v in r] for r in c.execute('SELECT rowid, * FROM "%s" ORDER BY rowid' % name.replace('"', '""'))]
    out["tables"].append({"name": name, "sql": sql, "rows": rows})
json.dump(out, sys.stdout)
`

// pythonCheck has SQLite (through Python) check the image and read it
// back; it logs and returns when there is no python3 with sqlite3.
func pythonCheck(t *testing.T, img []byte, want []SQLiteTable) {
	t.Helper()
	py := python3()
	if py == "" {
		t.Log("no python3 with sqlite3: file not checked by SQLite")
		return
	}
	path := filepath.Join(t.TempDir(), "db.sqlite3")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", pyDump, path).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			out = ee.Stderr
		}
		t.Fatalf("python3 sqlite3: %v\n%s", err, out)
	}
	var dump struct {
		Integrity []string
		Tables    []struct {
			Name, SQL string
			Rows      [][]map[string]string
		}
	}
	if err := json.Unmarshal(out, &dump); err != nil {
		t.Fatalf("python output: %v\n%.1000s", err, out)
	}
	if len(dump.Integrity) != 1 || dump.Integrity[0] != "ok" {
		t.Fatalf("PRAGMA integrity_check: %q", dump.Integrity)
	}
	var got []SQLiteTable
	for _, tb := range dump.Tables {
		g := SQLiteTable{Name: tb.Name, Create: tb.SQL}
		for j, r := range tb.Rows {
			if len(r) == 0 || r[0]["i"] != strconv.Itoa(j+1) {
				t.Fatalf("table %s row %d: rowid %v", tb.Name, j+1, r)
			}
			var row []any
			for _, v := range r[1:] {
				row = append(row, pyValue(t, v))
			}
			// SELECT * gives every declared column: drop the NULLs of
			// columns a short row does not have
			w := want[len(got)]
			if j < len(w.Rows) && len(row) > len(w.Rows[j]) {
				row = row[:len(w.Rows[j])]
			}
			g.Rows = append(g.Rows, row)
		}
		got = append(got, g)
	}
	if !sameTables(got, want) {
		t.Fatalf("SQLite read back differs:\n got %.500v\nwant %.500v", got, want)
	}
}

func pyValue(t *testing.T, v map[string]string) any {
	t.Helper()
	switch {
	case v == nil:
		return nil
	case v["i"] != "":
		n, err := strconv.ParseInt(v["i"], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		return n
	case v["f"] != "":
		f, err := strconv.ParseFloat(v["f"], 64)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	if s, ok := v["t"]; ok {
		return s
	}
	b, err := hex.DecodeString(v["b"])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteSQLiteSmall(t *testing.T) {
	img := roundTrip(t, []SQLiteTable{{Name: "t", Create: "CREATE TABLE t(a INTEGER, b TEXT, c REAL);",
		Rows: [][]any{{1, "one", 1.5}, {2, "two", nil}, {3, "three", -2.25}}}})
	if len(img) != 2*sqlitePageSize {
		t.Errorf("%d bytes, want 2 pages", len(img))
	}
}

func TestWriteSQLiteManyRows(t *testing.T) {
	var rows [][]any
	for i := range 5000 {
		rows = append(rows, []any{i, i * i, fmt.Sprintf("label %d", i), float64(i) / 7})
	}
	img := roundTrip(t, []SQLiteTable{{Name: "big", Create: "CREATE TABLE big(atom INTEGER, event INTEGER, label TEXT, x REAL)", Rows: rows}})
	if n := len(img) / sqlitePageSize; n < 40 {
		t.Errorf("%d pages for 5000 rows", n)
	}
	if img[len(img)-sqlitePageSize] != sqliteInteriorTable { // the root, written last
		t.Error("5000 rows and no interior page")
	}
}

// TestWriteSQLiteDeepTree: rows of 1300 bytes, 3 to a leaf, need more
// leaves than an interior page holds: three levels of pages.
func TestWriteSQLiteDeepTree(t *testing.T) {
	var rows [][]any
	text := strings.Repeat("x", 1300)
	for i := range 1800 {
		rows = append(rows, []any{i, text})
	}
	img := roundTrip(t, []SQLiteTable{{Name: "deep", Create: "CREATE TABLE deep(i, s)", Rows: rows}})
	// the root is the last page written; its first child is interior too
	root := img[len(img)-sqlitePageSize:]
	child := binary.BigEndian.Uint32(root[binary.BigEndian.Uint16(root[12:]):])
	if root[0] != sqliteInteriorTable || img[(child-1)*sqlitePageSize] != sqliteInteriorTable {
		t.Errorf("root %#x, child %d %#x: want three levels", root[0], child, img[(child-1)*sqlitePageSize])
	}
}

func TestWriteSQLiteSeveralTables(t *testing.T) {
	roundTrip(t, []SQLiteTable{
		{Name: "a", Create: "CREATE TABLE a(x)", Rows: [][]any{{1}}},
		{Name: "empty", Create: "CREATE TABLE empty(x, y)"},
		{Name: "b", Create: "CREATE TABLE \"b\" (x TEXT, y BLOB)", Rows: [][]any{{"p", []byte{1, 2}}, {"q", []byte{}}}},
		{Name: "short", Create: "CREATE TABLE short(x, y, z)", Rows: [][]any{{1}, {1, 2}, {1, 2, 3}}},
	})
	// sqlite_master over several pages, and one row too long for page 1
	var many []SQLiteTable
	for i := range 150 {
		cols := fmt.Sprintf(", column_with_a_long_name_%d_a INTEGER, column_with_a_long_name_%[1]d_b TEXT", i)
		many = append(many, SQLiteTable{Name: fmt.Sprintf("t%d", i), Create: fmt.Sprintf("CREATE TABLE t%d(id INTEGER%s)", i, cols),
			Rows: [][]any{{i}}})
	}
	roundTrip(t, many)
	long := "CREATE TABLE long(a"
	for i := 0; len(long) < 3975; i++ {
		long += fmt.Sprintf(", b%d", i)
	}
	long += ")" // a sqlite_master row that does not fit on page 1
	roundTrip(t, []SQLiteTable{{Name: "long", Create: long, Rows: [][]any{{1}}}})
}

func TestWriteSQLiteValues(t *testing.T) {
	ints := []any{nil, 0, 1, 2, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32769, 65535, 65536, 1<<23 - 1, 1 << 23,
		1<<31 - 1, 1 << 31, -1 << 31, 1<<47 - 1, 1 << 47, -1 << 47, -1<<47 - 1, int64(math.MaxInt64), int64(math.MinInt64)}
	floats := []any{0.0, math.Copysign(0, -1), 0.5, -1.5, 1e308, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.Pi, 3.0}
	texts := []any{"", "a", "naïve ☃ 神经 🧠", "quote ' and \" ", strings.Repeat("é", 100), []byte{}, []byte{0, 0xff, 0x80}}
	var rows [][]any
	for _, v := range ints {
		rows = append(rows, []any{v, int64(0)})
	}
	rows = append(rows, ints, floats, texts)
	roundTrip(t, []SQLiteTable{{Name: "v", Create: "CREATE TABLE v(a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q, r, s, t, u, w, x, y, z, aa, ab)", Rows: rows}})
	// the serial types: 0 NULL, 8/9 for 0/1, then 1, 2, 3, 4, 6, 8 bytes
	for _, c := range []struct {
		v    int64
		typ  uint64
		size int
	}{{0, 8, 0}, {1, 9, 0}, {-1, 1, 1}, {255, 2, 2}, {256, 2, 2}, {65536, 3, 3}, {1 << 31, 5, 6}, {1 << 47, 6, 8}, {-1 << 47, 5, 6}} {
		rec, err := sqliteRecord([]any{c.v})
		if err != nil || rec[0] != 2 || uint64(rec[1]) != c.typ || len(rec) != 2+c.size {
			t.Errorf("%d: record % x, want type %d and %d bytes", c.v, rec, c.typ, c.size)
		}
	}
	if rec, _ := sqliteRecord([]any{nil, "ab", []byte{7}, 0.5}); !bytes.Equal(rec, []byte{5, 0, 17, 14, 7, 'a', 'b', 7, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0}) {
		t.Errorf("record % x", rec)
	}
}

func TestWriteSQLiteOverflow(t *testing.T) {
	var rows [][]any
	for _, n := range []int{4050, 4058, 4059, 4060, 4061, 4062, 4100, 5000, 8000, 8200, 12345, 100_000} {
		rows = append(rows, []any{strings.Repeat(string(rune('a'+len(rows))), n)}, []any{bytes.Repeat([]byte{byte(n)}, n)})
	}
	rows = append(rows, []any{1, "small"})
	roundTrip(t, []SQLiteTable{{Name: "o", Create: "CREATE TABLE o(x, y)", Rows: rows}, {Name: "after", Create: "CREATE TABLE after(x)", Rows: [][]any{{1}}}})
}

func TestWriteSQLiteErrors(t *testing.T) {
	ok := "CREATE TABLE t(a)"
	for _, c := range []struct {
		tables []SQLiteTable
		want   string
	}{
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE t(a TEXT PRIMARY KEY)"}}, "PRIMARY KEY"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE t(a INTEGER PRIMARY KEY)"}}, "PRIMARY KEY"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE t(a unique)"}}, "UNIQUE"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE t(a) WITHOUT ROWID"}}, "WITHOUT ROWID"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE VIEW t AS SELECT 1"}}, "CREATE TABLE"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE u(a)"}}, "another table"},
		{[]SQLiteTable{{Name: "t", Create: "CREATE TABLE tt(a)"}}, "another table"},
		{[]SQLiteTable{{Name: "", Create: ok}}, "empty"},
		{[]SQLiteTable{{Name: "sqlite_x", Create: "CREATE TABLE sqlite_x(a)"}}, "reserved"},
		{[]SQLiteTable{{Name: "t", Create: ok}, {Name: "T", Create: "CREATE TABLE T(a)"}}, "twice"},
		{[]SQLiteTable{{Name: "t", Create: ok, Rows: [][]any{{}}}}, "no columns"},
		{[]SQLiteTable{{Name: "t", Create: ok, Rows: [][]any{{uint32(1)}}}}, "unsupported type uint32"},
		{[]SQLiteTable{{Name: "t", Create: ok, Rows: [][]any{{math.NaN()}}}}, "NaN"},
		{[]SQLiteTable{{Name: "t", Create: ok, Rows: [][]any{{"\xff"}}}}, "UTF-8"},
	} {
		_, err := WriteSQLite(c.tables)
		if err == nil || !strings.HasPrefix(err.Error(), "live: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want %q", c.tables, err, c.want)
		}
	}
	if img, err := WriteSQLite(nil); err != nil || len(img) != sqlitePageSize {
		t.Errorf("no tables: %d bytes, %v", len(img), err)
	} else {
		pythonCheck(t, img, nil)
	}
}

func TestSQLiteVarint(t *testing.T) {
	for _, v := range []uint64{0, 1, 127, 128, 240, 2287, 16383, 16384, 1<<21 - 1, 1 << 21, 1<<56 - 1, 1 << 56, math.MaxUint64, 0x8000000000000000} {
		b := appendVarint(nil, v)
		got, n := readVarint(b)
		if got != v || n != len(b) || n != varintLen(v) || n > 9 {
			t.Errorf("%d: % x read as %d (%d bytes)", v, b, got, n)
		}
	}
	if b := appendVarint(nil, 128); !bytes.Equal(b, []byte{0x81, 0x00}) {
		t.Errorf("128: % x", b)
	}
}

// FuzzWriteSQLite writes tables made from the input and reads them back
// with readSQLite's checks.
func FuzzWriteSQLite(f *testing.F) {
	f.Add([]byte{3, 2, 1, 0, 'a', 5, 9})
	f.Add(bytes.Repeat([]byte{0x41, 0xff, 7, 3}, 300))
	f.Add([]byte{1, 200, 200, 200, 6, 6, 6, 6, 6, 6, 6, 6, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		next := func() byte {
			if len(data) == 0 {
				return 0
			}
			c := data[0]
			data = data[1:]
			return c
		}
		var tables []SQLiteTable
		for nt := int(next()%4) + 1; len(tables) < nt; {
			name := fmt.Sprintf("t%d", len(tables))
			cols := int(next()%5) + 1
			tb := SQLiteTable{Name: name, Create: fmt.Sprintf("CREATE TABLE %s(c%s)", name, strings.Repeat(", c", cols-1))}
			nrows := int(next()) * int(next()%8+1)
			for range nrows {
				var row []any
				for range cols {
					switch k := next(); k % 7 {
					case 0:
						row = append(row, nil)
					case 1:
						row = append(row, int64(int8(next()))<<(k%64))
					case 2:
						row = append(row, int(k)-100)
					case 3:
						row = append(row, math.Float64frombits(uint64(next())<<56|uint64(k)<<8))
					case 4:
						row = append(row, strings.Repeat(string(rune(next())), int(k)))
					case 5:
						row = append(row, bytes.Repeat([]byte{next()}, int(k)*int(next())))
					default:
						row = append(row, int64(binary.LittleEndian.Uint64(append([]byte{next(), next(), next()}, 0, 0, 0, 0, next()))))
					}
				}
				tb.Rows = append(tb.Rows, row)
			}
			tables = append(tables, tb)
		}
		img, err := WriteSQLite(tables)
		if err != nil {
			if strings.Contains(err.Error(), "NaN") {
				return
			}
			t.Fatal(err)
		}
		got, err := readSQLite(img)
		if err != nil {
			t.Fatal(err)
		}
		if !sameTables(got, normalized(tables)) {
			t.Fatal("read back differs")
		}
	})
}
