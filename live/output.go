package live

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aerie-neuro/aerie/aer"
	"github.com/aerie-neuro/aerie/chip"
)

// outputs fans the output spikes of each tick out to every destination,
// one batch of datagrams per tick, and to the recording. Destinations can
// be added at any time (by --reply or a SpiNNaker IP-tag request); only
// the tick loop sends.
type outputs struct {
	s     *Server
	mu    sync.Mutex // serialises additions
	dests atomic.Pointer[[]*dest]
	conn  net.PacketConn
	cfg   aer.SenderConfig
	buf   []aer.Event
	dirty bool
	// replies counts the destinations added by Config.Reply.
	replies int
}

type dest struct {
	addr netip.AddrPort
	ua   *net.UDPAddr
	snd  *aer.Sender
}

func newOutputs(s *Server) *outputs {
	o := &outputs{s: s, conn: s.conn}
	if s.pcap != nil {
		o.conn = &tapConn{PacketConn: s.conn, tap: s.pcap, local: s.local}
	}
	o.cfg = aer.SenderConfig{Format: s.cfg.Format, Unit: aer.Tick, WriteBuffer: -1}
	if s.cfg.Format == aer.WireEIEIO {
		// the live packet gatherer's packets: NN 38 | tick u32 | keys u32
		o.cfg.EIEIO = aer.EIEIOHeader{Type: aer.EIEIOKey32, HasPayloadPrefix: true, Timestamp: true}
	}
	if s.cfg.Format == aer.WireSPIF {
		o.cfg.SPIFTime = true
	}
	empty := []*dest{}
	o.dests.Store(&empty)
	return o
}

// add makes addr a destination (once); false if it already was one or the
// list is full.
func (o *outputs) add(addr netip.AddrPort) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	old := *o.dests.Load()
	if len(old) >= MaxDestinations {
		return false
	}
	for _, d := range old {
		if d.addr == addr {
			return false
		}
	}
	d := &dest{addr: addr, ua: net.UDPAddrFromAddrPort(addr)}
	snd, err := aer.NewSender(o.conn, d.ua, o.cfg)
	if err != nil {
		return false
	}
	d.snd = snd
	nd := append(slices.Clip(old), d)
	o.dests.Store(&nd)
	o.s.c.destinations.Store(int64(len(nd)))
	o.s.log.Info("output destination", "addr", addr.String())
	return true
}

// addReply adds a sender as a destination, at most MaxReplyDestinations.
func (o *outputs) addReply(from netip.AddrPort) {
	for _, d := range *o.dests.Load() {
		if d.addr == from {
			return
		}
	}
	if o.replies >= MaxReplyDestinations {
		return
	}
	if o.add(from) {
		o.replies++
	}
}

func (o *outputs) names() []string {
	out := []string{}
	for _, d := range *o.dests.Load() {
		out = append(out, d.addr.String())
	}
	return out
}

// Spikes implements chip.OutputSink.
func (o *outputs) Spikes(t uint64, ev []chip.PortEvent) error {
	s := o.s
	s.c.eventsOut.Add(uint64(len(ev)))
	if s.rec != nil {
		s.rec.write(t, ev)
	}
	dests := *o.dests.Load()
	if len(dests) == 0 {
		return nil
	}
	o.buf = o.buf[:0]
	switch s.cfg.Format {
	case aer.WireNative:
		for _, e := range ev {
			o.buf = append(o.buf, aer.Event{Time: int64(t), Port: e.Port, Channel: e.Channel})
		}
	case aer.WireEIEIO:
		for _, e := range ev {
			o.buf = append(o.buf, aer.Event{Time: int64(t), Channel: s.keys.OutputKey(e.Port, e.Channel)})
		}
	default: // jAER and SPIF: µs time stamps
		us := int64(float64(t) * s.cfg.TickUS)
		for _, e := range ev {
			o.buf = append(o.buf, aer.Event{Time: us, Channel: s.keys.OutputKey(e.Port, e.Channel)})
		}
	}
	for _, d := range dests {
		if _, err := d.snd.Write(o.buf); err != nil {
			o.failed(d, err)
		}
	}
	o.dirty = true
	return nil
}

// failed counts a send error and replaces the sender, whose queue is in
// an unknown state; output is never a reason to stop the chip.
func (o *outputs) failed(d *dest, err error) {
	o.s.c.sendErrors.Add(1)
	if snd, e := aer.NewSender(o.conn, d.ua, o.cfg); e == nil {
		d.snd = snd
	}
	_ = err
}

// flush sends the tick's datagrams.
func (o *outputs) flush() {
	if !o.dirty {
		return
	}
	o.dirty = false
	for _, d := range *o.dests.Load() {
		if err := d.snd.Flush(); err != nil {
			o.failed(d, err)
		}
	}
}

// close flushes every sender and, for native streams, sends the closing
// heartbeats.
func (o *outputs) close() error {
	o.flush()
	for _, d := range *o.dests.Load() {
		if err := d.snd.Close(); err != nil {
			o.s.c.sendErrors.Add(1)
		}
	}
	return nil
}

// tapConn captures the datagrams a Sender writes.
type tapConn struct {
	net.PacketConn
	tap   *pcapTap
	local netip.AddrPort
}

func (c *tapConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); ok {
		c.tap.write(c.local, ua.AddrPort(), b)
	}
	return c.PacketConn.WriteTo(b, addr)
}

// countingWriter counts the bytes that reach w.
type countingWriter struct {
	w io.Writer
	n atomic.Int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n.Add(int64(n))
	return n, err
}

// recorder writes the output spikes to an event file, up to a size cap.
type recorder struct {
	w       aer.Writer
	cw      *countingWriter
	max     int64
	stopped atomic.Bool
	buf     []aer.Event
	err     error
	log     *slog.Logger
	Events  uint64
}

func newRecorder(w io.Writer, f aer.Format, opt aer.WriteOptions, max int64, log *slog.Logger) (*recorder, error) {
	if f == aer.FormatUnknown {
		f = aer.FormatNative
	}
	cw := &countingWriter{w: w}
	aw, err := aer.OpenWriter(cw, f, aer.Tick, opt)
	if err != nil {
		return nil, err
	}
	return &recorder{w: aw, cw: cw, max: max, log: log}, nil
}

func (r *recorder) write(t uint64, ev []chip.PortEvent) {
	if r.stopped.Load() || r.err != nil {
		return
	}
	if r.max > 0 && r.cw.n.Load() >= r.max {
		r.stopped.Store(true)
		r.log.Warn("recording stopped at its size cap", "bytes", r.cw.n.Load(), "cap", r.max)
		return
	}
	r.buf = r.buf[:0]
	for _, e := range ev {
		r.buf = append(r.buf, aer.Event{Time: int64(t), Port: e.Port, Channel: e.Channel})
	}
	if _, err := r.w.Write(r.buf); err != nil {
		r.err = err
		return
	}
	r.Events += uint64(len(ev))
}

func (r *recorder) close() error {
	err := r.w.Close()
	return errors.Join(r.err, err)
}

// pcapTap captures datagrams in and out, up to a size cap. The intake and
// the tick loop both write to it.
type pcapTap struct {
	mu      sync.Mutex
	w       *aer.PcapWriter
	cw      *countingWriter
	max     int64
	size    int64 // bytes of the capture, buffered ones included
	stopped bool
	err     error
	log     *slog.Logger
}

func newPcapTap(w io.Writer, max int64, log *slog.Logger) (*pcapTap, error) {
	cw := &countingWriter{w: w}
	pw, err := aer.NewPcapWriter(cw)
	if err != nil {
		return nil, err
	}
	return &pcapTap{w: pw, cw: cw, max: max, size: 24, log: log}, nil
}

func (p *pcapTap) write(src, dst netip.AddrPort, b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped || p.err != nil {
		return
	}
	// pcap record header 16 bytes, Ethernet 14, IPv4 20, UDP 8
	rec := int64(16 + 14 + 20 + 8 + len(b))
	if p.max > 0 && p.size+rec > p.max {
		p.stopped = true
		p.log.Warn("capture stopped at its size cap", "cap", p.max)
		return
	}
	if err := p.w.WriteDatagram(time.Now(), net.UDPAddrFromAddrPort(src), net.UDPAddrFromAddrPort(dst), b); err != nil {
		p.err = fmt.Errorf("capture: %w", err)
	}
	p.size += rec
}

func (p *pcapTap) isStopped() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped
}

func (p *pcapTap) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	return errors.Join(p.err, p.w.Flush())
}
