package router

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fakeFanout is a program's fan-out written as data: per core, per
// sender, its group and destination cores.
type fakeFanout struct {
	groups [][]int
	dsts   [][][]uint32
}

func (f *fakeFanout) Cores() int                           { return len(f.groups) }
func (f *fakeFanout) Senders(c int) int                    { return len(f.groups[c]) }
func (f *fakeFanout) Group(c, s int) int                   { return f.groups[c][s] }
func (f *fakeFanout) Dsts(c, s int, buf []uint32) []uint32 { return append(buf, f.dsts[c][s]...) }

// stripes is a small program: every core has two populations of three
// senders; population 0 sends to the cores of its row, population 1 to
// the cores of its column and the core across the grid.
func stripes(t *Topology) *fakeFanout {
	f := &fakeFanout{}
	for c := 0; c < t.Nodes(); c++ {
		x, y := t.Coord(c)
		var row, col []uint32
		for i := 0; i < t.NX; i++ {
			row = append(row, uint32(t.At(i, y)))
		}
		for j := 0; j < t.NY; j++ {
			col = append(col, uint32(t.At(x, j)))
		}
		col = append(col, uint32(t.At(t.NX-1-x, t.NY-1-y)))
		f.groups = append(f.groups, []int{0, 0, 0, 1, 1, 1})
		f.dsts = append(f.dsts, [][]uint32{row, row[:1], row, col, col, col[:2]})
	}
	return f
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./router -run %s -update)", err, t.Name())
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./router -run %s -update rewrites it; review the diff):\n%s", path, t.Name(), got)
	}
}

// TestTablesGolden writes the keys, minimised tables and trees of small
// meshes and a torus as text and compares them with testdata/.
func TestTablesGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		w, h   int
		chips  int
		gx, gy int
		torus  bool
	}{{"mesh3x3", 3, 3, 1, 0, 0, false}, {"mesh4x2", 4, 2, 1, 0, 0, false}, {"torus4x4", 4, 4, 1, 0, 0, true}, {"chips2x1of2x2", 2, 2, 2, 2, 1, false}} {
		t.Run(tc.name, func(t *testing.T) {
			topo, err := NewTopology(tc.w, tc.h, tc.chips, tc.gx, tc.gy, tc.torus)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := GenerateTables(topo, stripes(topo), 64)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "# %s: %d × %d routers; keys group << %d | index; %d groups, %d entries before minimisation, %d after\n",
				tc.name, topo.NX, topo.NY, rt.idxBits, rt.Groups, rt.Unminimised, entries(rt.Tables))
			b.WriteString("\n## keys (core: sender keys)\n")
			for c := range rt.keys {
				fmt.Fprintf(&b, "core %d:", c)
				for _, k := range rt.keys[c] {
					fmt.Fprintf(&b, " %#x", k)
				}
				b.WriteByte('\n')
			}
			b.WriteString("\n## tables\n")
			b.WriteString(FormatTables(topo, rt.Tables))
			b.WriteString("\n## trees\n")
			b.WriteString(rt.FormatTrees(topo))
			golden(t, "tables_"+tc.name+".txt", b.String())
			// the text format reads back to the same tables
			back, err := ParseTables(topo, FormatTables(topo, rt.Tables))
			if err != nil {
				t.Fatal(err)
			}
			for n := range back {
				if fmt.Sprint(back[n]) != fmt.Sprint(rt.Tables[n]) {
					t.Fatalf("%s: table read back as %v, was %v", topo.Name(n), back[n], rt.Tables[n])
				}
			}
		})
	}
}

func entries(tabs [][]Entry) int {
	n := 0
	for _, t := range tabs {
		n += len(t)
	}
	return n
}

// TestMinimisationKeepsRoutes: on a larger program the minimised tables
// send every key exactly where the unminimised routes do, with fewer
// entries.
func TestMinimisationKeepsRoutes(t *testing.T) {
	topo, err := NewTopology(8, 8, 1, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	fo := stripes(topo)
	rt, err := GenerateTables(topo, fo, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if e := entries(rt.Tables); e >= rt.Unminimised {
		t.Errorf("%d entries after minimisation, %d before: want fewer", e, rt.Unminimised)
	}
	// GenerateTables walks every key through the final tables and checks
	// its destinations; check the tree shapes against dimension order too
	for g, tr := range rt.trees {
		for _, tn := range tr.nodes[1:] {
			if tr.nodes[tn.parent].route&(1<<(int(tn.link)%4+1)) == 0 {
				t.Fatalf("group %d: tree edge without a route bit", g)
			}
		}
	}
}

// TestBadTables: tables that cannot work are refused, naming the router or
// link and the limit.
func TestBadTables(t *testing.T) {
	topo, err := NewTopology(3, 3, 1, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, tables string
		capacity     int
		inj          []Injection
		want         string
	}{
		{"loop", "router 0 0\n 0x10/0xfffffff0 -> E\nrouter 1 0\n 0x10/0xfffffff0 -> N\nrouter 1 1\n 0x10/0xfffffff0 -> W\nrouter 0 1\n 0x10/0xfffffff0 -> S\n",
			8, []Injection{{Core: 0, Key: 0x11}}, "router (0,0) [chip 0 core 0]: key 0x00000011 from router (0,0) [chip 0 core 0] reaches it twice: the tables loop"},
		{"over capacity", "router 1 1\n 0x0/0xffffffff -> core\n 0x1/0xffffffff -> core\n 0x2/0xffffffff -> core\n",
			2, nil, "router (1,1) [chip 0 core 4]: needs 3 table entries, has 2 (noc.table_entries)"},
		{"off the edge", "router 2 0\n 0x5/0xffffffff -> E\n", 8, []Injection{{Core: 2, Key: 5}},
			"link router (2,0) [chip 0 core 2] E: key 0x00000005 is routed out of the system"},
		{"default off the edge", "router 0 0\n 0x5/0xffffffff -> E\n", 8, []Injection{{Core: 0, Key: 5}},
			"link router (2,0) [chip 0 core 2] E: key 0x00000005 is routed out of the system"},
		{"unmatched at the source", "router 0 0\n 0x5/0xffffffff -> core\n", 8, []Injection{{Core: 0, Key: 6}},
			"router (0,0) [chip 0 core 0]: key 0x00000006 injected here matches no entry"},
		{"destination outside", "router 0 0\n 0x5/0xffffffff -> core\n", 8, []Injection{{Core: 0, Key: 5, Dsts: []int{9}}},
			"core 9: destination of key 0x00000005 outside the system's 9 cores"},
		{"destination missed", "router 0 0\n 0x5/0xffffffff -> core\n", 8, []Injection{{Core: 0, Key: 5, Dsts: []int{4}}},
			"key 0x00000005 does not reach core 4"},
		{"injecting core outside", "", 8, []Injection{{Core: 12, Key: 5}}, "core 12: outside the system's 9 cores"},
		{"route to nowhere", "router 0 0\n 0x5/0xffffffff -> -\n", 8, []Injection{{Core: 0, Key: 5}}, "an entry routes it nowhere"},
	} {
		tabs, err := ParseTables(topo, tc.tables)
		if err == nil {
			err = CheckTables(topo, tabs, tc.capacity, tc.inj)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "router: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{"0x1/0x1 -> E", "entry before any"},
		{"router 3 0\n", "outside the 3 × 3 grid"},
		{"router 0 0\n 0x3/0x1 -> E", "bits outside mask"},
		{"router 0 0\n 0x1/0x1 -> X", "unknown port \"X\""},
		{"router 0 0\n 0x1 -> E", "want KEY/MASK"},
	} {
		if _, err := ParseTables(topo, tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
	// generated tables over capacity name the router and the count
	_, err = GenerateTables(topo, stripes(topo), 2)
	if err == nil || !strings.Contains(err.Error(), "table entries, has 2 (noc.table_entries)") || !strings.Contains(err.Error(), "router (") {
		t.Errorf("over-capacity generated tables: %v", err)
	}
	// a topology that does not fit its chip grid
	if _, err := NewTopology(2, 2, 3, 2, 2, false); err == nil || !strings.Contains(err.Error(), "does not hold 3 chips") {
		t.Errorf("grid: %v", err)
	}
	// zero widths and depths
	cfg := testConfig("detailed")
	cfg.FlitBits, cfg.BufferFlits = 0, 0
	errs := cfg.Validate(1)
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "noc.flit_bits = 0") || !strings.Contains(errs[1].Error(), "noc.buffer_flits = 0") {
		t.Errorf("zero widths: %v", errs)
	}
	cfg = testConfig("analytic")
	cfg.ChipLink.WidthBits = 0
	if errs := cfg.Validate(4); len(errs) == 0 || !strings.Contains(errs[0].Error(), "noc.chip_link.width_bits = 0") {
		t.Errorf("zero chip link: %v", errs)
	}
}

// FuzzTables feeds random descriptions and tables to the loader: nothing
// panics, every error is prefixed by the package, and what loads routes
// every injected key without looping.
func FuzzTables(f *testing.F) {
	for _, s := range []string{
		"router 0 0\n 0x10/0xfffffff0 -> E\nrouter 1 0\n 0x10/0xfffffff0 -> N core\n",
		"router 1 1\n 0x0/0x0 -> E W N S core\n",
		"router 0 0\n 0x5/0xffffffff -> -\n",
	} {
		f.Add(uint8(3), uint8(3), uint8(1), false, uint16(8), s, uint32(0x11), uint8(0), uint8(0))
	}
	f.Add(uint8(2), uint8(1), uint8(1), false, uint16(8), "router 0 0\n 0x1/0xffffffff -> E core3\n", uint32(1), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, w, h, chips uint8, torus bool, capacity uint16, tables string, key uint32, core, k uint8) {
		W, H, C := int(w%6)+1, int(h%6)+1, int(chips%4)+1
		cfg := testConfig("detailed")
		cfg.CoresPerRouter = int(k%6) + 1 // W × H routers of bx × by cores
		bx, by := cfg.Block()
		topo, err := NewConcentrated(W*bx, H*by, bx, by, C, 0, 0, torus)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "router: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		tabs, err := ParseTables(topo, tables)
		if err == nil {
			err = CheckTables(topo, tabs, int(capacity), []Injection{{Core: int(core), Key: key}})
		}
		if err != nil && !strings.HasPrefix(err.Error(), "router: ") {
			t.Fatalf("error without prefix: %v", err)
		}
		cfg.BufferFlits = int(capacity%9) + 1
		if torus {
			cfg.Topology, cfg.VirtualChannels = "torus", 2
		}
		if errs := cfg.ValidateSystem(System{Chips: C, W: topo.CW, H: topo.CH}); len(errs) > 0 {
			return
		}
		// what validates runs: a packet between two cores arrives
		n := newNet(cfg, topo)
		n.b.reset()
		n.b.addOne(int32(int(core)%topo.Cores()), int32(int(key)%topo.Cores()), 0)
		n.model.run(&n.b, &n.c)
		if n.b.arrive[0] < 0 {
			t.Fatalf("a lone packet did not arrive")
		}
	})
}

// TestRoutesGolden writes the dimension-order route of every pair of small
// grids (a mesh, a torus, two chips) as text and compares it with
// testdata/; the hop counts are checked against the coordinates.
func TestRoutesGolden(t *testing.T) {
	for _, tc := range []struct {
		name        string
		w, h, chips int
		torus       bool
	}{{"mesh3x3", 3, 3, 1, false}, {"torus4x3", 4, 3, 1, true}, {"chips2x1of2x2", 2, 2, 2, false}} {
		topo, err := NewTopology(tc.w, tc.h, tc.chips, 0, 0, tc.torus)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "# %s: dimension-order routes (X then Y%s); * marks a chip-to-chip link\n", tc.name, map[bool]string{true: ", the short way round", false: ""}[tc.torus])
		for s := 0; s < topo.Nodes(); s++ {
			for d := 0; d < topo.Nodes(); d++ {
				sx, sy := topo.Coord(s)
				dx, dy := topo.Coord(d)
				fmt.Fprintf(&b, "(%d,%d) -> (%d,%d):", sx, sy, dx, dy)
				hops := 0
				for cur := s; cur != d; hops++ {
					p := topo.xyPort(cur, d)
					mark := ""
					if topo.Class(cur, p) == LinkChip {
						mark = "*"
					}
					fmt.Fprintf(&b, " %s%s", portNames[p], mark)
					cur = topo.Neighbor(cur, p)
				}
				if hops == 0 {
					b.WriteString(" core")
				}
				b.WriteByte('\n')
				if want := ring(dx-sx, topo.NX, tc.torus) + ring(dy-sy, topo.NY, tc.torus); hops != want || topo.Hops(s, d) != want {
					t.Errorf("%s: (%d,%d) → (%d,%d) takes %d hops, want %d", tc.name, sx, sy, dx, dy, hops, want)
				}
			}
		}
		golden(t, "routes_"+tc.name+".txt", b.String())
	}
}

// TestTablesConcentratedGolden: tables on routers shared by 2 × 2 cores
// route to each destination core's own port (core, core1, core2, core3),
// read back from their text, and carry a burst of every key in both
// models.
func TestTablesConcentratedGolden(t *testing.T) {
	topo, err := NewConcentrated(4, 4, 2, 2, 1, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	// core c (x, y on the 4 × 4 core mesh): population 0 sends to the cores
	// of its row, population 1 to the core across the mesh and itself
	f := &fakeFanout{}
	for c := 0; c < topo.Cores(); c++ {
		x, y := c%4, c/4
		var row []uint32
		for i := 0; i < 4; i++ {
			row = append(row, uint32(y*4+i))
		}
		across := uint32((3-y)*4 + 3 - x)
		f.groups = append(f.groups, []int{0, 0, 1})
		f.dsts = append(f.dsts, [][]uint32{row, row[:1], {across, uint32(c)}})
	}
	rt, err := GenerateTables(topo, f, 64)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# 4 × 4 cores, 2 × 2 per router: %d × %d routers; %d groups, %d entries before minimisation, %d after\n",
		topo.NX, topo.NY, rt.Groups, rt.Unminimised, entries(rt.Tables))
	b.WriteString("\n## tables\n")
	b.WriteString(FormatTables(topo, rt.Tables))
	b.WriteString("\n## trees\n")
	b.WriteString(rt.FormatTrees(topo))
	golden(t, "tables_concentrated4x4by2x2.txt", b.String())
	back, err := ParseTables(topo, FormatTables(topo, rt.Tables))
	if err != nil {
		t.Fatal(err)
	}
	for n := range back {
		if fmt.Sprint(back[n]) != fmt.Sprint(rt.Tables[n]) {
			t.Fatalf("%s: table read back as %v, was %v", topo.Name(n), back[n], rt.Tables[n])
		}
	}
	if _, err := ParseTables(topo, "router 0 0\n 0x1/0x1 -> core4"); err == nil || !strings.Contains(err.Error(), `unknown port "core4" (want E, W, N, S, core, core1…core3)`) {
		t.Errorf("core4 on a router of 4 cores: %v", err)
	}
	for _, model := range []string{"detailed", "analytic"} {
		cfg := testConfig(model)
		cfg.Routing, cfg.TableEntries, cfg.CoresPerRouter = "table", 64, 4
		n := newNet(cfg, topo)
		n.rt = rt
		n.b.reset()
		n.b.burst = true
		for c := range rt.keys {
			for _, k := range rt.keys[c] {
				if k&(1<<rt.idxBits-1) == 0 { // one packet per group
					g := rt.treeOf(k)
					n.b.add(int32(c), int32(g), 0, rt.trees[g].dests...)
				}
			}
		}
		n.model.run(&n.b, &n.c)
		for i, a := range n.b.arrive {
			if a < 0 {
				t.Fatalf("%s: copy %d (core %d) did not arrive", model, i, n.b.dests[i])
			}
		}
	}
}

// TestSendersWithoutTargets: a population whose neurons send nowhere (an
// output layer, a relay's last stage) needs no entries and is not an error.
func TestSendersWithoutTargets(t *testing.T) {
	topo, err := NewTopology(2, 2, 1, 0, 0, false)
	if err != nil {
		t.Fatal(err)
	}
	fo := &fakeFanout{
		groups: [][]int{{0, 1}, {0}, {}, {}},
		dsts:   [][][]uint32{{{3}, nil}, {nil}, {}, {}},
	}
	rt, err := GenerateTables(topo, fo, 8)
	if err != nil {
		t.Fatalf("GenerateTables: %v", err)
	}
	if rt.Groups != 3 {
		t.Errorf("%d key groups, want 3", rt.Groups)
	}
	only, err := GenerateTables(topo, &fakeFanout{groups: [][]int{{0}, {}, {}, {}}, dsts: [][][]uint32{{{3}}, {}, {}, {}}}, 8)
	if err != nil {
		t.Fatal(err)
	}
	if e, want := entries(rt.Tables), entries(only.Tables); e != want {
		t.Errorf("%d entries, want %d (those of the one group with a destination)", e, want)
	}
	for g, tr := range rt.trees {
		if g != 0 && len(tr.dests) != 0 {
			t.Errorf("group %d without targets has destinations %v", g, tr.dests)
		}
	}
}
