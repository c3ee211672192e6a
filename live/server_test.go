package live

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// TestFastRelayNative: stamped native events come back one tick later and
// untimed ones (negative time) right after; the idle ticker does not run
// ahead.
func TestFastRelayNative(t *testing.T) {
	sys, prog := relay(t, 64)
	out := newSink(t)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, To: []string{out.addr()}, Idle: -1})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	var in []aer.Event
	for c := range 64 {
		in = append(in, aer.Event{Time: int64(100 + c), Channel: uint32(c)})
	}
	sendTo(t, srv.Addr(), nativePacket(0, in...))
	// tick 163 waits for a later stamp: send one, which itself waits
	sendTo(t, srv.Addr(), nativePacket(1, aer.Event{Time: 200, Channel: 5}))
	waitFor(t, "64 outputs and 200 ticks", func() bool { s := srv.Snapshot(); return s.EventsOut >= 64 && s.Ticks >= 200 })
	time.Sleep(20 * time.Millisecond)
	if n := srv.Snapshot().Ticks; n != 200 {
		t.Errorf("%d ticks run, want 200 (time driven by stamps only)", n)
	}
	// untimed events run at once, with the drain ticks after them
	sendTo(t, srv.Addr(), nativePacket(2, aer.Event{Time: -1, Channel: 7}))
	waitFor(t, "the untimed event's output", func() bool { return srv.Snapshot().EventsOut >= 66 })
	sum := stop()
	got := out.nativeEvents(t)
	if len(got) != 66 {
		t.Fatalf("%d output events, want 66", len(got))
	}
	for c := range 64 {
		if e := got[c]; e.Time != int64(101+c) || e.Channel != uint32(c) || e.Port != 0 {
			t.Errorf("output %d = %+v, want channel %d at tick %d", c, e, c, 101+c)
		}
	}
	if sum.EventsIn != 66 || sum.Applied != 66 || sum.EventsOut != 66 || sum.Dropped != 0 || sum.LateEvents != 0 || sum.Lost != 0 {
		t.Errorf("summary %+v", sum)
	}
}

// TestEIEIOLiveOutput: timed EIEIO keys in (port base | channel, tick as
// payload prefix), live-packet-gatherer packets out (NN 38, tick, keys).
func TestEIEIOLiveOutput(t *testing.T) {
	sys, prog := relay(t, 64)
	out := newSink(t)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Format: aer.WireEIEIO, To: []string{out.addr()}, Idle: -1})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	h := aer.EIEIOHeader{Type: aer.EIEIOKey32, HasPayloadPrefix: true, Timestamp: true, PayloadPrefix: 10}
	p1, _ := aer.AppendEIEIO(nil, h, []aer.Event{{Channel: 3}, {Channel: 4}, {Channel: 0x70000}}) // the last key is no port's
	h.PayloadPrefix = 20
	p2, _ := aer.AppendEIEIO(nil, h, []aer.Event{{Channel: 9}})
	sendTo(t, srv.Addr(), p1, p2)
	waitFor(t, "2 outputs", func() bool { return srv.Snapshot().EventsOut >= 2 })
	sum := stop()
	ds := out.datagrams()
	if len(ds) == 0 {
		t.Fatal("no output")
	}
	// the live packet gatherer's bytes: count, 0x38, tick 11, keys 0x80000003 0x80000004
	want := []byte{2, 0x38, 11, 0, 0, 0, 3, 0, 0, 0x80, 4, 0, 0, 0x80}
	if !bytes.Equal(ds[0], want) {
		t.Errorf("first output % x, want % x", ds[0], want)
	}
	if sum.EventsIn != 4 || sum.Drops.Unmapped != 1 || sum.Applied != 3 {
		t.Errorf("summary %+v", sum)
	}
}

// TestLateFutureUnmapped checks the counters of events that cannot be
// applied at their tick, under both late policies.
func TestLateFutureUnmapped(t *testing.T) {
	for _, policy := range []LatePolicy{LateApply, LateDrop} {
		t.Run(policy.String(), func(t *testing.T) {
			sys, prog := relay(t, 64)
			srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Idle: -1, Late: policy, Horizon: 1000})
			if err != nil {
				t.Fatal(err)
			}
			stop := start(t, srv)
			sendTo(t, srv.Addr(), nativePacket(0, aer.Event{Time: 50, Channel: 1}))
			waitFor(t, "50 ticks", func() bool { return srv.Snapshot().Ticks >= 50 })
			late := nativePacket(1, aer.Event{Time: 10, Channel: 3}, aer.Event{Time: 20, Channel: 4})
			future := nativePacket(2, aer.Event{Time: 5000, Channel: 1})
			wrongPort := nativePacket(3, aer.Event{Time: 60, Channel: 1, Port: 3})
			wrongChannel := nativePacket(4, aer.Event{Time: 60, Channel: 64})
			sendTo(t, srv.Addr(), late, future, wrongPort, wrongChannel)
			waitFor(t, "5 events", func() bool { return srv.Snapshot().EventsIn >= 6 })
			sum := stop()
			if sum.LateEvents != 2 || sum.Drops.Future != 1 || sum.Drops.Unmapped != 2 {
				t.Errorf("late %d, future %d, unmapped %d; want 2, 1, 2", sum.LateEvents, sum.Drops.Future, sum.Drops.Unmapped)
			}
			wantApplied, wantDropLate := uint64(3), uint64(0)
			if policy == LateDrop {
				wantApplied, wantDropLate = 1, 2
			}
			if sum.Applied != wantApplied || sum.Drops.Late != wantDropLate || sum.EventsOut != wantApplied {
				t.Errorf("applied %d (out %d), dropped late %d; want %d, %d", sum.Applied, sum.EventsOut, sum.Drops.Late, wantApplied, wantDropLate)
			}
			if sum.Dropped != sum.Drops.Future+sum.Drops.Unmapped+sum.Drops.Late+sum.Drops.QueueFull+sum.Drops.Shutdown {
				t.Errorf("dropped %d is not the sum of its reasons %+v", sum.Dropped, sum.Drops)
			}
		})
	}
}

// TestMalformedAndRefused: bad datagrams are counted and never stop the
// server; senders outside --allow are refused.
func TestMalformedAndRefused(t *testing.T) {
	sys, prog := relay(t, 64)
	out := newSink(t)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Idle: -1, To: []string{out.addr()}})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	good := nativePacket(0, aer.Event{Time: 5, Channel: 1}, aer.Event{Time: 6, Channel: 2})
	bad := [][]byte{
		{}, {'A'}, good[:len(good)-1], append(append([]byte{}, good...), 0),
		bytes.Repeat([]byte{0xff}, 4000), make([]byte, 9000), // oversized: cut by the reader
		{'A', 'E', 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	}
	const rounds = 20
	for range rounds {
		sendTo(t, srv.Addr(), bad...)
		time.Sleep(time.Millisecond) // stay within the socket's buffer
	}
	sendTo(t, srv.Addr(), good)
	waitFor(t, "all datagrams", func() bool { return srv.Snapshot().PacketsIn >= uint64(rounds*len(bad)+1) })
	sendTo(t, srv.Addr(), nativePacket(1, aer.Event{Time: 10, Channel: 3}))
	waitFor(t, "output", func() bool { return srv.Snapshot().EventsOut >= 2 })
	sum := stop()
	if sum.Malformed != uint64(rounds*len(bad)) || sum.EventsIn != 3 {
		t.Errorf("malformed %d, events %d; want %d, 3", sum.Malformed, sum.EventsIn, rounds*len(bad))
	}

	sys, prog = relay(t, 64)
	srv, err = New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Allow: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	stop = start(t, srv)
	sendTo(t, srv.Addr(), good, good)
	waitFor(t, "2 datagrams", func() bool { return srv.Snapshot().PacketsIn >= 2 })
	if sum := stop(); sum.Refused != 2 || sum.EventsIn != 0 {
		t.Errorf("refused %d, events %d; want 2, 0", sum.Refused, sum.EventsIn)
	}
}

// TestRealTimeNoDrift runs 1 ms ticks for 300 ms: ticks follow the wall
// clock (start + n·period), within a tick.
func TestRealTimeNoDrift(t *testing.T) {
	sys, prog := relay(t, 64)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Period: time.Millisecond, Duration: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := srv.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Stop != "duration" {
		t.Errorf("stop %q", sum.Stop)
	}
	// the loop runs tick k at start + k·period, so ticks = ⌊running/period⌋ + 1
	if d := float64(sum.Ticks) - sum.ExpectedTicks; d < -1 || d > 2 {
		t.Errorf("%d ticks in %.4f s: expected %.0f ±1", sum.Ticks, sum.RunningS, sum.ExpectedTicks)
	}
	t.Logf("ticks %d expected %.0f; jitter p50 %.0f p99 %.0f max %.0f µs; tick p99 %.0f µs; overruns %d",
		sum.Ticks, sum.ExpectedTicks, sum.JitterP50US, sum.JitterP99US, sum.JitterMaxUS, sum.TickP99US, sum.Overruns)
}

// TestPauseResume: --paused waits for START_RESUME (0B 40); STOP_PAUSE
// (0A 40) stops the clock again.
func TestPauseResume(t *testing.T) {
	sys, prog := relay(t, 64)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Period: time.Millisecond, Paused: true, Format: aer.WireEIEIO})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	time.Sleep(30 * time.Millisecond)
	if n := srv.Snapshot().Ticks; n != 0 {
		t.Fatalf("%d ticks while paused", n)
	}
	if !srv.Snapshot().Paused {
		t.Error("not paused at start")
	}
	sendTo(t, srv.Addr(), []byte{0x0b, 0x40})
	waitFor(t, "ticks", func() bool { return srv.Snapshot().Ticks >= 10 })
	sendTo(t, srv.Addr(), []byte{0x0a, 0x40})
	waitFor(t, "the pause", func() bool { return srv.Snapshot().Paused })
	n := srv.Snapshot().Ticks
	time.Sleep(30 * time.Millisecond)
	if m := srv.Snapshot().Ticks; m != n {
		t.Errorf("ticks went from %d to %d while paused", n, m)
	}
	if sum := stop(); sum.Commands != 2 {
		t.Errorf("commands %d", sum.Commands)
	}
}

// TestRecordPcapMetrics: the recording and the capture are valid after a
// graceful stop, the capture stops at its cap, and the metrics endpoint
// serves the counters.
func TestRecordPcapMetrics(t *testing.T) {
	sys, prog := relay(t, 64)
	out := newSink(t)
	var rec, capture bytes.Buffer
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Idle: -1, To: []string{out.addr()},
		Record: &rec, RecordFormat: aer.FormatNative, Pcap: &capture, PcapMax: 2000})
	if err != nil {
		t.Fatal(err)
	}
	maddr, err := srv.ServeMetrics("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	for i := range 40 {
		sendTo(t, srv.Addr(), nativePacket(uint32(i), aer.Event{Time: int64(10 + i), Channel: uint32(i)}))
	}
	waitFor(t, "38 outputs", func() bool { return srv.Snapshot().EventsOut >= 38 })
	resp, err := http.Get("http://" + maddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, name := range []string{"aerie_serve_ticks_total", "aerie_serve_events_in_total 40", "aerie_serve_tick_duration_seconds_bucket",
		"aerie_serve_dropped_events_total{reason=\"late\"}", "aerie_serve_emulated_energy_joules_total", "process_resident_memory_bytes", "aerie_serve_queue_depth"} {
		if !strings.Contains(string(body), name) {
			t.Errorf("metrics lack %q", name)
		}
	}
	sum := stop()
	if !sum.PcapStopped || capture.Len() > 2000 {
		t.Errorf("capture of %d bytes, stopped %v; cap 2000", capture.Len(), sum.PcapStopped)
	}
	pe, err := aer.NewPcapEvents(bytes.NewReader(capture.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := aer.ReadAll(pe, 0); err != nil {
		t.Errorf("capture: %v", err)
	}
	fr, err := aer.NewFileReader(bytes.NewReader(rec.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	evs, err := aer.ReadAll(fr, 0)
	if err != nil || len(evs) != 40 {
		t.Errorf("recording: %d events, %v; want 40 (drained at shutdown)", len(evs), err)
	}
	for i, e := range evs {
		if e.Time != int64(11+i) || e.Channel != uint32(i) {
			t.Errorf("recorded %d: %+v", i, e)
			break
		}
	}
}

// TestChunkBound: a stalled tick loop cannot make the intake hold more
// than its chunks; the excess is counted as dropped.
func TestChunkBound(t *testing.T) {
	sys, prog := relay(t, 64)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Idle: -1, Queue: 100})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	var evs []aer.Event
	for i := range 181 {
		evs = append(evs, aer.Event{Time: 1000, Channel: uint32(i % 64)})
	}
	for i := range 10 {
		sendTo(t, srv.Addr(), nativePacket(uint32(i), evs...))
	}
	waitFor(t, "10 datagrams", func() bool { return srv.Snapshot().EventsIn >= 1810 })
	sum := stop()
	if sum.Drops.QueueFull != 1810-100 || sum.Applied != 100 {
		t.Errorf("queue full %d, applied %d; want 1710, 100", sum.Drops.QueueFull, sum.Applied)
	}
	_ = binary.LittleEndian
}
