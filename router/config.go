package router

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the [noc] section of a chip description: the network that
// carries spikes between the cores of a chip and between chips. Every
// field is a scalar with an explicit TOML key (the chip package decodes it
// strictly). A description without a [noc] section, or with
// model = "ideal", has the ideal network: zero latency, unlimited
// bandwidth, no energy; the other fields are then not used.
//
// Numeric fields have no defaults: a model other than "ideal" needs every
// width, depth and cycle count it uses written, and a zero is refused (a
// zero link width or buffer depth is a broken description, not "use the
// default").
type Config struct {
	// Model is "ideal", "analytic" (per tick: hops × hop cycles +
	// serialisation + a contention term from per-link load) or "detailed"
	// (flit-level: input buffers, round-robin arbitration, credits,
	// wormhole). Empty means "ideal".
	Model string `toml:"model"`
	// Topology is "mesh" or "torus" (2-D, wrapping the whole system grid).
	// Empty means "mesh".
	Topology string `toml:"topology"`
	// Routing is "xy" (destination-addressed packets, dimension order X
	// then Y, one packet per destination core: Loihi, TrueNorth) or
	// "table" (source-key multicast: key/mask tables, first match wins,
	// default route straight through, replication in the network:
	// SpiNNaker). Empty means "xy".
	Routing string `toml:"routing"`
	// ChipsX × ChipsY is the grid of chips of a system (chips > 1); both 0
	// means one row of chips.
	ChipsX int `toml:"chips_x"`
	ChipsY int `toml:"chips_y"`

	// CoresPerRouter is the concentration: how many cores share one router
	// (Loihi: 4 cores per tile, Davies et al. 2018). 0 means 1. The cores
	// of a router are a BX × BY block of the chip's mesh of cores
	// (Block: the squarest block, no taller than wide: 2 → 2×1, 4 → 2×2,
	// 6 → 3×2, 8 → 4×2), which must tile the mesh; each core has its own
	// injection and ejection port, and a packet between two cores of one
	// router takes no link.
	CoresPerRouter int `toml:"cores_per_router"`

	// PacketBits is the size of one spike packet (header and address or
	// key); FlitBits the width of an on-chip link, so a packet is
	// ⌈PacketBits / FlitBits⌉ flits.
	PacketBits int `toml:"packet_bits"`
	FlitBits   int `toml:"flit_bits"`
	// HopCyclesX and HopCyclesY are the cycles a flit takes through one
	// router and its outgoing on-chip link in X and in Y.
	HopCyclesX int `toml:"hop_cycles_x"`
	HopCyclesY int `toml:"hop_cycles_y"`
	// BufferFlits is the depth of each input buffer (per port and virtual
	// channel), in flits.
	BufferFlits int `toml:"buffer_flits"`
	// VirtualChannels per input port: 1 on a mesh; a torus needs 2 (dateline
	// channels keep dimension-order routing deadlock-free on its rings).
	VirtualChannels int `toml:"virtual_channels"`
	// TableEntries is the capacity of each router's key/mask table
	// (routing = "table").
	TableEntries int `toml:"table_entries"`

	// ChipLink is the link between two chips: slower and narrower than an
	// on-chip link (its energy per flit is cost.energy_pj.chip_hop).
	ChipLink ChipLink `toml:"chip_link"`

	// Late is what a fixed-tick chip does with a packet that arrives after
	// the tick's deadline: "count" (counted, still delivered; the default)
	// or "drop" (counted, and the spike does not arrive).
	Late string `toml:"late"`
	// Blocked is what a router does with a packet whose output is blocked:
	// "wait" (backpressure, the default) or "reroute" (SpiNNaker: after
	// Wait1Cycles an emergency detour around the blocked link, after
	// Wait2Cycles more the packet is dropped and counted).
	Blocked     string `toml:"blocked"`
	Wait1Cycles int    `toml:"wait1_cycles"`
	Wait2Cycles int    `toml:"wait2_cycles"`
}

// ChipLink describes the links between chips.
type ChipLink struct {
	// WidthBits is what the link carries per cycle: a flit takes
	// ⌈flit_bits / width_bits⌉ cycles to cross it.
	WidthBits int `toml:"width_bits"`
	// HopCycles is the latency of one chip-to-chip hop (router, serialiser,
	// wire, deserialiser).
	HopCycles int `toml:"hop_cycles"`
}

// FieldError is a [noc] field with a value out of its range.
type FieldError struct {
	Field string // TOML key below [noc], e.g. "buffer_flits"
	Value any
	Want  string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("noc.%s = %v: want %s", e.Field, e.Value, e.Want)
}

// IsIdeal reports whether the section describes the ideal network.
func (c *Config) IsIdeal() bool { return c.Model == "" || c.Model == "ideal" }

func (c *Config) topology() string {
	if c.Topology == "" {
		return "mesh"
	}
	return c.Topology
}

func (c *Config) routing() string {
	if c.Routing == "" {
		return "xy"
	}
	return c.Routing
}

// Validate checks the section against its ranges for a system of chips
// chips. It returns every problem found; the chip package joins them with
// its own.
func (c *Config) Validate(chips int) []error {
	var errs []error
	oneOf := func(field, v string, allowed ...string) {
		for _, a := range allowed {
			if v == a {
				return
			}
		}
		errs = append(errs, &FieldError{field, fmt.Sprintf("%q", v), "one of " + strings.Join(allowed, ", ")})
	}
	intIn := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			errs = append(errs, &FieldError{field, v, fmt.Sprintf("%d…%d", lo, hi)})
		}
	}
	oneOf("model", c.Model, "", "ideal", "analytic", "detailed")
	oneOf("topology", c.Topology, "", "mesh", "torus")
	oneOf("routing", c.Routing, "", "xy", "table")
	oneOf("late", c.Late, "", "count", "drop")
	oneOf("blocked", c.Blocked, "", "wait", "reroute")
	switch {
	case c.ChipsX == 0 && c.ChipsY == 0:
	case c.ChipsX < 1 || c.ChipsY < 1 || c.ChipsX > 1<<16 || c.ChipsY > 1<<16:
		errs = append(errs, &FieldError{"chips_x, chips_y", fmt.Sprintf("%d, %d", c.ChipsX, c.ChipsY), "both ≥ 1 (or both 0: one row of chips)"})
	case c.ChipsX*c.ChipsY != chips:
		errs = append(errs, fmt.Errorf("noc: the chip grid chips_x × chips_y = %d × %d = %d does not fit chips = %d", c.ChipsX, c.ChipsY, c.ChipsX*c.ChipsY, chips))
	}
	intIn("cores_per_router", c.CoresPerRouter, 0, MaxCoresPerRouter)
	if c.IsIdeal() {
		return errs
	}
	intIn("packet_bits", c.PacketBits, 1, 4096)
	intIn("flit_bits", c.FlitBits, 1, 4096)
	intIn("hop_cycles_x", c.HopCyclesX, 1, 1<<20)
	intIn("hop_cycles_y", c.HopCyclesY, 1, 1<<20)
	intIn("buffer_flits", c.BufferFlits, 1, 1<<16)
	intIn("virtual_channels", c.VirtualChannels, 1, 2)
	if c.topology() == "torus" && c.VirtualChannels < 2 {
		errs = append(errs, &FieldError{"virtual_channels", c.VirtualChannels, "2 with topology = \"torus\" (dateline channels)"})
	}
	if c.routing() == "table" {
		intIn("table_entries", c.TableEntries, 1, 1<<20)
	}
	if c.FlitBits > 0 && c.PacketBits > 0 && (c.PacketBits+c.FlitBits-1)/c.FlitBits > 255 {
		errs = append(errs, &FieldError{"packet_bits", c.PacketBits, fmt.Sprintf("≤ 255 flits of %d bits", c.FlitBits)})
	}
	if chips > 1 {
		intIn("chip_link.width_bits", c.ChipLink.WidthBits, 1, 4096)
		intIn("chip_link.hop_cycles", c.ChipLink.HopCycles, 1, 1<<20)
	}
	if c.Blocked == "reroute" {
		intIn("wait1_cycles", c.Wait1Cycles, 1, 1<<24)
		intIn("wait2_cycles", c.Wait2Cycles, 1, 1<<24)
	}
	return errs
}

// MaxCoresPerRouter bounds noc.cores_per_router (a router's ports and
// virtual channels fit a 32-bit mask of input units).
const MaxCoresPerRouter = 12

// Cores is the concentration (cores per router, ≥ 1).
func (c *Config) Cores() int { return max(1, c.CoresPerRouter) }

// Block is the block of the core mesh whose cores share a router: bx × by
// = CoresPerRouter, bx the smallest divisor with bx² ≥ CoresPerRouter.
func (c *Config) Block() (bx, by int) {
	k := c.Cores()
	bx = k
	for d := 1; d <= k; d++ {
		if k%d == 0 && d*d >= k {
			bx = d
			break
		}
	}
	return bx, k / bx
}

// ValidateSystem is Validate for a system of sys.Chips chips of
// sys.W × sys.H cores, which the concentration's block must tile.
func (c *Config) ValidateSystem(sys System) []error {
	errs := c.Validate(sys.Chips)
	if k := c.CoresPerRouter; k > 1 && k <= MaxCoresPerRouter {
		if bx, by := c.Block(); sys.W%bx != 0 || sys.H%by != 0 {
			errs = append(errs, &FieldError{"cores_per_router", k,
				fmt.Sprintf("a block of %d × %d cores per router that tiles the %d × %d mesh of cores (mesh.width a multiple of %d, mesh.height of %d)", bx, by, sys.W, sys.H, bx, by)})
		}
	}
	return errs
}

func joinErrs(errs []error) error { return errors.Join(errs...) }

// Flits is the number of flits of one packet.
func (c *Config) Flits() int { return (c.PacketBits + c.FlitBits - 1) / c.FlitBits }
