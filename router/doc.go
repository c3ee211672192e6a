// Package router is aerie's network-on-chip and chip-to-chip links: the
// topology of routers, routing (destination-addressed dimension order, or
// key/mask multicast tables), timing (an analytic model and a flit-level
// one), failure modes and link statistics.
//
// # The seam
//
// chip imports router, never the reverse. router defines the Message (the
// sending core, the sender's source key, the destination core, the synapses
// the message reaches there, and its Fate) and the Network. Between ticks
// the chip shows the network one tick's messages through a Traffic, which
// iterates them in emission order (sending core, firing neuron, fan-out
// entry) straight from the chip's outboxes, without copying; the network
// sets each message's fate and returns the tick's drain time and its
// flit-hops per link class; the chip adds the drain time to the tick,
// prices the flit-hops with its cost table (cost.energy_pj.hop_x, hop_y,
// chip_hop) and delivers only the messages whose fate is Delivered. For
// the Ideal network the chip builds no messages at all.
//
// A chip description's [noc] section is this package's Config, decoded
// strictly with the rest of the description; New builds the network it
// describes when the chip loads a program, as the chip builds its cores:
//
//	[noc]
//	model = "analytic"      # ideal | analytic | detailed
//	topology = "mesh"       # mesh | torus
//	routing = "xy"          # xy (destination-addressed) | table (key/mask multicast)
//	chips_x = 2             # chip grid of a system (chips = chips_x × chips_y)
//	chips_y = 2
//	cores_per_router = 4    # concentration: a 2×2 block of cores shares a router (default 1)
//	packet_bits = 32        # one spike packet
//	flit_bits = 32          # on-chip link width
//	hop_cycles_x = 4        # router + link, east–west and north–south
//	hop_cycles_y = 7
//	buffer_flits = 4        # per input port and virtual channel
//	virtual_channels = 1    # 2 on a torus (dateline channels)
//	table_entries = 1023    # per router (routing = "table")
//	late = "count"          # fixed tick: count late packets, or "drop" them
//	blocked = "wait"        # or "reroute": emergency detour after wait1, drop after wait2
//	[noc.chip_link]
//	width_bits = 8          # a flit takes ⌈flit_bits / width_bits⌉ cycles on it
//	hop_cycles = 40
//
// # Topology and addresses
//
// One router per core by default. A chip is a W × H grid (the
// description's mesh); chips sit in a GX × GY grid, so a system is one
// NX × NY grid of routers, and core n of the system (chip·W·H + y·W + x) is
// the router at global (cx·W + x, cy·H + y).
//
// With cores_per_router = K (concentration, as Loihi's 8×4 tiles of four
// cores share a router: Davies et al. 2018), the K cores of a bx × by
// block of a chip's mesh of cores share one router (Config.Block: the
// squarest block no taller than wide, 2 → 2×1, 4 → 2×2, 6 → 3×2,
// 8 → 4×2; it must tile the mesh, or the description is refused naming
// noc.cores_per_router, the block and the mesh). The chip of W × H cores
// then has W/bx × H/by routers: core (x, y) is local port
// (y mod by)·bx + x mod bx of the router at (x/bx, y/by). Each core has
// its own injection unit and ejection port; a packet between two cores of
// one router takes no link (zero hops: its latency is the serialisation
// alone). Messages, keys and statistics stay per core (the analytic model
// queues at each core's injection and ejection port); table routes name
// the router's cores core, core1, …, core(K−1). A link between routers of two chips is a
// chip-to-chip link: slower (chip_link.hop_cycles), narrower
// (chip_link.width_bits) and costlier (cost.energy_pj.chip_hop) than an
// on-chip one. A torus wraps the whole grid.
//
// # The router
//
// Five ports: the local core (injection and ejection) and the links E, W,
// N, S; with K cores per router, K local ports (port 0 and ports 5 …
// 3 + K), each with its own input unit and ejection port, one flit per
// cycle each. The pipeline a flit goes through, as the detailed model runs
// it:
//
//	         input units (per port × virtual channel)                 output ports
//	        ┌──────────────────────────┐
//	core ──►│ FIFO, buffer_flits deep  │──┐   ┌────────────┐  ┌────────────┐
//	  W ───►│ FIFO                     │──┼──►│ route (head│─►│ allocate   │─► E ─► next router's W unit
//	  E ───►│ FIFO                     │──┤   │  flit): XY │  │ downstream │─► W
//	  S ───►│ FIFO                     │──┤   │  or table, │  │ units (all │─► N
//	  N ───►│ FIFO                     │──┘   │  emergency │  │ or none)   │─► S
//	        └──────────────────────────┘      └────────────┘  └─────┬──────┘─► core (eject)
//	               ▲ credit: a slot is taken when a flit is sent     │
//	               └──── and freed when it leaves ◄── switch: round-robin over input units,
//	                                                   one flit per output per cycle, link
//	                                                   busy ⌈flit/width⌉ cycles per flit
//
// A head flit is routed and takes its downstream units (the next routers'
// input units of the packet's virtual channel); the body follows it
// (wormhole) and the tail frees them. A multicast packet takes every output
// of its route at once and its front flit leaves the unit when every
// output has taken it (replication in the router). A flit sent at cycle c
// is at the front of the next unit at c + hop cycles.
//
// # Packets
//
// A spike is one packet of ⌈packet_bits / flit_bits⌉ flits. aerie does not
// model the bits, only their number; the layouts it stands for are
//
//	destination-addressed (Loihi, TrueNorth; routing = "xy"), one packet per
//	destination core:
//	+--------+--------+-------------------+
//	| dx, dy | core   | axon index        |   ≈ 32 bits
//	+--------+--------+-------------------+
//
//	source-keyed multicast (SpiNNaker; routing = "table"), one packet per spike:
//	+---------------+-------------------------------------+------------------+
//	| control 8 bits| key 32 bits: group << b | neuron     | (payload 32 bits)|   40 or 72 bits
//	+---------------+-------------------------------------+------------------+
//
// # Routing
//
// Dimension order (X, then Y; on a torus each dimension the short way
// round, ties positive) is deadlock-free on a mesh with one virtual channel
// and on a torus with two (a packet moves to channel 1 when it crosses the
// wrap link of a ring and back to 0 when it turns).
//
// Table routing follows SpiNNaker: ordered key/mask entries, the first
// match wins, a route is a set of links plus the local core; a packet that
// matches nothing arriving on a link goes straight through (default route);
// one that matches nothing at its injecting router is an error. The chip's
// program gives the tables (GenerateTables): one key block per population
// piece of a core, the union of its members' destinations reached along
// dimension-order paths replicated where they part, default-routable
// entries left out, and entries with one route merged into aligned blocks
// (ordered covering, Mundy et al. 2016) where no other key that reaches
// the router is caught. The result is walked from every source: a loop, a
// route off the system, an unmatched key or a missed destination is an
// error, and so is a router that needs more than table_entries entries
// (the error names the router and the count). ParseTables and CheckTables
// do the same for tables written by hand (FormatTables' text format).
//
// # Timing
//
// Each tick's messages are injected at cycle 0 of the exchange; the tick's
// drain time is the cycle after the last tail arrives. Two models sit
// behind one interface:
//
//   - analytic (default): per packet, Σ hop cycles + serialisation
//     ((F − 1)·k + 1 for F flits, k the cycles per flit of the narrowest
//     link) + contention. A burst (every tick's exchange) queues at each
//     port and link in emission order, and a packet's contention is its
//     longest queue wait; steady traffic (the sweeps) waits as M/D/1 queues
//     fed by the traffic that joins from other inputs. It adds about 20 %
//     to the wall time of CUBA on the default chip (docs/noc.md).
//   - detailed: the flit-level router above, one loop for every
//     configuration (virtual channels, multicast trees, emergency routing,
//     concentration). Inside it, a routed packet with one link output, which
//     is every destination-addressed packet between routers, takes a short
//     branch: the flit is sent and popped without the multicast
//     bookkeeping. The cores inject in a pass of their own before the
//     routers move flits. Both are equivalent to the general path,
//     arrival for arrival (TestDetailedPinned), and run at about
//     2·10⁷ flit-hops per second per core (docs/noc.md).
//
// At zero load both give exactly hops × hop cycles + serialisation
// (TestZeroLoadLatency); below half of saturation they agree within 10 %
// on mean latency (TestAnalyticMatchesDetailed).
//
// # Failure modes
//
// Always counted, never silent, and without effect on which spikes arrive
// unless the description enables them: a packet that arrives after a fixed
// tick's deadline (the tick's cycles less the slowest core's) is late —
// counted, and with late = "drop" not delivered; with blocked = "reroute" a
// head blocked for wait1 cycles takes an emergency detour around the
// blocked link (left, on, right: three hops on a square mesh where
// SpiNNaker's triangles need two), and one still blocked wait2 cycles later
// is dropped. The detailed model also breaks a deadlock (no flit moved in
// 65,536 cycles), dropping and counting the packets in the network. With
// none of these enabled results are bit-identical to the ideal network's,
// for both models and any worker count (chip's TestNoCBitIdentical).
//
// # Statistics
//
// Stats: packets, copies delivered, flit-hops per link class, per-link
// flits and utilisation, the deepest queue, the latency distribution
// (mean, p50, p99, max, histogram), drain times, late and dropped messages,
// emergency detours and deadlocks. Sweep runs synthetic traffic (uniform,
// transpose, bit complement, hotspot) over a K × K grid and measures the
// latency–load curve and the saturation throughput (aerie bench noc).
package router
