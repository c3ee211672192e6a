package aer

import "encoding/binary"

// jAER AEUnicast datagrams, the default settings of jAER's AEUnicastOutput
// and AEUnicastInput: big-endian; an int32 sequence number first (starting
// at 1); then events of int32 address and int32 timestamp (µs).
const (
	JAERPort      = 8991  // jAER's default AEUnicast port
	JAERMaxPacket = 63000 // jAER's datagram buffer
)

// DecodeJAER decodes a jAER datagram and appends its events to dst
// (Channel = raw address, Time = timestamp as a signed int32, as jAER's Java
// int). If seq, the first 4 bytes are the sequence number, returned as s.
func DecodeJAER(b []byte, seq bool, dst []Event) (s uint32, _ []Event, err error) {
	if len(b) > JAERMaxPacket {
		return 0, dst, corrupt("jaer", JAERMaxPacket, "datagram of %d bytes exceeds %d", len(b), JAERMaxPacket)
	}
	off := 0
	if seq {
		if len(b) < 4 {
			return 0, dst, truncated("jaer", int64(len(b)), "sequence number needs 4 bytes, have %d", len(b))
		}
		s = binary.BigEndian.Uint32(b)
		off = 4
	}
	body := b[off:]
	if len(body)%8 != 0 {
		return s, dst, truncated("jaer", int64(off+len(body)&^7), "%d bytes are not whole 8-byte events", len(body))
	}
	n := len(body) / 8
	dst = growEvents(dst, n)
	out := dst[len(dst) : len(dst)+n]
	for i := range out {
		e := body[i*8 : i*8+8]
		out[i] = Event{Channel: binary.BigEndian.Uint32(e), Time: int64(int32(binary.BigEndian.Uint32(e[4:])))}
	}
	return s, dst[:len(dst)+n], nil
}

// AppendJAER appends a jAER datagram: the sequence number s if seq, then
// every event of evs (the caller bounds the datagram size).
func AppendJAER(dst []byte, seq bool, s uint32, evs []Event) []byte {
	if seq {
		dst = binary.BigEndian.AppendUint32(dst, s)
	}
	for i := range evs {
		dst = binary.BigEndian.AppendUint32(dst, evs[i].Channel)
		dst = binary.BigEndian.AppendUint32(dst, uint32(evs[i].Time))
	}
	return dst
}
