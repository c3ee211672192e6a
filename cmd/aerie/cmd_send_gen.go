package main

// aerie send --poisson: synthetic Poisson traffic for load tests, sent
// with the same transport as aerie send FILE. runSend hands command lines
// with --poisson to runSendGen (see sendGenRequested).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// sendGenRequested reports whether a send command line asks for generated
// traffic (--poisson) instead of a file.
func sendGenRequested(args []string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		if a == "--poisson" || a == "-poisson" || strings.HasPrefix(a, "--poisson=") || strings.HasPrefix(a, "-poisson=") {
			return true
		}
	}
	return false
}

// poissonSource generates independent Poisson spike trains of equal rate
// on channels 0…N−1 of one port, tick by tick: the superposition of N
// trains of rate r is one Poisson process of rate N·r whose events fall on
// uniformly drawn channels, which is how it is drawn. Deterministic for a
// seed.
type poissonSource struct {
	lambda   float64 // events per tick, all channels
	channels uint32
	port     uint16
	ticks    int64 // ticks to generate
	tick     int64 // next tick to generate (from 0)
	first    int64 // stamp of tick 0
	untimed  bool  // stamp −1 (native: untimed) instead of the tick
	keyed    bool  // Channel = port<<16 | channel (EIEIO, jAER, SPIF)
	rng      *rand.Rand
	pending  []aer.Event
	head     int
}

// poissonCount draws a Poisson number of mean lambda: multiplication of
// uniforms for small means, a rounded normal beyond (the error of the
// normal approximation at λ ≥ 50 is below what a load test can see).
func poissonCount(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda < 50 {
		l, k, p := math.Exp(-lambda), 0, 1.0
		for {
			p *= rng.Float64()
			if p <= l {
				return k
			}
			k++
		}
	}
	n := math.Round(lambda + math.Sqrt(lambda)*rng.NormFloat64())
	return int(max(0, n))
}

func (g *poissonSource) Read(dst []aer.Event) (int, error) {
	n := 0
	for n < len(dst) {
		if g.head == len(g.pending) {
			if g.tick >= g.ticks {
				break
			}
			g.pending, g.head = g.pending[:0], 0
			stamp := g.first + g.tick
			if g.untimed {
				stamp = -1
			}
			for range poissonCount(g.rng, g.lambda) {
				ch := uint32(g.rng.Uint64N(uint64(g.channels)))
				e := aer.Event{Time: stamp, Port: g.port, Channel: ch}
				if g.keyed {
					e.Port, e.Channel = 0, uint32(g.port)<<16|ch
				}
				g.pending = append(g.pending, e)
			}
			g.tick++
			continue
		}
		k := copy(dst[n:], g.pending[g.head:])
		g.head += k
		n += k
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// runSendGen is aerie send --poisson.
func runSendGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie send --poisson RATE_HZ --to HOST:PORT [--channels N] [--duration D] [--burst] [--port P]\n"+
			"                  [--gen-tick 1ms] [--start-tick T] [--untimed] [--format native|eieio|jaer|spif] [--seed S] [--json]\n\n"+
			"Generates independent Poisson spike trains of RATE_HZ on each of N channels of input port P for D of\n"+
			"generated time (ticks of --gen-tick), and sends them paced to real time (RATE_HZ·N events/s), or as fast\n"+
			"as the socket takes them with --burst. Native events carry their tick (from --start-tick), or no time\n"+
			"with --untimed (time −1: aerie serve applies them at its next tick); keyed formats carry port<<16 | channel\n"+
			"(EIEIO --eieio lpg adds the tick).\n\nFlags:")
		fs.PrintDefaults()
	}
	rate := fs.Float64("poisson", 0, "spike rate of each channel, Hz (required)")
	channels := fs.Int("channels", 64, "channels")
	duration := fs.Duration("duration", time.Second, "generated time")
	burst := fs.Bool("burst", false, "send as fast as possible instead of at the generated rate")
	port := fs.Uint("port", 0, "input port")
	genTick := fs.Duration("gen-tick", time.Millisecond, "the tick of the generated stamps")
	startTick := fs.Int64("start-tick", 0, "stamp of the first generated tick")
	untimed := fs.Bool("untimed", false, "native: send events without time (time −1)")
	seed := fs.Uint64("seed", 1, "random seed")
	to := fs.String("to", "", "destination HOST:PORT (required)")
	format := fs.String("format", "native", "datagram format: native, eieio, jaer or spif")
	eieioType := fs.String("eieio", "k32", "EIEIO packets: k32 (untimed keys) or lpg (tick prefix)")
	batch := fs.Int("batch", aer.DefaultBatch, fmt.Sprintf("datagrams per system call, 1…%d", aer.MaxBatch))
	sndbuf := fs.Int("sndbuf", aer.DefaultWriteBuf, fmt.Sprintf("socket send buffer to ask for, bytes, 0…%d (0: the system's default)", maxSockBuf))
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return usagef("send --poisson: unexpected arguments %q (the traffic is generated)", pos)
	}
	if *to == "" {
		return usagef("send: --to HOST:PORT is required")
	}
	if !(*rate > 0) || math.IsInf(*rate, 0) || *channels <= 0 || *channels > 1<<16 || *duration <= 0 || *genTick <= 0 ||
		*port > 1<<15-1 || *startTick < 0 {
		return usagef("send --poisson: want RATE_HZ > 0, --channels 1…65536, --duration and --gen-tick > 0, --port < 32768, --start-tick ≥ 0")
	}
	ticks := int64(*duration / *genTick)
	lambda := *rate * float64(*channels) * genTick.Seconds()
	if lambda > 1e7 || float64(ticks)*lambda > 1e11 {
		return usagef("send --poisson: %.3g events per tick over %d ticks is more than a load test needs", lambda, ticks)
	}
	wf, err := aer.ParseWireFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	if *batch < 1 || *batch > aer.MaxBatch {
		return usagef("send: --batch %d: want 1…%d datagrams", *batch, aer.MaxBatch)
	}
	writeBuf, err := sockBuf("send: --sndbuf", *sndbuf)
	if err != nil {
		return err
	}
	conn, dst, err := sendSocket(*to)
	if err != nil {
		return err
	}
	defer conn.Close()
	cfg := aer.SenderConfig{Format: wf, Batch: *batch, WriteBuffer: writeBuf, EIEIO: aer.EIEIOHeader{Type: aer.EIEIOKey32}}
	switch *eieioType {
	case "k32":
	case "lpg":
		cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey32, HasPayloadPrefix: true, Timestamp: true}
	default:
		return usagef("send --poisson: --eieio must be k32 or lpg")
	}
	if !*burst {
		cfg.Rate = *rate * float64(*channels)
	}
	s, err := aer.NewSender(conn, dst, cfg)
	if err != nil {
		return err
	}
	src := &poissonSource{lambda: lambda, channels: uint32(*channels), port: uint16(*port), ticks: ticks, first: *startTick,
		untimed: *untimed || wf == aer.WireJAER || wf == aer.WireSPIF, keyed: wf != aer.WireNative,
		rng: rand.New(rand.NewPCG(*seed, 0x9e3779b97f4a7c15))}
	start := time.Now()
	_, err = aer.Copy(s, &ctxReader{ctx: ctx, r: src})
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	st := s.Stats()
	rep := sendReport{File: fmt.Sprintf("poisson:%gHz×%d", *rate, *channels), To: dst.String(), Format: wf.String(),
		Packets: st.Packets, Events: st.Events, Bytes: st.Bytes, Seconds: time.Since(start).Seconds()}
	if rep.Seconds > 0 {
		rep.EventsPerSec = float64(rep.Events) / rep.Seconds
	}
	if perr := printSend(stdout, rep, *asJSON); perr != nil {
		return perr
	}
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
