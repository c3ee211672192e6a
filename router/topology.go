package router

import (
	"fmt"
	"strings"
)

// Ports of a router. Port 0 is the local port of the router's core
// (injection and ejection); the links go east (+x), west (−x), north (+y)
// and south (−y).
const (
	Local = iota
	East
	West
	North
	South
	numPorts
)

var portNames = [numPorts]string{"core", "E", "W", "N", "S"}

// opposite is the input port at the neighbour of a flit sent on port p.
var opposite = [numPorts]int{Local, West, East, South, North}

// LinkClass is what a link is made of, for timing and energy.
type LinkClass uint8

const (
	LinkX    LinkClass = iota // on-chip, east–west
	LinkY                     // on-chip, north–south
	LinkChip                  // between two chips
	numClasses
)

var classNames = [numClasses]string{"x", "y", "chip"}

func (c LinkClass) String() string { return classNames[c] }

// Topology is the grid of routers of a system: one router per core (or
// per K cores, NewConcentrated), W × H per chip, chips in a GX × GY grid, so the system is an NX × NY grid of
// routers (NX = GX·W, NY = GY·H). Core (and router) number n is
// chip·W·H + y·W + x with chip = cy·GX + cx, at global coordinates
// (cx·W + x, cy·H + y). A torus wraps the whole grid; a link that crosses
// from one chip to another (a wrap link included) is a chip-to-chip link.
type Topology struct {
	W, H   int
	GX, GY int
	NX, NY int
	Torus  bool
	// per node: global coordinates
	xs, ys []int32
	// per (node, output port): neighbour node, −1 if none; node·numPorts+p
	nbr   []int32
	class []LinkClass
	// node at global (x, y): y·NX + x → node
	at []int32

	// Concentration: K cores per router, a BX × BY block of a chip's CW ×
	// CH mesh of cores (CW = W·BX, CH = H·BY). Core c of the system
	// (chip·CW·CH + y·CW + x on the core mesh) is local port
	// coreLocal[c] of router coreRouter[c]; routerCore[n·K + l] is the
	// core on local port l of router n. K = 1: core c is router c.
	K, BX, BY  int
	CW, CH     int
	coreRouter []int32
	coreLocal  []uint8
	routerCore []int32
}

// NewTopology builds the router grid of chips chips of w × h cores, the
// chips in a gx × gy grid (gx = gy = 0: one row).
func NewTopology(w, h, chips, gx, gy int, torus bool) (*Topology, error) {
	if gx == 0 && gy == 0 {
		gx, gy = chips, 1
	}
	if w < 1 || h < 1 || gx < 1 || gy < 1 || gx*gy != chips {
		return nil, fmt.Errorf("router: a grid of %d × %d chips of %d × %d cores does not hold %d chips", gx, gy, w, h, chips)
	}
	t := &Topology{W: w, H: h, GX: gx, GY: gy, NX: gx * w, NY: gy * h, Torus: torus}
	n := t.NX * t.NY
	if n > 1<<22 {
		return nil, fmt.Errorf("router: %d routers: want ≤ %d", n, 1<<22)
	}
	t.xs = make([]int32, n)
	t.ys = make([]int32, n)
	t.at = make([]int32, n)
	for id := 0; id < n; id++ {
		chip, local := id/(w*h), id%(w*h)
		x := (chip%gx)*w + local%w
		y := (chip/gx)*h + local/w
		t.xs[id], t.ys[id] = int32(x), int32(y)
		t.at[y*t.NX+x] = int32(id)
	}
	t.nbr = make([]int32, n*numPorts)
	t.class = make([]LinkClass, n*numPorts)
	for id := 0; id < n; id++ {
		x, y := int(t.xs[id]), int(t.ys[id])
		t.nbr[id*numPorts] = -1
		for p := East; p <= South; p++ {
			nx, ny := x, y
			switch p {
			case East:
				nx++
			case West:
				nx--
			case North:
				ny++
			case South:
				ny--
			}
			if torus {
				nx, ny = (nx+t.NX)%t.NX, (ny+t.NY)%t.NY
				if nx == x && ny == y {
					t.nbr[id*numPorts+p] = -1 // a ring of one router has no link
					continue
				}
			}
			if nx < 0 || ny < 0 || nx >= t.NX || ny >= t.NY {
				t.nbr[id*numPorts+p] = -1
				continue
			}
			m := int(t.at[ny*t.NX+nx])
			t.nbr[id*numPorts+p] = int32(m)
			switch {
			case id/(w*h) != m/(w*h):
				t.class[id*numPorts+p] = LinkChip
			case p == East || p == West:
				t.class[id*numPorts+p] = LinkX
			default:
				t.class[id*numPorts+p] = LinkY
			}
		}
	}
	t.K, t.BX, t.BY, t.CW, t.CH = 1, 1, 1, w, h
	t.coreRouter = make([]int32, n)
	t.coreLocal = make([]uint8, n)
	t.routerCore = make([]int32, n)
	for i := range t.coreRouter {
		t.coreRouter[i], t.routerCore[i] = int32(i), int32(i)
	}
	return t, nil
}

// NewConcentrated builds the router grid of chips chips of cw × ch cores
// whose cores share routers in blocks of bx × by (one router per block),
// the chips in a gx × gy grid.
func NewConcentrated(cw, ch, bx, by, chips, gx, gy int, torus bool) (*Topology, error) {
	if bx < 1 || by < 1 || cw%bx != 0 || ch%by != 0 || bx*by > MaxCoresPerRouter {
		return nil, fmt.Errorf("router: blocks of %d × %d cores per router do not tile a chip of %d × %d cores", bx, by, cw, ch)
	}
	t, err := NewTopology(cw/bx, ch/by, chips, gx, gy, torus)
	if err != nil || bx*by == 1 {
		return t, err
	}
	k := bx * by
	t.K, t.BX, t.BY, t.CW, t.CH = k, bx, by, cw, ch
	cores := t.Nodes() * k
	t.coreRouter = make([]int32, cores)
	t.coreLocal = make([]uint8, cores)
	t.routerCore = make([]int32, cores)
	per := cw * ch
	for c := 0; c < cores; c++ {
		chip, local := c/per, c%per
		x, y := local%cw, local/cw
		r := chip*t.W*t.H + (y/by)*t.W + x/bx
		l := (y%by)*bx + x%bx
		t.coreRouter[c], t.coreLocal[c] = int32(r), uint8(l)
		t.routerCore[r*k+l] = int32(c)
	}
	return t, nil
}

// Cores is the number of cores (K per router).
func (t *Topology) Cores() int { return len(t.coreRouter) }

// RouterOf is the router of core c and the core's local port there
// (0 … K−1).
func (t *Topology) RouterOf(c int) (router, local int) {
	return int(t.coreRouter[c]), int(t.coreLocal[c])
}

// CoreAt is the core on local port l of router n.
func (t *Topology) CoreAt(n, l int) int { return int(t.routerCore[n*t.K+l]) }

// localPort is the port number of local port l (0 … K−1): port 0 is the
// first core's (Local), the others follow the links.
func localPort(l int) int {
	if l == 0 {
		return Local
	}
	return numPorts - 1 + l
}

// localOf is the local index of port p (Local or ≥ numPorts), or −1 for a
// link.
func localOf(p int) int {
	switch {
	case p == Local:
		return 0
	case p >= numPorts:
		return p - numPorts + 1
	}
	return -1
}

// Nodes is the number of routers.
func (t *Topology) Nodes() int { return len(t.xs) }

// Coord is the global position of router n.
func (t *Topology) Coord(n int) (x, y int) { return int(t.xs[n]), int(t.ys[n]) }

// At is the router at global position (x, y).
func (t *Topology) At(x, y int) int { return int(t.at[y*t.NX+x]) }

// Neighbor is the router at the other end of router n's output port p, or
// −1 (an edge of a mesh, or the local port).
func (t *Topology) Neighbor(n, p int) int { return int(t.nbr[n*numPorts+p]) }

// Class is the kind of link behind router n's output port p.
func (t *Topology) Class(n, p int) LinkClass { return t.class[n*numPorts+p] }

// Name names router n for messages: "router (x,y) [chip c core k]", or
// with several cores per router "[chip c cores k,l,…]" (its cores, in
// chip-local numbers).
func (t *Topology) Name(n int) string {
	per := t.W * t.H
	if t.K > 1 {
		cp := t.CW * t.CH
		cores := make([]string, t.K)
		for l := range cores {
			cores[l] = fmt.Sprint(t.CoreAt(n, l) % cp)
		}
		return fmt.Sprintf("router (%d,%d) [chip %d cores %s]", t.xs[n], t.ys[n], n/per, strings.Join(cores, ","))
	}
	return fmt.Sprintf("router (%d,%d) [chip %d core %d]", t.xs[n], t.ys[n], n/per, n%per)
}

// LinkName names the link leaving router n on port p.
func (t *Topology) LinkName(n, p int) string {
	return fmt.Sprintf("link %s %s", t.Name(n), portNames[p])
}

// Links is the number of link slots (routers × 4); link id n·4 + p − 1
// is the link on port p of router n (slots without a neighbour stay idle).
func (t *Topology) Links() int { return len(t.xs) * 4 }

// xyPort is the output port of dimension-order routing (X then Y) at router
// cur towards router dst; Local when cur == dst. On a torus each dimension
// goes the short way round (ties: the positive direction).
func (t *Topology) xyPort(cur, dst int) int {
	x, y := t.xs[cur], t.ys[dst]
	dx := t.xs[dst]
	if x != dx {
		if t.Torus {
			d := (int(dx) - int(x) + t.NX) % t.NX
			if d <= t.NX/2 {
				return East
			}
			return West
		}
		if dx > x {
			return East
		}
		return West
	}
	cy := t.ys[cur]
	if cy != y {
		if t.Torus {
			d := (int(y) - int(cy) + t.NY) % t.NY
			if d <= t.NY/2 {
				return North
			}
			return South
		}
		if y > cy {
			return North
		}
		return South
	}
	return Local
}

// Hops is the hop count of dimension-order routing from src to dst.
func (t *Topology) Hops(src, dst int) int {
	h := 0
	for cur := src; cur != dst; h++ {
		cur = t.Neighbor(cur, t.xyPort(cur, dst))
	}
	return h
}

// Diameter is the largest dimension-order hop count between two routers.
func (t *Topology) Diameter() int {
	if t.Torus {
		return t.NX/2 + t.NY/2
	}
	return t.NX - 1 + t.NY - 1
}

// wraps reports whether router n's port p is a torus wrap link (the
// dateline of its ring).
func (t *Topology) wraps(n, p int) bool {
	if !t.Torus {
		return false
	}
	switch p {
	case East:
		return int(t.xs[n]) == t.NX-1
	case West:
		return t.xs[n] == 0
	case North:
		return int(t.ys[n]) == t.NY-1
	case South:
		return t.ys[n] == 0
	}
	return false
}
