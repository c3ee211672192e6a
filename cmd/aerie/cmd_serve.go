package main

// aerie serve: run a configuration image live, AER over UDP in and out.
// The server is package live; this file parses flags, opens files and
// prints the summary.

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/internal/fileio"
	"github.com/aerie-neuro/aerie/live"
)

func init() {
	register(command{name: "serve", summary: "run an image live: AER over UDP in and out (real-time or fast, SpiNNaker live clients): aerie serve --image net.img --to HOST:PORT", run: runServe})
}

// parseByteSize reads a byte count with an optional K, M or G suffix (powers
// of 1024).
func parseByteSize(s string) (int64, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	mult := int64(1)
	u := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(s, "B"), "i"))
	switch {
	case strings.HasSuffix(u, "K"):
		mult, u = 1<<10, u[:len(u)-1]
	case strings.HasSuffix(u, "M"):
		mult, u = 1<<20, u[:len(u)-1]
	case strings.HasSuffix(u, "G"):
		mult, u = 1<<30, u[:len(u)-1]
	}
	n, err := strconv.ParseInt(u, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("want a size in bytes such as 100M, got %q", s)
	}
	return n * mult, nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: aerie serve --image net.img [--chip NAME|FILE] [--listen 127.0.0.1:7433] [--to HOST:PORT,...] [--reply]\n"+
			"                   [--format native|eieio|jaer|spif] [--tick 1ms | --fast [--idle 10ms]] [--late apply|drop]\n"+
			"                   [--record out.aer [--record-max 100M]] [--pcap out.pcap [--pcap-max 100M]] [--metrics 127.0.0.1:9090]\n"+
			"                   [--allow CIDR,...] [--ticks N] [--duration D] [--paused] [--json]\n"+
			"       aerie serve --image net.img --spinnaker-live [--listen 127.0.0.1:17893] [--notify 127.0.0.1:19999] [--database db.sqlite3]\n\n"+
			"Runs the image live. Input datagrams map through the image's input ports (native: Port = input port\n"+
			"index, time = tick, a negative time = untimed; EIEIO keys, jAER addresses and SPIF x/y: port<<16 | channel,\n"+
			"see the key allocation printed at start); output-port spikes leave to every --to destination, one batch\n"+
			"per tick. Stops on SIGINT/SIGTERM (or --ticks, --duration), finishing the current tick, and prints a\n"+
			"summary. Protocol, modes and figures: docs/live.md.\n\nFlags:")
		fs.PrintDefaults()
	}
	imgPath := fs.String("image", "", "the configuration image (required)")
	chipArg := fs.String("chip", "", "chip preset name or TOML file (default: the chip the image names)")
	listen := fs.String("listen", "", "UDP address to listen on (default 127.0.0.1:7433, or 127.0.0.1:17893 with --spinnaker-live)")
	to := fs.String("to", "", "output destinations HOST:PORT,... (output goes nowhere without --to, --reply or a SpiNNaker IP tag)")
	reply := fs.Bool("reply", false, fmt.Sprintf("also send output to every sender of valid input (at most %d)", live.MaxReplyDestinations))
	format := fs.String("format", "native", "datagram format in and out: native, eieio, jaer or spif")
	tick := fs.Duration("tick", time.Millisecond, "real-time mode: the tick period")
	fast := fs.Bool("fast", false, "fast mode: advance as soon as a tick's input is known (time stamps drive time)")
	idle := fs.Duration("idle", live.DefaultIdle, "fast mode: run a tick after this long without one (0: only time stamps and untimed input move time)")
	drain := fs.Int("drain", 0, "fast mode: ticks run after untimed input and at shutdown (0: the image's longest delay + 2)")
	late := fs.String("late", "apply", "events stamped for a tick that has run: apply (at the next tick) or drop; both are counted")
	inputTime := fs.String("input-time", "stamp", "stamp: time stamps say the tick; arrival: every event applies at the next tick")
	tickUS := fs.Float64("tick-us", 0, "µs per tick for µs time stamps (0: the tick period, 1000 in fast mode)")
	allow := fs.String("allow", "", "accept datagrams only from these CIDR prefixes or addresses, comma-separated (others are counted and dropped)")
	queue := fs.Int("queue", live.DefaultQueue, "input events that may wait for their tick (more are dropped and counted)")
	horizon := fs.Int("horizon", live.DefaultHorizon, "how many ticks ahead an input event may be stamped")
	rcvbuf := fs.Int("rcvbuf", aer.DefaultReadBuffer, "socket receive buffer to ask for, bytes (capped by net.core.rmem_max)")
	ticks := fs.Uint64("ticks", 0, "stop after N ticks (0: no limit)")
	duration := fs.Duration("duration", 0, "stop after this much wall time (0: no limit)")
	paused := fs.Bool("paused", false, "wait for an EIEIO START_RESUME command (0B 40) before the first tick")
	record := fs.String("record", "", "write the output spikes to this event file (format by extension or --record-format)")
	recordFormat := fs.String("record-format", "", "format of --record: native, csv, aedat2, aedat3 (default: by extension)")
	recordMax := fs.String("record-max", "", "stop recording (with a message) at this size, e.g. 100M")
	pcapPath := fs.String("pcap", "", "capture every datagram in and out to this pcap file")
	pcapMax := fs.String("pcap-max", "", "stop capturing (with a message) at this size, e.g. 100M")
	metrics := fs.String("metrics", "", "serve Prometheus metrics (/metrics) and the status JSON (/status) on this TCP address, e.g. 127.0.0.1:9090")
	status := fs.Duration("status", 2*time.Second, "status line interval on stderr when stderr is a terminal (0: none)")
	seedArg := fs.String("seed", "", "replace the image's noise seed")
	workers := fs.Int("workers", 0, "worker goroutines of the chip (0: automatic)")
	spinn := fs.Bool("spinnaker-live", false, "SpiNNaker live mode: speak to an unmodified sPyNNaker LiveEventConnection (SCP/SDP on the listen port)")
	notify := fs.String("notify", live.DefaultNotify, "SpiNNaker live mode: the client's notification address")
	database := fs.String("database", "", "SpiNNaker live mode: write the label→key database (an SQLite 3 file) here and announce its path to the client (default: aerie-<image name>.sqlite3 in the temporary directory)")
	databaseSQL := fs.String("database-sql", "", "SpiNNaker live mode: also write the label→key database as an SQL script here")
	ackTimeout := fs.Duration("ack-timeout", 10*time.Second, "SpiNNaker live mode: how long to wait for the client's acknowledgement")
	asJSON := fs.Bool("json", false, "print the summary as one JSON object")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if len(pos) != 0 {
		return usagef("serve: unexpected arguments %q", pos)
	}
	if *imgPath == "" {
		return usagef("serve: --image is required")
	}
	if *fast && set["tick"] {
		return usagef("serve: --tick (real time) and --fast exclude each other")
	}
	if !*fast && (*tick <= 0 || *tick > time.Hour) {
		return usagef("serve: --tick %v: want a period between 1ns and 1h", *tick)
	}
	if *idle < 0 || *duration < 0 || *status < 0 || *ackTimeout < 0 {
		return usagef("serve: --idle, --duration, --status and --ack-timeout must be ≥ 0")
	}
	if *queue <= 0 || *horizon <= 0 || *horizon > 1<<24 || *drain < 0 || *drain > 1<<20 || *workers < 0 || *workers > 1024 || *tickUS < 0 {
		return usagef("serve: --queue and --horizon (≤ 2^24) must be > 0, --drain 0…2^20, --workers 0…1024, --tick-us ≥ 0")
	}
	wf, err := aer.ParseWireFormat(*format)
	if err != nil {
		return usageError{err.Error()}
	}
	if *spinn {
		if set["format"] && wf != aer.WireEIEIO {
			return usagef("serve: --spinnaker-live speaks EIEIO, not %s", wf)
		}
		wf = aer.WireEIEIO
	} else if set["notify"] || set["database"] || set["database-sql"] || set["ack-timeout"] {
		return usagef("serve: --notify, --database, --database-sql and --ack-timeout need --spinnaker-live")
	}
	latePolicy, err := live.ParseLatePolicy(*late)
	if err != nil {
		return usageError{err.Error()}
	}
	if *inputTime != "stamp" && *inputTime != "arrival" {
		return usagef("serve: --input-time must be stamp or arrival")
	}
	allowList, err := live.ParseAllow(*allow)
	if err != nil {
		return usageError{err.Error()}
	}
	recMax, err := parseByteSize(*recordMax)
	if err != nil {
		return usagef("serve: --record-max: %v", err)
	}
	pcMax, err := parseByteSize(*pcapMax)
	if err != nil {
		return usagef("serve: --pcap-max: %v", err)
	}
	var dests []string
	for _, d := range strings.Split(*to, ",") {
		if d = strings.TrimSpace(d); d != "" {
			dests = append(dests, d)
		}
	}
	if *record == "-" || *pcapPath == "-" || *databaseSQL == "-" || *database == "-" {
		return usagef("serve: --record, --pcap, --database and --database-sql need a file (standard output carries the summary)")
	}
	if *spinn {
		if *database == "" {
			base := strings.TrimSuffix(filepath.Base(*imgPath), filepath.Ext(*imgPath))
			*database = filepath.Join(os.TempDir(), "aerie-"+base+".sqlite3")
		}
		// the client reads the path from its own working directory
		abs, err := filepath.Abs(*database)
		if err != nil {
			return err
		}
		*database = abs
	}
	if *listen == "" {
		*listen = live.DefaultListen
		if *spinn {
			*listen = fmt.Sprintf("127.0.0.1:%d", aer.SpiNNakerSCPPort)
		}
	}
	if err := fileio.CheckOutputs([]fileio.Path{{Flag: "--image", Name: *imgPath}, {Flag: "--chip", Name: chipFile(*chipArg)}},
		fileio.Path{Flag: "--record", Name: *record}, fileio.Path{Flag: "--pcap", Name: *pcapPath},
		fileio.Path{Flag: "--database", Name: *database}, fileio.Path{Flag: "--database-sql", Name: *databaseSQL}); err != nil {
		return err
	}

	img, cfg, err := loadImageChip(*imgPath, *chipArg)
	if err != nil {
		return err
	}
	prog, err := seededProgram(img, "serve", *seedArg)
	if err != nil {
		return err
	}
	sys, err := chip.Load(cfg, prog, chip.Options{Workers: *workers})
	if err != nil {
		return err
	}

	lc := live.Config{Listen: *listen, Format: wf, To: dests, Reply: *reply, Fast: *fast, Idle: *idle, Drain: *drain,
		TickUS: *tickUS, Late: latePolicy, IgnoreStamps: *inputTime == "arrival", Allow: allowList, Queue: *queue,
		Horizon: *horizon, ReadBuffer: *rcvbuf, Ticks: *ticks, Duration: *duration, Paused: *paused,
		RecordMax: recMax, PcapMax: pcMax,
		Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	if !*fast {
		lc.Period = *tick
	}
	if set["idle"] && *idle == 0 {
		lc.Idle = -1
	}
	if set["drain"] && *drain == 0 {
		lc.Drain = -1
	}
	if *spinn {
		lc.SpiNNaker = &live.SpiNNakerConfig{Notify: *notify, Database: *database, AckTimeout: *ackTimeout}
	}
	if f, ok := stderr.(*os.File); ok && *status > 0 && term.IsTerminal(int(f.Fd())) {
		lc.Status, lc.StatusEvery = stderr, *status
	}

	var outs []*fileio.Output
	defer func() {
		for _, o := range outs {
			o.Abort()
		}
	}()
	if *record != "" {
		ff := formatFlags{to: *recordFormat, aedat3: "spike", compression: "lz4", layout: "raw"}
		f, opt, err := ff.outputFormat(*record)
		if err != nil {
			return err
		}
		if f == aer.FormatAEDAT4 {
			return usagef("serve: --record cannot write AEDAT 4.0 (it needs the sensor size up front): use .aer, .csv or .aedat")
		}
		o, err := fileio.Create(*record)
		if err != nil {
			return err
		}
		outs = append(outs, o)
		lc.Record, lc.RecordFormat, lc.RecordOpts = o, f, opt
	}
	var pcapOut *fileio.Output
	if *pcapPath != "" {
		if pcapOut, err = fileio.Create(*pcapPath); err != nil {
			return err
		}
		outs = append(outs, pcapOut)
		lc.Pcap = pcapOut
	}

	srv, err := live.New(sys, prog, lc)
	if err != nil {
		return err
	}
	if *metrics != "" {
		addr, err := srv.ServeMetrics(*metrics)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "aerie serve: metrics on http://%s/metrics\n", addr)
	}
	if *spinn {
		if err := srv.WriteDatabase(*database); err != nil {
			return err
		}
		if *databaseSQL != "" {
			if err := fileio.WriteFile(*databaseSQL, []byte(srv.DatabaseSQL())); err != nil {
				return err
			}
		}
	}
	printServeBanner(stderr, srv, lc, *imgPath)

	sum, runErr := srv.Run(ctx)
	// The recordings were closed by Run: commit them even after an error,
	// so that what was recorded is kept.
	for _, o := range outs {
		if err := o.Commit(); err != nil && runErr == nil {
			runErr = err
		}
	}
	outs = nil
	if *asJSON {
		if err := writeJSON(stdout, sum); err != nil {
			return err
		}
	} else {
		printServeSummary(stdout, sum)
	}
	return runErr
}

func printServeBanner(w io.Writer, srv *live.Server, lc live.Config, img string) {
	mode := "fast mode"
	if lc.Period > 0 {
		mode = fmt.Sprintf("real time, %v ticks", lc.Period)
	}
	fmt.Fprintf(w, "aerie serve: %s listening on %s (%s, %s)\n", img, srv.Addr(), lc.Format, mode)
	ks := srv.Keys()
	for _, p := range ks.Inputs {
		fmt.Fprintf(w, "aerie serve: input port %d %-12q %6d channels, keys %s/%s\n", p.Port, p.Name, p.Channels, p.BaseHex, p.MaskHex)
	}
	for _, p := range ks.Outputs {
		fmt.Fprintf(w, "aerie serve: output port %d %-11q %6d channels, keys %s/%s\n", p.Port, p.Name, p.Channels, p.BaseHex, p.MaskHex)
	}
	if len(lc.To) > 0 {
		fmt.Fprintf(w, "aerie serve: output to %s\n", strings.Join(lc.To, ", "))
	}
	if lc.SpiNNaker != nil {
		fmt.Fprintf(w, "aerie serve: SpiNNaker database %s (notification to %s)\n", lc.SpiNNaker.Database, lc.SpiNNaker.Notify)
		for _, inj := range srv.Injectors() {
			fmt.Fprintf(w, "aerie serve: SpiNNaker injector for %q at chip (%d, %d) core %d\n", inj.Label, inj.X, inj.Y, inj.P)
		}
	}
}

func printServeSummary(w io.Writer, s live.Summary) {
	fmt.Fprintf(w, "served %d ticks (%s, stopped by %s) in %.3f s\n", s.Ticks, s.Mode, s.Stop, s.WallS)
	fmt.Fprintf(w, "  input   %d events in %d datagrams: %d applied, %d late (%s), %d dropped (queue full %d, future %d, late %d, unmapped %d, shutdown %d)\n",
		s.EventsIn, s.PacketsIn, s.Applied, s.LateEvents, s.Late, s.Dropped, s.Drops.QueueFull, s.Drops.Future, s.Drops.Late, s.Drops.Unmapped, s.Drops.Shutdown)
	fmt.Fprintf(w, "  faults  %d lost, %d duplicate, %d malformed, %d refused datagrams; %d commands\n", s.Lost, s.Duplicate, s.Malformed, s.Refused, s.Commands)
	fmt.Fprintf(w, "  output  %d events to %d destinations (%d send errors)\n", s.EventsOut, len(s.Destinations), s.SendErrors)
	fmt.Fprintf(w, "  ticks   duration p50 %.0f µs, p99 %.0f µs, max %.0f µs", s.TickP50US, s.TickP99US, s.TickMaxUS)
	if s.Mode == "realtime" {
		fmt.Fprintf(w, "; jitter p50 %.0f µs, p99 %.0f µs, max %.0f µs; %d overruns; %d ticks in %.3f s running (expected %.0f)",
			s.JitterP50US, s.JitterP99US, s.JitterMaxUS, s.Overruns, s.Ticks, s.RunningS, s.ExpectedTicks)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  chip    %d emulated cycles, %.4g J\n", s.Cycles, s.EnergyJ)
	if s.RecordStopped {
		fmt.Fprintln(w, "  record  stopped at its size cap")
	}
	if s.PcapStopped {
		fmt.Fprintln(w, "  pcap    stopped at its size cap")
	}
	if sp := s.SpiNNaker; sp != nil {
		fmt.Fprintf(w, "  spinnaker notify %s, acknowledged %v, started %v, %d SCP requests, IP tags %s\n",
			sp.Notify, sp.Acknowledged, sp.Started, sp.SCPRequests, strings.Join(sp.IPTags, ", "))
	}
}
