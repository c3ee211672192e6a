package aer

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"time"

	"golang.org/x/net/ipv4"
)

// WireFormat is the datagram format of a UDP stream.
type WireFormat uint8

// Datagram formats of the UDP transport.
const (
	WireNative WireFormat = iota // native packets: sequence numbers, loss accounting
	WireEIEIO                    // SpiNNaker EIEIO data packets (no sequence numbers)
	WireJAER                     // jAER AEUnicast with sequence numbers
	WireSPIF                     // SPIF/AEStream 32-bit words
)

var wireNames = []string{"native", "eieio", "jaer", "spif"}

func (f WireFormat) String() string {
	if int(f) < len(wireNames) {
		return wireNames[f]
	}
	return fmt.Sprintf("wire(%d)", uint8(f))
}

// ParseWireFormat parses "native", "eieio", "jaer" or "spif".
func ParseWireFormat(s string) (WireFormat, error) {
	for i, n := range wireNames {
		if strings.EqualFold(s, n) {
			return WireFormat(i), nil
		}
	}
	return 0, fmt.Errorf("aer: unknown wire format %q (want %s)", s, strings.Join(wireNames, ", "))
}

// Default transport settings.
const (
	DefaultBatch      = 64      // datagrams per sendmmsg/recvmmsg
	MaxBatch          = 1024    // datagrams per system call at most (Linux's UIO_MAXIOV)
	DefaultReadBuffer = 8 << 20 // SO_RCVBUF asked for (the kernel caps it at net.core.rmem_max)
	DefaultWriteBuf   = 4 << 20 // SO_SNDBUF asked for
	NativePort        = 7433    // aerie's default UDP port for native packets
)

// SenderConfig configures a Sender. The zero value sends native packets as
// fast as it can.
type SenderConfig struct {
	Format WireFormat
	Unit   Unit    // native: announced time unit
	Rate   float64 // events per second; 0 sends unpaced
	Batch  int     // datagrams per system call; 0 means DefaultBatch
	// WriteBuffer is the socket send buffer to ask for; 0 means
	// DefaultWriteBuf, negative leaves the system default.
	WriteBuffer int
	// EIEIO is the header template of EIEIO packets (Count is ignored);
	// mind that its zero value is type 0, 16-bit keys: set Type to
	// EIEIOKey32 for full keys. With Timestamp and
	// HasPayloadPrefix set, each packet holds events of one Time, sent as
	// the payload prefix (the live packet gatherer's form).
	EIEIO EIEIOHeader
	// SPIFTime sends a timestamp word after each SPIF event.
	SPIFTime bool
	// SDP wraps each EIEIO packet for injection through a board's
	// Ethernet chip (port 17893) to this destination core.
	SDP *SDPHeader
	// JAERNoSeq leaves out jAER's sequence number (its "sequence number"
	// option off).
	JAERNoSeq bool
}

// SenderStats counts what a Sender sent.
type SenderStats struct {
	Packets uint64 `json:"packets"`
	Events  uint64 `json:"events"`
	Bytes   uint64 `json:"bytes"`
}

// Sender sends events over UDP in batches of datagrams (sendmmsg on Linux).
// It is not safe for concurrent use.
type Sender struct {
	cfg   SenderConfig
	conn  net.PacketConn
	pc    *ipv4.PacketConn // nil: one WriteTo per datagram
	dst   net.Addr
	msgs  []ipv4.Message
	bufs  [][]byte
	nmsg  int
	seq   map[uint16]uint32 // native: next sequence number per port
	jseq  uint32
	start time.Time
	// queued counts the events encoded so far; batchEvents those encoded
	// before the first queued datagram; evN[i] the events of datagram i.
	queued      uint64
	batchEvents uint64
	evN         []int
	stats       SenderStats    // what went out (the system call succeeded)
	ports       []uint16       // native ports used, for the closing heartbeats
	own         net.PacketConn // closed by Close if DialUDP opened it
	scratch     []Event
}

// DialUDP opens a UDP socket and returns a Sender to the address to
// ("host:port"); Close then also closes the socket.
func DialUDP(to string, cfg SenderConfig) (*Sender, error) {
	dst, err := net.ResolveUDPAddr("udp", to)
	if err != nil {
		return nil, fmt.Errorf("aer: %w", err)
	}
	network := "udp4"
	if dst.IP != nil && dst.IP.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("aer: %w", err)
	}
	s, err := NewSender(conn, dst, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	s.own = conn
	return s, nil
}

// NewSender returns a sender of datagrams to dst through conn, which should
// be an unconnected *net.UDPConn (other PacketConns work one datagram per
// call).
func NewSender(conn net.PacketConn, dst net.Addr, cfg SenderConfig) (*Sender, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Batch > MaxBatch {
		return nil, fmt.Errorf("aer: batch of %d datagrams, more than %d", cfg.Batch, MaxBatch)
	}
	if !(cfg.Rate >= 0) || math.IsInf(cfg.Rate, 0) {
		return nil, fmt.Errorf("aer: rate %v: want a finite rate ≥ 0", cfg.Rate)
	}
	s := &Sender{cfg: cfg, conn: conn, dst: dst, seq: map[uint16]uint32{}, jseq: 1}
	if uc, ok := conn.(*net.UDPConn); ok {
		if cfg.WriteBuffer >= 0 {
			wb := cfg.WriteBuffer
			if wb == 0 {
				wb = DefaultWriteBuf
			}
			_ = uc.SetWriteBuffer(wb) // best effort: capped by the kernel
		}
		s.pc = ipv4.NewPacketConn(uc)
	}
	s.msgs = make([]ipv4.Message, cfg.Batch)
	s.bufs = make([][]byte, cfg.Batch)
	s.evN = make([]int, cfg.Batch)
	for i := range s.msgs {
		s.bufs[i] = make([]byte, 0, 2048)
		s.msgs[i].Buffers = [][]byte{nil}
		s.msgs[i].Addr = dst
	}
	return s, nil
}

// Stats returns the counters so far.
func (s *Sender) Stats() SenderStats { return s.stats }

// Write encodes events into datagrams and sends them a batch at a time;
// events of the last, partly filled batch wait for the next Write or Flush.
// Native streams group events of equal Time by port, as FileWriter does.
func (s *Sender) Write(evs []Event) (int, error) {
	if s.cfg.Format == WireNative && mixedTies(evs) {
		// Group same-time events by port (see FileWriter) on a copy.
		s.scratch = append(s.scratch[:0], evs...)
		groupTies(s.scratch)
		evs = s.scratch
	}
	done := 0
	for len(evs) > 0 {
		if s.cfg.Rate > 0 && s.nmsg > 0 && float64(s.queued-s.batchEvents)/s.cfg.Rate > maxBatchSpan {
			// Paced: a batch spans at most maxBatchSpan of the rate, so
			// that slow streams do not wait for a full batch.
			if err := s.flushBatch(); err != nil {
				return done, err
			}
		}
		n, err := s.encode(evs)
		if err != nil {
			return done, err
		}
		evs = evs[n:]
		done += n
		if s.nmsg == len(s.msgs) {
			if err := s.flushBatch(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// encode puts a prefix of evs into the next datagram and returns its length.
func (s *Sender) encode(evs []Event) (int, error) {
	b := s.bufs[s.nmsg][:0]
	var n int
	switch s.cfg.Format {
	case WireNative:
		flags := packetFlags(s.cfg.Unit, evs)
		port := evs[0].Port
		seq, seen := s.seq[port]
		if !seen {
			s.ports = append(s.ports, port)
		}
		b, n = AppendNative(b, flags, seq, evs)
		s.seq[port] = seq + 1
	case WireEIEIO:
		h := s.cfg.EIEIO
		lim := evs
		if h.Timestamp && h.HasPayloadPrefix {
			k := 1
			for k < len(evs) && evs[k].Time == evs[0].Time {
				k++
			}
			lim = evs[:k]
			h.PayloadPrefix = uint32(evs[0].Time)
		}
		if s.cfg.SDP != nil {
			b = AppendSDP(b, *s.cfg.SDP, nil)
		}
		b, n = AppendEIEIO(b, h, lim)
	case WireJAER:
		n = min(len(evs), (NativeMaxPacket-4)/8)
		b = AppendJAER(b, !s.cfg.JAERNoSeq, s.jseq, evs[:n])
		s.jseq++
	case WireSPIF:
		per := SPIFMaxPacket / 4
		if s.cfg.SPIFTime {
			per /= 2
		}
		n = min(len(evs), per)
		b = AppendSPIF(b, evs[:n], s.cfg.SPIFTime)
	default:
		return 0, fmt.Errorf("aer: cannot send format %v", s.cfg.Format)
	}
	if n == 0 {
		return 0, errors.New("aer: event does not fit a datagram")
	}
	s.bufs[s.nmsg] = b
	s.evN[s.nmsg] = n
	s.nmsg++
	s.queued += uint64(n)
	return n, nil
}

// flushBatch paces, then sends the queued datagrams.
func (s *Sender) flushBatch() error {
	if s.nmsg == 0 {
		return nil
	}
	if s.cfg.Rate > 0 && s.queued > s.batchEvents { // a batch of heartbeats only is not paced
		if s.start.IsZero() {
			s.start = time.Now()
		}
		// The batch leaves when its first event is due: start +
		// (events sent before it)/rate; the rest of the batch is at most
		// maxBatchSpan early.
		due := s.start.Add(time.Duration(min(float64(s.batchEvents)/s.cfg.Rate*float64(time.Second), math.MaxInt64/2))) // clamped: a tiny rate must not overflow into "due long ago"
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
	}
	for i := 0; i < s.nmsg; i++ {
		s.msgs[i].Buffers[0] = s.bufs[i]
	}
	sent := 0 // datagrams of this batch that went out
	done := func(k int) {
		k = max(0, min(k, s.nmsg-sent))
		for i := sent; i < sent+k; i++ {
			s.stats.Events += uint64(s.evN[i])
			s.stats.Bytes += uint64(len(s.bufs[i]))
		}
		s.stats.Packets += uint64(k)
		sent += k
	}
	for sent < s.nmsg {
		if s.pc == nil {
			if _, err := s.conn.WriteTo(s.msgs[sent].Buffers[0], s.dst); err != nil {
				return fmt.Errorf("aer: send: %w", err)
			}
			done(1)
			continue
		}
		k, err := s.pc.WriteBatch(s.msgs[sent:s.nmsg], 0)
		if err != nil {
			if isNoBuffer(err) {
				// The socket buffer is full: wait a little, then retry.
				time.Sleep(50 * time.Microsecond)
				continue
			}
			done(k)
			return fmt.Errorf("aer: send: %w", err)
		}
		done(k)
	}
	s.nmsg = 0
	s.batchEvents = s.queued
	return nil
}

// maxBatchSpan is the longest stretch of a paced stream (in seconds) that
// one batch of datagrams may cover.
const maxBatchSpan = 0.001

func isNoBuffer(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no buffer space")
}

// Flush sends every queued datagram.
func (s *Sender) Flush() error { return s.flushBatch() }

// Close flushes and, for native streams, sends one empty packet per port
// (a heartbeat carrying the next sequence number) so that the receiver can
// count a loss at the end of the stream. It closes the connection only if
// DialUDP opened it.
func (s *Sender) Close() error {
	if s.own != nil {
		defer s.own.Close()
	}
	if err := s.flushBatch(); err != nil {
		return err
	}
	if s.cfg.Format != WireNative || len(s.ports) == 0 {
		return nil
	}
	time.Sleep(2 * time.Millisecond) // let the receiver drain before the heartbeat
	for _, port := range s.ports {
		b, _ := AppendNative(s.bufs[s.nmsg][:0], packetFlags(s.cfg.Unit, nil), s.seq[port], nil)
		binaryPutPort(b, port)
		s.bufs[s.nmsg] = b
		s.evN[s.nmsg] = 0
		s.nmsg++
		s.seq[port]++
		if s.nmsg == len(s.msgs) {
			if err := s.flushBatch(); err != nil {
				return err
			}
		}
	}
	return s.flushBatch()
}

func binaryPutPort(b []byte, port uint16) { b[4], b[5] = byte(port), byte(port>>8) }

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	Format WireFormat
	Batch  int // datagrams per system call; 0 means DefaultBatch
	// ReadBuffer is the socket receive buffer to ask for; 0 means
	// DefaultReadBuffer, negative leaves the system default.
	ReadBuffer int
	// SDP expects EIEIO packets wrapped in SDP (traffic to port 17893).
	SDP bool
	// JAERNoSeq expects jAER datagrams without sequence numbers (then
	// loss cannot be counted).
	JAERNoSeq bool
	// Tap, if set, sees every datagram before decoding (for capture).
	// b is only valid during the call.
	Tap func(b []byte, from net.Addr)
	// Unit is the unit of the arrival stamps of EIEIO events that carry
	// no time (packets without the T flag, as sent for injection):
	// Microsecond, or Tick for SpiNNaker's default timestep of
	// EIEIOTimestep. Stamps count from Start, or from the first datagram
	// if Start is zero.
	Unit  Unit
	Start time.Time
}

// EIEIOTimestep is the tick of the arrival stamps of untimed EIEIO events
// in a Tick stream: SpiNNaker's default machine timestep.
const EIEIOTimestep = time.Millisecond

// Stats counts what a Receiver saw. Lost, Duplicate, Reordered and Late
// need sequence numbers (native and jAER); Malformed counts datagrams that
// failed to decode, which are dropped.
type Stats struct {
	Packets   uint64 `json:"packets"`
	Events    uint64 `json:"events"`
	Bytes     uint64 `json:"bytes"`
	Lost      uint64 `json:"lost"`
	Duplicate uint64 `json:"duplicate"`
	Reordered uint64 `json:"reordered"`
	Late      uint64 `json:"late"`
	Malformed uint64 `json:"malformed"`
	Commands  uint64 `json:"commands"` // EIEIO command packets
	Resyncs   uint64 `json:"resyncs"`
}

// Receiver reads events from UDP in batches (recvmmsg on Linux). It is not
// safe for concurrent use. A malformed datagram is counted and dropped; it
// never stops the receiver. Use the connection's read deadline (or close
// it) to stop a blocked Read.
type Receiver struct {
	cfg      ReceiverConfig
	conn     net.PacketConn
	pc       *ipv4.PacketConn
	msgs     []ipv4.Message
	pending  []Event
	head     int
	stats    Stats
	trackers map[uint16]*SeqTracker
	lastErr  error
	start    time.Time // origin of arrival stamps
	// LastMalformed is the most recent decode error, for diagnostics.
	LastMalformed error
}

// ListenUDP opens a UDP socket on addr ("host:port"; port 0 picks one) and
// returns a Receiver on it; Close closes the socket.
func ListenUDP(addr string, cfg ReceiverConfig) (*Receiver, error) {
	laddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("aer: %w", err)
	}
	conn, err := net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("aer: %w", err)
	}
	r, err := NewReceiver(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return r, nil
}

// Conn is the receiver's connection: set read deadlines on it to bound a
// blocked Read, and find its local address.
func (r *Receiver) Conn() net.PacketConn { return r.conn }

// Close closes the receiver's connection; a blocked Read returns an error.
func (r *Receiver) Close() error {
	if r.conn == nil {
		return nil
	}
	return r.conn.Close()
}

// NewReceiver returns a receiver on conn.
func NewReceiver(conn net.PacketConn, cfg ReceiverConfig) (*Receiver, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultBatch
	}
	if cfg.Batch > MaxBatch {
		return nil, fmt.Errorf("aer: batch of %d datagrams, more than %d", cfg.Batch, MaxBatch)
	}
	r := &Receiver{cfg: cfg, conn: conn, trackers: map[uint16]*SeqTracker{}, start: cfg.Start}
	if uc, ok := conn.(*net.UDPConn); ok {
		if cfg.ReadBuffer >= 0 {
			rb := cfg.ReadBuffer
			if rb == 0 {
				rb = DefaultReadBuffer
			}
			_ = uc.SetReadBuffer(rb) // best effort: capped by the kernel
		}
		r.pc = ipv4.NewPacketConn(uc)
	}
	// Buffers are larger than any valid datagram of the format, so that a
	// datagram the kernel would truncate to the buffer is still seen as
	// too long (and counted as malformed) instead of decoding a prefix.
	size := 4096 // native ≤ 1472, EIEIO ≤ 2048 (+ SDP)
	if cfg.Format == WireJAER || cfg.Format == WireSPIF {
		size = 1 << 16 // jAER ≤ 63,000; SPIF has no limit of its own
	}
	r.msgs = make([]ipv4.Message, cfg.Batch)
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{make([]byte, size)}
	}
	r.pending = make([]Event, 0, cfg.Batch*(NativeMaxEvents+64))
	return r, nil
}

// Stats returns the counters so far, loss summed over all streams.
func (r *Receiver) Stats() Stats {
	st := r.stats
	for _, t := range r.trackers {
		st.Lost += t.Lost
		st.Duplicate += t.Duplicate
		st.Reordered += t.Reordered
		st.Late += t.Late
		st.Resyncs += t.Resyncs
	}
	return st
}

// Read fills dst with received events. It blocks until at least one event
// has arrived or the connection fails (a deadline or Close); it returns the
// events decoded so far with a nil error, then the error.
func (r *Receiver) Read(dst []Event) (int, error) {
	for r.head == len(r.pending) {
		if r.lastErr != nil {
			return 0, r.lastErr
		}
		r.pending, r.head = r.pending[:0], 0
		if err := r.receive(); err != nil {
			r.lastErr = err
		}
	}
	n := copy(dst, r.pending[r.head:])
	r.head += n
	return n, nil
}

// receive reads one batch of datagrams and decodes them into pending.
func (r *Receiver) receive() error {
	if r.pc == nil {
		buf := r.msgs[0].Buffers[0]
		n, from, err := r.conn.ReadFrom(buf)
		if err != nil {
			return err
		}
		r.HandleAt(buf[:n], from, time.Now())
		return nil
	}
	k, err := r.pc.ReadBatch(r.msgs, 0)
	if err != nil {
		return err
	}
	now := time.Now()
	for i := range r.msgs[:k] {
		m := &r.msgs[i]
		r.HandleAt(m.Buffers[0][:m.N], m.Addr, now)
	}
	return nil
}

// Handle is HandleAt with the arrival time now.
func (r *Receiver) Handle(b []byte, from net.Addr) { r.HandleAt(b, from, time.Now()) }

// stamp is the arrival stamp of a datagram that arrived at t.
func (r *Receiver) stamp(t time.Time) int64 {
	if r.start.IsZero() {
		r.start = t
	}
	d := t.Sub(r.start)
	if r.cfg.Unit == Microsecond {
		return d.Microseconds()
	}
	return int64(d / EIEIOTimestep)
}

// HandleAt accounts for and decodes one datagram that arrived at t,
// appending its events to the receiver's queue. Receive loops call it; it
// is exported so that a pcap replay or a test can feed datagrams without a
// socket.
func (r *Receiver) HandleAt(b []byte, from net.Addr, t time.Time) {
	if r.cfg.Tap != nil {
		r.cfg.Tap(b, from)
	}
	r.stats.Packets++
	r.stats.Bytes += uint64(len(b))
	before := len(r.pending)
	var err error
	switch r.cfg.Format {
	case WireNative:
		var h NativeHeader
		if h, err = DecodeNativeHeader(b); err == nil {
			t := r.trackers[h.Port]
			if t == nil {
				t = &SeqTracker{}
				r.trackers[h.Port] = t
			}
			if t.Observe(h.Seq) {
				_, r.pending, err = DecodeNative(b, r.pending)
			}
		}
	case WireEIEIO:
		if r.cfg.SDP {
			_, b, err = DecodeSDP(b)
		}
		if err == nil {
			if IsEIEIOCommand(b) {
				_, err = DecodeEIEIOCommand(b)
				if err == nil {
					r.stats.Commands++
				}
				break
			}
			var h EIEIOHeader
			if h, r.pending, err = DecodeEIEIO(b, r.pending); err == nil && !h.Timestamp {
				ts := r.stamp(t)
				for i := before; i < len(r.pending); i++ {
					r.pending[i].Time = ts
				}
			}
		}
	case WireJAER:
		var s uint32
		mark := len(r.pending)
		s, r.pending, err = DecodeJAER(b, !r.cfg.JAERNoSeq, r.pending)
		if err == nil && !r.cfg.JAERNoSeq {
			t := r.trackers[0]
			if t == nil {
				t = &SeqTracker{}
				r.trackers[0] = t
			}
			if !t.Observe(s) {
				r.pending = r.pending[:mark]
			}
		}
	case WireSPIF:
		r.pending, err = DecodeSPIF(b, r.pending)
	default:
		err = fmt.Errorf("aer: cannot receive format %v", r.cfg.Format)
	}
	if err != nil {
		r.stats.Malformed++
		r.LastMalformed = err
		r.pending = r.pending[:before]
		return
	}
	r.stats.Events += uint64(len(r.pending) - before)
}
