// Package aer carries address events (AER) in and out of aerie: the Event
// type, codecs for the wire and file formats that existing neuromorphic tools
// speak, gopacket layers and pcap capture, and a batched UDP transport with
// sequence and loss accounting. It knows nothing about chips.
//
// # Events
//
// An Event is (Port, Channel, Time, Payload): 24 bytes. Time is in the
// stream's Unit, emulator ticks or microseconds; the emulator's external
// event (port, channel, tick) maps onto it directly. Codecs map their own
// address spaces onto Channel:
//
//	format        Channel                         Payload        Time
//	native        channel within Port             payload (P)    ticks or µs
//	EIEIO         full 32-bit routing key         payload        timestep (T)
//	SPIF          XY(x, y)                        polarity       µs or 0
//	jAER          raw 32-bit address              0              µs
//	AEDAT 2       raw address (or XY by layout)   polarity       µs
//	AEDAT 3.1/4   XY(x, y) polarity; neuron id    polarity       µs
//	N-MNIST       XY(x, y)                        polarity       µs
//
// A KeyMap maps EIEIO keys to (port, channel) the way sPyNNaker allocates
// keys: key = base | channel under a per-port mask.
//
// Streams have the standard library's shapes: a Reader fills a slice of
// events (Read returns io.EOF at the end), a Writer takes slices and has
// Flush and Close.
//
// # Errors
//
// Malformed input never panics and never makes a decoder allocate more than
// the input can justify. Every error about bytes is a *FormatError carrying
// the format, the byte offset and a message; errors.Is(err, ErrCorrupt)
// holds for all of them and errors.Is(err, ErrTruncated) for short input.
//
// # The native packet (version 1)
//
// One UDP datagram, at most 1472 bytes (a 1500-byte MTU minus IPv4 and UDP
// headers), little-endian:
//
//	 0      1      2      3      4             6             8
//	+------+------+------+------+-------------+-------------+
//	| 'A'  | 'E'  | ver  |flags | port u16    | count u16   |
//	+------+------+------+------+-------------+-------------+
//	 8                           12                          20
//	+---------------------------+----------------------------+
//	| seq u32                   | base time i64              |
//	+---------------------------+----------------------------+
//	 20: count events, 8 bytes each (12 with flag P):
//	+---------------------------+---------------------------+---------------------------+
//	| dt u32: Time = base + dt  | channel u32               | payload u32 (only if P)   |
//	+---------------------------+---------------------------+---------------------------+
//
//	flags bit 0 P: events carry a payload    bit 1 U: times are µs, else ticks
//	other flag bits must be 0; version 1 is the only version.
//
// At most 181 events (121 with payloads) fit in a datagram. A packet has one
// port; the encoder starts a new packet when the port changes, when time goes
// backwards or when dt would overflow 32 bits. seq is a per-port 32-bit
// counter that wraps; a packet with count 0 is a heartbeat.
package aer
