package live

import (
	"bytes"
	"context"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/aer"
)

// BenchmarkLatency measures input→output latency on the one-synapse path
// of the relay in fast mode over loopback: the client timestamps an
// untimed native event as it sends it and the resulting output datagram
// as it arrives. p50 and p99 are reported in µs.
//
//	go test -run '^$' -bench Latency -benchtime 5000x ./live/
func BenchmarkLatency(b *testing.B) {
	sys, prog := relay(b, 64)
	client, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Skip(err)
	}
	defer client.Close()
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, To: []string{client.LocalAddr().String()}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { srv.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	dst := net.UDPAddrFromAddrPort(srv.Addr())
	buf := make([]byte, 2048)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pkt := nativePacket(uint32(i), aer.Event{Time: -1, Channel: uint32(i % 64)})
		t0 := time.Now()
		if _, err := client.WriteToUDP(pkt, dst); err != nil {
			b.Fatal(err)
		}
		client.SetReadDeadline(time.Now().Add(time.Second))
		for {
			n, err := client.Read(buf)
			if err != nil {
				b.Fatalf("no output for event %d: %v", i, err)
			}
			if h, err := aer.DecodeNativeHeader(buf[:n]); err == nil && h.Count > 0 {
				break
			}
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIntake measures the server's intake and tick loop on native
// datagrams of 181 events fed through the datagram handler (no socket):
// the ceiling of events per second one server can take.
func BenchmarkIntake(b *testing.B) {
	sys, prog := relay(b, 1024)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Fast: true, Idle: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.conn.Close()
	var evs []aer.Event
	for i := range aer.NativeMaxEvents {
		evs = append(evs, aer.Event{Time: int64(i / 30), Channel: uint32(i*37) % 1024})
	}
	from := srv.Addr()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := range evs {
			evs[j].Time = int64(i*6 + j/30)
		}
		srv.handleData(nativePacket(uint32(i), evs...), from, -1)
		srv.handOver()
		srv.drainArrivals()
		for int64(srv.next) < srv.watermark {
			if err := srv.runTick(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
}

// TestFloodLong floods a server for AERIE_FLOOD_S seconds (default 60)
// with malformed and oversized datagrams at the highest rate a sender
// goroutine reaches, plus a paced valid stream: the server stays up,
// valid traffic flows, the counters match what was sent, and the resident
// memory stays under 200 MB. Only with AERIE_LONG=1.
func TestFloodLong(t *testing.T) {
	if os.Getenv("AERIE_LONG") == "" {
		t.Skip("set AERIE_LONG=1")
	}
	secs := 60
	if s, err := strconv.Atoi(os.Getenv("AERIE_FLOOD_S")); err == nil && s > 0 {
		secs = s
	}
	sys, prog := relay(t, 1024)
	out := newCountingSink(t)
	srv, err := New(sys, prog, Config{Listen: "127.0.0.1:0", Period: time.Millisecond, To: []string{out.addr()}, IgnoreStamps: true})
	if err != nil {
		t.Fatal(err)
	}
	stop := start(t, srv)
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	floodDone := make(chan uint64)
	go func() {
		c, _ := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr()))
		defer c.Close()
		junk := [][]byte{bytes.Repeat([]byte{0xAE}, 1400), make([]byte, 9000), {'A', 'E', 1}, nativePacket(0)[:19]}
		var n uint64
		for time.Now().Before(deadline) {
			for _, j := range junk {
				c.Write(j)
				n++
			}
		}
		floodDone <- n
	}()
	c, _ := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(srv.Addr()))
	var valid uint64
	var peak uint64
	for seq := uint32(0); time.Now().Before(deadline); seq++ {
		var evs []aer.Event
		for i := range 100 {
			evs = append(evs, aer.Event{Time: -1, Channel: uint32(i)})
		}
		c.Write(nativePacket(seq, evs...))
		valid += 100
		time.Sleep(time.Millisecond)
		if seq%1000 == 0 {
			peak = max(peak, rssBytes())
		}
	}
	c.Close()
	flood := <-floodDone
	time.Sleep(50 * time.Millisecond)
	sum := stop()
	t.Logf("%d s: %d junk datagrams sent, %d malformed counted; %d valid events sent, %d received, %d out, %d lost datagrams; %d datagrams in; peak RSS %d MB",
		secs, flood, sum.Malformed, valid, sum.EventsIn, sum.EventsOut, sum.Lost, sum.PacketsIn, peak>>20)
	if peak > 200<<20 {
		t.Errorf("resident memory reached %d MB", peak>>20)
	}
	if sum.EventsIn == 0 || sum.EventsOut == 0 {
		t.Error("valid traffic did not flow")
	}
	// the kernel drops some datagrams under a flood: what arrived is
	// exactly what was counted
	if sum.PacketsIn != sum.Malformed+sum.EventsIn/100 {
		t.Errorf("datagrams in %d ≠ malformed %d + valid %d", sum.PacketsIn, sum.Malformed, sum.EventsIn/100)
	}
	if got := sum.EventsIn + uint64(sum.Lost)*100; got != valid {
		t.Errorf("valid events received + lost = %d, sent %d", got, valid)
	}
}

// rssBytes is the resident set size of this process (Linux), or 0.
func rssBytes() uint64 {
	if runtime.GOOS != "linux" {
		return 0
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
