package aer

import (
	"fmt"
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// DatagramReader reads UDP datagrams in batches (recvmmsg on Linux) and
// hands each one to the caller with its sender's address, before any
// decoding: what a server needs that filters senders (aerie serve's
// --allow) or answers some of them (SpiNNaker's SCP requests). A Receiver
// is the simpler choice when every datagram is events of one format.
//
// It is not safe for concurrent use. The datagram bytes are valid only
// during the callback.
type DatagramReader struct {
	conn *net.UDPConn
	pc   *ipv4.PacketConn
	msgs []ipv4.Message
	size int
}

// NewDatagramReader reads conn batch datagrams per system call (0:
// DefaultBatch) into buffers of size bytes each (0: 4096), asking the
// kernel for a receive buffer of readBuffer bytes (0: DefaultReadBuffer,
// negative: the system default). A datagram longer than size reaches the
// callback cut to size bytes and flagged as truncated, so that it can be
// counted as malformed instead of decoded.
func NewDatagramReader(conn *net.UDPConn, batch, size, readBuffer int) *DatagramReader {
	if batch <= 0 {
		batch = DefaultBatch
	}
	if size <= 0 {
		size = 4096
	}
	if readBuffer == 0 {
		readBuffer = DefaultReadBuffer
	}
	if readBuffer > 0 {
		_ = conn.SetReadBuffer(readBuffer) // best effort: capped by the kernel
	}
	r := &DatagramReader{conn: conn, pc: ipv4.NewPacketConn(conn), msgs: make([]ipv4.Message, batch), size: size}
	for i := range r.msgs {
		// one spare byte tells a datagram of exactly size bytes from a longer one
		r.msgs[i].Buffers = [][]byte{make([]byte, size+1)}
	}
	return r
}

// Read blocks until at least one datagram has arrived (or the connection
// fails: a read deadline or Close), then calls fn for every datagram of the
// batch in arrival order and returns how many there were. truncated is set
// when the datagram was longer than the buffer; b then holds its first
// bytes.
func (r *DatagramReader) Read(fn func(b []byte, from netip.AddrPort, truncated bool)) (int, error) {
	k, err := r.pc.ReadBatch(r.msgs, 0)
	if err != nil {
		return 0, fmt.Errorf("aer: receive: %w", err)
	}
	for i := range r.msgs[:k] {
		m := &r.msgs[i]
		var from netip.AddrPort
		if ua, ok := m.Addr.(*net.UDPAddr); ok {
			from = ua.AddrPort()
		}
		n, cut := m.N, m.N > r.size
		if n > r.size {
			n = r.size
		}
		fn(m.Buffers[0][:n], from, cut)
	}
	return k, nil
}
