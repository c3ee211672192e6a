package router

import (
	"bufio"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"
)

// Route is where a table entry sends a packet: bit 0 the router's local
// core (its first core when several share the router), bits 1–4 the links
// E, W, N and S, bits 5… the router's other cores (core1, core2, …). A
// packet sent on several ports is replicated in the router.
type Route uint32

// localRoutes are the bits of a Route for local ports.
const localRoutes Route = ^Route(0) &^ (1<<East | 1<<West | 1<<North | 1<<South)

// Has reports whether the route includes port p.
func (r Route) Has(p int) bool { return r&(1<<p) != 0 }

func (r Route) String() string {
	var parts []string
	for p := East; p <= South; p++ {
		if r.Has(p) {
			parts = append(parts, portNames[p])
		}
	}
	if r.Has(Local) {
		parts = append(parts, "core")
	}
	for p := numPorts; p < 32; p++ {
		if r.Has(p) {
			parts = append(parts, fmt.Sprintf("core%d", localOf(p)))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, " ")
}

// Entry is one key/mask entry of a multicast table: a packet whose key k
// has k & Mask == Key takes Route. Entries are ordered: the first match
// wins; a packet that matches nothing arriving on a link goes straight
// through (the default route), one injected by the local core is an
// error.
type Entry struct {
	Key, Mask uint32
	Route     Route
}

func lookup(tab []Entry, key uint32) (Route, bool) {
	for _, e := range tab {
		if key&e.Mask == e.Key {
			return e.Route, true
		}
	}
	return 0, false
}

// Routes are the multicast tables of a network, the source keys they were
// made for, and the trees a packet of each key follows (derived from the
// tables by walking them, so a run uses exactly what the tables say).
type Routes struct {
	Tables  [][]Entry // per router, in match order
	keys    [][]uint32
	idxBits uint
	trees   []tree // per key block (group), in key order
	// Groups is the number of key blocks; Unminimised the table entries
	// before minimisation (Σ over routers).
	Groups      int
	Unminimised int
}

// tree is the path of one key's packets: every router it visits, in
// breadth-first order from the source.
type tree struct {
	src   int32
	key   uint32
	nodes []treeNode
	dests []int32 // routers whose core receives the packet, sorted
	// destNode[i] is the index in nodes of dests[i]
	destNode []int32
	// the routers of nodes, sorted, and their routes
	sorted      []int32
	sortedRoute []Route
}

type treeNode struct {
	node   int32
	in     int8  // input port (Local at the source)
	route  Route // output ports
	parent int32 // index in nodes, −1 at the source
	link   int32 // link id from the parent, −1 at the source
}

// treeOf is the tree of a packet with a generated key (its group).
func (rt *Routes) treeOf(key uint32) int {
	return int(key >> rt.idxBits)
}

// Keys returns the source key of every sender of core c.
func (rt *Routes) Keys(c int) []uint32 { return rt.keys[c] }

// TableError is a routing table that cannot work: it names the router (or
// link), what is wrong, and the limit.
type TableError struct {
	Router string
	Reason string
}

func (e *TableError) Error() string { return "router: " + e.Router + ": " + e.Reason }

// GenerateTables allocates source keys and builds the minimised multicast
// tables of a program on a topology:
//
//  1. keys: senders are grouped per core and Fanout group (a population
//     piece); the groups of the whole system are numbered in core order and
//     a sender's key is group << b | its index in the group, b the bits of
//     the largest group (the layout of sPyNNaker's keys: vertex | neuron);
//  2. trees: each group's packets are sent to the union of its members'
//     destination cores along dimension-order paths (X then Y), replicated
//     where the paths part;
//  3. entries: every router of a tree gets key/mask → route, except where
//     the packet goes straight through (the default route does that);
//  4. minimisation, ordered-covering style (Mundy et al., 2016): runs of
//     groups with the same route at a router merge into one entry of a
//     wider mask when the wider entry catches no other key that reaches the
//     router with a different route;
//  5. the tables are walked from every source: a loop, a route off the
//     edge of the system, a key the injecting router does not match, or a
//     destination the tables miss is an error, as is a router that needs
//     more than capacity entries.
func GenerateTables(topo *Topology, fo Fanout, capacity int) (*Routes, error) {
	rt := &Routes{keys: make([][]uint32, fo.Cores())}
	type grp struct {
		core  int
		dsts  []int32
		count int
	}
	var groups []grp
	largest := 1
	var buf []uint32
	local := map[int]int{}
	// first pass: group sizes
	for c := 0; c < fo.Cores(); c++ {
		if c >= topo.Cores() {
			return nil, &TableError{fmt.Sprintf("core %d", c), fmt.Sprintf("outside the system's %d cores", topo.Cores())}
		}
		clear(local)
		n := fo.Senders(c)
		rt.keys[c] = make([]uint32, n)
		for s := 0; s < n; s++ {
			g := fo.Group(c, s)
			k, ok := local[g]
			if !ok {
				k = len(groups)
				local[g] = k
				groups = append(groups, grp{core: c})
			}
			rt.keys[c][s] = uint32(groups[k].count) // index for now
			groups[k].count++
			largest = max(largest, groups[k].count)
			buf = fo.Dsts(c, s, buf[:0])
			for _, d := range buf {
				if int(d) >= topo.Cores() {
					return nil, &TableError{topo.Name(int(topo.coreRouter[c])), fmt.Sprintf("sender %d of core %d sends to core %d, outside the system's %d cores", s, c, d, topo.Cores())}
				}
				groups[k].dsts = append(groups[k].dsts, int32(d))
			}
		}
	}
	rt.idxBits = uint(bits.Len(uint(largest - 1)))
	if len(groups) > 0 && bits.Len(uint(len(groups)-1))+int(rt.idxBits) > 32 {
		return nil, &TableError{"system", fmt.Sprintf("%d key groups of up to %d senders need %d key bits, want ≤ 32", len(groups), largest, bits.Len(uint(len(groups)-1))+int(rt.idxBits))}
	}
	// keys: group << idxBits | index, by recounting per core in order
	gi := 0
	for c := 0; c < fo.Cores(); c++ {
		clear(local)
		for s := range rt.keys[c] {
			g := fo.Group(c, s)
			k, ok := local[g]
			if !ok {
				k = gi
				local[g] = k
				gi++
			}
			rt.keys[c][s] |= uint32(k) << rt.idxBits
		}
	}
	rt.Groups = len(groups)
	// trees by dimension order, then the entries they need
	mask := ^uint32(0) << rt.idxBits
	if rt.idxBits >= 32 {
		mask = 0
	}
	type arrival struct {
		g     int32
		route Route
		entry bool // needs an entry (not the default route)
	}
	arr := make([][]arrival, topo.Nodes())
	for g := range groups {
		gr := &groups[g]
		slices.Sort(gr.dsts)
		gr.dsts = slices.Compact(gr.dsts)
		if len(gr.dsts) == 0 {
			continue // senders without targets send nothing: no entries
		}
		src := topo.coreRouter[gr.core]
		route := map[int32]Route{}
		in := map[int32]int8{src: Local}
		var order []int32
		touch := func(n int32) {
			if _, ok := route[n]; !ok {
				route[n] = 0
				order = append(order, n)
			}
		}
		touch(src)
		for _, d := range gr.dsts {
			dr, dl := topo.RouterOf(int(d))
			cur := int(src)
			for cur != dr {
				p := topo.xyPort(cur, dr)
				route[int32(cur)] |= 1 << p
				nb := topo.Neighbor(cur, p)
				touch(int32(nb))
				in[int32(nb)] = int8(opposite[p])
				cur = nb
			}
			route[int32(dr)] |= 1 << localPort(dl)
		}
		for _, n := range order {
			r := route[n]
			i := in[n]
			def := i != Local && r == 1<<opposite[i]
			arr[n] = append(arr[n], arrival{int32(g), r, !def})
			if !def {
				rt.Unminimised++
			}
		}
	}
	// entries, minimised: aligned blocks of groups with one route
	rt.Tables = make([][]Entry, topo.Nodes())
	for n := range arr {
		a := arr[n]
		var tab []Entry
		end := int32(0) // groups below end are covered by earlier entries
		for i := 0; i < len(a); i++ {
			if !a[i].entry || a[i].g < end {
				continue
			}
			g0, r := a[i].g, a[i].route
			lo, hi := g0, g0 // the block [lo, hi]
			for k := 1; k < 32-int(rt.idxBits); k++ {
				size := int32(1) << k
				blo := g0 &^ (size - 1)
				bhi := blo + size - 1
				if blo < end || int(blo) >= len(groups) {
					break
				}
				// every group reaching this router inside the block must take r
				j, _ := slices.BinarySearchFunc(a, blo, func(x arrival, g int32) int { return int(x.g - g) })
				ok := true
				for ; j < len(a) && a[j].g <= bhi; j++ {
					if a[j].route != r {
						ok = false
						break
					}
				}
				if !ok {
					break
				}
				lo, hi = blo, bhi
				if int(bhi) >= len(groups)-1 {
					break
				}
			}
			size := uint32(hi - lo + 1)
			m := mask &^ ((size - 1) << rt.idxBits)
			tab = append(tab, Entry{Key: uint32(lo) << rt.idxBits, Mask: m, Route: r})
			end = hi + 1
		}
		rt.Tables[n] = tab
	}
	if err := checkCapacity(topo, rt.Tables, capacity); err != nil {
		return nil, err
	}
	// walk the tables from every group's source
	rt.trees = make([]tree, len(groups))
	for g := range groups {
		key := uint32(g) << rt.idxBits
		if len(groups[g].dsts) == 0 {
			rt.trees[g] = tree{src: int32(topo.coreRouter[groups[g].core]), key: key}
			continue
		}
		tr, err := walk(topo, rt.Tables, int(topo.coreRouter[groups[g].core]), key)
		if err != nil {
			return nil, err
		}
		for _, d := range groups[g].dsts {
			if _, ok := slices.BinarySearch(tr.dests, d); !ok {
				return nil, &TableError{topo.Name(int(topo.coreRouter[groups[g].core])), fmt.Sprintf("key %#08x does not reach core %d, a destination of its senders", key, d)}
			}
		}
		rt.trees[g] = tr
	}
	return rt, nil
}

func checkCapacity(topo *Topology, tables [][]Entry, capacity int) error {
	for n, tab := range tables {
		if len(tab) > capacity {
			return &TableError{topo.Name(n), fmt.Sprintf("needs %d table entries, has %d (noc.table_entries)", len(tab), capacity)}
		}
	}
	return nil
}

// walk follows the packets of key injected at router src through the
// tables and returns their tree.
func walk(topo *Topology, tables [][]Entry, src int, key uint32) (tree, error) {
	tr := tree{src: int32(src), key: key}
	seen := map[int32]bool{int32(src): true}
	tr.nodes = append(tr.nodes, treeNode{node: int32(src), in: Local, parent: -1, link: -1})
	for i := 0; i < len(tr.nodes); i++ {
		tn := &tr.nodes[i]
		n := int(tn.node)
		r, ok := lookup(tables[n], key)
		if !ok {
			if tn.in == Local {
				return tr, &TableError{topo.Name(n), fmt.Sprintf("key %#08x injected here matches no entry", key)}
			}
			r = 1 << opposite[tn.in]
		}
		if r == 0 {
			return tr, &TableError{topo.Name(n), fmt.Sprintf("key %#08x: an entry routes it nowhere", key)}
		}
		tn.route = r
		for lr := r & localRoutes; lr != 0; lr &= lr - 1 {
			l := localOf(bits.TrailingZeros32(uint32(lr)))
			if l >= topo.K {
				return tr, &TableError{topo.Name(n), fmt.Sprintf("key %#08x is routed to core%d of a router of %d cores", key, l, topo.K)}
			}
			tr.dests = append(tr.dests, int32(topo.CoreAt(n, l)))
		}
		for p := East; p <= South; p++ {
			if !r.Has(p) {
				continue
			}
			nb := topo.Neighbor(n, p)
			if nb < 0 {
				return tr, &TableError{topo.LinkName(n, p), fmt.Sprintf("key %#08x is routed out of the system (no router beyond the edge)", key)}
			}
			if seen[int32(nb)] {
				return tr, &TableError{topo.Name(nb), fmt.Sprintf("key %#08x from %s reaches it twice: the tables loop", key, topo.Name(src))}
			}
			if len(tr.nodes) > topo.Nodes() {
				return tr, &TableError{topo.Name(src), fmt.Sprintf("key %#08x: the tables loop", key)}
			}
			seen[int32(nb)] = true
			tr.nodes = append(tr.nodes, treeNode{node: int32(nb), in: int8(opposite[p]), parent: int32(i), link: int32(n*4 + p - 1)})
		}
	}
	slices.Sort(tr.dests)
	idx := make([]int, len(tr.nodes))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return int(tr.nodes[a].node - tr.nodes[b].node) })
	for _, i := range idx {
		tr.sorted = append(tr.sorted, tr.nodes[i].node)
		tr.sortedRoute = append(tr.sortedRoute, tr.nodes[i].route)
	}
	tr.destNode = make([]int32, len(tr.dests))
	for i, tn := range tr.nodes {
		for lr := tn.route & localRoutes; lr != 0; lr &= lr - 1 {
			c := topo.CoreAt(int(tn.node), localOf(bits.TrailingZeros32(uint32(lr))))
			k, _ := slices.BinarySearch(tr.dests, int32(c))
			tr.destNode[k] = int32(i)
		}
	}
	return tr, nil
}

// Injection is a key that a core sends, and the cores it must reach.
type Injection struct {
	Core int
	Key  uint32
	Dsts []int
}

// CheckTables validates hand-written tables on a topology for the given
// injections: capacity, and for every injection no loop, no route off the
// system, a match at the injecting router and every destination reached.
func CheckTables(topo *Topology, tables [][]Entry, capacity int, inj []Injection) error {
	if len(tables) != topo.Nodes() {
		return fmt.Errorf("router: %d tables for %d routers", len(tables), topo.Nodes())
	}
	if err := checkCapacity(topo, tables, capacity); err != nil {
		return err
	}
	for _, in := range inj {
		if in.Core < 0 || in.Core >= topo.Cores() {
			return &TableError{fmt.Sprintf("core %d", in.Core), fmt.Sprintf("outside the system's %d cores", topo.Cores())}
		}
		src := int(topo.coreRouter[in.Core])
		tr, err := walk(topo, tables, src, in.Key)
		if err != nil {
			return err
		}
		for _, d := range in.Dsts {
			if d < 0 || d >= topo.Cores() {
				return &TableError{fmt.Sprintf("core %d", d), fmt.Sprintf("destination of key %#08x outside the system's %d cores", in.Key, topo.Cores())}
			}
			if _, ok := slices.BinarySearch(tr.dests, int32(d)); !ok {
				return &TableError{topo.Name(src), fmt.Sprintf("key %#08x does not reach core %d", in.Key, d)}
			}
		}
	}
	return nil
}

// FormatTables writes tables as text, one router per block, the format
// ParseTables reads:
//
//	router X Y
//	  KEY/MASK -> PORTS      (ports: E W N S core; "-" for none)
//
// Routers with empty tables are left out.
func FormatTables(topo *Topology, tables [][]Entry) string {
	var b strings.Builder
	for y := 0; y < topo.NY; y++ {
		for x := 0; x < topo.NX; x++ {
			tab := tables[topo.At(x, y)]
			if len(tab) == 0 {
				continue
			}
			fmt.Fprintf(&b, "router %d %d\n", x, y)
			for _, e := range tab {
				fmt.Fprintf(&b, "  %#08x/%#08x -> %s\n", e.Key, e.Mask, e.Route)
			}
		}
	}
	return b.String()
}

// ParseTables reads tables in FormatTables' format for a topology. Lines
// starting with # are comments. Errors name the line.
func ParseTables(topo *Topology, src string) ([][]Entry, error) {
	tables := make([][]Entry, topo.Nodes())
	cur := -1
	sc := bufio.NewScanner(strings.NewReader(src))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	total := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		f := strings.Fields(s)
		if f[0] == "router" {
			if len(f) != 3 {
				return nil, fmt.Errorf("router: tables line %d: want \"router X Y\"", line)
			}
			x, e1 := strconv.Atoi(f[1])
			y, e2 := strconv.Atoi(f[2])
			if e1 != nil || e2 != nil || x < 0 || y < 0 || x >= topo.NX || y >= topo.NY {
				return nil, fmt.Errorf("router: tables line %d: router %q %q is outside the %d × %d grid", line, f[1], f[2], topo.NX, topo.NY)
			}
			cur = topo.At(x, y)
			continue
		}
		if cur < 0 {
			return nil, fmt.Errorf("router: tables line %d: entry before any \"router X Y\"", line)
		}
		if len(f) < 3 || f[1] != "->" {
			return nil, fmt.Errorf("router: tables line %d: want \"KEY/MASK -> PORTS\"", line)
		}
		km := strings.SplitN(f[0], "/", 2)
		if len(km) != 2 {
			return nil, fmt.Errorf("router: tables line %d: want KEY/MASK, got %q", line, f[0])
		}
		k, e1 := strconv.ParseUint(km[0], 0, 32)
		m, e2 := strconv.ParseUint(km[1], 0, 32)
		if e1 != nil || e2 != nil {
			return nil, fmt.Errorf("router: tables line %d: key/mask %q: want two 32-bit numbers", line, f[0])
		}
		if uint32(k)&^uint32(m) != 0 {
			return nil, fmt.Errorf("router: tables line %d: key %#08x has bits outside mask %#08x (it can never match)", line, k, m)
		}
		var r Route
		for _, p := range f[2:] {
			switch p {
			case "E":
				r |= 1 << East
			case "W":
				r |= 1 << West
			case "N":
				r |= 1 << North
			case "S":
				r |= 1 << South
			case "core", "core0":
				r |= 1 << Local
			case "-":
			default:
				l, err := strconv.Atoi(strings.TrimPrefix(p, "core"))
				if !strings.HasPrefix(p, "core") || err != nil || l < 1 || l >= topo.K {
					want := "E, W, N, S, core"
					if topo.K > 1 {
						want += fmt.Sprintf(", core1…core%d", topo.K-1)
					}
					return nil, fmt.Errorf("router: tables line %d: unknown port %q (want %s)", line, p, want)
				}
				r |= 1 << localPort(l)
			}
		}
		total++
		if total > 1<<22 {
			return nil, fmt.Errorf("router: tables line %d: more than %d entries", line, 1<<22)
		}
		tables[cur] = append(tables[cur], Entry{Key: uint32(k), Mask: uint32(m), Route: r})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("router: tables line %d: %v", line+1, err)
	}
	return tables, nil
}

// FormatTrees describes where each key's packets go, for golden files:
// the source, then every router of the tree with its route.
func (rt *Routes) FormatTrees(topo *Topology) string {
	var b strings.Builder
	for _, tr := range rt.trees {
		x, y := topo.Coord(int(tr.src))
		fmt.Fprintf(&b, "key %#08x from (%d,%d):", tr.key, x, y)
		for _, tn := range tr.nodes {
			nx, ny := topo.Coord(int(tn.node))
			fmt.Fprintf(&b, " (%d,%d)[%s]", nx, ny, tn.route)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
