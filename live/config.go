package live

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// LatePolicy says what happens to an event stamped for a tick that has
// already run.
type LatePolicy uint8

const (
	LateApply LatePolicy = iota // apply it at the next tick (counted late)
	LateDrop                    // drop it (counted late and dropped)
)

// ParseLatePolicy parses "apply" or "drop".
func ParseLatePolicy(s string) (LatePolicy, error) {
	switch s {
	case "apply", "":
		return LateApply, nil
	case "drop":
		return LateDrop, nil
	}
	return 0, fmt.Errorf("live: unknown late policy %q (want apply or drop)", s)
}

func (p LatePolicy) String() string {
	if p == LateDrop {
		return "drop"
	}
	return "apply"
}

// Defaults of Config.
const (
	DefaultListen   = "127.0.0.1:7433"
	DefaultQueue    = 1 << 20 // events waiting for their tick
	DefaultHorizon  = 1 << 16 // ticks ahead an event may be stamped
	DefaultIdle     = 10 * time.Millisecond
	DefaultChunk    = 8192 // events per hand-over from the receiver to the tick loop
	DefaultChunks   = 64   // hand-overs in flight (the intake's memory bound)
	MaxDestinations = 64
	// MaxReplyDestinations bounds the senders that Config.Reply adds.
	MaxReplyDestinations = 16
)

// Config configures a Server. The zero value of each field means its
// default; Period or Fast must be set.
type Config struct {
	// Listen is the UDP address to bind (DefaultListen). A host must be
	// given; aerie binds loopback unless told otherwise.
	Listen string
	// Format is the wire format of input and output.
	Format aer.WireFormat
	// To lists the output destinations, "host:port".
	To []string
	// Reply also sends output to every sender of valid input (at most
	// MaxReplyDestinations).
	Reply bool

	// Period is the tick length of real-time mode; Fast selects fast
	// mode instead.
	Period time.Duration
	Fast   bool
	// Idle (fast mode): run a tick when none has run for this long; 0
	// means DefaultIdle, negative never.
	Idle time.Duration
	// Drain (fast mode) is how many ticks run after a tick that applied
	// untimed or late input, and at shutdown after the last queued
	// event, so that its consequences leave the chip; 0 means the
	// program's longest synaptic delay + 2, negative none.
	Drain int
	// TickUS is the length of a tick in µs, to map µs time stamps
	// (native packets with the µs flag) to ticks: 0 means Period in
	// real-time mode, 1000 in fast mode.
	TickUS float64

	Late LatePolicy
	// IgnoreStamps treats every input event as untimed (next tick).
	IgnoreStamps bool
	// Allow restricts senders; empty allows everyone.
	Allow []netip.Prefix
	// Queue bounds the events waiting for their tick (DefaultQueue);
	// Horizon how many ticks ahead one may be stamped (DefaultHorizon).
	Queue, Horizon int
	// ReadBuffer is the socket receive buffer to ask for (0: aer's
	// default).
	ReadBuffer int

	// Ticks stops the server after that many ticks; Duration after that
	// much wall time; 0: no limit.
	Ticks    uint64
	Duration time.Duration
	// Paused starts without ticking until an EIEIO START_RESUME command
	// arrives.
	Paused bool

	// Record, if set, receives the output spikes as an event file of
	// RecordFormat (times in ticks); the server closes the aer writer on
	// shutdown, the caller commits the file. RecordMax > 0 stops
	// recording (with a message) once that many bytes were written.
	Record       io.Writer
	RecordFormat aer.Format
	RecordOpts   aer.WriteOptions
	RecordMax    int64
	// Pcap, if set, receives every datagram in and out as a pcap
	// capture; PcapMax > 0 stops capturing once that many bytes were
	// written.
	Pcap    io.Writer
	PcapMax int64

	// SpiNNaker enables SpiNNaker live mode (see doc.go).
	SpiNNaker *SpiNNakerConfig

	// Status, if set, gets a one-line status every StatusEvery (default
	// 2 s).
	Status      io.Writer
	StatusEvery time.Duration
	// Logger gets the server's few messages (start, recording stopped,
	// handshake); nil discards them.
	Logger *slog.Logger
}

// ParseAllow parses a comma-separated list of CIDR prefixes or addresses.
func ParseAllow(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if p, err := netip.ParsePrefix(item); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil {
			return nil, fmt.Errorf("live: --allow %q: want a CIDR prefix (127.0.0.0/8) or an address", item)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

func (c *Config) check() error {
	if c.Fast == (c.Period > 0) {
		return errors.New("live: choose real-time mode (a tick period) or fast mode")
	}
	if c.Period < 0 {
		return errors.New("live: negative tick period")
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Queue <= 0 {
		c.Queue = DefaultQueue
	}
	if c.Horizon <= 0 {
		c.Horizon = DefaultHorizon
	}
	if c.Horizon > 1<<24 {
		return fmt.Errorf("live: horizon %d ticks exceeds %d", c.Horizon, 1<<24)
	}
	if c.Idle == 0 {
		c.Idle = DefaultIdle
	}
	if c.TickUS < 0 {
		return errors.New("live: negative tick length")
	}
	if c.TickUS == 0 {
		c.TickUS = 1000
		if c.Period > 0 {
			c.TickUS = float64(c.Period) / float64(time.Microsecond)
		}
	}
	if len(c.To) > MaxDestinations {
		return fmt.Errorf("live: %d destinations, at most %d", len(c.To), MaxDestinations)
	}
	if c.StatusEvery <= 0 {
		c.StatusEvery = 2 * time.Second
	}
	if c.SpiNNaker != nil && c.Format != aer.WireEIEIO {
		return errors.New("live: SpiNNaker live mode speaks EIEIO")
	}
	return nil
}
