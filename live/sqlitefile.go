package live

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// SQLiteTable is one table of a database written by WriteSQLite.
type SQLiteTable struct {
	// Name is the table's name, as in Create.
	Name string
	// Create is the CREATE TABLE statement, stored as the table's sql in
	// sqlite_master. It may not declare a PRIMARY KEY, UNIQUE or WITHOUT
	// ROWID: those need index b-trees, which WriteSQLite does not write.
	Create string
	// Rows are the table's rows, with rowids 1…len(Rows). A value is nil
	// (NULL), int or int64 (INTEGER), float64 (REAL, not NaN), string
	// (TEXT, valid UTF-8) or []byte (BLOB).
	Rows [][]any
}

// The file's constants: SQLite's default page size, no reserved bytes.
const (
	sqlitePageSize = 4096
	// sqliteMaxLocal and sqliteMinLocal are X and M of a table b-tree
	// leaf (fileformat.html, "Cell Payload Overflow Pages").
	sqliteMaxLocal = sqlitePageSize - 35
	sqliteMinLocal = (sqlitePageSize-12)*32/255 - 23
	// sqliteMaxPayload is SQLITE_MAX_LENGTH's default: SQLite refuses
	// to read a longer string or blob.
	sqliteMaxPayload = 1_000_000_000
	// sqliteVersionNumber is written at offset 96: the SQLite version
	// whose file format this follows.
	sqliteVersionNumber = 3_045_000
	sqliteLeafTable     = 0x0D
	sqliteInteriorTable = 0x05
)

// WriteSQLite returns the image of an SQLite 3 database file holding the
// tables and their rows: the 100-byte header (page size 4096, UTF-8,
// schema format 4, change counter and schema cookie 1), sqlite_master as
// the table b-tree rooted at page 1, then one table b-tree per table, in
// order (leaf pages, and interior pages for as many levels as the rows
// need). A payload longer than a page keeps its first part in the cell
// and the rest in a chain of overflow pages. There are no free pages,
// freeblocks or fragments; the same tables give the same bytes.
//
// It writes no indexes, so a table may not declare a PRIMARY KEY (an
// INTEGER PRIMARY KEY would moreover make a column the rowid) or UNIQUE
// constraint, nor be WITHOUT ROWID; nor views or triggers.
func WriteSQLite(tables []SQLiteTable) ([]byte, error) {
	w := &sqliteWriter{}
	w.alloc() // page 1: the header and sqlite_master's root
	names := map[string]bool{}
	var master [][]byte
	for i, t := range tables {
		create, err := checkSQLiteTable(t)
		if err != nil {
			return nil, err
		}
		if names[strings.ToLower(t.Name)] {
			return nil, fmt.Errorf("live: sqlite: table %q twice", t.Name)
		}
		names[strings.ToLower(t.Name)] = true
		cells := make([][]byte, len(t.Rows))
		for r, row := range t.Rows {
			if len(row) == 0 {
				return nil, fmt.Errorf("live: sqlite table %q row %d: no columns", t.Name, r+1)
			}
			rec, err := sqliteRecord(row)
			if err != nil {
				return nil, fmt.Errorf("live: sqlite table %q row %d: %w", t.Name, r+1, err)
			}
			if cells[r], err = w.leafCell(int64(r+1), rec); err != nil {
				return nil, fmt.Errorf("live: sqlite table %q row %d: %w", t.Name, r+1, err)
			}
		}
		root := w.tree(cells, 0)
		rec, err := sqliteRecord([]any{"table", t.Name, t.Name, int64(root), create})
		if err != nil {
			return nil, fmt.Errorf("live: sqlite table %q: %w", t.Name, err)
		}
		c, err := w.leafCell(int64(i+1), rec)
		if err != nil {
			return nil, fmt.Errorf("live: sqlite table %q: %w", t.Name, err)
		}
		master = append(master, c)
	}
	w.tree(master, 1)
	if len(w.pages) > math.MaxInt32 {
		return nil, fmt.Errorf("live: sqlite: %d pages is too many", len(w.pages))
	}

	h := w.pages[0][:100]
	copy(h, "SQLite format 3\x00")
	binary.BigEndian.PutUint16(h[16:], sqlitePageSize)
	h[18], h[19] = 1, 1                   // file format write/read version: legacy (no WAL)
	h[20] = 0                             // reserved bytes per page
	h[21], h[22], h[23] = 64, 32, 32      // payload fractions
	binary.BigEndian.PutUint32(h[24:], 1) // file change counter
	binary.BigEndian.PutUint32(h[28:], uint32(len(w.pages)))
	// 32, 36: no freelist
	binary.BigEndian.PutUint32(h[40:], 1) // schema cookie
	binary.BigEndian.PutUint32(h[44:], 4) // schema format
	// 48: default cache size 0; 52: no auto-vacuum
	binary.BigEndian.PutUint32(h[56:], 1) // text encoding UTF-8
	// 60 user version, 64 incremental vacuum, 68 application id, 72…91 reserved: 0
	binary.BigEndian.PutUint32(h[92:], 1) // version-valid-for = change counter
	binary.BigEndian.PutUint32(h[96:], sqliteVersionNumber)

	out := make([]byte, 0, len(w.pages)*sqlitePageSize)
	for _, p := range w.pages {
		out = append(out, p...)
	}
	return out, nil
}

// checkSQLiteTable checks what WriteSQLite can write and returns the
// CREATE statement as stored (without a trailing semicolon).
func checkSQLiteTable(t SQLiteTable) (string, error) {
	if t.Name == "" || !utf8.ValidString(t.Name) || strings.ContainsRune(t.Name, 0) {
		return "", fmt.Errorf("live: sqlite: table name %q is empty or not UTF-8", t.Name)
	}
	if strings.HasPrefix(strings.ToLower(t.Name), "sqlite_") {
		return "", fmt.Errorf("live: sqlite: table name %q is reserved", t.Name)
	}
	create := strings.TrimRight(strings.TrimSpace(t.Create), "; \t\r\n")
	if !utf8.ValidString(create) || strings.ContainsRune(create, 0) {
		return "", fmt.Errorf("live: sqlite table %q: CREATE statement not UTF-8", t.Name)
	}
	up := strings.ToUpper(create)
	const prefix = "CREATE TABLE "
	if !strings.HasPrefix(up, prefix) {
		return "", fmt.Errorf("live: sqlite table %q: want a CREATE TABLE statement, have %q", t.Name, t.Create)
	}
	rest := strings.TrimSpace(create[len(prefix):])
	named := false
	for _, q := range [][2]string{{"", ""}, {`"`, `"`}, {"`", "`"}, {"[", "]"}} {
		id := q[0] + t.Name + q[1]
		if len(rest) > len(id) && strings.EqualFold(rest[:len(id)], id) {
			next := rest[len(id)]
			named = q[0] != "" || next == '(' || next == ' ' || next == '\t' || next == '\n' || next == '\r'
			if named {
				break
			}
		}
	}
	if !named {
		return "", fmt.Errorf("live: sqlite table %q: the CREATE statement names another table: %q", t.Name, t.Create)
	}
	for _, kw := range []string{"PRIMARY KEY", "UNIQUE", "WITHOUT ROWID"} {
		if strings.Contains(up, kw) {
			return "", fmt.Errorf("live: sqlite table %q: %s needs an index, which WriteSQLite does not write", t.Name, kw)
		}
	}
	return create, nil
}

// sqliteRecord encodes values in the record format: a header (its size
// as a varint, then a serial type per value) and the values' bodies.
func sqliteRecord(row []any) ([]byte, error) {
	types := make([]uint64, len(row))
	var body []byte
	for i, v := range row {
		switch x := v.(type) {
		case nil:
			types[i] = 0
		case int:
			types[i], body = sqliteInt(body, int64(x))
		case int64:
			types[i], body = sqliteInt(body, x)
		case float64:
			if math.IsNaN(x) {
				return nil, fmt.Errorf("column %d: NaN (SQLite reads it as NULL)", i+1)
			}
			types[i] = 7
			body = binary.BigEndian.AppendUint64(body, math.Float64bits(x))
		case string:
			if !utf8.ValidString(x) {
				return nil, fmt.Errorf("column %d: text is not UTF-8", i+1)
			}
			types[i] = 13 + 2*uint64(len(x))
			body = append(body, x...)
		case []byte:
			types[i] = 12 + 2*uint64(len(x))
			body = append(body, x...)
		default:
			return nil, fmt.Errorf("column %d: unsupported type %T", i+1, v)
		}
		if len(body) > sqliteMaxPayload {
			return nil, fmt.Errorf("record longer than %d bytes", sqliteMaxPayload)
		}
	}
	hl := 0
	for _, t := range types {
		hl += varintLen(t)
	}
	n := hl + 1
	for varintLen(uint64(n))+hl != n {
		n = varintLen(uint64(n)) + hl
	}
	rec := make([]byte, 0, n+len(body))
	rec = appendVarint(rec, uint64(n))
	for _, t := range types {
		rec = appendVarint(rec, t)
	}
	rec = append(rec, body...)
	if len(rec) > sqliteMaxPayload {
		return nil, fmt.Errorf("record longer than %d bytes", sqliteMaxPayload)
	}
	return rec, nil
}

// sqliteInt appends the shortest body of integer v and returns its serial
// type: 8 and 9 for 0 and 1, else 1–6 for 1, 2, 3, 4, 6 or 8 bytes.
func sqliteInt(body []byte, v int64) (uint64, []byte) {
	switch {
	case v == 0:
		return 8, body
	case v == 1:
		return 9, body
	}
	for _, s := range []struct {
		typ   uint64
		bytes int
	}{{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 6}} {
		lim := int64(1) << (8*s.bytes - 1)
		if v >= -lim && v < lim {
			for k := s.bytes - 1; k >= 0; k-- {
				body = append(body, byte(v>>(8*k)))
			}
			return s.typ, body
		}
	}
	return 6, binary.BigEndian.AppendUint64(body, uint64(v))
}

// appendVarint appends SQLite's big-endian varint: 7 bits a byte, high
// bit set on all but the last, and a 9th byte of 8 bits.
func appendVarint(b []byte, v uint64) []byte {
	if v >= 1<<56 {
		var buf [9]byte
		buf[8] = byte(v)
		v >>= 8
		for i := 7; i >= 0; i-- {
			buf[i] = byte(v&0x7f) | 0x80
			v >>= 7
		}
		return append(b, buf[:]...)
	}
	n := varintLen(v)
	for i := n - 1; i >= 0; i-- {
		c := byte(v>>(7*i)) & 0x7f
		if i > 0 {
			c |= 0x80
		}
		b = append(b, c)
	}
	return b
}

func varintLen(v uint64) int {
	if v >= 1<<56 {
		return 9
	}
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// sqliteWriter holds the pages written so far; pages[i] is page i+1.
type sqliteWriter struct {
	pages [][]byte
}

func (w *sqliteWriter) alloc() uint32 {
	w.pages = append(w.pages, make([]byte, sqlitePageSize))
	return uint32(len(w.pages))
}

// leafCell is a table b-tree leaf cell: payload size, rowid, the payload's
// local part and, when it overflows, the first overflow page, whose
// chain it writes.
func (w *sqliteWriter) leafCell(rowid int64, payload []byte) ([]byte, error) {
	p := len(payload)
	if p > sqliteMaxPayload {
		return nil, fmt.Errorf("payload longer than %d bytes", sqliteMaxPayload)
	}
	local := p
	if p > sqliteMaxLocal {
		local = sqliteMinLocal + (p-sqliteMinLocal)%(sqlitePageSize-4)
		if local > sqliteMaxLocal {
			local = sqliteMinLocal
		}
	}
	c := appendVarint(nil, uint64(p))
	c = appendVarint(c, uint64(rowid))
	c = append(c, payload[:local]...)
	if local < p {
		first := w.alloc()
		c = binary.BigEndian.AppendUint32(c, first)
		pg, rest := first, payload[local:]
		for {
			n := min(len(rest), sqlitePageSize-4)
			copy(w.pages[pg-1][4:], rest[:n])
			rest = rest[n:]
			if len(rest) == 0 {
				break
			}
			next := w.alloc()
			binary.BigEndian.PutUint32(w.pages[pg-1], next)
			pg = next
		}
	}
	for len(c) < 4 { // SQLite counts a cell as at least 4 bytes
		c = append(c, 0)
	}
	return c, nil
}

// treeNode is a written page of a b-tree and the largest rowid under it.
type treeNode struct {
	page   uint32
	maxKey uint64
}

// cellKey reads the rowid of a leaf cell.
func cellKey(c []byte) uint64 {
	_, n := readVarint(c)
	k, _ := readVarint(c[n:])
	return k
}

// readVarint decodes a varint; it returns 0, 0 when b is too short.
func readVarint(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 9 && i < len(b); i++ {
		if i == 8 {
			return v<<8 | uint64(b[i]), 9
		}
		v = v<<7 | uint64(b[i]&0x7f)
		if b[i] < 0x80 {
			return v, i + 1
		}
	}
	return 0, 0
}

// pageSpace is the room for cells and their pointers on page pg of the
// given kind.
func pageSpace(pg uint32, interior bool) int {
	n := sqlitePageSize - 8
	if interior {
		n -= 4
	}
	if pg == 1 {
		n -= 100
	}
	return n
}

// tree writes a table b-tree of the leaf cells (rowids ascending) and
// returns its root page: root if nonzero (page 1, already allocated),
// else a new page.
func (w *sqliteWriter) tree(cells [][]byte, root uint32) uint32 {
	rootSpace := pageSpace(root, false)
	if root == 0 {
		rootSpace = pageSpace(2, false)
	}
	if cost(cells) <= rootSpace {
		if root == 0 {
			root = w.alloc()
		}
		w.writePage(root, sqliteLeafTable, cells, 0)
		return root
	}
	// leaves
	var nodes []treeNode
	for _, g := range split(cells, pageSpace(2, false), false) {
		pg := w.alloc()
		w.writePage(pg, sqliteLeafTable, g, 0)
		nodes = append(nodes, treeNode{pg, cellKey(g[len(g)-1])})
	}
	// interior levels: a page of k children has k−1 cells (child page,
	// largest rowid under it) and the k-th child as its right-most pointer
	for {
		icells := make([][]byte, len(nodes))
		for i, n := range nodes {
			icells[i] = appendVarint(binary.BigEndian.AppendUint32(nil, n.page), n.maxKey)
		}
		rootSpace := pageSpace(root, true)
		if root == 0 {
			rootSpace = pageSpace(2, true)
		}
		if cost(icells[:len(icells)-1]) <= rootSpace {
			if root == 0 {
				root = w.alloc()
			}
			w.writePage(root, sqliteInteriorTable, icells[:len(icells)-1], nodes[len(nodes)-1].page)
			return root
		}
		var up []treeNode
		groups := split(icells, pageSpace(2, true), true)
		at := 0
		for _, g := range groups {
			pg := w.alloc()
			last := nodes[at+len(g)-1]
			w.writePage(pg, sqliteInteriorTable, g[:len(g)-1], last.page)
			up = append(up, treeNode{pg, last.maxKey})
			at += len(g)
		}
		nodes = up
	}
}

// cost is the room cells take on a page, with their pointers.
func cost(cells [][]byte) int {
	n := 0
	for _, c := range cells {
		n += len(c) + 2
	}
	return n
}

// split cuts items into consecutive groups that fit space each,
// greedily, an item taking len+2 bytes (a cell and its pointer). With
// lastFree the last item of a group takes nothing (it becomes the
// right-most pointer of an interior page), and no group is left with a
// single item, so that every interior page has a cell. More than one item
// always gives at least two groups.
func split(items [][]byte, space int, lastFree bool) [][][]byte {
	var groups [][][]byte
	start, used := 0, 0
	for i := range items {
		s := len(items[i]) + 2
		if lastFree {
			s = 0
			if i > start {
				s = len(items[i-1]) + 2
			}
		}
		if i > start && used+s > space {
			groups = append(groups, items[start:i])
			start, used, s = i, 0, len(items[i])+2
			if lastFree {
				s = 0
			}
		}
		used += s
	}
	groups = append(groups, items[start:])
	if len(groups) == 1 && len(items) > 1 {
		h := len(items) / 2
		groups = [][][]byte{items[:h], items[h:]}
	}
	if n := len(groups); lastFree && len(groups[n-1]) == 1 && len(groups[n-2]) > 2 {
		prev := groups[n-2]
		groups[n-2] = prev[:len(prev)-1]
		groups[n-1] = items[len(items)-2:]
	}
	return groups
}

// writePage lays out a b-tree page: the header (at 100 on page 1), the
// cell pointers in key order, and the cells packed at the end of the
// page, the first cell last.
func (w *sqliteWriter) writePage(pg uint32, kind byte, cells [][]byte, right uint32) {
	p := w.pages[pg-1]
	h := 0
	if pg == 1 {
		h = 100
	}
	p[h] = kind
	binary.BigEndian.PutUint16(p[h+3:], uint16(len(cells)))
	ptr := h + 8
	if kind == sqliteInteriorTable {
		binary.BigEndian.PutUint32(p[h+8:], right)
		ptr = h + 12
	}
	end := sqlitePageSize
	for i, c := range cells {
		end -= len(c)
		copy(p[end:], c)
		binary.BigEndian.PutUint16(p[ptr+2*i:], uint16(end))
	}
	binary.BigEndian.PutUint16(p[h+5:], uint16(end))
}
