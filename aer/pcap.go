package aer

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Captures are classic pcap files (pcapgo, no cgo) of link type Ethernet
// with synthetic Ethernet, IPv4 and UDP headers around each datagram, so
// that Wireshark and gopacket decode them like a live capture. Reading also
// accepts pcapng and the raw-IP link types.

// PcapWriter writes UDP datagrams to a pcap file.
type PcapWriter struct {
	w    *pcapgo.Writer
	bw   *bufio.Writer
	buf  gopacket.SerializeBuffer
	size int64
	// Limit, if > 0, caps the file: a datagram whose record would take
	// the file past Limit bytes is not written, and WriteDatagram returns
	// ErrCaptureFull (the file stays a valid capture of the datagrams
	// before it).
	Limit int64
}

// ErrCaptureFull is returned by WriteDatagram when a capture reached its
// Limit.
var ErrCaptureFull = errors.New("aer: pcap: capture reached its size limit")

// pcapFileHeaderLen is the size of a pcap file header; each packet adds a
// 16-byte record header and its frame.
const pcapFileHeaderLen = 24

// NewPcapWriter writes the pcap file header to w.
func NewPcapWriter(w io.Writer) (*PcapWriter, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	pw := pcapgo.NewWriterNanos(bw)
	if err := pw.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		return nil, err
	}
	return &PcapWriter{w: pw, bw: bw, buf: gopacket.NewSerializeBuffer(), size: pcapFileHeaderLen}, nil
}

// Size is the number of bytes of the capture so far.
func (pw *PcapWriter) Size() int64 { return pw.size }

// udp4 returns the IPv4 address and port of a (UDP) address.
func udp4(a net.Addr) (net.IP, int) {
	if ua, ok := a.(*net.UDPAddr); ok {
		if ip := ua.IP.To4(); ip != nil {
			return ip, ua.Port
		}
		return net.IPv4(127, 0, 0, 1).To4(), ua.Port
	}
	return net.IPv4(127, 0, 0, 1).To4(), 0
}

// WriteDatagram writes payload sent from src to dst at ts. IPv6 or
// non-UDP addresses are written as 127.0.0.1 with their port.
func (pw *PcapWriter) WriteDatagram(ts time.Time, src, dst net.Addr, payload []byte) error {
	sip, sport := udp4(src)
	dip, dport := udp4(dst)
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
	ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolUDP, SrcIP: sip, DstIP: dip}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip); err != nil {
		return err
	}
	if err := pw.buf.Clear(); err != nil {
		return err
	}
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(pw.buf, opts, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		return fmt.Errorf("aer: pcap: %w", err)
	}
	b := pw.buf.Bytes()
	if pw.Limit > 0 && pw.size+16+int64(len(b)) > pw.Limit {
		return ErrCaptureFull
	}
	if err := pw.w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(b), Length: len(b)}, b); err != nil {
		return err
	}
	pw.size += 16 + int64(len(b))
	return nil
}

// Flush flushes buffered packets.
func (pw *PcapWriter) Flush() error { return pw.bw.Flush() }

// Datagram is one UDP datagram read from a capture. Payload aliases the
// reader's buffer until the next call to Next.
type Datagram struct {
	Time     time.Time
	Src, Dst *net.UDPAddr
	Payload  []byte
	// Layer is the AER layer type registered for the datagram's ports
	// (destination first), or gopacket.LayerTypePayload.
	Layer gopacket.LayerType
}

type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
	LinkType() layers.LinkType
}

// PcapReader reads the UDP datagrams of a pcap or pcapng file; other
// packets are skipped and counted. Errors carry the byte offset of the
// packet record (pcapng: block) they are about; in a gzip-compressed
// capture, the offset of the compressed bytes read so far.
type PcapReader struct {
	src     packetSource
	decoder gopacket.Decoder
	format  string // "pcap" or "pcapng"
	cr      *countingReader
	br      *bufio.Reader
	Skipped int64 // packets that are not IPv4/IPv6 UDP
	Packets int64 // packets read
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// offset is the file offset of the next byte pcapgo reads. pcapgo wraps
// its input in bufio.NewReader, which returns br itself (it is large
// enough), so every byte it takes passes through br.
func (pr *PcapReader) offset() int64 { return pr.cr.n - int64(pr.br.Buffered()) }

// NewPcapReader reads the file header of a pcap or pcapng stream.
func NewPcapReader(r io.Reader) (*PcapReader, error) {
	cr := &countingReader{r: r}
	br := bufio.NewReaderSize(cr, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return nil, truncated("pcap", int64(len(magic)), "file header")
	}
	var src packetSource
	format := "pcap"
	linkOff := int64(20) // the link type of a pcap file header
	if binary.LittleEndian.Uint32(magic) == 0x0A0D0D0A {
		format = "pcapng"
		// the link type of the first interface description, which
		// follows the section header: at its length + 8.
		if h, err := br.Peek(12); err == nil {
			order := binary.ByteOrder(binary.LittleEndian)
			if binary.LittleEndian.Uint32(h[8:]) != 0x1A2B3C4D {
				order = binary.BigEndian
			}
			linkOff = int64(order.Uint32(h[4:])) + 8
		}
		src, err = pcapgo.NewNgReader(br, pcapgo.DefaultNgReaderOptions)
	} else {
		src, err = pcapgo.NewReader(br)
	}
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return nil, truncated(format, cr.n-int64(br.Buffered()), "file header: %v", err)
		}
		return nil, corrupt(format, 0, "%v", err)
	}
	pr := &PcapReader{src: src, format: format, cr: cr, br: br}
	switch lt := src.LinkType(); lt {
	case layers.LinkTypeEthernet, layers.LinkTypeLinuxSLL, layers.LinkTypeNull, layers.LinkTypeLoop:
		pr.decoder = lt
	case layers.LinkTypeRaw, layers.LinkTypeIPv4, 12: // 12: raw IP on OpenBSD-derived captures
		pr.decoder = layers.LayerTypeIPv4
	case layers.LinkTypeIPv6:
		pr.decoder = layers.LayerTypeIPv6
	default:
		return nil, corrupt(format, linkOff, "unsupported link type %v", lt)
	}
	return pr, nil
}

// Next returns the next UDP datagram, or io.EOF.
func (pr *PcapReader) Next() (Datagram, error) {
	for {
		start := pr.offset()
		data, ci, err := pr.src.ReadPacketData()
		if err == io.EOF {
			return Datagram{}, io.EOF
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return Datagram{}, truncated(pr.format, start, "packet %d cut short", pr.Packets+1)
			}
			return Datagram{}, corrupt(pr.format, start, "packet %d: %v", pr.Packets+1, err)
		}
		pr.Packets++
		p := gopacket.NewPacket(data, pr.decoder, gopacket.DecodeOptions{NoCopy: true, Lazy: true})
		udp, _ := p.Layer(layers.LayerTypeUDP).(*layers.UDP)
		if udp == nil {
			pr.Skipped++
			continue
		}
		d := Datagram{Time: ci.Timestamp, Payload: udp.Payload,
			Src: &net.UDPAddr{Port: int(udp.SrcPort)}, Dst: &net.UDPAddr{Port: int(udp.DstPort)}}
		if nl := p.NetworkLayer(); nl != nil {
			switch ip := nl.(type) {
			case *layers.IPv4:
				d.Src.IP, d.Dst.IP = ip.SrcIP, ip.DstIP
			case *layers.IPv6:
				d.Src.IP, d.Dst.IP = ip.SrcIP, ip.DstIP
			}
		}
		d.Layer = udp.NextLayerType()
		return d, nil
	}
}

// rxKey names one of PcapEvents' receivers: one per wire format, SDP
// wrapped or not.
type rxKey struct {
	wire WireFormat
	sdp  bool
}

// PcapEvents reads the AER events of a capture as a Reader: each UDP
// datagram is decoded by the format registered for its port (or by Force),
// through a Receiver, so that loss, duplicates and malformed datagrams are
// counted as for live traffic (per wire format).
type PcapEvents struct {
	pr   *PcapReader
	rx   map[rxKey]*Receiver
	buf  []Event
	head int
	err  error
	// Force decodes every UDP datagram with this format, if set.
	Force *WireFormat
	// First and Last are the capture times of the first and last datagram.
	First, Last time.Time
	// Unknown counts UDP datagrams on ports without an AER format.
	Unknown int64

	started bool
	unit    Unit
}

// NewPcapEvents returns a Reader of the events in the capture r.
func NewPcapEvents(r io.Reader) (*PcapEvents, error) {
	pr, err := NewPcapReader(r)
	if err != nil {
		return nil, err
	}
	return &PcapEvents{pr: pr, rx: map[rxKey]*Receiver{}}, nil
}

// Unit is the time unit of the capture's events, judged from its first AER
// datagram (which Unit reads ahead if nothing has been read yet): ticks for
// native packets without the µs flag and for EIEIO (timesteps), µs
// otherwise.
func (pe *PcapEvents) Unit() Unit {
	if !pe.started {
		pe.fill()
	}
	return pe.unit
}

// Stats sums the receivers' counters.
func (pe *PcapEvents) Stats() Stats {
	var st Stats
	for _, r := range pe.rx {
		s := r.Stats()
		st.Packets += s.Packets
		st.Events += s.Events
		st.Bytes += s.Bytes
		st.Lost += s.Lost
		st.Duplicate += s.Duplicate
		st.Reordered += s.Reordered
		st.Late += s.Late
		st.Malformed += s.Malformed
		st.Commands += s.Commands
		st.Resyncs += s.Resyncs
	}
	return st
}

// Capture returns the underlying datagram reader (for its counters).
func (pe *PcapEvents) Capture() *PcapReader { return pe.pr }

func wireOf(lt gopacket.LayerType) (WireFormat, bool, bool) {
	switch lt {
	case LayerTypeNative:
		return WireNative, false, true
	case LayerTypeEIEIO:
		return WireEIEIO, false, true
	case LayerTypeSDP:
		return WireEIEIO, true, true
	case LayerTypeJAER:
		return WireJAER, false, true
	case LayerTypeSPIF:
		return WireSPIF, false, true
	}
	return 0, false, false
}

// Read implements Reader.
func (pe *PcapEvents) Read(dst []Event) (int, error) {
	n := 0
	for n < len(dst) {
		if pe.head < len(pe.buf) {
			k := copy(dst[n:], pe.buf[pe.head:])
			pe.head += k
			n += k
			continue
		}
		if pe.err != nil {
			break
		}
		pe.fill()
	}
	if n > 0 {
		return n, nil
	}
	return 0, pe.err
}

// fill decodes the next AER datagram into buf (possibly no events), or
// sets err.
func (pe *PcapEvents) fill() {
	for pe.err == nil {
		d, err := pe.pr.Next()
		if err != nil {
			pe.err = err
			return
		}
		wf, sdp, ok := wireOf(d.Layer)
		if pe.Force != nil {
			wf, sdp, ok = *pe.Force, false, true
		}
		if !ok {
			pe.Unknown++
			continue
		}
		if !pe.started {
			pe.started, pe.unit = true, Microsecond
			if wf == WireEIEIO || wf == WireNative && len(d.Payload) > 3 && d.Payload[3]&NativeFlagMicroseconds == 0 {
				pe.unit = Tick
			}
		}
		if pe.First.IsZero() {
			pe.First = d.Time
		}
		pe.Last = d.Time
		key := rxKey{wf, sdp}
		rx := pe.rx[key]
		if rx == nil {
			// untimed EIEIO events take their capture time, from the
			// first AER datagram, in the stream's unit.
			rx, _ = NewReceiver(nil, ReceiverConfig{Format: wf, SDP: sdp, Unit: pe.unit, Start: pe.First})
			pe.rx[key] = rx
		}
		rx.pending, rx.head = rx.pending[:0], 0
		rx.HandleAt(d.Payload, d.Src, d.Time)
		pe.buf, pe.head = append(pe.buf[:0], rx.pending...), 0
		return
	}
}

// ReplayStats counts a replay.
type ReplayStats struct {
	Packets int64         `json:"packets"`
	Bytes   int64         `json:"bytes"`
	Skipped int64         `json:"skipped"`
	Span    time.Duration `json:"span_ns"` // capture time from first to last datagram
}

// Replay sends every UDP datagram of the capture r through conn to dst. It
// keeps the capture's timing (each datagram leaves at its capture offset
// from the first, scaled by 1/speed) unless fast. It stops at the end of
// the capture or when ctx is done.
func Replay(ctx context.Context, r *PcapReader, conn net.PacketConn, dst net.Addr, fast bool, speed float64) (ReplayStats, error) {
	var st ReplayStats
	if !(speed > 0) || math.IsInf(speed, 0) {
		return st, fmt.Errorf("aer: replay speed %v: want a finite speed > 0", speed)
	}
	var first time.Time
	var start time.Time
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		d, err := r.Next()
		if err == io.EOF {
			st.Skipped = r.Skipped
			return st, nil
		}
		if err != nil {
			return st, err
		}
		if first.IsZero() {
			first, start = d.Time, time.Now()
		}
		st.Span = d.Time.Sub(first)
		if !fast {
			// clamped: a capture's time gap over a tiny speed must not
			// overflow into "due long ago".
			due := start.Add(time.Duration(min(float64(d.Time.Sub(first))/speed, math.MaxInt64/2)))
			if wait := time.Until(due); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return st, ctx.Err()
				case <-t.C:
				}
			}
		}
		for {
			_, err = conn.WriteTo(d.Payload, dst)
			if !isNoBuffer(err) {
				break
			}
			time.Sleep(50 * time.Microsecond)
		}
		if err != nil {
			return st, fmt.Errorf("aer: replay: %w", err)
		}
		st.Packets++
		st.Bytes += int64(len(d.Payload))
	}
}
