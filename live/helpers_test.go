package live

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
	"github.com/aerie-neuro/aerie/firmware"
)

// relayTOML is examples/networks/relay.toml with the size as a parameter:
// every input event (channel c, tick t) comes back as (c, t+1).
func relayTOML(n int) string {
	return strings.NewReplacer("SIZE", itoa(n)).Replace(`name = "relay"
seed = 0
dt = 0.1
[[population]]
name = "relay"
size = SIZE
tau_m = 1.0
tau_syn_e = 0.0
tau_syn_i = 0.0
v_rest = 0.0
v_reset = 0.0
v_thresh = 10.0
tau_refrac = 0.0
[[input]]
name = "in"
channels = SIZE
post = "relay"
connector = "one_to_one"
weight = 20.0
delay = 0.1
receptor = "excitatory"
[[output]]
name = "out"
population = "relay"
`)
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

// relay compiles a relay of n channels for the default chip and loads it.
func relay(t testing.TB, n int) (*chip.System, *chip.Program) {
	t.Helper()
	cfg := chip.Default()
	net, err := firmware.ParseNetwork("relay.toml", relayTOML(n), cfg)
	if err != nil {
		t.Fatal(err)
	}
	img, err := firmware.NewImage(net, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sys, err := chip.Load(cfg, img.Program, chip.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return sys, img.Program
}

// sink is a UDP socket that collects what a server sends.
type sink struct {
	conn  *net.UDPConn
	mu    sync.Mutex
	data  [][]byte
	count int
	done  chan struct{}
}

func newSink(t testing.TB) *sink { return openSink(t, true) }

// newCountingSink counts datagrams without keeping them.
func newCountingSink(t testing.TB) *sink { return openSink(t, false) }

func openSink(t testing.TB, keep bool) *sink {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Skipf("no loopback UDP: %v", err)
	}
	c.SetReadBuffer(8 << 20)
	k := &sink{conn: c, done: make(chan struct{})}
	go func() {
		defer close(k.done)
		buf := make([]byte, 65536)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			k.mu.Lock()
			k.count++
			if keep {
				k.data = append(k.data, append([]byte(nil), buf[:n]...))
			}
			k.mu.Unlock()
		}
	}()
	t.Cleanup(func() { c.Close(); <-k.done })
	return k
}

func (k *sink) addr() string { return k.conn.LocalAddr().String() }

func (k *sink) datagrams() [][]byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]byte(nil), k.data...)
}

// nativeEvents decodes the native datagrams received so far.
func (k *sink) nativeEvents(t testing.TB) []aer.Event {
	t.Helper()
	var evs []aer.Event
	for _, d := range k.datagrams() {
		var err error
		if _, evs, err = aer.DecodeNative(d, evs); err != nil {
			t.Fatalf("output datagram: %v", err)
		}
	}
	return evs
}

// start runs srv until the returned stop is called; stop returns the summary.
func start(t testing.TB, srv *Server) func() Summary {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		sum Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := srv.Run(ctx)
		done <- result{sum, err}
	}()
	var once sync.Once
	var res result
	stop := func() Summary {
		once.Do(func() {
			cancel()
			select {
			case res = <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("server did not stop")
			}
			if res.err != nil {
				t.Errorf("Run: %v", res.err)
			}
		})
		return res.sum
	}
	t.Cleanup(func() { stop() })
	return stop
}

// sendTo sends datagrams to addr from a fresh socket.
func sendTo(t testing.TB, addr netip.AddrPort, datagrams ...[]byte) {
	t.Helper()
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, d := range datagrams {
		if _, err := c.Write(d); err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond for up to 5 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func nativePacket(seq uint32, evs ...aer.Event) []byte {
	b, _ := aer.AppendNative(nil, 0, seq, evs)
	return b
}
