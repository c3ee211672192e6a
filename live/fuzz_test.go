package live

import (
	"net/netip"
	"testing"

	"github.com/aerie-neuro/aerie/aer"
)

// FuzzDatagram feeds arbitrary datagrams to the server's handler in every
// format and in SpiNNaker live mode: nothing panics, every datagram is
// counted once as data, command or malformed, and what is queued stays
// within the bounds.
func FuzzDatagram(f *testing.F) {
	f.Add(nativePacket(0, aer.Event{Time: 3, Channel: 1}))
	f.Add([]byte{0x0b, 0x40})
	f.Add([]byte{2, 0x38, 11, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0})
	f.Add(aer.AppendSCPRequest(nil, aer.IPTagSetRequest(0, 0, 1, 1, true, true, netip.Addr{}, 0)))
	f.Add(append(aer.AppendSDP(nil, aer.InjectionSDP(0, 0, 1), nil), 2, 0, 3, 0, 5, 0))
	f.Add([]byte{0x80, 0, 0, 0, 0x12, 0x34, 0, 0})
	sys, prog := relay(f, 64)
	type setup struct {
		format aer.WireFormat
		spin   bool
	}
	var servers []*Server
	for _, su := range []setup{{aer.WireNative, false}, {aer.WireEIEIO, false}, {aer.WireJAER, false}, {aer.WireSPIF, false}, {aer.WireEIEIO, true}} {
		cfg := Config{Listen: "127.0.0.1:0", Fast: true, Format: su.format, Queue: 1000, Horizon: 100}
		if su.spin {
			cfg.SpiNNaker = &SpiNNakerConfig{Notify: "127.0.0.1:9"}
		}
		srv, err := New(sys, prog, cfg)
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() {
			srv.conn.Close()
			if srv.spin != nil {
				srv.spin.nconn.Close()
			}
		})
		servers = append(servers, srv)
	}
	from := netip.MustParseAddrPort("127.0.0.1:9")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, srv := range servers {
			srv.handle(b, from, false)
			srv.handOver()
			srv.drainArrivals()
			if srv.q.n > srv.cfg.Queue {
				t.Fatalf("%d events queued, limit %d", srv.q.n, srv.cfg.Queue)
			}
			for len(srv.ctl) > 0 {
				<-srv.ctl
			}
		}
	})
}
