package main

// The AER commands: convert, inspect, send and record. Their logic lives in
// package aer; this file holds flags, files and summaries.

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/internal/fileio"
)

func init() {
	register(command{name: "convert", summary: "convert an event file between formats (native, csv, aedat2/3/4, nmnist, pcap)", run: runConvert})
	register(command{name: "inspect", summary: "summarise an event file or a capture (events, time span, addresses, rate)", run: runInspect})
	register(command{name: "send", summary: "send an event file or replay a capture over UDP (native, eieio, jaer, spif)", run: runSend})
	register(command{name: "record", summary: "receive AER over UDP into an event file and/or a pcap capture", run: runRecord})
}

// InspectHook lets another command file teach "aerie inspect" a file type
// that package aer does not know (a configuration image, say): append a
// function to inspectHooks in an init function. It gets the path and the
// file's first 64 bytes and reports whether it handled the file.
type InspectHook func(ctx context.Context, path string, head []byte, asJSON bool, stdout io.Writer) (handled bool, err error)

var inspectHooks []InspectHook

// formatFlags are the format flags that several AER commands share.
type formatFlags struct {
	from, to, layout, aedat3 string
	size, compression        string
	wire                     string // pcap input: decode every datagram as this wire format
}

// registerWire adds --wire, for commands that read captures as events.
func (ff *formatFlags) registerWire(fs *flag.FlagSet) {
	fs.StringVar(&ff.wire, "wire", "", "pcap input: decode every UDP datagram as this format: native, eieio, jaer, spif (default: by UDP port)")
}

func (ff *formatFlags) register(fs *flag.FlagSet, to bool) {
	fs.StringVar(&ff.from, "from", "", "input format: native, csv, aedat2, aedat3, aedat4, nmnist, pcap (default: by content, then extension)")
	if to {
		fs.StringVar(&ff.to, "to", "", "output format: native, csv, aedat2, aedat3, aedat4 (default: by extension)")
		fs.StringVar(&ff.aedat3, "aedat3-type", "polarity", "AEDAT 3.1 output events: polarity (Channel = x,y) or spike (Channel = neuron)")
		fs.StringVar(&ff.size, "size", "", "AEDAT 4.0 output: sensor size WxH (default: from the input's largest x and y)")
		fs.StringVar(&ff.compression, "compression", "lz4", "AEDAT 4.0 output: none, lz4, lz4-high, zstd or zstd-high")
	}
	fs.StringVar(&ff.layout, "layout", "raw", "AEDAT 2.0 address layout: raw, dvs128 or davis")
}

// openInput opens path for reading events; format comes from --from, the
// content, or the extension, in that order.
func (ff *formatFlags) openInput(path string) (aer.StreamReader, aer.Format, io.Closer, error) {
	layout, err := aer.ParseAEDAT2Layout(ff.layout)
	if err != nil {
		return nil, 0, nil, usageError{err.Error()}
	}
	var wire *aer.WireFormat
	if ff.wire != "" {
		wf, err := aer.ParseWireFormat(ff.wire)
		if err != nil {
			return nil, 0, nil, usageError{err.Error()}
		}
		wire = &wf
	}
	f := aer.FormatUnknown
	if ff.from != "" {
		if f, err = aer.ParseFormat(ff.from); err != nil {
			return nil, 0, nil, usageError{err.Error()}
		}
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, 0, nil, err
	}
	br := bufio.NewReaderSize(file, 1<<16)
	if f == aer.FormatUnknown {
		head, _ := br.Peek(64)
		if f = aer.DetectFormat(head); f == aer.FormatUnknown {
			f = aer.FormatFromName(path)
		}
		if f == aer.FormatUnknown {
			file.Close()
			return nil, 0, nil, fmt.Errorf("%s: unrecognised format (use --from)", path)
		}
	}
	r, f, err := aer.OpenReader(br, f, aer.ReadOptions{AEDAT2Layout: layout, Wire: wire})
	if err != nil {
		file.Close()
		return nil, f, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, file, nil
}

// outputFormat picks the output format from --to or the extension.
func (ff *formatFlags) outputFormat(path string) (aer.Format, aer.WriteOptions, error) {
	var opt aer.WriteOptions
	var err error
	if opt.AEDAT2Layout, err = aer.ParseAEDAT2Layout(ff.layout); err != nil {
		return 0, opt, usageError{err.Error()}
	}
	switch ff.aedat3 {
	case "", "polarity":
		opt.AEDAT3Type = aer.AEDAT3Polarity
	case "spike":
		opt.AEDAT3Type = aer.AEDAT3Spike
	default:
		return 0, opt, usagef("--aedat3-type must be polarity or spike")
	}
	comps := map[string]int{"none": 0, "lz4": 1, "lz4-high": 2, "zstd": 3, "zstd-high": 4}
	c, ok := comps[ff.compression]
	if !ok {
		return 0, opt, usagef("--compression must be none, lz4, lz4-high, zstd or zstd-high")
	}
	opt.AEDAT4Compression = c
	if ff.size != "" {
		w, h, ok := strings.Cut(ff.size, "x")
		var err1, err2 error
		opt.Width, err1 = strconv.Atoi(w)
		opt.Height, err2 = strconv.Atoi(h)
		if !ok || err1 != nil || err2 != nil || opt.Width < 1 || opt.Width > maxSensor || opt.Height < 1 || opt.Height > maxSensor {
			return 0, opt, usagef("--size %q: want WxH with 1 ≤ W, H ≤ %d, e.g. 346x260", ff.size, maxSensor)
		}
	}
	f := aer.FormatFromName(path)
	if strings.EqualFold(filepath.Ext(path), ".aedat") {
		f = aer.FormatAEDAT3
	}
	if ff.to != "" {
		if f, err = aer.ParseFormat(ff.to); err != nil {
			return 0, opt, usageError{err.Error()}
		}
	}
	if f == aer.FormatUnknown {
		return 0, opt, usagef("cannot tell the output format of %q (use --to)", path)
	}
	if !f.Writable() {
		return 0, opt, usagef("cannot write %v files (writable: native, csv, aedat2, aedat3, aedat4)", f)
	}
	return f, opt, nil
}

// Ranges of the size-like flags of the AER commands (docs/limits.md).
const (
	maxSensor  = 32768   // --size: AEDAT 4.0 stores x and y as int16
	maxSockBuf = 1 << 30 // --sndbuf, --rcvbuf
	minRate    = 1.0     // --rate: events per second, when paced (a slower stream would wait uninterruptibly)
	maxRate    = 1e9
	minSpeed   = 1e-3 // --speed
	maxSpeed   = 1e6
	// --pcap-max: the default and the range of a capture's size
	defaultPcapMax = 1 << 30
	minPcapMax     = 1 << 10
	maxPcapMax     = 1 << 40
)

// parseSize parses a byte count: a number with an optional binary suffix
// KiB, MiB, GiB or TiB ("512MiB").
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for i, suf := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if strings.HasSuffix(s, suf) {
			s, mult = strings.TrimSuffix(s, suf), int64(1)<<(10*(i+1))
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("want a byte count such as 1073741824 or 1GiB")
	}
	return n * mult, nil
}

// formatBytes prints n in the largest binary unit that divides it.
func formatBytes(n int64) string {
	for i, u := range []string{"TiB", "GiB", "MiB", "KiB"} {
		if m := int64(1) << (10 * (4 - i)); n >= m && n%m == 0 {
			return fmt.Sprintf("%d %s", n/m, u)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// sendSocket resolves a --to destination (refusing port 0) and opens the
// UDP socket that aerie send writes from: one place for every sender.
func sendSocket(to string) (*net.UDPConn, *net.UDPAddr, error) {
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		return nil, nil, usagef("send: --to: %v", err)
	}
	if dst.Port == 0 {
		return nil, nil, usagef("send: --to %s: port 0 is not a destination", to)
	}
	network := "udp4"
	if dst.IP.To4() == nil && dst.IP != nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, nil, err
	}
	return conn, dst, nil
}

// sockBuf maps a --sndbuf/--rcvbuf value onto the aer configs, where 0
// means the default and a negative value the system's: the flag's 0 is
// the system's.
func sockBuf(flagName string, v int) (int, error) {
	if v < 0 || v > maxSockBuf {
		return 0, usagef("%s %d: want 0…%d bytes (0: the system's default)", flagName, v, maxSockBuf)
	}
	if v == 0 {
		return -1, nil
	}
	return v, nil
}

// convertReport is the --json output of aerie convert.
type convertReport struct {
	In     string `json:"in"`
	Out    string `json:"out"`
	From   string `json:"from"`
	To     string `json:"to"`
	Events int64  `json:"events"`
}

func runConvert(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("convert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie convert IN OUT [--from FORMAT] [--to FORMAT] [--layout raw|dvs128|davis] [--aedat3-type polarity|spike]\n                     [--size WxH] [--compression none|lz4|zstd] [--wire FORMAT] [--json]")
		fs.PrintDefaults()
	}
	var ff formatFlags
	ff.register(fs, true)
	unitFlag := fs.String("unit", "", "override the time unit written to the output: tick or us")
	ff.registerWire(fs)
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("convert: want IN and OUT, got %d arguments", len(pos))
	}
	in, out := pos[0], pos[1]
	of, opt, err := ff.outputFormat(out)
	if err != nil {
		return err
	}
	if out == "-" && *asJSON {
		return usagef("convert: --json prints on standard output, which OUT - already takes")
	}
	if err := fileio.CheckOutputs([]fileio.Path{{Name: in}}, fileio.Path{Name: out}); err != nil {
		return err
	}
	if of == aer.FormatAEDAT4 && opt.Width == 0 {
		// AEDAT 4.0 records the sensor size up front: take it from a first
		// pass over the input.
		r, _, closer, err := ff.openInput(in)
		if err != nil {
			return err
		}
		sum, err := aer.Summarize(&ctxReader{ctx: ctx, r: r}, r.Unit())
		closer.Close()
		if err != nil {
			return fmt.Errorf("convert %s: %w", in, err)
		}
		opt.Width, opt.Height = int(sum.MaxX)+1, int(sum.MaxY)+1
		if sum.Events == 0 {
			opt.Width, opt.Height = 1, 1
		}
	}
	r, inf, closer, err := ff.openInput(in)
	if err != nil {
		return err
	}
	defer closer.Close()
	unit := r.Unit()
	switch *unitFlag {
	case "":
	case "tick":
		unit = aer.Tick
	case "us":
		unit = aer.Microsecond
	default:
		return usagef("--unit must be tick or us")
	}
	af, err := fileio.CreateWithStdout(out, stdout)
	if err != nil {
		return err
	}
	defer af.Abort()
	w, err := aer.OpenWriter(af, of, unit, opt)
	if err != nil {
		return err
	}
	n, err := aer.Copy(w, &ctxReader{ctx: ctx, r: r})
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return fmt.Errorf("convert %s: %w", in, err)
	}
	if err := af.Commit(); err != nil {
		return err
	}
	rep := convertReport{In: in, Out: out, From: inf.String(), To: of.String(), Events: n}
	if *asJSON {
		return writeJSON(stdout, rep)
	}
	if out == "-" {
		stdout = stderr // the events took standard output
	}
	fmt.Fprintf(stdout, "%s (%s) → %s (%s): %d events\n", in, inf, out, of, n)
	return nil
}

// keyMapReader maps events between (port, channel) and SpiNNaker keys as
// they pass.
type keyMapReader struct {
	r        aer.Reader
	m        *aer.KeyMap
	toKeys   bool
	unmapped int64
}

func (k *keyMapReader) Read(dst []aer.Event) (int, error) {
	n, err := k.r.Read(dst)
	if k.toKeys {
		k.unmapped += int64(k.m.ToKeys(dst[:n]))
	} else {
		k.unmapped += int64(k.m.FromKeys(dst[:n]))
	}
	return n, err
}

// ctxReader stops a long read when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   aer.Reader
}

func (c *ctxReader) Read(dst []aer.Event) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(dst)
}

// inspectReport is the --json output of aerie inspect.
type inspectReport struct {
	File   string `json:"file"`
	Format string `json:"format"`
	aer.Summary
	Seconds float64    `json:"seconds"` // time span in seconds (µs streams)
	Capture *aer.Stats `json:"capture,omitempty"`
	// Datagrams and Unknown describe a pcap: UDP datagrams with AER, UDP
	// datagrams on other ports. Skipped counts the packets not decoded:
	// a pcap's packets that are not UDP, AEDAT 3.1 and 4.0 packets of
	// other event types (frames, IMU, triggers); SkippedEvents the AEDAT
	// 2.0 events that the address layout skips (DAVIS APS and IMU).
	Datagrams     int64   `json:"datagrams,omitempty"`
	Skipped       int64   `json:"skipped_packets,omitempty"`
	SkippedEvents int64   `json:"skipped_events,omitempty"`
	Unknown       int64   `json:"unknown_datagrams,omitempty"`
	CaptureSpan   float64 `json:"capture_seconds,omitempty"`
	Error         string  `json:"error,omitempty"`
}

func runInspect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie inspect FILE [--from FORMAT] [--wire native|eieio|jaer|spif] [--layout raw|dvs128|davis] [--json]")
		fs.PrintDefaults()
	}
	var ff formatFlags
	ff.register(fs, false)
	ff.registerWire(fs)
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("inspect: want one FILE, got %d arguments", len(pos))
	}
	path := pos[0]
	if len(inspectHooks) > 0 && ff.from == "" {
		head := make([]byte, 64)
		if f, err := os.Open(path); err == nil {
			n, _ := io.ReadFull(f, head)
			f.Close()
			head = head[:n]
			if aer.DetectFormat(head) == aer.FormatUnknown {
				for _, h := range inspectHooks {
					if ok, err := h(ctx, path, head, *asJSON, stdout); ok {
						return err
					}
				}
			}
		}
	}
	r, f, closer, err := ff.openInput(path)
	if err != nil {
		return err
	}
	defer closer.Close()
	sum, rerr := aer.Summarize(&ctxReader{ctx: ctx, r: r}, r.Unit())
	rep := inspectReport{File: path, Format: f.String(), Summary: sum}
	if sum.Unit == "us" {
		rep.Seconds = (float64(sum.MaxTime) - float64(sum.MinTime)) / 1e6 // in float: the span may overflow int64
	}
	switch r := r.(type) {
	case *aer.PcapEvents:
		st := r.Stats()
		rep.Capture = &st
		rep.Datagrams = int64(st.Packets)
		rep.Skipped = r.Capture().Skipped
		rep.Unknown = r.Unknown
		rep.CaptureSpan = r.Last.Sub(r.First).Seconds()
	case *aer.AEDAT3Reader:
		rep.Skipped = r.SkippedPackets
	case *aer.AEDAT4Reader:
		rep.Skipped = r.SkippedPackets
	case *aer.AEDAT2Reader:
		rep.SkippedEvents = r.Skipped
	}
	if rerr != nil {
		rep.Error = rerr.Error()
	}
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		printInspect(stdout, rep)
	}
	if rerr != nil {
		return fmt.Errorf("%s: %w (summary covers the events before the error)", path, rerr)
	}
	return nil
}

func printInspect(w io.Writer, rep inspectReport) {
	s := rep.Summary
	fmt.Fprintf(w, "file      %s\nformat    %s\nevents    %d\n", rep.File, rep.Format, s.Events)
	if s.Events > 0 {
		fmt.Fprintf(w, "time      %d .. %d %s (first %d, last %d", s.MinTime, s.MaxTime, s.Unit, s.FirstTime, s.LastTime)
		if s.OutOfOrder > 0 {
			fmt.Fprintf(w, ", %d out of order", s.OutOfOrder)
		}
		fmt.Fprintln(w, ")")
		if s.Unit == "us" {
			fmt.Fprintf(w, "span      %.6f s\nrate      %.0f events/s\n", rep.Seconds, s.Rate)
		} else {
			fmt.Fprintf(w, "rate      %.3f events/tick\n", s.Rate)
		}
		fmt.Fprintf(w, "channels  %d .. %d (as x,y: x %d..%d, y %d..%d)\n", s.MinChannel, s.MaxChannel, s.MinX, s.MaxX, s.MinY, s.MaxY)
		fmt.Fprintf(w, "ports     %s\n", portList(s.Ports))
	}
	if c := rep.Capture; c != nil {
		fmt.Fprintf(w, "capture   %d AER datagrams over %.3f s; lost %d, duplicate %d, reordered %d, late %d, malformed %d, commands %d; %d non-UDP packets, %d datagrams on other ports\n",
			c.Packets, rep.CaptureSpan, c.Lost, c.Duplicate, c.Reordered, c.Late, c.Malformed, c.Commands, rep.Skipped, rep.Unknown)
	} else if rep.Skipped > 0 {
		fmt.Fprintf(w, "skipped   %d packets of other event types (frames, IMU, triggers, ...)\n", rep.Skipped)
	}
	if rep.SkippedEvents > 0 {
		fmt.Fprintf(w, "skipped   %d events that are not DVS events (APS, IMU)\n", rep.SkippedEvents)
	}
}

func portList(ports []int) string {
	const show = 16
	var b strings.Builder
	for i, p := range ports {
		if i == show {
			fmt.Fprintf(&b, " ... (%d ports)", len(ports))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(p))
	}
	return b.String()
}

// sendReport is the --json output of aerie send.
type sendReport struct {
	File         string  `json:"file"`
	To           string  `json:"to"`
	Format       string  `json:"format"`
	Packets      uint64  `json:"packets"`
	Events       uint64  `json:"events"`
	Bytes        uint64  `json:"bytes"`
	Seconds      float64 `json:"seconds"`
	EventsPerSec float64 `json:"events_per_s"`
	Lost         uint64  `json:"lost"`      // always 0: the sender cannot see loss
	Malformed    uint64  `json:"malformed"` // always 0
	Replay       bool    `json:"replay"`
	Unmapped     int64   `json:"unmapped,omitempty"` // --keymap: events whose port has no keys (sent unchanged)
}

func runSend(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if sendGenRequested(args) { // generated traffic: cmd_send_gen.go
		return runSendGen(ctx, args, stdout, stderr)
	}
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie send FILE --to HOST:PORT [--format native|eieio|jaer|spif] [--rate EPS] [--json]\n       aerie send CAPTURE.pcap --to HOST:PORT [--fast] [--speed X]   (replay, keeping the capture's timing)\n       aerie send --poisson RATE_HZ --channels N --duration D --to HOST:PORT [--burst] [--json]   (synthetic load; aerie send --poisson -h for its flags)")
		fs.PrintDefaults()
	}
	var ff formatFlags
	ff.register(fs, false)
	to := fs.String("to", "", "destination HOST:PORT (required)")
	format := fs.String("format", "native", "datagram format: native, eieio, jaer or spif")
	rate := fs.Float64("rate", 0, fmt.Sprintf("events per second, %g…%g (0: as fast as the socket takes them)", minRate, maxRate))
	batch := fs.Int("batch", aer.DefaultBatch, fmt.Sprintf("datagrams per system call, 1…%d", aer.MaxBatch))
	sndbuf := fs.Int("sndbuf", aer.DefaultWriteBuf, fmt.Sprintf("socket send buffer to ask for, bytes, 0…%d (0: the system's default)", maxSockBuf))
	eieioType := fs.String("eieio", "k32", "EIEIO packets: k16, k32, k32p32 (key+payload) or lpg (timestep prefix, as the live packet gatherer)")
	sdp := fs.String("sdp", "", "wrap EIEIO in SDP for injection through port 17893 to X,Y,CPU")
	spifTime := fs.Bool("spif-time", false, "SPIF: send a timestamp word after each event")
	jaerSeq := fs.Bool("jaer-seq", true, "jAER: start each datagram with a sequence number (jAER's default)")
	keymap := fs.String("keymap", "", "EIEIO: send (port, channel) as SpiNNaker keys, PORT=BASE/MASK,... (e.g. 0=0x800/0xfffff800)")
	fast := fs.Bool("fast", false, "replay a capture as fast as possible instead of with its timing")
	speed := fs.Float64("speed", 1, fmt.Sprintf("replay speed factor, %g…%g (2: twice as fast)", minSpeed, maxSpeed))
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("send: want one FILE, got %d arguments", len(pos))
	}
	if *to == "" {
		return usagef("send: --to HOST:PORT is required")
	}
	switch {
	case !(*rate == 0 || *rate >= minRate && *rate <= maxRate):
		return usagef("send: --rate %v: want 0 (unpaced) or %g…%g events per second", *rate, minRate, maxRate)
	case !(*speed >= minSpeed && *speed <= maxSpeed):
		return usagef("send: --speed %v: want %g…%g", *speed, minSpeed, maxSpeed)
	case *batch < 1 || *batch > aer.MaxBatch:
		return usagef("send: --batch %d: want 1…%d datagrams", *batch, aer.MaxBatch)
	}
	writeBuf, err := sockBuf("send: --sndbuf", *sndbuf)
	if err != nil {
		return err
	}
	wf, err := aer.ParseWireFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	conn, dst, err := sendSocket(*to)
	if err != nil {
		return err
	}
	defer conn.Close()
	path := pos[0]
	start := time.Now()
	rep := sendReport{File: path, To: dst.String(), Format: wf.String()}

	isPcap := ff.from == "pcap" || ff.from == "pcapng"
	if ff.from == "" {
		if f, err := os.Open(path); err == nil {
			head := make([]byte, 16)
			n, _ := io.ReadFull(f, head)
			f.Close()
			isPcap = aer.DetectFormat(head[:n]) == aer.FormatPcap
		}
	}
	if isPcap {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		pr, err := aer.NewPcapReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		st, err := aer.Replay(ctx, pr, conn, dst, *fast, *speed)
		rep.Packets, rep.Bytes, rep.Replay, rep.Format = uint64(st.Packets), uint64(st.Bytes), true, "pcap"
		rep.Seconds = time.Since(start).Seconds()
		if err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("send: %d datagrams replayed before the error: %w", rep.Packets, err)
		}
		return printSend(stdout, rep, *asJSON)
	}

	cfg := aer.SenderConfig{Format: wf, Rate: *rate, Batch: *batch, WriteBuffer: writeBuf, SPIFTime: *spifTime, JAERNoSeq: !*jaerSeq}
	switch *eieioType {
	case "k16":
		cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey16}
	case "k32":
		cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey32}
	case "k32p32":
		cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey32Payload32}
	case "lpg":
		cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey32, HasPayloadPrefix: true, Timestamp: true}
	default:
		return usagef("send: --eieio must be k16, k32, k32p32 or lpg")
	}
	if *sdp != "" {
		var v [3]uint64
		parts := strings.Split(*sdp, ",")
		ok := len(parts) == 3
		for i := 0; ok && i < 3; i++ {
			var err error
			v[i], err = strconv.ParseUint(parts[i], 10, 8)
			ok = err == nil
		}
		if !ok || v[2] > 17 {
			return usagef("send: --sdp %q: want X,Y,CPU with X and Y in 0…255 and CPU in 0…17", *sdp)
		}
		h := aer.InjectionSDP(uint8(v[0]), uint8(v[1]), uint8(v[2]))
		cfg.SDP = &h
	}
	r, _, closer, err := ff.openInput(path)
	if err != nil {
		return err
	}
	defer closer.Close()
	cfg.Unit = r.Unit()
	s, err := aer.NewSender(conn, dst, cfg)
	if err != nil {
		return err
	}
	src := aer.Reader(&ctxReader{ctx: ctx, r: r})
	var km *keyMapReader
	if *keymap != "" {
		m, err := aer.ParseKeyMap(*keymap)
		if err != nil {
			return usageError{err.Error()}
		}
		km = &keyMapReader{r: src, m: m, toKeys: true}
		src = km
	}
	_, err = aer.Copy(s, src)
	if km != nil {
		rep.Unmapped = km.unmapped
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	st := s.Stats()
	rep.Packets, rep.Events, rep.Bytes = st.Packets, st.Events, st.Bytes
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.EventsPerSec = float64(rep.Events) / rep.Seconds
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		// no summary on stdout: it would read as a success.
		return fmt.Errorf("send: %d events in %d datagrams sent before the error: %w", rep.Events, rep.Packets, err)
	}
	return printSend(stdout, rep, *asJSON) // interrupted or done: the summary says what went out
}

func printSend(w io.Writer, rep sendReport, asJSON bool) error {
	if asJSON {
		return writeJSON(w, rep)
	}
	if rep.Replay {
		_, err := fmt.Fprintf(w, "replayed %d datagrams (%d bytes) from %s to %s in %.3f s\n", rep.Packets, rep.Bytes, rep.File, rep.To, rep.Seconds)
		return err
	}
	_, err := fmt.Fprintf(w, "sent %d events in %d %s datagrams (%d bytes) to %s in %.3f s: %.3g events/s\n",
		rep.Events, rep.Packets, rep.Format, rep.Bytes, rep.To, rep.Seconds, rep.EventsPerSec)
	return err
}

// recordReport is the --json output of aerie record.
type recordReport struct {
	Listen  string  `json:"listen"`
	Out     string  `json:"out,omitempty"`
	Pcap    string  `json:"pcap,omitempty"`
	Format  string  `json:"format"`
	Written int64   `json:"written"` // events written to --out
	Seconds float64 `json:"seconds"`
	Stop    string  `json:"stop"` // count, timeout, interrupt, pcap-max or error
	// Unmapped counts events whose key no --keymap port claims (kept as keys).
	Unmapped int64 `json:"unmapped,omitempty"`
	aer.Stats
}

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie record --listen ADDR (--out FILE | --pcap FILE [--pcap-max SIZE]) [--format native|eieio|jaer|spif] [--count N] [--timeout DURATION] [--json]")
		fs.PrintDefaults()
	}
	var ff formatFlags
	ff.register(fs, true)
	listen := fs.String("listen", "", "UDP address to listen on, HOST:PORT (required)")
	out := fs.String("out", "", "event file to write (format by --to or extension)")
	pcapOut := fs.String("pcap", "", "also (or only) capture the raw datagrams to this pcap file")
	format := fs.String("format", "native", "datagram format: native, eieio, jaer or spif")
	sdp := fs.Bool("sdp", false, "EIEIO datagrams are wrapped in SDP (traffic to port 17893)")
	jaerSeq := fs.Bool("jaer-seq", true, "jAER datagrams start with a sequence number (jAER's default)")
	keymap := fs.String("keymap", "", "EIEIO: turn SpiNNaker keys into (port, channel), PORT=BASE/MASK,... (e.g. 0=0x800/0xfffff800)")
	count := fs.Int64("count", 0, "stop after N events (0: no limit)")
	timeout := fs.Duration("timeout", 0, "stop after this long (0: no limit)")
	rcvbuf := fs.Int("rcvbuf", aer.DefaultReadBuffer, fmt.Sprintf("socket receive buffer to ask for, bytes, 0…%d (0: the system's default; capped by net.core.rmem_max)", maxSockBuf))
	pcapMax := fs.String("pcap-max", formatBytes(defaultPcapMax), fmt.Sprintf("stop when the --pcap capture would pass this size, bytes or KiB/MiB/GiB/TiB, %s…%s",
		formatBytes(minPcapMax), formatBytes(maxPcapMax)))
	unitFlag := fs.String("unit", "", "time unit of the events: tick or us (default: tick for native and eieio, us for jaer and spif);\n"+
		"EIEIO packets without timestamps get their arrival time since the first datagram, in µs or 1 ms ticks")
	asJSON := fs.Bool("json", false, "print one JSON report on stdout")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("record: unexpected argument %q", pos[0])
	}
	if *listen == "" || (*out == "" && *pcapOut == "") {
		return usagef("record: --listen and one of --out or --pcap are required")
	}
	if *count < 0 || *timeout < 0 {
		return usagef("record: --count and --timeout must be ≥ 0")
	}
	readBuf, err := sockBuf("record: --rcvbuf", *rcvbuf)
	if err != nil {
		return err
	}
	capLimit, err := parseSize(*pcapMax)
	if err == nil && (capLimit < minPcapMax || capLimit > maxPcapMax) {
		err = fmt.Errorf("want %s…%s", formatBytes(minPcapMax), formatBytes(maxPcapMax))
	}
	if err != nil {
		return usagef("record: --pcap-max %q: %v", *pcapMax, err)
	}
	wf, err := aer.ParseWireFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	unit := aer.Tick
	if wf == aer.WireJAER || wf == aer.WireSPIF {
		unit = aer.Microsecond
	}
	switch *unitFlag {
	case "":
	case "tick":
		unit = aer.Tick
	case "us":
		unit = aer.Microsecond
	default:
		return usagef("record: --unit must be tick or us")
	}
	laddr, err := net.ResolveUDPAddr("udp", *listen)
	if err != nil {
		return usagef("record: --listen: %v", err)
	}
	var km *aer.KeyMap
	if *keymap != "" {
		if km, err = aer.ParseKeyMap(*keymap); err != nil {
			return usageError{err.Error()}
		}
	}

	if (*out == "-" || *pcapOut == "-") && *asJSON {
		return usagef("record: --json prints on standard output, which an output - already takes")
	}
	// Check and open the outputs before the socket, so that a bad path
	// fails early.
	if err := fileio.CheckOutputs(nil, fileio.Path{Flag: "--out", Name: *out}, fileio.Path{Flag: "--pcap", Name: *pcapOut}); err != nil {
		return err
	}
	var w aer.Writer
	var outFile *fileio.Output
	if *out != "" {
		of, opt, err := ff.outputFormat(*out)
		if err != nil {
			return err
		}
		if of == aer.FormatAEDAT4 && opt.Width == 0 {
			return usagef("record: --size WxH is required for AEDAT 4.0 output")
		}
		if outFile, err = fileio.CreateWithStdout(*out, stdout); err != nil {
			return err
		}
		defer outFile.Abort()
		if w, err = aer.OpenWriter(outFile, of, unit, opt); err != nil {
			return err
		}
	}
	var pw *aer.PcapWriter
	var pcapFile *fileio.Output
	if *pcapOut != "" {
		if pcapFile, err = fileio.CreateWithStdout(*pcapOut, stdout); err != nil {
			return err
		}
		defer pcapFile.Abort()
		if pw, err = aer.NewPcapWriter(pcapFile); err != nil {
			return err
		}
		pw.Limit = capLimit
	}
	if *out == "-" || *pcapOut == "-" {
		stdout = stderr // the report goes to stderr, the events took stdout
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return err
	}
	defer conn.Close()
	local := conn.LocalAddr()
	var pcapErr error
	cfg := aer.ReceiverConfig{Format: wf, ReadBuffer: readBuf, SDP: *sdp, JAERNoSeq: !*jaerSeq, Unit: unit}
	if pw != nil {
		cfg.Tap = func(b []byte, from net.Addr) {
			if pcapErr == nil {
				pcapErr = pw.WriteDatagram(time.Now(), from, local, b)
			}
		}
	}
	rx, err := aer.NewReceiver(conn, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "aerie record: listening on %s (%s)\n", local, wf)

	// Stop on interrupt or timeout by moving the read deadline.
	start := time.Now()
	stopCh := make(chan string, 1)
	done := make(chan struct{})
	defer close(done)
	go func() {
		var tc <-chan time.Time
		if *timeout > 0 {
			t := time.NewTimer(*timeout)
			defer t.Stop()
			tc = t.C
		}
		select {
		case <-ctx.Done():
			stopCh <- "interrupt"
		case <-tc:
			stopCh <- "timeout"
		case <-done:
			return
		}
		conn.SetReadDeadline(time.Now())
	}()

	rep := recordReport{Listen: local.String(), Out: *out, Pcap: *pcapOut, Format: wf.String()}
	buf := make([]aer.Event, 8192)
	var runErr error
	for {
		n, err := rx.Read(buf)
		if *count > 0 && rep.Written+int64(n) > *count {
			n = int(*count - rep.Written)
		}
		if km != nil {
			rep.Unmapped += int64(km.FromKeys(buf[:n]))
		}
		if w != nil && n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				runErr, rep.Stop = werr, "error"
				break
			}
		}
		rep.Written += int64(n)
		if *count > 0 && rep.Written >= *count {
			rep.Stop = "count"
			break
		}
		if err != nil {
			select {
			case rep.Stop = <-stopCh:
			default:
				runErr, rep.Stop = err, "error"
			}
			break
		}
		if errors.Is(pcapErr, aer.ErrCaptureFull) {
			rep.Stop = "pcap-max"
			fmt.Fprintf(stderr, "aerie record: the capture %s reached --pcap-max %s; stopped\n", *pcapOut, formatBytes(capLimit))
			break
		}
		if pcapErr != nil {
			runErr, rep.Stop = pcapErr, "error"
			break
		}
	}
	if w == nil {
		rep.Written = 0
	}
	// Always leave valid files behind.
	if w != nil {
		if err := w.Close(); err != nil && runErr == nil {
			runErr = err
		}
		if err := outFile.Commit(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if pw != nil {
		if err := pw.Flush(); err != nil && runErr == nil {
			runErr = err
		}
		if err := pcapFile.Commit(); err != nil && runErr == nil {
			runErr = err
		}
	}
	rep.Stats = rx.Stats()
	rep.Seconds = time.Since(start).Seconds()
	if *asJSON {
		if err := writeJSON(stdout, rep); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(stdout, "recorded %d events (%d datagrams, %d bytes) in %.3f s, stopped by %s; lost %d, duplicate %d, reordered %d, late %d, malformed %d, commands %d\n",
			rep.Written, rep.Packets, rep.Bytes, rep.Seconds, rep.Stop, rep.Lost, rep.Duplicate, rep.Reordered, rep.Late, rep.Malformed, rep.Commands)
	}
	if rep.Malformed > 0 && rx.LastMalformed != nil {
		fmt.Fprintf(stderr, "aerie record: last malformed datagram: %v\n", rx.LastMalformed)
	}
	return runErr
}
