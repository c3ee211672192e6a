// Package aer carries address events (AER) in and out of aerie: the Event
// type, codecs for the wire and file formats that existing neuromorphic tools
// speak, gopacket layers and pcap capture, and a batched UDP transport with
// sequence and loss accounting. It knows nothing about chips.
//
// # Events and addresses
//
// An Event is (Time, Channel, Payload, Port), 24 bytes:
//
//	+---------------------------+-------------+-------------+------+--------+
//	| Time int64                | Channel u32 | Payload u32 | Port | (pad)  |
//	+---------------------------+-------------+-------------+------+--------+
//	 0                           8             12            16     18     24
//
// Time is in the stream's Unit, emulator ticks or microseconds, so that the
// emulator's external event (port, channel, tick) maps onto it directly and
// AEDAT's 64-bit µs time stamps fit too. Codecs map their own address
// spaces onto Channel:
//
//	format        Channel                         Payload        Time
//	native        channel within Port             payload (P)    ticks or µs
//	EIEIO         full 32-bit routing key         payload        timestep (T), else arrival
//	SPIF          XY(x, y)                        polarity       µs or 0
//	jAER          raw 32-bit address              0              µs
//	AEDAT 2.0     raw address (or XY by layout)   polarity       µs
//	AEDAT 3.1     XY(x, y) / neuron id            polarity / 0   µs
//	AEDAT 4.0     XY(x, y)                        polarity       µs
//	N-MNIST       XY(x, y)                        polarity       µs
//
// XY packs a pixel as y<<16 | x. AEDAT 3.1 spike events put the neuron id in
// Channel and chip id<<5 | core id in Port. A KeyMap maps SpiNNaker keys to
// (port, channel) the way sPyNNaker allocates them: key = base | channel,
// and a key belongs to a port when key & mask == base.
//
// Streams have the standard library's shapes: a Reader fills a slice of
// events and returns io.EOF at the end; a Writer takes slices and has Flush
// and Close (which never closes the io.Writer underneath). OpenReader and
// OpenWriter pick a codec by Format; DetectFormat sniffs magic numbers and
// FormatFromName reads extensions.
//
// # Errors
//
// Malformed input never panics and never makes a decoder allocate more than
// the input can justify: lengths read from the input are checked against
// caps before any allocation, and big blocks grow only as bytes arrive.
// Every error about bytes is a *FormatError carrying the format, the byte
// offset (from the start of the packet or file) and a message;
// errors.Is(err, ErrCorrupt) holds for all of them and errors.Is(err,
// ErrTruncated) for short input. The packet decoders (DecodeNative,
// DecodeEIEIO, DecodeSPIF, DecodeJAER) decode in place and allocate nothing
// when dst has room, which tests assert.
//
// # What a writer cannot represent
//
// A writer never cuts a value to fit its format. An event with a field
// wider than the format's field for it stops Write with a *RangeError that
// gives the format, the event's index in the stream (from 0, over all
// Write calls), the field, the value and the limit; the events before it
// are written and Close leaves a valid file. The limits: AEDAT 2.0 times
// are int32 µs, dvs128 x and y ≤ 127, davis x ≤ 1023 and y ≤ 511; AEDAT 3.1
// times 0…2⁶²−1 µs, x and y ≤ 32767, neuron ids ≤ 2²⁰−1, chip/core ids ≤
// 2047; AEDAT 4.0 pixels inside the sensor size of its header; camera
// formats take polarities 0 and 1. Fields a format has no place for (the
// Port of camera formats, the Payload of raw and spike events) are left
// out. Native files and CSV hold every Event.
//
// EIEIO packets without the T flag (the injection form: k16, k32, k32p32)
// carry no time; a Receiver stamps their events with the arrival of the
// datagram, counted from the first one (or ReceiverConfig.Start), in µs or
// in ticks of EIEIOTimestep (1 ms, SpiNNaker's default timestep); a
// capture read by PcapEvents uses the capture times the same way.
//
// # The native packet (version 1)
//
// One UDP datagram of at most 1472 bytes (a 1500-byte MTU minus the IPv4 and
// UDP headers), little-endian:
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
//	ver    1 (the only version)
//	flags  bit 0 P: events carry a payload; bit 1 U: times are µs, else ticks;
//	       other bits must be 0
//
// At most 181 events (121 with payloads) fit in a datagram. A packet has one
// port; the encoder starts a new packet when the port changes, when time goes
// backwards or when dt would overflow 32 bits, and sets P only when some
// event of the packet has a payload. FileWriter and Sender group events of
// equal Time by port (stably) before packing, so that one tick of output on
// several ports costs one packet per port; time order is kept. seq counts packets per port and wraps;
// a packet with count 0 is a heartbeat (the Sender sends one per port when it
// closes, so that the receiver can see a loss at the end of a stream).
// Decoding rejects a wrong magic, version or flag, a count that does not
// match the length, and trailing bytes.
//
// # The native event file (version 1)
//
//	 0                                  8             10     11     12        16
//	+----------------------------------+-------------+------+------+---------+
//	| magic 8A 'A' 'E' 'R' 0D 0A 1A 0A | version u16 | unit | 0    | 0 u32   |
//	+----------------------------------+-------------+------+------+---------+
//	then records until the end of the file:
//	+-------------+------------------------------------+----------------------+
//	| length u32  | native packet (20..1472 bytes)     | CRC-32C of the packet|
//	+-------------+------------------------------------+----------------------+
//
// unit is 0 for ticks, 1 for µs. The file has no trailer, so a file cut
// after any record is valid: a recorder killed at any moment leaves every
// record written before. A record with a bad length or CRC stops the reader
// with an error at that record's offset, after the events before it.
//
// # CSV
//
//	tick,port,channel,payload          (time_us,... for µs streams)
//	1000,0,5,0
//
// One header line naming the unit, then one event per line in decimal.
//
// # Wire formats of other tools
//
// SpiNNaker EIEIO data packets (sPyNNaker live injection and the live packet
// gatherer), little-endian; the header is 2 bytes, then the optional
// prefixes, then count elements:
//
//	 15  14  13  12  11..10  9..8  7..0
//	+---+---+---+---+-------+-----+--------+------------+----------------+------------------+
//	| P | F | D | T | type  | tag | count  | key prefix | payload prefix | keys [+payloads] |
//	+---+---+---+---+-------+-----+--------+------------+----------------+------------------+
//	                                         u16 if P     16/32 bits if D
//
// type 0: 16-bit keys, 1: 16-bit key + payload, 2: 32-bit keys, 3: 32-bit
// key + payload. Bits 15..14 = 01 mark a command (DATABASE 1, STOP_PAUSE 10,
// START_RESUME 11, the 14-bit id in the low bits). Where the SpiNNaker
// firmware and SpiNNMan disagree, the codec follows the firmware (see
// DecodeEIEIO). Injection through a board's port 17893 wraps the packet in 2
// pad bytes and an 8-byte SDP header (AppendSDP, InjectionSDP). EIEIO has no
// sequence number: loss cannot be counted.
//
// SPIF/AEStream: 32-bit host-order words, bit 31 set = no timestamp follows,
// x bits 30..16, polarity bit 15, y bits 14..0. jAER AEUnicast: big-endian
// int32 sequence number, then int32 address and int32 µs time stamp per
// event. AEDAT 2.0, 3.1 and 4.0 and N-MNIST are described on their readers.
//
// # gopacket
//
// Every wire format is a gopacket layer (NativeLayer, EIEIOLayer, SDPLayer,
// SPIFLayer, JAERLayer) implementing DecodingLayer and SerializableLayer,
// with layer types 1870–1874 and registered on the UDP ports 7433 (native),
// 17893 (SDP → EIEIO), 19999 (EIEIO notification), 3333 (SPIF) and 8991
// (jAER). A DecodingLayerParser over Ethernet/IPv4/UDP/EIEIO decodes without
// allocating. Only gopacket, layers and pcapgo are imported, so the build
// needs no cgo. PcapWriter writes datagrams with synthetic Ethernet/IPv4/UDP
// headers; PcapReader reads pcap and pcapng; PcapEvents turns a capture into
// events with the same accounting as a live Receiver; Replay sends a capture
// with its original timing.
//
// # UDP transport
//
// DialUDP and ListenUDP open a socket and return a Sender or a Receiver on
// it; NewSender and NewReceiver take a connection the caller owns. A Sender
// packs events into datagrams of the chosen WireFormat and sends
// them DefaultBatch at a time with sendmmsg (ipv4.PacketConn.WriteBatch),
// optionally paced to a rate in events per second (it sleeps before a batch
// that would run ahead of the rate). A Receiver reads batches with recvmmsg,
// decodes them, and counts packets, events, malformed datagrams (dropped,
// never fatal) and, for formats with sequence numbers (native, per port;
// jAER), lost, duplicated, reordered and late packets with a SeqTracker: a
// 64-packet bitmap window with serial-number arithmetic, so that a reordered
// packet fills its gap instead of counting as lost.
package aer
